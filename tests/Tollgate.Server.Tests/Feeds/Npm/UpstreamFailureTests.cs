using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>An upstream that is slow, too big or points elsewhere: every case an answer with a reason, nothing cached.</summary>
public sealed class UpstreamFailureTests
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(500);

    private static async Task<string> Error(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>();

    [Fact]
    public async Task Packument_UpstreamSlowerThanTimeoutNothingCached_502WithReason()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { UpstreamTimeout = ShortTimeout },
            prepare: u => u.Delays["ms"] = TimeSpan.FromSeconds(20));

        var response = await env.Http.GetAsync("ms");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await Error(response);
        Assert.Contains("did not answer within", error, StringComparison.Ordinal);
        Assert.Contains("no cached copy", error, StringComparison.Ordinal);
        Assert.Contains(env.Logs.Lines, l => l.Contains("ms: upstream failed and nothing is cached", StringComparison.Ordinal));
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task Packument_UpstreamSlowerThanTimeoutWithCachedCopy_StaleServedWithWarning()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { UpstreamTimeout = ShortTimeout, PackumentTtl = TimeSpan.Zero, PackumentStaleWhileRevalidate = TimeSpan.Zero });
        (await env.WarmAsync("ms")).Dispose();
        env.Upstream.Delays["ms"] = TimeSpan.FromSeconds(20);

        var stale = await env.Http.GetAsync("ms");

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
        Assert.Contains("did not answer within", stale.Headers.GetValues("X-Tollgate-Stale").Single(), StringComparison.Ordinal);
        Assert.Equal("ms", JsonNode.Parse(await stale.Content.ReadAsStringAsync())!["name"]!.GetValue<string>());
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task CachedTarball_PackumentPastItsTtl_ServedFromTheDecisionsMade_PackumentCheckedWhenNextAskedFor()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = TimeSpan.Zero, PackumentStaleWhileRevalidate = TimeSpan.Zero });
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms/-/ms-2.1.2.tgz")).StatusCode);
        var packumentRequests = env.Upstream.Requests.Count(r => r == "/ms");

        // The version's decision stands (same policy, database and release-age boundaries; a published manifest does
        // not change): the cached file is sent without asking the upstream for the packument again.
        using var response = await env.Http.GetAsync("ms/-/ms-2.1.2.tgz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(UpstreamFixture.DataFolder, "tarballs", "ms-2.1.2.tgz")), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(packumentRequests, env.Upstream.Requests.Count(r => r == "/ms"));

        // A packument request past the TTL asks the upstream again.
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(packumentRequests + 1, env.Upstream.Requests.Count(r => r == "/ms"));
    }

    [Fact]
    public async Task Tarball_UpstreamSlowerThanTimeout_502WithReasonAndNothingCached()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { UpstreamTimeout = ShortTimeout });
        (await env.WarmAsync("ms")).Dispose();
        env.Upstream.Delays["ms/-/ms-2.1.2.tgz"] = TimeSpan.FromSeconds(20);

        var response = await env.Http.GetAsync("ms/-/ms-2.1.2.tgz");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("did not answer within", await Error(response), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(env.Storage, "tarballs", "ms", "ms-2.1.2.tgz")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(env.Storage, "tmp")));
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task Packument_ClientGivesUpWhileUpstreamIsSlow_NotReportedAsUpstreamFailure()
    {
        // The upstream would answer after a minute: the client surely leaves first, however long this loaded machine
        // takes to see the request arrive (the feed's request is cut short when the client leaves, so no one waits that long).
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.Delays["ms"] = TimeSpan.FromMinutes(1));
        using var impatient = new HttpClient { BaseAddress = env.Feed.Address };
        using var leave = new CancellationTokenSource();

        // The client leaves once the feed is waiting on the upstream (a fixed client timeout could fire before the
        // request reached the feed on a loaded machine, and then there is nothing to go away from).
        var request = impatient.GetAsync("ms", leave.Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!env.Upstream.Requests.Contains("/ms") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Contains("/ms", env.Upstream.Requests);
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => request);

        // The feed stops asking upstream for a client that is gone, and says so only at debug level.
        Assert.True(await env.Logs.WaitFor("the client went away", TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
        Assert.DoesNotContain(env.Logs.Lines, l => l.Contains("upstream failed", StringComparison.Ordinal) || l.Contains("stale", StringComparison.Ordinal));
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task Packument_LargerThanLimit_502WithReasonAndNothingCached()
    {
        // The recorded ms packument is about 39 KB.
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { MaxPackumentBytes = 4096 });

        var response = await env.Http.GetAsync("ms");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("maxPackumentBytes", await Error(response), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(env.Storage, "packuments", "ms.json")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(env.Storage, "tmp")));
    }

    [Fact]
    public async Task Tarball_LargerThanLimit_502WithReasonAndNothingCached()
    {
        // The recorded ms-2.1.2 tarball is about 3 KB.
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { MaxTarballBytes = 1024 });
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);

        var response = await env.Http.GetAsync("ms/-/ms-2.1.2.tgz");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("maxTarballBytes", await Error(response), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "tarballs", "ms")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(env.Storage, "tmp")));
    }

    [Fact]
    public async Task Tarball_UrlOnAnotherOrigin_502AndNeverFetched()
    {
        // Another loopback port serving the same files: only the port tells it from the upstream.
        await using var elsewhere = await UpstreamFixture.StartAsync();
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.TarballOrigin = elsewhere.BaseUrl);
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);

        var response = await env.Http.GetAsync("ms/-/ms-2.1.2.tgz");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await Error(response);
        Assert.Contains(elsewhere.BaseUrl.Authority, error, StringComparison.Ordinal);
        Assert.Contains("origin", error, StringComparison.Ordinal);
        Assert.Empty(elsewhere.Requests);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "tarballs", "ms")));
    }
}
