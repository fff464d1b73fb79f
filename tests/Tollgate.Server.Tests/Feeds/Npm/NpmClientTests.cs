using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>The real npm client installing and publishing through the feed (loopback only).</summary>
public sealed class NpmClientTests
{
    [Fact]
    public async Task NpmInstall_AllowedPackage_InstallsThroughFeed()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var run = await env.NpmAsync("install", "is-number");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("7.0.0", run.Installed("is-number"));
        // The tarball came through the feed: the upstream fixture served it to the feed, and the feed cached it.
        Assert.True(File.Exists(Path.Combine(env.Storage, "tarballs", "is-number", "is-number-7.0.0.tgz")));
        Assert.Single(env.UpstreamRequestsFor("is-number-7.0.0.tgz"));
    }

    [Fact]
    public async Task NpmInstall_MaliciousLatest_FallsBackToAllowedVersion()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var run = await env.NpmAsync("install", "tollgate-fixture-evil");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("1.0.0", run.Installed("tollgate-fixture-evil"));
        Assert.Empty(env.UpstreamRequestsFor("tollgate-fixture-evil-1.0.1.tgz"));
    }

    [Fact]
    public async Task NpmInstall_MaliciousVersionPinned_FailsAndNothingInstalled()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var run = await env.NpmAsync("install", "tollgate-fixture-evil@1.0.1");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("ETARGET", run.Output, StringComparison.Ordinal);
        Assert.Null(run.Installed("tollgate-fixture-evil"));
        Assert.Empty(env.UpstreamRequestsFor("tollgate-fixture-evil-1.0.1.tgz"));
    }

    [Fact]
    public async Task NpmInstall_TooYoungLatest_ChoosesOlderVersion()
    {
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.Ages["ms@2.1.3"] = TimeSpan.FromHours(1));
        var run = await env.NpmAsync("install", "ms@^2.1.0");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("2.1.2", run.Installed("ms"));
    }

    [Fact]
    public async Task NpmInstall_OldEnoughLatest_ChoosesLatest()
    {
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.Ages["ms@2.1.3"] = TimeSpan.FromDays(4));
        var run = await env.NpmAsync("install", "ms@^2.1.0");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("2.1.3", run.Installed("ms"));
    }

    [Fact]
    public async Task NpmInstall_UnapprovedInstallScript_Refused()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var run = await env.NpmAsync("install", "@scarf/scarf");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("install script", run.Output, StringComparison.Ordinal);
        Assert.Null(run.Installed("@scarf/scarf"));
    }

    [Fact]
    public async Task NpmInstall_ApprovedInstallScript_Installs()
    {
        await using var env = await FeedEnvironment.StartAsync(FeedEnvironment.DefaultPolicy + "\ninstallScripts:\n  allow: [ \"@scarf/scarf\" ]\n");
        var run = await env.NpmAsync("install", "@scarf/scarf@1.4.0");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("1.4.0", run.Installed("@scarf/scarf"));
    }

    [Fact]
    public async Task NpmInstall_PrivateName_NeverRequestedUpstream()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var run = await env.NpmAsync("install", "@acme/secret");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("E404", run.Output, StringComparison.Ordinal);
        Assert.Null(run.Installed("@acme/secret"));
        // The fixture has @acme/secret: only the feed's private-name rule kept the client from getting it.
        Assert.True(File.Exists(Path.Combine(UpstreamFixture.DataFolder, "packuments", "acme__secret.json")));
        Assert.Empty(env.UpstreamRequestsFor("acme"));
    }

    [Fact]
    public async Task NpmPublish_WithToken_PublishesAndInstalls()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var package = Path.Combine(env.Folder, "widget");
        Directory.CreateDirectory(package);
        await File.WriteAllTextAsync(Path.Combine(package, "package.json"), """{ "name": "@acme/widget", "version": "1.2.0", "main": "index.js", "license": "MIT" }""");
        await File.WriteAllTextAsync(Path.Combine(package, "index.js"), "module.exports = 42;\n");
        var host = env.Feed.Address.Authority;
        await File.WriteAllTextAsync(Path.Combine(package, ".npmrc"), $"//{host}/:_authToken={FeedEnvironment.Token}\n");

        var publish = await env.RunNpm(package, "publish");
        Assert.True(publish.ExitCode == 0, publish.Output);
        var install = await env.NpmAsync("install", "@acme/widget");
        Assert.True(install.ExitCode == 0, install.Output);
        Assert.Equal("1.2.0", install.Installed("@acme/widget"));
        Assert.Empty(env.UpstreamRequestsFor("acme"));

        var again = await env.RunNpm(package, "publish");
        Assert.NotEqual(0, again.ExitCode);
    }

    [Fact]
    public async Task NpmPublish_WithoutToken_Fails()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var package = Path.Combine(env.Folder, "widget");
        Directory.CreateDirectory(package);
        await File.WriteAllTextAsync(Path.Combine(package, "package.json"), """{ "name": "@acme/widget", "version": "1.2.0", "license": "MIT" }""");
        await File.WriteAllTextAsync(Path.Combine(package, ".npmrc"), $"//{env.Feed.Address.Authority}/:_authToken=wrong-token\n");
        var publish = await env.RunNpm(package, "publish");
        Assert.NotEqual(0, publish.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "private", "@acme%2fwidget")));
    }
}
