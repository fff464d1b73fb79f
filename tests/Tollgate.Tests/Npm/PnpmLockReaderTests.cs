using System.Text.Json;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

public sealed class PnpmLockReaderTests
{
    private static (ProjectGraph? Project, DependencyGraph Graph, DiagnosticBag Bag) Read(string folder)
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", folder);
        var manifestPath = Path.Combine(dir, "package.json");
        var manifest = File.Exists(manifestPath) ? PackageJson.Read(manifestPath, bag) : null;
        var project = PnpmLockReader.Read(Path.Combine(dir, "pnpm-lock.yaml"), manifest, bag);
        var graph = GraphMerger.Merge(project is null ? [] : [project], bag.Items);
        return (project, graph, bag);
    }

    /// <summary>(name, version) of every package in `pnpm list --depth Infinity --json` (workspace members as projects).</summary>
    private static SortedSet<string> OracleSet(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", folder, "pnpm-list.json")));
        var set = new SortedSet<string>(StringComparer.Ordinal);
        var first = true;
        foreach (var project in doc.RootElement.EnumerateArray())
        {
            if (!first)
            {
                set.Add($"{project.GetProperty("name").GetString()}@{project.GetProperty("version").GetString()}");
            }
            first = false;
            Walk(project);
        }
        return set;

        void Walk(JsonElement node)
        {
            foreach (var field in new[] { "dependencies", "devDependencies", "optionalDependencies" })
            {
                if (!node.TryGetProperty(field, out var deps))
                {
                    continue;
                }
                foreach (var dep in deps.EnumerateObject())
                {
                    var version = dep.Value.GetProperty("version").GetString()!;
                    if (!version.StartsWith("link:", StringComparison.Ordinal))
                    {
                        set.Add($"{dep.Value.GetProperty("from").GetString()}@{version}");
                    }
                    Walk(dep.Value);
                }
            }
        }
    }

    private static SortedSet<string> OurSet(DependencyGraph graph) =>
        new(graph.Components.Select(c => $"{c.Name}@{c.Version}"), StringComparer.Ordinal);

    [Theory]
    [InlineData("pnpm9-basic")]
    [InlineData("pnpm8-basic")]
    [InlineData("pnpm7-basic")]
    [InlineData("pnpm9-workspace")]
    [InlineData("pnpm8-workspace")]
    public void Read_RealLockfile_MatchesPnpmList(string folder)
    {
        var (_, graph, bag) = Read(folder);
        var ours = OurSet(graph);
        var oracle = OracleSet(folder);
        Assert.Empty(bag.Items);
        Assert.Equal(string.Join('\n', oracle), string.Join('\n', ours));
    }
}
