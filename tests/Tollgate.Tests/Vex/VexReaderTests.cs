using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Vex;

namespace Tollgate.Tests.Vex;

/// <summary>
/// The VEX readers and matching on the OpenVEX specification's own examples, go-vex's test documents and the CycloneDX
/// VEX examples (testdata/vex/README.md says where each comes from).
/// </summary>
public sealed class VexReaderTests
{
    private static ImmutableArray<VexStatement> Read(string folder, string file, out DiagnosticBag diagnostics)
    {
        diagnostics = new DiagnosticBag();
        var statements = VexReader.ReadFile(TestData.Path("vex", folder, file), diagnostics);
        Assert.True(statements is not null, string.Join("\n", diagnostics.Items));
        return statements.Value;
    }

    private static Finding Vulnerability(string id, string purl, params string[] aliases)
    {
        var p = PackageUrl.Parse(purl);
        var ecosystem = p.Type switch { "npm" => Ecosystem.Npm, "pypi" => Ecosystem.PyPI, "nuget" => Ecosystem.NuGet, _ => Ecosystem.Generic };
        return new Finding
        {
            Kind = FindingKind.Vulnerability,
            Id = id,
            Aliases = [.. aliases],
            Severity = Severity.High,
            Summary = "test",
            Component = new Component { Ecosystem = ecosystem, Name = p.FullName, Version = p.Version ?? "", Purl = p },
        };
    }

    [Fact]
    public void OpenVexSpec_MinimalExample_ReadsTheFixedStatement()
    {
        var statement = Assert.Single(Read("openvex-spec", "minimal.json", out var diagnostics));

        Assert.Empty(diagnostics.Items);
        Assert.Equal("CVE-2023-12345", statement.Vulnerability);
        Assert.Equal(VexStatus.Fixed, statement.Status);
        Assert.Equal("Wolfi J Inkinson", statement.Author);
        Assert.Equal(VexFormat.OpenVex, statement.Format);
        // The document's timestamp has nanoseconds (more digits than .NET parses) and an offset.
        Assert.Equal(new DateTimeOffset(2023, 1, 8, 18, 2, 3, TimeSpan.FromHours(-6)).AddTicks(6477879), statement.Timestamp);
        Assert.Equal(["pkg:apk/wolfi/git@2.39.0-r1?arch=armv7", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"],
            statement.Products.SelectMany(p => p.Purls).Select(p => p.ToString()));
    }

    [Theory]
    [InlineData("pkg:apk/wolfi/git@2.39.0-r1?arch=armv7", true)]
    [InlineData("pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64&distro=wolfi", true)] // more qualifiers than the statement: still it
    [InlineData("pkg:apk/wolfi/git@2.39.0-r1", false)] // the statement's qualifier is missing
    [InlineData("pkg:apk/wolfi/git@2.39.0-r1?arch=aarch64", false)]
    [InlineData("pkg:apk/wolfi/git@2.39.0-r2?arch=armv7", false)]
    [InlineData("pkg:apk/wolfi/gitx@2.39.0-r1?arch=armv7", false)]
    public void OpenVexSpec_MinimalExample_MatchesPurlsFromGeneralToSpecific(string purl, bool matches)
    {
        var vex = new VexStatements(Read("openvex-spec", "minimal.json", out _));

        Assert.Equal(matches, vex.For(Vulnerability("CVE-2023-12345", purl)) is not null);
        Assert.Null(vex.For(Vulnerability("CVE-2023-99999", purl)));
    }

    [Fact]
    public void OpenVexSpec_StatementWithoutTimestamp_InheritsTheDocuments()
    {
        var statement = Assert.Single(Read("openvex-spec", "inheritance-before.json", out _));

        Assert.Equal(VexStatus.UnderInvestigation, statement.Status);
        Assert.False(statement.Suppresses);
        Assert.Equal(DateTimeOffset.Parse("2023-01-08T18:02:03-06:00", System.Globalization.CultureInfo.InvariantCulture), statement.Timestamp);
    }

    [Theory]
    // Two of the specification's examples are not valid JSON as printed (a trailing comma; a missing comma): the reader
    // says where, and the document suppresses nothing.
    [InlineData("inheritance-after.json", 16, 7)]
    [InlineData("spring-boot.json", 23, 11)]
    public void OpenVexSpec_MalformedExamples_AreErrorsWithTheirPosition(string file, int line, int column)
    {
        var diagnostics = new DiagnosticBag();

        var statements = VexReader.ReadFile(TestData.Path("vex", "openvex-spec", file), diagnostics);

        Assert.Null(statements);
        var error = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.InvalidJson, error.Id);
        Assert.Equal((line, column), (error.Location!.Line, error.Location.Column));
        Assert.EndsWith(file, error.Location.File, StringComparison.Ordinal);
    }

    [Fact]
    public void GoVex_V001Document_StringVulnerabilityAndProducts()
    {
        var statement = Assert.Single(Read("go-vex", "v0.0.1.json", out _));
        var vex = new VexStatements([statement]);

        Assert.Equal(VexStatus.Fixed, statement.Status);
        Assert.Equal("Wolfi J Inkinson", statement.Author);
        Assert.NotNull(vex.For(Vulnerability("CVE-2023-12345", "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64")));
    }

    [Fact]
    public void GoVex_Subcomponents_MatchTheDependencyInsideTheProduct()
    {
        var statements = Read("go-vex", "v0.2.0.json", out _);
        var vex = new VexStatements(statements);

        Assert.Equal(VexStatus.Fixed, vex.For(Vulnerability("CVE-2023-1255", "pkg:apk/alpine/libssl3@3.0.8-r3"))?.Status);
        Assert.Null(vex.For(Vulnerability("CVE-2023-1255", "pkg:apk/alpine/libssl3@3.0.9-r0")));
    }

