using System.Text.Json;
using NJsonSchema;

namespace Tollgate.Tests.Cli;

/// <summary>
/// <c>scan --vex</c> and <c>scan --format openvex</c> on the bundled example: VEX statements written for its real
/// findings (testdata/vex/own) suppress exactly the findings they match, in every output format.
/// </summary>
public sealed class ScanVexTests
{
    private static string Example => Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");
    private static string Advisories => Path.Combine(TestData.RepositoryRoot, "examples", "advisories");
    private static string OpenVex => TestData.Path("vex", "own", "example.openvex.json");
    private static string CycloneDx => TestData.Path("vex", "own", "example.cdx.json");

    private static Dictionary<string, JsonElement> FindingsById(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("findings").EnumerateArray()
            .ToDictionary(f => f.GetProperty("id").GetString()!, f => f.Clone(), StringComparer.Ordinal);
    }

    [Fact]
    public void Scan_OpenVexAndCycloneDxVex_SuppressNotAffectedAndFixedOnly()
    {
        var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--vex", OpenVex, "--vex", CycloneDx, "--format", "json");

        // lodash stays: its latest statement is "affected".
        Assert.Equal(1, result.ExitCode);
        var findings = FindingsById(result.Stdout);
        string? Source(string id) => findings[id].GetProperty("suppressed") is { ValueKind: JsonValueKind.Object } s ? s.GetProperty("source").GetString() : null;
        Assert.Equal("vex", Source("GHSA-xvch-5gv4-984h")); // minimist: subcomponent of the product, not_affected
        Assert.Equal("vex", Source("GHSA-8hc4-vh64-cxmj")); // axios high: fixed
        Assert.Equal("vex", Source("GHSA-qwcr-r2fm-qrc7")); // body-parser: CycloneDX not_affected (the OpenVEX one names 1.20.0)
        Assert.Equal("vex", Source("GHSA-pxg6-pf52-xh8x")); // cookie: CycloneDX false_positive for version 0.5.0
        Assert.Null(Source("GHSA-35jh-r3h4-6jhm")); // lodash: affected
        Assert.Null(Source("GHSA-rv95-896h-c2vc")); // express: under_investigation / in_triage
        Assert.Null(Source("GHSA-wf5p-g6vw-rhxx")); // axios medium: no statement

        var minimist = findings["GHSA-xvch-5gv4-984h"].GetProperty("suppressed");
        Assert.Equal("not_affected", minimist.GetProperty("status").GetString());
        Assert.Equal("vulnerable_code_not_in_execute_path", minimist.GetProperty("justification").GetString());
        Assert.Equal("Weather MCP security team <security@example.com>", minimist.GetProperty("owner").GetString());
        Assert.Equal("minimist only parses our own fixed build arguments", minimist.GetProperty("reason").GetString());
        Assert.Equal("fail", findings["GHSA-xvch-5gv4-984h"].GetProperty("level").GetString());

        using var doc = JsonDocument.Parse(result.Stdout);
        var summary = doc.RootElement.GetProperty("summary");
        Assert.Equal(4, summary.GetProperty("suppressed").GetInt32());
        Assert.Equal(4, summary.GetProperty("suppressedByVex").GetInt32());
        Assert.Equal(1, summary.GetProperty("failing").GetInt32());
        Assert.Equal(2, doc.RootElement.GetProperty("vex").GetArrayLength());
    }

