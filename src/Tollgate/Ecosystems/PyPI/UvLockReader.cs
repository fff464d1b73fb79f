using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// Reads uv.lock (lock format version 1). Each workspace member (the packages whose source is <c>editable</c> or
/// <c>virtual</c> and that <c>[manifest].members</c> lists, or the package at <c>"."</c>) is a project root; a member
/// another member depends on is also a component with a workspace origin.
/// </summary>
internal static class UvLockReader
{
    public const int SupportedVersion = 1;

    private sealed record Package(TomlTableNode Table, string Name, string Key, string? SourceKind, string? SourceValue);

    public static IReadOnlyList<ProjectGraph> Read(string lockPath, PythonManifest? manifest, IReadOnlyList<string> files, DiagnosticBag diagnostics)
    {
        var file = InputFile.DisplayPath(lockPath);
        var doc = LocatedToml.ParseFile(lockPath, diagnostics);
        if (doc is null)
        {
            return [];
        }
        var shape = new TomlShape(file, diagnostics);
        if (doc["version"] is not TomlScalarNode { Kind: TomlScalarKind.Integer } versionNode)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "uv.lock has no integer 'version'", new SourceLocation(file, 1, 1),
                "is this really a uv.lock? uv writes 'version = 1' on the first line");
            return [];
        }
        if (versionNode.Text != SupportedVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"uv.lock version {versionNode.Text} is not supported (this release reads version {SupportedVersion})",
                versionNode.LocationIn(file), "upgrade tollgate, or regenerate the lockfile with a uv release that writes version 1");
            return [];
        }

        var graph = new LockGraph();
        var packages = new List<Package>();
        foreach (var item in shape.Array(doc, "package")?.Items ?? [])
        {
            if (shape.Expect<TomlTableNode>(item, "package", "table") is not { } table
                || shape.RequiredString(table, "name", "a [[package]]") is not { } name)
            {
                continue;
            }
            var version = shape.String(table, "version");
            var (kind, value, origin) = Source(table, shape);
            var integrity = new List<IntegrityHash>();
            if (table.GetTable("sdist") is { } sdist && PyPIComponents.ParseHash(sdist.GetString("hash")) is { } sdistHash)
            {
                integrity.Add(sdistHash);
            }
            foreach (var wheel in table.GetArray("wheels")?.Items ?? [])
            {
                if (wheel is TomlTableNode w && PyPIComponents.ParseHash(w.GetString("hash")) is { } wheelHash)
                {
                    integrity.Add(wheelHash);
                }
            }
            var location = (table["name"] ?? table).LocationIn(file);
            if (!PackageNames.Check(Ecosystem.PyPI, name, location, diagnostics))
            {
                continue;
            }
            // A package without a version is a workspace or local project with a dynamic version.
            var component = PyPIComponents.Create(name, version ?? "*", location, origin, resolved: version is not null, integrity: integrity);
            packages.Add(new Package(table, name, graph.Add(component), kind, value));
        }

        var byName = packages.ToLookup(p => Component.NormalizePyPIName(p.Name), StringComparer.Ordinal);
        foreach (var package in packages)
        {
            foreach (var target in Dependencies(shape.Array(package.Table, "dependencies"), byName, file, shape))
            {
                graph.AddEdge(package.Key, target.Key);
            }
        }
        // A dependency on "name[extra]" also needs what that extra of name requires, wherever it is written: in
        // [package].dependencies, in an extra's own list (fastmcp-slim[client] asks for py-key-value-aio[keyring]) or in
        // a member's dev group (inline-snapshot[black]).
        foreach (var package in packages)
        {
            foreach (var item in DependencyLists(package.Table).SelectMany(list => list.Items))
            {
                AddExtraEdges(package, item, byName, graph, file, shape);
            }
        }

        var members = Members(doc, packages);
        if (members.Count == 0)
        {
            // No project in the lock (unusual): every package nobody depends on is a direct dependency.
            var root = new ProjectRoot(ProjectRoot.KeyFor(file), Ecosystem.PyPI, manifest?.Name, manifest?.Version, file, [.. files]);
            return [graph.Build(root, graph.Heads().Select(k => (k, DependencyScopes.Prod)), propagateScopes: true)];
        }
        var result = new List<ProjectGraph>();
        foreach (var member in members)
        {
            var atTop = member.SourceValue == "." || members.Count == 1;
            var key = atTop ? ProjectRoot.KeyFor(file) : ProjectRoot.KeyFor(file) + "#" + Component.NormalizePyPIName(member.Name);
            var root = new ProjectRoot(key, Ecosystem.PyPI, member.Name, member.Table.GetString("version") ?? (atTop ? manifest?.Version : null), file,
                atTop ? [.. files] : [file]);
            var direct = new List<(string, DependencyScopes)>();
            AddDirect(member, shape.Array(member.Table, "dependencies"), DependencyScopes.Prod, byName, graph, direct, file, shape);
            foreach (var (_, list) in member.Table.GetTable("optional-dependencies")?.Entries ?? [])
            {
                AddDirect(member, list as TomlArrayNode, DependencyScopes.Optional, byName, graph, direct, file, shape);
            }
            foreach (var (_, list) in member.Table.GetTable("dev-dependencies")?.Entries ?? [])
            {
                AddDirect(member, list as TomlArrayNode, DependencyScopes.Dev, byName, graph, direct, file, shape);
            }
            result.Add(graph.Build(root, direct, propagateScopes: true, reachableOnly: true));
        }
        return result;
    }

    /// <summary>The root's dependencies; one on the root itself with extras (<c>mcp[cli]</c> in a dev group) brings in that extra's dependencies.</summary>
    private static void AddDirect(Package member, TomlArrayNode? list, DependencyScopes scope, ILookup<string, Package> byName, LockGraph graph,
        List<(string, DependencyScopes)> direct, string file, TomlShape shape)
    {
        foreach (var item in list?.Items ?? [])
        {
            foreach (var target in Dependencies(item, byName, file, shape))
            {
                if (target.Key != member.Key)
                {
                    direct.Add((target.Key, scope));
                    continue;
                }
                foreach (var extra in Extras(item))
                {
                    if (member.Table.GetTable("optional-dependencies")?.GetArray(extra) is { } extraList)
                    {
                        direct.AddRange(Dependencies(extraList, byName, file, shape).Where(p => p.Key != member.Key).Select(p => (p.Key, scope)));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Edges from the package <paramref name="item"/> names to what the extras it asks for require. A project asking
    /// for its own extras (<c>mcp[cli]</c> in mcp's dev group) is left to <see cref="AddDirect"/>: as a dependency of
    /// another member it brings only the extras that member asks for.
    /// </summary>
    private static void AddExtraEdges(Package from, TomlNode item, ILookup<string, Package> byName, LockGraph graph, string file, TomlShape shape)
    {
        foreach (var target in Dependencies(item, byName, file, shape))
        {
            if (target.Key == from.Key)
            {
                continue;
            }
            foreach (var extra in Extras(item))
            {
                if (target.Table.GetTable("optional-dependencies")?.GetArray(extra) is { } extraList)
                {
                    foreach (var child in Dependencies(extraList, byName, file, shape))
                    {
                        graph.AddEdge(target.Key, child.Key);
                    }
                }
            }
        }
    }

    /// <summary>Every list of dependencies a [[package]] records: its own, each of its extras' and each of its dev groups'.</summary>
    private static IEnumerable<TomlArrayNode> DependencyLists(TomlTableNode package)
    {
        if (package.GetArray("dependencies") is { } own)
        {
            yield return own;
        }
        foreach (var tableName in new[] { "optional-dependencies", "dev-dependencies" })
        {
            foreach (var (_, list) in package.GetTable(tableName)?.Entries ?? [])
            {
                if (list is TomlArrayNode array)
                {
                    yield return array;
                }
            }
        }
    }

    private static IEnumerable<string> Extras(TomlNode item) =>
        item is TomlTableNode t && t.GetArray("extra") is { } extras
            ? extras.Items.OfType<TomlScalarNode>().Select(s => s.Text)
            : [];

    private static List<Package> Dependencies(TomlArrayNode? list, ILookup<string, Package> byName, string file, TomlShape shape) =>
        [.. (list?.Items ?? []).SelectMany(item => Dependencies(item, byName, file, shape))];

    /// <summary>
    /// The packages a dependency entry names. uv adds <c>version</c> and <c>source</c> only when the name alone is
    /// ambiguous (several versions locked for different markers).
    /// </summary>
    private static List<Package> Dependencies(TomlNode item, ILookup<string, Package> byName, string file, TomlShape shape)
    {
        if (shape.Expect<TomlTableNode>(item, "dependencies", "table") is not { } dep || shape.RequiredString(dep, "name", "a dependency") is not { } name)
        {
            return [];
        }
        var candidates = byName[Component.NormalizePyPIName(name)].ToList();
        if (dep.GetString("version") is { } version && candidates.Count > 1)
        {
            candidates = [.. candidates.Where(c => c.Table.GetString("version") == version)];
        }
        if (dep.GetTable("source") is { } source && candidates.Count > 1)
        {
            var (kind, value) = source.Entries.Count > 0 && source.Entries[0].Value is TomlScalarNode s ? (source.Entries[0].Key, s.Text) : ("", "");
            candidates = [.. candidates.Where(c => c.SourceKind == kind && c.SourceValue == value)];
        }
        if (candidates.Count == 0)
        {
            shape.Report(DiagnosticIds.DanglingReference, DiagnosticSeverity.Warning, $"dependency '{name}' is not a [[package]] of this lockfile",
                dep.LocationIn(file), "the lockfile is inconsistent: run 'uv lock' again");
        }
        return candidates;
    }

    private static (string? Kind, string? Value, Origin Origin) Source(TomlTableNode table, TomlShape shape)
    {
        if (shape.Table(table, "source") is not { } source || source.Entries.Count == 0)
        {
            return (null, null, Origin.Registry());
        }
        foreach (var (kind, node) in source.Entries)
        {
            if (node is not TomlScalarNode { Kind: TomlScalarKind.String } s)
            {
                continue;
            }
            var value = s.Text;
            Origin origin = kind switch
            {
                "registry" => Origin.Registry(value),
                "git" => new Origin(OriginKind.Git, value),
                "url" => new Origin(OriginKind.Url, value),
                "path" or "directory" => new Origin(OriginKind.File, value),
                "editable" or "virtual" => new Origin(OriginKind.Workspace, value),
                _ => Origin.Registry(),
            };
            return (kind, value, origin);
        }
        return (null, null, Origin.Registry());
    }

    /// <summary>The workspace members: <c>[manifest].members</c> when present, else the project at <c>"."</c>.</summary>
    private static List<Package> Members(TomlTableNode doc, List<Package> packages)
    {
        var local = packages.Where(p => p.SourceKind is "editable" or "virtual").ToList();
        if (doc.GetTable("manifest")?.GetArray("members") is { } members)
        {
            var names = members.Items.OfType<TomlScalarNode>().Select(s => Component.NormalizePyPIName(s.Text)).ToHashSet(StringComparer.Ordinal);
            return [.. local.Where(p => names.Contains(Component.NormalizePyPIName(p.Name))).OrderBy(p => p.SourceValue == "." ? 0 : 1)];
        }
        return [.. local.Where(p => p.SourceValue == ".")];
    }
}
