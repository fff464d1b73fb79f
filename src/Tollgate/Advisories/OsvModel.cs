using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Advisories;

/// <summary>What an advisory warns about.</summary>
public enum AdvisoryKind
{
    /// <summary>A vulnerability in otherwise legitimate code.</summary>
    Vulnerability,
    /// <summary>A package published to attack its users (OSV <c>MAL-</c> records, GitHub malware advisories).</summary>
    Malicious,
}

/// <summary>The scoring system of a <see cref="SeverityScore"/>, as the OSV <c>severity[].type</c> names it.</summary>
public enum SeverityType
{
    /// <summary><c>CVSS_V2</c>: a CVSS 2.0 vector.</summary>
    CvssV2,
    /// <summary><c>CVSS_V3</c>: a CVSS 3.0 or 3.1 vector (<c>CVSS:3.x/...</c>).</summary>
    CvssV3,
    /// <summary><c>CVSS_V4</c>: a CVSS 4.0 vector (<c>CVSS:4.0/...</c>).</summary>
    CvssV4,
    /// <summary><c>Ubuntu</c>: Ubuntu's priority words (negligible, low, medium, high, critical).</summary>
    Ubuntu,
}

/// <summary>How versions in an <see cref="AdvisoryRange"/> are ordered (OSV <c>ranges[].type</c>).</summary>
public enum RangeType
{
    /// <summary><c>SEMVER</c>: SemVer 2.0 ordering, whatever the ecosystem.</summary>
    Semver,
    /// <summary><c>ECOSYSTEM</c>: the ecosystem's own ordering (PEP 440, npm semver, NuGet).</summary>
    Ecosystem,
    /// <summary><c>GIT</c>: commit hashes of <see cref="AdvisoryRange.Repo"/>; not comparable with package versions.</summary>
    Git,
}

/// <summary>The meaning of a <see cref="RangeEvent"/> (OSV <c>events[]</c> keys).</summary>
public enum RangeEventKind
{
    /// <summary><c>introduced</c>: versions from this one on are affected (<c>"0"</c> means from the first version).</summary>
    Introduced,
    /// <summary><c>fixed</c>: this version and later ones are not affected.</summary>
    Fixed,
    /// <summary><c>last_affected</c>: this version is the last affected one (inclusive).</summary>
    LastAffected,
    /// <summary><c>limit</c>: an upper bound on the range search, mostly for git ranges.</summary>
    Limit,
}

/// <summary>A severity as the advisory states it: a CVSS vector or an Ubuntu priority, uncomputed.</summary>
public sealed record SeverityScore(SeverityType Type, string Score);

/// <summary>One event of a range: the version where something changes.</summary>
public sealed record RangeEvent(RangeEventKind Kind, string Version);

/// <summary>A range of affected versions, described by its events in the OSV way.</summary>
public sealed record AdvisoryRange
{
    public required RangeType Type { get; init; }

    /// <summary>The repository of a <see cref="RangeType.Git"/> range.</summary>
    public string? Repo { get; init; }

    /// <summary>The events, in the order the record lists them.</summary>
    public ImmutableArray<RangeEvent> Events { get; init; } = [];

    /// <summary>The range's <c>database_specific</c> object as raw JSON text, or null.</summary>
    public string? DatabaseSpecific { get; init; }

    /// <summary>A range of the given type with these events (tests and hand-built records).</summary>
    public static AdvisoryRange Of(RangeType type, ImmutableArray<RangeEvent> events) => new() { Type = type, Events = events };
}

/// <summary>One package an advisory affects, in one of the supported ecosystems.</summary>
public sealed record AffectedPackage
{
    public required Ecosystem Ecosystem { get; init; }

    /// <summary>The name as the record writes it (it may differ in case from the registry's spelling).</summary>
    public required string Name { get; init; }

    /// <summary>The ecosystem's comparison form of <see cref="Name"/> (<see cref="Component.NormalizeName"/>).</summary>
    public required string NormalizedName { get; init; }

