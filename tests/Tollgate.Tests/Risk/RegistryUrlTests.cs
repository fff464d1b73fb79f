using Tollgate.Graph;
using Tollgate.Risk;
using static Tollgate.Tests.Risk.GraphBuilder;

namespace Tollgate.Tests.Risk;

public sealed class RegistryUrlTests
{
    [Theory]
    [InlineData("https://artifacts.tollgate.invalid/npm", "https://artifacts.tollgate.invalid/npm/")]
    [InlineData("HTTPS://Artifacts.Tollgate.Invalid/npm/", "https://artifacts.tollgate.invalid/npm/")]
    [InlineData("https://ci:token@artifacts.tollgate.invalid/npm/?x=1#top", "https://artifacts.tollgate.invalid/npm/")]
    [InlineData("https://artifacts.tollgate.invalid:443/npm", "https://artifacts.tollgate.invalid/npm/")]
    [InlineData("https://artifacts.tollgate.invalid:8443/npm", "https://artifacts.tollgate.invalid:8443/npm/")]
    [InlineData("file:///srv/npm", null)]
    [InlineData("not a url", null)]
    public void Normalize_GivesOneFormPerRegistry(string url, string? expected)
    {
        Assert.Equal(expected, RegistryUrl.Normalize(url));
    }

    [Theory]
    [InlineData("https://r.tollgate.invalid/npm/a/-/a-1.0.0.tgz", "https://r.tollgate.invalid/npm", true)]
    [InlineData("https://r.tollgate.invalid/npm", "https://r.tollgate.invalid/npm/", true)]
    [InlineData("https://r.tollgate.invalid/npm-mirror/a/-/a-1.0.0.tgz", "https://r.tollgate.invalid/npm", false)]
    [InlineData("http://r.tollgate.invalid/npm/a/-/a-1.0.0.tgz", "https://r.tollgate.invalid/npm/", false)]
    [InlineData("https://r.tollgate.invalid:8443/npm/a.tgz", "https://r.tollgate.invalid/npm/", false)]
    public void IsUnder_ComparesWholePathSegments(string url, string prefix, bool expected)
    {
        Assert.Equal(expected, RegistryUrl.IsUnder(url, prefix));
    }

    [Fact]
    public void GitSource_UrlWithToken_EvidenceHasNoToken()
    {
        var graph = GraphOf(Package("forked", "1.0.0", integrity: null,
            origin: new Origin(OriginKind.Git, "git+https://ci:ghp_secret123@git.tollgate.invalid/acme/forked.git#0123456789abcdef0123456789abcdef01234567")));

        var finding = Assert.Single(Evaluate(graph));

        Assert.Equal("TG1002", finding.Id);
        Assert.DoesNotContain("ghp_secret123", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("git.tollgate.invalid/acme/forked.git", finding.Evidence, StringComparison.Ordinal);
    }
}
