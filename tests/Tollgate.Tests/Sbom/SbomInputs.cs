using Tollgate.Ecosystems;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Sbom;

/// <summary>Real dependency graphs read from committed lockfiles, the real Python lockfiles and the example project.</summary>
internal static class SbomInputs
{
    /// <summary>Names for theories: each resolves to a path by <see cref="PathOf"/>.</summary>
    public static readonly string[] Names =
    [
        "npm/mcp-filesystem",
        "nuget/mcp-server",
        "pypi/uv-mcp-server-fetch",
        "pypi/uv-mcp-server-git",
        "pypi/uv-mcp-python-sdk",
        "examples/mcp-server-npm",
    ];

    public static IEnumerable<object[]> All() => Names.Select(n => new object[] { n });

    public static string PathOf(string name)
    {
        var parts = name.Split('/');
        return parts[0] switch
        {
            "npm" or "nuget" => TestData.Path(parts[0], parts[1]),
            "pypi" => Path.Combine(TestData.Reference("lockfiles", "python", parts[1]), "uv.lock"),
            "examples" => Path.Combine(TestData.RepositoryRoot, "examples", parts[1]),
            _ => throw new ArgumentException(name, nameof(name)),
        };
    }

    /// <summary>The graph Tollgate reads from the input, checked to have no errors.</summary>
    public static DependencyGraph Graph(string name)
    {
        var bag = new DiagnosticBag();
        var graph = EcosystemReaders.Discovery().Read([PathOf(name)], bag);
        Assert.False(bag.HasErrors, string.Join('\n', bag.Items));
        Assert.NotEmpty(graph.Components);
        return graph;
    }
}
