using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Sbom;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Sbom;

/// <summary>
/// Hand-written broken SBOMs (testdata/sbom/malformed, see its README): each gives an error diagnostic that
/// names the JSON path, never an exception, and `inventory add` stores nothing.
/// </summary>
public sealed class SbomMalformedTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string, string, string> Cases() => new()
    {
        { "not-json.cdx.json", DiagnosticIds.InvalidJson, "invalid SBOM JSON" },
        { "truncated.cdx.json", DiagnosticIds.InvalidJson, "invalid SBOM JSON at $.components" },
        { "wrong-type.cdx.json", DiagnosticIds.InvalidJson, "at $.components[0].hashes" },
        { "cyclonedx-1.1.cdx.json", DiagnosticIds.UnsupportedVersion, "CycloneDX specVersion '1.1' at $.specVersion is not supported" },
        { "cyclonedx-2.0.cdx.json", DiagnosticIds.UnsupportedVersion, "CycloneDX specVersion '2.0' at $.specVersion is not supported" },
        { "spdx-2.1.spdx.json", DiagnosticIds.UnsupportedVersion, "SPDX version 'SPDX-2.1' at $.spdxVersion is not supported" },
        { "no-spec-version.cdx.json", DiagnosticIds.UnexpectedShape, "without $.specVersion" },
        { "neither.json", DiagnosticIds.UnexpectedShape, "not a CycloneDX or SPDX JSON document" },
        { "duplicate-bom-ref.cdx.json", DiagnosticIds.UnexpectedShape, "duplicate bom-ref 'pkg:npm/ms@2.1.3' at $.components[1].bom-ref" },
        { "duplicate-nested-bom-ref.cdx.json", DiagnosticIds.UnexpectedShape, "duplicate bom-ref 'pkg:npm/ms@2.1.3' at $.components[0].components[0].bom-ref" },
        { "dangling-ref.cdx.json", DiagnosticIds.DanglingReference, "dependency ref 'pkg:npm/nowhere@1.0.0' at $.dependencies[1].ref names no component" },
        { "dangling-depends-on.cdx.json", DiagnosticIds.DanglingReference, "dependsOn 'pkg:npm/nowhere@1.0.0' at $.dependencies[0].dependsOn names no component" },
        { "component-without-name.cdx.json", DiagnosticIds.UnexpectedShape, "component at $.components[1] has no name (required)" },
        { "duplicate-spdxid.spdx.json", DiagnosticIds.UnexpectedShape, "duplicate SPDXID 'SPDXRef-Package-ms' at $.packages[2].SPDXID" },
        { "dangling-relationship.spdx.json", DiagnosticIds.DanglingReference, "relatedSpdxElement 'SPDXRef-Package-nowhere' at $.relationships[2].relatedSpdxElement names no element" },
        { "package-without-spdxid.spdx.json", DiagnosticIds.UnexpectedShape, "package at $.packages[1] has no SPDXID (required)" },
    };

    private static string Malformed(string file) => TestData.Path("sbom", "malformed", file);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_MalformedSbom_ErrorWithJsonPath(string file, string id, string message)
    {
        var bag = new DiagnosticBag();

        var graph = SbomReader.Read(Malformed(file), bag);

        var error = Assert.Single(bag.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(id, error.Id);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Location);
        Assert.EndsWith(file, error.Location.File, StringComparison.Ordinal);
        Assert.NotNull(error.Hint);
        Assert.NotNull(graph);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InventoryAdd_MalformedSbom_ExitsTwoAndStoresNothing(string file, string id, string message)
    {
        _ = message;
        var store = _temp.File("inventory.db");

        var add = CliRunner.Run("inventory", "add", Malformed(file), "--deployment", "broken", "--store", store);
        var list = CliRunner.Run("inventory", "list", "--store", store, "--format", "json");

        Assert.Equal(2, add.ExitCode);
        Assert.Contains(id, add.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was stored", add.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", add.Stderr, StringComparison.Ordinal);
        // Not even an empty store was created: a query on it is an error, not an empty answer.
        Assert.False(File.Exists(store));
        Assert.Equal(2, list.ExitCode);
        Assert.Contains("no inventory store", list.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_InvalidJson_ReportsLineAndColumn()
    {
        var bag = new DiagnosticBag();

        SbomReader.Read(Malformed("truncated.cdx.json"), bag);

        var error = Assert.Single(bag.Items);
        Assert.True(error.Location!.Line > 1, error.ToString());
    }
}
