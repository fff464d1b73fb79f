using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Tollgate.Server.Tests.Feeds.Npm;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Feeds.PyPI;

/// <summary>
/// Two feed instances over one real PostgreSQL state keep one cache of upstream project pages (<c>feed_pypi_pages</c>):
/// what one fetched the other serves without asking the index, a revalidation by one (with the stored validators)
/// renews the page for both, and a state database that cannot be reached is never a source of data.
/// </summary>
public sealed class SharedPageCacheTests
{
    private const string Json = "application/vnd.pypi.simple.v1+json";
    private const string Project = "tollgate-fixture-ok";
    private const string Page = "/pypi/simple/tollgate-fixture-ok/";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private static int PageRequests(PyPIIndexFixture index) => index.Requests.Count(r => r.TrimEnd('/') == "/simple/" + Project);

    private static async Task<HttpResponseMessage> Get(PyPIFeedEnvironment env)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Page);
        request.Headers.Accept.ParseAdd(Json);
        return await env.Http.SendAsync(request);
    }

    private static async Task<string[]> Files(PyPIFeedEnvironment env)
    {
        using var response = await Get(env);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. JsonNode.Parse(await response.Content.ReadAsStringAsync())!["files"]!.AsArray().Select(f => f!["filename"]!.GetValue<string>())];
    }

    /// <summary>The stored row of a page: the index's ETag and when it was fetched or last confirmed.</summary>
    private static async Task<(string? ETag, DateTime FetchedAt)> Row(string state, string name)
    {
        await using var connection = new NpgsqlConnection(state);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT etag, fetched_at FROM feed_pypi_pages WHERE name = $1", connection);
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
        await using var first = await PyPIFeedEnvironment.StartAsync(configure: o => o with { State = state, PackumentTtl = Ttl }, time: clock);
        var index = first.Index;
        await using var second = await PyPIFeedEnvironment.StartAsync(configure: o => o with { PyPIUpstream = index.IndexUrl, State = state, PackumentTtl = Ttl }, time: clock);

        var fromFirst = await Files(first);
        Assert.Equal(1, PageRequests(index));
        var (etag, fetchedAt) = await Row(state, Project);
        Assert.False(string.IsNullOrEmpty(etag));

        // Within packumentTtl the other instance serves the stored page, JSON and HTML, without asking the index.
        var fromSecond = await Files(second);
        using (var html = await second.Http.GetAsync(Page))
        {
            Assert.Equal(HttpStatusCode.OK, html.StatusCode);
            Assert.Contains("tollgate_fixture_ok-1.0.0-py3-none-any.whl", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(1, PageRequests(index));
        Assert.Empty(second.Index.Requests);
        Assert.Equal(fromFirst, fromSecond);
        Assert.Contains("tollgate_fixture_ok-1.1.0-py3-none-any.whl", fromSecond);
        // The page lives in the state only, not in either instance's storage folder; the root lists it on both.
        Assert.False(Directory.Exists(Path.Combine(first.Storage, "pypi", "pages")));
        Assert.False(Directory.Exists(Path.Combine(second.Storage, "pypi", "pages")));
        Assert.Contains(Project, await second.Http.GetStringAsync("/pypi/simple/"), StringComparison.Ordinal);

        // Past packumentTtl the other instance revalidates with the validators the first one stored; the index's 304
        // renews the page for both, so the first instance then asks nothing either.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        Assert.Equal(fromFirst, await Files(second));
        Assert.Equal(2, PageRequests(index));
        Assert.Equal(etag, index.IfNoneMatch[Project]);
        var (etagAfter, confirmedAt) = await Row(state, Project);
        Assert.Equal(etag, etagAfter);
        Assert.True(confirmedAt > fetchedAt, $"fetched_at {fetchedAt:O} was not renewed ({confirmedAt:O})");
        Assert.Equal(fromFirst, await Files(first));
        Assert.Equal(2, PageRequests(index));

        // The index fails past the TTL: each instance serves the stored page, marked stale, as one instance does.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        index.Down = true;
        foreach (var env in new[] { first, second })
        {
            using var stale = await Get(env);
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
            Assert.Empty(env.Logs.Errors);
        }
    }

    [Fact]
    public async Task SharedPageCache_StateDatabaseUnreachable_IndexAskedAfreshNeverAnUnverifiedCopy()
    {
        var state = StoreTargets.NewStore("postgres");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var server = new NpgsqlConnectionStringBuilder(state);
        await using var relay = TcpRelay.Start(server.Host!, server.Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(state) { Host = "127.0.0.1", Port = relay.Port }.ToString();
        await using var first = await PyPIFeedEnvironment.StartAsync(configure: o => o with { State = state, PackumentTtl = Ttl }, time: clock);
        var index = first.Index;
        await using var second = await PyPIFeedEnvironment.StartAsync(configure: o => o with { PyPIUpstream = index.IndexUrl, State = throughRelay, PackumentTtl = Ttl }, time: clock);
        var files = await Files(first);
        Assert.Equal(files, await Files(second));
        Assert.Equal(1, PageRequests(index));

        // The second instance loses its state database: past the TTL it asks the index as if nothing were cached (no
        // validators) and serves the page it received.
        relay.Cut();
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        using (var fresh = await Get(second))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
            Assert.False(fresh.Headers.Contains("Warning"));
        }
        Assert.Equal(2, PageRequests(index));
        Assert.Equal("", index.IfNoneMatch[Project]);
        Assert.Contains(second.Logs.Lines, l => l.Contains($"pypi {Project}: the feed's page cache cannot be used: the feed's state database cannot be reached", StringComparison.Ordinal));

        // The index fails too: no page it can read (the one judged in memory is not a stored copy), so 502 with the
        // reason; the first instance, which still reaches the state, serves the stored page marked stale.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        index.Down = true;
        using (var failed = await Get(second))
        {
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
            Assert.Contains("no cached copy it can read", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Empty(second.Logs.Errors);
        using var stale = await Get(first);
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
    }
}
