using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// The feed under concurrent load while its upstream misbehaves (503s, dropped connections, bodies cut short,
/// tampered tarballs, a byte every 100 ms), and stopped with SIGTERM while downloads are in flight. Bounded in count
/// and time; what is checked is what a client and the cache end up with, not how fast (benchmarks measure that).
/// </summary>
public sealed class FaultLoadTests(ITestOutputHelper output)
{
    private static readonly string[] Tarballs = ["ms/-/ms-2.1.3.tgz", "ms/-/ms-2.1.2.tgz", "is-number/-/is-number-7.0.0.tgz"];

    /// <summary>The SHA-512 of each tarball as the fixture's upstream stores it (what the packuments' integrity declares).</summary>
    private static Dictionary<string, string> KnownGood() => Tarballs.ToDictionary(t => t[(t.LastIndexOf('/') + 1)..],
        t => Convert.ToHexString(SHA512.HashData(File.ReadAllBytes(Path.Combine(UpstreamFixture.DataFolder, "tarballs", t[(t.LastIndexOf('/') + 1)..])))));

    [Fact]
    public async Task UnderLoad_UpstreamFaults_NothingBadServedOrCached_StaleMarked_MissesFailFast_PingAlwaysAnswers()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { UpstreamTimeout = TimeSpan.FromSeconds(1), PackumentTtl = TimeSpan.Zero, PackumentStaleWhileRevalidate = TimeSpan.Zero });
        // Warm: both packuments and one tarball cached; the other two tarballs stay misses until a good download.
        (await env.WarmAsync("ms")).Dispose();
        (await env.WarmAsync("is-number")).Dispose();
        (await env.WarmAsync(Tarballs[0])).Dispose();
        var good = KnownGood();

        // Every upstream request gets the next fault in turn; one in six is answered properly.
        UpstreamFault[] cycle = [UpstreamFault.ServerError, UpstreamFault.Reset, UpstreamFault.Truncate, UpstreamFault.Tamper, UpstreamFault.SlowDrip, UpstreamFault.None];
        var counter = -1;
        env.Upstream.Fault = _ => cycle[(Interlocked.Increment(ref counter) & int.MaxValue) % cycle.Length];

        var problems = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<string, int>();
        var slowest502 = TimeSpan.Zero;
        var stop = DateTime.UtcNow.AddSeconds(8);
        using var pingClient = new HttpClient { BaseAddress = env.Feed.Address, Timeout = TimeSpan.FromSeconds(30) };
        var pings = new ConcurrentBag<TimeSpan>();
        var ping = Task.Run(async () =>
        {
            while (DateTime.UtcNow < stop)
            {
                var watch = Stopwatch.StartNew();
                var answer = await pingClient.GetAsync("-/ping");
                pings.Add(watch.Elapsed);
                if (!answer.IsSuccessStatusCode)
                {
                    problems.Enqueue($"ping answered {(int)answer.StatusCode}");
                }
                await Task.Delay(50);
            }
        });
        var workers = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = env.Feed.Address, Timeout = TimeSpan.FromSeconds(60) };
            for (var i = 0; DateTime.UtcNow < stop; i++)
            {
                var path = ((worker + i) % 5) switch { 0 => "ms", 1 => "is-number", 2 => Tarballs[0], 3 => Tarballs[1], _ => Tarballs[2] };
                var watch = Stopwatch.StartNew();
                using var response = await http.GetAsync(path);
                var body = await response.Content.ReadAsByteArrayAsync();
                statuses.AddOrUpdate($"{path} {(int)response.StatusCode}{(response.Headers.Contains("X-Tollgate-Stale") ? " stale" : "")}", 1, (_, n) => n + 1);
                if (!path.Contains("/-/", StringComparison.Ordinal))
                {
                    // A packument is always answered: fresh, or the cached copy marked stale with the reason.
                    if (response.StatusCode != HttpStatusCode.OK || JsonNode.Parse(body)?["name"]?.GetValue<string>() != path)
                    {
                        problems.Enqueue($"{path}: {(int)response.StatusCode}");
                    }
                    else if (response.Headers.Contains("X-Tollgate-Stale") && !response.Headers.Contains("Warning"))
                    {
                        problems.Enqueue($"{path}: stale without a Warning header");
                    }
                }
                else if (response.StatusCode == HttpStatusCode.OK)
                {
                    if (Convert.ToHexString(SHA512.HashData(body)) != good[path[(path.LastIndexOf('/') + 1)..]])
                    {
                        problems.Enqueue($"{path}: served bytes that are not the published tarball");
                    }
                }
                else if (response.StatusCode == HttpStatusCode.BadGateway)
                {
                    lock (problems)
                    {
                        slowest502 = watch.Elapsed > slowest502 ? watch.Elapsed : slowest502;
                    }
                }
                else
                {
                    problems.Enqueue($"{path}: {(int)response.StatusCode}");
                }
            }
        })).ToList();
        await Task.WhenAll([.. workers, ping]);
        env.Upstream.Fault = null;

        foreach (var (key, count) in statuses.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{key}: {count}");
        }
        output.WriteLine($"slowest 502: {slowest502.TotalMilliseconds:0} ms; ping max {pings.Max().TotalMilliseconds:0} ms, median {pings.Order().ElementAt(pings.Count / 2).TotalMilliseconds:0} ms over {pings.Count}");
        Assert.True(problems.IsEmpty, string.Join("\n", problems.Take(20)));
        // Each kind of answer happened: faults reached the clients as stale packuments and 502s, good downloads as 200s.
        Assert.Contains(statuses.Keys, k => k.EndsWith(" 200 stale", StringComparison.Ordinal));
        Assert.Contains(statuses.Keys, k => k.EndsWith(" 502", StringComparison.Ordinal));
        Assert.Contains(statuses.Keys, k => k.StartsWith(Tarballs[1] + " 200", StringComparison.Ordinal) || k.StartsWith(Tarballs[2] + " 200", StringComparison.Ordinal));
        // A miss fails within the upstream timeout plus the time to queue behind other requests, never hangs.
        Assert.True(slowest502 < TimeSpan.FromSeconds(15), $"a 502 took {slowest502}");
        // The event loop was never starved: the ping answered every time within a bound far below the upstream waits.
        Assert.True(pings.Max() < TimeSpan.FromSeconds(2), $"a ping took {pings.Max()}");

        // Nothing bad cached: every stored tarball is the published one, and no partial file is left.
        var cached = Directory.EnumerateFiles(Path.Combine(env.Storage, "tarballs"), "*.tgz", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(cached);
        Assert.All(cached, f => Assert.Equal(good[Path.GetFileName(f)], Convert.ToHexString(SHA512.HashData(File.ReadAllBytes(f)))));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(env.Storage, "tmp")));
        // With the upstream healthy again, every tarball downloads.
        foreach (var tarball in Tarballs)
        {
            Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync(tarball)).StatusCode);
        }
    }

    [Fact]
    public async Task Sigterm_DrainsDownloadsInFlight_AndTheCacheAndLogAreIntactAfterARestart()
    {
        await using var upstream = await UpstreamFixture.StartAsync();
        upstream.TarballDelay = TimeSpan.FromSeconds(2);
        var (db, storage) = FeedFolder("drain");
        var good = KnownGood();
        string[] inFlight = [Tarballs[1], Tarballs[2]];

        var (first, firstPort) = await StartFeed(upstream, db, storage);
        using var firstProcess = first;
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{firstPort}/"), Timeout = TimeSpan.FromSeconds(60) })
        {
            var requests = inFlight.Select(async path =>
            {
                using var response = await http.GetAsync(path);
                return (path, response.StatusCode, Hash: Convert.ToHexString(SHA512.HashData(await response.Content.ReadAsByteArrayAsync())));
            }).ToList();
            // Both requests reached the feed and their downloads are under way (the upstream holds each tarball for 2 s):
            // stop the feed as a service manager does.
            for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); upstream.Requests.Count(r => r.EndsWith(".tgz", StringComparison.Ordinal)) < inFlight.Length && DateTime.UtcNow < deadline;)
            {
                await Task.Delay(20);
            }
            Assert.Equal(inFlight.Length, upstream.Requests.Count(r => r.EndsWith(".tgz", StringComparison.Ordinal)));
            using (var kill = Process.Start("kill", ["-TERM", first.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }
            var answers = await Task.WhenAll(requests);
            Assert.All(answers, a => Assert.Equal((HttpStatusCode.OK, good[a.path[(a.path.LastIndexOf('/') + 1)..]]), (a.StatusCode, a.Hash)));
        }
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        {
            await first.Process.WaitForExitAsync(timeout.Token);
        }
        var stderr = await first.Stderr();
        Assert.True(first.Process.ExitCode == 0, $"exit code {first.Process.ExitCode}: {stderr}");
        Assert.Contains("stopping; requests in flight finish first", stderr, StringComparison.Ordinal);
        first.Dispose();

        // The log has every tarball request that was answered, none lost in the shutdown.
        using (var log = Tollgate.Server.Feeds.Npm.FeedAuditLog.Open(storage, readOnly: true))
        {
            var tarballRequests = log.Query(new Tollgate.Server.Feeds.Npm.AuditQuery()).Where(e => e.Request == "tarball" && e.Verdict == "allowed").Sum(e => e.Count);
            Assert.Equal(inFlight.Length, tarballRequests);
        }

        // A restart on the same storage with the upstream down: the cached tarballs are intact and served.
        upstream.Down = true;
        var (second, secondPort) = await StartFeed(upstream, db, storage);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{secondPort}/"), Timeout = TimeSpan.FromSeconds(60) };
            foreach (var path in inFlight.Distinct())
            {
                using var response = await http.GetAsync(path);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(good[path[(path.LastIndexOf('/') + 1)..]], Convert.ToHexString(SHA512.HashData(await response.Content.ReadAsByteArrayAsync())));
            }
        }
        finally
        {
            using (var kill = Process.Start("kill", ["-TERM", second.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await second.Process.WaitForExitAsync(timeout.Token);
            second.Dispose();
        }
    }

    [Fact]
    public async Task Sigkill_InTheMiddleOfADownload_LeavesNoPartialArtifactVisible()
    {
        // The instance shares its artifacts with others through a Blob container (Azurite): nothing may appear there either.
        await using var azurite = await AzuriteServer.StartAsync();
        var container = "kill-" + Guid.NewGuid().ToString("N")[..8];
        var blobs = new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, container);
        async Task<List<string>> Shared()
        {
            var names = new List<string>();
            if (await blobs.ExistsAsync())
            {
                await foreach (var blob in blobs.GetBlobsAsync())
                {
                    names.Add(blob.Name);
                }
            }
            return names;
        }
        await using var upstream = await UpstreamFixture.StartAsync();
        var (db, storage) = FeedFolder("kill");
        // The upstream drips the tarball a byte every 100 ms: the feed is mid-download for minutes.
        upstream.Fault = path => path.EndsWith(".tgz", StringComparison.Ordinal) ? UpstreamFault.SlowDrip : UpstreamFault.None;

        var (feed, port) = await StartFeed(upstream, db, storage, azurite, container);
        using var feedProcess = feed;
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) })
        {
            var download = http.GetAsync(Tarballs[1]);
            var part = Path.Combine(storage, "tmp");
            // Other writes (the packument's) pass through the same folder and are renamed away within milliseconds; the
            // dripping tarball's temporary file is the one still there at three polls in a row, 100 ms apart.
            HashSet<string> Present() => Directory.Exists(part)
                ? new HashSet<string>(Directory.EnumerateFiles(part).Select(Path.GetFileName)!, StringComparer.Ordinal)
                : [];
            var lasting = Present();
            var polls = 0;
            var downloading = false;
            for (var i = 0; i < 200 && !downloading; i++)
            {
                await Task.Delay(100);
                var now = Present();
                lasting.IntersectWith(now);
                polls = lasting.Count > 0 ? polls + 1 : 0;
                lasting = lasting.Count > 0 ? lasting : now;
                downloading = polls >= 2;
            }
            Assert.True(downloading, "no temporary file of the tarball download appeared within 20 s");
            feed.Process.Kill();
            await feed.Process.WaitForExitAsync();
            feed.Dispose();
            await Assert.ThrowsAnyAsync<Exception>(() => download);
        }
        // Nothing half-written under the name clients are served from, here or in the shared container.
        Assert.Empty(Directory.Exists(Path.Combine(storage, "tarballs")) ? Directory.EnumerateFiles(Path.Combine(storage, "tarballs"), "*", SearchOption.AllDirectories) : []);
        Assert.Empty(await Shared());

        // Restarted: the leftover temporary file is removed, and the tarball is fetched whole and verified.
        upstream.Fault = null;
        var (again, againPort) = await StartFeed(upstream, db, storage, azurite, container);
        try
        {
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(storage, "tmp")));
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{againPort}/"), Timeout = TimeSpan.FromSeconds(60) };
            using var response = await http.GetAsync(Tarballs[1]);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(KnownGood()["ms-2.1.2.tgz"], Convert.ToHexString(SHA512.HashData(await response.Content.ReadAsByteArrayAsync())));
            // Shared only now, whole and verified.
            Assert.Equal(["tarballs/ms/ms-2.1.2.tgz"], await Shared());
            var stored = await blobs.GetBlobClient("tarballs/ms/ms-2.1.2.tgz").DownloadContentAsync();
            Assert.Equal(KnownGood()["ms-2.1.2.tgz"], Convert.ToHexString(SHA512.HashData(stored.Value.Content.ToArray())));
        }
        finally
        {
            again.Process.Kill();
            await again.Process.WaitForExitAsync();
            again.Dispose();
        }
    }

    [Fact]
    public async Task Sigkill_AfterTheAuditLinger_EveryAnsweredDecisionIsStored()
    {
        // What docs/feed.md says a crash can lose: entries queued within about the writer's linger (50 ms) before it.
        await using var upstream = await UpstreamFixture.StartAsync();
        var (db, storage) = FeedFolder("crashlog");
        var (feed, port) = await StartFeed(upstream, db, storage);
        using (feed)
        {
            const int refused = 25;
            using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) })
            {
                // A refused tarball download is stored as one row per request.
                for (var i = 0; i < refused; i++)
                {
                    using var response = await http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz");
                    Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                }
            }
            // Twenty times the linger, then a crash: no graceful stop stores anything for it.
            await Task.Delay(Tollgate.Server.Storage.AuditQueue.Linger * 20);
            feed.Process.Kill();
            await feed.Process.WaitForExitAsync();
            using var log = Tollgate.Server.Feeds.Npm.FeedAuditLog.Open(storage, readOnly: true);
            var rows = log.Query(new Tollgate.Server.Feeds.Npm.AuditQuery { Package = "tollgate-fixture-evil", BlockedOnly = true });
            Assert.Equal(refused, rows.Count(r => r.Request == "tarball" && r.Version == "1.0.1"));
        }
    }

    /// <summary>A new folder for a feed process: the fixture's advisories imported into <c>advisories.db</c>, and the storage path beside it.</summary>
    private static (string Db, string Storage) FeedFolder(string name)
    {
        var folder = Directory.CreateTempSubdirectory($"tollgate-feed-{name}-").FullName;
        var db = Path.Combine(folder, "advisories.db");
        var diagnostics = new Tollgate.Inputs.DiagnosticBag();
        Assert.True(Tollgate.Advisories.AdvisoryImporter.Import([Path.Combine(UpstreamFixture.DataFolder, "advisories")],
            new Tollgate.Advisories.AdvisoryImportOptions { DatabasePath = db }, diagnostics).Succeeded, string.Join("\n", diagnostics.Items));
        return (db, Path.Combine(folder, "storage"));
    }

    /// <summary>
    /// Starts <c>tollgate feed serve</c> as its own process on a port it chooses, and returns once it has printed that
    /// it serves (after it bound the port).
    /// </summary>
    private static async Task<(Cli.ServingProcess Feed, int Port)> StartFeed(UpstreamFixture upstream, string db, string storage, AzuriteServer? shared = null, string? container = null)
    {
        string[] arguments = ["feed", "serve", "--listen", "http://127.0.0.1:0", "--upstream", upstream.BaseUrl.AbsoluteUri, "--db", db, "--storage", storage];
        var (feed, addresses) = await Cli.ServingProcess.StartAsync(Cli.FeedCommandTests.TollgateProcess(
            shared is null ? null : new Dictionary<string, string> { ["TOLLGATE_BLOB_CONNECTION_STRING"] = shared.ConnectionString },
            shared is null ? arguments : [.. arguments, "--shared-artifacts", container!]), "tollgate feed: serving ");
        return (feed, addresses[0].Port);
    }
}
