using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// Reads packages.lock.json (versions 1 and 2): per target framework (and per runtime, as <c>net8.0/linux-x64</c>),
/// every package with its type (Direct, Transitive, CentralTransitive, Project), resolved version, content hash
/// and dependency ranges. The graph is the union over target frameworks; a dependency range points at the version
/// resolved for that package in the same framework.
/// </summary>
internal static class PackagesLockReader
{
    public static bool Read(string path, NuGetGraphBuilder builder, ProjectContext context, DiagnosticBag diagnostics)
    {
        var shown = InputFile.DisplayPath(path);
        var root = LocatedJson.ParseFile(path, diagnostics);
        if (root is null)
        {
            return false;
        }
        if (!root.IsObject)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "expected a JSON object at the top of packages.lock.json", root.LocationIn(shown));
            return false;
        }
        var version = root.GetInt64("version");
        if (version is not (1 or 2))
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion,
                $"packages.lock.json version {root["version"]?.ToString() ?? "(missing)"} is not supported; versions 1 and 2 are",
                (root["version"] ?? root).LocationIn(shown), "regenerate it with a current .NET SDK (dotnet restore --force-evaluate)");
            return false;
        }
        var frameworks = root["dependencies"];
        if (frameworks is not { IsObject: true })
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "'dependencies' should be an object of target frameworks",
                (frameworks ?? root).LocationIn(shown));
            return false;
        }

        // Pass 1: the package each name resolves to, per framework section.
        var resolved = new Dictionary<string, Dictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        var entries = new List<(string Framework, string Key, JsonNode Entry, string Type, string Name)>();
        foreach (var (framework, section) in frameworks.Properties)
        {
            if (!section.IsObject)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"target framework '{framework}' should be an object of packages; skipped",
                    section.LocationIn(shown));
                continue;
            }
            var map = resolved[framework] = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, entry) in section.Properties)
            {
                if (!PackageNames.Check(Ecosystem.NuGet, name, entry.LocationIn(shown), diagnostics))
                {
                    continue;
                }
                if (!entry.IsObject)
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"'{name}' should be an object with type and resolved version; skipped",
                        entry.LocationIn(shown));
                    continue;
                }
                var type = entry.GetString("type") ?? "";
                Component component;
                if (type.Equals("Project", StringComparison.OrdinalIgnoreCase))
                {
                    // NuGet writes project entries lower-cased and without a version; the project file has both.
                    var reference = context.Reference(name);
                    component = NuGetGraphBuilder.Project(
                        reference?.Name ?? name,
                        reference is null ? "1.0.0" : context.VersionOf(reference),
                        context.WorkspaceLocation(name, null, null),
                        entry.LocationIn(shown));
                }
                else if (entry.GetString("resolved") is { Length: > 0 } resolvedVersion)
                {
                    var hash = entry.GetString("contentHash");
                    component = NuGetGraphBuilder.Package(name, resolvedVersion, entry.LocationIn(shown),
                        hash is null ? [] : [new IntegrityHash("sha512", hash)]);
                }
                else
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"'{name}' has no resolved version; skipped", entry.LocationIn(shown));
                    continue;
                }
                var key = builder.Add(component);
                map[name] = key;
                entries.Add((framework, key, entry, type, name));
            }
        }

        // Pass 2: edges, and which entries the project references directly.
        var projectsReferencedByProjects = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (framework, key, entry, type, name) in entries)
        {
            var dependencies = entry["dependencies"];
            if (dependencies is null)
            {
                continue;
            }
            if (!dependencies.IsObject)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"the dependencies of '{name}' should be an object of name: range",
                    dependencies.LocationIn(shown));
                continue;
            }
            foreach (var (dependency, range) in dependencies.Properties)
            {
                var target = Lookup(resolved, framework, dependency);
                if (target is null)
                {
                    diagnostics.Warning(DiagnosticIds.DanglingReference,
                        $"'{name}' depends on '{dependency}' {range}, which the lockfile does not list for {framework}",
                        range.LocationIn(shown), "the lockfile may have been edited by hand; run dotnet restore --force-evaluate");
                    continue;
                }
                builder.AddEdge(key, target);
                if (type.Equals("Project", StringComparison.OrdinalIgnoreCase))
                {
                    projectsReferencedByProjects.Add(dependency);
                }
            }
        }
        foreach (var (_, key, _, type, name) in entries)
        {
            var direct = type.Equals("Direct", StringComparison.OrdinalIgnoreCase)
                || (type.Equals("Project", StringComparison.OrdinalIgnoreCase)
                    // Without the project file, a project no other project references must be referenced by the root.
                    && (context.KnowsProjectReferences ? context.Reference(name) is not null : !projectsReferencedByProjects.Contains(name)));
            if (direct)
            {
                builder.AddDirect(key, context.IsDev(name), context.DeclaredAt(name) ?? context.Reference(name)?.Location);
            }
        }
        return true;
    }

    /// <summary>A runtime section (<c>net8.0/linux-x64</c>) lists only runtime-specific packages; the rest are in its framework's.</summary>
    private static string? Lookup(Dictionary<string, Dictionary<string, string>> resolved, string framework, string name) =>
        resolved.GetValueOrDefault(framework)?.GetValueOrDefault(name)
        ?? resolved.GetValueOrDefault(NuGetGraphBuilder.BaseFramework(framework))?.GetValueOrDefault(name);
}
