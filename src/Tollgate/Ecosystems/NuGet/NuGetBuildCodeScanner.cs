using System.Collections.Immutable;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>A restored NuGet package and the files in it that run code at build time or in Visual Studio.</summary>
/// <param name="Component">The package.</param>
/// <param name="Files">The package-relative paths, '/'-separated, in order.</param>
/// <param name="AssetsFile">The <c>project.assets.json</c> that lists the package, as shown to users.</param>
public sealed record BuildCodePackage(Component Component, ImmutableArray<string> Files, string AssetsFile);

/// <summary>
/// Rule TG1011: NuGet runs no package code during restore, but a package's <c>build/</c>, <c>buildTransitive/</c> and
/// <c>buildMultiTargeting/</c> MSBuild <c>.props</c>/<c>.targets</c> are imported into every later build (they can run
/// any task or command), and <c>tools/init.ps1</c>/<c>tools/install.ps1</c> run in Visual Studio's package manager.
/// Lists them for each package in each <c>obj/project.assets.json</c>, from the package folder restore used.
/// </summary>
public static class NuGetBuildCodeScanner
{
    /// <summary>The rule id of the finding.</summary>
    public const string RuleId = "TG1011";

    /// <summary>The rule's title, as docs/rules.md heads its section.</summary>
    public const string Title = "Build-time code in NuGet package";

    private static readonly string[] s_skippedFolders = ["node_modules", ".git", "bin"];

