using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// Reads poetry.lock, lock versions 1.x (<c>category</c>, hashes under <c>[metadata.files]</c> in 1.1 and older) and
/// 2.x (<c>groups</c>, <c>files</c> per package). The lock records each package's group, so scopes come from the lock;
/// which packages are direct comes from pyproject.toml when it is beside the lock.
/// </summary>
internal static class PoetryLockReader
{
    /// <summary>The lock-version majors this release understands.</summary>
    public static readonly IReadOnlyList<int> SupportedMajors = [1, 2];

    public static IReadOnlyList<ProjectGraph> Read(string lockPath, PythonManifest? manifest, IReadOnlyList<string> files, DiagnosticBag diagnostics)
    {
        var file = InputFile.DisplayPath(lockPath);
        var doc = LocatedToml.ParseFile(lockPath, diagnostics);
        if (doc is null)
        {
            return [];
        }
        var shape = new TomlShape(file, diagnostics);
        var metadata = shape.Table(doc, "metadata");
        if (metadata?["lock-version"] is { } versionNode)
        {
            var text = (versionNode as TomlScalarNode)?.Text ?? "";
            if (!LockVersions.MajorIn(text, SupportedMajors))
            {
                diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"poetry.lock lock-version '{text}' is not supported (this release reads 1.x and 2.x)",
                    versionNode.LocationIn(file), "upgrade tollgate, or regenerate the lockfile with a Poetry release that writes lock-version 2.x");
                return [];
            }
        }
        else if (doc["package"] is null && metadata is null)
        {
            // Poetry writes [metadata] in every lockfile, even for a project without dependencies: an empty file or
            // one without either table was not written by Poetry, and its packages (if any) are unknown.
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "poetry.lock has neither [[package]] entries nor a [metadata] table: the file is empty or not a Poetry lockfile",
                new SourceLocation(file, 1, 1), "regenerate it with 'poetry lock'");
            return [];
        }
        else if (doc["package"] is not null && metadata is null)
        {
            diagnostics.Warning(DiagnosticIds.UnexpectedShape, "poetry.lock has no [metadata] table", new SourceLocation(file, 1, 1),
                "the file may be truncated: regenerate it with 'poetry lock'");
        }
        var legacyFiles = metadata?.GetTable("files");

        var graph = new LockGraph();
        var packages = new List<(TomlTableNode Table, string Key)>();
        foreach (var item in shape.Array(doc, "package")?.Items ?? [])
        {
            if (shape.Expect<TomlTableNode>(item, "package", "table") is not { } table
                || shape.RequiredString(table, "name", "a [[package]]") is not { } name
                || shape.RequiredString(table, "version", $"package '{name}'") is not { } version)
            {
                continue;
            }
            var integrity = new List<IntegrityHash>();
            var fileList = shape.Array(table, "files") ?? legacyFiles?.GetArray(name) ?? legacyFiles?.GetArray(Component.NormalizePyPIName(name));
            foreach (var entry in fileList?.Items ?? [])
            {
                if (entry is TomlTableNode f && PyPIComponents.ParseHash(f.GetString("hash")) is { } hash)
                {
                    integrity.Add(hash);
                }
            }
            if (!PackageNames.Check(Ecosystem.PyPI, name, (table["name"] ?? table).LocationIn(file), diagnostics))
            {
                continue;
            }
            var component = PyPIComponents.Create(name, version, (table["name"] ?? table).LocationIn(file),
                Origin(shape.Table(table, "source")), scopes: Scopes(table, shape), integrity: integrity);
            packages.Add((table, graph.Add(component)));
        }

        var byName = packages.ToLookup(p => graph.Nodes[p.Key].Name, StringComparer.Ordinal);
        foreach (var (table, key) in packages)
        {
            foreach (var (depName, _) in shape.Table(table, "dependencies")?.Entries ?? [])
            {
                foreach (var target in byName[Component.NormalizePyPIName(depName)])
                {
                    graph.AddEdge(key, target.Key);
                }
            }
        }

        var root = new ProjectRoot(ProjectRoot.KeyFor(file), Ecosystem.PyPI, manifest?.Name, manifest?.Version, file, [.. files]);
        return [graph.Build(root, DirectKeys(graph, manifest), propagateScopes: false)];
    }

    /// <summary>The root's dependencies: the manifest's names found in the lock, else every package nobody depends on.</summary>
    internal static IEnumerable<(string Key, DependencyScopes Scope)> DirectKeys(LockGraph graph, PythonManifest? manifest)
    {
        if (manifest is null)
        {
            return graph.Heads().Select(k => (k, graph.Nodes[k].Scopes));
        }
        var declared = manifest.ByName;
        return graph.Nodes.Values.Where(c => declared.Contains(c.Name)).Select(c => (c.Key, c.Scopes));
    }

    private static DependencyScopes Scopes(TomlTableNode table, TomlShape shape)
    {
        var scopes = DependencyScopes.None;
        if (shape.String(table, "category") is { } category)
        {
            scopes = category == "main" ? DependencyScopes.Prod : DependencyScopes.Dev;
        }
        if (shape.Array(table, "groups") is { } groups)
        {
            scopes = DependencyScopes.None;
            foreach (var g in groups.Items.OfType<TomlScalarNode>())
            {
                scopes |= g.Text == "main" ? DependencyScopes.Prod : DependencyScopes.Dev;
            }
        }
        if (scopes == DependencyScopes.None)
        {
            scopes = DependencyScopes.Prod;
        }
        // An optional package is installed only when an extra asks for it.
        if (table.GetBool("optional") == true)
        {
            scopes = (scopes & ~DependencyScopes.Prod) | DependencyScopes.Optional;
        }
        return scopes;
    }

    private static Origin Origin(TomlTableNode? source)
    {
        if (source?.GetString("url") is not { } url)
        {
            return Graph.Origin.Registry();
        }
        return source.GetString("type") switch
        {
            "git" => new Origin(OriginKind.Git, url),
            "url" => new Origin(OriginKind.Url, url),
            "file" or "directory" => new Origin(OriginKind.File, url),
            _ => Graph.Origin.Registry(url),
        };
    }
}

/// <summary>Checks of lockfile format versions written as text (<c>"2.1"</c>, <c>"4.5.0"</c>).</summary>
internal static class LockVersions
{
    /// <summary>True when the text is a dotted version whose major part is one of <paramref name="majors"/>.</summary>
    public static bool MajorIn(string text, IReadOnlyList<int> majors)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var major = dot < 0 ? text : text[..dot];
        return int.TryParse(major, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m) && majors.Contains(m);
    }
}
