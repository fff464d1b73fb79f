using Tollgate.Server.Tests.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.NuGet;

/// <summary>The real <c>dotnet restore</c> and <c>dotnet nuget push</c> through the feed's NuGet routes (loopback only).</summary>
public sealed class DotnetClientTests
{
    [Fact]
    public async Task Restore_AllowedVersion_RestoresThroughFeedAndCachesCheckedPackage()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        var project = env.Project(("Tollgate.Fixture.Ok", "1.0.0"));
        var (code, output) = await env.DotnetAsync(project, "restore");
        Assert.True(code == 0, output);
        Assert.Equal(["1.0.0"], env.Restored("Tollgate.Fixture.Ok"));
        Assert.True(File.Exists(Path.Combine(env.Storage, "nuget", "packages", "tollgate.fixture.ok", "1.0.0", "tollgate.fixture.ok.1.0.0.nupkg")));
        Assert.Single(env.Source.RequestsFor("/tollgate.fixture.ok.1.0.0.nupkg"));
    }

    [Fact]
    public async Task Restore_MaliciousVersion_FailsNamingTheAdvisoryAndNothingIsDownloaded()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        var project = env.Project(("Tollgate.Fixture.Evil", "1.0.1"));
        var (code, output) = await env.DotnetAsync(project, "restore");
        Assert.NotEqual(0, code);
        // dotnet restore prints the 403's reason phrase.
        Assert.Contains("MAL-2099-0201", output, StringComparison.Ordinal);
        Assert.Contains("403", output, StringComparison.Ordinal);
        Assert.Empty(env.Restored("Tollgate.Fixture.Evil"));
        Assert.Empty(env.Source.RequestsFor(".nupkg"));
    }

    [Fact]
    public async Task Restore_TooYoungVersion_FailsSayingMinimumReleaseAge()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync(prepare: s => s.Ages["Tollgate.Fixture.Ok/1.1.0"] = TimeSpan.FromHours(1));
        var project = env.Project(("Tollgate.Fixture.Ok", "1.1.0"));
        var (code, output) = await env.DotnetAsync(project, "restore");
        Assert.NotEqual(0, code);
        Assert.Contains("less than minimumReleaseAge", output, StringComparison.Ordinal);
        Assert.Empty(env.Restored("Tollgate.Fixture.Ok"));
        Assert.Empty(env.Source.RequestsFor(".nupkg"));
    }

    [Fact]
    public async Task Restore_PackageWithBuildTargets_RefusedUnlessOnInstallScriptsAllow()
    {
        await using (var env = await NuGetFeedEnvironment.StartAsync())
        {
            var (code, output) = await env.DotnetAsync(env.Project(("Tollgate.Fixture.Build", "1.0.0")), "restore");
            Assert.NotEqual(0, code);
            Assert.Contains("build/Tollgate.Fixture.Build.targets", output, StringComparison.Ordinal);
            Assert.Contains("installScripts.allow", output, StringComparison.Ordinal);
            Assert.Empty(env.Restored("Tollgate.Fixture.Build"));
        }
        await using (var env = await NuGetFeedEnvironment.StartAsync(NuGetFeedEnvironment.DefaultPolicy + "\ninstallScripts:\n  allow: [ \"pkg:nuget/Tollgate.Fixture.*\" ]\n"))
        {
            var (code, output) = await env.DotnetAsync(env.Project(("Tollgate.Fixture.Build", "1.0.0")), "restore");
            Assert.True(code == 0, output);
            Assert.Equal(["1.0.0"], env.Restored("Tollgate.Fixture.Build"));
        }
    }

    /// <summary>
    /// A C# MCP server (the ModelContextProtocol package, real packages recorded from a NuGet source) restores through
    /// the feed once the Microsoft.Extensions packages' buildTransitive targets are allowed, as docs/feed.md shows; without
    /// the allow entry the restore fails naming the build file and the rule.
    /// </summary>
    [Fact]
    public async Task Restore_CSharpMcpServer_RefusedForBuildFilesThenRestoresWithDocumentedAllowEntry()
    {
        await using (var env = await NuGetFeedEnvironment.StartAsync())
        {
            var (code, output) = await env.DotnetAsync(env.Project(("ModelContextProtocol", "2.4.0")), "restore");
            Assert.NotEqual(0, code);
            Assert.Contains("buildTransitive/", output, StringComparison.Ordinal);
            Assert.Contains("installScripts.allow", output, StringComparison.Ordinal);
        }
        const string allow = "\ninstallScripts:\n  allow: [ \"pkg:nuget/Microsoft.Extensions.*\", \"pkg:nuget/Microsoft.SourceLink.*\" ]\n";
        await using (var env = await NuGetFeedEnvironment.StartAsync(NuGetFeedEnvironment.DefaultPolicy + allow))
        {
            var project = env.Project(("ModelContextProtocol", "2.4.0"));
            var (code, output) = await env.DotnetAsync(project, "restore");
            Assert.True(code == 0, output);
            Assert.Equal(["2.4.0"], env.Restored("ModelContextProtocol"));
            Assert.Equal(["2.4.0"], env.Restored("ModelContextProtocol.Core"));
            Assert.Equal(["10.0.14"], env.Restored("Microsoft.Extensions.Hosting.Abstractions"));
            // Every package came through the feed: the assets file names only the feed as a source.
            var assets = File.ReadAllText(Path.Combine(project, "obj", "project.assets.json"));
            Assert.Contains(env.IndexUrl, assets, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Push_PrivatePackage_SucceedsOnceThen409_RestoresWithoutAskingUpstream()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        var project = env.Project(("Acme.Internal", "1.0.0"));
        var package = Path.Combine(NuGetSourceFixture.Packages, "Acme.Internal.1.0.0.nupkg");
        var (code, output) = await env.DotnetAsync(project, "nuget", "push", package, "--source", "tollgate", "--api-key", FeedEnvironment.Token);
        Assert.True(code == 0, output);
        (code, output) = await env.DotnetAsync(project, "nuget", "push", package, "--source", "tollgate", "--api-key", FeedEnvironment.Token);
        Assert.NotEqual(0, code);
        Assert.Contains("409", output, StringComparison.Ordinal);
        Assert.Contains("never replaced", output, StringComparison.Ordinal);

        (code, output) = await env.DotnetAsync(project, "restore");
        Assert.True(code == 0, output);
        Assert.Equal(["1.0.0"], env.Restored("Acme.Internal"));
        (code, output) = await env.DotnetAsync(project, "package", "search", "acme", "--source", "tollgate");
        Assert.True(code == 0, output);
        Assert.Contains("Acme.Internal", output, StringComparison.Ordinal);
        // The upstream source has an Acme.Internal 9.9.9: a private name is never asked of it.
        Assert.Empty(env.Source.RequestsFor("acme"));
    }

    [Fact]
    public async Task Push_WithoutKeyOrOfPublicName_Refused()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        var project = env.Project();
        var (code, output) = await env.DotnetAsync(project, "nuget", "push", Path.Combine(NuGetSourceFixture.Packages, "Acme.Internal.1.0.0.nupkg"), "--source", "tollgate");
        Assert.NotEqual(0, code);
        Assert.Contains("401", output, StringComparison.Ordinal);
        (code, output) = await env.DotnetAsync(project, "nuget", "push", Path.Combine(NuGetSourceFixture.Packages, "Tollgate.Fixture.Ok.1.0.0.nupkg"),
            "--source", "tollgate", "--api-key", FeedEnvironment.Token);
        Assert.NotEqual(0, code);
        Assert.Contains("not a private name", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "nuget", "private")) && Directory.EnumerateFileSystemEntries(Path.Combine(env.Storage, "nuget", "private")).Any());
    }
}
