using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Policy;

/// <summary>What a known-malicious package version does to the verdict.</summary>
public enum MaliciousAction
{
    Fail,
    Warn,
}

/// <summary>What a scan does when an ecosystem it scans has no records in the advisory database.</summary>
public enum MissingAdvisoriesAction
{
    /// <summary>The scan is incomplete (exit 2): its packages of that ecosystem were not checked.</summary>
    Error,

    /// <summary>The scan warns and goes on.</summary>
    Warn,
}

/// <summary>
/// The policy a scan or the feed enforces, read from <c>tollgate.yaml</c>.
/// Every property has the default a project without a policy file gets; see docs/policy.md.
/// </summary>
public sealed record TollgatePolicy
{
    /// <summary>The default for <see cref="MinimumReleaseAge"/>: three days.</summary>
    public static readonly TimeSpan DefaultMinimumReleaseAge = TimeSpan.FromHours(72);

    /// <summary>The default for <see cref="MaxDatabaseAge"/>: one day.</summary>
    public static readonly TimeSpan DefaultMaxDatabaseAge = TimeSpan.FromHours(24);

    // Declared after the defaults above: static initialisers run in order, and Default reads them.
    /// <summary>The policy used when no file is found.</summary>
    public static TollgatePolicy Default { get; } = new();

    /// <summary>The file the policy was read from, as shown to users; null for the built-in default.</summary>
    public string? Source { get; init; }

    /// <summary>Vulnerabilities of this severity or higher fail; <see cref="Severity.None"/> means none ever fail.</summary>
    public Severity FailOn { get; init; } = Severity.High;

    /// <summary>Whether known-malicious versions fail or warn.</summary>
    public MaliciousAction Malicious { get; init; } = MaliciousAction.Fail;

    /// <summary>Per-rule levels (ids TG1xxx, upper case) that override each rule's default level.</summary>
    public ImmutableSortedDictionary<string, RuleLevel> Rules { get; init; } =
        ImmutableSortedDictionary<string, RuleLevel>.Empty.WithComparers(StringComparer.OrdinalIgnoreCase);

    public RegistryPolicy Registries { get; init; } = RegistryPolicy.Empty;

    /// <summary>Names that belong to the organisation and must never come from a public registry.</summary>
    public ImmutableArray<PackagePattern> Private { get; init; } = [];

    public InstallScriptPolicy InstallScripts { get; init; } = InstallScriptPolicy.Empty;

    /// <summary>Versions published more recently than this are refused by the feed and flagged by a scan. Zero turns the check off.</summary>
    public TimeSpan MinimumReleaseAge { get; init; } = DefaultMinimumReleaseAge;

    /// <summary>Packages the minimum release age does not apply to.</summary>
    public ImmutableArray<PackagePattern> MinimumReleaseAgeExclude { get; init; } = [];

    /// <summary>Packages that are never allowed (each match is a TG1100 finding).</summary>
    public ImmutableArray<PackagePattern> Deny { get; init; } = [];

    /// <summary>Packages accepted as they are: exempt from the deny list, and their findings (except malicious ones) never fail.</summary>
    public ImmutableArray<PackagePattern> Allow { get; init; } = [];

    /// <summary>A scan warns when the advisory database was updated longer ago than this. Zero turns the warning off.</summary>
    public TimeSpan MaxDatabaseAge { get; init; } = DefaultMaxDatabaseAge;

    /// <summary>What an ecosystem without advisory records does to a scan: by default it makes the scan incomplete.</summary>
    public MissingAdvisoriesAction MissingAdvisories { get; init; } = MissingAdvisoriesAction.Error;

    /// <summary>Update types (<c>patch</c>, <c>minor</c>, <c>major</c>) an update proposal may be auto-merged for; empty means none.</summary>
    public ImmutableArray<string> Automerge { get; init; } = ["patch", "minor"];

    /// <summary>Accepted findings, each with a reason and an expiry date.</summary>
    public ImmutableArray<IgnoreEntry> Ignore { get; init; } = [];

    /// <summary>True when the component's name is one of <see cref="Private"/>.</summary>
    public bool IsPrivate(Component component, IVersionRangeMatcher? versions = null) =>
        PackagePattern.FirstMatch(Private, component, versions) is not null;

    /// <summary>True when the component may run install scripts (it is on <c>installScripts.allow</c>).</summary>
    public bool MayRunInstallScripts(Component component, IVersionRangeMatcher? versions = null) =>
        PackagePattern.FirstMatch(InstallScripts.Allow, component, versions) is not null;

