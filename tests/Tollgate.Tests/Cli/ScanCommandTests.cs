using System.Text.Json;
using NJsonSchema;

namespace Tollgate.Tests.Cli;

/// <summary>
/// `tollgate scan` end to end on the bundled example: a real npm lockfile and real GitHub advisory records.
/// Expected findings are the advisories whose ranges contain the example's pinned versions (read from the records).
/// </summary>
public sealed class ScanCommandTests
{
    private static string Example => Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");
    private static string Advisories => Path.Combine(TestData.RepositoryRoot, "examples", "advisories");

    [Fact]
    public void Scan_Example_FindsTheRealVulnerabilitiesAndFails()
    {
        var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "json");

        Assert.Equal(1, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal("fail", root.GetProperty("verdict").GetString());
        var vulns = root.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("kind").GetString() == "vulnerability")
            .Select(f => (f.GetProperty("id").GetString(), f.GetProperty("package").GetProperty("name").GetString(), f.GetProperty("package").GetProperty("version").GetString()))
            .OrderBy(f => f.Item1, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(
        [
            ("GHSA-35jh-r3h4-6jhm", "lodash", "4.17.20"),
            ("GHSA-8hc4-vh64-cxmj", "axios", "1.5.1"),
            ("GHSA-pxg6-pf52-xh8x", "cookie", "0.5.0"),
            ("GHSA-qwcr-r2fm-qrc7", "body-parser", "1.20.1"),
            ("GHSA-rv95-896h-c2vc", "express", "4.18.2"),
            ("GHSA-wf5p-g6vw-rhxx", "axios", "1.5.1"),
            ("GHSA-xvch-5gv4-984h", "minimist", "1.2.5"),
        ], vulns);

        var minimist = root.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("id").GetString() == "GHSA-xvch-5gv4-984h");
        Assert.Equal("critical", minimist.GetProperty("severity").GetString());
        Assert.Equal(9.8, minimist.GetProperty("score").GetDouble());
        Assert.Equal(["1.2.6"], minimist.GetProperty("fixedIn").EnumerateArray().Select(v => v.GetString()));
        Assert.Contains("CVE-2021-44906", minimist.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("fail", minimist.GetProperty("level").GetString());
        Assert.True(minimist.GetProperty("locations")[0].GetProperty("line").GetInt32() > 1);
    }

    [Fact]
    public void Scan_FailOnCritical_OnlyTheCriticalFindingFails()
    {
        var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "json", "--fail-on", "critical");

        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(1, doc.RootElement.GetProperty("summary").GetProperty("failing").GetInt32());
    }

    [Fact]
    public void Scan_IgnoreEntryInPolicy_SuppressesAndCounts()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-scan-policy-");
        var policy = Path.Combine(dir.FullName, "tollgate.yaml");
        File.WriteAllText(policy, """
            failOn: critical
            ignore:
              - id: CVE-2021-44906
                package: "minimist@<1.2.6"
                reason: "only used by a build script"
                owner: team-mcp
                expires: 2099-12-31
            """);

        var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--policy", policy, "--format", "json");

        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(1, doc.RootElement.GetProperty("summary").GetProperty("suppressed").GetInt32());
        var minimist = doc.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("id").GetString() == "GHSA-xvch-5gv4-984h");
        Assert.Equal("only used by a build script", minimist.GetProperty("suppressed").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Scan_SarifOfExample_IsValidAgainstTheOfficialSchema()
    {
        var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "sarif");
        var schemaPath = TestData.Reference("schemas", "sarif-2.1.0.json");
        var schema = await JsonSchema.FromJsonAsync(File.ReadAllText(schemaPath));

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(schema.Validate(result.Stdout));
        using var doc = JsonDocument.Parse(result.Stdout);
        var results = doc.RootElement.GetProperty("runs")[0].GetProperty("results");
        Assert.Equal(7, results.GetArrayLength());
        Assert.All(results.EnumerateArray(), r =>
            Assert.EndsWith("package-lock.json", r.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_NoDatabase_ExplainsHowToGetOne()
    {
        var missing = Path.Combine(Path.GetTempPath(), "tollgate-none-" + Guid.NewGuid().ToString("N"), "advisories.db");

        var result = CliRunner.Run("scan", Example, "--db", missing);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("tollgate db update", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--advisories", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_BrokenPolicy_ReportsEveryErrorAndExitsTwo()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-scan-policy-");
        var policy = Path.Combine(dir.FullName, "tollgate.yaml");
        File.WriteAllText(policy, "failOn: severe\nmalicous: fail\n");

        var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--policy", policy);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(":1:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(":2:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("malicious", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_OwnSbom_FindsWhatTheLockfileScanFinds()
    {
        var sbom = Path.Combine(Directory.CreateTempSubdirectory("tollgate-sbom-").FullName, "sbom.json");
        Assert.Equal(0, CliRunner.Run("sbom", Example, "-o", sbom).ExitCode);

        var fromLockfile = Ids(CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "json").Stdout);
        var fromSbom = Ids(CliRunner.Run("scan", "--sbom", sbom, "--advisories", Advisories, "--format", "json").Stdout);

        Assert.NotEmpty(fromLockfile);
        Assert.Equal(fromLockfile, fromSbom);

        static List<string> Ids(string json)
        {
            using var doc = JsonDocument.Parse(json);
            return [.. doc.RootElement.GetProperty("findings").EnumerateArray()
                .Select(f => $"{f.GetProperty("id").GetString()} {f.GetProperty("package").GetProperty("purl").GetString()}")
                .Order(StringComparer.Ordinal)];
        }
    }

    [Fact]
    public void Scan_TollgatesOwnProjects_Pass()
    {
        // Tollgate's own supply chain: its projects' locked NuGet graphs and the npm tools its tests and benchmarks
        // install, against the real advisory data in testdata/reference, under .ci/tollgate.yaml.
        var root = TestData.RepositoryRoot;
        var osv = TestData.Reference("osv");

        var result = CliRunner.Run("scan", Path.Combine(root, "src"), Path.Combine(root, "bench", "Tollgate.Bench"),
            Path.Combine(root, "bench", "peers"),
            Path.Combine(root, "tests", "Tollgate.Tests", "Tollgate.Tests.csproj"),
            Path.Combine(root, "tests", "Tollgate.Server.Tests", "Tollgate.Server.Tests.csproj"),
            Path.Combine(root, "tests", "tools"),
            "--policy", Path.Combine(root, ".ci", "tollgate.yaml"),
            "--advisories", Path.Combine(osv, "github"), "--advisories", Path.Combine(osv, "malicious"), "--advisories", Path.Combine(osv, "pypi-all.zip"),
            "--format", "json");

        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("pass", doc.RootElement.GetProperty("verdict").GetString());
        Assert.True(doc.RootElement.GetProperty("summary").GetProperty("failing").GetInt32() == 0);
    }
}
