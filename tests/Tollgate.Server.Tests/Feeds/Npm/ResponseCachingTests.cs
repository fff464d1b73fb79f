using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;
using Tollgate.Server.Storage;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>Finished answers served as bytes: entity tags, content codings, ranges, and exactly when they change.</summary>
public sealed class ResponseCachingTests
{
    private static async Task<HttpResponseMessage> Get(FeedEnvironment env, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        return await env.Http.SendAsync(request);
    }

    [Fact]
    public async Task Packument_Repeated_SameETagAnd304ForIfNoneMatch()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var first = await Get(env, "ms");
        var second = await Get(env, "ms");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.Equal(etag, second.Headers.ETag);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());

        var revalidated = await Get(env, "ms", r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());
        // The abbreviated form is another answer with its own tag.
        var abbreviated = await Get(env, "ms", r =>
        {
            r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(PackumentView.AbbreviatedMediaType));
            r.Headers.IfNoneMatch.Add(etag);
        });
        Assert.Equal(HttpStatusCode.OK, abbreviated.StatusCode);
        Assert.NotEqual(etag, abbreviated.Headers.ETag);
    }

    [Theory]
    [InlineData("br", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("gzip;q=1.0, br;q=0.5", "gzip")]
    [InlineData("identity", null)]
    public async Task Packument_AcceptEncoding_PrecompressedCodingDecodesToSameDocument(string accept, string? expected)
    {
        await using var env = await FeedEnvironment.StartAsync();
        var plain = await (await Get(env, "ms")).Content.ReadAsByteArrayAsync();
        var response = await Get(env, "ms", r => r.Headers.TryAddWithoutValidation("Accept-Encoding", accept));
        Assert.Equal(expected, response.Content.Headers.ContentEncoding.SingleOrDefault());
        var raw = await response.Content.ReadAsByteArrayAsync();
        using var decoded = new MemoryStream();
        using (var input = expected switch
        {
            "br" => (Stream)new BrotliStream(new MemoryStream(raw), CompressionMode.Decompress),
            "gzip" => new GZipStream(new MemoryStream(raw), CompressionMode.Decompress),
            _ => new MemoryStream(raw),
        })
        {
            await input.CopyToAsync(decoded);
        }
        Assert.Equal(plain, decoded.ToArray());
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
    }

    [Fact]
    public async Task Packument_HiddenVersionComesOfAge_ServedAtTheBoundaryWithoutAskingUpstream()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(
            configure: o => o with { PackumentTtl = TimeSpan.FromDays(1) },
            prepare: u => u.Ages["ms@2.1.3"] = TimeSpan.FromHours(71),
            time: clock);
        var before = JsonNode.Parse(await (await Get(env, "ms")).Content.ReadAsStringAsync())!;
        Assert.Null(before["versions"]!["2.1.3"]);
        var asked = env.UpstreamRequestsFor("ms").Count();

        clock.Advance(TimeSpan.FromMinutes(59));
        var still = JsonNode.Parse(await (await Get(env, "ms")).Content.ReadAsStringAsync())!;
        Assert.Null(still["versions"]!["2.1.3"]);

        clock.Advance(TimeSpan.FromMinutes(2));
        var after = JsonNode.Parse(await (await Get(env, "ms")).Content.ReadAsStringAsync())!;
        Assert.NotNull(after["versions"]!["2.1.3"]);
        Assert.Equal(asked, env.UpstreamRequestsFor("ms").Count());
        Assert.Equal(HttpStatusCode.OK, (await Get(env, "ms/-/ms-2.1.3.tgz")).StatusCode);
    }

    [Fact]
    public async Task Tarball_PastTtlAndAReleaseAgeBoundary_DecidedAgainFromTheStoredCopy_PackumentStillRevalidated()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await FeedEnvironment.StartAsync(
            configure: o => o with { PackumentTtl = TimeSpan.FromMinutes(30) },
            prepare: u => u.Ages["ms@2.1.3"] = TimeSpan.FromHours(71),
            time: clock);
        Assert.Equal(HttpStatusCode.OK, (await Get(env, "ms")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Get(env, "ms/-/ms-2.1.2.tgz")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(env, "ms/-/ms-2.1.3.tgz")).StatusCode);
        int PackumentRequests() => env.Upstream.Requests.Count(r => r == "/ms");
        var asked = PackumentRequests();

        // Two hours on: past packumentTtl, and 2.1.3 came of age. A published version's manifest does not change, so
        // the stored copy decides the tarballs again without asking the upstream.
        clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(HttpStatusCode.OK, (await Get(env, "ms/-/ms-2.1.2.tgz")).StatusCode);
        using var cameOfAge = await Get(env, "ms/-/ms-2.1.3.tgz");
        Assert.Equal(HttpStatusCode.OK, cameOfAge.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(UpstreamFixture.DataFolder, "tarballs", "ms-2.1.3.tgz")), await cameOfAge.Content.ReadAsByteArrayAsync());
        Assert.Equal(asked, PackumentRequests());

        // The copy is as old as before: the next packument request still revalidates it with the upstream.
        Assert.Equal(HttpStatusCode.OK, (await Get(env, "ms")).StatusCode);
        Assert.Equal(asked + 1, PackumentRequests());
    }

    [Fact]
    public async Task AdvisoryDatabaseUpdatedBesideTheRunningFeed_NewlyMaliciousVersionRefused()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await Get(env, "ms/-/ms-2.1.2.tgz")).StatusCode);

        // `tollgate db update` (or `db import`) writes a new database file and renames it over the one the feed opened.
        var record = Path.Combine(env.Folder, "MAL-2099-0777.json");
        await File.WriteAllTextAsync(record, """
            {
              "schema_version": "1.7.0",
              "id": "MAL-2099-0777",
              "modified": "2026-01-01T00:00:00Z",
              "summary": "Malicious code in ms (npm), crafted test record",
              "affected": [ { "package": { "ecosystem": "npm", "name": "ms" }, "versions": [ "2.1.2" ] } ]
            }
            """);
        var diagnostics = new Tollgate.Inputs.DiagnosticBag();
        var import = Tollgate.Advisories.AdvisoryImporter.Import([record], new Tollgate.Advisories.AdvisoryImportOptions { DatabasePath = Path.Combine(env.Folder, "advisories.db") }, diagnostics);
        Assert.True(import.Succeeded, string.Join("\n", diagnostics.Items));

        // The feed reads the database's stamp at most once a second: within a few seconds the version is refused (the
        // deadline is for a loaded machine).
        var refused = false;
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); !refused && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(100);
            using var response = await Get(env, "ms/-/ms-2.1.2.tgz");
            refused = response.StatusCode == HttpStatusCode.Forbidden && (await response.Content.ReadAsStringAsync()).Contains("MAL-2099-0777", StringComparison.Ordinal);
        }
        Assert.True(refused, "ms@2.1.2 was still served after the database named it malicious");
        var packument = JsonNode.Parse(await (await Get(env, "ms")).Content.ReadAsStringAsync())!;
        Assert.Null(packument["versions"]!["2.1.2"]);
    }

    [Fact]
    public async Task AdvisoryDatabaseReplacedByAFileThatCannotBeOpened_PreviousOneStillUsedAndTheProblemLogged()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(env, "tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz")).StatusCode);

        var db = Path.Combine(env.Folder, "advisories.db");
        var replacement = db + ".new";
        await File.WriteAllTextAsync(replacement, "not a database");
        File.Move(replacement, db, overwrite: true);

        var logged = false;
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); !logged && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(100);
            // Still refused: the database opened before answers every lookup.
            Assert.Equal(HttpStatusCode.Forbidden, (await Get(env, "tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz")).StatusCode);
            logged = env.Logs.Lines.Any(l => l.Contains("the advisory database was replaced but the new file cannot be opened", StringComparison.Ordinal));
        }
        Assert.True(logged, string.Join("\n", env.Logs.Lines));
        Assert.Single(env.Logs.Lines, l => l.Contains("the advisory database was replaced", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tarball_RangeAndIfNoneMatch_PartialAnd304()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var full = await Get(env, "ms/-/ms-2.1.2.tgz");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        var bytes = await full.Content.ReadAsByteArrayAsync();
        var recorded = await File.ReadAllBytesAsync(Path.Combine(UpstreamFixture.DataFolder, "tarballs", "ms-2.1.2.tgz"));
        Assert.Equal(recorded, bytes);
        var etag = full.Headers.ETag;
        Assert.NotNull(etag);

        var part = await Get(env, "ms/-/ms-2.1.2.tgz", r => r.Headers.Range = new RangeHeaderValue(10, 19));
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(recorded[10..20], await part.Content.ReadAsByteArrayAsync());

        var again = await Get(env, "ms/-/ms-2.1.2.tgz", r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Equal(1, env.Feed.UpstreamTarballDownloads);
    }

    [Theory]
    [InlineData(128L * 1024 * 1024)]
    [InlineData(0L)]
    public async Task Tarball_FromMemoryOrFromDisk_SameBytesAndHeaders_HeadWithoutBody(long tarballMemoryBytes)
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { TarballMemoryBytes = tarballMemoryBytes });
        var recorded = await File.ReadAllBytesAsync(Path.Combine(UpstreamFixture.DataFolder, "tarballs", "ms-2.1.2.tgz"));
        // The first answer follows the download; the later ones come from the cache (memory when it has a budget).
        for (var i = 0; i < 3; i++)
        {
            using var response = await Get(env, "ms/-/ms-2.1.2.tgz");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(recorded, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(recorded.Length, response.Content.Headers.ContentLength);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.MediaType);
            Assert.True(response.Headers.ETag is { IsWeak: false } tag && tag.Tag.StartsWith("\"sha512-", StringComparison.Ordinal));
            Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
        }
        using var head = await env.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "ms/-/ms-2.1.2.tgz"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(recorded.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, env.Feed.UpstreamTarballDownloads);
    }

    [Fact]
    public async Task AuditLog_GracefulStop_EveryQueuedEntryStored()
    {
        await using var env = await FeedEnvironment.StartAsync();
        const int requests = 40;
        var tasks = Enumerable.Range(0, requests).Select(_ => env.Http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz"));
        Assert.All(await Task.WhenAll(tasks), r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        // No flush first: stopping alone must store what the answered requests queued.
        await env.Feed.StopAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        var rows = log.Query(new AuditQuery { Package = "tollgate-fixture-evil", BlockedOnly = true });
        Assert.Equal(requests, rows.Count(r => r.Request == "tarball" && r.Version == "1.0.1"));
    }

    [Fact]
    public void ResponseCache_OverBudget_LeastRecentlyUsedMovesToDiskAndReadsBack()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-responses-").FullName;
        try
        {
            var entries = Enumerable.Range(0, 4).Select(i => CachedResponse.Create(
                System.Text.Encoding.UTF8.GetBytes(new string((char)('a' + i), 4000) + RandomSuffix()), "application/json", null)).ToList();
            var cache = new ResponseCache(entries[0].Size * 2, folder, TimeProvider.System);
            for (var i = 0; i < entries.Count; i++)
            {
                cache.Add($"k{i}", entries[i]);
            }
            Assert.True(cache.MemoryBytes <= entries[0].Size * 2);
            Assert.NotEmpty(Directory.GetFiles(folder));
            for (var i = 0; i < entries.Count; i++)
            {
                var back = cache.Get($"k{i}");
                Assert.NotNull(back);
                Assert.Equal(entries[i].Identity, back.Identity);
                Assert.Equal(entries[i].Brotli, back.Brotli);
                Assert.Equal(entries[i].Tag, back.Tag);
            }
            Assert.Null(cache.Get("never-added"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void ResponseCache_PastExpiry_NotReturned()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var cache = new ResponseCache(1 << 20, null, clock);
        cache.Add("k", CachedResponse.Create([1, 2, 3], "application/json", clock.GetUtcNow().AddMinutes(1)));
        Assert.NotNull(cache.Get("k"));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(cache.Get("k"));
        Assert.Equal(0, cache.MemoryBytes);
    }

    private static string RandomSuffix() => Guid.NewGuid().ToString("N");
}
