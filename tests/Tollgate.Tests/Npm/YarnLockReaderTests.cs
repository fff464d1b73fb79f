using System.Text.Json;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

public sealed class YarnLockReaderTests
{
    internal static (ProjectGraph? Project, DependencyGraph Graph, DiagnosticBag Bag) Read(string folder)
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", folder);
        var manifestPath = Path.Combine(dir, "package.json");
        var manifest = File.Exists(manifestPath) ? PackageJson.Read(manifestPath, bag) : null;
        var project = YarnLockReader.Read(Path.Combine(dir, "yarn.lock"), manifest, bag);
        var graph = GraphMerger.Merge(project is null ? [] : [project], bag.Items);
        return (project, graph, bag);
    }

    private static SortedSet<string> OurSet(DependencyGraph graph) =>
        new(graph.Components.Select(c => $"{c.Name}@{c.Version}"), StringComparer.Ordinal);

    /// <summary>
    /// Every package in `yarn list --json` (yarn 1). The listing shows the installed folder tree, so an aliased package
    /// appears under its alias (the folder name); <paramref name="aliases"/> maps those back to the real names.
    /// </summary>
    private static SortedSet<string> ClassicOracle(string folder, IReadOnlyDictionary<string, string> aliases)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", folder, "yarn-list.json")));
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tree in doc.RootElement.GetProperty("data").GetProperty("trees").EnumerateArray())
        {
            Walk(tree);
        }
        return set;

        void Walk(JsonElement node)
        {
            var label = node.GetProperty("name").GetString()!;
            var at = label.LastIndexOf('@');
            var name = label[..at];
            set.Add($"{aliases.GetValueOrDefault(name, name)}@{label[(at + 1)..]}");
            foreach (var child in node.TryGetProperty("children", out var c) ? c.EnumerateArray() : default)
            {
                // "shadow" children are references to packages listed elsewhere, written with their range.
                if (!child.TryGetProperty("shadow", out var shadow) || !shadow.GetBoolean())
                {
                    Walk(child);
                }
            }
        }
    }

    /// <summary>Every package in `yarn info --all --recursive --json` (yarn 4), except the root workspace (the project itself).</summary>
    private static SortedSet<string> BerryOracle(string folder)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(TestData.Path("npm", folder, "yarn-info.json")))
        {
            using var doc = JsonDocument.Parse(line);
            var locator = doc.RootElement.GetProperty("value").GetString()!;
            var version = doc.RootElement.GetProperty("children").GetProperty("Version").GetString()!;
            if (locator.EndsWith("@workspace:.", StringComparison.Ordinal))
            {
                continue;
            }
            // "typescript@patch:typescript@npm%3A5.9.3#..." is the package it patches.
            var name = locator[..locator.IndexOf('@', 1)];
            set.Add($"{name}@{version}");
        }
        return set;
    }

    private static readonly Dictionary<string, string> FixtureAliases = new(StringComparer.Ordinal)
    {
        ["chalk4"] = "chalk",
        ["string-width-cjs"] = "string-width",
        ["strip-ansi-cjs"] = "strip-ansi",
        ["wrap-ansi-cjs"] = "wrap-ansi",
    };

    [Theory]
    [InlineData("yarn-classic-basic")]
    [InlineData("yarn-classic-workspace")]
    public void Read_ClassicLockfile_MatchesYarnList(string folder)
    {
        var (_, graph, bag) = Read(folder);

        Assert.Empty(bag.Items);
        Assert.Equal(string.Join('\n', ClassicOracle(folder, FixtureAliases)), string.Join('\n', OurSet(graph)));
    }

    [Theory]
    [InlineData("yarn-berry-basic")]
    [InlineData("yarn-berry-workspace")]
    public void Read_BerryLockfile_MatchesYarnInfo(string folder)
    {
        var (_, graph, bag) = Read(folder);

        Assert.Empty(bag.Items);
        Assert.Equal(string.Join('\n', BerryOracle(folder)), string.Join('\n', OurSet(graph)));
    }
}
