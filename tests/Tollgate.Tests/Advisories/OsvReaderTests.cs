using System.Text;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Advisories;

public sealed class OsvReaderTests
{
    private static OsvReadResult Read(string json, DiagnosticBag? diagnostics = null) =>
        OsvReader.Read(Encoding.UTF8.GetBytes(json), "test.json", diagnostics ?? new DiagnosticBag());

    [Fact]
    public void Read_GitHubRecord_MapsEveryField()
    {
        var json = File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-xvch-5gv4-984h.json"));

        var result = OsvReader.Read(json, "GHSA-xvch-5gv4-984h.json", new DiagnosticBag());

        var advisory = Assert.IsType<Advisory>(result.Advisory);
        Assert.Equal("GHSA-xvch-5gv4-984h", advisory.Id);
        Assert.Equal(AdvisoryKind.Vulnerability, advisory.Kind);
        Assert.Equal("CRITICAL", advisory.DatabaseSeverity);
        Assert.Equal(["CVE-2021-44906"], advisory.Aliases.AsEnumerable());
        Assert.Equal([new SeverityScore(SeverityType.CvssV3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")], advisory.Severity.AsEnumerable());
        Assert.Equal(new DateTimeOffset(2022, 3, 18, 0, 1, 9, TimeSpan.Zero), advisory.Published);
        Assert.Equal(new DateTimeOffset(2023, 2, 27, 14, 47, 14, TimeSpan.Zero), advisory.Modified);
        Assert.Equal(2, advisory.Affected.Length);
        Assert.All(advisory.Affected, a => Assert.Equal("minimist", a.NormalizedName));
        Assert.Equal([new RangeEvent(RangeEventKind.Introduced, "1.0.0"), new RangeEvent(RangeEventKind.Fixed, "1.2.6")], advisory.Affected[0].Ranges[0].Events.AsEnumerable());
        Assert.Equal([new RangeEvent(RangeEventKind.Introduced, "0"), new RangeEvent(RangeEventKind.Fixed, "0.2.4")], advisory.Affected[1].Ranges[0].Events.AsEnumerable());
        Assert.Equal(RangeType.Ecosystem, advisory.Affected[0].Ranges[0].Type);
        Assert.Contains("\"cwe_ids\"", advisory.DatabaseSpecific, StringComparison.Ordinal);
        Assert.NotEmpty(advisory.References);
    }

    [Theory]
    [InlineData("""{"cwe_ids":["CWE-506"]}""")]
    [InlineData("""{"type":"MALWARE"}""")]
    [InlineData("""{"malware":true}""")]
    public void Read_GitHubMalwareMarkers_KindIsMalicious(string databaseSpecific)
    {
        var result = Read($$"""
            {"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","database_specific":{{databaseSpecific}},
             "affected":[{"package":{"ecosystem":"npm","name":"evil"},"versions":["1.0.0"]}]}
            """);

        Assert.Equal(AdvisoryKind.Malicious, result.Advisory!.Kind);
    }

    [Theory]
    [InlineData("database_specific")]
    [InlineData("ecosystem_specific")]
    public void Read_InvalidUtf8InMemberKeptAsJson_RejectedWithDiagnostic(string member)
    {
        // Members kept as JSON text are decoded after deserialisation: a bad byte there used to escape as an exception
        // and stop a whole import.
        var json = Encoding.UTF8.GetBytes($$$"""
            {"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","{{{(member == "database_specific" ? member : "x")}}}":{"source":"a#b"},
             "affected":[{"package":{"ecosystem":"npm","name":"a"},"{{{(member == "ecosystem_specific" ? member : "x")}}}":{"note":"c#d"}}]}
            """);
        json[Array.IndexOf(json, (byte)'#')] = 0xFF;
        json[Array.LastIndexOf(json, (byte)'#')] = 0xC0;
        var diagnostics = new DiagnosticBag();

        var result = OsvReader.Read(json, "test.json", diagnostics);

        Assert.Equal(OsvReadStatus.Rejected, result.Status);
        var diagnostic = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.InvalidJson, diagnostic.Id);
        Assert.Contains("GHSA-aaaa-bbbb-cccc", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OnlyOtherEcosystems_IsCountedNotRejected()
    {
        var diagnostics = new DiagnosticBag();

        var result = Read("""
            {"id":"GO-2024-0001","modified":"2024-01-01T00:00:00Z",
             "affected":[{"package":{"ecosystem":"Go","name":"x"}},{"package":{"ecosystem":"PyPI:Other","name":"y"}},{"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"}]}]}]}
            """, diagnostics);

        Assert.Equal(OsvReadStatus.OtherEcosystem, result.Status);
        Assert.Empty(diagnostics.Items);
    }

    [Fact]
    public void Read_MixedEcosystems_KeepsOnlySupportedOnes()
    {
        var result = Read("""
            {"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","upstream":["CVE-1"],"related":["CVE-2",{"type":"SIMILAR_TO","id":"CVE-3"}],
             "affected":[{"package":{"ecosystem":"Maven","name":"a:b"}},{"package":{"ecosystem":"PyPI","name":"Foo_Bar.baz"},
               "ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.2.0"}]}],
               "ecosystem_specific":{"affected_functions":["f"]}}]}
            """);

        var affected = Assert.Single(result.Advisory!.Affected);
        Assert.Equal(Ecosystem.PyPI, affected.Ecosystem);
        Assert.Equal("foo-bar-baz", affected.NormalizedName);
        Assert.Equal(RangeEventKind.LastAffected, affected.Ranges[0].Events[1].Kind);
        Assert.Equal("""{"affected_functions":["f"]}""", affected.EcosystemSpecific);
        Assert.Equal(["CVE-1"], result.Advisory.Upstream.AsEnumerable());
        Assert.Equal(["CVE-2", "CVE-3"], result.Advisory.Related.AsEnumerable());
    }

    [Theory]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","summary":5}""", "$.summary")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":{"package":{}}}""", "$.affected")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":0}]}]}]}""", "$.affected[0].ranges[0].events[0].introduced")]
    [InlineData("""{"id":"X","modified":"yesterday","affected":[]}""", "$.modified")]
    [InlineData("""{"id":"","modified":"2024-01-01T00:00:00Z"}""", "$.id")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","database_specific":[1]}""", "$.database_specific")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}""", "$.affected[0].ranges[0].events[0]")]
    [InlineData("""[1,2,3]""", "$")]
    public void Read_WrongShape_RejectedWithPath(string json, string path)
    {
        var diagnostics = new DiagnosticBag();

        var result = Read(json, diagnostics);

        Assert.Equal(OsvReadStatus.Rejected, result.Status);
        var d = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal("test.json", d.Location!.File);
        Assert.Contains(path + ":", d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2021-07-16T01:31:33.917972Z", 2021, 7, 16, 1, 31, 33, 9179720)]
    [InlineData("2024-06-28T02:46:45.046715117Z", 2024, 6, 28, 2, 46, 45, 467151)]
    [InlineData("2024-06-25T13:23:10Z", 2024, 6, 25, 13, 23, 10, 0)]
    [InlineData("2024-06-25T15:23:10+02:00", 2024, 6, 25, 13, 23, 10, 0)]
    [InlineData("2024-02-29T23:59:59.9999999Z", 2024, 2, 29, 23, 59, 59, 9999999)]
    [InlineData("2024-06-25T13:23:10.5Z", 2024, 6, 25, 13, 23, 10, 5000000)]
    public void TryParseTimestamp_Rfc3339_ParsesToUtc(string text, int y, int mo, int d, int h, int mi, int s, long fractionTicks)
    {
        Assert.True(OsvReader.TryParseTimestamp(text, out var value));
        Assert.Equal(new DateTimeOffset(y, mo, d, h, mi, s, TimeSpan.Zero).AddTicks(fractionTicks), value);
    }

    [Theory]
    [InlineData("2023-02-29T00:00:00Z")]
    [InlineData("2024-13-01T00:00:00Z")]
    [InlineData("2024-01-01T24:00:00Z")]
    [InlineData("2024-01-01T00:60:00Z")]
    [InlineData("2024-01-01T00:00:00.Z")]
    [InlineData("2024-01-01T00:00:00z")]
    [InlineData("2024-01-01 00:00:00Z")]
    [InlineData("0000-01-01T00:00:00Z")]
    [InlineData("2024-1-01T00:00:00Z")]
    [InlineData("+024-01-01T00:00:00Z")]
    public void TryParseTimestamp_AgreesWithTheGeneralDateParse(string text)
    {
        // The direct reading of the common form must accept and refuse exactly what the general parse does.
        var expected = DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var general);

        var actual = OsvReader.TryParseTimestamp(text, out var value);

        Assert.Equal(expected, actual);
        if (actual)
        {
            Assert.Equal(general, value);
        }
    }
}
