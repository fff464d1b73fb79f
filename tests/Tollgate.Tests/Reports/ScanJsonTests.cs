using System.Text.Json;
using Tollgate.Reports;

namespace Tollgate.Tests.Reports;

public sealed class ScanJsonTests
{
    private static readonly string[] s_findingKeys =
        ["kind", "id", "aliases", "severity", "score", "summary", "package", "fixedIn", "paths", "locations", "level", "suppressed"];

    private static List<string> Keys(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    [Fact]
    public void Write_SampleScan_HasExactlyTheDocumentedShape()
    {
        using var doc = JsonDocument.Parse(ScanJson.Write(SampleScan.Build()));
        var root = doc.RootElement;

        Assert.Equal(["verdict", "incomplete", "advisories", "summary", "findings", "notMatched", "diagnostics", "vex"], Keys(root));
        Assert.Equal("fail", root.GetProperty("verdict").GetString());
        Assert.Empty(root.GetProperty("incomplete").EnumerateArray());
        var advisories = root.GetProperty("advisories");
        Assert.Equal(["checked", "source", "ecosystems"], Keys(advisories));
        Assert.All(advisories.GetProperty("ecosystems").EnumerateArray(), e => Assert.Equal(["ecosystem", "packages", "records"], Keys(e)));
        var summary = root.GetProperty("summary");
        Assert.Equal(["total", "failing", "warnings", "suppressed", "suppressedByVex", "bySeverity", "byKind"], Keys(summary));
        Assert.Equal(["critical", "high", "medium", "low", "none"], Keys(summary.GetProperty("bySeverity")));
        Assert.Equal(["vulnerability", "malicious", "signal"], Keys(summary.GetProperty("byKind")));
        foreach (var finding in root.GetProperty("findings").EnumerateArray())
        {
            // evidence is there exactly when the finding has some (rule findings), right after summary.
            Assert.Equal(finding.TryGetProperty("evidence", out _) ? [.. s_findingKeys[..6], "evidence", .. s_findingKeys[6..]] : s_findingKeys, Keys(finding));
            Assert.Equal(["ecosystem", "name", "version", "purl"], Keys(finding.GetProperty("package")));
            Assert.Contains(finding.GetProperty("level").GetString(), new[] { "fail", "warn", "info" });
        }
        var diagnostic = Assert.Single(root.GetProperty("diagnostics").EnumerateArray());
        Assert.Equal("TG0014", diagnostic.GetProperty("id").GetString());
        Assert.Equal(88, diagnostic.GetProperty("line").GetInt32());
    }

    [Fact]
    public void Write_SampleScan_CountsAndOrderFollowTheLevels()
    {
        var report = SampleScan.Build();
        using var doc = JsonDocument.Parse(ScanJson.Write(report));
        var summary = doc.RootElement.GetProperty("summary");
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();

        // 3 advisory findings (one suppressed) + TG1001 esbuild, TG1006 ms, TG1010 crossenv and the homoglyph name.
        Assert.Equal(7, summary.GetProperty("total").GetInt32());
        Assert.Equal(2, summary.GetProperty("failing").GetInt32());
        Assert.Equal(3, summary.GetProperty("warnings").GetInt32());
        Assert.Equal(1, summary.GetProperty("suppressed").GetInt32());
        Assert.Equal(1, summary.GetProperty("bySeverity").GetProperty("critical").GetInt32());
        Assert.Equal(1, summary.GetProperty("byKind").GetProperty("vulnerability").GetInt32());
        Assert.Equal(["MAL-2024-4003", "GHSA-qwcr-r2fm-qrc7", "TG1010", "TG1001", "TG1010", "TG1006", "GHSA-35jh-r3h4-6jhm"],
            findings.Select(f => f.GetProperty("id").GetString()));
    }

    [Fact]
    public void Write_Finding_CarriesPackagePathsAndSuppression()
    {
        using var doc = JsonDocument.Parse(ScanJson.Write(SampleScan.Build()));
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();

        var bodyParser = findings.Single(f => f.GetProperty("id").GetString() == "GHSA-qwcr-r2fm-qrc7");
        Assert.Equal("pkg:npm/body-parser@1.20.2", bodyParser.GetProperty("package").GetProperty("purl").GetString());
        Assert.Equal(["CVE-2024-45590"], bodyParser.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(["1.20.3"], bodyParser.GetProperty("fixedIn").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(7.5, bodyParser.GetProperty("score").GetDouble());
        Assert.Equal(["mcp-weather@1.0.0", "express@4.19.2", "body-parser@1.20.2"],
            Assert.Single(bodyParser.GetProperty("paths").EnumerateArray()).EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(JsonValueKind.Null, bodyParser.GetProperty("suppressed").ValueKind);

        var lodash = findings.Single(f => f.GetProperty("id").GetString() == "GHSA-35jh-r3h4-6jhm");
        var suppressed = lodash.GetProperty("suppressed");
        Assert.Equal(["source", "reason", "owner", "expires"], Keys(suppressed));
        Assert.Equal("policy", suppressed.GetProperty("source").GetString());
        Assert.Equal("2026-12-31", suppressed.GetProperty("expires").GetString());

        var signal = findings.First(f => f.GetProperty("id").GetString() == "TG1001");
        Assert.Equal(JsonValueKind.Null, signal.GetProperty("score").ValueKind);
        Assert.Equal("signal", signal.GetProperty("kind").GetString());
    }

    [Fact]
    public void Write_SampleScan_MatchesSnapshot()
    {
        Snapshot.Match("scan.json", ScanJson.Write(SampleScan.Build()));
    }
}
