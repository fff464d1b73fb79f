using System.Diagnostics;
using Tollgate.Server.Feeds.Npm;
using Tollgate.Server.Tests.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.PyPI;

/// <summary>The real pip and twine installing, downloading and uploading through the feed's PyPI routes (loopback only).</summary>
public sealed class PipClientTests
{
    private static string[] Install(PyPIFeedEnvironment env, params string[] requirements) =>
        ["install", "--index-url", env.IndexUrl, "--target", "{work}/site", "--no-deps", .. requirements];

    [Fact]
    public async Task PipInstall_AllowedProject_InstallsThroughFeedAndCachesVerifiedFile()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var run = await env.PipAsync(Install(env, "tollgate-fixture-ok==1.0.0"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("1.0.0", run.Installed("tollgate_fixture_ok"));
        Assert.True(File.Exists(Path.Combine(env.Storage, "pypi", "files", "tollgate-fixture-ok", "tollgate_fixture_ok-1.0.0-py3-none-any.whl")));
        Assert.Single(env.Index.Requests, r => r == "/packages/tollgate_fixture_ok-1.0.0-py3-none-any.whl");
    }

    [Fact]
    public async Task PipInstall_OldEnoughLatest_ChoosesLatest()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var run = await env.PipAsync(Install(env, "tollgate-fixture-ok"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("1.1.0", run.Installed("tollgate_fixture_ok"));
    }

    [Fact]
    public async Task PipInstall_TooYoungLatest_ChoosesOlderVersion()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(prepare: i => i.Ages["tollgate-fixture-ok==1.1.0"] = TimeSpan.FromHours(1));
        var run = await env.PipAsync(Install(env, "tollgate-fixture-ok"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("1.0.0", run.Installed("tollgate_fixture_ok"));
        Assert.Empty(env.IndexRequestsFor("tollgate_fixture_ok-1.1.0"));
    }

    [Fact]
    public async Task PipInstall_MaliciousLatest_FallsBackToCleanVersion()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var run = await env.PipAsync(Install(env, "tollgate-fixture-evil"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("1.0.0", run.Installed("tollgate_fixture_evil"));
        Assert.Empty(env.IndexRequestsFor("tollgate_fixture_evil-1.0.1"));
    }

    [Fact]
    public async Task PipInstall_MaliciousVersionPinned_FailsAndNothingLands()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var run = await env.PipAsync(Install(env, "tollgate-fixture-evil==1.0.1"));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("No matching distribution found for tollgate-fixture-evil==1.0.1", run.Output, StringComparison.Ordinal);
        Assert.Null(run.Installed("tollgate_fixture_evil"));
        Assert.Empty(env.IndexRequestsFor("tollgate_fixture_evil-1.0.1"));
    }

    [Fact]
    public async Task PipInstall_MaliciousFileUrlGivenDirectly_RefusedNamingTheAdvisory()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var url = env.Feed.Address.AbsoluteUri + "pypi/files/tollgate-fixture-evil/tollgate_fixture_evil-1.0.1-py3-none-any.whl";
        var run = await env.PipAsync("install", "--target", "{work}/site", "--no-deps", url);
        Assert.NotEqual(0, run.ExitCode);
        // pip prints the status line's reason phrase.
        Assert.Contains("MAL-2099-0101", run.Output, StringComparison.Ordinal);
        Assert.Null(run.Installed("tollgate_fixture_evil"));
        Assert.Empty(env.IndexRequestsFor("tollgate_fixture_evil-1.0.1"));
    }

    [Fact]
    public async Task PipDownload_RequireHashes_DownloadsVerifiedFile()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var hash = PyPIIndexFixture.Sha256(await File.ReadAllBytesAsync(Path.Combine(PyPIIndexFixture.Dists, "tollgate_fixture_ok-1.0.0-py3-none-any.whl")));
        var requirements = Path.Combine(env.Folder, "requirements.txt");
        await File.WriteAllTextAsync(requirements, $"tollgate-fixture-ok==1.0.0 --hash=sha256:{hash}\n");
        var run = await env.PipAsync("download", "--index-url", env.IndexUrl, "--require-hashes", "--no-deps", "-d", "{work}/dl", "-r", requirements);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(["tollgate_fixture_ok-1.0.0-py3-none-any.whl"], run.Downloaded);

        var install = await env.PipAsync("install", "--index-url", env.IndexUrl, "--require-hashes", "--no-deps", "--target", "{work}/site", "-r", requirements);
        Assert.True(install.ExitCode == 0, install.Output);
        Assert.Equal("1.0.0", install.Installed("tollgate_fixture_ok"));
    }

    [Fact]
    public async Task PipDownload_SdistOnlyRelease_RefusedAndSetupNeverRuns()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var marker = Path.Combine(env.Folder, "setup-ran");
        var run = await env.PipAsync(new Dictionary<string, string> { ["TOLLGATE_FIXTURE_MARKER"] = marker },
            "download", "--index-url", env.IndexUrl, "--no-deps", "--no-build-isolation", "-d", "{work}/dl", "tollgate-fixture-sdist");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("No matching distribution found for tollgate-fixture-sdist", run.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
        Assert.Empty(env.IndexRequestsFor("/packages/tollgate_fixture_sdist"));
        var log = env.Logs.Lines.Single(l => l.Contains("tollgate-fixture-sdist 1.0.0: blocked by TG1001", StringComparison.Ordinal));
        Assert.NotNull(log);
    }

    [Fact]
    public async Task PipDownload_SdistOnlyReleaseOnInstallScriptsAllow_Served()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(PyPIFeedEnvironment.DefaultPolicy + "\ninstallScripts:\n  allow: [ \"tollgate-fixture-sdist\" ]\n");
        var marker = Path.Combine(env.Folder, "setup-ran");
        var run = await env.PipAsync(new Dictionary<string, string> { ["TOLLGATE_FIXTURE_MARKER"] = marker },
            "download", "--index-url", env.IndexUrl, "--no-deps", "--no-build-isolation", "-d", "{work}/dl", "tollgate-fixture-sdist");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(["tollgate_fixture_sdist-1.0.0.tar.gz"], run.Downloaded);
        // The allowed sdist's setup.py did run when pip prepared it: that is what the allowlist accepts.
        Assert.True(File.Exists(marker));
    }

