using System.Collections.Frozen;
using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Inputs;

/// <summary>
/// Finds supported files under the paths a user gave, groups them into projects and reads them into one graph.
/// </summary>
public sealed class InputDiscovery
{
    private static readonly FrozenSet<string> SkippedFolders = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "node_modules", "bower_components", "bin", "obj", "venv", "__pycache__", "site-packages");

    private readonly ImmutableArray<IEcosystemReader> _readers;
    private readonly PathGlobs _exclude;

    /// <param name="readers">The readers, in the order they are asked.</param>
    /// <param name="exclude">Files and folders a folder scan leaves out (<c>--exclude</c>); files named directly are always read.</param>
    public InputDiscovery(IEnumerable<IEcosystemReader> readers, PathGlobs? exclude = null)
    {
        _readers = [.. readers];
        _exclude = exclude ?? PathGlobs.None;
    }

    /// <summary>Reads every supported file under <paramref name="paths"/> into one dependency graph.</summary>
    public DependencyGraph Read(IEnumerable<string> paths, DiagnosticBag diagnostics)
    {
        var claimed = new Dictionary<IEcosystemReader, List<string>>();
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                var reader = _readers.FirstOrDefault(r => r.IsInput(Path.GetFileName(path), named: true))
                    ?? _readers.FirstOrDefault(r => r.IsInputByContent(path));
                if (reader is null)
                {
                    diagnostics.Error(DiagnosticIds.NoInput, "not a supported lockfile or manifest",
                        new SourceLocation(InputFile.DisplayPath(path)),
                        "supported: package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, bun.lock, package.json, "
                        + "requirements*.txt, poetry.lock, Pipfile.lock, uv.lock, pdm.lock, pylock.toml, pyproject.toml, "
                        + "packages.lock.json, project.assets.json, *.csproj, *.fsproj, packages.config, *.deps.json");
                    continue;
                }
                Claim(claimed, reader, Path.GetFullPath(path));
            }
            else if (Directory.Exists(path))
            {
                var before = claimed.Values.Sum(l => l.Count);
                var unreadable = UnreadableFolderReporter(diagnostics, !_exclude.IsEmpty);
                foreach (var file in Walk(Path.GetFullPath(path), _exclude, unreadable: unreadable))
                {
                    var reader = _readers.FirstOrDefault(r => r.IsInput(Path.GetFileName(file), named: false));
                    if (reader is not null)
                    {
                        Claim(claimed, reader, file);
                    }
                }
                if (claimed.Values.Sum(l => l.Count) == before)
                {
                    diagnostics.Error(DiagnosticIds.NoInput, "no supported lockfile or manifest found in this folder",
                        new SourceLocation(InputFile.DisplayPath(path)),
                        _exclude.IsEmpty ? "point at a project folder, or name a lockfile directly" : "point at a project folder, name a lockfile directly, or check the --exclude patterns");
                }
            }
            else
            {
                diagnostics.Error(DiagnosticIds.NoInput, "no such file or folder", new SourceLocation(path));
            }
        }

        var projects = new List<ProjectGraph>();
        foreach (var reader in _readers)
        {
            if (!claimed.TryGetValue(reader, out var files))
            {
                continue;
            }
            foreach (var project in reader.Group(files))
            {
                projects.AddRange(reader.Read(project, diagnostics));
            }
        }
        return GraphMerger.Merge(projects, diagnostics.Items);
    }

    private static void Claim(Dictionary<IEcosystemReader, List<string>> claimed, IEcosystemReader reader, string file)
    {
        if (!claimed.TryGetValue(reader, out var list))
        {
            claimed[reader] = list = [];
        }
        if (!list.Contains(file, StringComparer.Ordinal))
        {
            list.Add(file);
        }
    }

    /// <summary>
    /// An error (TG0001) for each folder a search could not list: the files in it were not checked, so the result
    /// cannot be a pass.
    /// </summary>
    public static Action<string, Exception> UnreadableFolderReporter(DiagnosticBag diagnostics, bool excluding = false) =>
        (folder, error) => diagnostics.Error(DiagnosticIds.FileUnreadable, $"cannot list this folder, so nothing in it was checked: {error.Message}",
            new SourceLocation(InputFile.DisplayPath(folder)),
            excluding ? "give the user running Tollgate read access to it, or check the --exclude patterns"
                : "give the user running Tollgate read access to it, or leave it out with --exclude");

    /// <summary>
    /// Every file under <paramref name="root"/>, skipping dependency, build and tool folders and what
    /// <paramref name="exclude"/> matches; sorted for stable output. Hidden folders are skipped unless named in
    /// <paramref name="hiddenFolders"/> (deployment files live in .github and .pipelines). A folder that cannot be
    /// listed is passed to <paramref name="unreadable"/>: its files are missing from the result.
    /// </summary>
    public static IEnumerable<string> Walk(string root, PathGlobs? exclude = null, IReadOnlySet<string>? hiddenFolders = null,
        Action<string, Exception>? unreadable = null)
    {
        exclude ??= PathGlobs.None;
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            string[] files, dirs;
            try
            {
                files = Directory.GetFiles(dir);
                dirs = Directory.GetDirectories(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                unreadable?.Invoke(dir, e);
                continue;
            }
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var file in files)
            {
                if (exclude.IsEmpty || !exclude.IsExcluded(Path.GetRelativePath(root, file)))
                {
                    yield return file;
                }
            }
            Array.Sort(dirs, StringComparer.Ordinal);
            for (var i = dirs.Length - 1; i >= 0; i--)
            {
                var name = Path.GetFileName(dirs[i]);
                // Hidden folders are version control and tool state (.git, .venv, .yarn, .pnpm-store); a folder with
                // pyvenv.cfg is a virtualenv whatever its name.
                if (SkippedFolders.Contains(name) || (name.StartsWith('.') && name != ".config" && hiddenFolders?.Contains(name) != true)
                    || File.Exists(Path.Combine(dirs[i], "pyvenv.cfg")) || IsSymlink(dirs[i])
                    || (!exclude.IsEmpty && exclude.IsExcluded(Path.GetRelativePath(root, dirs[i]))))
                {
                    continue;
                }
                pending.Push(dirs[i]);
            }
        }
    }

    private static bool IsSymlink(string dir)
    {
        try
        {
            return new DirectoryInfo(dir).LinkTarget is not null;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
