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
