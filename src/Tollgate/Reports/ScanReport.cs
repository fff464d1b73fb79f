using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Reports;

/// <summary>
/// The outcome of a scan: pass, warn (findings at warn level only), fail, or incomplete: something could not be
/// checked (an input that could not be read, no advisories for a scanned ecosystem), so the scan cannot say pass.
/// </summary>
public enum ScanOutcome
{
    Pass,
    Warn,
    Fail,
    Incomplete,
}

/// <summary>How many advisory records the scan had for one ecosystem it scanned.</summary>
/// <param name="Ecosystem">The ecosystem.</param>
/// <param name="Packages">Packages of the ecosystem matched against advisories.</param>
/// <param name="Records">Records in the advisory database that name a package of the ecosystem; 0 means nothing was checked.</param>
public sealed record EcosystemCoverage(Ecosystem Ecosystem, int Packages, int Records);

/// <summary>What the advisory check covered: the database and the records per scanned ecosystem.</summary>
/// <param name="Source">Where the records came from (the database file or the files given with --advisories).</param>
/// <param name="Ecosystems">Every ecosystem with packages to match, in ecosystem order.</param>
public sealed record AdvisoryCoverage(string? Source, ImmutableArray<EcosystemCoverage> Ecosystems)
{
    /// <summary>The scanned ecosystems the database has no record for.</summary>
    public IEnumerable<EcosystemCoverage> Missing => Ecosystems.Where(e => e.Records == 0);
}

/// <summary>What one reported finding does to the outcome.</summary>
public enum FindingLevel
{
    Info,
    Warn,
    Fail,
}

/// <summary>Where a suppression comes from.</summary>
public enum SuppressionSource
{
    /// <summary>An <c>ignore</c> entry of the policy file.</summary>
    Policy,
    /// <summary>A VEX statement (<c>not_affected</c> or <c>fixed</c>) of an OpenVEX or CycloneDX VEX document.</summary>
    Vex,
}

/// <summary>
/// Why a finding is reported but does not count: an ignore entry of the policy, or a VEX statement.
/// </summary>
/// <param name="Id">The id the ignore or statement names (the finding's id or one of its aliases).</param>
/// <param name="Reason">Why it does not apply (for VEX: the impact statement or detail, else the justification).</param>
/// <param name="Owner">Who decided it (for VEX: the statement's author).</param>
/// <param name="Expires">The last day the ignore applies, when it has one.</param>
/// <param name="Source">Policy ignore or VEX statement.</param>
/// <param name="Status">For VEX: the statement's status (<c>not_affected</c> or <c>fixed</c>).</param>
/// <param name="Justification">For VEX: the justification label, when the statement has one.</param>
/// <param name="Document">For VEX: the document the statement is in.</param>
public sealed record Suppression(
    string Id,
    string Reason,
    string? Owner = null,
    DateOnly? Expires = null,
    SuppressionSource Source = SuppressionSource.Policy,
    string? Status = null,
    string? Justification = null,
    string? Document = null)
{
    /// <summary>One line for people: "ignored: reason, owner X, until D" or "VEX not_affected (label) by author: detail".</summary>
    public string Describe()
    {
        if (Source == SuppressionSource.Vex)
        {
            var label = Justification is null ? "" : $" ({Justification})";
            var detail = Reason == Justification ? "" : $": {Reason}";
            return $"VEX {Status}{label} by {Owner}{detail} [{Document}]";
        }
        var who = Owner is null ? "" : $", owner {Owner}";
        var until = Expires is { } expires ? $", until {expires.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)}" : "";
        return $"ignored: {Reason}{who}{until}";
    }
}

/// <summary>A finding as the policy judged it, with the dependency paths that pull the component in.</summary>
/// <param name="Finding">What was found.</param>
/// <param name="Level">What the policy made of it.</param>
/// <param name="Suppression">The ignore that applies, or null.</param>
/// <param name="Paths">Paths from a root to the component, as labels (<c>name@version</c>, roots by their display name).</param>
public sealed record ReportedFinding(
    Finding Finding,
    FindingLevel Level,
    Suppression? Suppression,
    ImmutableArray<ImmutableArray<string>> Paths)
{
    /// <summary>True when the finding counts: it is not suppressed.</summary>
    public bool IsActive => Suppression is null;

    /// <summary>A reported finding whose paths are read from <paramref name="graph"/> (at most <paramref name="maxPaths"/>, shortest first).</summary>
    public static ReportedFinding Create(Finding finding, FindingLevel level, Suppression? suppression, DependencyGraph? graph, int maxPaths = 5) =>
        new(finding, level, suppression, graph is null ? [] : PathsOf(graph, finding.Component.Key, maxPaths));

    /// <summary>The paths from roots to the component with key <paramref name="key"/>, as labels.</summary>
    public static ImmutableArray<ImmutableArray<string>> PathsOf(DependencyGraph graph, string key, int maxPaths = 5) =>
        [.. graph.PathsTo(key, maxPaths).Select(path => path.Select(graph.Label).ToImmutableArray())];
}

/// <summary>A component that was not matched against advisories, and why.</summary>
public sealed record UnmatchedPackage(string Purl, string Reason);

