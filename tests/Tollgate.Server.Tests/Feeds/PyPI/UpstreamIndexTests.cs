using System.Net;
using Tollgate.Ecosystems;
using Tollgate.Ecosystems.PyPI;

namespace Tollgate.Server.Tests.Feeds.PyPI;

/// <summary>
/// The feed's upstream side on the core <see cref="PyPIIndexClient"/>: HTML-only indexes, the upstream timeout, the
/// page size limit and stale copies; and the client's facts from the same project's JSON and HTML pages.
/// </summary>
public sealed class UpstreamIndexTests
{
    private static async Task<HttpResponseMessage> GetJson(PyPIFeedEnvironment env, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        return await env.Http.SendAsync(request);
    }

    private static string CachedPage(PyPIFeedEnvironment env, string name) => Path.Combine(env.Storage, "pypi", "pages", name + ".json");

    [Fact]
    public async Task PipInstall_HtmlOnlyUpstreamWithYankedLatest_InstallsTheUnyankedVersion()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(PyPIFeedEnvironment.HtmlOnlyPolicy, prepare: i =>
        {
            i.HtmlOnly = true;
            i.Yanked["tollgate-fixture-ok==1.1.0"] = "broken build";
        });

        var run = await env.PipAsync("install", "--index-url", env.IndexUrl, "--target", "{work}/site", "--no-deps", "tollgate-fixture-ok");

        Assert.True(run.ExitCode == 0, run.Output);
        // pip skips a yanked release unless pinned to it: the data-yanked attribute reached it through the feed.
        Assert.Equal("1.0.0", run.Installed("tollgate_fixture_ok"));
    }

    [Fact]
    public async Task ProjectPage_UpstreamSlowerThanTimeout_502NamingTheSettingAndNothingCached()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(
            configure: o => o with { UpstreamTimeout = TimeSpan.FromMilliseconds(500) },
            prepare: i => i.PageDelay = TimeSpan.FromSeconds(5));

        using var response = await GetJson(env, "/pypi/simple/tollgate-fixture-ok/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("did not answer within", body, StringComparison.Ordinal);
        Assert.Contains("(upstreamTimeout)", body, StringComparison.Ordinal);
        Assert.False(File.Exists(CachedPage(env, "tollgate-fixture-ok")));
    }

    [Fact]
    public async Task ProjectPage_LargerThanMaxPackumentBytes_502AndNothingCached()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(configure: o => o with { MaxPackumentBytes = 200 });

        using var response = await GetJson(env, "/pypi/simple/tollgate-fixture-ok/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("is larger than 200 bytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(File.Exists(CachedPage(env, "tollgate-fixture-ok")));
    }

    [Fact]
    public async Task ProjectPage_UpstreamDownAfterCaching_ServesTheCachedPageWithAWarning()
    {
        await using var env = await PyPIFeedEnvironment.StartAsync(configure: o => o with { PackumentTtl = TimeSpan.Zero });
        using (var first = await GetJson(env, "/pypi/simple/tollgate-fixture-ok/"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.False(first.Headers.Contains("X-Tollgate-Stale"));
        }
        env.Index.Down = true;

        using var response = await GetJson(env, "/pypi/simple/tollgate-fixture-ok/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("503", response.Headers.GetValues("X-Tollgate-Stale").Single(), StringComparison.Ordinal);
        Assert.Contains("Response is Stale", response.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
        Assert.Contains("tollgate_fixture_ok-1.1.0-py3-none-any.whl", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(env.Logs.Lines, l => l.Contains("serving a stale page", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IndexClient_JsonAndHtmlPagesOfOneProject_GiveTheSameReleases()
    {
        await using var index = await PyPIIndexFixture.StartAsync();
        index.Yanked["tollgate-fixture-evil==1.0.1"] = "compromised";
        using var http = new RegistryHttp(new RegistryHttpOptions { MaxRetries = 0 });
        var client = new PyPIIndexClient(http, index.IndexUrl);

        var fromJson = (await client.GetAsync("Tollgate_Fixture.Evil")).Facts!;
        index.HtmlOnly = true;
        var fromHtml = (await client.GetAsync("tollgate-fixture-evil")).Facts!;

        Assert.Equal("tollgate-fixture-evil", fromJson.Name);
        Assert.Equal(["1.0.0", "1.0.1"], fromJson.Versions.Select(v => v.Version));
        foreach (var (json, html) in fromJson.Versions.Zip(fromHtml.Versions))
        {
            var wheel = Path.Combine(PyPIIndexFixture.Dists, $"tollgate_fixture_evil-{json.Version}-py3-none-any.whl");
            Assert.Equal(PyPIIndexFixture.Sha256(await File.ReadAllBytesAsync(wheel)), Assert.Single(json.Sha256));
            Assert.Equal(json.Version, html.Version);
            Assert.Equal(json.Sha256.ToArray(), html.Sha256.ToArray());
            Assert.Equal(json.Yanked, html.Yanked);
            Assert.Equal(json.YankReason, html.YankReason);
            Assert.Equal(json.HasWheels, html.HasWheels);
            // PEP 700's upload-time is in JSON only: from HTML the release's age is unknown, never "new".
            Assert.Equal(PyPIIndexFixture.UploadTime, json.Published);
            Assert.Null(html.Published);
        }
        Assert.True(fromJson.Versions[1].Yanked);
        Assert.Equal("compromised", fromJson.Versions[1].YankReason);
        Assert.False(fromJson.Versions[0].Yanked);

        var missing = await client.GetAsync("tollgate-fixture-absent");
        Assert.True(missing.NotFound);
        index.Down = true;
        var down = await client.GetPageAsync("tollgate-fixture-evil", 1 << 20);
        Assert.Equal(RegistryStatus.Failed, down.Status);
        Assert.Contains("503", down.Problem, StringComparison.Ordinal);
    }
}
