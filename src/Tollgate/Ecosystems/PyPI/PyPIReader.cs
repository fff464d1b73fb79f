using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// Reads PyPI lockfiles and manifests into project graphs: uv.lock, poetry.lock, pdm.lock, pylock.toml
/// (and pylock.NAME.toml), Pipfile.lock, requirements files, and pyproject.toml or Pipfile alone (unresolved).
/// </summary>
/// <remarks>
/// Grouping, per folder: the first lockfile in the order uv.lock, poetry.lock, pdm.lock, pylock.toml, pylock.NAME.toml,
/// Pipfile.lock decides the versions, with pyproject.toml (and Pipfile, for Pipfile.lock) saying which packages are
/// direct; the other lockfiles of that folder are reported and skipped. Without a lockfile, pyproject.toml and Pipfile
/// are read as unresolved projects. Each requirements file is a project of its own, except one that another
/// requirements file of the same folder includes with -r or -c: it is read as part of the including file. A
/// pyproject.toml in a folder that a uv.lock above it locks as a workspace member is read through that uv.lock only.
/// </remarks>
public sealed partial class PyPIReader : IEcosystemReader
{
    private enum Kind
    {
        UvLock,
        PoetryLock,
        PdmLock,
        Pylock,
        PipfileLock,
        PyProject,
        Pipfile,
        Requirements,
    }

    public Ecosystem Ecosystem => Ecosystem.PyPI;

    public bool IsInput(string fileName, bool named) => Classify(fileName, named) is not null;

