using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// Reads package-lock.json and npm-shrinkwrap.json (lockfileVersion 1, 2 and 3) into a project graph.
/// </summary>
/// <remarks>
/// <para>Versions 2 and 3 list every installed folder in <c>packages</c>, keyed by its path
/// (<c>node_modules/a/node_modules/b</c>); version 1 nests <c>dependencies</c> objects the same way and names what
/// each package needs in <c>requires</c>. Both are turned into the same list of entries keyed by node_modules path,
/// and every dependency is resolved the way Node resolves a <c>require</c>: the nearest <c>node_modules/NAME</c>
/// from the dependent's own folder up to the project root. Version 2 carries both forms; <c>packages</c> wins.</para>
/// <para>Workspace members (folders matched by the root's <c>workspaces</c> globs, linked from
/// <c>node_modules/NAME</c>) are components with a <see cref="OriginKind.Workspace"/> origin that the root depends
/// on, as <c>npm ls</c> shows them. Their dependencies, dev dependencies included, count as direct: they are
/// declared in the project's own manifests.</para>
/// </remarks>
public static class PackageLockReader
{
    private static readonly ImmutableArray<long> SupportedVersions = [1, 2, 3];

    /// <summary>Reads a lockfile; <paramref name="manifest"/> is the package.json beside it, when there is one.</summary>
    /// <returns>The project graph, or null (with diagnostics) when the file could not be read.</returns>
    public static ProjectGraph? Read(string lockfilePath, PackageJson? manifest, DiagnosticBag diagnostics)
    {
        var root = LocatedJson.ParseFile(lockfilePath, diagnostics);
        if (root is null)
        {
            return null;
        }
        var file = InputFile.DisplayPath(lockfilePath);
        var directory = Path.GetDirectoryName(Path.GetFullPath(lockfilePath)) ?? ".";
        return new Reading(file, directory, manifest, diagnostics).Read(root);
    }

    private enum DependencyKind
    {
        Required,
        Optional,
        Peer,
        PeerOptional,
        Dev,
    }

    private sealed record Declared(string Name, string Spec, DependencyKind Kind, SourceLocation Location);

    /// <summary>One installed folder (or a link to one) of the lockfile.</summary>
    private sealed class Entry(string path, JsonNode node)
    {
        public string Path { get; } = path;
        public JsonNode Node { get; } = node;
        public string? LinkTarget { get; init; }
        public Component? Component { get; set; }
        public bool IsWorkspace { get; init; }
        public bool IsOptional { get; init; }
        public List<Declared> Dependencies { get; } = [];
    }

    private sealed class Reading(string file, string directory, PackageJson? manifest, DiagnosticBag diagnostics)
    {
        private readonly Dictionary<string, Entry> _byPath = new(StringComparer.Ordinal);
        private char[] _candidate = new char[256];
        private readonly List<Declared> _rootDependencies = [];
        private WorkspacePatterns _workspaces = new(manifest?.Workspaces ?? []);
        private string? _rootName;
        private string? _rootVersion;
        private bool _rootEntryRead;

