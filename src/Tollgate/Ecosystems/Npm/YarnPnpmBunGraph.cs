using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// One entry of a yarn, pnpm or bun lockfile, identified by the key the lockfile itself uses for it
/// (a yarn descriptor, a pnpm snapshot id, a bun package path).
/// </summary>
internal sealed class LockedPackage
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public Origin Origin { get; init; } = Origin.Registry();
    public ImmutableArray<IntegrityHash> Integrity { get; init; } = [];
    public bool? HasInstallScript { get; init; }
    public required SourceLocation Location { get; init; }

    /// <summary>True for workspace members: their own dependencies count as direct ones.</summary>
    public bool IsProject { get; init; }

    /// <summary>Dependencies by target id, with the kind of dependency (prod, dev, optional or peer).</summary>
    public List<(string Target, DependencyScopes Kind)> Dependencies { get; } = [];
}

/// <summary>
/// Turns the entries of a yarn, pnpm or bun lockfile into a <see cref="ProjectGraph"/>: computes each component's
/// scopes by walking from the root's production and development dependencies, merges entries that are the same
/// package version (pnpm peer variants, yarn descriptors), and writes the edges.
/// </summary>
internal sealed class YarnPnpmBunGraph
{
    // A path's state while walking: which kinds of edge it went through.
    private const int DevBit = 1;
    private const int OptionalBit = 2;
    private const int PeerBit = 4;

    private readonly DiagnosticBag _diagnostics;
    private readonly HashSet<string> _unusablePaths = new(StringComparer.Ordinal);
    private readonly List<(string Target, DependencyScopes Kind)> _rootDependencies = [];

    public YarnPnpmBunGraph(string lockfilePath, DiagnosticBag diagnostics)
    {
        _diagnostics = diagnostics;
        LockfileDisplay = InputFile.DisplayPath(lockfilePath);
        LockDirectory = Path.GetDirectoryName(Path.GetFullPath(lockfilePath)) ?? ".";
    }

    /// <summary>The lockfile's path as shown to users.</summary>
    public string LockfileDisplay { get; }

    /// <summary>The full path of the folder holding the lockfile (paths in lockfiles are relative to it).</summary>
    public string LockDirectory { get; }

    /// <summary>Entries by their lockfile id.</summary>
    public Dictionary<string, LockedPackage> Packages { get; } = new(StringComparer.Ordinal);

    public SourceLocation At(int line, int column = 0) => new(LockfileDisplay, line, column);

    /// <summary>
    /// Adds an entry unless one with the same id exists; returns the entry kept. An entry without a usable name is
    /// reported and not added (the one returned is then no part of the graph).
    /// </summary>
    public LockedPackage Add(LockedPackage package)
    {
        if (!PackageNames.Check(Ecosystem.Npm, package.Name, package.Location, _diagnostics))
        {
            return package;
        }
        return Packages.TryAdd(package.Id, package) ? package : Packages[package.Id];
    }

    public void AddRootDependency(string target, DependencyScopes kind) => _rootDependencies.Add((target, kind));

    /// <summary>
    /// The version of a local folder package (<c>file:</c> dependencies) from its package.json; null when it has none.
    /// </summary>
    /// <param name="relativeFolder">The folder as the lockfile writes it.</param>
    /// <param name="at">Where the lockfile names the folder.</param>
    public string? LocalVersion(string relativeFolder, SourceLocation at) =>
        // Problems in a local package's manifest are not problems of the lockfile: read quietly.
        ManifestPath(relativeFolder, at) is { } path ? PackageJson.Read(path, new DiagnosticBag())?.Version : null;

    /// <summary>Reads a workspace member's package.json (relative to the lockfile folder); null when absent or broken.</summary>
    /// <param name="relativeFolder">The folder as the lockfile writes it.</param>
    /// <param name="at">Where the lockfile names the folder.</param>
    public PackageJson? Member(string relativeFolder, SourceLocation at) =>
        ManifestPath(relativeFolder, at) is { } path ? PackageJson.Read(path, _diagnostics) : null;

