using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// Two feed instances sharing a real PostgreSQL database (state: audit log, upstream packuments and private packages) and an Azure Blob
/// container (Azurite: verified tarballs), behind a loopback reverse proxy (YARP) that sends requests to them in turn.
/// They must behave as one feed: what one stored the other serves, a version is published exactly once whichever
/// instance is asked, and clients are always sent back through the proxy.
/// </summary>
public sealed class MultiInstanceTests
{
    private static async Task<HttpStatusCode> Publish(HttpClient http, string name, JsonObject body)
    {
        using var response = await PublishTests.Publish(http, name, body);
        return response.StatusCode;
    }

    [Fact]
    public async Task TwoInstancesBehindAProxy_SharedPostgresAndBlob_BehaveAsOneFeed()
    {
        var state = StoreTargets.NewStore("postgres");
        await using var azurite = await AzuriteServer.StartAsync();
        await using var upstream = await UpstreamFixture.StartAsync();
        var container = "feed-" + Guid.NewGuid().ToString("N")[..8];
        FeedOptions Shared(FeedOptions o) => o with
        {
            Upstream = upstream.BaseUrl,
            State = state,
            SharedArtifacts = container,
            SharedArtifactsConnectionString = azurite.ConnectionString,
            ForwardedHeaders = true,
        };
        await using var first = await FeedEnvironment.StartAsync(configure: Shared);
        await using var second = await FeedEnvironment.StartAsync(configure: Shared);
        await using var proxy = await LoopbackProxy.StartAsync(first.Feed.Address, second.Feed.Address);

        // A real npm publish through the proxy lands on one instance; the other serves it from the shared state.
        var package = Path.Combine(first.Folder, "widget");
        Directory.CreateDirectory(package);
        await File.WriteAllTextAsync(Path.Combine(package, "package.json"), """{ "name": "@acme/widget", "version": "1.2.0", "main": "index.js", "license": "MIT" }""");
        await File.WriteAllTextAsync(Path.Combine(package, "index.js"), "module.exports = 42;\n");
        await File.WriteAllTextAsync(Path.Combine(package, ".npmrc"), $"//{proxy.Address.Authority}/:_authToken={FeedEnvironment.Token}\n");
        var publish = await first.RunNpmAt(proxy.Registry, package, "publish");
        Assert.True(publish.ExitCode == 0, publish.Output);
        foreach (var instance in new[] { first, second })
        {
            var document = JsonNode.Parse(await instance.Http.GetStringAsync("@acme%2fwidget"))!;
            Assert.Equal("1.2.0", document["dist-tags"]!["latest"]!.GetValue<string>());
            using var tarball = await instance.Http.GetAsync("@acme/widget/-/widget-1.2.0.tgz");
            Assert.Equal(HttpStatusCode.OK, tarball.StatusCode);
        }

        // Installs through the proxy (requests alternate between the instances): the private package and a public one;
        // every URL handed to npm names the proxy, never an instance.
        var project = Path.Combine(first.Folder, "project");
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "package.json"), """{ "name": "feed-test-project", "version": "1.0.0", "private": true }""");
        var install = await first.RunNpmAt(proxy.Registry, project, "install", "@acme/widget@1.2.0", "ms@2.1.3");
        Assert.True(install.ExitCode == 0, install.Output);
        Assert.Equal("1.2.0", install.Installed("@acme/widget"));
        Assert.Equal("2.1.3", install.Installed("ms"));
        var lockfile = await File.ReadAllTextAsync(Path.Combine(project, "package-lock.json"));
        Assert.Contains($"{proxy.Registry}ms/-/ms-2.1.3.tgz", lockfile, StringComparison.Ordinal);
        Assert.DoesNotContain(first.Feed.Address.Authority, lockfile, StringComparison.Ordinal);
        Assert.DoesNotContain(second.Feed.Address.Authority, lockfile, StringComparison.Ordinal);

        // The public tarball, asked for through the proxy four times (twice of each instance): one upstream download.
        for (var i = 0; i < 4; i++)
        {
            using var response = await proxy.Http.GetAsync("ms/-/ms-2.1.2.tgz");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Single(upstream.Requests, r => r.EndsWith("ms-2.1.2.tgz", StringComparison.Ordinal));

        // Its packument, asked of both instances (npm's install asked one of them first): one upstream request, the
        // other instance serves the copy stored in the shared state.
        for (var i = 0; i < 2; i++)
        {
            using var response = await proxy.Http.GetAsync("ms");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Single(upstream.Requests, r => r == "/ms");

        // The same version published on both instances at the same moment, with different bytes: exactly one wins,
        // the other gets 409, and both instances then serve the winner's bytes.
        for (var round = 0; round < 5; round++)
        {
            var version = $"1.0.{round}";
            var bytesA = Encoding.UTF8.GetBytes($"tarball A of @acme/race@{version}");
            var bytesB = Encoding.UTF8.GetBytes($"tarball B of @acme/race@{version}");
            var statuses = await Task.WhenAll(
                Publish(first.Http, "@acme/race", PublishTests.Body("@acme/race", version, bytesA)),
                Publish(second.Http, "@acme/race", PublishTests.Body("@acme/race", version, bytesB)));
            Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], statuses.Order());
            var winner = statuses[0] == HttpStatusCode.Created ? bytesA : bytesB;
            foreach (var instance in new[] { first, second })
            {
                Assert.Equal(winner, await instance.Http.GetByteArrayAsync($"@acme/race/-/race-{version}.tgz"));
            }
        }
        var race = JsonNode.Parse(await proxy.Http.GetStringAsync("@acme%2frace"))!;
        Assert.Equal(["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4"], race["versions"]!.AsObject().Select(v => v.Key).Order(StringComparer.Ordinal));

        // One audit log: each publish once, whichever instance took it; neither instance kept files of its own.
        await first.Feed.FlushAuditAsync();
        await second.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(Path.GetTempPath(), readOnly: true, state: state);
        var published = log.Query(new AuditQuery { Package = "@acme/race" }).Where(r => r.Verdict == "published").ToList();
        Assert.Equal(5, published.Count);
        Assert.Equal(5, log.Query(new AuditQuery { Package = "@acme/race" }).Count(r => r.Verdict == "refused" && r.Request == "publish"));
        Assert.False(Directory.Exists(Path.Combine(first.Storage, "private")));
        Assert.False(Directory.Exists(Path.Combine(second.Storage, "private")));
        Assert.False(Directory.Exists(Path.Combine(first.Storage, "packuments")));
        Assert.False(Directory.Exists(Path.Combine(second.Storage, "packuments")));
    }
}
