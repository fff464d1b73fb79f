using System.IO.Compression;
using System.Net;
using Tollgate.Server.Tests.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.NuGet;

/// <summary>The NuGet routes' finished answers: built once per change of their inputs, served as bytes with strong ETags, changed exactly when a version comes of age.</summary>
public sealed class ListingCachingTests
{
    private const string Versions = "/nuget/v3/flatcontainer/tollgate.fixture.ok/index.json";
    private const string Registration = "/nuget/v3/registration/tollgate.fixture.ok/index.json";

    private static async Task<HttpResponseMessage> Get(NuGetFeedEnvironment env, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        return await env.Http.SendAsync(request);
    }

    [Theory]
    [InlineData(Versions)]
    [InlineData(Registration)]
    public async Task Listing_Repeated_SameBytesStrongETag304AndPrecompressedGzip(string path)
    {
        await using var env = await NuGetFeedEnvironment.StartAsync();
        using var first = await Get(env, path);
        using var second = await Get(env, path);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.Equal(etag, second.Headers.ETag);
        var body = await first.Content.ReadAsByteArrayAsync();
        Assert.Equal(body, await second.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/json", first.Content.Headers.ContentType!.MediaType);

        using var revalidated = await Get(env, path, r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);

        using var gzip = await Get(env, path, r => r.Headers.AcceptEncoding.ParseAdd("gzip"));
        Assert.Equal("gzip", gzip.Content.Headers.ContentEncoding.Single());
        using var decoded = new MemoryStream();
        using (var input = new GZipStream(new MemoryStream(await gzip.Content.ReadAsByteArrayAsync()), CompressionMode.Decompress))
        {
            await input.CopyToAsync(decoded);
        }
        Assert.Equal(body, decoded.ToArray());
    }

    [Fact]
    public async Task HiddenVersionComesOfAge_ServedAtTheBoundaryAndTheRegistrationChanges()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var env = await NuGetFeedEnvironment.StartAsync(
            configure: o => o with { PackumentTtl = TimeSpan.FromDays(1) },
            prepare: s => s.Ages["Tollgate.Fixture.Ok/1.1.0"] = TimeSpan.FromHours(71),
            time: clock);
        const string package = "/nuget/v3/flatcontainer/tollgate.fixture.ok/1.1.0/tollgate.fixture.ok.1.1.0.nupkg";
        using var before = await Get(env, Registration);
        var etag = before.Headers.ETag!;
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(env, package)).StatusCode);

        clock.Advance(TimeSpan.FromMinutes(59));
        using var still = await Get(env, Registration, r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.NotModified, still.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(env, package)).StatusCode);

        clock.Advance(TimeSpan.FromMinutes(2));
        using var after = await Get(env, Registration, r => r.Headers.IfNoneMatch.Add(etag));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.NotEqual(etag, after.Headers.ETag);
        Assert.Equal(HttpStatusCode.OK, (await Get(env, package)).StatusCode);
    }
}
