using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Sbom;

public enum ChangeKind
{
    Added,
    Removed,
    Upgraded,
    Downgraded,
    Changed,
}

/// <summary>One package whose presence or version differs between two graphs.</summary>
public sealed record PackageChange(
    ChangeKind Kind,
    Ecosystem Ecosystem,
    string Name,
    ImmutableArray<string> OldVersions,
    ImmutableArray<string> NewVersions);

/// <summary>
/// Compares two dependency graphs (from SBOMs of any format, or lockfiles) by package: added, removed, and
/// version changes, judged up or down by the ecosystem's own version order.
/// </summary>
public static class SbomDiff
{
    /// <summary>Compares with each ecosystem's version scheme (<see cref="Ecosystems.VersionSchemes"/>).</summary>
    public static ImmutableArray<PackageChange> Compare(DependencyGraph oldGraph, DependencyGraph newGraph) =>
        Compare(oldGraph, newGraph, EcosystemOrder);

    /// <summary>Orders two versions by the ecosystem's version scheme; null when either does not parse.</summary>
    public static int? EcosystemOrder(Ecosystem ecosystem, string left, string right)
    {
        var scheme = Ecosystems.VersionSchemes.For(ecosystem);
        return scheme.TryParse(left, out var l) && scheme.TryParse(right, out var r) ? scheme.Compare(l, r) : null;
    }

    /// <param name="oldGraph">The earlier deployment.</param>
    /// <param name="newGraph">The later deployment.</param>
    /// <param name="compare">Compares two versions of an ecosystem; null when a version does not parse.</param>
    public static ImmutableArray<PackageChange> Compare(DependencyGraph oldGraph, DependencyGraph newGraph, Func<Ecosystem, string, string, int?> compare)
    {
        var before = Index(oldGraph);
        var after = Index(newGraph);
        var changes = new List<PackageChange>();
        foreach (var (key, (eco, name, versions)) in after)
        {
            if (!before.TryGetValue(key, out var old))
            {
                changes.Add(new PackageChange(ChangeKind.Added, eco, name, [], versions));
            }
            else if (!old.Versions.SequenceEqual(versions))
            {
                changes.Add(new PackageChange(Direction(eco, old.Versions, versions, compare), eco, name, old.Versions, versions));
            }
        }
        foreach (var (key, (eco, name, versions)) in before)
        {
            if (!after.ContainsKey(key))
            {
                changes.Add(new PackageChange(ChangeKind.Removed, eco, name, versions, []));
            }
        }
        return [.. changes.OrderBy(c => c.Ecosystem).ThenBy(c => c.Name, StringComparer.OrdinalIgnoreCase)];
    }

    private static ChangeKind Direction(Ecosystem eco, ImmutableArray<string> old, ImmutableArray<string> now, Func<Ecosystem, string, string, int?> compare)
    {
        // Compare the highest version on each side: the one a reader of the diff cares about.
        var oldMax = Max(eco, old, compare);
        var newMax = Max(eco, now, compare);
        var order = oldMax is null || newMax is null ? null : compare(eco, oldMax, newMax);
        return order switch
        {
            < 0 => ChangeKind.Upgraded,
            > 0 => ChangeKind.Downgraded,
            _ => ChangeKind.Changed,
        };
    }

    private static string? Max(Ecosystem eco, ImmutableArray<string> versions, Func<Ecosystem, string, string, int?> compare)
    {
        string? max = null;
        foreach (var v in versions)
        {
            if (max is null)
            {
                max = v;
                continue;
            }
            var order = compare(eco, max, v);
            if (order is null)
            {
                return null;
            }
            if (order < 0)
            {
                max = v;
            }
        }
        return max;
    }

    private static Dictionary<string, (Ecosystem Ecosystem, string Name, ImmutableArray<string> Versions)> Index(DependencyGraph graph) =>
        graph.Components
            .GroupBy(c => c.Ecosystem.ToOsvName() + "/" + Component.NormalizeName(c.Ecosystem, c.Name), StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => (g.First().Ecosystem, g.First().Name, g.Select(c => c.Version).Distinct().Order(StringComparer.Ordinal).ToImmutableArray()),
                StringComparer.Ordinal);
}

/// <summary>An advisory finding present on one side of a diff only: the advisory id and the package version it hits.</summary>
public sealed record FindingChange(Finding Finding)
{
    public string Key => FindingKey(Finding);

    internal static string FindingKey(Finding f) =>
        f.Id + " " + f.Component.Ecosystem.ToOsvName() + "/" + Component.NormalizeName(f.Component.Ecosystem, f.Component.Name) + "@" + f.Component.Version;
}

/// <summary>The whole comparison of two deployments: package changes, and (when an advisory database was read) findings.</summary>
/// <param name="Changes">Added, removed, upgraded and downgraded packages.</param>
/// <param name="NewFindings">Findings of the new graph that the old one did not have; null when no database was read.</param>
/// <param name="ResolvedFindings">Findings of the old graph that the new one no longer has; null when no database was read.</param>
public sealed record SbomDiffResult(
    ImmutableArray<PackageChange> Changes,
    ImmutableArray<FindingChange>? NewFindings,
    ImmutableArray<FindingChange>? ResolvedFindings)
{
    public int Count(ChangeKind kind) => Changes.Count(c => c.Kind == kind);
}

/// <summary>Compares advisory findings of two graphs by advisory id and package version.</summary>
public static class FindingDiff
{
    /// <summary>
    /// Findings only in <paramref name="newFindings"/> (new) and only in <paramref name="oldFindings"/> (resolved).
    /// A finding whose package version is in both is the same finding; an upgrade that still matches the
    /// advisory shows as resolved for the old version and new for the new one.
    /// </summary>
    public static (ImmutableArray<FindingChange> New, ImmutableArray<FindingChange> Resolved) Compare(IEnumerable<Finding> oldFindings, IEnumerable<Finding> newFindings)
    {
        var before = oldFindings.Where(f => f.Kind != FindingKind.Signal).GroupBy(FindingChange.FindingKey, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var after = newFindings.Where(f => f.Kind != FindingKind.Signal).GroupBy(FindingChange.FindingKey, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return (Sorted(after.Where(kv => !before.ContainsKey(kv.Key)).Select(kv => kv.Value)),
                Sorted(before.Where(kv => !after.ContainsKey(kv.Key)).Select(kv => kv.Value)));
    }

    private static ImmutableArray<FindingChange> Sorted(IEnumerable<Finding> findings) =>
        [.. findings.OrderByDescending(f => f.Severity).ThenBy(f => f.Id, StringComparer.Ordinal).ThenBy(f => f.Component.Key, StringComparer.Ordinal).Select(f => new FindingChange(f))];
}
