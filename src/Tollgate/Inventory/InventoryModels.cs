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

/// <summary>A package version present in at least one current deployment (the unit of re-matching).</summary>
public sealed record InventoryPackage(Ecosystem Ecosystem, string Name, string Version);
