using Tollgate.Graph;
using Tollgate.Policy;
using static Tollgate.Tests.Policy.PolicyTestComponents;

namespace Tollgate.Tests.Policy;

public sealed class PolicyQueriesTests
{
    private static TollgatePolicy Load(string yaml) => PolicyLoader.Parse(yaml, "tollgate.yaml").Policy!;

    [Fact]
    public void FromGraph_DenyAndAllowBothMatch_AllowWins()
    {
        var policy = Load("deny: [ \"acme-*\" ]\nallow: [ acme-good ]");
        var graph = new DependencyGraph([NpmPackage("acme-good", "1.0.0"), NpmPackage("acme-bad", "1.0.0")], [], []);

        var findings = PolicyFindings.FromGraph(graph, policy);

        var finding = Assert.Single(findings);
        Assert.Equal("acme-bad", finding.Component.Name);
        Assert.Equal(FindingKind.Signal, finding.Kind);
        Assert.Equal("denied by policy", finding.Summary);
        Assert.Contains("matches deny pattern 'acme-*' (tollgate.yaml:1:9)", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void FromGraph_UnresolvedComponentAndVersionPattern_NoFinding()
    {
        var policy = Load("deny: [ event-stream@3.3.6 ]");
        var graph = new DependencyGraph([Make(Ecosystem.Npm, "event-stream", "^3.3.0", resolved: false)], [], []);

        Assert.Empty(PolicyFindings.FromGraph(graph, policy));
    }

    [Fact]
    public void FromGraph_NoDenyList_NoFindings()
    {
        var graph = new DependencyGraph([NpmPackage("left-pad", "1.3.0")], [], []);

        Assert.Empty(PolicyFindings.FromGraph(graph, TollgatePolicy.Default));
    }

    [Fact]
    public void IsExemptFromReleaseAge_ExcludedOrZero_True()
    {
        var policy = Load("minimumReleaseAgeExclude: [ \"@acme/*\" ]");

        Assert.True(policy.IsExemptFromReleaseAge(NpmPackage("@acme/tools", "1.0.0")));
        Assert.False(policy.IsExemptFromReleaseAge(NpmPackage("lodash", "4.17.21")));
        Assert.True(Load("minimumReleaseAge: 0").IsExemptFromReleaseAge(NpmPackage("lodash", "4.17.21")));
    }

    [Theory]
    [InlineData("https://artifacts.example.com/npm/lodash/-/lodash-4.17.21.tgz", true)]
    [InlineData("https://ARTIFACTS.example.com/npm/x.tgz", true)]
    [InlineData("https://artifacts.example.com/npm", true)]
    [InlineData("https://artifacts.example.com/npm-evil/x.tgz", false)]
    [InlineData("http://artifacts.example.com/npm/x.tgz", false)]
    [InlineData("https://artifacts.example.com:8443/npm/x.tgz", false)]
    [InlineData("https://other.invalid/npm/x.tgz", false)]
    [InlineData("not a url", false)]
    public void IsApproved_Url_ComparesSchemeHostPortAndPathSegments(string url, bool expected)
    {
        var policy = Load("registries: { approved: [ \"https://artifacts.example.com/npm\" ] }");

        Assert.Equal(expected, policy.Registries.IsApproved(url));
    }

    [Fact]
    public void IsApproved_NoList_EveryRegistry()
    {
        Assert.True(TollgatePolicy.Default.Registries.IsApproved("https://anything.invalid/"));
    }
}