    /// <summary>What a file is, by its name; looser names (<c>malformed-poetry.lock</c>) only when the user named the file.</summary>
    private static Kind? Classify(string fileName, bool named)
    {
        var name = fileName;
        if (name == "uv.lock" || named && name.EndsWith("uv.lock", StringComparison.Ordinal))
        {
            return Kind.UvLock;
        }
        if (name == "poetry.lock" || named && name.EndsWith("poetry.lock", StringComparison.Ordinal))
        {
            return Kind.PoetryLock;
        }
        if (name == "pdm.lock" || named && name.EndsWith("pdm.lock", StringComparison.Ordinal))
        {
            return Kind.PdmLock;
        }
        if (name == "Pipfile.lock" || named && name.EndsWith("Pipfile.lock", StringComparison.OrdinalIgnoreCase))
        {
            return Kind.PipfileLock;
        }
        if (PylockName().IsMatch(name) || named && name.EndsWith(".toml", StringComparison.Ordinal) && name.Contains("pylock", StringComparison.Ordinal))
        {
            return Kind.Pylock;
        }
        if (name == "pyproject.toml" || named && name.EndsWith("pyproject.toml", StringComparison.Ordinal))
        {
            return Kind.PyProject;
        }
        if (name == "Pipfile" || named && name.EndsWith("Pipfile", StringComparison.Ordinal))
        {
            return Kind.Pipfile;
        }
        if (name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
        {
            // Found while walking: requirements*.txt and *-requirements.txt / *_requirements.txt; named: any *requirements*.txt.
            var lower = name.ToLowerInvariant();
            if (lower.StartsWith("requirements", StringComparison.Ordinal) || lower.EndsWith("-requirements.txt", StringComparison.Ordinal)
                || lower.EndsWith("_requirements.txt", StringComparison.Ordinal) || named && lower.Contains("requirements", StringComparison.Ordinal))
            {
                return Kind.Requirements;
            }
        }
        return null;
    }

    /// <summary>PEP 751 file names: pylock.toml or pylock.NAME.toml (NAME without dots).</summary>
    [GeneratedRegex(@"^pylock\.([^.]+\.)?toml$", RegexOptions.CultureInvariant)]
    private static partial Regex PylockName();

    private static readonly Kind[] LockPriority = [Kind.UvLock, Kind.PoetryLock, Kind.PdmLock, Kind.Pylock, Kind.PipfileLock];

    public IEnumerable<ProjectInput> Group(IReadOnlyList<string> files)
    {
        var classified = files.Select(f => (File: f, Kind: Classify(Path.GetFileName(f), named: true)!.Value)).ToList();
        var uvMembers = UvWorkspaceMemberFolders(classified.Where(c => c.Kind == Kind.UvLock).Select(c => c.File));
        foreach (var folder in classified.GroupBy(c => Path.GetDirectoryName(c.File) ?? "", StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var items = folder.ToList();
            var dir = folder.Key;
            var pyproject = items.Where(c => c.Kind == Kind.PyProject).Select(c => c.File).FirstOrDefault();
            var pipfile = items.Where(c => c.Kind == Kind.Pipfile).Select(c => c.File).FirstOrDefault();
            var locks = items.Where(c => c.Kind is Kind.UvLock or Kind.PoetryLock or Kind.PdmLock or Kind.Pylock or Kind.PipfileLock)
                .OrderBy(c => Array.IndexOf(LockPriority, c.Kind)).ThenBy(c => c.File == Path.Combine(dir, "pylock.toml") ? 0 : 1).ThenBy(c => c.File, StringComparer.Ordinal)
                .ToList();
            if (locks.Count > 0)
            {
                var chosen = locks[0];
                var manifests = new List<string>();
                if (pyproject is not null)
                {
                    manifests.Add(pyproject);
                }
                if (pipfile is not null && chosen.Kind == Kind.PipfileLock)
                {
                    manifests.Add(pipfile);
                }
                // Named pylock files lock different uses of one project (PEP 751): each is a project of its own.
                var sameKind = chosen.Kind == Kind.Pylock ? locks.Where(l => l.Kind == Kind.Pylock).ToList() : [chosen];
                var skipped = locks.Where(l => !sameKind.Contains(l)).Select(l => l.File).ToList();
                foreach (var (index, lockFile) in sameKind.Select((l, i) => (i, l.File)))
                {
                    yield return new ProjectInput(Ecosystem.PyPI, dir, [lockFile, .. manifests, .. index == 0 ? skipped : []]);
                }
            }
            else
            {
                if (pyproject is not null && !uvMembers.Contains(dir))
                {
                    yield return new ProjectInput(Ecosystem.PyPI, dir, [pyproject]);
                }
                if (pipfile is not null)
                {
                    yield return new ProjectInput(Ecosystem.PyPI, dir, [pipfile]);
                }
            }
            var requirements = items.Where(c => c.Kind == Kind.Requirements).Select(c => c.File).ToList();
            var included = requirements.SelectMany(RequirementsFileReader.Includes).ToHashSet(StringComparer.Ordinal);
            foreach (var file in requirements.Where(r => !included.Contains(Path.GetFullPath(r))))
            {
                yield return new ProjectInput(Ecosystem.PyPI, dir, [file]);
            }
            // An include cycle leaves no file that nobody includes; read the first so the cycle is reported.
            if (requirements.Count > 0 && requirements.All(r => included.Contains(Path.GetFullPath(r))))
            {
                yield return new ProjectInput(Ecosystem.PyPI, dir, [requirements.OrderBy(r => r.Length).ThenBy(r => r, StringComparer.Ordinal).First()]);
            }
        }
    }

    /// <summary>Folders of workspace members (editable or virtual sources) that the given uv.lock files lock.</summary>
    private static HashSet<string> UvWorkspaceMemberFolders(IEnumerable<string> uvLocks)
    {
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lockFile in uvLocks)
        {
            // Through InputFile, for its size limits; problems are reported when the file is read as a project.
            if (InputFile.ReadText(lockFile, new DiagnosticBag()) is not { } text)
            {
                continue;
            }
            var dir = Path.GetDirectoryName(lockFile) ?? "";
            foreach (Match m in UvLocalSource().Matches(text))
            {
                // A path no folder can have is left to the TOML parser, which reports the file.
                if (m.Groups["path"].Value != "." && InputPath.TryResolve(dir, m.Groups["path"].Value) is { } folder)
                {
                    folders.Add(folder);
                }
            }
        }
        return folders;
    }

    [GeneratedRegex(@"source = \{ (editable|virtual) = ""(?<path>[^""]+)"" \}", RegexOptions.CultureInvariant)]
    private static partial Regex UvLocalSource();

    public IReadOnlyList<ProjectGraph> Read(ProjectInput project, DiagnosticBag diagnostics)
    {
        if (project.Files.IsDefaultOrEmpty)
        {
            return [];
        }
        var main = project.Files[0];
        var kind = Classify(Path.GetFileName(main), named: true);
        var others = project.Files.Skip(1).ToList();
        var pyprojectPath = others.FirstOrDefault(f => Classify(Path.GetFileName(f), true) == Kind.PyProject);
        var pipfilePath = others.FirstOrDefault(f => Classify(Path.GetFileName(f), true) == Kind.Pipfile);
        var skipped = others.Where(f => Classify(Path.GetFileName(f), true) is Kind.UvLock or Kind.PoetryLock or Kind.PdmLock or Kind.Pylock or Kind.PipfileLock).ToList();
        foreach (var file in skipped)
        {
            diagnostics.Info(DiagnosticIds.AuthoritativeFile, $"not read: {Path.GetFileName(main)} in the same folder decides the versions",
                new SourceLocation(InputFile.DisplayPath(file)), "keep one lockfile per project, or name this one on the command line");
        }
        var files = new[] { main }.Concat(others.Except(skipped)).Select(InputFile.DisplayPath).ToImmutableArray();
        var pyproject = pyprojectPath is null ? null : PythonManifestReader.ReadPyProject(pyprojectPath, diagnostics);
        return kind switch
        {
            Kind.UvLock => UvLockReader.Read(main, pyproject, files, diagnostics),
            Kind.PoetryLock => PoetryLockReader.Read(main, pyproject, files, diagnostics),
            Kind.PdmLock => PdmLockReader.Read(main, pyproject, files, diagnostics),
            Kind.Pylock => PylockReader.Read(main, pyproject, files, diagnostics),
            Kind.PipfileLock => PipfileLockReader.Read(main, pipfilePath is null ? null : PythonManifestReader.ReadPipfile(pipfilePath, diagnostics), pyproject, files, diagnostics),
            Kind.PyProject => ManifestOnly(PythonManifestReader.ReadPyProject(main, diagnostics), diagnostics),
            Kind.Pipfile => ManifestOnly(PythonManifestReader.ReadPipfile(main, diagnostics), diagnostics),
            Kind.Requirements => RequirementsFileReader.Read(main, diagnostics),
            _ => [],
        };
    }

    /// <summary>A manifest without a lockfile: its declared dependencies, direct and unresolved (versions are ranges).</summary>
    private static IReadOnlyList<ProjectGraph> ManifestOnly(PythonManifest? manifest, DiagnosticBag diagnostics)
    {
        if (manifest is null)
        {
            return [];
        }
        var root = new ProjectRoot(ProjectRoot.KeyFor(manifest.File), Ecosystem.PyPI, manifest.Name, manifest.Version, manifest.File, [manifest.File]);
        var graph = new LockGraph();
        var direct = new List<(string, DependencyScopes)>();
        foreach (var dep in manifest.Dependencies)
        {
            if (!PackageNames.Check(Ecosystem.PyPI, dep.Name, dep.Location, diagnostics))
            {
                continue;
            }
            var key = graph.Add(PyPIComponents.Create(dep.Name, dep.Specifier.Length == 0 ? "*" : dep.Specifier, dep.Location, dep.Origin,
                resolved: false, scopes: dep.Scope));
            direct.Add((key, dep.Scope));
        }
        if (manifest.Dependencies.Length > 0)
        {
            diagnostics.Warning(DiagnosticIds.Unresolved, $"no lockfile beside {Path.GetFileName(manifest.File)}: {manifest.Dependencies.Length} dependencies are ranges, not versions",
                new SourceLocation(manifest.File), "commit a lockfile (uv lock, poetry lock, pdm lock, pipenv lock) so scans see exact versions");
        }
        return [graph.Build(root, direct, propagateScopes: false)];
    }
}
