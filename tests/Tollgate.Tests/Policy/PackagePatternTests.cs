using System.Text.Json;
using NuGet.Versioning;
using Tollgate.Graph;
using Tollgate.Policy;
using static Tollgate.Tests.Policy.PolicyTestComponents;

namespace Tollgate.Tests.Policy;

public sealed class PackagePatternTests
{
    public static TheoryData<string, string, string?> NpmSplits()
    {
        // npm's own spec parser (npm-package-arg) decided name and range; see testdata/policy/README.md.
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("policy", "npa-splits.json")));
        var data = new TheoryData<string, string, string?>();
        foreach (var row in doc.RootElement.GetProperty("rows").EnumerateArray())
        {
            data.Add(row.GetProperty("spec").GetString()!, row.GetProperty("name").GetString()!, row.GetProperty("range").GetString());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NpmSplits))]
    public void Parse_NpmSpec_SplitsLikeNpm(string spec, string name, string? range)
    {
        var pattern = PackagePattern.Parse(spec);

        Assert.Equal(name, pattern.Name);
        Assert.Equal(range, pattern.Version);
        Assert.Null(pattern.Ecosystem);
    }

    public static TheoryData<string, string, bool> NpmExactChecks()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("policy", "npa-splits.json")));
        var data = new TheoryData<string, string, bool>();
        foreach (var row in doc.RootElement.GetProperty("exact").EnumerateArray())
        {
            data.Add(row.GetProperty("version").GetString()!, row.GetProperty("range").GetString()!, row.GetProperty("satisfies").GetBoolean());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NpmExactChecks))]
    public void SchemeMatcher_NpmExactVersion_AgreesWithNpmSemver(string version, string range, bool satisfies)
    {
        Assert.Equal(satisfies, SchemeVersionMatcher.Instance.Satisfies(Ecosystem.Npm, version, range));
    }

    [Theory]
    [InlineData("13.0.1", "[13.0.1]")]
    [InlineData("13.0.1.0", "[13.0.1]")]
    [InlineData("13.0", "[13.0.0]")]
    [InlineData("13.0.2", "[13.0.1]")]
    [InlineData("1.0.0-beta", "[1.0.0-BETA]")]
    [InlineData("1.0.0+meta", "[1.0.0]")]
    public void SchemeMatcher_NuGetExactRange_AgreesWithNuGetVersioning(string version, string range)
    {
        var reference = VersionRange.Parse(range).Satisfies(NuGetVersion.Parse(version));

        Assert.Equal(reference, SchemeVersionMatcher.Instance.Satisfies(Ecosystem.NuGet, version, range));
    }

    [Theory]
    [InlineData("2.0", "==2.0.0", true)]
    [InlineData("2.31.0", "==2.31", true)]
    [InlineData("2.31.1", "==2.31", false)]
    [InlineData("1.0RC1", "==1.0rc1", true)]
    [InlineData("v1.0", "==1.0", true)]
    [InlineData("1.0-foo", "===1.0-foo", true)]
    [InlineData("1.0", "===1.0.0", false)]
    public void SchemeMatcher_PyPIEquality_FollowsPep440(string version, string range, bool expected)
    {
        Assert.Equal(expected, SchemeVersionMatcher.Instance.Satisfies(Ecosystem.PyPI, version, range));
    }

    [Theory]
    [InlineData(Ecosystem.Npm, "1.2.3", "^1.2.0")]
    [InlineData(Ecosystem.Npm, "4.17.21", "4")]
    [InlineData(Ecosystem.Npm, "4.17.21", "4.x")]
    [InlineData(Ecosystem.PyPI, "2.0", ">=2,<3")]
    [InlineData(Ecosystem.PyPI, "2.0", "==2.*")]
    [InlineData(Ecosystem.NuGet, "13.0.1", "[13.0.1,)")]
    [InlineData(Ecosystem.NuGet, "13.0.1", "13.0.1")]
    public void SchemeMatcher_RealRange_IsDecided(Ecosystem ecosystem, string version, string range)
    {
        // Each of these ranges contains the version in its ecosystem (node-semver, PEP 440, NuGet's bare "x" meaning >= x).
        Assert.True(SchemeVersionMatcher.Instance.Satisfies(ecosystem, version, range));
    }

    [Theory]
    [InlineData(Ecosystem.Npm, "not-a-version", "^1.0.0")]
    [InlineData(Ecosystem.Npm, "1.0.0", "^^1")]
    [InlineData(Ecosystem.PyPI, "1.0", ">=>2")]
    [InlineData(Ecosystem.NuGet, "1.0.0", "[2.0,1.0")]
    public void SchemeMatcher_Unreadable_CannotTell(Ecosystem ecosystem, string version, string range)
    {
        Assert.Null(SchemeVersionMatcher.Instance.Satisfies(ecosystem, version, range));
    }

    [Theory]
    [InlineData("requests>=2,<3", "requests", ">=2,<3")]
    [InlineData("requests==2.31.0", "requests", "==2.31.0")]
    [InlineData("Django ~= 4.2", "Django", "~= 4.2")]
    [InlineData("urllib3!=2.0.0", "urllib3", "!=2.0.0")]
    [InlineData("zope.interface<6", "zope.interface", "<6")]
    public void Parse_Pep440Specifier_AppliesToPyPIOnly(string text, string name, string version)
    {
        var pattern = PackagePattern.Parse(text);

        Assert.Equal(name, pattern.Name);
        Assert.Equal(version, pattern.Version);
        Assert.Equal(Ecosystem.PyPI, pattern.Ecosystem);
    }

    [Theory]
    [InlineData("pkg:npm/left-pad", Ecosystem.Npm, "left-pad", null)]
    [InlineData("pkg:npm/lodash@4.17.20", Ecosystem.Npm, "lodash", "4.17.20")]
    [InlineData("pkg:npm/%40acme/cli@1.0.0", Ecosystem.Npm, "@acme/cli", "1.0.0")]
    [InlineData("pkg:pypi/Django@4.2.1", Ecosystem.PyPI, "Django", "4.2.1")]
    [InlineData("pkg:nuget/Newtonsoft.Json@13.0.1", Ecosystem.NuGet, "Newtonsoft.Json", "13.0.1")]
    public void Parse_Purl_RestrictsToItsEcosystem(string text, Ecosystem ecosystem, string name, string? version)
    {
        var pattern = PackagePattern.Parse(text);

        Assert.Equal(ecosystem, pattern.Ecosystem);
        Assert.Equal(name, pattern.Name);
        Assert.Equal(version, pattern.Version);
    }

    [Theory]
    [InlineData("", "cannot be empty")]
    [InlineData("bad name", "contains a space")]
    [InlineData("left-pad@", "has nothing after '@'")]
    [InlineData("@acme", "is not a scoped npm name")]
    [InlineData("@acme/", "is not a scoped npm name")]
    [InlineData(">=1.0", "starts with a version operator")]
    [InlineData("a/b", "contains '/'")]
    [InlineData("pkg:maven/org.example/lib", "type 'maven' is not supported")]
    [InlineData("pkg:npm", "is not a valid package URL")]
    [InlineData("pkg:npm/lodash@^4.0.0", "names one exact version")]
    [InlineData("pkg:npm/lodash?repository_url=x", "qualifiers or a subpath")]
    public void TryParse_Invalid_SaysWhy(string text, string reason)
    {
        Assert.False(PackagePattern.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("@acme/*", "@acme/tools", true)]
    [InlineData("@acme/*", "@acmecorp/tools", false)]
    [InlineData("acme-*", "acme-utils", true)]
    [InlineData("acme-*", "acme", false)]
    [InlineData("ACME-*", "acme-utils", true)]
    [InlineData("*-loader", "css-loader", true)]
    [InlineData("esbuild", "esbuild", true)]
    [InlineData("esbuild", "esbuild-wasm", false)]
    public void Matches_NpmGlob_MatchesNames(string pattern, string name, bool expected)
    {
        Assert.Equal(expected, PackagePattern.Parse(pattern).Matches(NpmPackage(name, "1.0.0")));
    }

    [Theory]
    [InlineData("acme_*", "acme.internal-tools", true)]
    [InlineData("Zope.Interface", "zope-interface", true)]
    [InlineData("requests", "Requests", true)]
    [InlineData("pkg:pypi/acme_internal", "acme-internal", true)]
    public void Matches_PyPIName_UsesPep503Normalisation(string pattern, string name, bool expected)
    {
        Assert.Equal(expected, PackagePattern.Parse(pattern).Matches(PyPIPackage(name, "1.0")));
    }

    [Fact]
    public void Matches_PlainName_MatchesEveryEcosystem()
    {
        var pattern = PackagePattern.Parse("colors");

        Assert.True(pattern.Matches(NpmPackage("colors", "1.4.1")));
        Assert.True(pattern.Matches(PyPIPackage("colors", "1.0")));
        Assert.True(pattern.Matches(NuGetPackage("Colors", "1.0.0")));
    }

    [Fact]
    public void Matches_Purl_OnlyItsEcosystem()
    {
        var pattern = PackagePattern.Parse("pkg:npm/left-pad");

        Assert.True(pattern.Matches(NpmPackage("left-pad", "1.3.0")));
        Assert.False(pattern.Matches(PyPIPackage("left-pad", "1.3.0")));
    }

    [Fact]
    public void Matches_Pep440Form_NeverMatchesNpm()
    {
        var pattern = PackagePattern.Parse("requests==2.0.0");

        Assert.False(pattern.Matches(NpmPackage("requests", "2.0.0")));
        Assert.True(pattern.Matches(PyPIPackage("requests", "2.0")));
    }

    [Theory]
    [InlineData("event-stream@3.3.6", "3.3.6", true)]
    [InlineData("event-stream@3.3.6", "3.3.5", false)]
    [InlineData("pkg:npm/event-stream@3.3.6", "3.3.6", true)]
    public void Matches_ExactVersion_ComparesVersions(string pattern, string version, bool expected)
    {
        Assert.Equal(expected, PackagePattern.Parse(pattern).Matches(NpmPackage("event-stream", version)));
    }

    [Fact]
    public void Matches_BareNuGetVersion_MeansExactlyThatVersion()
    {
        // In NuGet's own range syntax "13.0.1" means "13.0.1 or higher"; in a pattern it is one version.
        var pattern = PackagePattern.Parse("Newtonsoft.Json@13.0.1");

        Assert.Equal("[13.0.1]", pattern.RangeFor(Ecosystem.NuGet));
        Assert.True(pattern.Matches(NuGetPackage("Newtonsoft.Json", "13.0.1")));
        Assert.False(pattern.Matches(NuGetPackage("Newtonsoft.Json", "13.0.3")));
    }

    [Fact]
    public void Matches_RangeWithDefaultMatcher_UsesTheEcosystemsRanges()
    {
        Assert.True(PackagePattern.Parse("sharp@^0.33.0").Matches(NpmPackage("sharp", "0.33.2")));
        Assert.False(PackagePattern.Parse("sharp@^0.33.0").Matches(NpmPackage("sharp", "0.34.0")));
    }

    [Fact]
    public void Matches_RangeWithPluggedMatcher_AsksItInTheComponentsEcosystem()
    {
        var matcher = new RecordingMatcher(true);

        Assert.True(PackagePattern.Parse("sharp@^0.33.0").Matches(NpmPackage("sharp", "0.33.2"), matcher));
        Assert.Equal((Ecosystem.Npm, "0.33.2", "^0.33.0"), Assert.Single(matcher.Calls));
    }

    [Fact]
    public void Matches_UnresolvedComponentWithVersionPattern_CannotTell()
    {
        var unresolved = Make(Ecosystem.Npm, "event-stream", "^3.3.0", resolved: false);

        Assert.Null(PackagePattern.Parse("event-stream@3.3.6").Matches(unresolved));
        Assert.True(PackagePattern.Parse("event-stream").Matches(unresolved));
    }

    internal sealed class RecordingMatcher(bool? answer) : IVersionRangeMatcher
    {
        public List<(Ecosystem, string, string)> Calls { get; } = [];

        public bool? Satisfies(Ecosystem ecosystem, string version, string range)
        {
            Calls.Add((ecosystem, version, range));
            return answer;
        }
    }
}
