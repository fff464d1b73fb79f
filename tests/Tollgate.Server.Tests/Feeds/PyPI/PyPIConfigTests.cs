using Tollgate.Ecosystems.PyPI;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.PyPI;

/// <summary>Where the PyPI routes take their upstream from: the feed config's section, or pip's own configuration.</summary>
public sealed class PyPIConfigTests
{
    [Fact]
    public void FeedConfig_PyPISection_SetsUpstreamAndLeavesNpmDefaults()
    {
        var result = FeedConfigLoader.Parse("pypi:\n  upstream: http://127.0.0.1:3141/root/pypi/+simple/\n", "feed.yaml", "/tmp");
        Assert.NotNull(result.Options);
        Assert.Equal("http://127.0.0.1:3141/root/pypi/+simple/", result.Options.PyPIUpstream!.AbsoluteUri);
        Assert.Null(result.Options.Upstream);
        Assert.Equal(new FeedOptions().PackumentTtl, result.Options.PackumentTtl);
    }

    [Fact]
    public void FeedConfig_PyPISectionUnknownKey_ErrorWithLine()
    {
        var result = FeedConfigLoader.Parse("listen: http://127.0.0.1:4873\npypi:\n  index: http://127.0.0.1/simple/\n", "feed.yaml", "/tmp");
        Assert.Null(result.Options);
        var error = Assert.Single(result.Diagnostics);
        Assert.Contains("pypi.index", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, error.Location!.Line);
    }

    [Theory]
    [InlineData("tollgate_fixture_ok-1.0.0-py3-none-any.whl", "tollgate_fixture_ok", "1.0.0", true)]
    [InlineData("pkg-2.0-1-cp311-cp311-manylinux_2_17_x86_64.whl", "pkg", "2.0", true)]
    [InlineData("Foo.Bar-1.0rc1.tar.gz", "Foo.Bar", "1.0rc1", false)]
    [InlineData("zope-interface-5.0.zip", "zope-interface", "5.0", false)]
    public void Distribution_FileName_Split(string file, string project, string version, bool wheel)
    {
        Assert.Equal(new PyPIDistribution(project, version, wheel), PyPIDistribution.Parse(file));
    }
}
