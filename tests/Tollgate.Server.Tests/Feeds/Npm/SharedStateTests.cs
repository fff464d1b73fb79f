using System.Net;
using Npgsql;
using Tollgate.Server.Feeds.Npm;
using Tollgate.Server.Inventory;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// Two feed instances keeping one audit log in a real PostgreSQL database (the feed's <c>state</c>): a decision both
/// made is one counted row, each refused download its own row, and the dashboard's Feed page reads the shared log.
/// </summary>
public sealed class SharedStateTests
{
    [Fact]
    public async Task TwoInstances_OnePostgresAuditLog_OneRowPerDecisionWhicheverInstanceMadeIt()
    {
        var state = StoreTargets.NewStore("postgres");
        await using var upstream = await UpstreamFixture.StartAsync();
        FeedOptions Shared(FeedOptions o) => o with { Upstream = upstream.BaseUrl, State = state };
        await using var first = await FeedEnvironment.StartAsync(configure: Shared);
        await using var second = await FeedEnvironment.StartAsync(configure: Shared);

        foreach (var env in new[] { first, second })
        {
            // Version 1.0.1 is known malicious: left out of the packument, its tarball refused.
            Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("tollgate-fixture-evil")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await env.Http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz")).StatusCode);
            await env.Feed.FlushAuditAsync();
        }

        using (var log = FeedAuditLog.Open(Path.GetTempPath(), readOnly: true, state: state))
        {
            var rows = log.Query(new AuditQuery { Package = "tollgate-fixture-evil", BlockedOnly = true });
            var packument = Assert.Single(rows, r => r.Request == "packument" && r.Version == "1.0.1");
            Assert.Equal(2, packument.Count);
            Assert.Equal("MAL-2099-0001", packument.Rule);
            Assert.Equal(2, rows.Count(r => r.Request == "tarball" && r.Version == "1.0.1"));
            var top = Assert.Single(log.TopRefused(5), t => t.Package == "tollgate-fixture-evil");
            Assert.Equal(4, top.Requests);
            Assert.Contains(log.DailyCounts(DateTimeOffset.UtcNow.AddDays(-1)), d => d.Verdict == "blocked" && d.Ecosystem == "npm");
        }
        // Neither instance wrote a log of its own.
        Assert.False(File.Exists(Path.Combine(first.Storage, FeedAuditLog.FileName)));

        // The dashboard of `tollgate serve --feed-config` reads the same shared log.
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(new Uri("http://127.0.0.1:0"), StoreTargets.NewStore("sqlite"), ApiTokens.None, true)
        {
            FeedStorage = first.Storage,
            FeedState = state,
            RescanInterval = TimeSpan.Zero,
        });
        Assert.Empty(problems);
        await using (host!)
        {
            await host!.StartAsync();
            using var http = new HttpClient { BaseAddress = host.Address };
            var page = await http.GetStringAsync("/feed");
            Assert.Contains("tollgate-fixture-evil", page, StringComparison.Ordinal);
            Assert.Contains("MAL-2099-0001", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AuditLog_StateDatabaseGoneForAMoment_EntriesKeptAndStoredWhenItIsBack()
    {
        var state = StoreTargets.NewStore("postgres");
        var server = new NpgsqlConnectionStringBuilder(state);
        await using var relay = TcpRelay.Start(server.Host!, server.Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(state) { Host = "127.0.0.1", Port = relay.Port }.ToString();
        await using var upstream = await UpstreamFixture.StartAsync();
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { Upstream = upstream.BaseUrl, State = throughRelay });
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("tollgate-fixture-evil")).StatusCode);
        await env.Feed.FlushAuditAsync();

        // The database goes away while a refusal is logged: the entry waits in the queue instead of being dropped.
        relay.Cut();
        Assert.Equal(HttpStatusCode.Forbidden, (await env.Http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz")).StatusCode);
        // The database comes back once the writer has failed to store the entry (not after a fixed wait, which a
        // loaded machine could spend before the writer even tried).
        Assert.True(await env.Logs.WaitFor("audit entries could not be stored yet, retrying", TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
        await relay.ResumeAsync();
        using var flushed = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await env.Feed.FlushAuditAsync(flushed.Token);

        using var log = FeedAuditLog.Open(Path.GetTempPath(), readOnly: true, state: state);
        Assert.Single(log.Query(new AuditQuery { Package = "tollgate-fixture-evil", BlockedOnly = true }), r => r.Request == "tarball" && r.Version == "1.0.1");
    }
}
