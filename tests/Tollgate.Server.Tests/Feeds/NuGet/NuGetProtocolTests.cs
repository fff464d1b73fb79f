using System.Net;
using System.Text.Json.Nodes;
using NuGet.Versioning;

namespace Tollgate.Server.Tests.Feeds.NuGet;

/// <summary>The feed's NuGet V3 documents over real HTTP: URLs, version lists, registrations, refusals and upstream failures.</summary>
public sealed class NuGetProtocolTests
{
    private static async Task<JsonObject> Json(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    [Fact]
    public async Task ServiceIndex_EveryResourcePointsAtTheFeed()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        var index = await Json(env.Http, "/nuget/v3/index.json");
        var resources = index["resources"]!.AsArray().Select(r => (Id: r!["@id"]!.GetValue<string>(), Type: r["@type"]!.GetValue<string>())).ToList();
        Assert.Contains(resources, r => r.Type == "PackageBaseAddress/3.0.0");
        Assert.Contains(resources, r => r.Type == "RegistrationsBaseUrl/3.6.0");
        Assert.Contains(resources, r => r.Type == "PackagePublish/2.0.0");
        Assert.All(resources, r => Assert.StartsWith(env.Feed.Address.AbsoluteUri + "nuget/", r.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task FlatContainer_VersionsInNuGetVersioningOrder_PreReleaseLabelsLowerCase()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        var versions = (await Json(env.Http, "/nuget/v3/flatcontainer/tollgate.fixture.ok/index.json"))["versions"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
        var expected = Directory.GetFiles(NuGetSourceFixture.Packages, "Tollgate.Fixture.Ok.*.nupkg")
            .Select(f => NuGetVersion.Parse(Path.GetFileName(f)["Tollgate.Fixture.Ok.".Length..^".nupkg".Length]))
            .Order(VersionComparer.Default).Select(v => v.ToNormalizedString().ToLowerInvariant());
        Assert.Equal(expected, versions);
        Assert.Equal(["1.0.0", "1.1.0", "1.10.0", "2.0.0-beta.1"], versions);
        // The client asks in lower case; the upstream wrote the label in upper case.
        using var package = await env.Http.GetAsync("/nuget/v3/flatcontainer/tollgate.fixture.ok/2.0.0-beta.1/tollgate.fixture.ok.2.0.0-beta.1.nupkg");
        Assert.Equal(HttpStatusCode.OK, package.StatusCode);
    }

    [Fact]
    public async Task FlatContainer_ListsEveryVersionInNuGetOrder_RefusedOnesIncluded()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        using var response = await env.Http.GetAsync("/nuget/v3/flatcontainer/Tollgate.Fixture.Evil/index.json");
        var versions = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["versions"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
        // The malicious 1.0.1 stays listed so that dotnet restore asks for it and prints why it is refused.
        Assert.Equal(["1.0.0", "1.0.1"], versions);
        Assert.Equal(versions.Select(NuGetVersion.Parse).Order(VersionComparer.Default).Select(v => v.ToNormalizedString().ToLowerInvariant()), versions);
        Assert.Equal("1", response.Headers.GetValues("X-Tollgate-Refused").Single());
    }

    [Theory]
    [InlineData("1.0.1", true)]
    [InlineData("1.0.1.0", true)]   // NuGet.Versioning: 1.0.1.0 equals 1.0.1
    [InlineData("01.0.1", true)]    // leading zeros are dropped
    [InlineData("1.0.0", false)]
    [InlineData("1.0.0.0", false)]
    [InlineData("1.0.1+build.5", true)]  // build metadata takes no part in NuGet's comparison
    public async Task Package_VersionAliases_DecidedAsNuGetVersioningCompares(string version, bool refused)
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        var normalized = NuGetVersion.Parse(version).ToNormalizedString();
        using var response = await env.Http.GetAsync($"/nuget/v3/flatcontainer/tollgate.fixture.evil/{version}/tollgate.fixture.evil.{normalized}.nupkg");
        Assert.Equal(refused ? HttpStatusCode.Forbidden : HttpStatusCode.OK, response.StatusCode);
        if (refused)
        {
            Assert.Contains("MAL-2099-0201", response.ReasonPhrase, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Registration_MarksRefusedVersionDeprecated_PassesUpstreamFactsThrough_PointsAtFeed()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync(prepare: s => s.Deprecations["Tollgate.Fixture.Evil/1.0.0"] = "use something else");
        var index = await Json(env.Http, "/nuget/v3/registration/tollgate.fixture.evil/index.json");
        var text = index.ToJsonString();
        Assert.DoesNotContain(env.Source.ServiceIndex.Authority, text, StringComparison.Ordinal);
        var leaves = index["items"]![0]!["items"]!.AsArray().Select(l => l!.AsObject()).ToList();
        Assert.Equal(["1.0.0", "1.0.1"], leaves.Select(l => l["catalogEntry"]!["version"]!.GetValue<string>()));
        var clean = leaves[0]["catalogEntry"]!;
        Assert.Equal("use something else", clean["deprecation"]!["message"]!.GetValue<string>());
        Assert.True(clean["listed"]!.GetValue<bool>());
        Assert.StartsWith("2024-03-01T12:00:00", clean["published"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(clean["vulnerabilities"]);
        var evil = leaves[1]["catalogEntry"]!;
        Assert.Contains("MAL-2099-0201", evil["deprecation"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("CriticalBugs", evil["deprecation"]!["reasons"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(env.Feed.Address.AbsoluteUri + "nuget/v3/flatcontainer/tollgate.fixture.evil/1.0.1/tollgate.fixture.evil.1.0.1.nupkg",
            leaves[1]["packageContent"]!.GetValue<string>());
        var leaf = await Json(env.Http, "/nuget/v3/registration/tollgate.fixture.evil/1.0.1.json");
        Assert.Equal(leaves[1]["packageContent"]!.GetValue<string>(), leaf["packageContent"]!.GetValue<string>());
    }

    [Fact]
    public async Task Nuspec_OfServedVersion_ComesFromTheCheckedPackage()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        var nuspec = await env.Http.GetStringAsync("/nuget/v3/flatcontainer/tollgate.fixture.ok/1.0.0/tollgate.fixture.ok.nuspec");
        Assert.Contains("<id>Tollgate.Fixture.Ok</id>", nuspec, StringComparison.Ordinal);
        using var refused = await env.Http.GetAsync("/nuget/v3/flatcontainer/tollgate.fixture.evil/1.0.1/tollgate.fixture.evil.nuspec");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task PrivateName_NotPushed_404AndUpstreamNeverAsked()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        using var versions = await env.Http.GetAsync("/nuget/v3/flatcontainer/acme.internal/index.json");
        Assert.Equal(HttpStatusCode.NotFound, versions.StatusCode);
        Assert.Contains("private name", await versions.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var package = await env.Http.GetAsync("/nuget/v3/flatcontainer/acme.internal/9.9.9/acme.internal.9.9.9.nupkg");
        Assert.Equal(HttpStatusCode.NotFound, package.StatusCode);
        Assert.Empty(env.Source.RequestsFor("acme"));
    }

    [Theory]
    [InlineData("/nuget/v3/flatcontainer/..%2f..%2fetc/index.json")]
    [InlineData("/nuget/v3/flatcontainer/a%5cb/index.json")]
    [InlineData("/nuget/v3/flatcontainer/.hidden/index.json")]
    [InlineData("/nuget/v3/flatcontainer/tollgate.fixture.ok/not-a-version/x.nupkg")]
    public async Task BadNamesAndTraversal_Refused400(string path)
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        using var response = await env.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(env.Source.Requests);
    }

    [Fact]
    public async Task UpstreamDown_502AndNothingCached()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync(prepare: s => s.Down = true);
        using var response = await env.Http.GetAsync("/nuget/v3/flatcontainer/tollgate.fixture.ok/index.json");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "nuget", "packages")));
    }

    [Fact]
    public async Task TamperedPackage_502AndNotCached()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync(prepare: s => s.Tamper = true);
        using var response = await env.Http.GetAsync("/nuget/v3/flatcontainer/tollgate.fixture.ok/1.0.0/tollgate.fixture.ok.1.0.0.nupkg");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.False(File.Exists(Path.Combine(env.Storage, "nuget", "packages", "tollgate.fixture.ok", "1.0.0", "tollgate.fixture.ok.1.0.0.nupkg")));
    }

    [Theory]
    [InlineData(false, HttpStatusCode.OK)]
    [InlineData(true, HttpStatusCode.BadGateway)]
    public async Task DeclaredPackageHash_CheckedBeforeStoring(bool wrong, HttpStatusCode expected)
    {
        await using var env = await NuGetFeedEnvironment.StartAsync(prepare: s => (s.DeclareHashes, s.WrongHashes) = (true, wrong));
        using var response = await env.Http.GetAsync("/nuget/v3/flatcontainer/tollgate.fixture.ok/1.0.0/tollgate.fixture.ok.1.0.0.nupkg");
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(!wrong, File.Exists(Path.Combine(env.Storage, "nuget", "packages", "tollgate.fixture.ok", "1.0.0", "tollgate.fixture.ok.1.0.0.nupkg")));
        if (wrong)
        {
            Assert.Contains("does not match the SHA512", response.ReasonPhrase, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Search_AnswersForHeldPackagesWithServedVersionsOnly()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        (await env.Http.GetAsync("/nuget/v3/flatcontainer/tollgate.fixture.evil/1.0.0/tollgate.fixture.evil.1.0.0.nupkg")).Dispose();
        var result = await Json(env.Http, "/nuget/v3/query?q=fixture&prerelease=true");
        var hit = Assert.Single(result["data"]!.AsArray());
        Assert.Equal("Tollgate.Fixture.Evil", hit!["id"]!.GetValue<string>());
        // 1.0.1 is malicious: not offered, though the upstream has it.
        Assert.Equal(["1.0.0"], hit["versions"]!.AsArray().Select(v => v!["version"]!.GetValue<string>()));
        Assert.Equal("1.0.0", hit["version"]!.GetValue<string>());
        Assert.Equal(0, (await Json(env.Http, "/nuget/v3/query?q=nothing-like-this"))["totalHits"]!.GetValue<int>());
        Assert.Empty(env.Source.RequestsFor("query"));
    }

    [Fact]
    public async Task DryRun_ServesRefusedVersion_AndAuditsIt()
    {
        await using var env = await NuGetFeedEnvironment.StartAsync(configure: o => o with { DryRun = true });
        using var response = await env.Http.GetAsync("/nuget/v3/flatcontainer/tollgate.fixture.evil/1.0.1/tollgate.fixture.evil.1.0.1.nupkg");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(env.Logs.Lines, l => l.Contains("nuget Tollgate.Fixture.Evil 1.0.1: blocked by MAL-2099-0201 (dry-run: served)", StringComparison.Ordinal));
        // The decision reaches the audit log through the feed's queue, marked as a dry run.
        await env.Feed.FlushAuditAsync();
        using var log = Tollgate.Server.Feeds.Npm.FeedAuditLog.Open(env.Storage, readOnly: true);
        Assert.Contains(log.Query(new Tollgate.Server.Feeds.Npm.AuditQuery { BlockedOnly = true }), e => e.Rule == "MAL-2099-0201" && e.DryRun && e.Version == "1.0.1");
    }
}
