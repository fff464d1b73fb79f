using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// Reads a built application's *.deps.json: what the .NET host loads at run time. <c>targets</c> list
/// <c>Name/Version</c> entries with their dependencies; <c>libraries</c> give each entry's type and SRI hash.
/// The application itself is the entry of type <c>project</c> named like the file; other projects are workspace
/// components. Reference assemblies and runtime packs are the framework, not dependencies, and are left out.
/// </summary>
internal static class DepsJsonReader
{
    /// <summary>The application the file describes (its name and version), or null when the file could not be read.</summary>
    public static (string? Name, string? Version)? Read(string path, NuGetGraphBuilder builder, DiagnosticBag diagnostics)
    {
        var shown = InputFile.DisplayPath(path);
        var root = LocatedJson.ParseFile(path, diagnostics);
        if (root is null)
        {
            return null;
        }
        if (root["targets"] is not { IsObject: true } targets)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "expected an object with 'targets' (a .deps.json file)",
                (root["targets"] ?? root).LocationIn(shown));
            return null;
        }
        var libraries = root["libraries"] is { IsObject: true } libs ? libs : null;

        // The application: the project entry named like the file (App.deps.json describes App), else the first project.
        var fileName = Path.GetFileName(path);
        var appName = fileName.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase) ? fileName[..^".deps.json".Length] : fileName;
        var projects = targets.Properties.SelectMany(t => t.Value.Properties)
            .Where(e => string.Equals(TypeOf(e.Key, e.Value, libraries), "project", StringComparison.OrdinalIgnoreCase))
            .Select(e => e.Key).ToList();
        var app = projects.FirstOrDefault(p => string.Equals(Split(p).Name, appName, StringComparison.OrdinalIgnoreCase)) ?? projects.FirstOrDefault();
        var (rootName, rootVersion) = app is null ? (null, null) : Split(app);

        var resolved = new Dictionary<string, Dictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        var entries = new List<(string Target, string? Key, string Name, JsonNode Entry)>();
        foreach (var (target, section) in targets.Properties)
        {
            var map = resolved[target] = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (nameVersion, entry) in section.Properties)
            {
                var (name, version) = Split(nameVersion);
                if (name.Length == 0 || version.Length == 0 || !entry.IsObject)
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"'{nameVersion}' should be Name/Version with an object value; skipped",
                        entry.LocationIn(shown));
                    continue;
                }
                if (nameVersion == app)
                {
                    entries.Add((target, null, name, entry));
                    continue;
                }
                var type = TypeOf(nameVersion, entry, libraries);
                Component component;
                if (type.Equals("package", StringComparison.OrdinalIgnoreCase))
                {
                    component = NuGetGraphBuilder.Package(name, version, entry.LocationIn(shown),
                        IntegrityHash.ParseSri(libraries?[nameVersion]?.GetString("sha512")));
                }
                else if (type.Equals("project", StringComparison.OrdinalIgnoreCase))
                {
                    component = NuGetGraphBuilder.Project(name, version, name, entry.LocationIn(shown));
                }
                else
                {
                    continue;
                }
                map[name] = builder.Add(component);
                entries.Add((target, map[name], name, entry));
            }
        }
        foreach (var (target, key, name, entry) in entries)
        {
            foreach (var (dependency, _) in entry["dependencies"]?.Properties ?? [])
            {
                if (resolved[target].GetValueOrDefault(dependency) is not { } to)
                {
                    // Dependencies on the framework itself (reference assemblies) have no entry of their own.
                    continue;
                }
                if (key is null)
                {
                    builder.AddDirect(to, false);
                }
                else
                {
                    builder.AddEdge(key, to);
                }
            }
        }
        return (rootName, rootVersion);
    }

    private static string TypeOf(string nameVersion, JsonNode entry, JsonNode? libraries) =>
        libraries?[nameVersion]?.GetString("type") ?? entry.GetString("type") ?? "package";

    private static (string Name, string Version) Split(string nameVersion)
    {
        var slash = nameVersion.LastIndexOf('/');
        return slash < 0 ? (nameVersion, "") : (nameVersion[..slash], nameVersion[(slash + 1)..]);
    }
}
