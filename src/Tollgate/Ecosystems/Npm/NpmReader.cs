using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// The npm ecosystem's inputs: package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock, bun.lock and
/// package.json. Files in one folder are one project: the first lockfile in <see cref="LockfileNames"/> order decides
/// the versions and the package.json beside it supplies the project's name and declared dependencies.
/// </summary>
public sealed class NpmReader : IEcosystemReader
{
    /// <summary>Lockfile names, most authoritative first (npm itself prefers a shrinkwrap over a package-lock).</summary>
    public static ImmutableArray<string> LockfileNames { get; } =
        ["npm-shrinkwrap.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock"];

    private const string ManifestName = "package.json";

    /// <summary>bun's binary lockfile (bun before 1.2 wrote only this): recognised so that it is never skipped silently, but not read.</summary>
    public const string BinaryBunLockfile = "bun.lockb";

    private static int Priority(string fileName) => fileName == BinaryBunLockfile ? LockfileNames.Length : LockfileNames.IndexOf(fileName);

    public Ecosystem Ecosystem => Ecosystem.Npm;

    /// <summary>
    /// Exact names when discovered; when named on the command line, also names ending with one of them
    /// (<c>v1-package-lock.json</c>, <c>malformed-package-lock.json</c>).
    /// </summary>
    public bool IsInput(string fileName, bool named)
    {
        if (fileName == ManifestName || fileName == BinaryBunLockfile || LockfileNames.Contains(fileName))
        {
            return true;
        }
        return named && (fileName.EndsWith(ManifestName, StringComparison.OrdinalIgnoreCase) || fileName.EndsWith(BinaryBunLockfile, StringComparison.OrdinalIgnoreCase)
            || LockfileNames.Any(n => fileName.EndsWith(n, StringComparison.OrdinalIgnoreCase)));
    }

    public bool IsInputByContent(string path) => LockfileByContent(path) is not null;

