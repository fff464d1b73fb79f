using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// Reads obj/project.assets.json (versions 3 and 4), the full restore result: <c>targets</c> per framework (and
/// runtime) with every package or project as <c>Name/Version</c> and its dependencies, <c>libraries</c> with
/// hashes and paths, and the <c>project</c> section whose <c>frameworks.*.dependencies</c> are the direct
/// references. A reference with <c>suppressParent: All</c> (PrivateAssets="all") is a build-time dependency:
/// it and whatever only it pulls in get the dev scope.
/// </summary>
internal static class ProjectAssetsReader
{
    /// <summary>What the assets file says about the project itself.</summary>
    internal sealed record ProjectInfo(string? Name, string? Version);

    public static ProjectInfo? Read(string path, NuGetGraphBuilder builder, ProjectContext context, DiagnosticBag diagnostics)
    {
        var shown = InputFile.DisplayPath(path);
        var root = LocatedJson.ParseFile(path, diagnostics);
        if (root is null)
        {
            return null;
        }
        if (!root.IsObject)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "expected a JSON object at the top of project.assets.json", root.LocationIn(shown));
            return null;
        }
        var version = root.GetInt64("version");
        if (version is not (3 or 4))
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion,
                $"project.assets.json version {root["version"]?.ToString() ?? "(missing)"} is not supported; versions 3 and 4 are",
                (root["version"] ?? root).LocationIn(shown), "restore the project again with a current .NET SDK");
            return null;
        }
        var targets = root["targets"];
        if (targets is not { IsObject: true })
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "'targets' should be an object of target frameworks", (targets ?? root).LocationIn(shown));
            return null;
        }
        var libraries = root["libraries"] is { IsObject: true } libs ? libs : null;
        var project = root["project"] is { IsObject: true } p ? p : null;
        // Paths of project libraries are relative to the project's folder, which holds obj/.
        var assetsDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var projectDir = string.Equals(Path.GetFileName(assetsDir), "obj", StringComparison.OrdinalIgnoreCase)
            ? Path.GetDirectoryName(assetsDir)
            : null;

        var resolved = new Dictionary<string, Dictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        var projectFiles = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var entries = new List<(string Target, string Key, string Name, JsonNode Entry)>();
        foreach (var (target, section) in targets.Properties)
        {
            if (!section.IsObject)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"target '{target}' should be an object of packages; skipped", section.LocationIn(shown));
                continue;
            }
            var map = resolved[target] = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (nameVersion, entry) in section.Properties)
            {
                var slash = nameVersion.LastIndexOf('/');
                if (slash <= 0 || slash == nameVersion.Length - 1 || !entry.IsObject)
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"'{nameVersion}' should be Name/Version with an object value; skipped",
                        entry.LocationIn(shown));
                    continue;
                }
                var (name, packageVersion) = (nameVersion[..slash], nameVersion[(slash + 1)..]);
                var library = libraries?[nameVersion];
                var type = entry.GetString("type") ?? library?.GetString("type") ?? "package";
                Component component;
                if (type.Equals("project", StringComparison.OrdinalIgnoreCase))
                {
                    var relativeNode = library?["msbuildProject"] is { IsString: true } written ? written : library?["path"] is { IsString: true } libraryPath ? libraryPath : null;
                    var relative = relativeNode?.Text;
                    if (relativeNode is not null && relative is not null
                        && InputPath.Resolve(projectDir ?? assetsDir, relative.Replace('\\', '/'), relativeNode.LocationIn(shown), diagnostics) is null)
                    {
                        // Reported; the project is named without its path.
                        relative = null;
                    }
                    if (relative is not null)
                    {
                        projectFiles[Path.GetFileNameWithoutExtension(relative.Replace('\\', '/'))] = nameVersion;
                    }
                    component = NuGetGraphBuilder.Project(name, packageVersion,
                        context.WorkspaceLocation(name, relative, projectDir), entry.LocationIn(shown));
                }
                else
                {
                    var sha512 = library?.GetString("sha512");
                    component = NuGetGraphBuilder.Package(name, packageVersion, entry.LocationIn(shown),
                        sha512 is null ? [] : [new IntegrityHash("sha512", sha512)]);
                }
                var key = builder.Add(component);
                map[name] = key;
                entries.Add((target, key, name, entry));
            }
        }

        foreach (var (target, key, name, entry) in entries)
        {
            if (entry["dependencies"] is not { IsObject: true } dependencies)
            {
                continue;
            }
            foreach (var (dependency, range) in dependencies.Properties)
            {
                var to = resolved.GetValueOrDefault(target)?.GetValueOrDefault(dependency)
                    ?? resolved.GetValueOrDefault(NuGetGraphBuilder.BaseFramework(target))?.GetValueOrDefault(dependency);
                if (to is null)
                {
                    diagnostics.Warning(DiagnosticIds.DanglingReference,
                        $"'{name}' depends on '{dependency}' {range}, which target {target} does not list",
                        range.LocationIn(shown), "restore the project again");
                    continue;
                }
                builder.AddEdge(key, to);
            }
        }

        if (project?["frameworks"] is { IsObject: true } frameworks)
        {
            foreach (var (framework, section) in frameworks.Properties)
            {
                if (section["dependencies"] is not { IsObject: true } direct)
                {
                    continue;
                }
                foreach (var (name, reference) in direct.Properties)
                {
                    var dev = string.Equals(reference.GetString("suppressParent")?.Trim(), "All", StringComparison.OrdinalIgnoreCase);
                    MarkDirect(framework, name, dev, context.DeclaredAt(name) ?? reference.LocationIn(shown));
                }
            }
            if (project["restore"]?["frameworks"] is { IsObject: true } restoreFrameworks)
            {
                foreach (var (framework, section) in restoreFrameworks.Properties)
                {
                    foreach (var (referencePath, reference) in section["projectReferences"]?.Properties ?? [])
                    {
                        var file = Path.GetFileNameWithoutExtension(referencePath.Replace('\\', '/'));
                        var name = projectFiles.TryGetValue(file, out var nameVersion) ? nameVersion[..nameVersion.LastIndexOf('/')] : file;
                        MarkDirect(framework, name, false, context.Reference(file)?.Location ?? reference.LocationIn(shown));
                    }
                }
            }
        }
        else if (root["projectFileDependencyGroups"] is { IsObject: true } groups)
        {
            // Older assets files without a project section: "Name >= Version" per framework.
            foreach (var (framework, list) in groups.Properties)
            {
                foreach (var item in list.Items)
                {
                    var text = item.Text ?? "";
                    var space = text.IndexOf(' ', StringComparison.Ordinal);
                    var name = space < 0 ? text : text[..space];
                    MarkDirect(framework, name, context.IsDev(name), context.DeclaredAt(name) ?? item.LocationIn(shown));
                }
            }
        }
        else
        {
            diagnostics.Warning(DiagnosticIds.UnexpectedShape, "no 'project' section: the direct dependencies are unknown",
                root.LocationIn(shown), "restore the project again with a current .NET SDK");
        }

        return new ProjectInfo(
            project?["restore"]?.GetString("projectName"),
            project?.GetString("version"));

        void MarkDirect(string framework, string name, bool dev, SourceLocation location)
        {
            // The targets of a framework are keyed by its alias (assets v4) or its full name (v3); use every target when none matches.
            var matching = resolved.Where(t => string.Equals(NuGetGraphBuilder.BaseFramework(t.Key), framework, StringComparison.OrdinalIgnoreCase)).ToList();
            var found = false;
            foreach (var (_, map) in matching.Count > 0 ? matching : [.. resolved])
            {
                if (map.TryGetValue(name, out var key))
                {
                    builder.AddDirect(key, dev, location);
                    found = true;
                }
            }
            if (!found)
            {
                diagnostics.Warning(DiagnosticIds.DanglingReference,
                    $"the project references '{name}' for {framework}, but no target lists it", location, "restore the project again");
            }
        }
    }
}
