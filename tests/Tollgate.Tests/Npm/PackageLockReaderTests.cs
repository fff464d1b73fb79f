using Tollgate.Graph;
using static Tollgate.Tests.Npm.PackageLockFixtures;

namespace Tollgate.Tests.Npm;

/// <summary>Real lockfiles made by npm 11, compared with what <c>npm ls --all --json</c> printed for the installed tree.</summary>
public sealed class PackageLockReaderTests
{
    [Theory]
    [InlineData("mcp-filesystem")]
    [InlineData("lockfile-v1")]
    [InlineData("lockfile-v2")]
    [InlineData("no-resolved")]
    [InlineData("shrinkwrap")]
    [InlineData("workspaces")]
    [InlineData("workspaces-v1")]
    public void Read_RealFixture_SamePackagesAsNpmLs(string fixture)
    {
        var graph = Read(TestData.Path("npm", fixture), out var diagnostics);

        Assert.DoesNotContain(diagnostics.Items, d => d.Severity != DiagnosticSeverity.Info);
        Assert.Single(graph.Roots);
        Assert.Equal(NpmLsPackages(fixture), Ours(graph));
    }

    [Fact]
    public void Read_FilesystemMcpServer_DirectIsWhatPackageJsonDeclares()
    {
        var graph = Read("mcp-filesystem");

        var root = Assert.Single(graph.Roots);
        Assert.Equal("filesystem-mcp-host", root.Name);
        Assert.Equal("1.0.0", root.Version);
        Assert.EndsWith("mcp-filesystem/package-lock.json", root.AuthoritativeFile, StringComparison.Ordinal);
        Assert.Equal(2, root.Files.Length);
        Assert.Equal(["@modelcontextprotocol/server-filesystem"], graph.Components.Where(c => c.Direct).Select(c => c.Name));
        Assert.Equal(graph.Components.Single(c => c.Direct).Key, Assert.Single(graph.ChildrenOf(root.Key)));
    }

    [Fact]
    public void Read_FilesystemMcpServer_WhyZodGoesThroughTheSdk()
    {
        var graph = Read("mcp-filesystem");
        var zod = graph.FindByName("zod").Single(z => graph.ShortestPathTo(z.Key).Length == 4);

        var paths = graph.PathsTo(zod.Key);

        Assert.Contains(paths, p => p.Select(graph.Label).SequenceEqual(
            [$"filesystem-mcp-host@1.0.0", Label(graph, "@modelcontextprotocol/server-filesystem"), Label(graph, "@modelcontextprotocol/sdk"), $"zod@{zod.Version}"]));
    }

