using System.Collections.Immutable;
using NuGet.Versioning;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// Collects the components and edges of one NuGet project while a file is read, then works out scopes:
/// a package reached only through <c>PrivateAssets="all"</c> references is development-only.
/// </summary>
internal sealed class NuGetGraphBuilder(string rootKey)
{
    private readonly Dictionary<string, Component> _components = new(StringComparer.Ordinal);
    private readonly HashSet<DependencyEdge> _edges = [];
    // Direct dependencies and whether every declaration of them is development-only.
    private readonly Dictionary<string, bool> _direct = new(StringComparer.Ordinal);

    public string RootKey { get; } = rootKey;

    public int Count => _components.Count;

    /// <summary>Adds a component, merging it with an earlier sighting (another target framework) of the same key.</summary>
    public string Add(Component component)
    {
        _components[component.Key] = _components.TryGetValue(component.Key, out var existing)
            ? GraphMerger.Combine(existing, component)
            : component;
        return component.Key;
    }

    public void AddEdge(string from, string to)
    {
        if (from != to)
        {
            _edges.Add(new DependencyEdge(from, to));
        }
    }

    /// <summary>Marks a component as a direct dependency of the root; <paramref name="dev"/> when declared with private assets.</summary>
    public void AddDirect(string key, bool dev, SourceLocation? declaredAt = null)
    {
        _direct[key] = _direct.TryGetValue(key, out var wasDev) ? wasDev && dev : dev;
        AddEdge(RootKey, key);
        if (_components.TryGetValue(key, out var c))
        {
            _components[key] = c with
            {
                Direct = true,
                Locations = declaredAt is null || c.Locations.Contains(declaredAt) ? c.Locations : c.Locations.Insert(0, declaredAt),
            };
        }
    }

    public bool Contains(string key) => _components.ContainsKey(key);

    /// <summary>Whether any version of the package (any origin) was added, names compared as NuGet does.</summary>
    public bool HasName(string id) => _components.Values.Any(c => string.Equals(c.Name, id, StringComparison.OrdinalIgnoreCase));

    public ProjectGraph Build(ProjectRoot root)
    {
        var children = _edges.GroupBy(e => e.From, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.To).ToList(), StringComparer.Ordinal);
        var prod = Reach(_direct.Where(d => !d.Value).Select(d => d.Key), children);
        var dev = Reach(_direct.Where(d => d.Value).Select(d => d.Key), children);
        var components = _components.Values.Select(c => c with
        {
            // Reachable from a normal reference: shipped. Only from private-asset references: build-time only.
            Scopes = prod.Contains(c.Key) || !dev.Contains(c.Key) ? DependencyScopes.Prod : DependencyScopes.Dev,
        });
        return new ProjectGraph(root, [.. components], [.. _edges]);
    }

    private static HashSet<string> Reach(IEnumerable<string> start, Dictionary<string, List<string>> children)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>(start);
        while (queue.Count > 0)
        {
            var key = queue.Dequeue();
            if (!seen.Add(key))
            {
                continue;
            }
            foreach (var child in children.GetValueOrDefault(key) ?? [])
            {
                queue.Enqueue(child);
            }
        }
        return seen;
    }

    /// <summary>A registry package at a resolved version.</summary>
    public static Component Package(string id, string version, SourceLocation? location, ImmutableArray<IntegrityHash> integrity = default)
    {
        var normal = NormalizeVersion(version);
        return new Component
        {
            Ecosystem = Ecosystem.NuGet,
            Name = id,
            Version = normal,
            Purl = PackageUrl.For(Ecosystem.NuGet, id, normal),
            Integrity = integrity.IsDefault ? [] : integrity,
            Locations = location is null ? [] : [location],
        };
    }

    /// <summary>A package known only by the range a manifest declares: no pin, so the purl has no version.</summary>
    public static Component Unresolved(string id, string range, SourceLocation location, bool direct) => new()
    {
        Ecosystem = Ecosystem.NuGet,
        Name = id,
        Version = range,
        Purl = PackageUrl.For(Ecosystem.NuGet, id, null),
        Resolved = false,
        Direct = direct,
        Locations = [location],
    };

    /// <summary>Another project of the same solution, reached through a ProjectReference.</summary>
    public static Component Project(string name, string version, string location, SourceLocation? declaredAt) => new()
    {
        Ecosystem = Ecosystem.NuGet,
        Name = name,
        Version = NormalizeVersion(version),
        Purl = PackageUrl.For(Ecosystem.NuGet, name, NormalizeVersion(version)),
        Origin = new Origin(OriginKind.Workspace, location),
        Locations = declaredAt is null ? [] : [declaredAt],
    };

    /// <summary>NuGet's normal form (<c>1.0</c> and <c>1.0.0.0</c> are <c>1.0.0</c>); text that is not a version is kept.</summary>
    public static string NormalizeVersion(string version) =>
        NuGetVersion.TryParse(version.Trim(), out var parsed) ? parsed.ToNormalizedString() : version.Trim();

    /// <summary>The target framework of a lock or assets section: <c>net8.0/linux-x64</c> belongs to <c>net8.0</c>.</summary>
    public static string BaseFramework(string target)
    {
        var slash = target.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? target : target[..slash];
    }
}
