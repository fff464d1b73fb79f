using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// Reads pylock.toml and pylock.NAME.toml (PEP 751, lock-version 1.x). The format records dependencies only for
/// auditing (<c>dependencies = [{name, version}]</c>), which is what the edges come from. A package whose marker
/// tests <c>dependency_groups</c> is dev, one testing <c>extras</c> optional.
/// </summary>
internal static class PylockReader
{
    public static readonly IReadOnlyList<int> SupportedMajors = [1];

    public static IReadOnlyList<ProjectGraph> Read(string lockPath, PythonManifest? manifest, IReadOnlyList<string> files, DiagnosticBag diagnostics)
    {
        var file = InputFile.DisplayPath(lockPath);
        var doc = LocatedToml.ParseFile(lockPath, diagnostics);
        if (doc is null)
        {
            return [];
        }
        var shape = new TomlShape(file, diagnostics);
        if (doc["lock-version"] is not { } versionNode)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "pylock.toml has no 'lock-version'", new SourceLocation(file, 1, 1),
                "PEP 751 requires lock-version = \"1.0\"; is this really a pylock file?");
            return [];
        }
        var versionText = (versionNode as TomlScalarNode)?.Text ?? "";
        if (!LockVersions.MajorIn(versionText, SupportedMajors))
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"pylock.toml lock-version '{versionText}' is not supported (this release reads 1.x)",
                versionNode.LocationIn(file), "upgrade tollgate, or export the lock again with lock-version 1.0");
            return [];
        }

        var graph = new LockGraph();
        var packages = new List<(TomlTableNode Table, string Key)>();
        foreach (var item in shape.Array(doc, "packages")?.Items ?? [])
        {
            if (shape.Expect<TomlTableNode>(item, "packages", "table") is not { } table
                || shape.RequiredString(table, "name", "a [[packages]] entry") is not { } name)
            {
                continue;
            }
            var vcs = shape.Table(table, "vcs");
            var directory = shape.Table(table, "directory");
            var archive = shape.Table(table, "archive");
            var version = shape.String(table, "version") ?? vcs?.GetString("commit-id");
            Origin origin = vcs is not null ? new Origin(OriginKind.Git, vcs.GetString("url") ?? vcs.GetString("path"))
                : directory is not null ? new Origin(OriginKind.File, directory.GetString("path"))
                : archive?.GetString("url") is { } archiveUrl ? new Origin(OriginKind.Url, archiveUrl)
                : archive is not null ? new Origin(OriginKind.File, archive.GetString("path"))
                : Origin.Registry(shape.String(table, "index"));
            var integrity = new List<IntegrityHash>();
            AddHashes(archive, integrity);
            AddHashes(shape.Table(table, "sdist"), integrity);
            foreach (var wheel in shape.Array(table, "wheels")?.Items ?? [])
            {
                AddHashes(wheel as TomlTableNode, integrity);
            }
            var marker = shape.String(table, "marker") ?? "";
            var scopes = marker.Contains("dependency_groups", StringComparison.Ordinal) ? DependencyScopes.Dev
                : marker.Contains("extras", StringComparison.Ordinal) ? DependencyScopes.Optional
                : DependencyScopes.Prod;
            if (!PackageNames.Check(Ecosystem.PyPI, name, (table["name"] ?? table).LocationIn(file), diagnostics))
            {
                continue;
            }
            var component = PyPIComponents.Create(name, version ?? "*", (table["name"] ?? table).LocationIn(file), origin,
                resolved: version is not null, scopes: scopes, integrity: integrity);
            packages.Add((table, graph.Add(component)));
        }

        var byName = packages.ToLookup(p => graph.Nodes[p.Key].Name, StringComparer.Ordinal);
        var anyDependencies = false;
        foreach (var (table, key) in packages)
        {
            foreach (var item in shape.Array(table, "dependencies")?.Items ?? [])
            {
                anyDependencies = true;
                if (shape.Expect<TomlTableNode>(item, "dependencies", "table") is not { } dep || dep.GetString("name") is not { } depName)
                {
                    continue;
                }
                var targets = byName[Component.NormalizePyPIName(depName)].ToList();
                if (targets.Count > 1 && dep.GetString("version") is { } v)
                {
                    targets = [.. targets.Where(t => graph.Nodes[t.Key].Version == v)];
                }
                if (targets.Count == 0)
                {
                    shape.Report(DiagnosticIds.DanglingReference, DiagnosticSeverity.Warning, $"dependency '{depName}' is not a [[packages]] entry of this lockfile",
                        dep.LocationIn(file), "the lockfile is inconsistent: export it again");
                }
                foreach (var target in targets)
                {
                    graph.AddEdge(key, target.Key);
                }
            }
        }

        var root = new ProjectRoot(ProjectRoot.KeyFor(file), Ecosystem.PyPI, manifest?.Name, manifest?.Version, file, [.. files]);
        // Without recorded dependencies nothing says which packages are transitive: all are direct, as in a requirements file.
        var direct = manifest is not null ? PdmLockReader.ManifestDirect(graph, manifest)
            : anyDependencies ? PoetryLockReader.DirectKeys(graph, null)
            : graph.Nodes.Values.Select(c => (c.Key, c.Scopes));
        return [graph.Build(root, direct, propagateScopes: false)];
    }

    private static void AddHashes(TomlTableNode? entry, List<IntegrityHash> integrity)
    {
        foreach (var (algorithm, value) in entry?.GetTable("hashes")?.Entries ?? [])
        {
            if (value is TomlScalarNode { Kind: TomlScalarKind.String } s)
            {
                integrity.Add(new IntegrityHash(algorithm.ToLowerInvariant(), s.Text));
            }
        }
    }
}
