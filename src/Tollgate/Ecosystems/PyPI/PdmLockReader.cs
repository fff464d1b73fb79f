using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// Reads pdm.lock (lock_version 3.x and 4.x). Dependencies are PEP 508 strings; packages locked with extras appear
/// again as <c>name</c> + <c>extras</c> entries and are merged into one component. Package <c>groups</c> give scopes:
/// <c>default</c> is prod, an extra of the project is optional, any other group is dev.
/// </summary>
internal static class PdmLockReader
{
    public static readonly IReadOnlyList<int> SupportedMajors = [3, 4];

    public static IReadOnlyList<ProjectGraph> Read(string lockPath, PythonManifest? manifest, IReadOnlyList<string> files, DiagnosticBag diagnostics)
    {
        var file = InputFile.DisplayPath(lockPath);
        var doc = LocatedToml.ParseFile(lockPath, diagnostics);
        if (doc is null)
        {
            return [];
        }
        var shape = new TomlShape(file, diagnostics);
        var versionNode = shape.Table(doc, "metadata")?["lock_version"];
        if (versionNode is null)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "pdm.lock has no [metadata] lock_version", new SourceLocation(file, 1, 1),
                "is this really a pdm.lock? regenerate it with 'pdm lock'");
            return [];
        }
        var versionText = (versionNode as TomlScalarNode)?.Text ?? "";
        if (!LockVersions.MajorIn(versionText, SupportedMajors))
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"pdm.lock lock_version '{versionText}' is not supported (this release reads 3.x and 4.x)",
                versionNode.LocationIn(file), "upgrade tollgate, or regenerate the lockfile with a PDM release that writes lock_version 4.x");
            return [];
        }
        var optionalGroups = manifest?.Dependencies.Where(d => d.Scope == DependencyScopes.Optional && d.Group is not null)
            .Select(d => d.Group!).ToHashSet(StringComparer.Ordinal) ?? [];

        var graph = new LockGraph();
        var packages = new List<(TomlTableNode Table, string Key)>();
        var anyGroups = false;
        foreach (var item in shape.Array(doc, "package")?.Items ?? [])
        {
            if (shape.Expect<TomlTableNode>(item, "package", "table") is not { } table
                || shape.RequiredString(table, "name", "a [[package]]") is not { } name
                || shape.RequiredString(table, "version", $"package '{name}'") is not { } version)
            {
                continue;
            }
            var integrity = new List<IntegrityHash>();
            foreach (var entry in shape.Array(table, "files")?.Items ?? [])
            {
                if (entry is TomlTableNode f && PyPIComponents.ParseHash(f.GetString("hash")) is { } hash)
                {
                    integrity.Add(hash);
                }
            }
            var scopes = DependencyScopes.None;
            if (shape.Array(table, "groups") is { } groups)
            {
                anyGroups = true;
                foreach (var g in groups.Items.OfType<TomlScalarNode>())
                {
                    scopes |= g.Text == "default" ? DependencyScopes.Prod
                        : optionalGroups.Contains(g.Text) ? DependencyScopes.Optional
                        : DependencyScopes.Dev;
                }
            }
            var origin = table.GetString("git") is { } git ? new Origin(OriginKind.Git, git)
                : table.GetString("url") is { } url ? new Origin(OriginKind.Url, url)
                : table.GetString("path") is { } path ? new Origin(OriginKind.File, path)
                : Origin.Registry();
            if (!PackageNames.Check(Ecosystem.PyPI, name, (table["name"] ?? table).LocationIn(file), diagnostics))
            {
                continue;
            }
            var component = PyPIComponents.Create(name, version, (table["name"] ?? table).LocationIn(file), origin,
                scopes: scopes == DependencyScopes.None ? DependencyScopes.Prod : scopes, integrity: integrity);
            packages.Add((table, graph.Add(component)));
        }

        var byName = packages.ToLookup(p => graph.Nodes[p.Key].Name, StringComparer.Ordinal);
        foreach (var (table, key) in packages)
        {
            foreach (var item in shape.Array(table, "dependencies")?.Items ?? [])
            {
                if (item is not TomlScalarNode { Kind: TomlScalarKind.String } s)
                {
                    shape.WrongType(item, "a dependency", "string");
                    continue;
                }
                if (!PythonRequirement.TryParse(s.Text, out var req, out var error, out var offset))
                {
                    shape.Report(DiagnosticIds.InvalidEntry, DiagnosticSeverity.Error, $"cannot parse dependency '{s.Text}': {error}",
                        new SourceLocation(file, s.Line, s.Column + 1 + offset), "regenerate the lockfile with 'pdm lock'");
                    continue;
                }
                var targets = byName[Component.NormalizePyPIName(req.Name)].ToList();
                // "name==1.0" pins one of several locked versions.
                if (targets.Count > 1 && req.PinnedVersion is { } pin)
                {
                    targets = [.. targets.Where(t => graph.Nodes[t.Key].Version == pin)];
                }
                if (targets.Count == 0)
                {
                    shape.Report(DiagnosticIds.DanglingReference, DiagnosticSeverity.Warning, $"dependency '{req.Name}' is not a [[package]] of this lockfile",
                        s.LocationIn(file), "the lockfile is inconsistent: run 'pdm lock' again");
                }
                foreach (var target in targets)
                {
                    graph.AddEdge(key, target.Key);
                }
            }
        }

        var root = new ProjectRoot(ProjectRoot.KeyFor(file), Ecosystem.PyPI, manifest?.Name, manifest?.Version, file, [.. files]);
        var direct = manifest is null
            ? PoetryLockReader.DirectKeys(graph, null)
            : ManifestDirect(graph, manifest);
        return [graph.Build(root, direct, propagateScopes: !anyGroups)];
    }

    /// <summary>Direct packages with the scope the manifest declares them with.</summary>
    internal static IEnumerable<(string Key, DependencyScopes Scope)> ManifestDirect(LockGraph graph, PythonManifest manifest)
    {
        var declared = manifest.ByName;
        foreach (var c in graph.Nodes.Values)
        {
            var scopes = declared[c.Name].Aggregate(DependencyScopes.None, (s, d) => s | d.Scope);
            if (scopes != DependencyScopes.None)
            {
                yield return (c.Key, scopes);
            }
        }
    }
}
