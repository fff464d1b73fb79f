using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// Reads bun.lock, bun's text lockfile (JSON with trailing commas). <c>workspaces</c> holds each workspace's declared
/// dependencies (<c>""</c> is the root); <c>packages</c> maps install paths to arrays
/// <c>["name@version", registry, {dependencies...}, "sha512-..."]</c>. A path like <c>"express/debug"</c> is a
/// version of debug installed under express, so dependencies resolve as Node.js does: nearest path first.
/// The binary bun.lockb format is not read.
/// </summary>
public static class BunLockReader
{
    /// <summary>The text lockfile versions known: 0 and 1 (bun 1.1 and 1.2), 2 (bun 1.3 and later).</summary>
    private const int MaxVersion = 2;

    private static readonly (string Field, DependencyScopes Kind)[] DependencyFields =
    [
        ("dependencies", DependencyScopes.Prod),
        ("devDependencies", DependencyScopes.Dev),
        ("optionalDependencies", DependencyScopes.Optional),
        ("peerDependencies", DependencyScopes.Peer),
    ];

    /// <summary>Reads a bun.lock; null (with diagnostics) when nothing could be read. Never throws on bad input.</summary>
    public static ProjectGraph? Read(string lockfilePath, PackageJson? manifest, DiagnosticBag diagnostics)
    {
        var root = LocatedJson.ParseFile(lockfilePath, diagnostics, allowCommentsAndTrailingCommas: true);
        if (root is null)
        {
            return null;
        }
        var graph = new YarnPnpmBunGraph(lockfilePath, diagnostics);
        var display = graph.LockfileDisplay;
        if (!root.IsObject)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "expected a JSON object at the top of bun.lock", root.LocationIn(display));
            return null;
        }
        var versionNode = root["lockfileVersion"];
        var version = root.GetInt64("lockfileVersion");
        if (version is null or < 0 or > MaxVersion)
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"bun.lock lockfileVersion '{versionNode?.ToString() ?? "(missing)"}' is not supported",
                (versionNode ?? root).LocationIn(display), $"supported: bun.lock lockfileVersion 0 to {MaxVersion}; run a current bun to rewrite it");
            return null;
        }
        var packagesNode = root["packages"];
        var workspaces = root["workspaces"];
        if (packagesNode is { IsObject: false } || workspaces is { IsObject: false })
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "'packages' and 'workspaces' should be objects",
                (packagesNode is { IsObject: false } ? packagesNode : workspaces!).LocationIn(display));
            return null;
        }

        // Workspace members by path, so "name@workspace:packages/x" entries can take the member's declared dependencies.
        var memberByPath = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var (path, node) in workspaces?.Properties ?? [])
        {
            if (path.Length > 0 && node.IsObject)
            {
                memberByPath[path] = node;
            }
        }

        var files = new List<string> { display };
        if (manifest is not null)
        {
            files.Add(manifest.File);
        }
        var pending = new List<(LockedPackage Package, string Key, JsonNode Meta)>();
        foreach (var (key, value) in packagesNode?.Properties ?? [])
        {
            var location = value.LocationIn(display);
            if (!value.IsArray || value.Items.Count == 0 || !value.Items[0].IsString
                || YarnPnpmBunGraph.SplitNameAt(value.Items[0].Text!) is not { } split)
            {
                diagnostics.Warning(DiagnosticIds.InvalidEntry, $"package '{key}' is not [\"name@version\", ...]; skipped",
                    location, "the lockfile may be damaged or hand-edited: run bun install again");
                continue;
            }
            var (name, reference) = split;
            var meta = value.Items.FirstOrDefault(i => i.IsObject);
            var origin = OriginOf(reference, value);
            JsonNode? member = null;
            if (origin.Kind == OriginKind.Workspace)
            {
                memberByPath.TryGetValue(origin.Location!, out member);
                if (graph.Member(origin.Location!, location) is { } memberManifest)
                {
                    files.Add(memberManifest.File);
                }
            }
            var packageVersion = origin.Kind switch
            {
                OriginKind.Workspace => member?.GetString("version") ?? graph.LocalVersion(origin.Location!, location) ?? reference,
                OriginKind.File => graph.LocalVersion(origin.Location!, location) ?? reference,
                _ => reference,
            };
            var integrity = value.Items.Count > 1 && value.Items[^1] is { IsString: true, Text: { } last } && last.StartsWith("sha", StringComparison.Ordinal)
                ? IntegrityHash.ParseSri(last)
                : [];
            var package = graph.Add(new LockedPackage
            {
                Id = key,
                Name = name,
                Version = packageVersion,
                Origin = origin,
                Integrity = integrity,
                Location = location,
                IsProject = origin.Kind == OriginKind.Workspace,
            });
            if (member is not null)
            {
                pending.Add((package, key, member));
                graph.AddRootDependency(package.Id, DependencyScopes.Prod);
            }
            else if (meta is not null)
            {
                pending.Add((package, key, meta));
            }
        }

        foreach (var (package, key, meta) in pending)
        {
            AddDependencies(meta, key, (target, kind) => package.Dependencies.Add((target, kind)));
        }
        if (workspaces?[""] is { IsObject: true } rootWorkspace)
        {
            AddDependencies(rootWorkspace, "", graph.AddRootDependency);
        }
        else
        {
            diagnostics.Warning(DiagnosticIds.UnexpectedShape, "bun.lock has no root workspace (\"workspaces\": { \"\": ... }); direct dependencies are unknown",
                root.LocationIn(display));
        }
        return graph.Build(manifest, files, workspaces?[""]?.GetString("name"), workspaces?[""]?.GetString("version"));

        void AddDependencies(JsonNode meta, string from, Action<string, DependencyScopes> add)
        {
            var optionalPeers = new HashSet<string>(
                meta["optionalPeers"]?.Items.Where(i => i.IsString).Select(i => i.Text!) ?? [], StringComparer.Ordinal);
            foreach (var (field, kind) in DependencyFields)
            {
                foreach (var (name, _) in meta[field]?.Properties ?? [])
                {
                    if (kind == DependencyScopes.Peer && optionalPeers.Contains(name))
                    {
                        // bun does not record whether an optional peer was linked; a hoisted package of that name
                        // may be there for someone else, so no edge is drawn.
                        continue;
                    }
                    if (Resolve(from, name, graph) is { } target)
                    {
                        add(target, kind);
                    }
                    else if (kind != DependencyScopes.Peer)
                    {
                        // Leave the name as the target: the graph reports it as a dangling reference.
                        add(name, kind);
                    }
                }
            }
        }
    }

    /// <summary>Where a package comes from, from the reference after its name and the entry's second item.</summary>
    private static Origin OriginOf(string reference, JsonNode entry)
    {
        if (reference.StartsWith("workspace:", StringComparison.Ordinal))
        {
            return new Origin(OriginKind.Workspace, reference[10..]);
        }
        foreach (var protocol in new[] { "file:", "link:" })
        {
            if (reference.StartsWith(protocol, StringComparison.Ordinal))
            {
                return new Origin(OriginKind.File, reference[protocol.Length..]);
            }
        }
        if (YarnPnpmBunGraph.IsGitSpec(reference))
        {
            return new Origin(OriginKind.Git, reference);
        }
        if (YarnPnpmBunGraph.IsUrl(reference))
        {
            return new Origin(OriginKind.Url, reference);
        }
        // npm packages: the second item is the registry tarball URL, or "" for the default registry.
        var registry = entry.Items.Count > 1 && entry.Items[1] is { IsString: true, Text: { Length: > 0 } url } ? url : null;
        return Origin.Registry(registry);
    }

    /// <summary>
    /// The package key a dependency <paramref name="name"/> of the package at <paramref name="from"/> resolves to:
    /// <c>from/name</c>, then the same under each ancestor, then the top-level <c>name</c>.
    /// </summary>
    private static string? Resolve(string from, string name, YarnPnpmBunGraph graph)
    {
        var segments = Segments(from);
        for (var depth = segments.Count; depth > 0; depth--)
        {
            var candidate = string.Join('/', segments.Take(depth)) + "/" + name;
            if (graph.Packages.ContainsKey(candidate))
            {
                return candidate;
            }
        }
        return graph.Packages.ContainsKey(name) ? name : null;
    }

    /// <summary>Splits an install path into package names; a scoped name ("@scope/name") is one segment.</summary>
    private static List<string> Segments(string path)
    {
        var result = new List<string>();
        if (path.Length == 0)
        {
            return result;
        }
        var parts = path.Split('/');
        for (var i = 0; i < parts.Length; i++)
        {
            result.Add(parts[i].StartsWith('@') && i + 1 < parts.Length ? parts[i] + "/" + parts[++i] : parts[i]);
        }
        return result;
    }
}
