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
/// Built once, then read; nothing writes the lookups after construction.
/// </summary>
public sealed class DependencyGraph
{
    // Plain dictionaries: a graph is read a few thousand times at most, and building a FrozenDictionary costs more
    // than the lookups it would save.
    private readonly Dictionary<string, Component> _byKey;
    private readonly Dictionary<string, ImmutableArray<string>> _parents;
    private readonly Dictionary<string, ImmutableArray<string>> _children;
    private readonly Lazy<Dictionary<string, int>> _depths;
    private readonly Lazy<HashSet<string>> _rootKeys;

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
        _byKey = new Dictionary<string, Component>(Components.Length, StringComparer.Ordinal);
        foreach (var c in Components)
        {
            _byKey[c.Key] = c;
        }
        _parents = Group(Edges, byTarget: true);
        _children = Group(Edges, byTarget: false);
        _depths = new Lazy<Dictionary<string, int>>(ComputeDepths);
        _rootKeys = new Lazy<HashSet<string>>(() => Roots.Select(r => r.Key).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Edges grouped by one end, the other ends in edge order (as GroupBy would keep them).</summary>
    private static Dictionary<string, ImmutableArray<string>> Group(ImmutableArray<DependencyEdge> edges, bool byTarget)
    {
        var lists = new Dictionary<string, ImmutableArray<string>.Builder>(StringComparer.Ordinal);
        foreach (var e in edges)
        {
            var (key, other) = byTarget ? (e.To, e.From) : (e.From, e.To);
            if (!lists.TryGetValue(key, out var list))
            {
                lists[key] = list = ImmutableArray.CreateBuilder<string>();
            }
            list.Add(other);
        }
        var result = new Dictionary<string, ImmutableArray<string>>(lists.Count, StringComparer.Ordinal);
        foreach (var (key, list) in lists)
        {
            result[key] = list.DrainToImmutable();
        }
        return result;
    }

    public ImmutableArray<Component> Components { get; }
    public ImmutableArray<DependencyEdge> Edges { get; }
    public ImmutableArray<ProjectRoot> Roots { get; }
    public ImmutableArray<Diagnostic> Diagnostics { get; }

    /// <summary>Every file read, in order.</summary>
    public IEnumerable<string> Files => Roots.SelectMany(r => r.Files).Distinct(StringComparer.Ordinal);

    public Component? Find(string key) => _byKey.GetValueOrDefault(key);

    public bool IsRoot(string key) => _rootKeys.Value.Contains(key);

    /// <summary>
    /// Every path from a root to <paramref name="key"/>, shortest first, each as keys from the root to the component.
    /// Cycles are cut; at most <paramref name="limit"/> paths are returned.
    /// </summary>
    public IReadOnlyList<ImmutableArray<string>> PathsTo(string key, int limit = 1000)
    {
        // Best-first over parents, ordered by the length so far plus the exact distance from the nearest root
        // (a breadth-first pass from the roots, once per graph): paths come out shortest first, so the first
        // `limit` found are the `limit` shortest, and a component reached by millions of paths costs only those.
        var depth = _depths.Value;
        var results = new List<ImmutableArray<string>>();
        if (limit <= 0 || !depth.TryGetValue(key, out var toRoot))
        {
            return results;
        }
        var queue = new PriorityQueue<PartialPath, (int Length, long Order)>();
        long order = 0;
        queue.Enqueue(new PartialPath(key, null, 1), (1 + toRoot, order++));
        while (queue.Count > 0 && results.Count < limit)
        {
            var partial = queue.Dequeue();
            if (IsRoot(partial.Node))
            {
                // The list runs from this root down to the component.
                var path = ImmutableArray.CreateBuilder<string>(partial.Length);
                for (var p = partial; p is not null; p = p.Next)
                {
                    path.Add(p.Node);
                }
                results.Add(path.MoveToImmutable());
                continue;
            }
            if (!_parents.TryGetValue(partial.Node, out var parents))
            {
                continue;
            }
            foreach (var parent in parents)
            {
                if (depth.TryGetValue(parent, out var parentToRoot) && !partial.Contains(parent))
                {
                    queue.Enqueue(new PartialPath(parent, partial, partial.Length + 1), (partial.Length + 1 + parentToRoot, order++));
                }
            }
        }
        return [.. results.OrderBy(p => p.Length).ThenBy(p => string.Join(' ', p), StringComparer.Ordinal)];
    }

    /// <summary>A path being extended towards a root: its top node, and the rest of it down to the component.</summary>
    private sealed record PartialPath(string Node, PartialPath? Next, int Length)
    {
        public bool Contains(string key)
        {
            for (var p = this; p is not null; p = p.Next)
            {
                if (string.Equals(p.Node, key, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>For every node reachable from a root: the number of edges on its shortest path from one.</summary>
    private Dictionary<string, int> ComputeDepths()
    {
        var depth = new Dictionary<string, int>(Components.Length + Roots.Length, StringComparer.Ordinal);
        var queue = new Queue<string>();
        foreach (var root in Roots)
        {
            if (depth.TryAdd(root.Key, 0))
            {
                queue.Enqueue(root.Key);
            }
        }
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (_children.TryGetValue(node, out var children))
            {
                foreach (var child in children)
                {
                    if (depth.TryAdd(child, depth[node] + 1))
                    {
                        queue.Enqueue(child);
                    }
                }
            }
        }
        return depth;
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
