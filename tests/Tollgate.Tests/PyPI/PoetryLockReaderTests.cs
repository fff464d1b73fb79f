using Tollgate.Graph;

namespace Tollgate.Tests.PyPI;

public sealed class PoetryLockReaderTests
{
    [Fact]
    public void Read_Poetry1xCategoryAndMetadataFiles_ScopesAndHashes()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "poetry-1x"));

        diagnostics.NoErrors();
        var root = Assert.Single(graph.Roots);
        Assert.Equal("legacy-server@0.3.0", root.DisplayName);
        Assert.Equal(2, root.Files.Length);
        Assert.Equal(9, graph.Components.Length);
        Assert.Equal(DependencyScopes.Dev, graph.One("colorama").Scopes);
        Assert.Equal(DependencyScopes.Prod, graph.One("urllib3").Scopes);
        Assert.Equal(2, graph.One("certifi").Integrity.Length); // from [metadata.files]
        Assert.Equal(["requests", "pytest"], graph.Components.Where(c => c.Direct).Select(c => c.Name).OrderByDescending(n => n, StringComparer.Ordinal));
        Assert.Equal(["certifi@2024.2.2", "charset-normalizer@3.3.2", "idna@3.6", "urllib3@2.2.1"], graph.ChildLabels(graph.One("requests").Key));
    }

    [Fact]
    public void Read_Poetry2xGroupsSourcesAndMultiConstraints_Graph()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "poetry-2x"));

        diagnostics.NoErrors();
        Assert.Equal(13, graph.Components.Length);
        Assert.Equal("sample-server@1.0.0", graph.Roots.Single().DisplayName);
        Assert.Equal(DependencyScopes.Prod | DependencyScopes.Dev, graph.One("exceptiongroup").Scopes);
        Assert.Equal(DependencyScopes.Optional, graph.One("rich").Scopes);
        // An array of constraints with markers: one edge per locked version.
        Assert.Equal(["numpy@1.26.4", "numpy@2.0.0"], graph.ChildLabels(graph.One("pandas-lite").Key));
        var core = graph.One("mcp-core");
        Assert.Equal(new Origin(OriginKind.Git, "https://git.example.invalid/org/mcp-core.git"), core.Origin);
        Assert.True(core.Direct);
        Assert.Equal(new Origin(OriginKind.File, "../local-lib"), graph.One("local-lib").Origin);
        Assert.Equal(
            ["anyio", "local-lib", "mcp-core", "pandas-lite", "pytest", "rich"],
            graph.Components.Where(c => c.Direct).Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["exceptiongroup@1.2.1", "idna@3.7", "sniffio@1.3.1"], graph.ChildLabels(graph.One("anyio").Key));
        Assert.Equal(4, graph.One("anyio").Locations.Single().Line);
    }

    [Fact]
    public void Read_WithoutPyProject_PackagesNobodyNeedsAreDirect()
    {
        var (graph, _) = PyPITestRead.Read(TestData.Path("pypi", "poetry-1x", "poetry.lock"));

        Assert.Equal(["pytest", "requests"], graph.Components.Where(c => c.Direct).Select(c => c.Name).Order(StringComparer.Ordinal));
    }
}
