using System.Globalization;
using System.Text;
using Tollgate.Graph;

namespace Tollgate.Sbom;

/// <summary>A deployment diff as GitHub-flavoured Markdown, for pull-request comments and release notes.</summary>
public static class SbomDiffMarkdown
{
    public static string Write(string oldFile, string newFile, SbomDiffResult diff)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"## Dependency changes: `{oldFile}` → `{newFile}`\n\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"{diff.Count(ChangeKind.Added)} added, {diff.Count(ChangeKind.Removed)} removed, {diff.Count(ChangeKind.Upgraded)} upgraded, {diff.Count(ChangeKind.Downgraded)} downgraded, {diff.Count(ChangeKind.Changed)} changed");
        if (diff.NewFindings is { } added && diff.ResolvedFindings is { } resolved)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; {added.Length} new finding(s), {resolved.Length} resolved");
        }
        sb.Append("\n\n");
        if (diff.Changes.Length > 0)
        {
            sb.Append("| Change | Ecosystem | Package | Old | New |\n|---|---|---|---|---|\n");
            foreach (var c in diff.Changes)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {c.Kind.ToString().ToLowerInvariant()} | {c.Ecosystem.ToOsvName()} | {Cell(c.Name)} | {Cell(string.Join(", ", c.OldVersions))} | {Cell(string.Join(", ", c.NewVersions))} |\n");
            }
            sb.Append('\n');
        }
        if (diff.NewFindings is { Length: > 0 } newOnes)
        {
            Findings(sb, "New findings", newOnes);
        }
        if (diff.ResolvedFindings is { Length: > 0 } gone)
        {
            Findings(sb, "Resolved findings", gone);
        }
        if (diff.NewFindings is null)
        {
            sb.Append("_No advisory database was read: findings were not compared._\n");
        }
        return sb.ToString().TrimEnd('\n') + "\n";
    }

    private static void Findings(StringBuilder sb, string title, IEnumerable<FindingChange> findings)
    {
        sb.Append(CultureInfo.InvariantCulture, $"### {title}\n\n| Severity | Advisory | Package | Fixed in | Summary |\n|---|---|---|---|---|\n");
        foreach (var f in findings.Select(c => c.Finding))
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"| {f.Severity.ToName()} | {Cell(f.Id)} | {Cell($"{f.Component.Name}@{f.Component.Version}")} | {Cell(string.Join(", ", f.FixedIn))} | {Cell(f.Summary)} |\n");
        }
        sb.Append('\n');
    }

    // Pipes and line breaks would end the table cell early.
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
