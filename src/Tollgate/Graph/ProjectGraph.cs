using System.Collections.Immutable;

namespace Tollgate.Graph;

/// <summary>
/// What one reader produced for one project: its root, the components it pulls in, and the edges
/// (from the root key or a component key to a component key).
/// </summary>
public sealed record ProjectGraph(
    ProjectRoot Root,
    ImmutableArray<Component> Components,
    ImmutableArray<DependencyEdge> Edges);

/// <summary>Merges project graphs into one <see cref="DependencyGraph"/>: components with the same key become one.</summary>
public static class GraphMerger
{
    public static DependencyGraph Merge(IEnumerable<ProjectGraph> projects, IEnumerable<Diagnostic> diagnostics)
    {
        var components = new Dictionary<string, Component>(StringComparer.Ordinal);
        var edges = new List<DependencyEdge>();
        var roots = new List<ProjectRoot>();
        foreach (var project in projects)
        {
            roots.Add(project.Root);
            edges.AddRange(project.Edges);
            foreach (var c in project.Components)
            {
                components[c.Key] = components.TryGetValue(c.Key, out var existing) ? Combine(existing, c) : c;
            }
        }
        return new DependencyGraph(components.Values, edges, roots, diagnostics);
    }

    /// <summary>Two sightings of one component: union of scopes, hashes and locations; direct if either is.</summary>
    public static Component Combine(Component a, Component b) => a with
    {
        Scopes = a.Scopes | b.Scopes,
        Direct = a.Direct || b.Direct,
        Integrity = [.. a.Integrity.Union(b.Integrity)],
        HasInstallScript = a.HasInstallScript == true || b.HasInstallScript == true ? true : a.HasInstallScript ?? b.HasInstallScript,
        License = a.License ?? b.License,
        Locations = [.. a.Locations.Union(b.Locations)],
    };
}
