using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

/// <summary>
/// The basic fixtures are one package.json installed by six package managers within minutes, so they resolved the same
/// versions. What differs between their lockfiles is only what each one records; these tests pin those differences.
/// </summary>
public sealed class YarnPnpmBunAgreementTests
{
    private static DependencyGraph Read(string folder)
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", folder);
        var manifest = PackageJson.Read(Path.Combine(dir, "package.json"), bag);
        var project = folder switch
        {
            _ when folder.StartsWith("pnpm", StringComparison.Ordinal) => PnpmLockReader.Read(Path.Combine(dir, "pnpm-lock.yaml"), manifest, bag),
            _ when folder.StartsWith("yarn", StringComparison.Ordinal) => YarnLockReader.Read(Path.Combine(dir, "yarn.lock"), manifest, bag),
            _ => BunLockReader.Read(Path.Combine(dir, "bun.lock"), manifest, bag),
        };
        Assert.Empty(bag.Items);
        return GraphMerger.Merge([project!], bag.Items);
    }

    private static SortedSet<string> Components(DependencyGraph graph) =>
        new(graph.Components.Select(c => $"{c.Name}@{c.Version} {c.Scopes} {(c.Direct ? "direct" : "transitive")} {c.Origin.Kind}"), StringComparer.Ordinal);

    private static SortedSet<string> Edges(DependencyGraph graph) =>
        new(graph.Edges.Select(e => $"{(graph.IsRoot(e.From) ? "(root)" : graph.Label(e.From))} -> {graph.Label(e.To)}"), StringComparer.Ordinal);

    [Theory]
    [InlineData("pnpm8-basic")]
    [InlineData("pnpm7-basic")]
    [InlineData("bun-basic")]
    public void Read_PnpmAndBunLockfilesOfOneProject_GiveTheSameGraph(string folder)
    {
        var reference = Read("pnpm9-basic");
        var other = Read(folder);

        Assert.Equal(string.Join('\n', Components(reference)), string.Join('\n', Components(other)));
        Assert.Equal(string.Join('\n', Edges(reference)), string.Join('\n', Edges(other)));
    }

    [Theory]
    [InlineData("yarn-classic-basic")]
    [InlineData("yarn-berry-basic")]
    public void Read_YarnLockfilesOfTheSameProject_DifferOnlyInZodAndPeerEdges(string folder)
    {
        var reference = Read("pnpm9-basic");
        var yarn = Read(folder);

        // yarn did not deduplicate the SDK's "zod": "^3.25 || ^4.0" with the project's "^3.25.0": it picked zod 4.
        var components = Components(reference);
        components.Add("zod@4.6.7 Prod transitive Registry");
        Assert.Equal(string.Join('\n', components), string.Join('\n', Components(yarn)));

        // yarn.lock does not record which package satisfies a peer dependency (yarn decides that at install time);
        // pnpm writes peers into the dependencies of the package that has them.
        var edges = Edges(reference);
        Assert.True(edges.Remove("@hono/node-server@2.1.9 -> hono@4.13.19"));
        Assert.True(edges.Remove("express-rate-limit@8.7.5 -> express@5.3.0"));
        Assert.True(edges.Remove("zod-to-json-schema@3.25.2 -> zod@3.25.76"));
        Assert.True(edges.Remove("@modelcontextprotocol/sdk@1.32.2 -> zod@3.25.76"));
        edges.Add("@modelcontextprotocol/sdk@1.32.2 -> zod@4.6.7");
        Assert.Equal(string.Join('\n', edges), string.Join('\n', Edges(yarn)));
    }

    [Theory]
    [InlineData("pnpm8-workspace", false)]
    [InlineData("bun-workspace", false)]
    [InlineData("yarn-classic-workspace", true)]
    [InlineData("yarn-berry-workspace", true)]
    public void Read_WorkspaceLockfilesOfOneMonorepo_GiveTheSameComponents(string folder, bool yarn)
    {
        var expected = Components(Read("pnpm9-workspace"));
        if (yarn)
        {
            // As in the basic project, yarn resolved the SDK's "zod": "^3.25 || ^4.0" on its own.
            expected.Add("zod@4.6.7 Prod transitive Registry");
        }

        Assert.Equal(string.Join('\n', expected), string.Join('\n', Components(Read(folder))));
    }
}