    /// <summary>
    /// The package.json of a folder named by the lockfile, when it exists inside the lockfile's folder: a lockfile
    /// must not make us read files elsewhere on the machine. A folder no file system can have is an error at <paramref name="at"/>.
    /// </summary>
    private string? ManifestPath(string relativeFolder, SourceLocation at)
    {
        var folder = InputPath.TryResolve(LockDirectory, relativeFolder);
        if (folder is null)
        {
            // Asked again for the same folder (its version, then its manifest): one error is enough.
            if (_unusablePaths.Add(relativeFolder))
            {
                InputPath.Resolve(LockDirectory, relativeFolder, at, _diagnostics);
            }
            return null;
        }
        var inside = folder.Equals(LockDirectory, StringComparison.Ordinal)
            || folder.StartsWith(LockDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        var manifest = Path.Combine(folder, "package.json");
        return inside && File.Exists(manifest) ? manifest : null;
    }

    /// <summary>
    /// Builds the project graph; <paramref name="files"/> are every file read, the lockfile first. The root's name and
    /// version come from the manifest, else from what the lockfile says of its root (<paramref name="lockedName"/>).
    /// </summary>
    public ProjectGraph Build(PackageJson? manifest, IEnumerable<string> files, string? lockedName = null, string? lockedVersion = null)
    {
        var root = new ProjectRoot(
            ProjectRoot.KeyFor(LockfileDisplay),
            Ecosystem.Npm,
            manifest?.Name ?? lockedName,
            manifest is null ? lockedVersion : manifest.Version,
            LockfileDisplay,
            [.. files.Distinct(StringComparer.Ordinal)]);

        var states = Walk();
        var direct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (target, _) in _rootDependencies)
        {
            direct.Add(target);
        }
        foreach (var package in Packages.Values.Where(p => p.IsProject))
        {
            direct.UnionWith(package.Dependencies.Select(d => d.Target));
        }

        // Several entries can be one package version (pnpm peer variants, yarn patches): their walk states are pooled
        // before scopes are computed, so an unreached twin does not add a scope.
        var keyOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var bitsOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var components = new Dictionary<string, Component>(StringComparer.Ordinal);
        foreach (var package in Packages.Values)
        {
            var component = ToComponent(package, direct.Contains(package.Id));
            keyOf[package.Id] = component.Key;
            bitsOf[component.Key] = bitsOf.GetValueOrDefault(component.Key) | states.GetValueOrDefault(package.Id);
            components[component.Key] = components.TryGetValue(component.Key, out var seen) ? GraphMerger.Combine(seen, component) : component;
        }
        foreach (var (key, bits) in bitsOf)
        {
            // Entries no root reaches (stale entries, or every entry when the manifest is missing) are still
            // installed by the package manager, so they are listed, as production: unchecked code is the worse error.
            components[key] = components[key] with { Scopes = ScopesOf(bits) };
        }
        var edges = new List<DependencyEdge>();
        var dangling = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (target, kind) in _rootDependencies)
        {
            AddEdge(root.Key, target, kind, null);
        }
        foreach (var package in Packages.Values)
        {
            foreach (var (target, kind) in package.Dependencies)
            {
                AddEdge(keyOf[package.Id], target, kind, package);
            }
        }
        return new ProjectGraph(root, [.. components.Values.OrderBy(c => c.Key, StringComparer.Ordinal)], [.. edges.Distinct()]);

