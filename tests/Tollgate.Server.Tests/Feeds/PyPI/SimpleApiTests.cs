using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.PyPI;

/// <summary>The simple repository API as the feed answers it, checked against the PEPs, and its failure modes.</summary>
public sealed class SimpleApiTests
{
    private static async Task<HttpResponseMessage> Get(PyPIFeedEnvironment env, string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }
        return await env.Http.SendAsync(request);
    }

    [Fact]
    public async Task ProjectPage_JsonAccepted_Pep691WithPep700AndMetadata()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        using var response = await Get(env, "/pypi/simple/tollgate-fixture-evil/", "application/vnd.pypi.simple.v1+json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.pypi.simple.v1+json", response.Content.Headers.ContentType!.MediaType);
        var doc = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("1.1", doc["meta"]!["api-version"]!.GetValue<string>());
        Assert.Equal(["1.0.0"], doc["versions"]!.AsArray().Select(v => v!.GetValue<string>()));
        var file = doc["files"]!.AsArray().Single()!;
        Assert.Equal("tollgate_fixture_evil-1.0.0-py3-none-any.whl", file["filename"]!.GetValue<string>());
        Assert.StartsWith(env.Feed.Address.AbsoluteUri + "pypi/files/tollgate-fixture-evil/", file["url"]!.GetValue<string>(), StringComparison.Ordinal);
        var wheel = await File.ReadAllBytesAsync(Path.Combine(PyPIIndexFixture.Dists, "tollgate_fixture_evil-1.0.0-py3-none-any.whl"));
        Assert.Equal(PyPIIndexFixture.Sha256(wheel), file["hashes"]!["sha256"]!.GetValue<string>());
        Assert.Equal(">=3.8", file["requires-python"]!.GetValue<string>());
        Assert.Equal("2024-03-01T12:00:00.000000Z", file["upload-time"]!.GetValue<string>());
        Assert.False(file["yanked"]!.GetValue<bool>());

        // PEP 658: the metadata file is served and matches the advertised hash.
        var metadataHash = file["core-metadata"]!["sha256"]!.GetValue<string>();
        var metadata = await env.Http.GetByteArrayAsync(file["url"]!.GetValue<string>() + ".metadata");
        Assert.Equal(metadataHash, PyPIIndexFixture.Sha256(metadata));
    }

    [Fact]
    public async Task ProjectPage_HtmlAccepted_Pep503WithHashFragmentsAndDataAttributes()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        using var response = await Get(env, "/pypi/simple/tollgate-fixture-ok/", "text/html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.pypi.simple.v1+html", response.Content.Headers.ContentType!.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        var hash = PyPIIndexFixture.Sha256(await File.ReadAllBytesAsync(Path.Combine(PyPIIndexFixture.Dists, "tollgate_fixture_ok-1.0.0-py3-none-any.whl")));
        Assert.Contains($"pypi/files/tollgate-fixture-ok/tollgate_fixture_ok-1.0.0-py3-none-any.whl#sha256={hash}\"", html, StringComparison.Ordinal);
        Assert.Contains("data-requires-python=\"&gt;=3.8\"", html, StringComparison.Ordinal);
        Assert.Contains("data-core-metadata=\"sha256=", html, StringComparison.Ordinal);
        Assert.Contains("data-dist-info-metadata=\"sha256=", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/pypi/simple/Tollgate_Fixture.OK/")]
    [InlineData("/pypi/simple/tollgate-fixture-ok")]
    public async Task ProjectPage_NotNormalised_RedirectsToNormalisedName(string path)
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        using var response = await Get(env, path);
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(env.Feed.Address.AbsoluteUri + "pypi/simple/tollgate-fixture-ok/", response.Headers.Location!.AbsoluteUri);
    }

    [Theory]
    [InlineData("/pypi/files/tollgate-fixture-ok/..%2F..%2Faudit.db")]
    [InlineData("/pypi/files/..%2F..%2Ftmp/x.whl")]
    [InlineData("/pypi/simple/..%2Fetc/")]
    public async Task Traversal_InNames_400(string path)
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        using var response = await Get(env, path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task File_MaliciousVersion_403WithAdvisoryAndAuditEntry()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        using var response = await Get(env, "/pypi/files/tollgate-fixture-evil/tollgate_fixture_evil-1.0.1-py3-none-any.whl");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("MAL-2099-0101", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("MAL-2099-0101", response.ReasonPhrase, StringComparison.Ordinal);
        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        var entry = Assert.Single(log.Query(new AuditQuery { Package = "pkg:pypi/tollgate-fixture-evil", BlockedOnly = true }), e => e.Request == "tarball");
        Assert.Equal("MAL-2099-0101", entry.Rule);
    }

    [Fact]
    public async Task File_TamperedUpstream_502AndNothingCached()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(prepare: i => i.Tamper = true);
        using var response = await Get(env, "/pypi/files/tollgate-fixture-ok/tollgate_fixture_ok-1.0.0-py3-none-any.whl");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("does not match the sha256", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "pypi", "files", "tollgate-fixture-ok")) && Directory.EnumerateFiles(Path.Combine(env.Storage, "pypi", "files", "tollgate-fixture-ok")).Any());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(env.Storage, "tmp")));
    }

    [Fact]
    public async Task File_TruncatedUpstream_502AndNothingCached()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(prepare: i => i.Truncate = true);
        using var response = await Get(env, "/pypi/files/tollgate-fixture-ok/tollgate_fixture_ok-1.0.0-py3-none-any.whl");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.False(File.Exists(Path.Combine(env.Storage, "pypi", "files", "tollgate-fixture-ok", "tollgate_fixture_ok-1.0.0-py3-none-any.whl")));
    }

    [Fact]
    public async Task ProjectPage_UpstreamDownAndNothingCached_502()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(prepare: i => i.Down = true);
        using var response = await Get(env, "/pypi/simple/tollgate-fixture-ok/");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("503", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProjectPage_UpstreamServesHtmlOnly_ReadAndServedAsJson()
    {
        // An index without PEP 691: the feed reads its PEP 503 page (hash fragments, data- attributes) and serves JSON.
        await using var env = await PyPIFeedEnvironment.StartAsync(PyPIFeedEnvironment.HtmlOnlyPolicy, prepare: i =>
        {
            i.HtmlOnly = true;
            i.Yanked["tollgate-fixture-ok==1.1.0"] = "broken build";
        });
        using var response = await Get(env, "/pypi/simple/tollgate-fixture-ok/", "application/vnd.pypi.simple.v1+json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.pypi.simple.v1+json", response.Content.Headers.ContentType!.MediaType);
        var files = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["files"]!.AsArray().Select(f => f!.AsObject()).ToList();
        Assert.Equal(["tollgate_fixture_ok-1.0.0-py3-none-any.whl", "tollgate_fixture_ok-1.1.0-py3-none-any.whl"], files.Select(f => f["filename"]!.GetValue<string>()));
        foreach (var file in files)
        {
            var name = file["filename"]!.GetValue<string>();
            var wheel = Path.Combine(PyPIIndexFixture.Dists, name);
            Assert.Equal(PyPIIndexFixture.Sha256(await File.ReadAllBytesAsync(wheel)), file["hashes"]!["sha256"]!.GetValue<string>());
            Assert.Equal(PyPIIndexFixture.Sha256(PyPIIndexFixture.Metadata(wheel)), file["core-metadata"]!["sha256"]!.GetValue<string>());
            Assert.Equal(">=3.8", file["requires-python"]!.GetValue<string>());
            Assert.Equal(env.Feed.Address.AbsoluteUri + "pypi/files/tollgate-fixture-ok/" + name, file["url"]!.GetValue<string>());
        }
        Assert.False(files[0]["yanked"]!.GetValue<bool>());
        Assert.Equal("broken build", files[1]["yanked"]!.GetValue<string>());
        // The relative hrefs (../../packages/…) were resolved against the upstream page: the file comes from there.
        var metadata = await env.Http.GetByteArrayAsync(files[0]["url"]!.GetValue<string>() + ".metadata");
        Assert.Equal(files[0]["core-metadata"]!["sha256"]!.GetValue<string>(), PyPIIndexFixture.Sha256(metadata));
        Assert.Single(env.Index.Requests, r => r == "/packages/tollgate_fixture_ok-1.0.0-py3-none-any.whl.metadata");
    }

    [Fact]
    public async Task ProjectPage_HtmlOnlyUpstreamWithMinimumReleaseAge_NoVersionServed_ReasonSaysTheAgeIsUnknown()
    {
        // An HTML page carries no upload times, so the release age cannot be checked: fail closed, and say why.
        await using var env = await PyPIFeedEnvironment.StartAsync(prepare: i => i.HtmlOnly = true);
        using var response = await Get(env, "/pypi/simple/tollgate-fixture-ok/", "application/vnd.pypi.simple.v1+json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["files"]!.AsArray());
        Assert.Equal("2", response.Headers.GetValues("X-Tollgate-Refused").Single());
        using var file = await env.Http.GetAsync("/pypi/files/tollgate-fixture-ok/tollgate_fixture_ok-1.0.0-py3-none-any.whl");
        Assert.Equal(HttpStatusCode.Forbidden, file.StatusCode);
        Assert.Contains("no publish time", await file.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(env.Index.Requests, r => r.StartsWith("/packages/", StringComparison.Ordinal));
        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        Assert.Contains(log.Query(new AuditQuery { Package = "pkg:pypi/tollgate-fixture-ok", BlockedOnly = true }),
            e => e.Rule == "minimumReleaseAge" && e.Message.Contains("no publish time", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PrivateName_NotUploaded_404AndNeverAskedUpstream()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        using var response = await Get(env, "/pypi/simple/acme-secret/");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(env.IndexRequestsFor("acme"));
    }

    [Fact]
    public async Task Npm_NoNpmUpstream_NotServed()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync();
        Assert.Null(env.Feed.Upstream);
        using var response = await Get(env, "/is-number");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("npm is not served", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>Dry-run on the PyPI routes: every decision is made and logged, every version served.</summary>
public sealed class PyPIDryRunTests
{
    [Fact]
    public async Task DryRun_MaliciousVersion_ListedServedAndLogged()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(configure: o => o with { DryRun = true });
        var page = await env.Http.GetStringAsync("/pypi/simple/tollgate-fixture-evil/");
        Assert.Contains("tollgate_fixture_evil-1.0.1-py3-none-any.whl", page, StringComparison.Ordinal);
        using var file = await env.Http.GetAsync("/pypi/files/tollgate-fixture-evil/tollgate_fixture_evil-1.0.1-py3-none-any.whl");
        Assert.Equal(System.Net.HttpStatusCode.OK, file.StatusCode);
        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        Assert.Contains(log.Query(new AuditQuery { Package = "pkg:pypi/tollgate-fixture-evil", BlockedOnly = true }), e => e.Rule == "MAL-2099-0101" && e.DryRun);
    }
}