        public ProjectGraph? Read(JsonNode root)
        {
            if (!root.IsObject)
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, $"expected a JSON object at the top of the lockfile, found {Describe(root)}",
                    root.LocationIn(file), "is this really a package-lock.json?");
                return null;
            }
            var versionNode = root["lockfileVersion"];
            var packages = root["packages"];
            var dependencies = root["dependencies"];
            long version;
            if (versionNode is null && packages is null && dependencies is null)
            {
                // '{}' or another object without anything npm writes: passing it would pass a project that was not checked.
                diagnostics.Error(DiagnosticIds.UnexpectedShape, "no lockfileVersion, 'packages' or 'dependencies': this is not a lockfile npm wrote",
                    root.LocationIn(file), "the file is damaged or a placeholder: regenerate it with npm install --package-lock-only");
                return null;
            }
            if (versionNode is null)
            {
                version = packages is not null ? 3 : 1;
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"no lockfileVersion; read as version {version}",
                    root.LocationIn(file), "npm writes lockfileVersion in every lockfile: was this one edited by hand?");
            }
            else if (root.GetInt64("lockfileVersion") is { } v)
            {
                version = v;
            }
            else
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, $"lockfileVersion should be a number, found {Describe(versionNode)}",
                    versionNode.LocationIn(file), "npm writes 1, 2 or 3");
                return null;
            }
            if (!SupportedVersions.Contains(version))
            {
                diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"lockfileVersion {version} is not supported",
                    (versionNode ?? root).LocationIn(file),
                    "this release reads lockfileVersion 1, 2 and 3 (npm 5 to npm 11); regenerate the lockfile with one of those npm versions");
                return null;
            }

            _rootName = manifest?.Name ?? root.GetString("name");
            _rootVersion = manifest?.Version ?? root.GetString("version");

            var read = false;
            if (version >= 2 && packages is not null)
            {
                if (packages.IsObject)
                {
                    ReadPackages(packages);
                    read = true;
                }
                else
                {
                    diagnostics.Error(DiagnosticIds.UnexpectedShape,
                        $"'packages' should be an object keyed by install path, found {Describe(packages)}",
                        packages.LocationIn(file), "the lockfile is damaged: regenerate it with npm install --package-lock-only");
                    if (version >= 3)
                    {
                        return null;
                    }
                }
            }
            else if (version >= 3)
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, $"lockfileVersion {version} needs a 'packages' object",
                    root.LocationIn(file), "the lockfile is damaged: regenerate it with npm install --package-lock-only");
                return null;
            }

            if (!read)
            {
                if (dependencies is null)
                {
                    // A lockfile of a project with no dependencies at all.
                    ReadRootFromManifest();
                }
                else if (!dependencies.IsObject)
                {
                    diagnostics.Error(DiagnosticIds.UnexpectedShape,
                        $"'dependencies' should be an object keyed by package name, found {Describe(dependencies)}",
                        dependencies.LocationIn(file), "the lockfile is damaged: regenerate it with npm install --package-lock-only");
                    return null;
                }
                else
                {
                    ReadNested(dependencies, "", parentOptional: false);
                    ReadRootFromManifest();
                }
            }
            return Build();
        }

        private void ReadPackages(JsonNode packages)
        {
            var rootEntry = packages[""];
            if (rootEntry is { IsObject: true })
            {
                _rootName = manifest?.Name ?? rootEntry.GetString("name") ?? _rootName;
                _rootVersion = manifest?.Version ?? rootEntry.GetString("version") ?? _rootVersion;
                var patterns = new List<string>();
                var ws = rootEntry["workspaces"];
                foreach (var item in (ws is { IsObject: true } ? ws["packages"] : ws)?.Items ?? [])
                {
                    if (item.Text is { Length: > 0 } pattern)
                    {
                        patterns.Add(pattern);
                    }
                }
                if (patterns.Count > 0)
                {
                    _workspaces = new WorkspacePatterns(patterns);
                }
                AddDeclared(_rootDependencies, rootEntry, includeDev: true);
                _rootEntryRead = true;
            }
            else
            {
                ReadRootFromManifest();
            }

            var extraneous = new List<(string Path, JsonNode Node)>();
            foreach (var (path, node) in packages.Properties)
            {
                if (path.Length == 0)
                {
                    continue;
                }
                if (!node.IsObject)
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"entry '{path}' should be an object, found {Describe(node)}; skipped",
                        node.LocationIn(file));
                    continue;
                }
                if (node.GetBool("extraneous") == true)
                {
                    // npm records what it found in node_modules that nothing needs; npm ci does not install it.
                    extraneous.Add((path, node));
                    continue;
                }
                if (node.GetBool("link") == true)
                {
                    var target = node.GetString("resolved");
                    if (string.IsNullOrEmpty(target))
                    {
                        diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"link '{path}' has no 'resolved' target; skipped", node.LocationIn(file));
                        continue;
                    }
                    _byPath[path] = new Entry(path, node) { LinkTarget = target.StartsWith("file:", StringComparison.Ordinal) ? target[5..] : target };
                    continue;
                }

                var installed = IsInstalledPath(path);
                var name = node.GetString("name") ?? NpmSource.NameFromPath(path);
                if (!PackageNames.Check(Ecosystem.Npm, name, node.LocationIn(file), diagnostics))
                {
                    continue;
                }
                var version = node.GetString("version");
                if (version is null && installed)
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"entry '{path}' has no version; skipped",
                        node.LocationIn(file), "the lockfile is damaged: regenerate it with npm install --package-lock-only");
                    continue;
                }
                var isWorkspace = !installed && _workspaces.Matches(path);
                var origin = installed
                    ? NpmSource.FromResolved(node.GetString("resolved"), name, version ?? "")
                    : new Origin(isWorkspace ? OriginKind.Workspace : OriginKind.File, path);
                var entry = new Entry(path, node)
                {
                    IsWorkspace = isWorkspace,
                    IsOptional = node.GetBool("optional") == true || node.GetBool("devOptional") == true,
                    Component = NewComponent(name, version ?? "", origin, node) with
                    {
                        Scopes = ScopesFromFlags(node),
                        HasInstallScript = node.GetBool("hasInstallScript") ?? false,
                        License = node.GetString("license"),
                    },
                };
                AddDeclared(entry.Dependencies, node, includeDev: isWorkspace);
                _byPath[path] = entry;
            }
            if (extraneous.Count > 0)
            {
                var (first, firstNode) = extraneous[0];
                var shown = firstNode.GetString("version") is { } v ? $"{first}@{v}" : first;
                diagnostics.Info(DiagnosticIds.NotInstalled,
                    $"{extraneous.Count} entr{(extraneous.Count == 1 ? "y is" : "ies are")} marked extraneous, which npm does not install; left out (first: {shown})",
                    firstNode.LocationIn(file), "npm prune, then npm install --package-lock-only, removes them from the lockfile");
            }
        }

        /// <summary>Version 1: the nested <c>dependencies</c> tree, where <c>requires</c> names what each package needs.</summary>
        private void ReadNested(JsonNode dependencies, string parentPath, bool parentOptional)
        {
            foreach (var (key, node) in dependencies.Properties)
            {
                if (!node.IsObject)
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"dependency '{key}' should be an object, found {Describe(node)}; skipped",
                        node.LocationIn(file));
                    continue;
                }
                var path = parentPath.Length == 0 ? "node_modules/" + key : parentPath + "/node_modules/" + key;
                var spec = node.GetString("version");
                if (spec is null)
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"dependency '{key}' has no version; skipped",
                        node.LocationIn(file), "the lockfile is damaged: regenerate it with npm install --package-lock-only");
                    continue;
                }
                var (name, version, origin) = FromVersion1Spec(key, spec, node.GetString("resolved"), node.LocationIn(file));
                if (!PackageNames.Check(Ecosystem.Npm, name, node.LocationIn(file), diagnostics))
                {
                    continue;
                }
                var optional = parentOptional || node.GetBool("optional") == true;
                var entry = new Entry(path, node)
                {
                    IsWorkspace = origin.Kind == OriginKind.Workspace,
                    IsOptional = optional,
                    Component = NewComponent(name, version, origin, node) with { Scopes = ScopesFromFlags(node) },
                };
                if (node["requires"] is { IsObject: true } requires)
                {
                    foreach (var (dep, range) in requires.Properties)
                    {
                        entry.Dependencies.Add(new Declared(dep, range.Text ?? "", DependencyKind.Required, range.LocationIn(file)));
                    }
                }
                _byPath[path] = entry;
                if (node["dependencies"] is { IsObject: true } nested)
                {
                    ReadNested(nested, path, optional);
                }
            }
        }

        /// <summary>Interprets a version 1 <c>version</c>, which for aliases, git, URLs and folders is the spec, not a version.</summary>
        private (string Name, string Version, Origin Origin) FromVersion1Spec(string key, string spec, string? resolved, SourceLocation at)
        {
            if (NpmSource.TryParseAlias(spec, out var realName, out var aliasVersion))
            {
                return (realName, aliasVersion, NpmSource.FromResolved(resolved, realName, aliasVersion));
            }
            if (NpmSource.IsGit(spec))
            {
                // The commit after '#' is the only version a git dependency has.
                var hash = spec.LastIndexOf('#');
                return (key, hash >= 0 ? spec[(hash + 1)..] : "", new Origin(OriginKind.Git, resolved ?? spec));
            }
            if (spec.StartsWith("file:", StringComparison.Ordinal))
            {
                var folder = spec[5..];
                var version = folder.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) ? VersionFromTarballName(key, folder) : ManifestVersionAt(folder, at);
                return (key, version ?? "", new Origin(_workspaces.Matches(folder) ? OriginKind.Workspace : OriginKind.File, folder));
            }
            if (spec.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                return (key, VersionFromTarballName(key, spec) ?? "", new Origin(OriginKind.Url, spec));
            }
            return (key, spec, NpmSource.FromResolved(resolved, key, spec));
        }

        private string? ManifestVersionAt(string folder, SourceLocation at)
        {
            if (InputPath.Resolve(directory, folder, at, diagnostics) is not { } full)
            {
                return null;
            }
            var path = Path.Combine(full, "package.json");
            if (!File.Exists(path))
            {
                return null;
            }
            // Problems in that package.json belong to it, not to this lockfile; the version is only a label here.
            var quiet = new DiagnosticBag();
            return PackageJson.Read(path, quiet)?.Version;
        }

        private static string? VersionFromTarballName(string name, string url)
        {
            var file = url[(url.LastIndexOf('/') + 1)..];
            var baseName = NpmSource.NameFromPath(name.Contains('/', StringComparison.Ordinal) ? name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..] : name);
            return file.StartsWith(baseName + "-", StringComparison.OrdinalIgnoreCase) && file.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)
                ? file[(baseName.Length + 1)..^4]
                : null;
        }

        private void ReadRootFromManifest()
        {
            if (manifest is null)
            {
                return;
            }
            foreach (var d in manifest.Dependencies)
            {
                var kind = d.Scope switch
                {
                    DependencyScopes.Dev => DependencyKind.Dev,
                    DependencyScopes.Optional => DependencyKind.Optional,
                    DependencyScopes.Peer => DependencyKind.Peer,
                    _ => DependencyKind.Required,
                };
                _rootDependencies.Add(new Declared(d.Name, d.Spec, kind, d.Location));
            }
        }

        private ProjectGraph Build()
        {
            var rootKey = ProjectRoot.KeyFor(file);
            var edges = new List<DependencyEdge>();
            var direct = new HashSet<string>(StringComparer.Ordinal);

            foreach (var entry in _byPath.Values)
            {
                if (entry.Component is not { } from)
                {
                    continue;
                }
                foreach (var dependency in entry.Dependencies)
                {
                    var target = Resolve(entry.Path, dependency.Name);
                    if (target?.Component is { } to)
                    {
                        edges.Add(new DependencyEdge(from.Key, to.Key));
                        if (entry.IsWorkspace)
                        {
                            direct.Add(target.Path);
                        }
                    }
                    else
                    {
                        ReportMissing(from.Name + "@" + from.Version, dependency, entry.IsOptional);
                    }
                }
            }

            var rootLabel = _rootName ?? "the project";
            foreach (var dependency in _rootDependencies)
            {
                var target = Resolve("", dependency.Name);
                if (target?.Component is { } to)
                {
                    edges.Add(new DependencyEdge(rootKey, to.Key));
                    direct.Add(target.Path);
                }
                else
                {
                    ReportMissing(rootLabel, dependency, optional: false);
                }
            }
            foreach (var entry in _byPath.Values.Where(e => e.IsWorkspace))
            {
                edges.Add(new DependencyEdge(rootKey, entry.Component!.Key));
                direct.Add(entry.Path);
            }
            if (!_rootEntryRead && manifest is null && !_byPath.Values.Any(e => e.IsWorkspace))
            {
                // Without the manifest a version 1 lockfile does not say what the root declares: take the
                // top-level packages nothing else requires.
                var required = edges.Select(e => e.To).ToHashSet(StringComparer.Ordinal);
                foreach (var entry in _byPath.Values.Where(e => e.Component is not null && e.Path.LastIndexOf("node_modules/", StringComparison.Ordinal) == 0
                    && !required.Contains(e.Component!.Key)))
                {
                    edges.Add(new DependencyEdge(rootKey, entry.Component!.Key));
                    direct.Add(entry.Path);
                }
            }

            var components = new Dictionary<string, Component>(StringComparer.Ordinal);
            foreach (var entry in _byPath.Values)
            {
                if (entry.Component is not { } c)
                {
                    continue;
                }
                if (direct.Contains(entry.Path))
                {
                    c = c with { Direct = true };
                }
                components[c.Key] = components.TryGetValue(c.Key, out var existing) ? GraphMerger.Combine(existing, c) : c;
            }

            var files = manifest is null ? ImmutableArray.Create(file) : ImmutableArray.Create(file, manifest.File);
            var root = new ProjectRoot(rootKey, Ecosystem.Npm, _rootName, _rootVersion, file, files);
            return new ProjectGraph(root, [.. components.Values], [.. edges.Distinct()]);
        }

        private void ReportMissing(string from, Declared dependency, bool optional)
        {
            // Missing optional and peer dependencies are normal: npm skips what does not apply to the platform and
            // does not always install peers.
            if (optional || dependency.Kind is DependencyKind.Optional or DependencyKind.Peer or DependencyKind.PeerOptional)
            {
                return;
            }
            diagnostics.Warning(DiagnosticIds.DanglingReference,
                $"{from} depends on {dependency.Name} ({dependency.Spec}) but the lockfile has no entry for it",
                dependency.Location,
                "the lockfile is out of date with package.json: run npm install to refresh it");
        }

        /// <summary>Node's resolution: the nearest <c>node_modules/NAME</c> from the dependent's folder up to the root.</summary>
        private Entry? Resolve(string fromPath, string name)
        {
            // Candidates are built in a reused buffer and looked up by span: most lookups miss, and each would
            // otherwise allocate its path.
            var lookup = _byPath.GetAlternateLookup<ReadOnlySpan<char>>();
            var needed = fromPath.Length + "/node_modules/".Length + name.Length;
            if (_candidate.Length < needed)
            {
                _candidate = new char[Math.Max(needed, _candidate.Length * 2)];
            }
            var folder = fromPath.AsSpan();
            while (true)
            {
                var length = 0;
                if (folder.Length > 0)
                {
                    folder.CopyTo(_candidate);
                    _candidate[folder.Length] = '/';
                    length = folder.Length + 1;
                }
                "node_modules/".CopyTo(_candidate.AsSpan(length));
                length += "node_modules/".Length;
                name.CopyTo(_candidate.AsSpan(length));
                length += name.Length;
                if (lookup.TryGetValue(_candidate.AsSpan(0, length), out var found))
                {
                    return Follow(found);
                }
                if (folder.Length == 0)
                {
                    return null;
                }
                var slash = folder.LastIndexOf('/');
                folder = slash < 0 ? [] : folder[..slash];
            }
        }

        private Entry? Follow(Entry entry)
        {
            // Links point at folders, which are never links themselves; a bound guards against hand-made loops.
            for (var hops = 0; entry.LinkTarget is { } target && hops < 8; hops++)
            {
                if (!_byPath.TryGetValue(target.TrimEnd('/'), out var next))
                {
                    return null;
                }
                entry = next;
            }
            return entry.LinkTarget is null ? entry : null;
        }

        private Component NewComponent(string name, string version, Origin origin, JsonNode node) => new()
        {
            Ecosystem = Ecosystem.Npm,
            Name = name,
            Version = version,
            Purl = NpmSource.Purl(name, version, origin),
            Origin = origin,
            Integrity = IntegrityHash.ParseSri(node.GetString("integrity")),
            Locations = [node.LocationIn(file)],
        };

        private void AddDeclared(List<Declared> into, JsonNode node, bool includeDev)
        {
            var peerMeta = node["peerDependenciesMeta"];
            AddField(into, node, "dependencies", _ => DependencyKind.Required);
            AddField(into, node, "optionalDependencies", _ => DependencyKind.Optional);
            AddField(into, node, "peerDependencies", name =>
                peerMeta?[name]?.GetBool("optional") == true ? DependencyKind.PeerOptional : DependencyKind.Peer);
            if (includeDev)
            {
                AddField(into, node, "devDependencies", _ => DependencyKind.Dev);
            }
        }

        private void AddField(List<Declared> into, JsonNode node, string field, Func<string, DependencyKind> kind)
        {
            var map = node[field];
            if (map is null)
            {
                return;
            }
            if (!map.IsObject)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"'{field}' should be an object of name: range, found {Describe(map)}; ignored",
                    map.LocationIn(file));
                return;
            }
            foreach (var (name, spec) in map.Properties)
            {
                into.Add(new Declared(name, spec.Text ?? "", kind(name), spec.LocationIn(file)));
            }
        }
    }

    /// <summary>Whether a packages key is an installed package (under some node_modules) rather than a project folder.</summary>
    private static bool IsInstalledPath(string path) =>
        path.StartsWith("node_modules/", StringComparison.Ordinal) || path.Contains("/node_modules/", StringComparison.Ordinal);

    /// <summary>Scopes from npm's flags: dev, optional (prod optional), devOptional (both trees), peer.</summary>
    private static DependencyScopes ScopesFromFlags(JsonNode node)
    {
        var dev = node.GetBool("dev") == true;
        var optional = node.GetBool("optional") == true;
        var scopes = node.GetBool("devOptional") == true || (dev && optional) ? DependencyScopes.Dev | DependencyScopes.Optional
            : dev ? DependencyScopes.Dev
            : optional ? DependencyScopes.Optional
            : DependencyScopes.Prod;
        return node.GetBool("peer") == true ? scopes | DependencyScopes.Peer : scopes;
    }

    private static string Describe(JsonNode node) => node.Kind switch
    {
        JsonKind.Object => "an object",
        JsonKind.Array => "an array",
        JsonKind.String => $"the string \"{node.Text}\"",
        JsonKind.Number => $"the number {node.Text}",
        JsonKind.Null => "null",
        _ => node.ToString(),
    };
}