    /// <summary>
    /// The assets files a restore of <paramref name="directory"/> writes: <c>obj/project.assets.json</c> beside each
    /// project under it (folders named node_modules, .git or bin are not searched).
    /// </summary>
    public static ImmutableArray<string> FindAssetsFiles(string directory)
    {
        var found = new List<string>();
        var pending = new Stack<(string Path, int Depth)>();
        pending.Push((directory, 0));
        while (pending.Count > 0)
        {
            var (dir, depth) = pending.Pop();
            var assets = Path.Combine(dir, "obj", "project.assets.json");
            if (File.Exists(assets))
            {
                found.Add(assets);
            }
            if (depth >= 16)
            {
                continue;
            }
            string[] children;
            try
            {
                children = Directory.GetDirectories(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var child in children)
            {
                var name = Path.GetFileName(child);
                if (!s_skippedFolders.Contains(name, StringComparer.OrdinalIgnoreCase) && name != "obj")
                {
                    pending.Push((child, depth + 1));
                }
            }
        }
        return [.. found.Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The packages in <paramref name="assetsFile"/> that carry build-time code. The package folder is
    /// <paramref name="globalPackagesFolder"/> (<c>NUGET_PACKAGES</c>) when given, else the first of the assets file's
    /// <c>packageFolders</c>, else <c>~/.nuget/packages</c>, that holds the package; when the package is not on disk the assets file's own file list is used.
    /// </summary>
    public static ImmutableArray<BuildCodePackage> Scan(string assetsFile, string? globalPackagesFolder, DiagnosticBag diagnostics)
    {
        var shown = InputFile.DisplayPath(assetsFile);
        var result = ImmutableArray.CreateBuilder<BuildCodePackage>();
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(assetsFile));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("libraries", out var libraries) || libraries.ValueKind != JsonValueKind.Object)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, "project.assets.json has no 'libraries' object", new SourceLocation(shown));
                return [];
            }
            var folders = new List<string>();
            if (globalPackagesFolder is not null)
            {
                folders.Add(globalPackagesFolder);
            }
            if (root.TryGetProperty("packageFolders", out var packageFolders) && packageFolders.ValueKind == JsonValueKind.Object)
            {
                folders.AddRange(packageFolders.EnumerateObject().Select(f => f.Name));
            }
            folders.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));
            foreach (var library in libraries.EnumerateObject())
            {
                if (library.Value.ValueKind != JsonValueKind.Object
                    || !library.Value.TryGetProperty("type", out var type) || type.GetString() != "package")
                {
                    continue;
                }
                var slash = library.Name.IndexOf('/', StringComparison.Ordinal);
                if (slash <= 0)
                {
                    continue;
                }
                var name = library.Name[..slash];
                var version = library.Name[(slash + 1)..];
                var path = library.Value.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String
                    ? p.GetString()! : $"{name.ToLowerInvariant()}/{version.ToLowerInvariant()}";
                var files = PackageFiles(folders, path) ?? ListedFiles(library.Value);
                var buildCode = files.Where(IsBuildCode).Order(StringComparer.Ordinal).ToImmutableArray();
                if (!buildCode.IsEmpty)
                {
                    var component = new Component
                    {
                        Ecosystem = Ecosystem.NuGet,
                        Name = name,
                        Version = version,
                        Purl = PackageUrl.For(Ecosystem.NuGet, name, version),
                        Locations = [new SourceLocation(shown)],
                    };
                    result.Add(new BuildCodePackage(component, buildCode, shown));
                }
            }
        }
        catch (JsonException e)
        {
            diagnostics.Warning(DiagnosticIds.InvalidJson, $"project.assets.json could not be read: {e.Message}", new SourceLocation(shown));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Warning(DiagnosticIds.FileUnreadable, $"project.assets.json could not be read: {e.Message}", new SourceLocation(shown));
        }
        return result.ToImmutable();
    }

    /// <summary>The build-code files of a package in the first of <paramref name="folders"/> that holds it (<c>id/version/</c> in lower case); empty when none does.</summary>
    public static ImmutableArray<string> OnDisk(IEnumerable<string> folders, string id, string version)
    {
        var files = PackageFiles([.. folders], $"{id.ToLowerInvariant()}/{version.ToLowerInvariant()}");
        return files is null ? [] : [.. files.Where(IsBuildCode).Order(StringComparer.Ordinal)];
    }

    /// <summary>True for the package files that run code: MSBuild imports under build folders, and Visual Studio's install scripts.</summary>
    public static bool IsBuildCode(string packageRelativePath)
    {
        var path = packageRelativePath.Replace('\\', '/');
        var first = path.IndexOf('/', StringComparison.Ordinal);
        if (first <= 0)
        {
            return false;
        }
        var folder = path[..first];
        if (folder.Equals("tools", StringComparison.OrdinalIgnoreCase))
        {
            return path.Equals("tools/init.ps1", StringComparison.OrdinalIgnoreCase) || path.Equals("tools/install.ps1", StringComparison.OrdinalIgnoreCase);
        }
        return (folder.Equals("build", StringComparison.OrdinalIgnoreCase)
                || folder.Equals("buildTransitive", StringComparison.OrdinalIgnoreCase)
                || folder.Equals("buildMultiTargeting", StringComparison.OrdinalIgnoreCase))
            && (path.EndsWith(".props", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".targets", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A finding of rule TG1011 about the package.</summary>
    public static Finding ToFinding(BuildCodePackage package)
    {
        const int Shown = 5;
        var files = string.Join(", ", package.Files.Take(Shown)) + (package.Files.Length > Shown ? $" and {package.Files.Length - Shown} more" : "");
        return new Finding
        {
            Kind = FindingKind.Signal,
            Id = RuleId,
            Severity = Severity.Medium,
            Summary = "carries code that runs at build time or in Visual Studio",
            Component = package.Component,
            Evidence = files,
        };
    }

    private static IEnumerable<string>? PackageFiles(List<string> folders, string packagePath)
    {
        foreach (var folder in folders)
        {
            var dir = Path.Combine(folder, packagePath);
            if (Directory.Exists(dir))
            {
                try
                {
                    return Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                        .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/'))
                        .ToList();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return null;
                }
            }
        }
        return null;
    }

    private static IEnumerable<string> ListedFiles(JsonElement library) =>
        library.TryGetProperty("files", out var files) && files.ValueKind == JsonValueKind.Array
            ? files.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.String).Select(f => f.GetString()!)
            : [];
}
