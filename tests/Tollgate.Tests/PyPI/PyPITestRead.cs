using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.PyPI;

/// <summary>Reads inputs through discovery with the PyPI reader only, as `tollgate deps` does.</summary>
internal static class PyPITestRead
{
    public static (DependencyGraph Graph, IReadOnlyList<Diagnostic> Diagnostics) Read(params string[] paths)
    {
        var bag = new DiagnosticBag();
        var graph = new InputDiscovery([new PyPIReader()]).Read(paths, bag);
        return (graph, bag.Items);
    }

    /// <summary>The one component with this name (and version, when given).</summary>
    public static Component One(this DependencyGraph graph, string name, string? version = null) =>
        Assert.Single(graph.FindByName(name, version));

    /// <summary>Names (name@version) of the children of a node.</summary>
    public static string[] ChildLabels(this DependencyGraph graph, string key) =>
        [.. graph.ChildrenOf(key).Select(graph.Label).Order(StringComparer.Ordinal)];

    public static Diagnostic Only(this IReadOnlyList<Diagnostic> diagnostics, string id) =>
        Assert.Single(diagnostics, d => d.Id == id);

    public static void NoErrors(this IReadOnlyList<Diagnostic> diagnostics) =>
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
}
