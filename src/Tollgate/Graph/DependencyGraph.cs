using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Tollgate.Graph;

/// <summary>A project a graph starts from: one manifest or lockfile's own package.</summary>
/// <param name="Key">The node id edges start from (<c>root:</c> plus the authoritative file).</param>
/// <param name="Ecosystem">The ecosystem of the project.</param>
/// <param name="Name">The project's name from its manifest, when it has one.</param>
/// <param name="Version">The project's version from its manifest, when it has one.</param>
/// <param name="AuthoritativeFile">The file whose content decided the graph (the lockfile when there is one).</param>
/// <param name="Files">Every file read for this project.</param>
public sealed record ProjectRoot(
    string Key,
    Ecosystem Ecosystem,
    string? Name,
    string? Version,
    string AuthoritativeFile,
    ImmutableArray<string> Files)
{
    /// <summary>The root key for a project whose authoritative file is <paramref name="file"/>.</summary>
    public static string KeyFor(string file) => "root:" + file;

    public string DisplayName => Name is null ? AuthoritativeFile : (Version is null ? Name : $"{Name}@{Version}");
}

/// <summary>A dependency from a root or component (by key) to a component (by key).</summary>
public sealed record DependencyEdge(string From, string To);

/// <summary>
/// Components, the edges between them and the roots they are reached from, merged over every project read.
/// Built once, then read: lookups are frozen.
/// </summary>
public sealed class DependencyGraph
{
    private readonly FrozenDictionary<string, Component> _byKey;
    private readonly FrozenDictionary<string, ImmutableArray<string>> _parents;
    private readonly FrozenDictionary<string, ImmutableArray<string>> _children;

    public DependencyGraph(
        IEnumerable<Component> components,
        IEnumerable<DependencyEdge> edges,
        IEnumerable<ProjectRoot> roots,
        IEnumerable<Diagnostic>? diagnostics = null)
    {
        Components = [.. components.OrderBy(c => c.Key, StringComparer.Ordinal)];
        Edges = [.. edges.Distinct().OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal)];
        Roots = [.. roots];
        Diagnostics = [.. diagnostics ?? []];
        _byKey = Components.ToFrozenDictionary(c => c.Key, StringComparer.Ordinal);
        _parents = Edges.GroupBy(e => e.To, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(e => e.From).ToImmutableArray(), StringComparer.Ordinal);
        _children = Edges.GroupBy(e => e.From, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(e => e.To).ToImmutableArray(), StringComparer.Ordinal);
    }

    public ImmutableArray<Component> Components { get; }
    public ImmutableArray<DependencyEdge> Edges { get; }
    public ImmutableArray<ProjectRoot> Roots { get; }
    public ImmutableArray<Diagnostic> Diagnostics { get; }

    /// <summary>Every file read, in order.</summary>
    public IEnumerable<string> Files => Roots.SelectMany(r => r.Files).Distinct(StringComparer.Ordinal);

    public Component? Find(string key) => _byKey.GetValueOrDefault(key);

    public bool IsRoot(string key) => Roots.Any(r => r.Key == key);

    /// <summary>
    /// Every path from a root to <paramref name="key"/>, shortest first, each as keys from the root to the component.
    /// Cycles are cut; at most <paramref name="limit"/> paths are returned.
    /// </summary>
    public IReadOnlyList<ImmutableArray<string>> PathsTo(string key, int limit = 1000)
    {
        var results = new List<ImmutableArray<string>>();
        var stack = new List<string> { key };
        var onPath = new HashSet<string>(StringComparer.Ordinal) { key };
        Walk(key);
        return [.. results.OrderBy(p => p.Length).ThenBy(p => string.Join(' ', p), StringComparer.Ordinal)];

        void Walk(string node)
        {
            if (results.Count >= limit)
            {
                return;
            }
            if (!_parents.TryGetValue(node, out var parents))
            {
                if (IsRoot(node))
                {
                    results.Add([.. Enumerable.Reverse(stack)]);
                }
                return;
            }
            foreach (var parent in parents)
            {
                if (!onPath.Add(parent))
                {
                    continue;
                }
                stack.Add(parent);
                Walk(parent);
                stack.RemoveAt(stack.Count - 1);
                onPath.Remove(parent);
            }
        }
    }

    /// <summary>The shortest path from a root to the component, or an empty array when none is known.</summary>
    public ImmutableArray<string> ShortestPathTo(string key)
    {
        // Breadth-first over parents finds the nearest root without enumerating every path.
        var previous = new Dictionary<string, string?>(StringComparer.Ordinal) { [key] = null };
        var queue = new Queue<string>();
        queue.Enqueue(key);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (IsRoot(node))
            {
                var path = new List<string>();
                for (string? n = node; n is not null; n = previous[n])
                {
                    path.Add(n);
                }
                return [.. path];
            }
            if (_parents.TryGetValue(node, out var parents))
            {
                foreach (var parent in parents)
                {
                    if (previous.TryAdd(parent, node))
                    {
                        queue.Enqueue(parent);
                    }
                }
            }
        }
        return [];
    }

    /// <summary>A human label for a node key: the root's display name or the component's name@version.</summary>
    public string Label(string key)
    {
        if (_byKey.TryGetValue(key, out var c))
        {
            return $"{c.Name}@{c.Version}";
        }
        var root = Roots.FirstOrDefault(r => r.Key == key);
        return root?.DisplayName ?? key;
    }

    /// <summary>The children of a node (root or component), by key.</summary>
    public ImmutableArray<string> ChildrenOf(string key) => _children.GetValueOrDefault(key, []);

    /// <summary>
    /// The graph without components used only in development (dev scope and nothing else), and without
    /// their edges. Roots and diagnostics are kept.
    /// </summary>
    public DependencyGraph WithoutDevOnly()
    {
        var kept = Components.Where(c => (c.Scopes & ~DependencyScopes.Dev & ~DependencyScopes.Optional) != 0
            || (c.Scopes & DependencyScopes.Dev) == 0).ToList();
        var keys = kept.Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        return new DependencyGraph(kept, Edges.Where(e => keys.Contains(e.To) && (keys.Contains(e.From) || IsRoot(e.From))), Roots, Diagnostics);
    }

    /// <summary>Components whose name matches in their ecosystem's normal form and, when given, whose version is <paramref name="version"/>.</summary>
    public IEnumerable<Component> FindByName(string name, string? version = null) =>
        Components.Where(c => Component.NormalizeName(c.Ecosystem, c.Name) == Component.NormalizeName(c.Ecosystem, name)
            && (version is null || string.Equals(c.Version, version, StringComparison.OrdinalIgnoreCase)));
}
