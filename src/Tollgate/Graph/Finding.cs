using System.Collections.Immutable;

namespace Tollgate.Graph;

/// <summary>What a finding is about.</summary>
public enum FindingKind
{
    /// <summary>A known vulnerability (an OSV advisory).</summary>
    Vulnerability,
    /// <summary>A known-malicious package version (MAL- records, GitHub malware advisories).</summary>
    Malicious,
    /// <summary>A supply-chain risk signal from the lockfile itself (rules TG1xxx).</summary>
    Signal,
}

/// <summary>Severity, ordered: comparisons like <c>severity &gt;= Severity.High</c> work.</summary>
public enum Severity
{
    None = 0,
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

public static class SeverityNames
{
    public static string ToName(this Severity severity) => severity.ToString().ToLowerInvariant();

    /// <summary>Parses none/low/medium/high/critical (also GitHub's "moderate" for medium), ignoring case.</summary>
    public static bool TryParse(string? text, out Severity severity)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "NONE": severity = Severity.None; return true;
            case "LOW": severity = Severity.Low; return true;
            case "MEDIUM" or "MODERATE": severity = Severity.Medium; return true;
            case "HIGH": severity = Severity.High; return true;
            case "CRITICAL": severity = Severity.Critical; return true;
            default: severity = Severity.None; return false;
        }
    }
}

/// <summary>
/// Something to tell a user about one component: a vulnerability, a malicious version or a risk signal.
/// Produced by enrichment (advisory matching, risk rules); judged by the policy.
/// </summary>
public sealed record Finding
{
    public required FindingKind Kind { get; init; }

    /// <summary>The advisory id (e.g. GHSA-…, PYSEC-…, MAL-…) or rule id (TG1xxx).</summary>
    public required string Id { get; init; }

    /// <summary>Other ids of the same issue (CVE, GHSA, PYSEC), merged into this finding.</summary>
    public ImmutableArray<string> Aliases { get; init; } = [];

    public required Severity Severity { get; init; }

    /// <summary>The CVSS base score when one was computed.</summary>
    public double? Score { get; init; }

    public required string Summary { get; init; }

    /// <summary>The component the finding is about.</summary>
    public required Component Component { get; init; }

    /// <summary>Versions that fix it: the lowest fixed version above the installed one first.</summary>
    public ImmutableArray<string> FixedIn { get; init; } = [];

    /// <summary>Why the rule fired, in words (e.g. the resolved URL, the script name).</summary>
    public string? Evidence { get; init; }

    /// <summary>A link to read more (advisory page, rule documentation).</summary>
    public string? HelpUri { get; init; }

    /// <summary>Every id this finding can be referred to by: its id and its aliases.</summary>
    public IEnumerable<string> AllIds => Aliases.Prepend(Id);
}
