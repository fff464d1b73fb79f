using System.Text.Json;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// Where each restored NuGet package came from. Lockfiles and assets files do not say; the global packages folder does:
/// restore writes <c>&lt;id&gt;/&lt;version&gt;/.nupkg.metadata</c> with the <c>source</c> the package was downloaded from.
/// </summary>
public static class NuGetPackageSources
{
    /// <summary>
    /// The package folders a graph's packages were restored into: <c>NUGET_PACKAGES</c>, the <c>packageFolders</c> of
    /// every project.assets.json the graph was read from, then <c>~/.nuget/packages</c>.
    /// </summary>
    public static IReadOnlyList<string> PackageFolders(DependencyGraph graph, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        environment ??= Environment.GetEnvironmentVariable;
        var folders = new List<string>();
        if (environment("NUGET_PACKAGES") is { Length: > 0 } configured)
        {
            folders.Add(configured);
        }
        foreach (var assets in graph.Roots.SelectMany(r => r.Files).Where(f => f.EndsWith("project.assets.json", StringComparison.OrdinalIgnoreCase)).Distinct())
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(assets));
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("packageFolders", out var packageFolders)
                    && packageFolders.ValueKind == JsonValueKind.Object)
                {
                    folders.AddRange(packageFolders.EnumerateObject().Select(f => f.Name));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
            {
                // The reader has already reported an assets file it could not read.
            }
        }
        if ((environment("HOME") ?? environment("USERPROFILE")) is { Length: > 0 } home)
        {
            folders.Add(Path.Combine(home, ".nuget", "packages"));
        }
        return [.. folders.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The source <paramref name="component"/> was restored from, from the first package folder that holds it; null when none does.</summary>
    public static string? SourceOf(Component component, IReadOnlyList<string> packageFolders)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(packageFolders);
        var id = component.Name.ToLowerInvariant();
        var version = component.Version.ToLowerInvariant();
        foreach (var folder in packageFolders)
        {
            var metadata = Path.Combine(folder, id, version, ".nupkg.metadata");
            try
            {
                if (!File.Exists(metadata))
                {
                    continue;
                }
                using var doc = JsonDocument.Parse(File.ReadAllBytes(metadata));
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("source", out var source)
                    && source.ValueKind == JsonValueKind.String && source.GetString() is { Length: > 0 } text)
                {
                    return text;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
            {
                continue;
            }
        }
        return null;
    }
}