    [Fact]
    public async Task TwineUpload_PrivateProject_InstallableAndNeverAskedUpstream()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var wheel = Path.Combine(PyPIIndexFixture.Dists, "acme_secret-1.0.0-py3-none-any.whl");
        var noToken = await Twine(env, "wrong-token", wheel);
        Assert.NotEqual(0, noToken.ExitCode);
        Assert.True(noToken.Output.Contains("401", StringComparison.Ordinal), noToken.Output);

        var upload = await Twine(env, FeedEnvironment.Token, wheel);
        Assert.True(upload.ExitCode == 0, upload.Output);

        var run = await env.PipAsync(Install(env, "acme-secret"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("1.0.0", run.Installed("acme_secret"));
        Assert.Empty(env.IndexRequestsFor("acme"));

        var again = await Twine(env, FeedEnvironment.Token, Path.Combine(PyPIIndexFixture.Dists, "tollgate_fixture_ok-1.0.0-py3-none-any.whl"));
        Assert.NotEqual(0, again.ExitCode);
        Assert.True(again.Output.Contains("not a private name", StringComparison.Ordinal), again.Output);
    }

    /// <summary>Runs Debian's twine (installed by .ci/run); the token goes in the environment, never the command line.</summary>
    private static async Task<PipRun> Twine(PyPIFeedEnvironment env, string token, string file)
    {
        Assert.True(File.Exists("/usr/bin/twine"), "twine is missing: .ci/run installs Debian's twine package");
        var start = new ProcessStartInfo("/usr/bin/twine") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "upload", "--repository-url", env.Feed.Address.AbsoluteUri + "pypi/legacy/", "--non-interactive", "--disable-progress-bar", file })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["TWINE_USERNAME"] = "__token__";
        start.Environment["TWINE_PASSWORD"] = token;
        start.Environment["HOME"] = env.Folder;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new PipRun(process.ExitCode, await output + await error, env.Folder);
    }
}