    [Fact]
    public void Scan_VexCoveringEveryFailingFinding_Passes()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-vex-");
        try
        {
            var vex = Path.Combine(dir.FullName, "lodash.openvex.json");
            File.WriteAllText(vex, """
                {
                  "@context": "https://openvex.dev/ns/v0.2.0",
                  "@id": "https://example.com/vex/lodash",
                  "author": "team-mcp",
                  "timestamp": "2026-02-01T00:00:00Z",
                  "version": 1,
                  "statements": [
                    { "vulnerability": { "name": "CVE-2021-23337" }, "products": [ { "@id": "pkg:npm/lodash@4.17.20" } ],
                      "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path" }
                  ]
                }
                """);

            var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--vex", OpenVex, "--vex", CycloneDx, "--vex", vex);

            Assert.Equal(0, result.ExitCode);
            Assert.Contains("5 suppressed (5 by VEX)", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("VEX not_affected (vulnerable_code_not_in_execute_path) by team-mcp", result.Stdout.Replace("\n", " ", StringComparison.Ordinal)
                .Replace("│", " ", StringComparison.Ordinal).Replace("  ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Scan_VexBesideThePolicy_IsReadWithoutTheOption()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-vex-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "tollgate.yaml"), "failOn: high\n");
            File.Copy(OpenVex, Path.Combine(dir.FullName, "weather.openvex.json"));
            File.Copy(CycloneDx, Path.Combine(dir.FullName, "weather.vex.json"));
            File.WriteAllText(Path.Combine(dir.FullName, "unrelated.json"), "not json at all");

            var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--policy", Path.Combine(dir.FullName, "tollgate.yaml"), "--format", "json");

            Assert.Equal(1, result.ExitCode);
            using var doc = JsonDocument.Parse(result.Stdout);
            Assert.Equal(4, doc.RootElement.GetProperty("summary").GetProperty("suppressedByVex").GetInt32());
            Assert.Contains("weather.openvex.json", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Scan_UnreadableVex_FailsClosedWithThePosition()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-vex-");
        try
        {
            var bad = Path.Combine(dir.FullName, "bad.openvex.json");
            File.WriteAllText(bad, "{\n  \"@context\": \"https://openvex.dev/ns/v0.2.0\",\n  \"author\": \"x\",\n  \"statements\": [ { \"status\": \"fixed\" ]\n}\n");

            var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--vex", bad, "--format", "sarif");
            var missing = CliRunner.Run("scan", Example, "--advisories", Advisories, "--vex", Path.Combine(dir.FullName, "missing.json"));

            Assert.Equal(2, result.ExitCode);
            Assert.Equal("", result.Stdout);
            Assert.Contains("bad.openvex.json:4:", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("TG0002", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains("TG0001", missing.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Scan_SarifAndMarkdown_ShowVexSuppressionsWithAuthorAndJustification()
    {
        var sarif = CliRunner.Run("scan", Example, "--advisories", Advisories, "--vex", OpenVex, "--format", "sarif");
        var markdown = CliRunner.Run("scan", Example, "--advisories", Advisories, "--vex", OpenVex, "--format", "markdown");

        using var doc = JsonDocument.Parse(sarif.Stdout);
        var minimist = doc.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray()
            .Single(r => r.GetProperty("ruleId").GetString() == "GHSA-xvch-5gv4-984h");
        var suppression = Assert.Single(minimist.GetProperty("suppressions").EnumerateArray());
        Assert.Equal("accepted", suppression.GetProperty("status").GetString());
        var justification = suppression.GetProperty("justification").GetString();
        Assert.Contains("not_affected (vulnerable_code_not_in_execute_path)", justification, StringComparison.Ordinal);
        Assert.Contains("Weather MCP security team", justification, StringComparison.Ordinal);

        Assert.Contains("<summary>Suppressed (2)</summary>", markdown.Stdout, StringComparison.Ordinal);
        Assert.Contains("VEX fixed by Weather MCP security team", markdown.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 findings are suppressed by VEX", markdown.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_FormatOpenVex_IsValidAgainstTheOpenVexSchemaAndReadsBack()
    {
        var schema = await JsonSchema.FromJsonAsync(File.ReadAllText(TestData.Path("vex", "openvex-spec", "openvex_json_schema.json")));
        var previous = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", "1767225600");
        CliRunner.Result result, again, withVex;
        try
        {
            result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "openvex");
            again = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "openvex");
            withVex = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "openvex", "--vex", OpenVex);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", previous);
        }

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(schema.Validate(result.Stdout));
        Assert.Empty(schema.Validate(withVex.Stdout));
        Assert.Equal(result.Stdout, again.Stdout);
        // The schema really is enforced: a status it does not know is refused.
        Assert.NotEmpty(schema.Validate(result.Stdout.Replace("under_investigation", "maybe", StringComparison.Ordinal)));
        // ... and so are its $defs: a vulnerability has no member "title".
        Assert.NotEmpty(schema.Validate(result.Stdout.Replace("\"aliases\"", "\"title\"", StringComparison.Ordinal)));

        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("2026-01-01T00:00:00Z", doc.RootElement.GetProperty("timestamp").GetString());
        var statements = doc.RootElement.GetProperty("statements").EnumerateArray().ToList();
        Assert.Equal(7, statements.Count);
        Assert.All(statements, s => Assert.Equal("under_investigation", s.GetProperty("status").GetString()));

        // Read back by Tollgate's own reader: a skeleton as written suppresses nothing.
        var path = Path.Combine(Path.GetTempPath(), $"tollgate-skeleton-{Guid.NewGuid():N}.openvex.json");
        try
        {
            File.WriteAllText(path, result.Stdout);
            var rescan = CliRunner.Run("scan", Example, "--advisories", Advisories, "--vex", path, "--format", "json");
            using var rescanned = JsonDocument.Parse(rescan.Stdout);
            Assert.Equal(0, rescanned.RootElement.GetProperty("summary").GetProperty("suppressed").GetInt32());
        }
        finally
        {
            File.Delete(path);
        }

        using var vexed = JsonDocument.Parse(withVex.Stdout);
        var minimist = vexed.RootElement.GetProperty("statements").EnumerateArray().Single(s => s.GetProperty("vulnerability").GetProperty("name").GetString() == "GHSA-xvch-5gv4-984h");
        Assert.Equal("not_affected", minimist.GetProperty("status").GetString());
        Assert.Equal("vulnerable_code_not_in_execute_path", minimist.GetProperty("justification").GetString());
    }
}