    /// <summary>
    /// The lockfile format of a file with a name of its own, from its first 4 KB: yarn's <c># yarn lockfile v1</c>
    /// header or <c>__metadata:</c> key, pnpm's top-level <c>lockfileVersion:</c> or <c>importers:</c>, or bun's JSON with
    /// <c>"lockfileVersion"</c> and <c>"workspaces"</c>. Null when it looks like none of them.
    /// </summary>
    private static string? LockfileByContent(string path)
    {
        string head;
        try
        {
            using var reader = new StreamReader(path);
            var buffer = new char[4096];
            head = new string(buffer, 0, reader.ReadBlock(buffer, 0, buffer.Length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var lines = head.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Any(l => l.StartsWith("# yarn lockfile v", StringComparison.Ordinal) || l.StartsWith("__metadata:", StringComparison.Ordinal)))
        {
            return "yarn.lock";
        }
        if (lines.Any(l => l.StartsWith("lockfileVersion:", StringComparison.Ordinal) || l.StartsWith("importers:", StringComparison.Ordinal)))
        {
            return "pnpm-lock.yaml";
        }
        var trimmed = head.TrimStart();
        if (trimmed.StartsWith('{') && trimmed.Contains("\"lockfileVersion\"", StringComparison.Ordinal))
        {
            return trimmed.Contains("\"workspaces\"", StringComparison.Ordinal) || Path.GetExtension(path) == ".lock"
                ? "bun.lock" : "package-lock.json";
        }
        return null;
    }

    /// <summary>
    /// One project per folder (lockfile first, then package.json, then lockfiles that lose to the first), and one
    /// per file with a non-standard name. A package.json without a lockfile is skipped when it is a workspace member
    /// of a project whose lockfile is in an ancestor folder: that lockfile already covers it.
    /// </summary>
    public IEnumerable<ProjectInput> Group(IReadOnlyList<string> files)
    {
        var standard = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var projects = new List<ProjectInput>();
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            var folder = Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".";
            if (name == ManifestName || name == BinaryBunLockfile || LockfileNames.Contains(name))
            {
                if (!standard.TryGetValue(folder, out var list))
                {
                    standard[folder] = list = [];
                }
                list.Add(Path.GetFullPath(file));
            }
            else
            {
                // A file the user named with its own name is read as given, on its own.
                projects.Add(new ProjectInput(Ecosystem.Npm, folder, [Path.GetFullPath(file)]));
            }
        }

        var lockfileFolders = standard.Where(kv => kv.Value.Any(f => Path.GetFileName(f) != ManifestName))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var coverage = new WorkspaceCoverage(lockfileFolders);
        foreach (var (folder, list) in standard.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var lockfiles = list.Where(f => Path.GetFileName(f) != ManifestName)
                .OrderBy(f => Priority(Path.GetFileName(f))).ToList();
            var manifest = list.FirstOrDefault(f => Path.GetFileName(f) == ManifestName);
            if (lockfiles.Count > 0)
            {
                // A lockfile named on its own still has its manifest beside it: it says what the root declares.
                var besideManifest = Path.Combine(folder, ManifestName);
                manifest ??= File.Exists(besideManifest) ? besideManifest : null;
                projects.Add(new ProjectInput(Ecosystem.Npm, folder,
                    [lockfiles[0], .. manifest is null ? Array.Empty<string>() : [manifest], .. lockfiles.Skip(1)]));
            }
            else if (manifest is not null && !coverage.Covers(folder))
            {
                projects.Add(new ProjectInput(Ecosystem.Npm, folder, [manifest]));
            }
        }
        return projects;
    }

    public IReadOnlyList<ProjectGraph> Read(ProjectInput project, DiagnosticBag diagnostics)
    {
        if (project.Files.IsDefaultOrEmpty)
        {
            return [];
        }
        var authoritative = project.Files[0];
        var fileName = Path.GetFileName(authoritative);
        if (fileName.EndsWith(BinaryBunLockfile, StringComparison.OrdinalIgnoreCase))
        {
            // No readable lockfile beside it: the versions are unknown, and a scan must say so rather than pass.
            diagnostics.Error(DiagnosticIds.UnsupportedVersion,
                "bun.lockb is bun's binary lockfile, which Tollgate does not read, so this project's versions are unknown",
                new SourceLocation(InputFile.DisplayPath(authoritative)),
                "write the text lockfile beside it with `bun install --save-text-lockfile` (bun 1.1.39 or later; bun 1.2 writes bun.lock by default), commit bun.lock, and scan again");
            return [];
        }
        var lockfileName = LockfileNames.FirstOrDefault(n => fileName.EndsWith(n, StringComparison.OrdinalIgnoreCase))
            ?? (fileName.EndsWith(ManifestName, StringComparison.OrdinalIgnoreCase) ? null : LockfileByContent(authoritative));
        if (lockfileName is null)
        {
            var alone = PackageJson.Read(authoritative, diagnostics);
            return alone is null ? [] : [ManifestOnlyReader.Read(alone, diagnostics)];
        }

        foreach (var ignored in project.Files.Skip(1).Where(f => Path.GetFileName(f) != ManifestName))
        {
            if (Path.GetFileName(ignored) == BinaryBunLockfile && fileName != "bun.lock")
            {
                diagnostics.Warning(DiagnosticIds.AuthoritativeFile,
                    $"bun.lockb not read (bun's binary lockfile); {fileName} in the same folder decides the versions, which is not what bun installs from",
                    new SourceLocation(InputFile.DisplayPath(ignored)),
                    "if bun installs this project, write its text lockfile with `bun install --save-text-lockfile` and delete the other lockfile");
                continue;
            }
            diagnostics.Info(DiagnosticIds.AuthoritativeFile,
                $"{Path.GetFileName(ignored)} ignored: {Path.GetFileName(authoritative)} in the same folder decides the versions",
                new SourceLocation(InputFile.DisplayPath(ignored)),
                "keep the lockfile of the package manager the project uses and delete the other");
        }
        var manifestPath = project.Files.Skip(1).FirstOrDefault(f => Path.GetFileName(f) == ManifestName);
        var manifest = manifestPath is null ? null : PackageJson.Read(manifestPath, diagnostics);
        var graph = lockfileName switch
        {
            "npm-shrinkwrap.json" or "package-lock.json" => PackageLockReader.Read(authoritative, manifest, diagnostics),
            "pnpm-lock.yaml" => PnpmLockReader.Read(authoritative, manifest, diagnostics),
            "yarn.lock" => YarnLockReader.Read(authoritative, manifest, diagnostics),
            _ => BunLockReader.Read(authoritative, manifest, diagnostics),
        };
        return graph is null ? [] : [graph];
    }

    /// <summary>Decides whether a package.json without a lockfile is a workspace member of a lockfile above it.</summary>
    private sealed class WorkspaceCoverage(Dictionary<string, List<string>> lockfileFolders)
    {
        private readonly Dictionary<string, (WorkspacePatterns Patterns, string LockText)> _roots = new(StringComparer.Ordinal);

        public bool Covers(string folder)
        {
            for (var ancestor = Path.GetDirectoryName(folder); ancestor is not null; ancestor = Path.GetDirectoryName(ancestor))
            {
                if (!lockfileFolders.TryGetValue(ancestor, out var files))
                {
                    continue;
                }
                var (patterns, lockText) = Load(ancestor, files);
                var relative = Path.GetRelativePath(ancestor, folder).Replace('\\', '/');
                if (patterns.Matches(relative) || Lists(lockText, relative))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>
        /// Whether the lockfile names the folder as one of its own: a quoted key in package-lock.json and bun.lock
        /// (a <c>file:</c> version in lockfileVersion 1),
        /// an importer key in pnpm-lock.yaml (pnpm takes its workspaces from pnpm-workspace.yaml, not package.json).
        /// </summary>
        private static bool Lists(string lockText, string relative) =>
            lockText.Contains($"\"{relative}\"", StringComparison.Ordinal)
            || lockText.Contains($"\"file:{relative}\"", StringComparison.Ordinal)
            || lockText.Contains($"\n  {relative}:", StringComparison.Ordinal)
            || lockText.Contains($"@workspace:{relative}\"", StringComparison.Ordinal);

        private (WorkspacePatterns, string) Load(string folder, List<string> files)
        {
            if (_roots.TryGetValue(folder, out var known))
            {
                return known;
            }
            // Grouping only needs a yes or no; problems in these files are reported when the project is read.
            var quiet = new DiagnosticBag();
            var manifestPath = Path.Combine(folder, ManifestName);
            var manifest = File.Exists(manifestPath) ? PackageJson.Read(manifestPath, quiet) : null;
            var lockfile = files.Where(f => Path.GetFileName(f) != ManifestName)
                .OrderBy(f => LockfileNames.IndexOf(Path.GetFileName(f))).First();
            var loaded = (new WorkspacePatterns(manifest?.Workspaces ?? []), InputFile.ReadText(lockfile, quiet) ?? "");
            _roots[folder] = loaded;
            return loaded;
        }
    }
}
