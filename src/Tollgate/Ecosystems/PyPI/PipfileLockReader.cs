using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// Reads Pipfile.lock (JSON, pipfile-spec up to 6). The lock records no dependency edges, so every entry hangs from
/// the project root; an entry is direct when the Pipfile beside the lock names it (all are direct without a Pipfile).
/// <c>default</c> entries are prod, <c>develop</c> entries dev.
/// </summary>
internal static class PipfileLockReader
{
    public const int SupportedSpec = 6;

    public static IReadOnlyList<ProjectGraph> Read(string lockPath, PythonManifest? pipfile, PythonManifest? pyproject, IReadOnlyList<string> files, DiagnosticBag diagnostics)
    {
        var file = InputFile.DisplayPath(lockPath);
        var doc = LocatedJson.ParseFile(lockPath, diagnostics);
        if (doc is null)
        {
            return [];
        }
        if (!doc.IsObject || doc["_meta"] is not { IsObject: true } meta)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "Pipfile.lock has no _meta object", doc.LocationIn(file),
                "is this really a Pipfile.lock? regenerate it with 'pipenv lock'");
            return [];
        }
        if (meta.GetInt64("pipfile-spec") is { } spec && (spec > SupportedSpec || spec < 1))
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"Pipfile.lock pipfile-spec {spec} is not supported (this release reads up to {SupportedSpec})",
                meta["pipfile-spec"]!.LocationIn(file), "upgrade tollgate, or regenerate the lockfile with a pipenv release that writes pipfile-spec 6");
            return [];
        }
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in meta["sources"]?.Items ?? [])
        {
            if (source.GetString("name") is { } name && source.GetString("url") is { } url)
            {
                sources[name] = url;
            }
        }

        var graph = new LockGraph();
        var declared = pipfile?.ByName;
        var direct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (section, scope) in new[] { ("default", DependencyScopes.Prod), ("develop", DependencyScopes.Dev) })
        {
            if (doc[section] is not { } entries)
            {
                continue;
            }
            if (!entries.IsObject)
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, $"'{section}' is {entries.Kind}; expected an object", entries.LocationIn(file),
                    "the file does not have the shape its format requires; was it edited by hand?");
                continue;
            }
            foreach (var (name, entry) in entries.Properties)
            {
                if (!entry.IsObject)
                {
                    diagnostics.Error(DiagnosticIds.UnexpectedShape, $"entry '{name}' is {entry.Kind}; expected an object", entry.LocationIn(file),
                        "the file does not have the shape its format requires; was it edited by hand?");
                    continue;
                }
                if (!PackageNames.Check(Ecosystem.PyPI, name, entry.LocationIn(file), diagnostics))
                {
                    continue;
                }
                var key = graph.Add(Entry(name, entry, scope, sources, file));
                // [packages] names are direct in "default", [dev-packages] names in "develop"; a name locked at two
                // versions for the two sections is direct only in its own.
                if (declared is null || declared[Component.NormalizePyPIName(name)].Any(d => d.Scope == scope))
                {
                    direct.Add(key);
                }
            }
        }

        var root = new ProjectRoot(ProjectRoot.KeyFor(file), Ecosystem.PyPI, pyproject?.Name, pyproject?.Version, file, [.. files]);
        var graphWithDirect = graph.Build(root, graph.Nodes.Values.Select(c => (c.Key, c.Scopes)), propagateScopes: false);
        // Every entry hangs from the root (the lock has no edges), but only the Pipfile's names are direct.
        return [graphWithDirect with { Components = [.. graphWithDirect.Components.Select(c => c with { Direct = direct.Contains(c.Key) })] }];
    }

    private static Component Entry(string name, JsonNode entry, DependencyScopes scope, Dictionary<string, string> sources, string file)
    {
        var integrity = (entry["hashes"]?.Items ?? []).Select(h => PyPIComponents.ParseHash(h.Text)).OfType<IntegrityHash>().ToList();
        var location = entry.LocationIn(file);
        var version = entry.GetString("version");
        if (version is not null)
        {
            version = version.StartsWith("===", StringComparison.Ordinal) ? version[3..] : version.StartsWith("==", StringComparison.Ordinal) ? version[2..] : version;
        }
        Origin origin;
        if (entry.GetString("git") is { } git)
        {
            origin = new Origin(OriginKind.Git, git);
            version ??= entry.GetString("ref");
        }
        else if (entry.GetString("file") is { } fileRef)
        {
            origin = PyPIComponents.OriginOfUrl(fileRef);
            version ??= PyPIComponents.VersionFromFileName(fileRef, name);
        }
        else if (entry.GetString("path") is { } path)
        {
            origin = new Origin(OriginKind.File, path);
        }
        else
        {
            origin = Origin.Registry(entry.GetString("index") is { } index ? sources.GetValueOrDefault(index) : null);
        }
        return PyPIComponents.Create(name, version ?? "*", location, origin, resolved: version is not null, scopes: scope, integrity: integrity);
    }
}
