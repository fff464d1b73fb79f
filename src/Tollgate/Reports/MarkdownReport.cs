using System.Globalization;
using System.Text;
using Tollgate.Graph;

namespace Tollgate.Reports;

/// <summary>
/// A scan as a pull-request comment in GitHub-flavoured Markdown: the verdict, counts by severity, the failing
/// findings, the warnings folded away, and how to suppress a finding. Plain text, no emoji, no images.
/// </summary>
public static class MarkdownReport
{
    /// <summary>Rows per table; comment size is limited by code hosts, and a longer list is read in the JSON or SARIF output.</summary>
    public const int MaxRows = 50;

    /// <param name="report">The report.</param>
    /// <param name="title">The comment's title, before the outcome.</param>
    public static string Write(ScanReport report, string title = "Tollgate scan")
    {
        ArgumentNullException.ThrowIfNull(report);
        var summary = report.Summary;
        var ordered = report.Ordered.ToList();
        var failing = ordered.Where(f => f.IsActive && f.Level == FindingLevel.Fail).ToList();
        var warnings = ordered.Where(f => f.IsActive && f.Level == FindingLevel.Warn).ToList();
        var notes = ordered.Where(f => f.IsActive && f.Level == FindingLevel.Info).ToList();
        var sb = new StringBuilder();

        sb.Append("## ").Append(title).Append(": ").Append(report.Outcome.ToName()).Append("\n\n");
        sb.Append("**Result: ").Append(report.Outcome.ToName().ToUpperInvariant()).Append(".** ")
            .Append(Count(summary.Failing, "failing finding")).Append(", ")
            .Append(Count(summary.Warnings, "warning")).Append(", ")
            .Append(summary.Suppressed.ToString(CultureInfo.InvariantCulture)).Append(" suppressed")
            .Append(" (fail-on: ").Append(report.FailOn.ToName()).Append(").");
        if (!report.ScannedFiles.IsEmpty)
        {
            sb.Append(' ').Append(Count(report.ScannedFiles.Length, "file")).Append(" scanned.");
        }
        sb.Append("\n\n");
        if (!report.Incomplete.IsEmpty)
        {
            sb.Append("**Incomplete, so this is not a pass.** What could not be checked:\n\n");
            foreach (var reason in report.Incomplete)
            {
                sb.Append("- ").Append(Cell(reason)).Append('\n');
            }
            sb.Append('\n');
        }
        sb.Append("Advisories: ");
        if (report.Advisories is not { } coverage)
        {
            sb.Append("not checked (`--no-advisories`).");
        }
        else if (coverage.Ecosystems.IsEmpty)
        {
            sb.Append("no registry packages to match.");
        }
        else
        {
            sb.Append(string.Join("; ", coverage.Ecosystems.Select(e => e.Records == 0
                ? $"{e.Ecosystem.ToOsvName()}: **no records, {e.Packages} package(s) not checked**"
                : $"{e.Ecosystem.ToOsvName()}: {e.Records} records for {e.Packages} package(s)"))).Append('.');
        }
        sb.Append("\n\n");

        sb.Append("| Severity | Findings |\n| --- | ---: |\n");
        foreach (var (severity, count) in summary.BySeverity)
        {
            sb.Append("| ").Append(severity.ToName()).Append(" | ").Append(count.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
        }
        sb.Append('\n');

        if (failing.Count > 0)
        {
            sb.Append("### Failing (").Append(failing.Count.ToString(CultureInfo.InvariantCulture)).Append(")\n\n");
            Table(sb, failing);
        }
        else
        {
            sb.Append("No finding fails the policy.\n\n");
        }
        Folded(sb, "Warnings", warnings);
        Folded(sb, "Notes", notes);
        Suppressed(sb, ordered.Where(f => !f.IsActive).ToList());
        Diagnostics(sb, report);

        var example = failing.FirstOrDefault() ?? warnings.FirstOrDefault();
        if (example is not null)
        {
            SuppressionHowTo(sb, example.Finding);
        }
        var byPolicy = summary.Suppressed - summary.SuppressedByVex;
        sb.Append(byPolicy switch
        {
            0 => "No finding is suppressed by `tollgate.yaml`.",
            1 => "1 finding is suppressed by `tollgate.yaml`.",
            var n => $"{n.ToString(CultureInfo.InvariantCulture)} findings are suppressed by `tollgate.yaml`.",
        });
        if (!report.VexDocuments.IsEmpty)
        {
            sb.Append(' ').Append(Count(summary.SuppressedByVex, "finding")).Append(summary.SuppressedByVex == 1 ? " is" : " are")
                .Append(" suppressed by VEX (").Append(Cell(string.Join(", ", report.VexDocuments))).Append(").");
        }
        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>Suppressed findings, folded, each with who suppressed it and why (the ignore entry or the VEX statement).</summary>
    private static void Suppressed(StringBuilder sb, List<ReportedFinding> findings)
    {
        if (findings.Count == 0)
        {
            return;
        }
        sb.Append("<details>\n<summary>Suppressed (").Append(findings.Count.ToString(CultureInfo.InvariantCulture)).Append(")</summary>\n\n")
            .Append("| Package | Version | Id | Severity | Suppressed by |\n| --- | --- | --- | --- | --- |\n");
        foreach (var reported in findings.Take(MaxRows))
        {
            var f = reported.Finding;
            sb.Append("| ").Append(Code(f.Component.Name))
                .Append(" | ").Append(Cell(f.Component.Version))
                .Append(" | ").Append(Cell(f.Id))
                .Append(" | ").Append(f.Severity.ToName())
                .Append(" | ").Append(Cell(reported.Suppression!.Describe()))
                .Append(" |\n");
        }
        if (findings.Count > MaxRows)
        {
            sb.Append("\n").Append((findings.Count - MaxRows).ToString(CultureInfo.InvariantCulture)).Append(" more not shown; see the JSON or SARIF output.\n");
        }
        sb.Append("\n</details>\n\n");
    }

    private static void Folded(StringBuilder sb, string title, List<ReportedFinding> findings)
    {
        if (findings.Count == 0)
        {
            return;
        }
        sb.Append("<details>\n<summary>").Append(title).Append(" (").Append(findings.Count.ToString(CultureInfo.InvariantCulture))
            .Append(")</summary>\n\n");
        Table(sb, findings);
        sb.Append("</details>\n\n");
    }

    private static void Table(StringBuilder sb, List<ReportedFinding> findings)
    {
        sb.Append("| Package | Version | Id | Severity | Finding | Fix | Path |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var reported in findings.Take(MaxRows))
        {
            var f = reported.Finding;
            var path = reported.Paths.IsEmpty ? "" : Cell(string.Join(" → ", reported.Paths[0]));
            if (reported.Paths.Length > 1)
            {
                path += $" (+{(reported.Paths.Length - 1).ToString(CultureInfo.InvariantCulture)} more)";
            }
            sb.Append("| ").Append(Code(f.Component.Name))
                .Append(" | ").Append(Cell(f.Component.Version))
                .Append(" | ").Append(Cell(f.Id))
                .Append(" | ").Append(f.Severity.ToName())
                .Append(" | ").Append(Cell(f.Summary))
                .Append(" | ").Append(Cell(ScanText.Fix(f)))
                .Append(" | ").Append(path)
                .Append(" |\n");
        }
        if (findings.Count > MaxRows)
        {
            sb.Append("\n").Append((findings.Count - MaxRows).ToString(CultureInfo.InvariantCulture))
                .Append(" more not shown; see the JSON or SARIF output.\n");
        }
        sb.Append('\n');
    }

    private static void Diagnostics(StringBuilder sb, ScanReport report)
    {
        var problems = report.Diagnostics.Where(d => d.Severity != DiagnosticSeverity.Info).ToList();
        if (problems.Count == 0)
        {
            return;
        }
        sb.Append("<details>\n<summary>Input problems (").Append(problems.Count.ToString(CultureInfo.InvariantCulture)).Append(")</summary>\n\n");
        foreach (var d in problems.Take(MaxRows))
        {
            sb.Append("- ").Append(Cell(d.ToString())).Append('\n');
        }
        sb.Append("\n</details>\n\n");
    }

    private static void SuppressionHowTo(StringBuilder sb, Finding example)
    {
        sb.Append("### Suppressing a finding\n\n")
            .Append("If a finding does not apply, add an `ignore` entry to `tollgate.yaml`, with the reason, an owner and an expiry date:\n\n")
            .Append("```yaml\nignore:\n")
            .Append("  - id: ").Append(Yaml(example.Id)).Append('\n')
            .Append("    package: ").Append(Yaml($"{example.Component.Name}@{example.Component.Version}")).Append('\n')
            .Append("    reason: \"why it does not apply here\"\n")
            .Append("    owner: \"your-team\"\n")
            .Append("    expires: YYYY-MM-DD\n")
            .Append("```\n\n");
    }

    private static string Count(int n, string noun) =>
        $"{n.ToString(CultureInfo.InvariantCulture)} {noun}{(n == 1 ? "" : "s")}";

    /// <summary>Table cell text: pipes escaped, line breaks flattened, HTML characters as entities.</summary>
    private static string Cell(string text) => text
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("|", "\\|", StringComparison.Ordinal)
        .Replace("\r", "", StringComparison.Ordinal)
        .Replace("\n", " ", StringComparison.Ordinal);

    // Entities are not decoded inside code spans, so only the pipe (which ends a table cell) is escaped there.
    private static string Code(string text) =>
        text.Contains('`', StringComparison.Ordinal) || text.Contains('\n', StringComparison.Ordinal)
            ? Cell(text)
            : $"`{text.Replace("|", "\\|", StringComparison.Ordinal)}`";

    private static string Yaml(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
