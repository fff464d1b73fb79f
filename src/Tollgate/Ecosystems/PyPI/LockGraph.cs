using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>Builds PyPI components with the conventions every reader shares (PEP 503 names, purls, hashes).</summary>
internal static class PyPIComponents
{
    /// <summary>A component; <paramref name="version"/> is kept as the input wrote it.</summary>
    public static Component Create(
        string name,
        string version,
        SourceLocation location,
        Origin? origin = null,
        bool resolved = true,
        DependencyScopes scopes = DependencyScopes.Prod,
        bool direct = false,
        IEnumerable<IntegrityHash>? integrity = null)
    {
        var normal = Component.NormalizePyPIName(name);
        origin ??= Origin.Registry();
        return new Component
        {
            Ecosystem = Ecosystem.PyPI,
            Name = normal,
            Version = version,
            Purl = PackageUrl.For(Ecosystem.PyPI, normal, resolved ? version : null, Qualifiers(origin)),
            Resolved = resolved,
            Scopes = scopes,
            Direct = direct,
            Origin = origin,
            Integrity = [.. (integrity ?? []).Distinct()],
            Locations = [location],
        };
    }

    /// <summary>purl qualifiers for packages that do not come from a registry (package-url: vcs_url, download_url).</summary>
    private static ImmutableSortedDictionary<string, string>? Qualifiers(Origin origin) => origin.Kind switch
    {
        OriginKind.Git when origin.Location is not null => ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [new KeyValuePair<string, string>("vcs_url", origin.Location.StartsWith("git+", StringComparison.Ordinal) ? origin.Location : "git+" + origin.Location)]),
        OriginKind.Url when origin.Location is not null => ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [new KeyValuePair<string, string>("download_url", origin.Location)]),
        _ => null,
    };

    /// <summary>Parses <c>sha256:HEX</c> (the form pip, poetry, uv and pdm write); null when there is no ':'.</summary>
    public static IntegrityHash? ParseHash(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon <= 0 || colon == text.Length - 1 ? null : new IntegrityHash(text[..colon].Trim().ToLowerInvariant(), text[(colon + 1)..].Trim());
    }

    /// <summary>
    /// The version in a wheel or sdist file name (<c>name-1.0-py3-none-any.whl</c>, <c>name-1.0.tar.gz</c>), or null.
    /// Wheel names are fixed by the binary distribution format; sdist names by the source distribution format.
    /// </summary>
    public static string? VersionFromFileName(string urlOrPath, string name)
    {
        var file = urlOrPath;
        var cut = file.IndexOfAny(['#', '?']);
        if (cut >= 0)
        {
            file = file[..cut];
        }
        file = file[(file.LastIndexOfAny(['/', '\\']) + 1)..];
        string stem;
        if (file.EndsWith(".whl", StringComparison.OrdinalIgnoreCase))
        {
            var parts = file[..^4].Split('-');
            return parts.Length >= 5 && Component.NormalizePyPIName(parts[0]) == Component.NormalizePyPIName(name) ? parts[1] : null;
        }
        if (file.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
        {
            stem = file[..^7];
        }
        else if (file.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            stem = file[..^4];
        }
        else
        {
            return null;
        }
        var dash = stem.LastIndexOf('-');
        return dash > 0 && Component.NormalizePyPIName(stem[..dash]) == Component.NormalizePyPIName(name) ? stem[(dash + 1)..] : null;
    }

    /// <summary>
    /// Splits a git URL as pip and uv write it (<c>git+https://host/repo.git@ref#fragment</c>) into the repository
    /// URL and the ref; the ref is null when none is given.
    /// </summary>
    public static (string Repository, string? Ref) SplitVcsUrl(string url)
    {
        var u = url;
        var hash = u.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            u = u[..hash];
        }
        var query = u.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            u = u[..query];
        }
        // The ref follows the last '@' of the path, not the '@' of credentials (user@host).
        var schemeEnd = u.IndexOf("://", StringComparison.Ordinal);
        var pathStart = schemeEnd < 0 ? 0 : u.IndexOf('/', schemeEnd + 3);
        var at = u.LastIndexOf('@');
        if (pathStart > 0 && at > pathStart)
        {
            return (u[..at], u[(at + 1)..]);
        }
        return (u, null);
    }

    /// <summary>The version a direct reference fixes: a wheel or sdist file name's version, or a VCS ref (resolved when it is a commit).</summary>
    public static (string Version, bool Resolved) DirectVersion(string url, string name)
    {
        if (IsVcsUrl(url))
        {
            var (_, reference) = SplitVcsUrl(url);
            return reference is null ? ("*", false) : (reference, reference.Length == 40 && reference.All(char.IsAsciiHexDigit));
        }
        return VersionFromFileName(url, name) is { } v ? (v, true) : ("*", false);
    }

    public static bool IsVcsUrl(string url) =>
        url.StartsWith("git+", StringComparison.OrdinalIgnoreCase) || url.StartsWith("hg+", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith("svn+", StringComparison.OrdinalIgnoreCase) || url.StartsWith("bzr+", StringComparison.OrdinalIgnoreCase);

    /// <summary>The origin of a PEP 508 direct reference: VCS, local file or remote archive.</summary>
    public static Origin OriginOfUrl(string url)
    {
        if (IsVcsUrl(url))
        {
            return new Origin(OriginKind.Git, url);
        }
        if (url.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || !url.Contains("://", StringComparison.Ordinal))
        {
            return new Origin(OriginKind.File, url);
        }
        return new Origin(OriginKind.Url, url);
    }
}

