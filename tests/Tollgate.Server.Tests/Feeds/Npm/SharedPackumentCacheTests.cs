using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Tollgate.Server.Feeds.Npm;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// Two feed instances over one real PostgreSQL state keep one cache of upstream packuments: what one fetched the other
/// serves without asking the upstream, a revalidation by one (with the stored validators) renews the copy for both, a
/// stale copy bridges an upstream outage, and a state database that cannot be reached is never a source of data.
/// </summary>
public sealed class SharedPackumentCacheTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    /// <summary>Packument requests for ms the upstream received (tarball requests are not counted).</summary>
    private static int PackumentRequests(UpstreamFixture upstream) => upstream.Requests.Count(r => r == "/ms");

    /// <summary>The stored row of a packument: the upstream's ETag and when it was fetched or last confirmed.</summary>
    private static async Task<(string? ETag, DateTime FetchedAt)> Row(string state, string name)
    {
        await using var connection = new NpgsqlConnection(state);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT etag, fetched_at FROM feed_npm_packuments WHERE name = $1", connection);
        command.Parameters.AddWithValue(name);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no stored row for {name}");
        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetDateTime(1));
    }

    [Fact]
    public async Task TwoInstances_OnePostgresState_WhatOneFetchedTheOtherServesAndRevalidates()
    {
        var state = StoreTargets.NewStore("postgres");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var upstream = await UpstreamFixture.StartAsync();
        FeedOptions Shared(FeedOptions o) => o with { Upstream = upstream.BaseUrl, State = state, PackumentTtl = Ttl, PackumentStaleWhileRevalidate = TimeSpan.Zero };
        await using var first = await FeedEnvironment.StartAsync(configure: Shared, time: clock);
        await using var second = await FeedEnvironment.StartAsync(configure: Shared, time: clock);

        var fromFirst = JsonNode.Parse(await first.Http.GetStringAsync("ms"))!;
        Assert.Equal(1, PackumentRequests(upstream));
        var (etag, fetchedAt) = await Row(state, "ms");
        Assert.False(string.IsNullOrEmpty(etag));

        // Within packumentTtl the other instance serves the stored copy, full and abbreviated, without asking upstream.
        var fromSecond = JsonNode.Parse(await second.Http.GetStringAsync("ms"))!;
        using (var request = new HttpRequestMessage(HttpMethod.Get, "ms"))
        {
            request.Headers.Accept.ParseAdd(PackumentView.AbbreviatedMediaType);
            using var abbreviated = await second.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, abbreviated.StatusCode);
        }
        Assert.Equal(1, PackumentRequests(upstream));
        Assert.Equal(fromFirst["versions"]!.AsObject().Select(v => v.Key), fromSecond["versions"]!.AsObject().Select(v => v.Key));
        Assert.Equal(fromFirst["dist-tags"]!.ToJsonString(), fromSecond["dist-tags"]!.ToJsonString());
        // The copy lives in the state only, not in either instance's storage folder.
        Assert.False(Directory.Exists(Path.Combine(first.Storage, "packuments")));
        Assert.False(Directory.Exists(Path.Combine(second.Storage, "packuments")));

        // Past packumentTtl the other instance revalidates with the validators the first one stored; the upstream's 304
        // renews the copy for both, so the first instance then asks nothing either.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await second.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(2, PackumentRequests(upstream));
        var sent = upstream.IfNoneMatch["ms"];
        Assert.Equal(etag, sent);
        var (_, confirmedAt) = await Row(state, "ms");
        Assert.True(confirmedAt > fetchedAt, $"fetched_at {fetchedAt:O} was not renewed ({confirmedAt:O})");
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(2, PackumentRequests(upstream));

        // The upstream fails past the TTL: each instance serves the stored copy, marked stale, as one instance does.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        upstream.Down = true;
        foreach (var env in new[] { first, second })
        {
            using var stale = await env.Http.GetAsync("ms");
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
            Assert.Contains("503", stale.Headers.GetValues("X-Tollgate-Stale").Single(), StringComparison.Ordinal);
            Assert.Equal("2.1.3", JsonNode.Parse(await stale.Content.ReadAsStringAsync())!["dist-tags"]!["latest"]!.GetValue<string>());
            Assert.Empty(env.Logs.Errors);
        }

        // What the feed sent was the upstream's own entity tag, so the upstream answered 304 (it answers 304 only then).
        upstream.Down = false;
        using var direct = new HttpClient();
        using var answer = await direct.GetAsync(new Uri(upstream.BaseUrl, "ms"));
        Assert.Equal(answer.Headers.ETag!.ToString(), sent);
    }

    [Fact]
    public async Task TwoInstances_PastTtlWithinStaleWindow_BackgroundRevalidationConfirmsAndStoresInTheSharedState()
    {
        const string revalidated = "ms: revalidated in the background";
        var state = StoreTargets.NewStore("postgres");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var upstream = await UpstreamFixture.StartAsync();
        // packumentStaleWhileRevalidate is left at its default (1 hour).
        FeedOptions Shared(FeedOptions o) => o with { Upstream = upstream.BaseUrl, State = state, PackumentTtl = Ttl };
        await using var first = await FeedEnvironment.StartAsync(configure: Shared, time: clock);
        await using var second = await FeedEnvironment.StartAsync(configure: Shared, time: clock);
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(1, PackumentRequests(upstream));
        var (etag, fetchedAt) = await Row(state, "ms");

        // Past packumentTtl, within the window, the upstream slow: the second instance answers at once, and its
        // background revalidation sends the stored validators; the upstream's 304 renews the shared row.
        var slow = TimeSpan.FromSeconds(5);
        upstream.Delays["ms"] = slow;
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await second.Http.GetAsync("ms")).StatusCode);
        Assert.True(watch.Elapsed < slow, $"the answer took {watch.Elapsed}: it waited for the upstream");
        Assert.True(await second.Logs.WaitFor(revalidated, TimeSpan.FromSeconds(30)), string.Join("\n", second.Logs.Lines));
        Assert.Equal(2, PackumentRequests(upstream));
        Assert.Equal(etag, upstream.IfNoneMatch["ms"]);
        var (_, confirmedAt) = await Row(state, "ms");
        Assert.True(confirmedAt > fetchedAt, $"fetched_at {fetchedAt:O} was not renewed ({confirmedAt:O})");

        // The first instance's decisions are as old: it answers at once too, and its revalidation finds the copy the
        // second one confirmed, without asking the upstream.
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("ms")).StatusCode);
        Assert.True(await first.Logs.WaitFor(revalidated, TimeSpan.FromSeconds(30)), string.Join("\n", first.Logs.Lines));
        Assert.Equal(2, PackumentRequests(upstream));

        // The upstream's document changes (2.1.3 published an hour ago, younger than the policy's 72h): the second
        // instance's next background revalidation stores the new copy in the shared state, and the first instance
        // serves it after its own revalidation, still without asking the upstream.
        upstream.Ages["ms@2.1.3"] = TimeSpan.FromHours(1);
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));
        var old = JsonNode.Parse(await second.Http.GetStringAsync("ms"))!;
        Assert.NotNull(old["versions"]!["2.1.3"]);
        await second.WaitUntil(() => second.Logs.Lines.Count(l => l.Contains(revalidated, StringComparison.Ordinal)) == 2);
        Assert.Equal(3, PackumentRequests(upstream));
        var (newETag, _) = await Row(state, "ms");
        Assert.NotEqual(etag, newETag);
        Assert.Null(JsonNode.Parse(await second.Http.GetStringAsync("ms"))!["versions"]!["2.1.3"]);

        Assert.NotNull(JsonNode.Parse(await first.Http.GetStringAsync("ms"))!["versions"]!["2.1.3"]);
        await first.WaitUntil(() => first.Logs.Lines.Count(l => l.Contains(revalidated, StringComparison.Ordinal)) == 2);
        Assert.Null(JsonNode.Parse(await first.Http.GetStringAsync("ms"))!["versions"]!["2.1.3"]);
        Assert.Equal(3, PackumentRequests(upstream));
        Assert.Empty(first.Logs.Errors);
        Assert.Empty(second.Logs.Errors);
    }

    [Fact]
    public async Task TwoInstances_CopyTheOtherFetched_IsAsOldAsTheUpstreamsAnswerNotAsTheReading()
    {
        var state = StoreTargets.NewStore("postgres");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var upstream = await UpstreamFixture.StartAsync();
        FeedOptions Shared(FeedOptions o) => o with { Upstream = upstream.BaseUrl, State = state, PackumentTtl = Ttl, PackumentStaleWhileRevalidate = TimeSpan.Zero };
        await using var first = await FeedEnvironment.StartAsync(configure: Shared, time: clock);
        await using var second = await FeedEnvironment.StartAsync(configure: Shared, time: clock);
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("ms")).StatusCode);

        // The second instance first reads the shared copy shortly before it is packumentTtl old...
        clock.Advance(Ttl - TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await second.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(1, PackumentRequests(upstream));

        // ...and once the copy is older than packumentTtl, it asks the upstream: the copy's age counts from the upstream's
        // answer, not from when this instance first read it (which would keep it for almost twice the TTL).
        clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(HttpStatusCode.OK, (await second.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(2, PackumentRequests(upstream));
    }

    [Fact]
    public async Task TwoInstances_CopyReplacedByTheOtherAfterADecision_DecidedAgainOnTheStoredCopy()
    {
        var state = StoreTargets.NewStore("postgres");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var upstream = await UpstreamFixture.StartAsync();
        FeedOptions Shared(FeedOptions o) => o with { Upstream = upstream.BaseUrl, State = state, PackumentTtl = Ttl, PackumentStaleWhileRevalidate = TimeSpan.Zero };
        await using var first = await FeedEnvironment.StartAsync(configure: Shared, time: clock);
        await using var second = await FeedEnvironment.StartAsync(configure: Shared, time: clock);
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("ms")).StatusCode);
        clock.Advance(Ttl / 2 + TimeSpan.FromSeconds(1));
        var before = JsonNode.Parse(await second.Http.GetStringAsync("ms"))!;
        Assert.True(before["versions"]!.AsObject().ContainsKey("2.1.3"));

        // The upstream's document changes (2.1.3 now published an hour ago, younger than the policy's 72h), and the first
        // instance, past its TTL, stores the new copy while the second still holds decisions made on the old one.
        upstream.Ages["ms@2.1.3"] = TimeSpan.FromHours(1);
        clock.Advance(Ttl / 2 + TimeSpan.FromSeconds(1));
        var after = JsonNode.Parse(await first.Http.GetStringAsync("ms"))!;
        Assert.False(after["versions"]!.AsObject().ContainsKey("2.1.3"));
        Assert.Equal(2, PackumentRequests(upstream));

        // An answer the second instance has not built yet is decided again on the copy stored now: served, not refused,
        // and without asking the upstream.
        using var request = new HttpRequestMessage(HttpMethod.Get, "ms");
        request.Headers.Accept.ParseAdd(PackumentView.AbbreviatedMediaType);
        using var abbreviated = await second.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, abbreviated.StatusCode);
        Assert.False(JsonNode.Parse(await abbreviated.Content.ReadAsStringAsync())!["versions"]!.AsObject().ContainsKey("2.1.3"));
        Assert.Equal(2, PackumentRequests(upstream));
        Assert.Empty(second.Logs.Errors);
    }

    [Fact]
    public async Task SharedPackumentCache_StateDatabaseUnreachable_UpstreamAskedAfreshNeverAnUnverifiedCopy()
    {
        var state = StoreTargets.NewStore("postgres");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var server = new NpgsqlConnectionStringBuilder(state);
        await using var relay = TcpRelay.Start(server.Host!, server.Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(state) { Host = "127.0.0.1", Port = relay.Port }.ToString();
        await using var upstream = await UpstreamFixture.StartAsync();
        await using var first = await FeedEnvironment.StartAsync(configure: o => o with { Upstream = upstream.BaseUrl, State = state, PackumentTtl = Ttl, PackumentStaleWhileRevalidate = TimeSpan.Zero }, time: clock);
        await using var second = await FeedEnvironment.StartAsync(configure: o => o with { Upstream = upstream.BaseUrl, State = throughRelay, PackumentTtl = Ttl, PackumentStaleWhileRevalidate = TimeSpan.Zero }, time: clock);
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(1, PackumentRequests(upstream));

        // The second instance loses its state database: past the TTL it asks the upstream as if nothing were cached
        // (no validators) and serves the answer it received and checked.
        relay.Cut();
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        using (var fresh = await second.Http.GetAsync("ms"))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
            Assert.False(fresh.Headers.Contains("Warning"));
        }
        Assert.Equal(2, PackumentRequests(upstream));
        Assert.Equal("", upstream.IfNoneMatch["ms"]);
        Assert.Contains(second.Logs.Lines, l => l.Contains("ms: the feed's packument cache cannot be used: the feed's state database cannot be reached", StringComparison.Ordinal));

        // The upstream fails too: no copy it can read, so 502 with the reason (no stack trace); the first instance,
        // which still reaches the state, serves the stored copy marked stale.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        upstream.Down = true;
        using (var failed = await second.Http.GetAsync("ms"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
            var error = JsonNode.Parse(await failed.Content.ReadAsStringAsync())!["error"]!.GetValue<string>();
            Assert.Contains("no cached copy it can read", error, StringComparison.Ordinal);
        }
        Assert.Empty(second.Logs.Errors);
        using var stale = await first.Http.GetAsync("ms");
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
    }
}
