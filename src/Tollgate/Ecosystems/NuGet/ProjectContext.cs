using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// What the project file tells the lock and assets readers: where each direct dependency was declared, which
/// are private assets, and which project files the project references (to name workspace components).
/// Empty when a lockfile is read alone.
/// </summary>
internal sealed class ProjectContext
{
    private readonly Dictionary<string, SourceLocation> _declaredAt = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _dev = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ProjectReferenceDeclaration> _references = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _versions = new(StringComparer.Ordinal);

    public static ProjectContext Empty { get; } = new(null);

    public ProjectContext(MsBuildProject? project)
    {
        Project = project;
        foreach (var p in project?.Packages ?? [])
        {
            _declaredAt.TryAdd(p.Id, p.Location);
            if (p.Dev)
            {
                _dev.Add(p.Id);
            }
        }
        foreach (var r in project?.ProjectReferences ?? [])
        {
            _references.TryAdd(r.Name, r);
        }
    }

    public MsBuildProject? Project { get; }

    /// <summary>True when the project file says which projects it references (so direct ones are known).</summary>
    public bool KnowsProjectReferences => Project is not null;

    public SourceLocation? DeclaredAt(string id) => _declaredAt.GetValueOrDefault(id);

    public bool IsDev(string id) => _dev.Contains(id);

    public ProjectReferenceDeclaration? Reference(string name) => _references.GetValueOrDefault(name);

    /// <summary>The version of a referenced project (read once: lockfiles repeat project entries per framework).</summary>
    public string VersionOf(ProjectReferenceDeclaration reference)
    {
        if (!_versions.TryGetValue(reference.FullPath, out var version))
        {
            _versions[reference.FullPath] = version = MsBuildProject.VersionOf(reference.FullPath);
        }
        return version;
    }

    /// <summary>The workspace location of a referenced project: its project file's path when known, else its name.</summary>
    public string WorkspaceLocation(string name, string? relativePath, string? baseDirectory)
    {
        if (Reference(name) is { } reference)
        {
            return InputFile.DisplayPath(reference.FullPath);
        }
        if (relativePath is not null && baseDirectory is not null && InputPath.TryResolve(baseDirectory, relativePath.Replace('\\', '/')) is { } full)
        {
            return InputFile.DisplayPath(full);
        }
        return name;
    }
}
