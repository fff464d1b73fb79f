using System.Net;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// Two feed instances over one Azure Blob container (Azurite, Microsoft's storage emulator, from tests/tools/azurite on
/// 127.0.0.1) and one upstream: what one downloaded and verified, the other serves without asking the upstream; a
/// shared copy that does not match the packument is never served.
/// </summary>
public sealed class SharedArtifactsTests
{
    private static string Sha512Of(string file) => Convert.ToHexString(SHA512.HashData(File.ReadAllBytes(Path.Combine(UpstreamFixture.DataFolder, "tarballs", file))));

    [Fact]
    public async Task TwoInstances_OneDownloadsAndShares_TheOtherServesWithoutUpstream_AndATamperedSharedCopyIsNotServed()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await using var upstream = await UpstreamFixture.StartAsync();
        var container = "tarballs-" + Guid.NewGuid().ToString("N")[..8];
        FeedOptions Shared(FeedOptions o) => o with { Upstream = upstream.BaseUrl, SharedArtifacts = container, SharedArtifactsConnectionString = azurite.ConnectionString };
        await using var first = await FeedEnvironment.StartAsync(configure: Shared);
        await using var second = await FeedEnvironment.StartAsync(configure: Shared);

        // The first instance downloads from the upstream, verifies, and shares.
        using (var a = await first.Http.GetAsync("ms/-/ms-2.1.3.tgz"))
        {
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        }
        Assert.Equal(1, first.Feed.UpstreamTarballDownloads);
        var blobs = new BlobContainerClient(azurite.ConnectionString, container);
        var names = new List<string>();
        await foreach (var blob in blobs.GetBlobsAsync())
        {
            names.Add(blob.Name);
        }
        Assert.Equal(["tarballs/ms/ms-2.1.3.tgz"], names);

        // The second instance has it from the container: the same bytes, no upstream tarball request.
        var tarballRequestsBefore = upstream.Requests.Count(r => r.EndsWith(".tgz", StringComparison.Ordinal));
        using (var b = await second.Http.GetAsync("ms/-/ms-2.1.3.tgz"))
        {
            Assert.Equal(HttpStatusCode.OK, b.StatusCode);
            Assert.Equal(Sha512Of("ms-2.1.3.tgz"), Convert.ToHexString(SHA512.HashData(await b.Content.ReadAsByteArrayAsync())));
        }
        Assert.Equal(0, second.Feed.UpstreamTarballDownloads);
        Assert.Equal(tarballRequestsBefore, upstream.Requests.Count(r => r.EndsWith(".tgz", StringComparison.Ordinal)));

        // Someone with write access to the container plants other bytes under another tarball's name: the instance
        // that finds them checks them against the packument, does not serve them, and downloads the real tarball.
        var planted = await File.ReadAllBytesAsync(Path.Combine(UpstreamFixture.DataFolder, "tarballs", "ms-2.1.3.tgz"));
        await blobs.GetBlobClient("tarballs/ms/ms-2.1.2.tgz").UploadAsync(new BinaryData(planted));
        using (var c = await second.Http.GetAsync("ms/-/ms-2.1.2.tgz"))
        {
            Assert.Equal(HttpStatusCode.OK, c.StatusCode);
            Assert.Equal(Sha512Of("ms-2.1.2.tgz"), Convert.ToHexString(SHA512.HashData(await c.Content.ReadAsByteArrayAsync())));
        }
        Assert.Equal(1, second.Feed.UpstreamTarballDownloads);
        Assert.Contains(second.Logs.Lines, l => l.Contains("the shared copy of tarballs/ms/ms-2.1.2.tgz does not match its package's declared hashes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NuGet_TwoInstances_OneDownloadsAndShares_TheOtherServesWithoutUpstream_AndATamperedSharedCopyIsNotServed()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await using var source = await NuGet.NuGetSourceFixture.StartAsync();
        source.DeclareHashes = true;
        var container = "packages-" + Guid.NewGuid().ToString("N")[..8];
        FeedOptions Shared(FeedOptions o) => o with { NuGetUpstream = source.ServiceIndex, SharedArtifacts = container, SharedArtifactsConnectionString = azurite.ConnectionString };
        await using var first = await NuGet.NuGetFeedEnvironment.StartAsync(configure: Shared);
        await using var second = await NuGet.NuGetFeedEnvironment.StartAsync(configure: Shared);
        const string Path100 = "/nuget/v3/flatcontainer/tollgate.fixture.ok/1.0.0/tollgate.fixture.ok.1.0.0.nupkg";
        int Downloads(string file) => source.Requests.Count(r => r.EndsWith(file, StringComparison.Ordinal));
        var expected = await File.ReadAllBytesAsync(Path.Combine(NuGet.NuGetSourceFixture.Packages, "Tollgate.Fixture.Ok.1.0.0.nupkg"));

        Assert.Equal(expected, await first.Http.GetByteArrayAsync(Path100));
        Assert.Equal(1, Downloads("tollgate.fixture.ok.1.0.0.nupkg"));
        Assert.Equal(expected, await second.Http.GetByteArrayAsync(Path100));
        Assert.Equal(1, Downloads("tollgate.fixture.ok.1.0.0.nupkg"));

        // Other bytes planted under another version's name are checked against its declared SHA512 and not served.
        var blobs = new BlobContainerClient(azurite.ConnectionString, container);
        await blobs.GetBlobClient("nuget/packages/tollgate.fixture.ok/1.1.0/tollgate.fixture.ok.1.1.0.nupkg").UploadAsync(new BinaryData(expected));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(NuGet.NuGetSourceFixture.Packages, "Tollgate.Fixture.Ok.1.1.0.nupkg")),
            await second.Http.GetByteArrayAsync("/nuget/v3/flatcontainer/tollgate.fixture.ok/1.1.0/tollgate.fixture.ok.1.1.0.nupkg"));
        Assert.Equal(1, Downloads("tollgate.fixture.ok.1.1.0.nupkg"));
        Assert.Contains(second.Logs.Lines, l => l.Contains("the shared copy of nuget/packages/tollgate.fixture.ok/1.1.0/tollgate.fixture.ok.1.1.0.nupkg does not match", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SharedStoreUnreachable_TheInstanceStillServesFromTheUpstream()
    {
        await using var upstream = await UpstreamFixture.StartAsync();
        // Nothing listens on port 9 of the loopback address.
        const string Nowhere = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteServer.DevAccountKey};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;";
        await using var feed = await FeedEnvironment.StartAsync(configure: o => o with { Upstream = upstream.BaseUrl, SharedArtifacts = "tarballs", SharedArtifactsConnectionString = Nowhere });

        using var response = await feed.Http.GetAsync("ms/-/ms-2.1.3.tgz");

        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join("\n", feed.Logs.Lines));
        Assert.Equal(Sha512Of("ms-2.1.3.tgz"), Convert.ToHexString(SHA512.HashData(await response.Content.ReadAsByteArrayAsync())));
        Assert.Contains(feed.Logs.Lines, l => l.Contains("the shared artifact store could not be used", StringComparison.Ordinal));
    }
}
