using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Server.Storage;

namespace Tollgate.Server.Tests.Storage;

/// <summary>
/// The one-copy body writer, through a real Kestrel on loopback: bodies larger than one output chunk, empty bodies,
/// <c>HEAD</c>, a slow reader and a reader that goes away.
/// </summary>
public sealed class ResponseBodyTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tollgate-body-").FullName;
    private readonly byte[] _large = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 123);
    private WebApplication? _app;
    private HttpClient _http = null!;
    private int _failures;

    public async Task InitializeAsync()
    {
        await File.WriteAllBytesAsync(Path.Combine(_folder, "large"), _large);
        await File.WriteAllBytesAsync(Path.Combine(_folder, "empty"), []);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(async context =>
        {
            try
            {
                var path = context.Request.Path.Value!;
                context.Response.ContentType = "application/octet-stream";
                await (path switch
                {
                    "/memory/large" => ResponseBody.WriteAsync(context, _large),
                    "/memory/empty" => ResponseBody.WriteAsync(context, Array.Empty<byte>()),
                    _ => ResponseBody.WriteFileAsync(context, Path.Combine(_folder, path["/file/".Length..])),
                });
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The client went away: what Kestrel's own writers throw as well.
            }
            catch
            {
                Interlocked.Increment(ref _failures);
                throw;
            }
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData("/memory/large")]
    [InlineData("/file/large")]
    public async Task Get_BodyOfSeveralChunks_EveryByteWithItsLength(string path)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_large.Length, response.Content.Headers.ContentLength);
        Assert.Equal(_large, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/memory/empty")]
    [InlineData("/file/empty")]
    public async Task Get_EmptyBody_ZeroLength(string path)
    {
        using var response = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/memory/large")]
    [InlineData("/file/large")]
    public async Task Head_LengthWithoutBody(string path)
    {
        using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_large.Length, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/memory/large")]
    [InlineData("/file/large")]
    public async Task SlowReader_GetsEveryByte_AReaderThatLeavesDoesNotHurtTheNext(string path)
    {
        using (var slow = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead))
        {
            await using var stream = await slow.Content.ReadAsStreamAsync();
            using var received = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, n);
                await Task.Delay(2);
            }
            Assert.Equal(_large, received.ToArray());
        }
        using (var leaving = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead))
        {
            await using var stream = await leaving.Content.ReadAsStreamAsync();
            await stream.ReadExactlyAsync(new byte[100 * 1024]);
        }
        using var next = await _http.GetAsync(path);
        Assert.Equal(_large, await next.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, _failures);
    }
}