    public string? Purl { get; init; }

    /// <summary>Severities that apply to this package only.</summary>
    public ImmutableArray<SeverityScore> Severity { get; init; } = [];

    public ImmutableArray<AdvisoryRange> Ranges { get; init; } = [];

    /// <summary>Versions listed one by one (OSV <c>versions</c>); affected whatever the ranges say.</summary>
    public ImmutableArray<string> Versions { get; init; } = [];

    /// <summary>The <c>ecosystem_specific</c> object as raw JSON text, or null.</summary>
    public string? EcosystemSpecific { get; init; }

    /// <summary>The <c>database_specific</c> object as raw JSON text, or null.</summary>
    public string? DatabaseSpecific { get; init; }
}

/// <summary>A reference link of an advisory (OSV <c>references[]</c>).</summary>
public sealed record AdvisoryReference(string Type, string Url);

/// <summary>A person or organisation credited by an advisory (OSV <c>credits[]</c>).</summary>
public sealed record AdvisoryCredit(string Name, string? Type, ImmutableArray<string> Contact);

/// <summary>
/// An OSV record, mapped from the wire format. Only affected packages of the supported ecosystems
/// (npm, PyPI, NuGet) are kept; the full record stays in the advisory database.
/// </summary>
public sealed record Advisory
{
    public required string Id { get; init; }

    public required AdvisoryKind Kind { get; init; }

    public required DateTimeOffset Modified { get; init; }

    public DateTimeOffset? Published { get; init; }

    /// <summary>When the record was withdrawn; a withdrawn advisory should no longer produce findings.</summary>
    public DateTimeOffset? Withdrawn { get; init; }

    public bool IsWithdrawn => Withdrawn is not null;

    /// <summary>The OSV schema version the record declares, or null (meaning 1.0.0).</summary>
    public string? SchemaVersion { get; init; }

    /// <summary>Other ids of the same vulnerability (CVE, GHSA, PYSEC ...).</summary>
    public ImmutableArray<string> Aliases { get; init; } = [];

    /// <summary>Ids of closely related but different vulnerabilities.</summary>
    public ImmutableArray<string> Related { get; init; } = [];

    /// <summary>Ids of the upstream vulnerabilities this one derives from.</summary>
    public ImmutableArray<string> Upstream { get; init; } = [];

    public string? Summary { get; init; }

    public string? Details { get; init; }

    /// <summary>Severities of the whole advisory (vectors as given; scoring is done elsewhere).</summary>
    public ImmutableArray<SeverityScore> Severity { get; init; } = [];

    /// <summary>
    /// The severity word of the source database, when it gives one: GitHub's <c>database_specific.severity</c>
    /// (<c>LOW</c>, <c>MODERATE</c>, <c>HIGH</c>, <c>CRITICAL</c>).
    /// </summary>
    public string? DatabaseSeverity { get; init; }

    /// <summary>CWE ids from <c>database_specific.cwe_ids</c> (GitHub records).</summary>
    public ImmutableArray<string> CweIds { get; init; } = [];

    public ImmutableArray<AffectedPackage> Affected { get; init; } = [];

    public ImmutableArray<AdvisoryReference> References { get; init; } = [];

    public ImmutableArray<AdvisoryCredit> Credits { get; init; } = [];

    /// <summary>The top-level <c>database_specific</c> object as raw JSON text, or null.</summary>
    public string? DatabaseSpecific { get; init; }

    /// <summary>The affected entries for one package, by its normalised name.</summary>
    public IEnumerable<AffectedPackage> AffectedFor(Ecosystem ecosystem, string name)
    {
        var normal = Component.NormalizeName(ecosystem, name);
        return Affected.Where(a => a.Ecosystem == ecosystem && string.Equals(a.NormalizedName, normal, StringComparison.Ordinal));
    }
}
