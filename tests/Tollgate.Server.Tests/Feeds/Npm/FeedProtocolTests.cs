using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>The registry protocol and the feed's reliability, over real HTTP on 127.0.0.1.</summary>
public sealed class FeedProtocolTests
{
    private static async Task<JsonObject> Json(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    [Fact]
    public async Task Packument_Full_RewritesTarballsToFeedAndDropsBlockedVersions()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var response = await env.Http.GetAsync("tollgate-fixture-evil");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = await Json(response);
        var versions = doc["versions"]!.AsObject();
        Assert.Equal(["1.0.0"], versions.Select(v => v.Key));
        Assert.Equal("1.0.0", doc["dist-tags"]!["latest"]!.GetValue<string>());
        Assert.Equal(env.Registry + "tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.0.tgz", versions["1.0.0"]!["dist"]!["tarball"]!.GetValue<string>());
        Assert.Null(doc["time"]!["1.0.1"]);
    }

    [Fact]
    public async Task Packument_Abbreviated_KeepsInstallFieldsOnly()
    {
        await using var env = await FeedEnvironment.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "@scarf%2fscarf");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(PackumentView.AbbreviatedMediaType));
        // Every @scarf/scarf version has a postinstall script: none is allowed, so the feed answers 404 with the reason.
        var refused = await env.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Contains("TG1001", (await Json(refused))["error"]!.GetValue<string>(), StringComparison.Ordinal);

        using var ms = new HttpRequestMessage(HttpMethod.Get, "ms");
        ms.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(PackumentView.AbbreviatedMediaType));
        var response = await env.Http.SendAsync(ms);
        Assert.Equal(PackumentView.AbbreviatedMediaType, response.Content.Headers.ContentType!.MediaType);
        var doc = await Json(response);
        var v = doc["versions"]!["2.1.3"]!.AsObject();
        Assert.Null(v["readme"]);
        Assert.Null(v["scripts"]);
        Assert.StartsWith(env.Registry + "ms/-/", v["dist"]!["tarball"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(doc["modified"]);
    }

    [Theory]
    [InlineData("@scarf/scarf")]
    [InlineData("@scarf%2fscarf")]
    [InlineData("@scarf%2Fscarf")]
    public async Task Packument_ScopedNameSpellings_AllReachSamePackage(string path)
    {
        await using var env = await FeedEnvironment.StartAsync(FeedEnvironment.DefaultPolicy + "\ninstallScripts:\n  allow: [ \"@scarf/scarf\" ]\n");
        var response = await env.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("@scarf/scarf", (await Json(response))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tarball_BlockedVersion_403WithRuleAndNotice()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var response = await env.Http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await Json(response);
        Assert.Contains("MAL-2099-0001", body["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("MAL-2099-0001", body["rule"]!.GetValue<string>());
        Assert.Contains("MAL-2099-0001", response.Headers.GetValues("npm-notice").Single(), StringComparison.Ordinal);
        Assert.Empty(env.UpstreamRequestsFor("tollgate-fixture-evil-1.0.1.tgz"));

        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        var entry = Assert.Single(log.Query(new AuditQuery { BlockedOnly = true, Package = "tollgate-fixture-evil" }), e => e.Request == "tarball");
        Assert.Equal("blocked", entry.Verdict);
        Assert.Equal("1.0.1", entry.Version);
        Assert.Equal("127.0.0.1", entry.Client);
    }

    [Fact]
    public async Task Tarball_VulnerableVersion_BlockedUnlessWarnConfigured()
    {
        await using (var env = await FeedEnvironment.StartAsync())
        {
            var blocked = await env.Http.GetAsync("is-number");
            Assert.Equal(["7.0.0"], (await Json(blocked))["versions"]!.AsObject().Select(v => v.Key));
        }
        await using (var env = await FeedEnvironment.StartAsync(configure: o => o with { Vulnerabilities = VulnerabilityAction.Warn }))
        {
            var warned = await env.Http.GetAsync("is-number");
            Assert.Contains("6.0.0", (await Json(warned))["versions"]!.AsObject().Select(v => v.Key));
        }
    }

    [Fact]
    public async Task Packument_IgnoreEntry_AppliesUntilItExpires()
    {
        var ignore = "\nignore:\n  - id: MAL-2099-0001\n    reason: test fixture\n    expires: {0}\n";
        await using (var env = await FeedEnvironment.StartAsync(FeedEnvironment.DefaultPolicy + string.Format(System.Globalization.CultureInfo.InvariantCulture, ignore, "2999-12-31")))
        {
            var doc = await Json(await env.Http.GetAsync("tollgate-fixture-evil"));
            Assert.Equal("1.0.1", doc["dist-tags"]!["latest"]!.GetValue<string>());
        }
        await using (var env = await FeedEnvironment.StartAsync(FeedEnvironment.DefaultPolicy + string.Format(System.Globalization.CultureInfo.InvariantCulture, ignore, "2020-01-01")))
        {
            var doc = await Json(await env.Http.GetAsync("tollgate-fixture-evil"));
            Assert.Equal("1.0.0", doc["dist-tags"]!["latest"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Packument_DenyList_RemovesVersionAndRepointsLatest()
    {
        await using var env = await FeedEnvironment.StartAsync(FeedEnvironment.DefaultPolicy + "\ndeny: [ \"ms@2.1.3\" ]\n");
        var doc = await Json(await env.Http.GetAsync("ms"));
        Assert.Null(doc["versions"]!["2.1.3"]);
        Assert.Equal("2.1.2", doc["dist-tags"]!["latest"]!.GetValue<string>());
    }

    [Fact]
    public async Task DryRun_BlockedVersion_ServedAndLogged()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { DryRun = true });
        var response = await env.Http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        var entry = log.Query(new AuditQuery { BlockedOnly = true }).Single(e => e.Request == "tarball");
        Assert.True(entry.DryRun);
        Assert.Equal("MAL-2099-0001", entry.Rule);
    }

    [Fact]
    public async Task Packument_AfterTtl_RevalidatedWithETag()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = TimeSpan.Zero, PackumentStaleWhileRevalidate = TimeSpan.Zero });
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        Assert.StartsWith("\"fixture-ms", env.Upstream.IfNoneMatch["ms"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("postgres")]
    public async Task Packument_SameBytesUnderANewETag_TheNewETagIsSentNext(string store)
    {
        var state = store == "postgres" ? Tollgate.Tests.Inventory.StoreTargets.NewStore("postgres") : null;
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = TimeSpan.Zero, PackumentStaleWhileRevalidate = TimeSpan.Zero, State = state });
        var first = await (await env.Http.GetAsync("ms")).Content.ReadAsByteArrayAsync();
        env.Upstream.ETagSuffix = "-moved";
        // The old ETag does not match: the upstream sends the same bytes again, under its new ETag.
        Assert.Equal(first, await (await env.Http.GetAsync("ms")).Content.ReadAsByteArrayAsync());
        Assert.DoesNotContain("-moved", env.Upstream.IfNoneMatch["ms"], StringComparison.Ordinal);
        Assert.Equal(first, await (await env.Http.GetAsync("ms")).Content.ReadAsByteArrayAsync());
        Assert.EndsWith("-moved\"", env.Upstream.IfNoneMatch["ms"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Packument_WithinTtl_NotRequestedAgain()
    {
        await using var env = await FeedEnvironment.StartAsync();
        await env.Http.GetAsync("ms");
        await env.Http.GetAsync("ms");
        Assert.Single(env.UpstreamRequestsFor("/ms"));
    }

    [Fact]
    public async Task Packument_UpstreamDown_StaleCopyServedWithHeaders()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = TimeSpan.Zero, PackumentStaleWhileRevalidate = TimeSpan.Zero });
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        env.Upstream.Down = true;
        var stale = await env.Http.GetAsync("ms");
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("503", stale.Headers.GetValues("X-Tollgate-Stale").Single(), StringComparison.Ordinal);
        Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Packument_UpstreamDownNothingCached_502WithMessage()
    {
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.Down = true);
        var response = await env.Http.GetAsync("ms");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("no cached copy", (await Json(response))["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Packument_UpstreamUnreachable_502()
    {
        // A port nothing listens on, held for the test so that no other process can start listening there.
        using var refusing = Cli.FeedCommandTests.RefusingPort(out var port);
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { Upstream = new Uri($"http://127.0.0.1:{port}/") });
        var response = await env.Http.GetAsync("ms");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task Tarball_Tampered_502AndNothingCached()
    {
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.Tamper = true);
        var response = await env.Http.GetAsync("is-number/-/is-number-7.0.0.tgz");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("dist.integrity", (await Json(response))["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(env.Storage, "tarballs", "is-number", "is-number-7.0.0.tgz")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(env.Storage, "tmp")));

        env.Upstream.Tamper = false;
        var good = await env.Http.GetAsync("is-number/-/is-number-7.0.0.tgz");
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var recorded = await File.ReadAllBytesAsync(Path.Combine(UpstreamFixture.DataFolder, "tarballs", "is-number-7.0.0.tgz"));
        Assert.Equal(recorded, await good.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Tarball_ConcurrentRequests_OneUpstreamDownload()
    {
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.TarballDelay = TimeSpan.FromMilliseconds(500));
        await env.Http.GetAsync("ms");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => env.Http.GetAsync("ms/-/ms-2.1.2.tgz")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(env.UpstreamRequestsFor("ms-2.1.2.tgz"));
        Assert.Equal(1, env.Feed.UpstreamTarballDownloads);
    }

    [Theory]
    [InlineData("/../etc/passwd")]
    [InlineData("/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/ms/-/..%2f..%2fsecret.tgz")]
    [InlineData("/ms/-/x%5c..%5cy.tgz")]
    [InlineData("/.hidden")]
    [InlineData("/@scope")]
    [InlineData("/ms/extra/segments")]
    [InlineData("/@a/b/c/d")]
    public async Task Request_MalformedOrTraversal_400(string target)
    {
        await using var env = await FeedEnvironment.StartAsync();
        // A raw request line: HttpClient would remove dot segments before sending.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, env.Feed.Address.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
        var answer = await new StreamReader(stream).ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.DoesNotContain(env.Upstream.Requests, r => r.Contains("passwd", StringComparison.Ordinal) || r.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PingAndWhoami_AnswerLikeARegistry()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("-/ping")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await env.Http.GetAsync("-/whoami")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "-/whoami");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FeedEnvironment.Token);
        var whoami = await env.Http.SendAsync(request);
        Assert.Equal("ci", (await Json(whoami))["username"]!.GetValue<string>());
    }

    [Fact]
    public async Task Publish_NonPrivateName_403AndBodyLimit_413()
    {
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { MaxPublishBytes = 1024 });
        using var publicName = new HttpRequestMessage(HttpMethod.Put, "ms") { Content = new StringContent("{}") };
        publicName.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FeedEnvironment.Token);
        Assert.Equal(HttpStatusCode.Forbidden, (await env.Http.SendAsync(publicName)).StatusCode);

        using var tooLarge = new HttpRequestMessage(HttpMethod.Put, "@acme%2fbig") { Content = new StringContent(new string('x', 4096)) };
        tooLarge.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FeedEnvironment.Token);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await env.Http.SendAsync(tooLarge)).StatusCode);

        using var noToken = new HttpRequestMessage(HttpMethod.Put, "@acme%2fbig") { Content = new StringContent("{}") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await env.Http.SendAsync(noToken)).StatusCode);
    }

    [Fact]
    public async Task Stop_DuringTarballDownload_RequestCompletesAndCacheHoldsOnlyWholeFiles()
    {
        await using var env = await FeedEnvironment.StartAsync(prepare: u => u.TarballDelay = TimeSpan.FromSeconds(1));
        await env.Http.GetAsync("ms");
        var inFlight = env.Http.GetAsync("ms/-/ms-2.1.2.tgz");
        // Stop once the download is under way (the upstream holds it for 1 s), not after a fixed wait that a loaded
        // machine could spend before the request even reached the feed.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!env.UpstreamRequestsFor("ms-2.1.2.tgz").Any() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        Assert.Single(env.UpstreamRequestsFor("ms-2.1.2.tgz"));
        await env.Feed.StopAsync();
        var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var recorded = await File.ReadAllBytesAsync(Path.Combine(UpstreamFixture.DataFolder, "tarballs", "ms-2.1.2.tgz"));
        Assert.Equal(recorded, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(recorded, await File.ReadAllBytesAsync(Path.Combine(env.Storage, "tarballs", "ms", "ms-2.1.2.tgz")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(env.Storage, "tmp")));
    }

    [Fact]
    public async Task Tarball_Upstream5xx_502AndNothingCached()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
        env.Upstream.Down = true;
        var response = await env.Http.GetAsync("ms/-/ms-2.1.2.tgz");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("503", (await Json(response))["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "tarballs", "ms")));
    }
}
