using System.Diagnostics;
using System.Net;
using Tollgate.Server.Tests.Feeds.Npm;

namespace Tollgate.Server.Tests.Cli;

/// <summary><c>tollgate serve --feed-config</c> as a user runs it: one process serving the inventory, the dashboard and the feed.</summary>
public sealed class ServeCommandTests
{
    private static async Task<bool> Answers(HttpClient http, string path)
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                if ((await http.GetAsync(path)).IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        return false;
    }

    [Fact]
    public async Task Serve_WithFeedConfig_RunsTheFeedInTheSameProcess_AndItsDecisionsShowOnTheFeedPage()
    {
        await using var upstream = await UpstreamFixture.StartAsync();
        var folder = Directory.CreateTempSubdirectory("tollgate-serve-cli-").FullName;
        var db = Path.Combine(folder, "advisories.db");
        var diagnostics = new Tollgate.Inputs.DiagnosticBag();
        Assert.True(Tollgate.Advisories.AdvisoryImporter.Import([Path.Combine(UpstreamFixture.DataFolder, "advisories")],
            new Tollgate.Advisories.AdvisoryImportOptions { DatabasePath = db }, diagnostics).Succeeded);
        // Both on port 0: the addresses are read from what serve prints, so no port is chosen here, released, and
        // perhaps taken by another process before serve binds it.
        await File.WriteAllTextAsync(Path.Combine(folder, "feed.yaml"), $"""
            listen: http://127.0.0.1:0
            upstream: {upstream.BaseUrl}
            storage: storage
            db: advisories.db
            """);

        var (serving, addresses) = await ServingProcess.StartAsync(FeedCommandTests.TollgateProcess(new Dictionary<string, string> { ["TOLLGATE_HOME"] = folder },
            ["serve", "--listen", "http://127.0.0.1:0", "--inventory", Path.Combine(folder, "inventory.db"), "--allow-anonymous-read",
             "--db", db, "--rescan-interval", "0", "--feed-config", Path.Combine(folder, "feed.yaml")]),
            "tollgate feed: serving ", "tollgate serve: dashboard ");
        using var process = serving;
        var (feedPort, servePort) = (addresses[0].Port, addresses[1].Port);
        using var feed = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{feedPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        using var dashboard = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{servePort}/"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            Assert.NotEqual(feedPort, servePort);
            Assert.True(await Answers(feed, "-/ping"), "the feed did not start: " + process.StderrSoFar());
            Assert.True(await Answers(dashboard, "openapi/v1.json"), "the dashboard did not start");

            // Through the feed: an allowed package, and one whose version 1.0.1 is known malicious (left out of the answer).
            Assert.Equal(HttpStatusCode.OK, (await feed.GetAsync("ms")).StatusCode);
            var evil = await feed.GetStringAsync("tollgate-fixture-evil");
            Assert.Contains("\"1.0.0\"", evil, StringComparison.Ordinal);
            Assert.DoesNotContain("\"1.0.1\"", evil, StringComparison.Ordinal);

            // The dashboard's Feed page reads the same audit log (written in the background, so wait for it).
            string page = "";
            for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); !page.Contains("tollgate-fixture-evil", StringComparison.Ordinal) && DateTime.UtcNow < deadline;)
            {
                page = await dashboard.GetStringAsync("feed");
                await Task.Delay(100);
            }
            Assert.Contains("tollgate-fixture-evil", page, StringComparison.Ordinal);
            Assert.Contains("MAL-2099-0001", page, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.Process.HasExited)
            {
                await process.InterruptAsync();
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.Process.WaitForExitAsync(timeout.Token);
        }
        var err = await process.Stderr();
        Assert.True(process.Process.ExitCode == 0, err);
        Assert.Contains($"tollgate feed: serving http://127.0.0.1:{feedPort}/", err, StringComparison.Ordinal);
        Assert.Contains($"npm config set registry http://127.0.0.1:{feedPort}/", err, StringComparison.Ordinal);
        Assert.Contains($"tollgate serve: dashboard http://127.0.0.1:{servePort}/", err, StringComparison.Ordinal);
        _ = await process.Stdout;
    }
}
