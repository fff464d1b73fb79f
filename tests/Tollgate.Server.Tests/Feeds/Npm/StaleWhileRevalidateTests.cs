using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// <c>packumentStaleWhileRevalidate</c>: past <c>packumentTtl</c> and within the window, a stored packument is answered
/// at once, decided as a fresh copy is (current policy, database and clock), while one conditional request per name
/// renews it in the background; past the window, or with a window of 0, the request waits for the upstream as before.
/// </summary>
public sealed class StaleWhileRevalidateTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    /// <summary>How long the upstream takes to answer once the copy is past its TTL: far longer than an answer from the store.</summary>
    private static readonly TimeSpan SlowUpstream = TimeSpan.FromSeconds(5);

    private const string Revalidated = "ms: revalidated in the background";

    /// <summary>Packument requests for ms the upstream received (tarball requests are not counted).</summary>
    private static int PackumentRequests(FeedEnvironment env) => env.Upstream.Requests.Count(r => r == "/ms");

    private static async Task<JsonNode> Json(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task Packument_PastTtlWithinWindow_AnsweredWithoutWaiting_OneConditionalRequest_NextRequestServesTheNewCopy()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = Ttl }, time: clock);
        Assert.Equal(TimeSpan.FromHours(1), env.Feed.Options.PackumentStaleWhileRevalidate);
        using var warm = await env.Http.GetAsync("ms");
        var warmBytes = await warm.Content.ReadAsByteArrayAsync();
        Assert.NotNull(JsonNode.Parse(warmBytes)!["versions"]!["2.1.3"]);
        Assert.Equal(1, PackumentRequests(env));

        // The upstream's document changes (2.1.3 now published an hour ago, younger than the policy's 72h), and the
        // upstream is slow; the copy is past its TTL.
        env.Upstream.Ages["ms@2.1.3"] = TimeSpan.FromHours(1);
        env.Upstream.Delays["ms"] = SlowUpstream;
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));

        var watch = Stopwatch.StartNew();
        using var stale = await env.Http.GetAsync("ms");
        var answeredIn = watch.Elapsed;

        // Answered before the upstream could have answered, exactly as the fresh copy was (same bytes, same ETag, no
        // stale marks).
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.True(answeredIn < SlowUpstream, $"the answer took {answeredIn}: it waited for the upstream");
        Assert.Equal(warmBytes, await stale.Content.ReadAsByteArrayAsync());
        Assert.Equal(warm.Headers.ETag, stale.Headers.ETag);
        Assert.False(stale.Headers.Contains("Warning"));
        Assert.False(stale.Headers.Contains("X-Tollgate-Stale"));

        // One conditional request with the stored validators, in the background; its answer is stored and decided.
        Assert.True(await env.Logs.WaitFor(Revalidated, TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
        Assert.Equal(2, PackumentRequests(env));
        Assert.StartsWith("\"fixture-ms", env.Upstream.IfNoneMatch["ms"], StringComparison.Ordinal);

        // The next request is answered from the new copy, without asking the upstream.
        var after = await Json(await env.Http.GetAsync("ms"));
        Assert.Null(after["versions"]!["2.1.3"]);
        Assert.Equal("2.1.2", after["dist-tags"]!["latest"]!.GetValue<string>());
        Assert.Equal(2, PackumentRequests(env));
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task Packument_PastTtlWithinWindow_ManyConcurrentRequests_OneUpstreamRequest()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = Ttl }, time: clock);
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        env.Upstream.Delays["ms"] = SlowUpstream;
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));

        var watch = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            using var response = await env.Http.GetAsync("ms");
            return (response.StatusCode, Elapsed: watch.Elapsed);
        }));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.All(answers, a => Assert.True(a.Elapsed < SlowUpstream, $"an answer took {a.Elapsed}: it waited for the upstream"));
        Assert.True(await env.Logs.WaitFor(Revalidated, TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
        Assert.Equal(2, PackumentRequests(env));
        Assert.Single(env.Logs.Lines, l => l.Contains(Revalidated, StringComparison.Ordinal));
        Assert.Empty(env.Logs.Errors);
    }

    [Theory]
    [InlineData(60)] // within the window: revalidated in the background
    [InlineData(0)]  // no window: revalidated before the answer
    public async Task Packument_UpstreamWithoutValidatorsSendsTheSameBytes_ConfirmedWithoutDecidingAgain_AChangedOneIsDecided(int windowMinutes)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(
            configure: o => o with { PackumentTtl = Ttl, PackumentStaleWhileRevalidate = TimeSpan.FromMinutes(windowMinutes) }, time: clock);
        // An upstream that sends no ETag or Last-Modified: every revalidation gets the whole document again.
        env.Upstream.NoValidators = true;
        var warm = await (await env.Http.GetAsync("ms")).Content.ReadAsByteArrayAsync();
        Assert.Equal(1, env.Feed.PackumentJudgements);

        clock.Advance(Ttl + TimeSpan.FromMinutes(1));
        Assert.Equal(warm, await (await env.Http.GetAsync("ms")).Content.ReadAsByteArrayAsync());
        if (windowMinutes > 0)
        {
            Assert.True(await env.Logs.WaitFor(Revalidated, TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
        }
        Assert.Equal(2, PackumentRequests(env));
        Assert.Equal("", env.Upstream.IfNoneMatch["ms"]);
        // The same bytes: the copy is as fresh as the upstream's answer, and the decisions made on it still hold.
        Assert.Equal(1, env.Feed.PackumentJudgements);
        Assert.Equal(warm, await (await env.Http.GetAsync("ms")).Content.ReadAsByteArrayAsync());
        Assert.Equal(2, PackumentRequests(env));

        // A changed document (2.1.3 now an hour old, younger than the policy's 72h) is decided and served.
        env.Upstream.Ages["ms@2.1.3"] = TimeSpan.FromHours(1);
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));
        await env.Http.GetAsync("ms");
        if (windowMinutes > 0)
        {
            // The line is logged once the new decisions are in place (the count of judgements rises before that).
            Assert.True(await env.Logs.WaitFor(Revalidated + ": the next request is decided on the new copy", TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
            Assert.Equal(3, PackumentRequests(env));
        }
        Assert.Equal(2, env.Feed.PackumentJudgements);
        Assert.Null((await Json(await env.Http.GetAsync("ms")))["versions"]!["2.1.3"]);
        Assert.Empty(env.Logs.Errors);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Packuments_PastTtlWithinWindow_BackgroundRevalidationsRunAtMostTheBoundAtOnce(int bound)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = Ttl, BackgroundRevalidations = bound }, time: clock);
        string[] names = ["ms", "is-number"];
        foreach (var name in names)
        {
            Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync(name)).StatusCode);
            env.Upstream.Delays[name] = TimeSpan.FromSeconds(1);
        }
        Assert.Equal(1, env.Upstream.MostPackumentRequestsAtOnce);
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));

        // Every name is answered at once from its stored copy; their revalidations take turns at the upstream.
        var watch = Stopwatch.StartNew();
        var answers = await Task.WhenAll(names.Select(async name =>
        {
            using var response = await env.Http.GetAsync(name);
            return (response.StatusCode, Elapsed: watch.Elapsed);
        }));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.All(answers, a => Assert.True(a.Elapsed < TimeSpan.FromSeconds(1), $"an answer took {a.Elapsed}: it waited for the upstream"));
        foreach (var name in names)
        {
            Assert.True(await env.Logs.WaitFor($"{name}: revalidated in the background", TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
        }
        Assert.Equal(bound, env.Upstream.MostPackumentRequestsAtOnce);
        Assert.Empty(env.Logs.Errors);
    }

    [Theory]
    [InlineData(10, 16)] // past packumentTtl + packumentStaleWhileRevalidate
    [InlineData(0, 6)]   // no window: past packumentTtl
    public async Task Packument_PastTheWindowOrWindowZero_WaitsForTheUpstreamAndServesItsAnswer(int windowMinutes, int laterMinutes)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(
            configure: o => o with { PackumentTtl = Ttl, PackumentStaleWhileRevalidate = TimeSpan.FromMinutes(windowMinutes) }, time: clock);
        Assert.NotNull((await Json(await env.Http.GetAsync("ms")))["versions"]!["2.1.3"]);
        var delay = TimeSpan.FromSeconds(2);
        env.Upstream.Ages["ms@2.1.3"] = TimeSpan.FromHours(1);
        env.Upstream.Delays["ms"] = delay;
        clock.Advance(TimeSpan.FromMinutes(laterMinutes));

        var watch = Stopwatch.StartNew();
        var answer = await Json(await env.Http.GetAsync("ms"));

        Assert.True(watch.Elapsed >= delay, $"answered in {watch.Elapsed}, before the upstream could answer");
        Assert.Null(answer["versions"]!["2.1.3"]);
        Assert.Equal(2, PackumentRequests(env));
        Assert.StartsWith("\"fixture-ms", env.Upstream.IfNoneMatch["ms"], StringComparison.Ordinal);
        Assert.DoesNotContain(env.Logs.Lines, l => l.Contains(Revalidated, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Packument_PastTtlWithinWindow_VersionNewlyMaliciousInTheDatabase_RefusedInTheImmediateAnswer()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = Ttl }, time: clock);
        Assert.NotNull((await Json(await env.Http.GetAsync("ms")))["versions"]!["2.1.2"]);
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms/-/ms-2.1.2.tgz")).StatusCode);

        // `tollgate db update` beside the running feed names ms@2.1.2 malicious while the copy is past its TTL.
        var record = Path.Combine(env.Folder, "MAL-2099-0778.json");
        await File.WriteAllTextAsync(record, """
            {
              "schema_version": "1.7.0",
              "id": "MAL-2099-0778",
              "modified": "2026-01-01T00:00:00Z",
              "summary": "Malicious code in ms (npm), crafted test record",
              "affected": [ { "package": { "ecosystem": "npm", "name": "ms" }, "versions": [ "2.1.2" ] } ]
            }
            """);
        var diagnostics = new Tollgate.Inputs.DiagnosticBag();
        var import = Tollgate.Advisories.AdvisoryImporter.Import([record], new Tollgate.Advisories.AdvisoryImportOptions { DatabasePath = Path.Combine(env.Folder, "advisories.db") }, diagnostics);
        Assert.True(import.Succeeded, string.Join("\n", diagnostics.Items));
        env.Upstream.Delays["ms"] = SlowUpstream;
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));

        var watch = Stopwatch.StartNew();
        var answer = await Json(await env.Http.GetAsync("ms"));
        Assert.True(watch.Elapsed < SlowUpstream, $"the answer took {watch.Elapsed}: it waited for the upstream");

        // The stale copy is decided with the database as it is now: the version is gone, its tarball refused.
        Assert.Null(answer["versions"]!["2.1.2"]);
        Assert.NotNull(answer["versions"]!["2.1.3"]);
        using var tarball = await env.Http.GetAsync("ms/-/ms-2.1.2.tgz");
        Assert.Equal(HttpStatusCode.Forbidden, tarball.StatusCode);
        Assert.Contains("MAL-2099-0778", await tarball.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await env.Logs.WaitFor(Revalidated, TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
        Assert.Equal(2, PackumentRequests(env));
    }

    [Fact]
    public async Task Packument_PastTtlWithinWindow_HiddenVersionComesOfAge_ServedInTheImmediateAnswer()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(
            configure: o => o with { PackumentTtl = Ttl },
            prepare: u => u.Ages["ms@2.1.3"] = TimeSpan.FromHours(71),
            time: clock);
        Assert.Null((await Json(await env.Http.GetAsync("ms")))["versions"]!["2.1.3"]);
        env.Upstream.Delays["ms"] = SlowUpstream;

        // 61 minutes on: past packumentTtl, within the window, and 2.1.3 is 72 hours old.
        clock.Advance(TimeSpan.FromMinutes(61));
        var watch = Stopwatch.StartNew();
        var answer = await Json(await env.Http.GetAsync("ms"));
        Assert.True(watch.Elapsed < SlowUpstream, $"the answer took {watch.Elapsed}: it waited for the upstream");

        Assert.NotNull(answer["versions"]!["2.1.3"]);
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms/-/ms-2.1.3.tgz")).StatusCode);
        Assert.True(await env.Logs.WaitFor(Revalidated, TimeSpan.FromSeconds(30)), string.Join("\n", env.Logs.Lines));
        Assert.Equal(2, PackumentRequests(env));
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task Packument_PastTtlWithinWindow_UpstreamDown_CopyKeptAndFailureLogged()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = Ttl }, time: clock);
        var warm = await Json(await env.Http.GetAsync("ms"));
        env.Upstream.Down = true;
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));

        var answer = await Json(await env.Http.GetAsync("ms"));
        Assert.Equal(warm.ToJsonString(), answer.ToJsonString());
        Assert.True(await env.Logs.WaitFor("ms: the background revalidation failed, the stored copy stays in use", TimeSpan.FromSeconds(30)),
            string.Join("\n", env.Logs.Lines));

        // Still answered from the copy (not marked stale: within the window), and a later request has the upstream
        // asked again in the background.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (PackumentRequests(env) < 3 && DateTime.UtcNow < deadline)
        {
            using var again = await env.Http.GetAsync("ms");
            Assert.False(again.Headers.Contains("Warning"));
            Assert.Equal(warm.ToJsonString(), (await Json(again)).ToJsonString());
            await Task.Delay(50);
        }
        Assert.True(PackumentRequests(env) >= 3);
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task Packument_PastTtlWithinWindow_UpstreamSlowerThanTimeout_RevalidationEndsAtUpstreamTimeoutCopyKept()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = Ttl, UpstreamTimeout = TimeSpan.FromSeconds(1) }, time: clock);
        var warm = await Json(await env.WarmAsync("ms"));
        env.Upstream.Ages["ms@2.1.3"] = TimeSpan.FromHours(1);
        env.Upstream.Delays["ms"] = TimeSpan.FromSeconds(20);
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));

        Assert.Equal(warm.ToJsonString(), (await Json(await env.Http.GetAsync("ms"))).ToJsonString());
        var watch = Stopwatch.StartNew();
        Assert.True(await env.Logs.WaitFor("ms: the background revalidation failed, the stored copy stays in use", TimeSpan.FromSeconds(15)),
            string.Join("\n", env.Logs.Lines));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the revalidation ended after {watch.Elapsed}, not at upstreamTimeout (1s)");
        Assert.Contains(env.Logs.Lines, l => l.Contains("background revalidation failed", StringComparison.Ordinal) && l.Contains("(upstreamTimeout)", StringComparison.Ordinal));

        // Nothing of the upstream's late answer was stored: the copy is the one served before.
        Assert.Equal(warm.ToJsonString(), (await Json(await env.Http.GetAsync("ms"))).ToJsonString());
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task Packument_PastTtlWithinWindow_UpstreamNoLongerHasIt_NextRequestAnsweredFromTheUpstream()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = Ttl }, time: clock);
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        env.Upstream.Fault = path => path == "ms" ? UpstreamFault.NotFound : UpstreamFault.None;
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));

        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        Assert.True(await env.Logs.WaitFor("ms: revalidated in the background: the upstream answered 404", TimeSpan.FromSeconds(30)),
            string.Join("\n", env.Logs.Lines));

        // The upstream's answer has no document: the next request asks it before answering, as without the window.
        using var gone = await env.Http.GetAsync("ms");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(3, PackumentRequests(env));
    }

    [Fact]
    public async Task Feed_StoppedWhileABackgroundRevalidationWaitsOnTheUpstream_StopsPromptly()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = Ttl, UpstreamTimeout = TimeSpan.FromMinutes(2) }, time: clock);
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        env.Upstream.Delays["ms"] = TimeSpan.FromMinutes(1);
        clock.Advance(Ttl + TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        await WaitForPackumentRequests(env, 2);

        var watch = Stopwatch.StartNew();
        await env.Feed.StopAsync();

        // Ended by the stop, not by the upstream's answer a minute later nor by upstreamTimeout.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the stop took {watch.Elapsed}");
        Assert.Contains(env.Logs.Lines, l => l.Contains("ms: the background revalidation was ended by the feed's stop", StringComparison.Ordinal));
        Assert.Empty(env.Logs.Errors);
    }

    private static async Task WaitForPackumentRequests(FeedEnvironment env, int count)
    {
        await env.WaitUntil(() => PackumentRequests(env) >= count);
        Assert.Equal(count, PackumentRequests(env));
    }
}
