namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>pnpm, yarn classic and yarn berry (pinned in tests/tools/feed-clients) installing through the feed.</summary>
public sealed class OtherClientTests
{
    private static Dictionary<string, string> CleanEnvironment(FeedEnvironment env) => new()
    {
        // Keep the user's and the machine's npm settings out: the test names the registry itself.
        ["npm_config_userconfig"] = Path.Combine(env.Folder, "npmrc-empty"),
        ["npm_config_update_notifier"] = "false",
        ["COREPACK_ENABLE_STRICT"] = "0",
        ["YARN_ENABLE_TELEMETRY"] = "0",
        ["YARN_ENABLE_IMMUTABLE_INSTALLS"] = "false",
        ["YARN_IGNORE_PATH"] = "1",
    };

    [Fact]
    public async Task Pnpm_Add_GetsAllowedVersionsOnly()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var pnpm = FeedEnvironment.ClientTool("pnpm/bin/pnpm.cjs");
        var project = env.NewProject();
        var run = await FeedEnvironment.RunNode(project, CleanEnvironment(env), pnpm, "add", "is-number", "tollgate-fixture-evil",
            "--registry", env.Registry, "--store-dir", Path.Combine(env.Folder, "pnpm-store"), "--ignore-scripts", "--reporter", "append-only");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("7.0.0", run.Installed("is-number"));
        Assert.Equal("1.0.0", run.Installed("tollgate-fixture-evil"));

        var refused = await FeedEnvironment.RunNode(env.NewProject(), CleanEnvironment(env), pnpm, "add", "@acme/secret",
            "--registry", env.Registry, "--store-dir", Path.Combine(env.Folder, "pnpm-store"), "--ignore-scripts", "--reporter", "append-only");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Empty(env.UpstreamRequestsFor("acme"));
    }

    [Fact]
    public async Task YarnClassic_Add_GetsAllowedVersionsOnly()
    {
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.Ages["ms@2.1.3"] = TimeSpan.FromHours(2));
        var yarn = FeedEnvironment.ClientTool("yarn/bin/yarn.js");
        var project = env.NewProject();
        var run = await FeedEnvironment.RunNode(project, CleanEnvironment(env), yarn, "add", "ms@^2.1.0", "tollgate-fixture-evil",
            "--registry", env.Registry, "--cache-folder", Path.Combine(env.Folder, "yarn-cache"), "--ignore-scripts", "--non-interactive", "--no-default-rc");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("2.1.2", run.Installed("ms"));
        Assert.Equal("1.0.0", run.Installed("tollgate-fixture-evil"));
        // yarn classic writes the tarball URLs it used into yarn.lock: they are the feed's.
        Assert.Contains(env.Registry + "ms/-/ms-2.1.2.tgz", await File.ReadAllTextAsync(Path.Combine(project, "yarn.lock")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task YarnBerry_Add_ThroughNpmRegistryServer()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var yarn = FeedEnvironment.ClientTool("@yarnpkg/cli-dist/bin/yarn.js");
        var project = env.NewProject();
        await File.WriteAllTextAsync(Path.Combine(project, ".yarnrc.yml"), $"""
            npmRegistryServer: "{env.Registry.TrimEnd('/')}"
            unsafeHttpWhitelist: [ "127.0.0.1" ]
            nodeLinker: node-modules
            enableGlobalCache: false
            cacheFolder: "{Path.Combine(env.Folder, "berry-cache")}"
            enableScripts: false
            """);
        await File.WriteAllTextAsync(Path.Combine(project, "yarn.lock"), "");
        var environment = CleanEnvironment(env);
        environment["YARN_GLOBAL_FOLDER"] = Path.Combine(env.Folder, "berry-global");
        var run = await FeedEnvironment.RunNode(project, environment, yarn, "add", "is-number", "tollgate-fixture-evil");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("7.0.0", run.Installed("is-number"));
        Assert.Equal("1.0.0", run.Installed("tollgate-fixture-evil"));
    }
}
