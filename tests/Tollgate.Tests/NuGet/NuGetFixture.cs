using System.Text.Json;
using Tollgate.Ecosystems.NuGet;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.NuGet;

/// <summary>
/// A copy of a testdata/nuget fixture in a fresh temporary folder. Project files import the nearest
/// Directory.Build.props above them, so fixtures are read outside the repository (whose own props would apply),
/// and a copy can have files removed to test the fallbacks.
/// </summary>
internal sealed class NuGetFixture : IDisposable
{
    public NuGetFixture(string name)
    {
        _temporary = Path.Combine(Path.GetTempPath(), "tollgate-nuget-" + Guid.NewGuid().ToString("N"));
        Root = Path.Combine(_temporary, name);
        Copy(TestData.Path("nuget", name), Root);
    }

    private readonly string _temporary;

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public void Delete(string relative)
    {
        var path = PathOf(relative);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }
    }

    public DependencyGraph Read(params string[] relative) => Read(new DiagnosticBag(), relative);

    public DependencyGraph Read(DiagnosticBag diagnostics, params string[] relative) =>
        new InputDiscovery([new NuGetReader()]).Read(relative.Length == 0 ? [Root] : relative.Select(PathOf), diagnostics);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_temporary, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var dir in Directory.GetDirectories(from))
        {
            Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }
}

/// <summary>
/// The reference: what <c>dotnet list package --include-transitive --format json</c> printed for a fixture,
/// as (lower-case id, version) pairs, united over target frameworks.
/// </summary>
internal sealed record DotnetListPackage(IReadOnlySet<(string Id, string Version)> All, IReadOnlySet<(string Id, string Version)> TopLevel)
{
    public static DotnetListPackage Load(params string[] files)
    {
        var all = new HashSet<(string, string)>();
        var top = new HashSet<(string, string)>();
        foreach (var file in files)
        {
            using var document = JsonDocument.Parse(File.ReadAllText(TestData.Path("nuget", file)));
            foreach (var project in document.RootElement.GetProperty("projects").EnumerateArray())
            {
                foreach (var framework in project.GetProperty("frameworks").EnumerateArray())
                {
                    foreach (var (list, isTop) in new[] { ("topLevelPackages", true), ("transitivePackages", false) })
                    {
                        if (!framework.TryGetProperty(list, out var packages))
                        {
                            continue;
                        }
                        foreach (var package in packages.EnumerateArray())
                        {
                            var pair = (package.GetProperty("id").GetString()!.ToLowerInvariant(), package.GetProperty("resolvedVersion").GetString()!);
                            all.Add(pair);
                            if (isTop)
                            {
                                top.Add(pair);
                            }
                        }
                    }
                }
            }
        }
        return new DotnetListPackage(all, top);
    }

    /// <summary>The registry packages of a graph in the same form (workspace projects are not packages to dotnet list).</summary>
    public static HashSet<(string Id, string Version)> PackagesOf(DependencyGraph graph, bool directOnly = false) =>
        [.. graph.Components
            .Where(c => c.Origin.Kind == OriginKind.Registry && (!directOnly || c.Direct))
            .Select(c => (c.Name.ToLowerInvariant(), c.Version))];
}
