using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>The kinds of file the NuGet reader understands.</summary>
internal enum NuGetFileKind
{
    None,
    /// <summary>packages.lock.json (or packages.&lt;project&gt;.lock.json).</summary>
    LockFile,
    /// <summary>obj/project.assets.json, the restore result.</summary>
    AssetsFile,
    /// <summary>*.csproj, *.fsproj, *.vbproj.</summary>
    ProjectFile,
    /// <summary>packages.config.</summary>
    PackagesConfig,
    /// <summary>*.deps.json beside a built application.</summary>
    DepsJson,
}

/// <summary>
/// Reads NuGet inputs into project graphs. Each project file is one project, read together with the
/// packages.lock.json beside it and its obj/project.assets.json (which discovery does not visit): the lockfile
/// decides the versions when there is one, else the assets file, else packages.config, else the project file
/// alone (declared ranges, unresolved). A lock, assets, packages.config or deps.json file without its project
/// file in the input is read alone.
/// </summary>
public sealed class NuGetReader : IEcosystemReader
{
    private static readonly string[] ProjectExtensions = [".csproj", ".fsproj", ".vbproj"];

    public Ecosystem Ecosystem => Ecosystem.NuGet;

    public bool IsInput(string fileName, bool named) => Classify(fileName, named) != NuGetFileKind.None;

    internal static NuGetFileKind Classify(string fileName, bool named)
    {
        var name = Path.GetFileName(fileName);
        if (ProjectExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
        {
            return NuGetFileKind.ProjectFile;
        }
        if (name.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase))
        {
            return NuGetFileKind.DepsJson;
        }
        if (name.Equals("packages.lock.json", StringComparison.OrdinalIgnoreCase)
            || (name.StartsWith("packages.", StringComparison.OrdinalIgnoreCase) && name.EndsWith(".lock.json", StringComparison.OrdinalIgnoreCase))
            || (named && name.EndsWith("packages.lock.json", StringComparison.OrdinalIgnoreCase)))
        {
            return NuGetFileKind.LockFile;
        }
        if (name.Equals("packages.config", StringComparison.OrdinalIgnoreCase)
            || (named && name.EndsWith("packages.config", StringComparison.OrdinalIgnoreCase)))
        {
            return NuGetFileKind.PackagesConfig;
        }
        // The assets file lives in obj/, which discovery skips: projects find theirs, users may name one.
        if (named && name.EndsWith("project.assets.json", StringComparison.OrdinalIgnoreCase))
        {
            return NuGetFileKind.AssetsFile;
        }
        return NuGetFileKind.None;
    }

    public IEnumerable<ProjectInput> Group(IReadOnlyList<string> files)
    {
        var consumed = new HashSet<string>(StringComparer.Ordinal);
        var inputs = new HashSet<string>(files, StringComparer.Ordinal);
        foreach (var project in files.Where(f => Classify(f, named: true) == NuGetFileKind.ProjectFile))
        {
            var dir = Path.GetDirectoryName(project)!;
            var group = new List<string>();
            if (FindLockFile(project) is { } lockFile)
            {
                group.Add(lockFile);
            }
            var assets = Path.Combine(dir, "obj", "project.assets.json");
            if (File.Exists(assets))
            {
                group.Add(assets);
            }
            var config = Path.Combine(dir, "packages.config");
            if (File.Exists(config))
            {
                group.Add(config);
            }
            group.Add(project);
            // A lockfile shared by several project files in one folder still belongs to each of them.
            consumed.UnionWith(group.Where(inputs.Contains));
            yield return new ProjectInput(Ecosystem.NuGet, dir, [.. group]);
        }
        foreach (var file in files.Where(f => !consumed.Contains(f)))
        {
            yield return new ProjectInput(Ecosystem.NuGet, Path.GetDirectoryName(file)!, [file]);
        }
    }

    public IReadOnlyList<ProjectGraph> Read(ProjectInput project, DiagnosticBag diagnostics)
    {
        var projectFile = project.Files.FirstOrDefault(f => Classify(f, named: true) == NuGetFileKind.ProjectFile);
        var graph = projectFile is null
            ? ReadAlone(project.Files[0], diagnostics)
            : ReadProject(projectFile, project.Files, diagnostics);
        return graph is null ? [] : [graph];
    }

