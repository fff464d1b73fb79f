using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Inventory;

/// <summary>One recorded SBOM of a deployment. The newest snapshot of a deployment is its current one.</summary>
public sealed record DeploymentSnapshot(
    long Id,
    string Deployment,
    string? Version,
    string? Environment,
    DateTimeOffset AddedAt,
    int ComponentCount,
    bool Current);

/// <summary>A component as stored in the inventory.</summary>
public sealed record InventoryComponent(Ecosystem Ecosystem, string Name, string Version, string Purl, bool Direct, DependencyScopes Scopes);

/// <summary>A current deployment that contains a matching component, with the path from its root.</summary>
public sealed record AffectedDeployment(
    string Deployment,
    string? Environment,
    string? Version,
    long SnapshotId,
    InventoryComponent Component,
    ImmutableArray<string> Path);

/// <summary>
/// A package version as snapshots hold it: the component (origin included: a registry package carries the URL it was
/// downloaded from, where the SBOM recorded one) and its row ids. The unit the advisory matcher judges.
/// </summary>
public sealed record InventoryPackage(long ComponentId, long? SourceId, Component Component)
{
    /// <summary>
    /// True when this stands for the component from every registry URL it came from (read without them: the
    /// decision does not depend on the registry when the policy names no private packages).
    /// </summary>
    public bool AnySource { get; init; }
}

/// <summary>Which hits to return: skip <paramref name="Offset"/>, then at most <paramref name="Limit"/> (null: every one).</summary>
public readonly record struct Paging(int Offset = 0, int? Limit = null)
{
    public static Paging All => default;
}

/// <summary>One page of the hits of an "affected" query, in deployment-name order, and how many hits and deployments there are in all.</summary>
public sealed record AffectedPage(IReadOnlyList<AffectedDeployment> Hits, int Total, int Deployments, int Offset)
{
    /// <summary>The offset of the next page, or null when this page is the last.</summary>
    public int? NextOffset => Offset + Hits.Count < Total && Hits.Count > 0 ? Offset + Hits.Count : null;
}

/// <summary>What a rescan found about a package: one advisory as the matcher judged it (its lowest fix first).</summary>
public sealed record HitFinding(string AdvisoryId, Severity Severity, bool Malicious, string? FixedIn, string Summary)
{
    public static HitFinding From(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        return new(finding.Id, finding.Severity, finding.Kind == FindingKind.Malicious, finding.FixedIn.IsDefaultOrEmpty ? null : finding.FixedIn[0], finding.Summary);
    }
}

/// <summary>An advisory hit in a current deployment, with the time a rescan first found it there.</summary>
public sealed record FoundHit(AffectedDeployment Hit, HitFinding Finding, DateTimeOffset FoundAt)
{
    public string AdvisoryId => Finding.AdvisoryId;
}

/// <summary>One page of recorded hits, newest found first, and how many there are in all.</summary>
public sealed record HitsPage(IReadOnlyList<FoundHit> Hits, int Total, int Offset)
{
    /// <summary>The offset of the next page, or null when this page is the last.</summary>
    public int? NextOffset => Offset + Hits.Count < Total && Hits.Count > 0 ? Offset + Hits.Count : null;
}

/// <summary>The recorded hits of one deployment's current snapshot: all, and how many are malicious, critical (not malicious) and high.</summary>
public sealed record HitCounts(int All, int Malicious, int Critical, int High, DateTimeOffset? NewestFoundAt);

/// <summary>
/// One recorded rescan: when, against which version of the advisory database (<see cref="Advisories.AdvisoryStore.DataVersion"/>),
/// of one deployment or (null) all, and what it found (package versions with a hit, new and resolved hits).
/// </summary>
public sealed record RescanRun(DateTimeOffset At, string? DatabaseVersion, string? Deployment, int AffectedPackages, int NewHits, int ResolvedHits);