/// <summary>
/// The packages of one lockfile and the dependencies between them, turned into a <see cref="ProjectGraph"/> per root.
/// Scopes either come from the lockfile (poetry groups, Pipfile sections) or are propagated from the root's edges.
/// </summary>
internal sealed class LockGraph
{
    private readonly Dictionary<string, Component> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _children = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Component> Nodes => _nodes;

    /// <summary>Adds a package; a second sighting of the same key is combined with the first.</summary>
    public string Add(Component component)
    {
        var key = component.Key;
        _nodes[key] = _nodes.TryGetValue(key, out var existing) ? GraphMerger.Combine(existing, component) : component;
        return key;
    }

    public void AddEdge(string from, string to)
    {
        if (from == to)
        {
            return;
        }
        if (!_children.TryGetValue(from, out var list))
        {
            _children[from] = list = [];
        }
        if (!list.Contains(to, StringComparer.Ordinal))
        {
            list.Add(to);
        }
    }

    public IReadOnlyList<string> ChildrenOf(string key) => _children.TryGetValue(key, out var list) ? list : [];

    /// <summary>Keys no package depends on: the likely direct dependencies when no manifest says which are.</summary>
    public IReadOnlyList<string> Heads()
    {
        var depended = _children.Values.SelectMany(v => v).ToHashSet(StringComparer.Ordinal);
        return [.. _nodes.Keys.Where(k => !depended.Contains(k)).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The graph seen from one root. <paramref name="direct"/> lists the root's dependencies with the scope of each.
    /// With <paramref name="propagateScopes"/>, a package's scopes are those of the root dependencies it is reached
    /// from; otherwise the scopes recorded on the package are kept. With <paramref name="reachableOnly"/>, packages
    /// the root cannot reach are left out (workspace members each see their own part of a shared lockfile).
    /// </summary>
    public ProjectGraph Build(ProjectRoot root, IEnumerable<(string Key, DependencyScopes Scope)> direct, bool propagateScopes, bool reachableOnly = false)
    {
        var directScopes = new Dictionary<string, DependencyScopes>(StringComparer.Ordinal);
        foreach (var (key, scope) in direct)
        {
            if (_nodes.ContainsKey(key))
            {
                directScopes[key] = directScopes.GetValueOrDefault(key) | scope;
            }
        }
        // Propagate scope sets until nothing grows: a package reached from a prod and a dev root dependency is both.
        var reached = new Dictionary<string, DependencyScopes>(directScopes, StringComparer.Ordinal);
        var work = new Queue<string>(directScopes.Keys);
        while (work.Count > 0)
        {
            var key = work.Dequeue();
            var scopes = reached[key];
            foreach (var child in ChildrenOf(key))
            {
                var before = reached.GetValueOrDefault(child);
                if ((before | scopes) != before || !reached.ContainsKey(child))
                {
                    reached[child] = before | scopes;
                    work.Enqueue(child);
                }
            }
        }

        var components = new List<Component>();
        foreach (var (key, component) in _nodes)
        {
            var isReached = reached.TryGetValue(key, out var scopes);
            if (reachableOnly && !isReached)
            {
                continue;
            }
            components.Add(component with
            {
                Scopes = propagateScopes && isReached && scopes != DependencyScopes.None ? scopes : component.Scopes,
                Direct = directScopes.ContainsKey(key),
            });
        }
        var included = components.Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var edges = new List<DependencyEdge>();
        edges.AddRange(directScopes.Keys.Order(StringComparer.Ordinal).Select(k => new DependencyEdge(root.Key, k)));
        foreach (var (from, children) in _children)
        {
            if (!included.Contains(from))
            {
                continue;
            }
            edges.AddRange(children.Where(included.Contains).Select(to => new DependencyEdge(from, to)));
        }
        return new ProjectGraph(root, [.. components.OrderBy(c => c.Key, StringComparer.Ordinal)], [.. edges]);
    }
}
