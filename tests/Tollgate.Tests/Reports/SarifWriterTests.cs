using System.Diagnostics;
using System.Text.Json;
using NJsonSchema;
using Tollgate.Reports;

namespace Tollgate.Tests.Reports;

public sealed class SarifWriterTests
{
    private static JsonElement Run(string sarif) => JsonDocument.Parse(sarif).RootElement.GetProperty("runs")[0].Clone();

    private static async Task<JsonSchema> OfficialSchemaAsync()
    {
        var path = TestData.Reference("schemas", "sarif-2.1.0.json");
        // This copy declares draft 2020-12 but uses only draft-07 keywords; NJsonSchema reads it as it is.
        return await JsonSchema.FromJsonAsync(File.ReadAllText(path));
    }

    [Fact]
    public async Task Write_SampleScan_IsValidAgainstTheOfficialSchema()
    {
        var schema = await OfficialSchemaAsync();

        var errors = schema.Validate(SarifWriter.Write(SampleScan.Build("/work/src/mcp-weather")));

        Assert.Empty(errors.Select(e => e.ToString()));
    }

    [Fact]
    public async Task OfficialSchema_InvalidLog_IsRejected()
    {
        // The control for the test above: the validator does reject what the schema forbids.
        var schema = await OfficialSchemaAsync();
        var broken = SarifWriter.Write(SampleScan.Build())
            .Replace("\"startLine\": 40", "\"startLine\": 0", StringComparison.Ordinal)
            .Replace("\"level\": \"error\"", "\"level\": \"fatal\"", StringComparison.Ordinal);

        var errors = string.Join('\n', schema.Validate(broken));

        Assert.Contains("results[1].locations[0].physicalLocation.region.startLine", errors, StringComparison.Ordinal);
        Assert.Contains("results[0].level", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_SampleScan_PassesTheSarifMultitoolWithGitHubAndAzureDevOpsRules()
    {
        var tool = MultitoolPath();
        var dir = Directory.CreateTempSubdirectory("tollgate-sarif-");
        try
        {
            var input = Path.Combine(dir.FullName, "scan.sarif");
            File.WriteAllText(input, SarifWriter.Write(SampleScan.Build("/work/src/mcp-weather")));
            var start = new ProcessStartInfo(tool)
            {
                ArgumentList = { "validate", input, "--rule-kind", "Sarif;Gh;Ado", "--output", Path.Combine(dir.FullName, "validation.sarif"), "--log", "ForceOverwrite" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = dir.FullName,
            };
            // The tool is a self-contained .NET app; keep it away from the test host's runtime settings.
            start.Environment.Remove("DOTNET_ROOT");
            using var process = Process.Start(start)!;
            var stderrTask = process.StandardError.ReadToEndAsync();
            var stdout = await process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            var output = stdout + await stderrTask;

            // It exits 0 even when it finds errors, so its report lines are what counts.
            Assert.Contains("Analysis completed successfully", output, StringComparison.Ordinal);
            var problems = output.Split('\n')
                .Where(l => l.Contains(": error ", StringComparison.Ordinal) || l.Contains(": warning ", StringComparison.Ordinal))
                .Where(l => !s_pipelineOnlyRules.Any(id => l.Contains($" {id}: ", StringComparison.Ordinal)))
                .ToList();
            Assert.True(problems.Count == 0, string.Join('\n', problems));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Azure DevOps rules that ask for values only a pipeline run knows: automationDetails.id of the form
    /// azuredevops/pipeline/build/&lt;org&gt;/&lt;project&gt;/… and the build definition and phase in its property bag.
    /// A file written outside a pipeline cannot satisfy them.
    /// </summary>
    private static readonly string[] s_pipelineOnlyRules = ["GHAzDO1019", "GHAzDO1020"];

    /// <summary>The multitool binary that tests/tools/package-lock.json installs (<c>npm ci --ignore-scripts</c> in tests/tools).</summary>
    private static string MultitoolPath()
    {
        var (package, exe) = OperatingSystem.IsWindows() ? ("sarif-multitool-win32", "Sarif.Multitool.exe")
            : OperatingSystem.IsMacOS() ? ("sarif-multitool-darwin", "Sarif.Multitool")
            : ("sarif-multitool-linux", "Sarif.Multitool");
        var path = Path.Combine(TestData.RepositoryRoot, "tests", "tools", "node_modules", "@microsoft", package, exe);
        Assert.True(File.Exists(path), $"{path} is missing: run 'npm ci --ignore-scripts' in tests/tools first (.ci/run does).");
        if (!OperatingSystem.IsWindows())
        {
            // The package sets the execute bit in an install script, which --ignore-scripts skips.
            var mode = File.GetUnixFileMode(path);
            if (!mode.HasFlag(UnixFileMode.UserExecute))
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
            }
        }
        return path;
    }

    [Fact]
    public void Write_SampleScan_DescribesToolRulesAndLevels()
    {
        var run = Run(SarifWriter.Write(SampleScan.Build()));
        var driver = run.GetProperty("tool").GetProperty("driver");
        var rules = driver.GetProperty("rules").EnumerateArray().ToList();
        var results = run.GetProperty("results").EnumerateArray().ToList();

        Assert.Equal("Tollgate", driver.GetProperty("name").GetString());
        Assert.Equal("0.1.0", driver.GetProperty("semanticVersion").GetString());
        Assert.Equal(["GHSA-35jh-r3h4-6jhm", "GHSA-qwcr-r2fm-qrc7", "MAL-2024-4003", "TG1001", "TG1006", "TG1010"],
            rules.Select(r => r.GetProperty("id").GetString()));
        foreach (var result in results)
        {
            var index = result.GetProperty("ruleIndex").GetInt32();
            Assert.Equal(result.GetProperty("ruleId").GetString(), rules[index].GetProperty("id").GetString());
        }
        var tg1001 = rules.Single(r => r.GetProperty("id").GetString() == "TG1001");
        Assert.Equal("warning", tg1001.GetProperty("defaultConfiguration").GetProperty("level").GetString());
        Assert.Equal("5.5", tg1001.GetProperty("properties").GetProperty("security-severity").GetString());
        Assert.Equal(["security", "supply-chain", "signal"], tg1001.GetProperty("properties").GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Contains("postinstall", tg1001.GetProperty("help").GetProperty("text").GetString(), StringComparison.Ordinal);
        var bodyParser = rules.Single(r => r.GetProperty("id").GetString() == "GHSA-qwcr-r2fm-qrc7");
        Assert.Equal("7.5", bodyParser.GetProperty("properties").GetProperty("security-severity").GetString());
        Assert.Equal("https://advisories.tollgate.invalid/GHSA-qwcr-r2fm-qrc7", bodyParser.GetProperty("helpUri").GetString());

        Assert.Equal(["error", "error", "warning", "warning", "warning", "note", "error"],
            results.Select(r => r.GetProperty("level").GetString()));
        Assert.Equal("body-parser@1.20.2: body-parser vulnerable to denial of service when url encoding is enabled; fix: upgrade to 1.20.3",
            results[1].GetProperty("message").GetProperty("text").GetString());
    }

    [Fact]
    public void Write_SuppressedFinding_HasExternalSuppressionWithJustification()
    {
        var results = Run(SarifWriter.Write(SampleScan.Build())).GetProperty("results").EnumerateArray().ToList();

        var suppressed = Assert.Single(results, r => r.TryGetProperty("suppressions", out _));
        Assert.Equal("GHSA-35jh-r3h4-6jhm", suppressed.GetProperty("ruleId").GetString());
        var suppression = Assert.Single(suppressed.GetProperty("suppressions").EnumerateArray());
        Assert.Equal("external", suppression.GetProperty("kind").GetString());
        Assert.Equal("not reachable: template() is never called (owner: team-mcp) (expires: 2026-12-31)", suppression.GetProperty("justification").GetString());
    }

    [Fact]
    public void Write_EveryResult_HasARelativeLocationFromLineOne()
    {
        var root = Path.Combine(Path.GetTempPath(), "tollgate sample");
        // Absolute paths under the source root, as a scan of a folder produces them; one component has no location.
        var results = Run(SarifWriter.Write(SampleScan.Build(root, f => Path.Combine(root, f)))).GetProperty("results").EnumerateArray().ToList();

        Assert.All(results, r =>
        {
            var physical = r.GetProperty("locations")[0].GetProperty("physicalLocation");
            var artifact = physical.GetProperty("artifactLocation");
            Assert.Equal("%SRCROOT%", artifact.GetProperty("uriBaseId").GetString());
            Assert.False(Uri.TryCreate(artifact.GetProperty("uri").GetString(), UriKind.Absolute, out _));
            Assert.True(physical.GetProperty("region").GetProperty("startLine").GetInt32() >= 1);
        });
        var ms = results.Single(r => r.GetProperty("ruleId").GetString() == "TG1006");
        var msLocation = ms.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.Equal("package-lock.json", msLocation.GetProperty("artifactLocation").GetProperty("uri").GetString());
        Assert.Equal(1, msLocation.GetProperty("region").GetProperty("startLine").GetInt32());
        var malicious = results.Single(r => r.GetProperty("ruleId").GetString() == "MAL-2024-4003");
        Assert.Equal("service/packages.lock.json", malicious.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString());
    }

    [Fact]
    public void Write_TwoRunsInDifferentFolders_GiveTheSameFingerprints()
    {
        static List<string> Fingerprints(string sarif) => [.. Run(sarif).GetProperty("results").EnumerateArray()
            .Select(r => r.GetProperty("partialFingerprints").GetProperty(SarifWriter.FingerprintKey).GetString()!)];
        var first = Fingerprints(SarifWriter.Write(SampleScan.Build()));
        var second = Fingerprints(SarifWriter.Write(SampleScan.Build("/ci/checkout", f => "/ci/checkout/" + f)));

        Assert.Equal(first, second);
        Assert.Equal(first.Count, first.Distinct().Count());
        Assert.All(first, f => Assert.Matches("^[0-9a-f]{32}$", f));
        Assert.Equal(SarifWriter.Fingerprint("GHSA-qwcr-r2fm-qrc7", "pkg:npm/body-parser@1.20.2", "package-lock.json"), first[1]);
    }

    [Fact]
    public void Write_Diagnostics_BecomeToolExecutionNotifications()
    {
        var invocation = Run(SarifWriter.Write(SampleScan.Build())).GetProperty("invocations")[0];

        Assert.True(invocation.GetProperty("executionSuccessful").GetBoolean());
        var notification = Assert.Single(invocation.GetProperty("toolExecutionNotifications").EnumerateArray());
        Assert.Equal("TG0014", notification.GetProperty("descriptor").GetProperty("id").GetString());
        Assert.Equal("warning", notification.GetProperty("level").GetString());
        Assert.Equal(88, notification.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32());
    }

    [Fact]
    public void Write_EmptyScan_IsAValidLogWithNoResults()
    {
        var report = new ScanReport { Outcome = ScanOutcome.Pass, ToolVersion = "0.1.0" };

        var run = Run(SarifWriter.Write(report));

        Assert.Empty(run.GetProperty("results").EnumerateArray());
        Assert.Empty(run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray());
    }

    [Fact]
    public void Write_SampleScan_MatchesSnapshot()
    {
        Snapshot.Match("scan.sarif", SarifWriter.Write(SampleScan.Build()));
    }
}
