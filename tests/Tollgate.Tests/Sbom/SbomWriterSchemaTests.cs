using Tollgate.Graph;
using Tollgate.Sbom;

namespace Tollgate.Tests.Sbom;

/// <summary>Every writer output, for every supported spec version and every real input, against the official JSON schema.</summary>
public sealed class SbomWriterSchemaTests
{
    internal static readonly SbomOptions Fixed = new("1.6", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), Reproducible: true, "0.1.0-test", "project");

    public static IEnumerable<object[]> CycloneDxCases() =>
        from input in SbomInputs.Names from version in SbomOptions.CycloneDxVersions select new object[] { input, version };

    public static IEnumerable<object[]> SpdxCases() =>
        from input in SbomInputs.Names from version in SbomOptions.SpdxVersions select new object[] { input, version };

    [Theory]
    [MemberData(nameof(CycloneDxCases))]
    public async Task CycloneDxWriter_RealGraph_IsValidAgainstTheOfficialSchema(string input, string version)
    {
        var json = CycloneDxWriter.Write(SbomInputs.Graph(input), Fixed with { SpecVersion = version });

        Assert.Empty(await SbomSchemas.ValidateAsync("cyclonedx", version, json));
    }

    [Theory]
    [MemberData(nameof(SpdxCases))]
    public async Task SpdxWriter_RealGraph_IsValidAgainstTheOfficialSchema(string input, string version)
    {
        var json = SpdxWriter.Write(SbomInputs.Graph(input), Fixed with { SpecVersion = version });

        Assert.Empty(await SbomSchemas.ValidateAsync("spdx", version, json));
    }

    [Fact]
    public async Task CycloneDxWriter_SeveralRoots_IsValidAgainstTheOfficialSchema()
    {
        // A folder with an npm and a NuGet project gives two roots under one synthetic main component.
        var graph = GraphMerger.Merge(
            [.. new[] { "npm/mcp-filesystem", "nuget/mcp-server" }.SelectMany(n => Projects(SbomInputs.Graph(n)))], []);
        Assert.Equal(2, graph.Roots.Length);

        foreach (var version in SbomOptions.CycloneDxVersions)
        {
            Assert.Empty(await SbomSchemas.ValidateAsync("cyclonedx", version, CycloneDxWriter.Write(graph, Fixed with { SpecVersion = version })));
        }
        foreach (var version in SbomOptions.SpdxVersions)
        {
            Assert.Empty(await SbomSchemas.ValidateAsync("spdx", version, SpdxWriter.Write(graph, Fixed with { SpecVersion = version })));
        }
    }

    [Theory]
    [InlineData("cyclonedx", "1.5")]
    [InlineData("cyclonedx", "1.6")]
    [InlineData("cyclonedx", "1.7")]
    [InlineData("spdx", "2.2")]
    [InlineData("spdx", "2.3")]
    public async Task OfficialSchema_BrokenDocument_IsRejected(string format, string version)
    {
        // The control for the tests above: the loaded schema (with its local references) does reject what it forbids.
        var graph = SbomInputs.Graph("npm/mcp-filesystem");
        var json = format == "cyclonedx"
            ? CycloneDxWriter.Write(graph, Fixed with { SpecVersion = version }).Replace("\"type\": \"library\"", "\"type\": \"no-such-type\"", StringComparison.Ordinal)
            : SpdxWriter.Write(graph, Fixed with { SpecVersion = version }).Replace("\"spdxElementId\"", "\"spdxElementIdentifier\"", StringComparison.Ordinal);

        var errors = string.Join('\n', await SbomSchemas.ValidateAsync(format, version, json));

        Assert.Contains(format == "cyclonedx" ? "components[0].type" : "relationships[0]", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CycloneDxSchema_LicenceIdFromTheSpdxCompanion_IsChecked()
    {
        // The bom schema takes its licence-id enum from spdx.SNAPSHOT.schema.json: an unknown id must fail,
        // which proves the relative reference was resolved from the local folder rather than skipped.
        var json = """
            {"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
             "components":[{"type":"library","name":"a","version":"1.0.0","licenses":[{"license":{"id":"NOT-A-LICENCE"}}]}]}
            """;
        var good = json.Replace("NOT-A-LICENCE", "MIT", StringComparison.Ordinal);

        Assert.NotEmpty(await SbomSchemas.ValidateAsync("cyclonedx", "1.6", json));
        Assert.Empty(await SbomSchemas.ValidateAsync("cyclonedx", "1.6", good));
    }

    private static IEnumerable<ProjectGraph> Projects(DependencyGraph graph) =>
        graph.Roots.Select(r => new ProjectGraph(r, graph.Components, [.. graph.Edges]));
}
