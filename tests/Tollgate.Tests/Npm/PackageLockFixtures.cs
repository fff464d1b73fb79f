using System.Text.Json;
using Tollgate.Ecosystems;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

/// <summary>Reads the npm fixtures under testdata/npm and the <c>npm ls --all --json</c> output saved beside them.</summary>
internal static class PackageLockFixtures
{
    public static DependencyGraph Read(string path, out DiagnosticBag diagnostics)
    {
        diagnostics = new DiagnosticBag();
        return EcosystemReaders.Discovery().Read([path], diagnostics);
    }

    public static DependencyGraph Read(params string[] parts) => Read(TestData.Path(["npm", .. parts]), out _);

    /// <summary>Every (name, version) npm ls printed, anywhere in its tree. npm ls names an alias by its folder; it is
    /// mapped to the real name through the registry tarball URL (<c>…/lodash/-/lodash-4.17.21.tgz</c>) or, when npm ls
    /// shows no URL, through the <c>npm:</c> spec in the fixture's package.json, as the lockfile's "name" does.</summary>
    public static SortedSet<string> NpmLsPackages(string fixture)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", fixture, "npm-ls.json")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", fixture, "package.json")));
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        if (manifest.RootElement.TryGetProperty("dependencies", out var declared))
        {
            foreach (var d in declared.EnumerateObject().Where(d => d.Value.GetString()!.StartsWith("npm:", StringComparison.Ordinal)))
            {
                var spec = d.Value.GetString()![4..];
                aliases[d.Name] = spec[..spec.IndexOf('@', 1)];
            }
        }
        var result = new SortedSet<string>(StringComparer.Ordinal);
        Walk(document.RootElement);
        return result;

        void Walk(JsonElement node)
        {
            if (!node.TryGetProperty("dependencies", out var dependencies))
            {
                return;
            }
            foreach (var dependency in dependencies.EnumerateObject())
            {
                if (dependency.Value.TryGetProperty("version", out var version))
                {
                    var name = RealName(dependency.Name, dependency.Value);
                    result.Add($"{aliases.GetValueOrDefault(name, name)}@{version.GetString()}");
                }
                Walk(dependency.Value);
            }
        }
    }

    private static string RealName(string key, JsonElement node)
    {
        if (node.TryGetProperty("resolved", out var resolved) && resolved.GetString() is { } url
            && url.StartsWith("http", StringComparison.Ordinal) && url.Contains("/-/", StringComparison.Ordinal))
        {
            var path = new Uri(url).AbsolutePath;
            return Uri.UnescapeDataString(path[1..path.IndexOf("/-/", StringComparison.Ordinal)]);
        }
        return key;
    }

    public static SortedSet<string> Ours(DependencyGraph graph) =>
        new(graph.Components.Select(c => $"{c.Name}@{c.Version}"), StringComparer.Ordinal);

    /// <summary>The 1-based line on which <paramref name="text"/> first appears in a testdata file.</summary>
    public static int LineOf(string relativeFile, string text)
    {
        var lines = File.ReadAllLines(TestData.Path(["npm", .. relativeFile.Split('/')]));
        var index = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        Assert.True(index >= 0, $"'{text}' not in {relativeFile}");
        return index + 1;
    }

    public static Component Single(DependencyGraph graph, string name, string? version = null) =>
        Assert.Single(graph.FindByName(name, version));
}
