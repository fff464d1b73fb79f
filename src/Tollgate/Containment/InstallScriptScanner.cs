using System.Collections.Immutable;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Containment;

/// <summary>An installed npm package that declares install-time scripts.</summary>
/// <param name="Name">
/// The name it is installed under: its folder below <c>node_modules</c> (with the scope), which is the name the
/// project's dependency tree resolved. A package.json can declare any name, so that one is not trusted for the policy.
/// </param>
/// <param name="Version">The version from its package.json.</param>
/// <param name="Directory">Where it is installed, relative to the project folder, with '/' separators.</param>
/// <param name="Scripts">Each script as <c>event: command</c>, in the order npm runs them.</param>
public sealed record InstalledPackage(string Name, string Version, string Directory, ImmutableArray<string> Scripts)
{
    /// <summary>The name its package.json declares when that differs from <see cref="Name"/> (an npm alias, or a lie); else null.</summary>
    public string? DeclaredName { get; init; }

    /// <summary>The package as a graph component, so policy patterns (names, ranges, purls) apply to it.</summary>
    public Component ToComponent() => new()
    {
        Ecosystem = Ecosystem.Npm,
        Name = Name,
        Version = Version,
        Purl = PackageUrl.For(Ecosystem.Npm, Name, Version),
        HasInstallScript = true,
    };
}

/// <summary>
/// Finds the installed packages that have install scripts by reading every package.json in the node_modules trees
/// a manager wrote (npm and Yarn 1 nesting, pnpm's <c>.pnpm</c> store, Yarn 2+'s <c>.yarn/unplugged</c>).
/// The files on disk are what would run, so they are read rather than the lockfile's <c>hasInstallScript</c> flag.
/// </summary>
public static class InstallScriptScanner
{
    /// <summary>The lifecycle events npm runs when a package is installed, in order.</summary>
    public static ImmutableArray<string> InstallEvents { get; } = ["preinstall", "install", "postinstall"];

    private const int MaxDepth = 64;

    /// <summary>The packages under <paramref name="projectDirectory"/> that declare install scripts, sorted by name, version and folder.</summary>
    public static ImmutableArray<InstalledPackage> Scan(string projectDirectory, DiagnosticBag diagnostics)
    {
        var found = new List<InstalledPackage>();
        ScanNodeModules(projectDirectory, Path.Combine(projectDirectory, "node_modules"), found, diagnostics, 0);
        var unplugged = Path.Combine(projectDirectory, ".yarn", "unplugged");
        if (Directory.Exists(unplugged))
        {
            foreach (var entry in SafeEntries(unplugged))
            {
                ScanNodeModules(projectDirectory, Path.Combine(entry, "node_modules"), found, diagnostics, 0);
            }
        }
        return [.. found.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Version, StringComparer.Ordinal).ThenBy(p => p.Directory, StringComparer.Ordinal)];
    }

    private static void ScanNodeModules(string root, string nodeModules, List<InstalledPackage> found, DiagnosticBag diagnostics, int depth)
    {
        if (depth > MaxDepth || !Directory.Exists(nodeModules) || IsLink(nodeModules))
        {
            return;
        }
        foreach (var entry in SafeEntries(nodeModules))
        {
            var name = Path.GetFileName(entry);
            if (name == ".pnpm")
            {
                // pnpm's store: .pnpm/<name>@<version>/node_modules/<name> is the real folder; the rest are links to it.
                foreach (var stored in SafeEntries(entry))
                {
                    ScanNodeModules(root, Path.Combine(stored, "node_modules"), found, diagnostics, depth + 1);
                }
            }
            else if (name.StartsWith('.'))
            {
                continue;
            }
            else if (name.StartsWith('@'))
            {
                foreach (var scoped in SafeEntries(entry))
                {
                    ScanPackage(root, scoped, found, diagnostics, depth);
                }
            }
            else
            {
                ScanPackage(root, entry, found, diagnostics, depth);
            }
        }
    }

    private static void ScanPackage(string root, string directory, List<InstalledPackage> found, DiagnosticBag diagnostics, int depth)
    {
        // Links point at workspace packages (the project's own code) or, in pnpm, at folders the store walk reaches.
        if (IsLink(directory))
        {
            return;
        }
        if (Read(root, directory, diagnostics) is { } package)
        {
            found.Add(package);
        }
        ScanNodeModules(root, Path.Combine(directory, "node_modules"), found, diagnostics, depth + 1);
    }

    /// <summary>The package in <paramref name="directory"/> when its package.json declares install scripts, else null.</summary>
    internal static InstalledPackage? Read(string root, string directory, DiagnosticBag diagnostics)
    {
        var manifest = Path.Combine(directory, "package.json");
        if (!File.Exists(manifest))
        {
            return null;
        }
        var shown = InputFile.DisplayPath(manifest);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
            var json = doc.RootElement;
            if (json.ValueKind != JsonValueKind.Object)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, "package.json is not a JSON object", new SourceLocation(shown));
                return null;
            }
            var scripts = new List<string>();
            if (json.TryGetProperty("scripts", out var declared) && declared.ValueKind == JsonValueKind.Object)
            {
                foreach (var lifecycle in InstallEvents)
                {
                    if (declared.TryGetProperty(lifecycle, out var script) && script.ValueKind == JsonValueKind.String && script.GetString() is { Length: > 0 } text)
                    {
                        scripts.Add($"{lifecycle}: {text}");
                    }
                }
            }
            // npm runs 'node-gyp rebuild' as the install script of a package with a binding.gyp and no install or preinstall script.
            if (!scripts.Any(s => s.StartsWith("install:", StringComparison.Ordinal) || s.StartsWith("preinstall:", StringComparison.Ordinal))
                && File.Exists(Path.Combine(directory, "binding.gyp")))
            {
                scripts.Insert(0, "install: node-gyp rebuild (binding.gyp)");
            }
            if (scripts.Count == 0)
            {
                return null;
            }
            var installedName = InstalledName(directory);
            var declaredName = StringProperty(json, "name");
            var version = StringProperty(json, "version") ?? "0.0.0";
            var relative = Path.GetRelativePath(root, directory).Replace('\\', '/');
            return new InstalledPackage(installedName, version, relative, [.. scripts])
            {
                DeclaredName = declaredName is not null && declaredName != installedName ? declaredName : null,
            };
        }
        catch (JsonException e)
        {
            diagnostics.Warning(DiagnosticIds.InvalidJson, $"package.json could not be read: {e.Message}", new SourceLocation(shown),
                "the package's scripts were not run; reinstall it if it is needed");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Warning(DiagnosticIds.FileUnreadable, $"package.json could not be read: {e.Message}", new SourceLocation(shown));
            return null;
        }
    }

    /// <summary>The folder name, with the scope folder in front for <c>@scope/name</c>.</summary>
    private static string InstalledName(string directory)
    {
        var name = Path.GetFileName(directory);
        var parent = Path.GetFileName(Path.GetDirectoryName(directory));
        return parent is not null && parent.StartsWith('@') ? $"{parent}/{name}" : name;
    }

    private static string? StringProperty(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool IsLink(string path)
    {
        try
        {
            return new DirectoryInfo(path).LinkTarget is not null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static IEnumerable<string> SafeEntries(string directory)
    {
        try
        {
            return Directory.GetDirectories(directory).Order(StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