    [Theory]
    [InlineData("cisa-case-1-vex-not_affected.json", VexStatus.NotAffected, "code_not_present")]
    [InlineData("cisa-case-1-vex-fixed.json", VexStatus.Fixed, null)]
    [InlineData("cisa-case-1-vex-affected.json", VexStatus.Affected, null)]
    [InlineData("cisa-case-1-vex-under_investigation.json", VexStatus.UnderInvestigation, null)]
    public void CycloneDxCisaCase1_StatesMapOntoOpenVexStatuses(string file, VexStatus status, string? justification)
    {
        var statement = Assert.Single(Read("cyclonedx", file, out var diagnostics));

        Assert.Equal("CVE-2021-44228", statement.Vulnerability);
        Assert.Equal(status, statement.Status);
        Assert.Equal(justification, statement.Justification);
        Assert.Equal(VexFormat.CycloneDx, statement.Format);
        // The product is named by bom-ref only, without a purl: the reader says it can match no package.
        Assert.Contains(diagnostics.Items, d => d.Id == DiagnosticIds.MissingReference && d.Severity == DiagnosticSeverity.Warning);
        Assert.All(statement.Products, p => Assert.Empty(p.Purls));
    }

    [Fact]
    public void CycloneDxCisaCase3_EveryVulnerabilityIsAStatement()
    {
        var statements = Read("cyclonedx", "cisa-case-3-vex.json", out _);

        Assert.Equal(19, statements.Length);
        // not_affected 6, in_triage 5, exploitable 5, resolved 3 in the file.
        Assert.Equal(6, statements.Count(s => s.Status == VexStatus.NotAffected));
        Assert.Equal(5, statements.Count(s => s.Status == VexStatus.UnderInvestigation));
        Assert.Equal(5, statements.Count(s => s.Status == VexStatus.Affected));
        Assert.Equal(3, statements.Count(s => s.Status == VexStatus.Fixed));
    }

    [Fact]
    public void CycloneDxVex_BomLinkToAPurl_MatchesByIdAndByReference()
    {
        var statement = Assert.Single(Read("cyclonedx", "vex.json", out _));
        var vex = new VexStatements([statement]);
        const string Purl = "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar";

        Assert.Equal(VexStatus.NotAffected, statement.Status);
        Assert.Equal("code_not_reachable", statement.Justification);
        Assert.StartsWith("Automated dataflow analysis", statement.Detail, StringComparison.Ordinal);
        Assert.NotNull(vex.For(Vulnerability("CVE-2020-25649", Purl)));
        Assert.NotNull(vex.For(Vulnerability("GHSA-288c-cq4h-88gq", Purl, "SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302")));
        Assert.Null(vex.For(Vulnerability("CVE-2020-25649", "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.1?type=jar")));
    }

    [Fact]
    public void CycloneDxUseCase5_VersionRanges_AreNotEvaluatedAndMatchNothing()
    {
        var statements = Read("cyclonedx", "use-case-5-vex.json", out var diagnostics);

        Assert.Equal(2, statements.Length);
        Assert.All(statements, s => Assert.All(s.Products, p => Assert.True(p.HasRanges)));
        Assert.Contains(diagnostics.Items, d => d.Message.Contains("range", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"bomFormat":"CycloneDX","specVersion":"1.6"}""", DiagnosticIds.UnexpectedShape, "no 'vulnerabilities'")]
    [InlineData("""{"@context":"https://openvex.dev/ns/v0.2.0","author":"a","statements":[{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"not_affected"}]}""", DiagnosticIds.InvalidEntry, "neither a 'justification'")]
    [InlineData("""{"@context":"https://openvex.dev/ns/v0.2.0","author":"a","statements":[{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"ignored"}]}""", DiagnosticIds.InvalidEntry, "status 'ignored'")]
    [InlineData("""{"@context":"https://openvex.dev/ns/v0.2.0","author":"a","statements":[{"vulnerability":{"name":"CVE-1"},"status":"fixed"}]}""", DiagnosticIds.InvalidEntry, "names no product")]
    [InlineData("""{"@context":"https://openvex.dev/ns/v0.2.0","author":"a","statements":[{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"fixed","timestamp":"yesterday"}]}""", DiagnosticIds.InvalidEntry, "RFC 3339")]
    [InlineData("""{"spdxVersion":"SPDX-2.3"}""", DiagnosticIds.UnexpectedShape, "not a VEX document")]
    [InlineData("[]", DiagnosticIds.UnexpectedShape, "expected a VEX document")]
    public void Read_InvalidDocument_IsAnErrorAndYieldsNothing(string json, string id, string message)
    {
        var diagnostics = new DiagnosticBag();

        var statements = VexReader.Read(System.Text.Encoding.UTF8.GetBytes(json), "bad.vex.json", diagnostics);

        Assert.Null(statements);
        var error = diagnostics.Items.First(d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(id, error.Id);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal("bad.vex.json", error.Location?.File);
        Assert.True(error.Location!.Line >= 1 && error.Location.Column >= 1);
    }

    [Fact]
    public void Statements_LatestStatementForAFindingIsInForce()
    {
        var vex = new VexStatements(Read("own", "example.openvex.json", out _));

        // not_affected on 2026-01-01, then affected on 2026-01-09: the later one stands.
        Assert.Equal(VexStatus.Affected, vex.For(Vulnerability("GHSA-35jh-r3h4-6jhm", "pkg:npm/lodash@4.17.20"))?.Status);
    }
}