/// <summary>Counts over a report's findings. Severity and kind counts cover active (unsuppressed) findings only.</summary>
/// <param name="Total">Every reported finding, suppressed or not.</param>
/// <param name="Failing">Active findings at level fail.</param>
/// <param name="Warnings">Active findings at level warn.</param>
/// <param name="Suppressed">Findings an ignore entry or a VEX statement applies to.</param>
/// <param name="SuppressedByVex">Of those, the findings a VEX statement applies to.</param>
/// <param name="BySeverity">Active findings per severity, every severity present, most severe first.</param>
/// <param name="ByKind">Active findings per kind, every kind present.</param>
public sealed record ScanSummary(
    int Total,
    int Failing,
    int Warnings,
    int Suppressed,
    ImmutableArray<KeyValuePair<Severity, int>> BySeverity,
    ImmutableArray<KeyValuePair<FindingKind, int>> ByKind,
    int SuppressedByVex = 0)
{
    public static ScanSummary Of(IReadOnlyCollection<ReportedFinding> findings)
    {
        var active = findings.Where(f => f.IsActive).ToList();
        return new ScanSummary(
            findings.Count,
            active.Count(f => f.Level == FindingLevel.Fail),
            active.Count(f => f.Level == FindingLevel.Warn),
            findings.Count - active.Count,
            [.. Enum.GetValues<Severity>().Reverse().Select(s => KeyValuePair.Create(s, active.Count(f => f.Finding.Severity == s)))],
            [.. Enum.GetValues<FindingKind>().Select(k => KeyValuePair.Create(k, active.Count(f => f.Finding.Kind == k)))],
            findings.Count(f => f.Suppression?.Source == SuppressionSource.Vex));
    }
}

/// <summary>
/// Everything a scan report shows: the outcome, the judged findings, the input diagnostics, and what was scanned.
/// The writers (<see cref="ScanJson"/>, <see cref="SarifWriter"/>, <see cref="MarkdownReport"/>) only render it.
/// </summary>
public sealed record ScanReport
{
    public required ScanOutcome Outcome { get; init; }

    /// <summary>The severity from which vulnerabilities fail the scan (<c>failOn</c>).</summary>
    public Severity FailOn { get; init; } = Severity.High;

    /// <summary>Findings, in the order they are shown: fail before warn before info, then by severity, id and package.</summary>
    public ImmutableArray<ReportedFinding> Findings { get; init; } = [];

    /// <summary>Problems reading the inputs.</summary>
    public ImmutableArray<Diagnostic> Diagnostics { get; init; } = [];

    /// <summary>Why the scan is incomplete, in words; empty when everything was checked. Non-empty means <see cref="ScanOutcome.Incomplete"/>.</summary>
    public ImmutableArray<string> Incomplete { get; init; } = [];

    /// <summary>What the advisory check covered; null when advisories were deliberately not checked (<c>--no-advisories</c>).</summary>
    public AdvisoryCoverage? Advisories { get; init; }

    /// <summary>Components deliberately not matched against advisories (private or non-registry source, not pinned).</summary>
    public ImmutableArray<UnmatchedPackage> NotMatched { get; init; } = [];

    /// <summary>The version of the tool that produced the report (SemVer).</summary>
    public required string ToolVersion { get; init; }

    /// <summary>Where users read about the tool (an absolute URL), or null.</summary>
    public string? ToolInformationUri { get; init; }

    /// <summary>The files read, relative to <see cref="SourceRoot"/> where they lie below it.</summary>
    public ImmutableArray<string> ScannedFiles { get; init; } = [];

    /// <summary>The folder the scan started from (absolute); file paths in the report are made relative to it.</summary>
    public string? SourceRoot { get; init; }

    /// <summary>The VEX documents the scan applied (as shown to users); empty when none.</summary>
    public ImmutableArray<string> VexDocuments { get; init; } = [];

    /// <summary>The graph the findings are about: used for dependency paths and for locating components without a location.</summary>
    public DependencyGraph? Graph { get; init; }

    public ScanSummary Summary => ScanSummary.Of(Findings);

    /// <summary>The findings in the order reports show them.</summary>
    public IEnumerable<ReportedFinding> Ordered =>
        Findings.OrderByDescending(f => f.IsActive)
            .ThenByDescending(f => f.Level)
            .ThenByDescending(f => f.Finding.Severity)
            .ThenBy(f => f.Finding.Id, StringComparer.Ordinal)
            .ThenBy(f => f.Finding.Component.Purl.ToString(), StringComparer.Ordinal);
}

public static class ScanNames
{
    /// <summary>
    /// The outcome a report states: incomplete whenever anything could not be checked, whatever the findings say;
    /// otherwise the policy's outcome, and at least a warning when a scanned ecosystem had no advisory records (which,
    /// when it does not make the report incomplete, the policy accepted with <c>missingAdvisories: warn</c>).
    /// </summary>
    public static ScanOutcome Decide(Policy.Outcome policyOutcome, IReadOnlyCollection<string> incomplete, AdvisoryCoverage? coverage) =>
        incomplete.Count > 0 ? ScanOutcome.Incomplete
        : policyOutcome switch
        {
            Policy.Outcome.Fail => ScanOutcome.Fail,
            Policy.Outcome.Warn => ScanOutcome.Warn,
            _ => coverage?.Missing.Any() == true ? ScanOutcome.Warn : ScanOutcome.Pass,
        };

    /// <summary>The reasons a read of inputs left a scan incomplete: unreadable inputs, or none read at all.</summary>
    public static IEnumerable<string> InputProblems(IReadOnlyCollection<Diagnostic> diagnostics, bool anythingRead, string what = "lockfile, manifest or SBOM")
    {
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            var first = errors[0];
            yield return $"{errors.Count} input problem(s), first: {(first.Location is null ? "" : first.Location + ": ")}{first.Message}";
        }
        if (!anythingRead)
        {
            yield return $"nothing was checked: no {what} was read";
        }
    }

    public static string ToName(this ScanOutcome outcome) => outcome.ToString().ToLowerInvariant();

    public static string ToName(this FindingLevel level) => level.ToString().ToLowerInvariant();

    public static string ToName(this FindingKind kind) => kind.ToString().ToLowerInvariant();
}
