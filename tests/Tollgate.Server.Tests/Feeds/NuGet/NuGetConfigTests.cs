using Tollgate.Server.Feeds.Npm;
using Tollgate.Server.Feeds.NuGet;

namespace Tollgate.Server.Tests.Feeds.NuGet;

/// <summary>Where the NuGet routes take their upstream from, and what the feed reads from a package.</summary>
public sealed class NuGetConfigTests
{
    [Fact]
    public void FeedConfig_NuGetSection_SetsUpstreamAndLeavesOthersUnset()
    {
        var result = FeedConfigLoader.Parse("nuget:\n  upstream: http://127.0.0.1:5999/v3/index.json\n", "feed.yaml", "/tmp");
        Assert.NotNull(result.Options);
        Assert.Equal("http://127.0.0.1:5999/v3/index.json", result.Options.NuGetUpstream!.AbsoluteUri);
        Assert.Null(result.Options.Upstream);
        Assert.Null(result.Options.PyPIUpstream);
    }

    [Fact]
    public void FeedConfig_NuGetSectionUnknownKey_ErrorWithLine()
    {
        var result = FeedConfigLoader.Parse("listen: http://127.0.0.1:4873\nnuget:\n  source: http://127.0.0.1/v3/index.json\n", "feed.yaml", "/tmp");
        Assert.Null(result.Options);
        var error = Assert.Single(result.Diagnostics);
        Assert.Contains("nuget.source", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, error.Location!.Line);
    }

    [Theory]
    [InlineData("Tollgate.Fixture.Ok.1.0.0.nupkg", "Tollgate.Fixture.Ok", "1.0.0", false)]
    [InlineData("Tollgate.Fixture.Build.1.0.0.nupkg", "Tollgate.Fixture.Build", "1.0.0", true)]
    public void PackageFile_FixturePackage_IdVersionAndBuildCode(string file, string id, string version, bool installCode)
    {
        var (package, problem) = NuGetPackageFile.Read(Path.Combine(NuGetSourceFixture.Packages, file));
        Assert.True(package is not null, problem);
        Assert.Equal(id, package.Id);
        Assert.Equal(global::NuGet.Versioning.NuGetVersion.Parse(version), package.Version);
        Assert.Equal(installCode, package.InstallCode is not null);
    }

    [Theory]
    [InlineData("tools/init.ps1", true)]
    [InlineData("tools/net45/install.ps1", true)]
    [InlineData("tools/uninstall.ps1", false)]
    [InlineData("build/Foo.targets", true)]
    [InlineData("build/net8.0/Foo.props", true)]
    [InlineData("buildTransitive/Foo.targets", true)]
    [InlineData("buildMultiTargeting/Foo.props", true)]
    [InlineData("build/readme.txt", false)]
    [InlineData("lib/net8.0/Foo.dll", false)]
    [InlineData("content/build/Foo.targets", false)]
    public void InstallCode_Entries_FoundWhereNuGetOrMSBuildRunsThem(string entry, bool found)
    {
        Assert.Equal(found, NuGetPackageFile.InstallCodeOf([entry]) is not null);
    }
}
