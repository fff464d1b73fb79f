using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

public sealed class BunLockReaderTests
{
    internal static (ProjectGraph? Project, DependencyGraph Graph, DiagnosticBag Bag) Read(string folder, string lockfile = "bun.lock")
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", folder);
        var manifestPath = Path.Combine(dir, "package.json");
        var manifest = File.Exists(manifestPath) ? PackageJson.Read(manifestPath, bag) : null;
        var project = BunLockReader.Read(Path.Combine(dir, lockfile), manifest, bag);
        var graph = GraphMerger.Merge(project is null ? [] : [project], bag.Items);
        return (project, graph, bag);
    }

    private static SortedSet<string> OurSet(DependencyGraph graph) =>
        new(graph.Components.Select(c => $"{c.Name}@{c.Version}"), StringComparer.Ordinal);

    /// <summary>
    /// Every package in `bun pm ls --all`: a tree of install folders, one "name@version" per line. The names are folder
    /// names, so aliases appear under the alias; folder and workspace packages show their reference, not a version.
    /// <paramref name="rename"/> maps those labels to what the lockfile records (real name, package.json version).
    /// </summary>
    private static SortedSet<string> Oracle(string folder, IReadOnlyDictionary<string, string> rename)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(TestData.Path("npm", folder, "bun-pm-ls.txt")).Skip(1))
        {
            var label = line.TrimStart('│', '├', '└', '─', ' ', '\u00a0');
            if (label.Length == 0)
            {
                continue;
            }
            var at = label.IndexOf('@', 1);
            var name = label[..at];
            var version = label[(at + 1)..];
            set.Add(rename.GetValueOrDefault(label) ?? $"{rename.GetValueOrDefault(name, name)}@{version}");
        }
        return set;
    }

    private static readonly Dictionary<string, string> FixtureRenames = new(StringComparer.Ordinal)
    {
        // Aliases: "chalk4": "npm:chalk@^4.1.2" in package.json, "*-cjs" aliases inside @isaacs/cliui.
        ["chalk4"] = "chalk",
        ["string-width-cjs"] = "string-width",
        ["strip-ansi-cjs"] = "strip-ansi",
        ["wrap-ansi-cjs"] = "wrap-ansi",
        // bun lists folder and workspace packages by reference; we read their version from their package.json.
        ["local-lib@local-lib"] = "local-lib@0.1.0",
        ["@acme/mcp-server@workspace:packages/server"] = "@acme/mcp-server@1.0.0",
        ["@acme/shared@workspace:packages/shared"] = "@acme/shared@1.0.0",
    };

    [Theory]
    [InlineData("bun-basic")]
    [InlineData("bun-workspace")]
    public void Read_RealLockfile_MatchesBunPmLs(string folder)
    {
        var (_, graph, bag) = Read(folder);

        Assert.Empty(bag.Items);
        Assert.Equal(string.Join('\n', Oracle(folder, FixtureRenames)), string.Join('\n', OurSet(graph)));
    }
}
