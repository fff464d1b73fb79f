using Tollgate.Graph;
using Tollgate.Reports;

namespace Tollgate.Tests.Reports;

public sealed class MarkdownReportTests
{
    [Fact]
    public void Write_SampleScan_MatchesSnapshot()
    {
        Snapshot.Match("scan.md", MarkdownReport.Write(SampleScan.Build()));
    }

    [Fact]
    public void Write_SampleScan_ShowsFailuresOpenAndWarningsFolded()
    {
        var markdown = MarkdownReport.Write(SampleScan.Build());

        Assert.StartsWith("## Tollgate scan: fail\n\n**Result: FAIL.** 2 failing findings, 3 warnings, 1 suppressed (fail-on: high).", markdown, StringComparison.Ordinal);
        var failing = markdown.IndexOf("### Failing (2)", StringComparison.Ordinal);
        var warnings = markdown.IndexOf("<details>\n<summary>Warnings (3)</summary>", StringComparison.Ordinal);
        Assert.True(failing > 0 && warnings > failing);
        Assert.Contains("| `body-parser` | 1.20.2 | GHSA-qwcr-r2fm-qrc7 | high | body-parser vulnerable to denial of service when url encoding is enabled | upgrade to 1.20.3 | mcp-weather@1.0.0 → express@4.19.2 → body-parser@1.20.2 |", markdown, StringComparison.Ordinal);
        Assert.Contains("  - id: \"MAL-2024-4003\"", markdown, StringComparison.Ordinal);
        Assert.Contains("1 finding is suppressed by `tollgate.yaml`.", markdown, StringComparison.Ordinal);
        // The suppressed finding is listed only in the folded "Suppressed" section, with the ignore's reason.
        var suppressed = markdown.IndexOf("<summary>Suppressed (1)</summary>", StringComparison.Ordinal);
        Assert.True(suppressed > 0);
        Assert.Equal(markdown.IndexOf("| `lodash` |", StringComparison.Ordinal), markdown.LastIndexOf("| `lodash` |", StringComparison.Ordinal));
        Assert.True(markdown.IndexOf("| `lodash` |", StringComparison.Ordinal) > suppressed);
    }

    [Fact]
    public void Write_CleanScan_SaysSoWithoutSuppressionHowTo()
    {
        var markdown = MarkdownReport.Write(new ScanReport { Outcome = ScanOutcome.Pass, ToolVersion = "0.1.0", ScannedFiles = ["package-lock.json"] });

        Assert.Contains("**Result: PASS.** 0 failing findings, 0 warnings, 0 suppressed (fail-on: high). 1 file scanned.", markdown, StringComparison.Ordinal);
        Assert.Contains("No finding fails the policy.", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("ignore:", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_CellText_IsEscapedForTables()
    {
        var component = new Component { Ecosystem = Ecosystem.Npm, Name = "a|b", Version = "1.0.0", Purl = PackageUrl.For(Ecosystem.Npm, "a|b", "1.0.0") };
        var finding = new Finding { Kind = FindingKind.Vulnerability, Id = "GHSA-<x>", Severity = Severity.High, Summary = "s", Component = component };
        var report = new ScanReport { Outcome = ScanOutcome.Fail, ToolVersion = "0.1.0", Findings = [new ReportedFinding(finding, FindingLevel.Fail, null, [])] };

        var markdown = MarkdownReport.Write(report);

        Assert.Contains("| `a\\|b` | 1.0.0 | GHSA-&lt;x&gt; | high |", markdown, StringComparison.Ordinal);
    }
}
