using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Risk;

namespace Tollgate.Updates;

/// <summary>Why a dependency gets a proposal, in the order proposals are made and shown.</summary>
public enum ProposalKind
{
    /// <summary>Nothing to propose.</summary>
    None,
    /// <summary>The current version is hit by advisories and the proposal fixes every one of them.</summary>
    Security,
    /// <summary>The version the package manager would pick for the declared range today (the lockfile changes, the manifest does not).</summary>
    InRange,
    /// <summary>A newer version outside the declared range (usually a new major; or past an exact pin): the manifest changes.</summary>
    OutOfRange,
}

/// <summary>How far the proposal moves from the current version.</summary>
public enum UpdateType
{
    None,
    Patch,
    Minor,
    Major,
}

/// <summary>Names as the JSON output and docs spell them.</summary>
public static class UpdateNames
{
    public static string ToName(this UpdateType type) => type.ToString().ToLowerInvariant();

    public static string ToName(this ProposalKind kind) => kind switch
    {
        ProposalKind.Security => "security",
        ProposalKind.InRange => "in-range",
        ProposalKind.OutOfRange => "out-of-range",
        _ => "none",
    };
}

/// <summary>Settings of an update plan.</summary>
public sealed record UpdateSettings
{
    /// <summary>No version younger than this is proposed (security fixes are exempt unless <see cref="StrictAge"/>).</summary>
    public TimeSpan MinimumAge { get; init; } = Policy.TollgatePolicy.DefaultMinimumReleaseAge;

    /// <summary>Apply the release age to security fixes too.</summary>
    public bool StrictAge { get; init; }

    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Update types an auto-merge may take.</summary>
    public ImmutableHashSet<UpdateType> AutomergeTypes { get; init; } = [UpdateType.Patch, UpdateType.Minor];

    /// <summary>The node version npm's engine check uses when picking "wanted"; null checks none.</summary>
    public string? NodeVersion { get; init; }

    /// <summary>Packages the release age does not apply to (the policy's minimumReleaseAgeExclude).</summary>
    public Func<Component, bool>? IsExemptFromAge { get; init; }
}

/// <summary>One direct dependency and what to do about it.</summary>
public sealed record DependencyUpdate
{
    public required Ecosystem Ecosystem { get; init; }
    public required string Name { get; init; }
    public required string Current { get; init; }

    /// <summary>The declared range (package.json spec, requirements specifier, PackageReference version), where known.</summary>
    public string? Range { get; init; }

    /// <summary>The version the package manager picks for the range today (no release age), or null.</summary>
    public string? Wanted { get; init; }

    /// <summary>The newest stable version (npm: the <c>latest</c> tag), or null.</summary>
    public string? Latest { get; init; }

    /// <summary>The version Tollgate proposes, or null when there is nothing to propose.</summary>
    public string? Proposed { get; init; }

    public ProposalKind Kind { get; init; }
    public UpdateType UpdateType { get; init; }

    /// <summary>Advisory ids hitting the current version that the proposal fixes.</summary>
    public ImmutableArray<string> Security { get; init; } = [];

    public bool Automerge { get; init; }

    /// <summary>Every reason for the verdict: what holds, and what stops an auto-merge.</summary>
    public ImmutableArray<string> Reasons { get; init; } = [];

    public ImmutableArray<CompromiseSignal> Signals { get; init; } = [];

    public string? Group { get; init; }

    /// <summary>The manifest that declares the dependency (for --apply), and its line.</summary>
    public SourceLocation? Declared { get; init; }

    /// <summary>The project's authoritative file (lockfile), for --apply.</summary>
    public string? Project { get; init; }

    /// <summary>When the proposed version was published, where known.</summary>
    public DateTimeOffset? ProposedPublished { get; init; }

    public string? ReleaseNotes { get; init; }
}

/// <summary>A vulnerable transitive dependency and how to reach a fixed version.</summary>
/// <param name="Ecosystem">The dependency's ecosystem.</param>
/// <param name="Name">The vulnerable package.</param>
/// <param name="Current">Its locked version.</param>
/// <param name="FixedIn">The lowest version that fixes every advisory, or null when none is known.</param>
/// <param name="Advisories">The advisory ids hitting it.</param>
/// <param name="Via">The direct dependency that pulls it in (the first step of the shortest path).</param>
/// <param name="Advice">Which direct dependency to bump, or which override / resolution / constraint to add.</param>
public sealed record TransitiveFix(Ecosystem Ecosystem, string Name, string Current, string? FixedIn, ImmutableArray<string> Advisories, string Via, string Advice);

/// <summary>Proposals merged into one pull request.</summary>
public sealed record UpdateGroup(string Name, ImmutableArray<string> Members, bool Automerge);

/// <summary>The plan: one entry per direct dependency that has something to say, the transitive fixes, the groups.</summary>
public sealed record UpdatePlan
{
    public ImmutableArray<DependencyUpdate> Updates { get; init; } = [];
    public ImmutableArray<TransitiveFix> Transitive { get; init; } = [];
    public ImmutableArray<UpdateGroup> Groups { get; init; } = [];

    /// <summary>What could not be checked (a registry that did not answer, no advisories): the plan is incomplete.</summary>
    public ImmutableArray<string> Problems { get; init; } = [];

    /// <summary>Notes that do not make the plan incomplete (stale cache use).</summary>
    public ImmutableArray<string> Notes { get; init; } = [];

    /// <summary>Direct dependencies looked at.</summary>
    public int Checked { get; init; }

    /// <summary>True when advisories were checked.</summary>
    public bool AdvisoriesChecked { get; init; }

    public IEnumerable<DependencyUpdate> Proposals => Updates.Where(u => u.Proposed is not null);
}
