using System.Diagnostics;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Cli;

/// <summary>The <c>tollgate feed</c> command as a user runs it: a separate process, exit code and output together.</summary>
public sealed class FeedCommandTests
{
    private sealed record CliResult(int ExitCode, string Stdout, string Stderr);

    private static async Task<CliResult> Tollgate(IDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Tollgate.Cli.dll"));
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["NO_COLOR"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Serve_NoUpstreamAndNoNpmOnPath_Exit2WithClearMessage()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            // An empty PATH: `npm config get registry` cannot run.
            var result = await Tollgate(new Dictionary<string, string> { ["PATH"] = folder, ["TOLLGATE_HOME"] = folder },
                "feed", "serve", "--listen", "http://127.0.0.1:0", "--storage", Path.Combine(folder, "storage"));
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("no upstream registry", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("--upstream", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_BadConfig_Exit2WithEveryProblemLocated()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            var config = Path.Combine(folder, "feed.yaml");
            await File.WriteAllTextAsync(config, "listen: nope\nvulnerabilities: maybe\n");
            var result = await Tollgate(null, "feed", "serve", "--config", config);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("feed.yaml:1:9: error TG0010", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("feed.yaml:2:18: error TG0010", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Log_AfterBlockedDownload_ListsDecisionAsJsonAndTable()
    {
        await using var env = await global::Tollgate.Server.Tests.Feeds.Npm.FeedEnvironment.StartAsync();
        await env.Http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz");
        await env.Http.GetAsync("is-number/-/is-number-7.0.0.tgz");

        var json = await Tollgate(null, "feed", "log", "--storage", env.Storage, "--blocked", "--since", "1h", "--format", "json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var entries = JsonNode.Parse(json.Stdout)!.AsArray();
        var blocked = Assert.Single(entries, e => e!["request"]!.GetValue<string>() == "tarball");
        Assert.Equal("tollgate-fixture-evil", blocked!["package"]!.GetValue<string>());
        Assert.Equal("MAL-2099-0001", blocked["rule"]!.GetValue<string>());
        Assert.DoesNotContain(entries, e => e!["package"]!.GetValue<string>() == "is-number");

        var table = await Tollgate(null, "feed", "log", "--storage", env.Storage, "--package", "is-number");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("allowed", table.Stdout, StringComparison.Ordinal);

        var badSince = await Tollgate(null, "feed", "log", "--storage", env.Storage, "--since", "yesterday");
        Assert.Equal(2, badSince.ExitCode);
    }
}
