using Tollgate.Graph;

namespace Tollgate.Tests.PyPI;

public sealed class PipfileLockReaderTests
{
    [Fact]
    public void Read_GitEditableFileAndIndex_Origins()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "pipfile-git"));

        diagnostics.NoErrors();
        var root = Assert.Single(graph.Roots);
        Assert.Equal(2, root.Files.Length); // Pipfile.lock with its Pipfile
        Assert.Equal(6, graph.Components.Length);
        Assert.Equal(Origin.Registry("https://packages.example.invalid/simple"), graph.One("requests").Origin);
        var tools = graph.One("mcp-tools");
        Assert.Equal(new Origin(OriginKind.Git, "https://git.example.invalid/org/mcp-tools.git"), tools.Origin);
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", tools.Version);
        var plugin = graph.One("local-plugin");
        Assert.Equal(new Origin(OriginKind.File, "./plugins/local-plugin"), plugin.Origin);
        Assert.False(plugin.Resolved);
        var wheel = graph.One("wheel-only");
        Assert.Equal("2.0.0", wheel.Version); // from the wheel's file name
        Assert.Equal(OriginKind.Url, wheel.Origin.Kind);
    }

    [Fact]
    public void Read_DefaultAndDevelop_ScopesAndDirectFromPipfile()
    {
        var (graph, _) = PyPITestRead.Read(TestData.Path("pypi", "pipfile-git"));

        Assert.Equal(DependencyScopes.Prod | DependencyScopes.Dev, graph.One("certifi").Scopes);
        Assert.False(graph.One("certifi").Direct); // not in the Pipfile
        Assert.Equal(DependencyScopes.Dev, graph.One("pytest").Scopes);
        Assert.Equal(["local-plugin", "mcp-tools", "pytest", "requests", "wheel-only"],
            graph.Components.Where(c => c.Direct).Select(c => c.Name).Order(StringComparer.Ordinal));
        // The lock has no edges: everything hangs from the root.
        Assert.Equal(6, graph.ChildrenOf(graph.Roots[0].Key).Length);
    }

    [Fact]
    public void Read_LockAlone_EveryEntryIsDirect()
    {
        var (graph, _) = PyPITestRead.Read(TestData.Path("pypi", "pipfile-git", "Pipfile.lock"));

        Assert.All(graph.Components, c => Assert.True(c.Direct));
    }
}
