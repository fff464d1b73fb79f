using System.Globalization;
using Tollgate.Graph;
using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// Reads pnpm-lock.yaml: lockfile format 5.x (pnpm 7 and earlier: ids <c>/name/1.0.0_peer@1.0.0</c>), 6.x (pnpm 8:
/// <c>/name@1.0.0(peer@1.0.0)</c>) and 9.x (pnpm 9 and later: <c>packages</c> plus <c>snapshots</c>, ids
/// <c>name@1.0.0(peer@1.0.0)</c>). Peer suffixes are dropped from versions, so one package resolved against two
/// sets of peers is one component. A file of two YAML documents (pnpm 11 and later) is an env document (pnpm's own
/// packages and config dependencies, read as development packages) followed by the project's lockfile.
/// </summary>
public static class PnpmLockReader
{
    private const string ImporterPrefix = "importer:";
    private const string SupportedHint = "supported lockfileVersion values: 5.x (pnpm 7 and earlier), 6.x (pnpm 8), 9.x (pnpm 9 and later)";

    /// <summary>Reads a pnpm-lock.yaml; null (with diagnostics) when nothing could be read. Never throws on bad input.</summary>
    public static ProjectGraph? Read(string lockfilePath, PackageJson? manifest, DiagnosticBag diagnostics)
    {
        var text = InputFile.ReadText(lockfilePath, diagnostics);
        if (text is null)
        {
            return null;
        }
        var graph = new YarnPnpmBunGraph(lockfilePath, diagnostics);
        var display = graph.LockfileDisplay;
        // pnpm 11 and later put the package manager's own packages and the config dependencies in a first "env"
        // document when the project pins them; the project's lockfile is then the last document.
        if (YarnPnpmYaml.LoadDocuments(text, display, diagnostics) is not { } documents)
        {
            return null;
        }
        var formats = new List<int>(documents.Count);
        foreach (var document in documents)
        {
            var start = formats.Count == 0 ? new SourceLocation(display, 1, 1) : YarnPnpmYaml.LocationOf(document, display);
            if (Format(document, start, display, diagnostics) is not { } format)
            {
                return null;
            }
            formats.Add(format);
        }
        var root = documents[^1];
        var reader = new Reader(graph, formats[^1], diagnostics);
        reader.ReadPackages(root);
        var files = new List<string> { display };
        if (manifest is not null)
        {
            files.Add(manifest.File);
        }
        if (root.GetMap("importers") is { } importers)
        {
            reader.ReadImporters(importers, files);
        }
        else
        {
            reader.ReadImporter(".", root, owner: null);
        }
        for (var i = 0; i < documents.Count - 1; i++)
        {
            // Installed by pnpm for itself (its own binary, config dependencies that hook into installs), never part of
            // what the project ships: development packages of the project.
            var env = new Reader(graph, formats[i], diagnostics);
            env.ReadPackages(documents[i]);
            if (documents[i].GetMap("importers")?.GetMap(".") is { } importer)
            {
                env.ReadEnvironment(importer);
            }
        }
        return graph.Build(manifest, files);
    }

