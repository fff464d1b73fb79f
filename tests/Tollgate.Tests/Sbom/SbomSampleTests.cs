using System.Text.Json;
using Tollgate.Ecosystems;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Sbom;

namespace Tollgate.Tests.Sbom;

/// <summary>
/// SBOMs made by other tools (Microsoft sbom-tool, @cyclonedx/cyclonedx-npm, @cyclonedx/cdxgen), read by
/// <see cref="SbomReader"/> and compared with the documents themselves and with what our npm reader finds
/// in the lockfile the two npm SBOMs were made from.
/// </summary>
public sealed class SbomSampleTests
{
    private static string Sample(string file) => TestData.Reference("sbom", file);

    private static DependencyGraph Read(string file, out DiagnosticBag bag)
    {
        bag = new DiagnosticBag();
        var graph = SbomReader.Read(Sample(file), bag);
        Assert.False(bag.HasErrors, string.Join('\n', bag.Items));
        return graph;
    }

    /// <summary>name@version of every npm package the lockfile installs: our reader's view of the fixture.</summary>
    private static List<string> FixtureFromLockfile()
    {
        var bag = new DiagnosticBag();
        var graph = EcosystemReaders.Discovery().Read([Sample("mcp-sbom-fixture/package-lock.json")], bag);
        Assert.False(bag.HasErrors, string.Join('\n', bag.Items));
        return NameVersions(graph);
    }

    private static List<string> NameVersions(DependencyGraph graph) =>
        [.. graph.Components.Select(c => $"{c.Name}@{c.Version}").Distinct().Order(StringComparer.Ordinal)];

    [Fact]
    public void Read_SbomToolSpdx22_Has266NuGetPackagesAndTheRootsDependencies()
    {
        var graph = Read("sbom-tool-sample.spdx-2.2.json", out var bag);
        using var doc = JsonDocument.Parse(File.ReadAllText(Sample("sbom-tool-sample.spdx-2.2.json")));
        var packages = doc.RootElement.GetProperty("packages").EnumerateArray().ToList();
        var relationships = doc.RootElement.GetProperty("relationships").EnumerateArray().ToList();
        var rootDepends = relationships.Count(r => r.GetProperty("relationshipType").GetString() == "DEPENDS_ON"
            && r.GetProperty("spdxElementId").GetString() == "SPDXRef-RootPackage");

        // 267 packages: the described root (a swid purl) and 266 NuGet packages.
        Assert.Equal(267, packages.Count);
        Assert.Equal(266, graph.Components.Length);
        Assert.All(graph.Components, c => Assert.Equal(Ecosystem.NuGet, c.Ecosystem));
        Assert.Equal("sbom-tool sample", graph.Roots.Single().Name);
        Assert.Equal("4.0.3", graph.Roots.Single().Version);
        Assert.Equal(rootDepends, graph.Components.Count(c => c.Direct));
        // Every DEPENDS_ON becomes one edge (none dangles, none duplicates).
        Assert.Equal(relationships.Count(r => r.GetProperty("relationshipType").GetString() == "DEPENDS_ON"), graph.Edges.Length);
        Assert.Contains(graph.Components, c => c.Name == "Castle.Core" && c.Version == "5.1.1" && c.Purl.ToString() == "pkg:nuget/Castle.Core@5.1.1");
        Assert.DoesNotContain(bag.Items, d => d.Severity == DiagnosticSeverity.Warning);
    }

    [Fact]
    public void Read_CycloneDxNpmNested_SameComponentsAsOurLockfileReader()
    {
        var graph = Read("cyclonedx-npm-6.0.1.cdx-1.6.json", out var bag);

        // cyclonedx-npm nests a package under the package whose node_modules folder holds it; flattening
        // the tree and merging equal purls gives the set the lockfile installs. The lockfile has 93 entries
        // for 90 distinct name@version pairs (three packages are installed twice, nested): both readers merge those.
        Assert.Equal(FixtureFromLockfile(), NameVersions(graph));
        Assert.Equal(90, graph.Components.Length);
        Assert.Equal("mcp-sbom-fixture", graph.Roots.Single().Name);
        Assert.Equal(["@modelcontextprotocol/sdk@1.20.2"], graph.Components.Where(c => c.Direct).Select(c => $"{c.Name}@{c.Version}"));
        Assert.DoesNotContain(bag.Items, d => d.Severity == DiagnosticSeverity.Warning);
    }

    [Fact]
    public void Read_CdxgenFlat_SameComponentsAsOurLockfileReader()
    {
        var graph = Read("cdxgen-12.8.4.cdx-1.6.json", out _);

        Assert.Equal(FixtureFromLockfile(), NameVersions(graph));
        Assert.Equal(["@modelcontextprotocol/sdk@1.20.2"], graph.Components.Where(c => c.Direct).Select(c => $"{c.Name}@{c.Version}"));
    }

    [Fact]
    public void Read_CdxgenAndOurLockfileReader_SameEdges()
    {
        // cdxgen writes the dependency tree from the lockfile too: the edges must agree with ours.
        var fromSbom = Read("cdxgen-12.8.4.cdx-1.6.json", out _);
        var bag = new DiagnosticBag();
        var fromLock = EcosystemReaders.Discovery().Read([Sample("mcp-sbom-fixture/package-lock.json")], bag);

        Assert.Equal(EdgeLabels(fromLock), EdgeLabels(fromSbom));
    }

    [Theory]
    [InlineData("sbom-tool-sample.spdx-3.0.json")]
    [InlineData("cdxgen-12.8.4.spdx-3.0.1.json")]
    public void Read_Spdx3JsonLd_IsRejectedWithAnUnsupportedVersionError(string file)
    {
        var bag = new DiagnosticBag();

        var graph = SbomReader.Read(Sample(file), bag);

        var error = Assert.Single(bag.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(DiagnosticIds.UnsupportedVersion, error.Id);
        Assert.Contains("SPDX 3", error.Message, StringComparison.Ordinal);
        Assert.Empty(graph.Components);
    }

    private static List<string> EdgeLabels(DependencyGraph graph) =>
        [.. graph.Edges.Select(e => (graph.IsRoot(e.From) ? "root" : graph.Label(e.From)) + " > " + graph.Label(e.To)).Distinct().Order(StringComparer.Ordinal)];
}
