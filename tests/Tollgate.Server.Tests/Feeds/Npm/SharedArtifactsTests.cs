using System.Net;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// Two feed instances over one Azure Blob container (Azurite, Microsoft's storage emulator, from tests/tools/azurite on
/// 127.0.0.1): what one downloaded from the upstream and verified, the other serves without asking the upstream; a
/// shared copy that does not match the hashes the package's metadata declares (packument, registration, index page) is
/// never served. npm tarballs, NuGet packages and PyPI files.
/// </summary>
public sealed class SharedArtifactsTests
{
    /// <summary>A Blob endpoint where nothing listens (port 9 of the loopback address).</summary>
    private const string Nowhere = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteServer.DevAccountKey};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;";

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
    public async Task PyPI_TwoInstances_OneDownloadsAndShares_TheOtherServesWithoutUpstream_AndAPlantedSharedCopyIsNotServed()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var container = "pypi-" + Guid.NewGuid().ToString("N")[..8];
        FeedOptions Shared(FeedOptions o) => o with { SharedArtifacts = container, SharedArtifactsConnectionString = azurite.ConnectionString };
        // Each instance has its own loopback index serving the same files: what the second asks its upstream is counted there.
        await using var first = await PyPI.PyPIFeedEnvironment.StartAsync(configure: Shared);
        await using var second = await PyPI.PyPIFeedEnvironment.StartAsync(configure: Shared);
        const string Wheel100 = "tollgate_fixture_ok-1.0.0-py3-none-any.whl";
        const string Wheel110 = "tollgate_fixture_ok-1.1.0-py3-none-any.whl";
        static byte[] Dist(string file) => File.ReadAllBytes(Path.Combine(PyPI.PyPIIndexFixture.Dists, file));
        static int FileDownloads(PyPI.PyPIFeedEnvironment env) => env.Index.Requests.Count(r => r.StartsWith("/packages/", StringComparison.Ordinal));

        // The first instance downloads the wheel and its PEP 658 metadata from its upstream, verifies both, and shares them.
        Assert.Equal(Dist(Wheel100), await first.Http.GetByteArrayAsync($"/pypi/files/tollgate-fixture-ok/{Wheel100}"));
        Assert.Equal(PyPI.PyPIIndexFixture.Metadata(Path.Combine(PyPI.PyPIIndexFixture.Dists, Wheel100)),
            await first.Http.GetByteArrayAsync($"/pypi/files/tollgate-fixture-ok/{Wheel100}.metadata"));
        Assert.Equal(2, FileDownloads(first));
        var blobs = new BlobContainerClient(azurite.ConnectionString, container);
        var names = new List<string>();
        await foreach (var blob in blobs.GetBlobsAsync())
        {
            names.Add(blob.Name);
        }
        names.Sort(StringComparer.Ordinal);
        Assert.Equal([$"pypi/files/tollgate-fixture-ok/{Wheel100}", $"pypi/files/tollgate-fixture-ok/{Wheel100}.metadata"], names);

        // The second instance takes both from the container: the same bytes, no file request to its upstream.
        Assert.Equal(Dist(Wheel100), await second.Http.GetByteArrayAsync($"/pypi/files/tollgate-fixture-ok/{Wheel100}"));
        Assert.Equal(PyPI.PyPIIndexFixture.Metadata(Path.Combine(PyPI.PyPIIndexFixture.Dists, Wheel100)),
            await second.Http.GetByteArrayAsync($"/pypi/files/tollgate-fixture-ok/{Wheel100}.metadata"));
        Assert.Equal(0, FileDownloads(second));

        // Other bytes (a real wheel of another version) planted under 1.1.0's key do not match the sha256 the index
        // declares: not served, not kept, reported; the real file comes from the upstream.
        await blobs.GetBlobClient($"pypi/files/tollgate-fixture-ok/{Wheel110}").UploadAsync(new BinaryData(Dist(Wheel100)));
        using (var planted = await second.Http.GetAsync($"/pypi/files/tollgate-fixture-ok/{Wheel110}"))
        {
            Assert.Equal(HttpStatusCode.OK, planted.StatusCode);
            Assert.Equal(Dist(Wheel110), await planted.Content.ReadAsByteArrayAsync());
        }
        Assert.Single(second.Index.Requests, r => r == $"/packages/{Wheel110}");
        Assert.Equal(Dist(Wheel110), await File.ReadAllBytesAsync(Path.Combine(second.Storage, "pypi", "files", "tollgate-fixture-ok", Wheel110)));
        Assert.Contains(second.Logs.Lines, l => l.Contains($"the shared copy of pypi/files/tollgate-fixture-ok/{Wheel110} does not match", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PyPI_PipInstallThroughTheSecondInstance_TakesTheFilesFromTheContainer()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var container = "pypi-" + Guid.NewGuid().ToString("N")[..8];
        FeedOptions Shared(FeedOptions o) => o with { SharedArtifacts = container, SharedArtifactsConnectionString = azurite.ConnectionString };
        await using var first = await PyPI.PyPIFeedEnvironment.StartAsync(configure: Shared);
        await using var second = await PyPI.PyPIFeedEnvironment.StartAsync(configure: Shared);
        string[] Install(PyPI.PyPIFeedEnvironment env) => ["install", "--index-url", env.IndexUrl, "--target", "{work}/site", "--no-deps", "tollgate-fixture-ok==1.0.0"];

        var one = await first.PipAsync(Install(first));
        Assert.True(one.ExitCode == 0, one.Output);
        Assert.Contains(first.Index.Requests, r => r == "/packages/tollgate_fixture_ok-1.0.0-py3-none-any.whl");

        var two = await second.PipAsync(Install(second));
        Assert.True(two.ExitCode == 0, two.Output);
        Assert.Equal("1.0.0", two.Installed("tollgate_fixture_ok"));
        Assert.DoesNotContain(second.Index.Requests, r => r.StartsWith("/packages/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PyPI_SharedStoreUnreachable_TheInstanceStillServesFromTheUpstream()
    {
        await using var feed = await PyPI.PyPIFeedEnvironment.StartAsync(configure: o => o with { SharedArtifacts = "pypi", SharedArtifactsConnectionString = Nowhere });
        const string Wheel = "tollgate_fixture_ok-1.0.0-py3-none-any.whl";

        using var response = await feed.Http.GetAsync($"/pypi/files/tollgate-fixture-ok/{Wheel}");

        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join("\n", feed.Logs.Lines));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(PyPI.PyPIIndexFixture.Dists, Wheel)), await response.Content.ReadAsByteArrayAsync());
        Assert.Single(feed.Index.Requests, r => r == $"/packages/{Wheel}");
        Assert.Contains(feed.Logs.Lines, l => l.Contains($"the shared artifact store could not be used for pypi/files/tollgate-fixture-ok/{Wheel}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SharedStoreUnreachable_TheInstanceStillServesFromTheUpstream()
    {
        await using var upstream = await UpstreamFixture.StartAsync();
        await using var feed = await FeedEnvironment.StartAsync(configure: o => o with { Upstream = upstream.BaseUrl, SharedArtifacts = "tarballs", SharedArtifactsConnectionString = Nowhere });

        using var response = await feed.Http.GetAsync("ms/-/ms-2.1.3.tgz");

        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join("\n", feed.Logs.Lines));
        Assert.Equal(Sha512Of("ms-2.1.3.tgz"), Convert.ToHexString(SHA512.HashData(await response.Content.ReadAsByteArrayAsync())));
        Assert.Contains(feed.Logs.Lines, l => l.Contains("the shared artifact store could not be used", StringComparison.Ordinal));
    }
}