    /// <summary>packages.lock.json beside the project, or NuGet's per-project name packages.&lt;project&gt;.lock.json.</summary>
    private static string? FindLockFile(string projectFile)
    {
        var dir = Path.GetDirectoryName(projectFile)!;
        var named = Path.Combine(dir, $"packages.{Path.GetFileNameWithoutExtension(projectFile)}.lock.json");
        var plain = Path.Combine(dir, "packages.lock.json");
        return File.Exists(named) ? named : File.Exists(plain) ? plain : null;
    }

    private static ProjectGraph? ReadAlone(string file, DiagnosticBag diagnostics)
    {
        var shown = InputFile.DisplayPath(file);
        var builder = new NuGetGraphBuilder(ProjectRoot.KeyFor(shown));
        string? name = null, version = null;
        switch (Classify(file, named: true))
        {
            case NuGetFileKind.LockFile:
                if (!PackagesLockReader.Read(file, builder, ProjectContext.Empty, diagnostics))
                {
                    return null;
                }
                break;
            case NuGetFileKind.AssetsFile:
                if (ProjectAssetsReader.Read(file, builder, ProjectContext.Empty, diagnostics) is not { } info)
                {
                    return null;
                }
                (name, version) = (info.Name, info.Version);
                break;
            case NuGetFileKind.PackagesConfig:
                if (!PackagesConfigReader.Read(file, builder, diagnostics))
                {
                    return null;
                }
                break;
            case NuGetFileKind.DepsJson:
                if (DepsJsonReader.Read(file, builder, diagnostics) is not { } app)
                {
                    return null;
                }
                (name, version) = app;
                break;
            default:
                return null;
        }
        return WithBuildCode(builder.Build(new ProjectRoot(builder.RootKey, Ecosystem.NuGet, name, version, shown, [shown])),
            Classify(file, named: true) == NuGetFileKind.AssetsFile ? file : null);
    }