    [Fact]
    public void Read_FilesystemMcpServer_LocationIsTheEntryLine()
    {
        var graph = Read("mcp-filesystem");
        var sdk = Single(graph, "@modelcontextprotocol/sdk");

        var location = Assert.Single(sdk.Locations);

        Assert.Equal(LineOf("mcp-filesystem/package-lock.json", "\"node_modules/@modelcontextprotocol/sdk\": {"), location.Line);
        Assert.EndsWith("mcp-filesystem/package-lock.json", location.File, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FilesystemMcpServer_RegistryOriginsKeepTheirUrlAndIntegrity()
    {
        var graph = Read("mcp-filesystem");

        Assert.All(graph.Components, c =>
        {
            Assert.Equal(OriginKind.Registry, c.Origin.Kind);
            Assert.EndsWith($"-{c.Version}.tgz", c.Origin.Location, StringComparison.Ordinal);
            Assert.Equal("sha512", Assert.Single(c.Integrity).Algorithm);
            Assert.Equal(PackageUrl.For(Ecosystem.Npm, c.Name, c.Version).ToString(), c.Purl.ToString());
            Assert.False(c.HasInstallScript);
        });
    }

    [Fact]
    public void Read_Version1AndVersion2_SameComponentsAndEdges()
    {
        var v1 = Read("lockfile-v1");
        var v2 = Read("lockfile-v2");

        Assert.Equal(Ours(v2), Ours(v1));
        Assert.Equal(Edges(v2), Edges(v1));
        Assert.Equal(v2.Components.Select(c => (c.Key, c.Scopes, c.Direct)), v1.Components.Select(c => (c.Key, c.Scopes, c.Direct)));

        static IEnumerable<string> Edges(DependencyGraph g) =>
            g.Edges.Select(e => (g.IsRoot(e.From) ? "(root)" : g.Label(e.From)) + " > " + g.Label(e.To)).Order(StringComparer.Ordinal);
    }

    [Theory]
    [InlineData("lockfile-v1")]
    [InlineData("lockfile-v2")]
    public void Read_OldLockfile_ScopesAndDirectFollowPackageJson(string fixture)
    {
        var graph = Read(fixture);

        // package.json: dependencies express, ms; optionalDependencies colors; devDependencies minimist, semver.
        Assert.Equal(["colors", "express", "minimist", "ms", "semver"], graph.Components.Where(c => c.Direct).Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal(DependencyScopes.Dev, Single(graph, "minimist").Scopes);
        Assert.Equal(DependencyScopes.Dev, Single(graph, "semver").Scopes);
        Assert.Equal(DependencyScopes.Optional, Single(graph, "colors").Scopes);
        Assert.Equal(DependencyScopes.Prod, Single(graph, "express").Scopes);
        // express 4.18.2 pulls debug 2.6.9, which needs ms 2.0.0 nested below it; the root's ms is 2.1.3.
        var debug = Single(graph, "debug", "2.6.9");
        Assert.Contains(Single(graph, "ms", "2.0.0").Key, graph.ChildrenOf(debug.Key));
        Assert.True(Single(graph, "ms", "2.1.3").Direct);
        Assert.False(Single(graph, "ms", "2.0.0").Direct);
    }

    [Fact]
    public void Read_Version1_NoInstallScriptKnowledge()
    {
        var graph = Read("lockfile-v1");

        Assert.All(graph.Components, c => Assert.Null(c.HasInstallScript));
        Assert.All(graph.Components, c => Assert.Null(c.License));
    }

    [Fact]
    public void Read_NoResolvedUrls_RegistryOriginWithoutLocation()
    {
        var graph = Read("no-resolved");

        Assert.All(graph.Components, c => Assert.Equal(Origin.Registry(), c.Origin));
        Assert.All(graph.Components, c => Assert.NotEmpty(c.Integrity));
    }

    [Fact]
    public void Read_Shrinkwrap_IsTheAuthoritativeFile()
    {
        var graph = Read("shrinkwrap");

        var root = Assert.Single(graph.Roots);
        Assert.EndsWith("shrinkwrap/npm-shrinkwrap.json", root.AuthoritativeFile, StringComparison.Ordinal);
        Assert.Equal("shrinkwrapped-mcp-tool", root.Name);
        Assert.Equal(["@modelcontextprotocol/sdk", "zod"], graph.Components.Where(c => c.Direct).Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_Workspaces_MembersAreWorkspaceComponentsOfTheRoot()
    {
        var graph = Read("workspaces");
        var root = Assert.Single(graph.Roots);
        var a = Single(graph, "@mono/a");
        var b = Single(graph, "@mono/b");

        Assert.Equal(new Origin(OriginKind.Workspace, "packages/a"), a.Origin);
        Assert.Equal(new Origin(OriginKind.Workspace, "packages/b"), b.Origin);
        Assert.True(a.Direct && b.Direct);
        Assert.Contains(a.Key, graph.ChildrenOf(root.Key));
        Assert.Contains(b.Key, graph.ChildrenOf(a.Key));
        Assert.Equal(LineOf("workspaces/package-lock.json", "\"packages/a\": {"), a.Locations.Single().Line);
    }

    [Fact]
    public void Read_Workspaces_NodeResolutionPicksTheNearestCopy()
    {
        var graph = Read("workspaces");

        // packages/b needs ms 2.0.0 (installed in packages/b/node_modules), debug needs ^2.1.3 (nested under debug),
        // packages/a's dev dependency is ms 2.1.2 (hoisted to the root).
        Assert.Contains(Single(graph, "ms", "2.0.0").Key, graph.ChildrenOf(Single(graph, "@mono/b").Key));
        Assert.Contains(Single(graph, "ms", "2.1.3").Key, graph.ChildrenOf(Single(graph, "debug").Key));
        Assert.Contains(Single(graph, "ms", "2.1.2").Key, graph.ChildrenOf(Single(graph, "@mono/a").Key));
        Assert.DoesNotContain(Single(graph, "ms", "2.1.2").Key, graph.ChildrenOf(Single(graph, "debug").Key));
    }

    [Fact]
    public void Read_Workspaces_AliasIsTheRealPackage()
    {
        var graph = Read("workspaces");

        var lodash = Single(graph, "lodash");

        Assert.Equal("4.17.21", lodash.Version);
        Assert.Equal("pkg:npm/lodash@4.17.21", lodash.Purl.ToString());
        Assert.True(lodash.Direct);
        Assert.Empty(graph.FindByName("my-lodash"));
        Assert.Equal(LineOf("workspaces/package-lock.json", "\"node_modules/my-lodash\": {"), lodash.Locations.Single().Line);
    }

    [Fact]
    public void Read_Workspaces_FileDependenciesAndBundledDependency()
    {
        var graph = Read("workspaces");

        var local = Single(graph, "local-dep");
        Assert.Equal(new Origin(OriginKind.File, "vendor/local-dep"), local.Origin);
        Assert.Equal("0.3.0", local.Version);
        Assert.Contains(Single(graph, "kleur").Key, graph.ChildrenOf(local.Key));

        var bundler = Single(graph, "bundler-demo");
        Assert.Equal(new Origin(OriginKind.File, "vendor/bundler-demo-1.0.0.tgz"), bundler.Origin);
        Assert.NotEmpty(bundler.Integrity);
        // The bundled ms 2.1.3 comes inside bundler-demo's tarball; it is the same package as debug's ms 2.1.3.
        var bundled = Single(graph, "ms", "2.1.3");
        Assert.Contains(bundled.Key, graph.ChildrenOf(bundler.Key));
        Assert.Contains(bundled.Locations, l => l.Line == LineOf("workspaces/package-lock.json", "\"node_modules/bundler-demo/node_modules/ms\": {"));
    }

    [Fact]
    public void Read_Workspaces_FlagsFollowNpm()
    {
        var graph = Read("workspaces");

        Assert.Equal(DependencyScopes.Dev, Single(graph, "typescript").Scopes);
        // npm does not mark a workspace member's devDependencies "dev" in the lockfile (it installs them with the
        // workspace); the reader follows the lockfile's flags.
        Assert.Equal(DependencyScopes.Prod, Single(graph, "ms", "2.1.2").Scopes);
    }

    [Fact]
    public void Read_WorkspacesVersion1_SameGraphAsVersion3()
    {
        var v3 = Read("workspaces");
        var v1 = Read("workspaces-v1");

        // Version 1 writes workspaces, folders and tarballs as file: versions and aliases as npm: versions; the
        // components, their origins and the edges come out the same.
        Assert.Equal(v3.Components.Select(c => (c.Key, c.Direct, c.Origin)), v1.Components.Select(c => (c.Key, c.Direct, c.Origin)));
        Assert.Equal(Edges(v3), Edges(v1));
        Assert.Single(v1.Roots);
        // The one difference: npm 11 marks a workspace's devDependency "dev" in version 1 but not in version 3.
        Assert.Equal(DependencyScopes.Dev, Single(v1, "ms", "2.1.2").Scopes);

        static IEnumerable<string> Edges(DependencyGraph g) =>
            g.Edges.Select(e => (g.IsRoot(e.From) ? "(root)" : g.Label(e.From)) + " > " + g.Label(e.To)).Order(StringComparer.Ordinal);
    }

    private static string Label(DependencyGraph graph, string name)
    {
        var c = Single(graph, name);
        return $"{c.Name}@{c.Version}";
    }
}
