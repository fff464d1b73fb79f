using System.Globalization;
using Tollgate.Graph;
using Tollgate.Risk;

namespace Tollgate.Reports;

/// <summary>Phrases the report writers share, so JSON, SARIF and Markdown tell a user the same thing.</summary>
internal static class ScanText
{
    /// <summary><c>name@version</c> of the finding's component.</summary>
    public static string PackageLabel(Finding finding) =>
        finding.Component.Version.Length == 0 ? finding.Component.Name : $"{finding.Component.Name}@{finding.Component.Version}";

    /// <summary>What to do about a finding, in one short sentence.</summary>
    public static string Fix(Finding finding) => finding.Kind switch
    {
        FindingKind.Malicious => "remove the package and rotate every secret on machines that installed it",
        FindingKind.Vulnerability when !finding.FixedIn.IsEmpty => "upgrade to " + finding.FixedIn[0],
        FindingKind.Vulnerability => "no fixed version is known: replace the package, or suppress with a reason",
        _ => RiskRules.Find(finding.Id) is { } rule ? FirstSentence(rule.Fix) : "see the rule's documentation",
    };

    /// <summary>The finding's summary with its evidence in parentheses.</summary>
    public static string SummaryWithEvidence(Finding finding) =>
        finding.Evidence is null ? finding.Summary : $"{finding.Summary} ({finding.Evidence})";

    /// <summary>The score GitHub reads as severity: the CVSS score when there is one, else the middle of the severity's band.</summary>
    public static double SecuritySeverity(Finding finding) => finding.Score ?? finding.Severity switch
    {
        Severity.Critical => 9.5,
        Severity.High => 8.0,
        Severity.Medium => 5.5,
        Severity.Low => 2.0,
        _ => 0.0,
    };

    public static string FormatScore(double score) => score.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>A dependency path as one line: <c>app@1.0.0 &gt; a@1.0.0 &gt; b@2.0.0</c>.</summary>
    public static string PathLine(IEnumerable<string> path) => string.Join(" > ", path);

    private static string FirstSentence(string text)
    {
        var end = text.IndexOf(". ", StringComparison.Ordinal);
        var sentence = end < 0 ? text.TrimEnd('.') : text[..end];
        return sentence.Length > 0 ? char.ToLowerInvariant(sentence[0]) + sentence[1..] : sentence;
    }
}