    /// <summary>True when the minimum release age does not apply to the component (zero age, or excluded).</summary>
    public bool IsExemptFromReleaseAge(Component component, IVersionRangeMatcher? versions = null) =>
        MinimumReleaseAge <= TimeSpan.Zero || PackagePattern.FirstMatch(MinimumReleaseAgeExclude, component, versions) is not null;

    /// <summary>The allow-list pattern the component matches, or null.</summary>
    public PackagePattern? AllowedBy(Component component, IVersionRangeMatcher? versions = null) =>
        PackagePattern.FirstMatch(Allow, component, versions);

    /// <summary>The deny-list pattern the component matches, or null. The allow list is not consulted here.</summary>
    public PackagePattern? DeniedBy(Component component, IVersionRangeMatcher? versions = null) =>
        PackagePattern.FirstMatch(Deny, component, versions);
}

/// <summary>The <c>registries</c> section.</summary>
public sealed record RegistryPolicy
{
    public static RegistryPolicy Empty { get; } = new();

    /// <summary>Registry base URLs packages may come from. Empty means no registry check is made.</summary>
    public ImmutableArray<Uri> Approved { get; init; } = [];

    /// <summary>
    /// True when <paramref name="url"/> lies under one of the approved base URLs (same scheme, host and port, and the
    /// path starts with the approved path), or when no registry is listed.
    /// </summary>
    public bool IsApproved(string url)
    {
        if (Approved.IsEmpty)
        {
            return true;
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var candidate))
        {
            return false;
        }
        foreach (var approved in Approved)
        {
            if (string.Equals(approved.Scheme, candidate.Scheme, StringComparison.OrdinalIgnoreCase)
                && string.Equals(approved.IdnHost, candidate.IdnHost, StringComparison.OrdinalIgnoreCase)
                && approved.Port == candidate.Port
                && UnderPath(approved.AbsolutePath, candidate.AbsolutePath))
            {
                return true;
            }
        }
        return false;
    }

    private static bool UnderPath(string basePath, string path)
    {
        // "/npm" must not approve "/npm-evil/…": compare whole segments by ending the base with '/'.
        var prefix = basePath.EndsWith('/') ? basePath : basePath + "/";
        return path.StartsWith(prefix, StringComparison.Ordinal) || path == basePath.TrimEnd('/');
    }
}

/// <summary>Whether allowed install scripts may use the network (<c>installScripts.network</c>).</summary>
public enum InstallScriptNetwork
{
    /// <summary>The scripts' sandbox has no network of its own: only its own loopback.</summary>
    Deny,

    /// <summary>The scripts share the machine's network (binary downloads, node-gyp fetching headers).</summary>
    Allow,
}

/// <summary>The <c>installScripts</c> section.</summary>
public sealed record InstallScriptPolicy
{
    public static InstallScriptPolicy Empty { get; } = new();

    /// <summary>Packages whose install scripts may run.</summary>
    public ImmutableArray<PackagePattern> Allow { get; init; } = [];

    /// <summary>Whether those scripts may use the network; denied unless the policy says otherwise.</summary>
    public InstallScriptNetwork Network { get; init; } = InstallScriptNetwork.Deny;
}

/// <summary>
/// One accepted finding: an advisory id, alias or rule id, optionally narrowed to packages, with a reason, an owner
/// and an expiry date after which it stops applying.
/// </summary>
public sealed record IgnoreEntry
{
    /// <summary>The advisory id, one of its aliases (CVE, GHSA, PYSEC…), or a rule id (TG1xxx).</summary>
    public required string Id { get; init; }

    /// <summary>When set, only findings about packages matching this pattern are ignored.</summary>
    public PackagePattern? Package { get; init; }

    public required string Reason { get; init; }

    /// <summary>Who accepted the risk; optional.</summary>
    public string? Owner { get; init; }

    /// <summary>The last day the entry applies; from the next day on it is reported as expired.</summary>
    public required DateOnly Expires { get; init; }

    /// <summary>Where the entry is written in the policy file.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>True when <paramref name="today"/> is after <see cref="Expires"/>.</summary>
    public bool IsExpired(DateOnly today) => today > Expires;

    /// <summary>True when the entry names this finding (by id or alias, ignoring case) and, if narrowed, its package.</summary>
    public bool Matches(Finding finding, IVersionRangeMatcher? versions = null) =>
        finding.AllIds.Any(id => string.Equals(id, Id, StringComparison.OrdinalIgnoreCase))
        && (Package is null || Package.Matches(finding.Component, versions) == true);
}
