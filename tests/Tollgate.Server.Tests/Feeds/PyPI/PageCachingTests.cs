using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Tollgate.Advisories;
using Tollgate.Server.Tests.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.PyPI;

/// <summary>
/// The PyPI routes' finished answers: project pages built once per change of their inputs and served as bytes (entity
/// tags, content codings), exactly when they change, and stored files checked once rather than per request.
/// </summary>
public sealed class PageCachingTests
{
    private const string Json = "application/vnd.pypi.simple.v1+json";
    private const string OkPage = "/pypi/simple/tollgate-fixture-ok/";
    private const string OkWheel = "tollgate_fixture_ok-1.0.0-py3-none-any.whl";

    private static async Task<HttpResponseMessage> Get(PyPIFeedEnvironment env, string path, string accept = Json, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);
        configure?.Invoke(request);
        return await env.Http.SendAsync(request);
    }

    private static async Task<string[]> Versions(PyPIFeedEnvironment env, string path)
    {
        using var response = await Get(env, path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return [.. doc["versions"]!.AsArray().Select(v => v!.GetValue<string>())];
    }

    private static int PageRequests(PyPIFeedEnvironment env, string project) => env.Index.Requests.Count(r => r.TrimEnd('/') == "/simple/" + project);

    [Fact]
    public async Task ProjectPage_Repeated_SameBytesStrongETag304AndPrecompressedGzip()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        using var first = await Get(env, OkPage);
        using var second = await Get(env, OkPage);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.Equal(etag, second.Headers.ETag);
        var body = await first.Content.ReadAsByteArrayAsync();
        Assert.Equal(body, await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(Json, first.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Accept", first.Headers.Vary);

        using var revalidated = await Get(env, OkPage, configure: r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());

        using var gzip = await Get(env, OkPage, configure: r => r.Headers.AcceptEncoding.ParseAdd("gzip"));
        Assert.Equal("gzip", gzip.Content.Headers.ContentEncoding.Single());
        using var decoded = new MemoryStream();
        using (var input = new GZipStream(new MemoryStream(await gzip.Content.ReadAsByteArrayAsync()), CompressionMode.Decompress))
        {
            await input.CopyToAsync(decoded);
        }
        Assert.Equal(body, decoded.ToArray());

        // The HTML form is another answer with its own tag: the JSON tag does not make it a 304.
        using var html = await Get(env, OkPage, "text/html", r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Equal("application/vnd.pypi.simple.v1+html", html.Content.Headers.ContentType!.MediaType);
        Assert.NotEqual(etag, html.Headers.ETag);
        Assert.Equal(1, PageRequests(env, "tollgate-fixture-ok"));
    }

    [Fact]
    public async Task ProjectPage_PastTtl_RevalidatedWithTheIndexETagAndThe304RenewsTheStoredPage()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await PyPIFeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = TimeSpan.FromMinutes(5) }, time: clock);
        var before = await Versions(env, OkPage);
        Assert.Equal("", env.Index.IfNoneMatch["tollgate-fixture-ok"]);
        var meta = Path.Combine(env.Storage, "pypi", "pages", "tollgate-fixture-ok.meta.json");
        var etag = JsonNode.Parse(await File.ReadAllTextAsync(meta))!["etag"]!.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(etag));

        // Past packumentTtl the stored page's validators go with the request; the index's 304 keeps the page and renews
        // its age, so the next TTL passes without a request.
        clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(before, await Versions(env, OkPage));
        Assert.Equal(2, PageRequests(env, "tollgate-fixture-ok"));
        Assert.Equal(etag, env.Index.IfNoneMatch["tollgate-fixture-ok"]);
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(before, await Versions(env, OkPage));
        Assert.Equal(2, PageRequests(env, "tollgate-fixture-ok"));
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task ProjectPage_PastTtl_IndexWithoutValidatorsSendsTheSamePage_RenewedWithoutStoringItAgain()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await PyPIFeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = TimeSpan.FromMinutes(5) }, time: clock);
        env.Index.NoValidators = true;
        var before = await Versions(env, OkPage);
        var page = Path.Combine(env.Storage, "pypi", "pages", "tollgate-fixture-ok.json");
        Assert.True(File.Exists(page), string.Join(", ", Directory.GetFiles(Path.GetDirectoryName(page)!)));
        var marked = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(page, marked);

        // Past the TTL the index answers 200 with the same bytes: the stored page is kept as it is and its age renewed.
        clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(before, await Versions(env, OkPage));
        Assert.Equal(2, PageRequests(env, "tollgate-fixture-ok"));
        Assert.Equal(marked, File.GetLastWriteTimeUtc(page));
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(before, await Versions(env, OkPage));
        Assert.Equal(2, PageRequests(env, "tollgate-fixture-ok"));
        Assert.Empty(env.Logs.Errors);
    }

    [Fact]
    public async Task ProjectPage_HiddenVersionComesOfAge_ListedAndServedAtTheBoundaryWithoutAskingUpstream()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await PyPIFeedEnvironment.StartAsync(
            configure: o => o with { PackumentTtl = TimeSpan.FromDays(1) },
            prepare: i => i.Ages["tollgate-fixture-ok==1.1.0"] = TimeSpan.FromHours(71),
            time: clock);
        const string wheel = "/pypi/files/tollgate-fixture-ok/tollgate_fixture_ok-1.1.0-py3-none-any.whl";
        Assert.Equal(["1.0.0"], await Versions(env, OkPage));
        Assert.Equal(HttpStatusCode.Forbidden, (await env.Http.GetAsync(wheel)).StatusCode);
        var asked = PageRequests(env, "tollgate-fixture-ok");

        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(["1.0.0"], await Versions(env, OkPage));
        Assert.Equal(HttpStatusCode.Forbidden, (await env.Http.GetAsync(wheel)).StatusCode);

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(["1.0.0", "1.1.0"], await Versions(env, OkPage));
        using var cameOfAge = await env.Http.GetAsync(wheel);
        Assert.Equal(HttpStatusCode.OK, cameOfAge.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(PyPIIndexFixture.Dists, "tollgate_fixture_ok-1.1.0-py3-none-any.whl")),
            await cameOfAge.Content.ReadAsByteArrayAsync());
        Assert.Equal(asked, PageRequests(env, "tollgate-fixture-ok"));
    }

    [Fact]
    public async Task ProjectPage_AdvisoryDatabaseOrPolicyChanged_NotAnsweredFromTheStoredAnswer()
    {
        // A memory budget of one byte sends every answer to the disk tier at once, where a feed started later on the
        // same storage finds it: only the key (page, policy, database, ...) keeps an answer from outliving its inputs.
        await using var first = await PyPIFeedEnvironment.StartAsync(configure: o => o with { ResponseCacheBytes = 1 });
        using var before = await Get(first, OkPage);
        var etag = before.Headers.ETag!;
        Assert.Equal(["1.0.0", "1.1.0"], await Versions(first, OkPage));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(first.Storage, "responses")));

        // Asked by the first feed's host name, so the base URL of the answer (part of its key) is the same.
        void AsFirst(HttpRequestMessage r)
        {
            r.Headers.Host = first.Feed.Address.Authority;
            r.Headers.IfNoneMatch.Add(etag);
        }
        Task<PyPIFeedEnvironment> Restart(string database, string policy = PyPIFeedEnvironment.DefaultPolicy) =>
            PyPIFeedEnvironment.StartAsync(policy, o => o with { Storage = first.Storage, Database = database, ResponseCacheBytes = 1 });

        await using (var same = await Restart(first.Database))
        {
            using var again = await Get(same, OkPage, configure: AsFirst);
            Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
            Assert.Equal(0, PageRequests(same, "tollgate-fixture-ok"));
        }

        // A new record (written here, in the OSV format the importer reads) makes 1.1.0 malicious.
        var records = Directory.CreateDirectory(Path.Combine(first.Folder, "new-advisories")).FullName;
        await File.WriteAllTextAsync(Path.Combine(records, "MAL-2099-0199.json"), """
            {
              "schema_version": "1.7.0",
              "id": "MAL-2099-0199",
              "modified": "2025-02-01T00:00:00Z",
              "published": "2025-02-01T00:00:00Z",
              "summary": "Malicious code in tollgate-fixture-ok (PyPI)",
              "details": "Test record: version 1.1.0 of the fixture project is treated as malicious.",
              "affected": [ { "package": { "ecosystem": "PyPI", "name": "tollgate-fixture-ok" }, "versions": [ "1.1.0" ] } ]
            }
            """);
        var updated = Path.Combine(first.Folder, "updated.db");
        File.Copy(first.Database, updated);
        var diagnostics = new Tollgate.Inputs.DiagnosticBag();
        Assert.True(AdvisoryImporter.Import([records], new AdvisoryImportOptions { DatabasePath = updated }, diagnostics).Succeeded, string.Join("\n", diagnostics.Items));
        await using (var feed = await Restart(updated))
        {
            using var after = await Get(feed, OkPage, configure: AsFirst);
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            Assert.NotEqual(etag, after.Headers.ETag);
            Assert.Equal(["1.0.0"], await Versions(feed, OkPage));
            Assert.Equal(0, PageRequests(feed, "tollgate-fixture-ok"));
        }

        await using (var feed = await Restart(first.Database, PyPIFeedEnvironment.DefaultPolicy + "\ndeny: [ \"pkg:pypi/tollgate-fixture-ok@1.0.0\" ]\n"))
        {
            using var after = await Get(feed, OkPage, configure: AsFirst);
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            Assert.Equal(["1.1.0"], await Versions(feed, OkPage));
            Assert.Equal(0, PageRequests(feed, "tollgate-fixture-ok"));
        }
        // Only the first feed asked its upstream: the others judged the page it stored.
        Assert.Equal(1, PageRequests(first, "tollgate-fixture-ok"));
    }

    [Fact]
    public async Task StoredFile_RepeatedRequests_CheckedOnce_ButAChangedFileIsCheckedAgainAndNeverServed()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        var path = $"/pypi/files/tollgate-fixture-ok/{OkWheel}";
        var recorded = await File.ReadAllBytesAsync(Path.Combine(PyPIIndexFixture.Dists, OkWheel));
        Assert.Equal(recorded, await env.Http.GetByteArrayAsync(path));
        var hashes = env.Feed.PyPIFileHashes;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(recorded, await env.Http.GetByteArrayAsync(path));
        }
        Assert.Equal(hashes, env.Feed.PyPIFileHashes);
        var downloads = env.IndexRequestsFor("/packages/" + OkWheel).Count();

        // The same size with one byte changed and a new modification time: read through again, refused, fetched again.
        var stored = Path.Combine(env.Storage, "pypi", "files", "tollgate-fixture-ok", OkWheel);
        var tampered = (byte[])recorded.Clone();
        tampered[tampered.Length / 2] ^= 0xff;
        await File.WriteAllBytesAsync(stored, tampered);
        File.SetLastWriteTimeUtc(stored, DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(recorded, await env.Http.GetByteArrayAsync(path));
        Assert.True(env.Feed.PyPIFileHashes > hashes);
        Assert.Equal(downloads + 1, env.IndexRequestsFor("/packages/" + OkWheel).Count());

        // Another size, whatever the modification time says: the same.
        var checkedAgain = env.Feed.PyPIFileHashes;
        var written = File.GetLastWriteTimeUtc(stored);
        await File.WriteAllBytesAsync(stored, recorded[..^1]);
        File.SetLastWriteTimeUtc(stored, written);
        Assert.Equal(recorded, await env.Http.GetByteArrayAsync(path));
        Assert.True(env.Feed.PyPIFileHashes > checkedAgain);
        Assert.Equal(downloads + 2, env.IndexRequestsFor("/packages/" + OkWheel).Count());
    }

    [Fact]
    public async Task ProjectPage_UpstreamDownWithACachedCopy_StaleHeadersEveryTimeAndFreshAgainWhenItIsBack()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = TimeSpan.Zero });
        using var fresh = await Get(env, OkPage);
        Assert.False(fresh.Headers.Contains("X-Tollgate-Stale"));
        env.Index.Down = true;
        for (var i = 0; i < 2; i++)
        {
            using var stale = await Get(env, OkPage);
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.True(stale.Headers.Contains("X-Tollgate-Stale"));
            Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
        }
        env.Index.Down = false;
        using var back = await Get(env, OkPage);
        Assert.False(back.Headers.Contains("X-Tollgate-Stale"));
        Assert.False(back.Headers.Contains("Warning"));
    }
}
