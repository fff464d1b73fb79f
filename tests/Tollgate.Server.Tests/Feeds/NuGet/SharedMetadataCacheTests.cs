using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Tollgate.Server.Tests.Feeds.Npm;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Feeds.NuGet;

/// <summary>
/// Two feed instances over one real PostgreSQL state keep one cache of upstream NuGet metadata (the service index and
/// registrations, <c>feed_nuget_metadata</c>): what one fetched the other serves without asking the source, a
/// revalidation by one (with the stored validators) renews the document for both, and a state database that cannot be
/// reached is never a source of data.
/// </summary>
public sealed class SharedMetadataCacheTests
{
    private const string Versions = "/nuget/v3/flatcontainer/tollgate.fixture.ok/index.json";
    private const string Registration = "/nuget/v3/registration/tollgate.fixture.ok/index.json";
    private const string UpstreamRegistration = "/v3/registration5-gz-semver2/tollgate.fixture.ok/index.json";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private static int RegistrationRequests(NuGetSourceFixture source) => source.Requests.Count(r => r == UpstreamRegistration);

    private static async Task<string[]> ListedVersions(NuGetFeedEnvironment env)
    {
        using var response = await env.Http.GetAsync(Versions);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. JsonNode.Parse(await response.Content.ReadAsStringAsync())!["versions"]!.AsArray().Select(v => v!.GetValue<string>())];
    }

    /// <summary>The stored row of the upstream registration index: the source's ETag and when it was fetched or last confirmed.</summary>
    private static async Task<(string? ETag, DateTime FetchedAt)> Row(string state, NuGetSourceFixture source)
    {
        await using var connection = new NpgsqlConnection(state);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT etag, fetched_at FROM feed_nuget_metadata WHERE name LIKE $1", connection);
        command.Parameters.AddWithValue(new Uri(source.ServiceIndex, UpstreamRegistration).AbsoluteUri + "\n%");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "no stored row for the registration index");
        var row = (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetDateTime(1));
        Assert.False(await reader.ReadAsync());
        return row;
    }

    [Fact]
    public async Task TwoInstances_OnePostgresState_WhatOneFetchedTheOtherServesAndRevalidates()
    {
        var state = StoreTargets.NewStore("postgres");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var first = await NuGetFeedEnvironment.StartAsync(configure: o => o with { State = state, PackumentTtl = Ttl }, time: clock);
        var source = first.Source;
        await using var second = await NuGetFeedEnvironment.StartAsync(configure: o => o with { NuGetUpstream = source.ServiceIndex, State = state, PackumentTtl = Ttl }, time: clock);

        var fromFirst = await ListedVersions(first);
        Assert.Contains("1.1.0", fromFirst);
        var asked = source.Requests.Count;
        Assert.Equal(1, RegistrationRequests(source));
        var (etag, fetchedAt) = await Row(state, source);
        Assert.False(string.IsNullOrEmpty(etag));

        // Within packumentTtl the other instance answers from the stored service index and registration, asking the
        // source nothing at all.
        Assert.Equal(fromFirst, await ListedVersions(second));
        using (var registration = await second.Http.GetAsync(Registration))
        {
            Assert.Equal(HttpStatusCode.OK, registration.StatusCode);
        }
        Assert.Equal(asked, source.Requests.Count);
        Assert.Empty(second.Source.Requests);
        // The metadata lives in the state only, not in either instance's storage folder.
        Assert.False(Directory.Exists(Path.Combine(first.Storage, "nuget", "metadata")));
        Assert.False(Directory.Exists(Path.Combine(second.Storage, "nuget", "metadata")));

        // Past packumentTtl the other instance revalidates with the validators the first one stored; the source's 304
        // renews the registration for both, so the first instance then asks nothing either.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        Assert.Equal(fromFirst, await ListedVersions(second));
        Assert.Equal(2, RegistrationRequests(source));
        Assert.Equal(etag, source.IfNoneMatch[UpstreamRegistration]);
        var (etagAfter, confirmedAt) = await Row(state, source);
        Assert.Equal(etag, etagAfter);
        Assert.True(confirmedAt > fetchedAt, $"fetched_at {fetchedAt:O} was not renewed ({confirmedAt:O})");
        Assert.Equal(fromFirst, await ListedVersions(first));
        Assert.Equal(2, RegistrationRequests(source));

        // The source fails past the TTL: each instance serves the stored registration, marked stale, as one instance does.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        source.Down = true;
        foreach (var env in new[] { first, second })
        {
            using var stale = await env.Http.GetAsync(Versions);
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
            Assert.Empty(env.Logs.Errors);
        }
    }

    [Fact]
    public async Task SharedMetadataCache_StateDatabaseUnreachable_SourceAskedAfreshNeverAnUnverifiedCopy()
    {
        var state = StoreTargets.NewStore("postgres");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var server = new NpgsqlConnectionStringBuilder(state);
        await using var relay = TcpRelay.Start(server.Host!, server.Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(state) { Host = "127.0.0.1", Port = relay.Port }.ToString();
        await using var first = await NuGetFeedEnvironment.StartAsync(configure: o => o with { State = state, PackumentTtl = Ttl }, time: clock);
        var source = first.Source;
        await using var second = await NuGetFeedEnvironment.StartAsync(configure: o => o with { NuGetUpstream = source.ServiceIndex, State = throughRelay, PackumentTtl = Ttl }, time: clock);
        var versions = await ListedVersions(first);
        Assert.Equal(versions, await ListedVersions(second));
        Assert.Equal(1, RegistrationRequests(source));

        // The second instance loses its state database: past the TTL it asks the source as if nothing were cached (no
        // validators) and serves the registration it received.
        relay.Cut();
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        using (var fresh = await second.Http.GetAsync(Versions))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
            Assert.False(fresh.Headers.Contains("Warning"));
        }
        Assert.Equal(2, RegistrationRequests(source));
        Assert.Equal("", source.IfNoneMatch[UpstreamRegistration]);
        Assert.Contains(second.Logs.Lines, l => l.Contains("the feed's metadata cache cannot be used: the feed's state database cannot be reached", StringComparison.Ordinal));

        // The source fails too: no registration it can read, so 502 with the reason; the first instance, which still
        // reaches the state, serves the stored registration marked stale.
        clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        source.Down = true;
        using (var failed = await second.Http.GetAsync(Versions))
        {
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
            Assert.Contains("503", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Empty(second.Logs.Errors);
        using var stale = await first.Http.GetAsync(Versions);
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("110", stale.Headers.GetValues("Warning").Single(), StringComparison.Ordinal);
    }
}