    /// <summary>
    /// Marks the packages that carry build-time code (rule TG1011): from the restore's assets file (the package folder it
    /// names, else the file list it records), else from the global packages folder (<c>NUGET_PACKAGES</c> or
    /// <c>~/.nuget/packages</c>) where the restored package is on disk. Packages found in neither stay unmarked.
    /// </summary>
    private static ProjectGraph WithBuildCode(ProjectGraph graph, string? assetsFile)
    {
        var known = new Dictionary<string, ImmutableArray<string>>(StringComparer.OrdinalIgnoreCase);
        if (assetsFile is not null)
        {
            foreach (var package in NuGetBuildCodeScanner.Scan(assetsFile, Environment.GetEnvironmentVariable("NUGET_PACKAGES"), new DiagnosticBag()))
            {
                known[$"{package.Component.Name}/{package.Component.Version}"] = package.Files;
            }
        }
        var folders = new List<string>();
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured)
        {
            folders.Add(configured);
        }
        folders.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));
        var changed = false;
        var components = graph.Components.Select(c =>
        {
            if (c.Ecosystem != Ecosystem.NuGet || !c.Resolved || c.Origin.Kind != OriginKind.Registry)
            {
                return c;
            }
            var files = known.TryGetValue($"{c.Name}/{c.Version}", out var listed) ? listed
                : assetsFile is null ? NuGetBuildCodeScanner.OnDisk(folders, c.Name, c.Version) : [];
            if (files.IsDefaultOrEmpty)
            {
                return c;
            }
            changed = true;
            return c with { BuildCode = files };
        }).ToImmutableArray();
        return changed ? graph with { Components = components } : graph;
    }

    private static ProjectGraph? ReadProject(string projectFile, ImmutableArray<string> files, DiagnosticBag diagnostics)
    {
        var msbuild = MsBuildProject.Load(projectFile, diagnostics);
        var context = new ProjectContext(msbuild);
        var read = new List<string>();
        var name = msbuild?.Name ?? Path.GetFileNameWithoutExtension(projectFile);
        var version = msbuild?.Version;

        // The most authoritative file that can be read decides; a damaged lockfile falls back to the assets file.
        foreach (var file in files.Where(f => f != projectFile))
        {
            var shown = InputFile.DisplayPath(file);
            var builder = new NuGetGraphBuilder(ProjectRoot.KeyFor(shown));
            var ok = Classify(file, named: true) switch
            {
                NuGetFileKind.LockFile => PackagesLockReader.Read(file, builder, context, diagnostics),
                NuGetFileKind.AssetsFile => ProjectAssetsReader.Read(file, builder, context, diagnostics) is not null,
                NuGetFileKind.PackagesConfig => PackagesConfigReader.Read(file, builder, diagnostics),
                _ => false,
            };
            read.Add(shown);
            if (!ok)
            {
                continue;
            }
            if (Classify(file, named: true) == NuGetFileKind.PackagesConfig)
            {
                // packages.config knows nothing of project references; the project file does.
                AddProjectReferences(builder, context);
            }
            else
            {
                ReportStale(file, builder, msbuild, diagnostics);
            }
            var others = files.Where(f => f != file).Select(InputFile.DisplayPath);
            return WithBuildCode(builder.Build(new ProjectRoot(builder.RootKey, Ecosystem.NuGet, name, version, shown,
                [shown, .. others, .. msbuild?.Files.Where(f => f != InputFile.DisplayPath(projectFile)) ?? []])),
                files.FirstOrDefault(f => Classify(f, named: true) == NuGetFileKind.AssetsFile));
        }

        if (msbuild is null)
        {
            return null;
        }
        var projectShown = InputFile.DisplayPath(projectFile);
        var manifest = new NuGetGraphBuilder(ProjectRoot.KeyFor(projectShown));
        foreach (var package in msbuild.Packages)
        {
            if (package.Version is null)
            {
                continue;
            }
            // A bare version such as 1.2.3 means "1.2.3 or higher" to NuGet: without a restore result it is not a pin.
            var key = manifest.Add(NuGetGraphBuilder.Unresolved(package.Id, package.Version, package.Location, direct: true));
            manifest.AddDirect(key, package.Dev);
        }
        AddProjectReferences(manifest, context);
        if (read.Count == 0)
        {
            diagnostics.Info(DiagnosticIds.AuthoritativeFile,
                $"no packages.lock.json or obj/project.assets.json for {Path.GetFileName(projectFile)}: versions are the declared ranges and transitive packages are unknown",
                new SourceLocation(projectShown), "run dotnet restore, or set RestorePackagesWithLockFile to true and commit packages.lock.json");
        }
        return manifest.Build(new ProjectRoot(manifest.RootKey, Ecosystem.NuGet, name, version, projectShown,
            [projectShown, .. read, .. msbuild.Files.Where(f => f != projectShown)]));
    }

    /// <summary>
    /// A package the project file declares (unconditionally) that the restore result lacks means the lockfile or
    /// assets file predates the last edit: the graph shows what was restored, not what the project now asks for.
    /// </summary>
    private static void ReportStale(string file, NuGetGraphBuilder builder, MsBuildProject? msbuild, DiagnosticBag diagnostics)
    {
        foreach (var package in msbuild?.Packages.Where(p => !p.Conditional) ?? [])
        {
            if (!builder.HasName(package.Id))
            {
                diagnostics.Warning(DiagnosticIds.DanglingReference,
                    $"'{package.Id}' is declared here but {Path.GetFileName(file)} does not list it: the file is out of date",
                    package.Location, "run dotnet restore (with a lockfile: dotnet restore --force-evaluate) and commit the result");
            }
        }
    }

    private static void AddProjectReferences(NuGetGraphBuilder builder, ProjectContext context)
    {
        foreach (var reference in context.Project?.ProjectReferences ?? [])
        {
            var key = builder.Add(NuGetGraphBuilder.Project(reference.Name, context.VersionOf(reference),
                InputFile.DisplayPath(reference.FullPath), reference.Location));
            builder.AddDirect(key, false);
        }
    }
}