    /// <summary>The major lockfileVersion of one document; null (reported) when it is missing or not supported.</summary>
    private static int? Format(YamlMappingNode document, SourceLocation start, string display, DiagnosticBag diagnostics)
    {
        var versionNode = document.Get("lockfileVersion");
        var versionText = (versionNode as YamlScalarNode)?.Value;
        if (versionText is null)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "pnpm-lock.yaml has no lockfileVersion", start,
                "is this a pnpm lockfile? it may be truncated");
            return null;
        }
        var dot = versionText.IndexOf('.', StringComparison.Ordinal);
        var major = int.TryParse(dot < 0 ? versionText : versionText[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : -1;
        if (major is not (5 or 6 or 9))
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"pnpm lockfileVersion '{versionText}' is not supported",
                YarnPnpmYaml.LocationOf(versionNode!, display), SupportedHint);
            return null;
        }
        return major;
    }

    private sealed class Reader(YarnPnpmBunGraph graph, int format, DiagnosticBag diagnostics)
    {
        public void ReadPackages(YamlMappingNode root)
        {
            var packages = root.GetMap("packages");
            if (root.Get("packages") is { } p and not YamlMappingNode && !(p is YamlScalarNode { Value: null or "" }))
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, "'packages' should be a mapping of package ids to entries",
                    YarnPnpmYaml.LocationOf(p, graph.LockfileDisplay));
            }
            if (format >= 9 && root.GetMap("snapshots") is { } snapshots)
            {
                // 9.x: "snapshots" has one entry per peer variant and its dependencies; "packages" the shared metadata.
                var metadata = new Dictionary<string, (YamlNode Key, YamlMappingNode? Value)>(StringComparer.Ordinal);
                foreach (var (key, value) in packages?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
                {
                    if (key is YamlScalarNode { Value: { } id })
                    {
                        metadata[id] = (key, value as YamlMappingNode);
                    }
                }
                foreach (var (key, value) in snapshots.Children)
                {
                    if (key is YamlScalarNode { Value: { } id })
                    {
                        var meta = metadata.GetValueOrDefault(StripPeers(id));
                        AddPackage(id, meta.Key ?? key, meta.Value, value as YamlMappingNode);
                    }
                }
                return;
            }
            foreach (var (key, value) in packages?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
            {
                if (key is YamlScalarNode { Value: { } id })
                {
                    AddPackage(id, key, value as YamlMappingNode, value as YamlMappingNode);
                }
            }
        }

        private void AddPackage(string id, YamlNode keyNode, YamlMappingNode? meta, YamlMappingNode? snapshot)
        {
            var location = YarnPnpmYaml.LocationOf(keyNode, graph.LockfileDisplay);
            var identity = Identify(id, meta, location);
            if (identity is null)
            {
                diagnostics.Warning(DiagnosticIds.InvalidEntry, $"cannot tell the package name and version from '{id}'; entry skipped",
                    location, "the lockfile may be damaged: run pnpm install again");
                return;
            }
            var (name, version, origin) = identity.Value;
            var requiresBuild = meta?.GetBool("requiresBuild");
            var package = graph.Add(new LockedPackage
            {
                Id = id,
                Name = name,
                Version = version,
                Origin = origin,
                Integrity = IntegrityHash.ParseSri(meta?.GetMap("resolution")?.GetString("integrity")),
                // pnpm 7 and 8 write requiresBuild for every package with install scripts; pnpm 9 dropped the field.
                HasInstallScript = requiresBuild ?? (format < 9 ? false : null),
                Location = location,
            });
            foreach (var (alias, reference, node) in snapshot?.GetMap("dependencies").ScalarPairs() ?? [])
            {
                package.Dependencies.Add((Target(alias, reference, null, YarnPnpmYaml.LocationOf(node, graph.LockfileDisplay)), DependencyScopes.Prod));
            }
            foreach (var (alias, reference, node) in snapshot?.GetMap("optionalDependencies").ScalarPairs() ?? [])
            {
                package.Dependencies.Add((Target(alias, reference, null, YarnPnpmYaml.LocationOf(node, graph.LockfileDisplay)), DependencyScopes.Optional));
            }
        }

        public void ReadImporters(YamlMappingNode importers, List<string> files)
        {
            // Members first, so that a link: to a member read later is known to be one.
            var members = new List<(string Path, YamlMappingNode Importer, LockedPackage? Package)>();
            foreach (var (key, value) in importers.Children)
            {
                if (key is not YamlScalarNode { Value: { } path } || value is not YamlMappingNode importer)
                {
                    continue;
                }
                if (path == ".")
                {
                    members.Add((path, importer, null));
                    continue;
                }
                var member = graph.Member(path, YarnPnpmYaml.LocationOf(key, graph.LockfileDisplay));
                if (member is not null)
                {
                    files.Add(member.File);
                }
                var package = graph.Add(new LockedPackage
                {
                    Id = ImporterPrefix + path,
                    Name = member?.Name ?? path,
                    Version = member?.Version ?? "0.0.0",
                    Origin = new Origin(OriginKind.Workspace, path),
                    Location = YarnPnpmYaml.LocationOf(key, graph.LockfileDisplay),
                    IsProject = true,
                });
                // A workspace member is part of the project: the root reaches it, and its own dev dependencies are dev.
                graph.AddRootDependency(package.Id, DependencyScopes.Prod);
                members.Add((path, importer, package));
            }
            foreach (var (path, importer, package) in members)
            {
                ReadImporter(path, importer, package);
            }
        }

        public void ReadImporter(string path, YamlMappingNode importer, LockedPackage? owner)
        {
            Section(path, importer, owner, "dependencies", DependencyScopes.Prod);
            Section(path, importer, owner, "devDependencies", DependencyScopes.Dev);
            Section(path, importer, owner, "optionalDependencies", DependencyScopes.Optional);
        }

        /// <summary>The importer of an env document: what pnpm installs for itself, as development dependencies of the project.</summary>
        public void ReadEnvironment(YamlMappingNode importer)
        {
            Section(".", importer, null, "packageManagerDependencies", DependencyScopes.Dev);
            Section(".", importer, null, "configDependencies", DependencyScopes.Dev);
        }

        private void Section(string path, YamlMappingNode importer, LockedPackage? owner, string field, DependencyScopes kind)
        {
            var section = importer.GetMap(field);
            if (section is null)
            {
                return;
            }
            foreach (var (key, value) in section.Children)
            {
                if (key is not YamlScalarNode { Value: { } alias })
                {
                    continue;
                }
                // 5.x: "name: 1.0.0"; 6.x and 9.x: "name: { specifier: ^1.0.0, version: 1.0.0 }".
                var reference = value switch
                {
                    YamlScalarNode s => s.Value,
                    YamlMappingNode map => map.GetString("version"),
                    _ => null,
                };
                if (reference is null)
                {
                    diagnostics.Warning(DiagnosticIds.InvalidEntry, $"dependency '{alias}' of importer '{path}' has no version; skipped",
                        YarnPnpmYaml.LocationOf(key, graph.LockfileDisplay));
                    continue;
                }
                var target = Target(alias, reference, path, YarnPnpmYaml.LocationOf(key, graph.LockfileDisplay));
                if (owner is null)
                {
                    graph.AddRootDependency(target, kind);
                }
                else
                {
                    owner.Dependencies.Add((target, kind));
                }
            }
        }

        /// <summary>The package id a dependency reference points to, as the lockfile format spells it.</summary>
        private string Target(string alias, string reference, string? importerPath, SourceLocation at)
        {
            if (reference.StartsWith("link:", StringComparison.Ordinal))
            {
                return Link(alias, reference[5..], importerPath ?? ".", at);
            }
            var head = StripPeers(reference);
            switch (format)
            {
                case 5:
                    // "/chalk/4.1.2" (an alias) and "github.com/owner/repo/sha" are ids already; "1.0.0_peer@1" is a version.
                    return reference.StartsWith('/') || head.Contains('/', StringComparison.Ordinal) || head.Contains(':', StringComparison.Ordinal)
                        ? reference
                        : $"/{alias}/{reference}";
                case 6:
                    return reference.StartsWith('/') || head.Contains('/', StringComparison.Ordinal) || head.Contains(':', StringComparison.Ordinal)
                        ? reference
                        : $"/{alias}@{reference}";
                default:
                    // "chalk@4.1.2" is an alias's id; "file:lib" and URLs are prefixed with the name as versions are.
                    return !head.Contains(':', StringComparison.Ordinal) && head.Contains('@', StringComparison.Ordinal)
                        ? reference
                        : $"{alias}@{reference}";
            }
        }

        /// <summary>A <c>link:</c> dependency: a workspace member when it points at an importer, else a local folder.</summary>
        private string Link(string alias, string relative, string fromImporter, SourceLocation at)
        {
            if (InputPath.Resolve(Path.Combine(graph.LockDirectory, fromImporter), relative, at, diagnostics) is not { } full)
            {
                // Reported; the dependency points at no entry.
                return "link:" + relative;
            }
            var path = Path.GetRelativePath(graph.LockDirectory, full).Replace('\\', '/');
            if (path == ".")
            {
                return ImporterPrefix + ".";
            }
            var id = ImporterPrefix + path;
            if (!graph.Packages.ContainsKey(id))
            {
                // Links outside the workspace have no importer entry; record them as local folders.
                id = "link:" + path;
                graph.Add(new LockedPackage
                {
                    Id = id,
                    Name = alias,
                    Version = graph.LocalVersion(path, at) ?? "link:" + path,
                    Origin = new Origin(OriginKind.File, path),
                    Location = new SourceLocation(graph.LockfileDisplay),
                });
            }
            return id;
        }

        /// <summary>Name, version and origin of a package id, using the entry's own name/version fields when it has them.</summary>
        private (string Name, string Version, Origin Origin)? Identify(string id, YamlMappingNode? meta, SourceLocation location)
        {
            var resolution = meta?.GetMap("resolution");
            string? name = meta?.GetString("name");
            string? version = meta?.GetString("version");
            string? reference = null;
            var bare = StripPeers(id);
            if (format == 5)
            {
                // "/@scope/name/1.0.0_peer@1.0.0": the name is one or two segments, the version the next one up to '_'.
                var segments = bare.TrimStart('/').Split('/');
                var nameLength = segments[0].StartsWith('@') ? 2 : 1;
                if (bare.StartsWith('/') && segments.Length > nameLength)
                {
                    name ??= string.Join('/', segments[..nameLength]);
                    var v = segments[nameLength];
                    var underscore = v.IndexOf('_', StringComparison.Ordinal);
                    reference = underscore > 0 ? v[..underscore] : v;
                }
            }
            else
            {
                // 6.x registry ids start with '/'; its other ids ("file:lib", "github.com/...") carry a name field.
                var body = format == 6 ? (bare.StartsWith('/') ? bare[1..] : null) : bare;
                if (body is not null && YarnPnpmBunGraph.SplitNameAt(body) is { } split)
                {
                    name ??= split.Name;
                    reference = split.Reference;
                }
            }
            reference ??= bare;
            if (name is null)
            {
                return null;
            }

            Origin origin;
            var type = resolution?.GetString("type");
            var tarball = resolution?.GetString("tarball");
            var directory = resolution?.GetString("directory");
            if (type == "git" || resolution?.GetString("repo") is not null)
            {
                var repo = resolution?.GetString("repo") ?? reference;
                var commit = resolution?.GetString("commit");
                origin = new Origin(OriginKind.Git, commit is null ? repo : $"{repo}#{commit}");
            }
            else if (directory is not null || reference.StartsWith("file:", StringComparison.Ordinal))
            {
                var path = directory ?? reference[5..];
                origin = new Origin(OriginKind.File, path);
                if (directory is not null || IsFolderReference(path))
                {
                    version ??= graph.LocalVersion(path, location);
                }
            }
            else if (reference.StartsWith("github.com/", StringComparison.Ordinal) || (tarball?.Contains("codeload.", StringComparison.Ordinal) ?? false))
            {
                origin = new Origin(OriginKind.Git, tarball ?? reference);
            }
            else if (IsRegistryVersion(reference))
            {
                origin = Origin.Registry(tarball);
            }
            else
            {
                origin = new Origin(OriginKind.Url, tarball ?? reference);
            }
            return (name, version ?? reference, origin);
        }

        private static bool IsFolderReference(string path) =>
            !path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase);

        /// <summary>A plain version (what registries serve), as opposed to a URL, path or git reference.</summary>
        private static bool IsRegistryVersion(string reference) =>
            reference.Length > 0 && char.IsAsciiDigit(reference[0])
            && !reference.Contains(':', StringComparison.Ordinal) && !reference.Contains('/', StringComparison.Ordinal);
    }

    /// <summary>An id without its peer suffix: "name@1.0.0(peer@2.0.0)" becomes "name@1.0.0".</summary>
    private static string StripPeers(string id)
    {
        var paren = id.IndexOf('(', StringComparison.Ordinal);
        return paren > 0 ? id[..paren] : id;
    }
}