        void AddEdge(string from, string target, DependencyScopes kind, LockedPackage? source)
        {
            if (keyOf.TryGetValue(target, out var to))
            {
                if (from != to)
                {
                    edges.Add(new DependencyEdge(from, to));
                }
            }
            // Missing optional and peer dependencies are normal: package managers skip optional packages the
            // registry or platform does not offer, and peers are the dependent's to provide.
            else if ((kind & (DependencyScopes.Optional | DependencyScopes.Peer)) == 0 && dangling.Add(target))
            {
                _diagnostics.Warning(DiagnosticIds.DanglingReference,
                    $"'{target}' is a dependency of {(source is null ? "the project" : source.Name + "@" + source.Version)} but has no entry in the lockfile",
                    source?.Location ?? new SourceLocation(LockfileDisplay),
                    "the lockfile is out of date or was edited by hand: run the package manager's install again");
            }
        }
    }

    /// <summary>Every state (a combination of dev, optional and peer bits) each entry is reached in, from the root.</summary>
    private Dictionary<string, int> Walk()
    {
        // The value is a bit set over the 8 path states; walking (entry, state) pairs visits each pair once.
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var queue = new Queue<(string Id, int State)>();
        foreach (var (target, kind) in _rootDependencies)
        {
            Visit(target, Step(0, kind));
        }
        while (queue.Count > 0)
        {
            var (id, state) = queue.Dequeue();
            foreach (var (target, kind) in Packages[id].Dependencies)
            {
                Visit(target, Step(state, kind));
            }
        }
        return seen;

        void Visit(string id, int state)
        {
            if (!Packages.ContainsKey(id))
            {
                return;
            }
            var bits = seen.GetValueOrDefault(id);
            if ((bits & (1 << state)) != 0)
            {
                return;
            }
            seen[id] = bits | (1 << state);
            queue.Enqueue((id, state));
        }
    }

    private static int Step(int state, DependencyScopes kind) => state
        | ((kind & DependencyScopes.Dev) != 0 ? DevBit : 0)
        | ((kind & DependencyScopes.Optional) != 0 ? OptionalBit : 0)
        | ((kind & DependencyScopes.Peer) != 0 ? PeerBit : 0);

    private static DependencyScopes ScopesOf(int stateBits)
    {
        if (stateBits == 0)
        {
            return DependencyScopes.Prod;
        }
        bool any = false, anyProd = false, anyDev = false, allOptional = true, allPeer = true;
        for (var state = 0; state < 8; state++)
        {
            if ((stateBits & (1 << state)) == 0)
            {
                continue;
            }
            any = true;
            anyProd |= (state & DevBit) == 0;
            anyDev |= (state & DevBit) != 0;
            allOptional &= (state & OptionalBit) != 0;
            allPeer &= (state & PeerBit) != 0;
        }
        var scopes = DependencyScopes.None;
        if (anyProd)
        {
            scopes |= DependencyScopes.Prod;
        }
        if (anyDev)
        {
            scopes |= DependencyScopes.Dev;
        }
        if (any && allOptional)
        {
            scopes |= DependencyScopes.Optional;
        }
        if (any && allPeer)
        {
            scopes |= DependencyScopes.Peer;
        }
        return scopes;
    }

    private static Component ToComponent(LockedPackage package, bool direct)
    {
        ImmutableSortedDictionary<string, string>? qualifiers = package.Origin switch
        {
            { Kind: OriginKind.Git, Location: { } url } => Qualifier("vcs_url", url),
            { Kind: OriginKind.Url, Location: { } url } => Qualifier("download_url", url),
            _ => null,
        };
        return new Component
        {
            Ecosystem = Ecosystem.Npm,
            Name = package.Name,
            Version = package.Version,
            Purl = PackageUrl.For(Ecosystem.Npm, package.Name, package.Version, qualifiers),
            Direct = direct,
            Origin = package.Origin,
            Integrity = package.Integrity,
            HasInstallScript = package.HasInstallScript,
            Locations = [package.Location],
        };
    }

    private static ImmutableSortedDictionary<string, string> Qualifier(string key, string value) =>
        ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add(key, value);

    /// <summary>
    /// Splits <c>name@rest</c> at the '@' that ends the name (a scoped name starts with '@'); null when there is none.
    /// </summary>
    public static (string Name, string Reference)? SplitNameAt(string text)
    {
        var at = text.IndexOf('@', text.StartsWith('@') ? 1 : 0);
        return at <= 0 ? null : (text[..at], text[(at + 1)..]);
    }

    /// <summary>The real package name and range of an npm alias spec (<c>npm:real@^1</c>), or null when it is not an alias.</summary>
    public static (string Name, string Range)? NpmAlias(string spec)
    {
        if (!spec.StartsWith("npm:", StringComparison.Ordinal))
        {
            return null;
        }
        var rest = spec[4..];
        var split = SplitNameAt(rest);
        return split is null ? (rest, "*") : (split.Value.Name, split.Value.Reference);
    }

    /// <summary>True when a spec or resolution names a git repository rather than a registry or a tarball.</summary>
    public static bool IsGitSpec(string spec) =>
        spec.StartsWith("git+", StringComparison.Ordinal) || spec.StartsWith("git:", StringComparison.Ordinal)
        || spec.StartsWith("github:", StringComparison.Ordinal) || spec.StartsWith("gitlab:", StringComparison.Ordinal)
        || spec.StartsWith("bitbucket:", StringComparison.Ordinal)
        || spec.StartsWith("ssh://", StringComparison.Ordinal) || spec.Contains(".git#", StringComparison.Ordinal)
        || spec.EndsWith(".git", StringComparison.Ordinal) || spec.Contains("#commit=", StringComparison.Ordinal);

    /// <summary>True when a spec is an http(s) URL.</summary>
    public static bool IsUrl(string spec) =>
        spec.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("http://", StringComparison.OrdinalIgnoreCase);
}
