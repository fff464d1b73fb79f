using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Sbom;
using Tollgate.Tests.Advisories;

namespace Tollgate.Tests.Sbom;

/// <summary>The CycloneDX specification's own example BOMs (testdata/sbom/spec-examples, see its README).</summary>
public sealed class SbomSpecExampleTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Example(string file) => TestData.Path("sbom", "spec-examples", file);

    [Theory]
    [InlineData("valid-bom-1.6.json")]
    [InlineData("valid-dependency-1.6.json")]
    public async Task SpecExample_IsValidAgainstTheLocalSchema(string file)
    {
        // The control for our schema loading: the specification's valid examples pass it.
        Assert.Empty(await SbomSchemas.ValidateAsync("cyclonedx", "1.6", File.ReadAllText(Example(file))));
    }

    [Fact]
    public void Read_ValidBom16_LegacyToolsArrayAndHashesAreRead()
    {
        var bag = new DiagnosticBag();

        var graph = SbomReader.Read(Example("valid-bom-1.6.json"), bag);

        Assert.False(bag.HasErrors, string.Join('\n', bag.Items));
        Assert.Equal("Acme Application", graph.Roots.Single().Name);
        var component = Assert.Single(graph.Components);
        // The example's purl has an npm namespace without '@' (not a real npm scope): the name keeps both parts.
        Assert.Equal((Ecosystem.Npm, "acme/component", "1.0.0"), (component.Ecosystem, component.Name, component.Version));
        Assert.Equal(["md5", "sha1", "sha256", "sha512"], component.Integrity.Select(h => h.Algorithm).Order(StringComparer.Ordinal));
        Assert.Equal("Apache-2.0", component.License);
        // "mylibrary" has no purl: reported, not matched.
        Assert.Contains(bag.Items, d => d.Severity == DiagnosticSeverity.Warning && d.Message.Contains("'mylibrary' at $.components[1] has no purl", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_ValidDependency16_ComponentsWithoutPurlAreReportedNotFailed()
    {
        var bag = new DiagnosticBag();

        var graph = SbomReader.Read(Example("valid-dependency-1.6.json"), bag);

        Assert.False(bag.HasErrors, string.Join('\n', bag.Items));
        Assert.Empty(graph.Components);
        Assert.Equal(3, bag.Items.Count(d => d.Severity == DiagnosticSeverity.Warning && d.Message.Contains("has no purl", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("1.6")]
    [InlineData("1.7")]
    public async Task RoundTrip_ValidBom16_SameComponentAndHashesAndValidOutput(string version)
    {
        var bag = new DiagnosticBag();
        var graph = SbomReader.Read(Example("valid-bom-1.6.json"), bag);
        var written = CycloneDxWriter.Write(graph, SbomWriterSchemaTests.Fixed with { SpecVersion = version });
        var file = _temp.File("again.cdx.json");
        File.WriteAllText(file, written);

        var again = SbomReader.Read(file, new DiagnosticBag());

        Assert.Empty(await SbomSchemas.ValidateAsync("cyclonedx", version, written));
        Assert.Equal(graph.Components.Select(c => c.Key), again.Components.Select(c => c.Key));
        Assert.Equal(graph.Components.Single().Integrity.Select(h => h.ToString()).Order(StringComparer.Ordinal), again.Components.Single().Integrity.Select(h => h.ToString()).Order(StringComparer.Ordinal));
    }
}
