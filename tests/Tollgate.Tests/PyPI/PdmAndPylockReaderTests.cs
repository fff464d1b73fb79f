using Tollgate.Graph;

namespace Tollgate.Tests.PyPI;

public sealed class PdmAndPylockReaderTests
{
    [Fact]
    public void Read_PdmLock_GroupsEdgesAndExtrasEntriesMerged()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "pdm"));

        diagnostics.NoErrors();
        Assert.Equal("pdm-sample@0.1.0", graph.Roots.Single().DisplayName);
        Assert.Equal(9, graph.Components.Length); // ten [[package]] entries; requests[socks] merges into requests
        var requests = graph.One("requests");
        Assert.Equal(DependencyScopes.Prod | DependencyScopes.Optional, requests.Scopes);
        Assert.Equal(["certifi@2024.7.4", "idna@3.7", "pysocks@1.7.1", "urllib3@2.2.2"], graph.ChildLabels(requests.Key));
        Assert.Equal(DependencyScopes.Optional, graph.One("pysocks").Scopes);
        Assert.Equal(DependencyScopes.Dev, graph.One("colorama").Scopes);
        Assert.Equal(["colorama@0.4.6", "iniconfig@2.0.0", "pluggy@1.5.0"], graph.ChildLabels(graph.One("pytest").Key));
        Assert.Equal(["pytest", "requests"], graph.Components.Where(c => c.Direct).Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal("c198e21b1289c2ab85ee4e67bb4b4ef3ead0892059901a8d5b622f24a1101e90", graph.One("certifi").Integrity.Single().Value);
    }

    [Fact]
    public void Read_Pylock_Pep751Example()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "pylock", "pylock.toml"));

        diagnostics.NoErrors();
        Assert.Equal(["attrs@25.1.0", "cattrs@24.1.2", "numpy@2.2.3"], graph.Components.Select(c => $"{c.Name}@{c.Version}").Order(StringComparer.Ordinal));
        Assert.Equal(["attrs@25.1.0"], graph.ChildLabels(graph.One("cattrs").Key));
        Assert.Equal(2, graph.One("numpy").Integrity.Length); // one per wheel
        Assert.Equal(new IntegrityHash("sha256", "c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a"), graph.One("attrs").Integrity.Single());
        // No manifest: the packages nothing depends on are direct (the example locks "cattrs" and "numpy").
        Assert.Equal(["cattrs", "numpy"], graph.Components.Where(c => c.Direct).Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_PylockSources_VcsDirectoryArchiveAndIndex()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "pylock", "pylock.sources.toml"));

        diagnostics.NoErrors();
        var vcs = graph.One("vcs-dep");
        Assert.Equal("fedcba9876543210fedcba9876543210fedcba98", vcs.Version); // no version: the commit id
        Assert.Equal(new Origin(OriginKind.Git, "https://git.example.invalid/org/vcs-dep.git"), vcs.Origin);
        var local = graph.One("local-tool");
        Assert.Equal(new Origin(OriginKind.File, "./tools/local-tool"), local.Origin);
        Assert.False(local.Resolved);
        var archive = graph.One("archive-pkg");
        Assert.Equal(OriginKind.Url, archive.Origin.Kind);
        Assert.Equal(DependencyScopes.Dev, archive.Scopes); // its marker tests dependency_groups
        Assert.Single(archive.Integrity);
        Assert.Equal(Origin.Registry("https://packages.example.invalid/simple"), graph.One("internal-lib").Origin);
        // No dependencies recorded at all: every package is direct.
        Assert.All(graph.Components, c => Assert.True(c.Direct));
    }

    [Fact]
    public void Group_NamedPylockFiles_EachIsAProject()
    {
        var (graph, _) = PyPITestRead.Read(TestData.Path("pypi", "pylock"));

        Assert.Equal(2, graph.Roots.Length);
        Assert.Equal(7, graph.Components.Length);
    }
}
