using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// A loopback npm registry serving the packuments and tarballs recorded in testdata/feed (see its README). Tarball
/// URLs point back at it; versions listed in <see cref="Ages"/> get a <c>time</c> that far before now, so the
/// minimum-release-age rule can be tested against recorded data.
/// </summary>
internal sealed class UpstreamFixture : IAsyncDisposable
{
    private readonly WebApplication _app;

    private UpstreamFixture(WebApplication app) => _app = app;

    public static string DataFolder => Path.Combine(AppContext.BaseDirectory, "testdata", "feed");

    /// <summary>Every request target the fixture received, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The most packument requests the fixture was answering at the same time.</summary>
    public int MostPackumentRequestsAtOnce => Volatile.Read(ref _mostPackumentRequests);

    private int _packumentRequests;
    private int _mostPackumentRequests;

    /// <summary>Request headers of packument requests, by target (the last one wins).</summary>
    public ConcurrentDictionary<string, string> IfNoneMatch { get; } = new();

    /// <summary>"name@version" to how long before now it was published.</summary>
    public ConcurrentDictionary<string, TimeSpan> Ages { get; } = new();

    /// <summary>When set, packuments are sent without an ETag and every conditional request gets the whole document (200).</summary>
    public bool NoValidators { get; set; }

    /// <summary>Added to every packument's ETag: an upstream that starts naming the same bytes with a new ETag.</summary>
    public string ETagSuffix { get; set; } = "";

    /// <summary>When set, every request answers 503.</summary>
    public bool Down { get; set; }

    /// <summary>When set, tarballs are served with one byte changed.</summary>
    public bool Tamper { get; set; }

    /// <summary>Delay before answering a tarball (to make requests overlap).</summary>
    public TimeSpan TarballDelay { get; set; }

    /// <summary>
    /// Request paths (decoded, without the leading '/': "ms", "ms/-/ms-2.1.2.tgz") answered only after this delay,
    /// or never if the feed gives up first.
    /// </summary>
    public ConcurrentDictionary<string, TimeSpan> Delays { get; } = new();

    /// <summary>
    /// When set, decides a fault for each request by its path (unescaped, without the leading '/'): the fault-injecting
    /// upstream of the load and fault tests.
    /// </summary>
    public Func<string, UpstreamFault>? Fault { get; set; }

    /// <summary>When set, packuments name tarballs on this base URL instead of the fixture's own.</summary>
    public Uri? TarballOrigin { get; set; }

    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<UpstreamFixture> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fixture = new UpstreamFixture(app);
        app.Run(fixture.Handle);
        await app.StartAsync();
        fixture.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return fixture;
    }

    private async Task Handle(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        Requests.Enqueue(target);
        if (target.Contains("/-/", StringComparison.Ordinal))
        {
            await Answer(context, target);
            return;
        }
        var now = Interlocked.Increment(ref _packumentRequests);
        for (var most = Volatile.Read(ref _mostPackumentRequests); now > most; most = Volatile.Read(ref _mostPackumentRequests))
        {
            Interlocked.CompareExchange(ref _mostPackumentRequests, now, most);
        }
        try
        {
            await Answer(context, target);
        }
        finally
        {
            Interlocked.Decrement(ref _packumentRequests);
        }
    }

    private async Task Answer(HttpContext context, string target)
    {
        if (Down)
        {
            context.Response.StatusCode = 503;
            return;
        }
        var path = Uri.UnescapeDataString(target.TrimStart('/'));
        var fault = Fault?.Invoke(path) ?? UpstreamFault.None;
        if (fault == UpstreamFault.ServerError)
        {
            context.Response.StatusCode = 503;
            return;
        }
        if (fault == UpstreamFault.NotFound)
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (fault == UpstreamFault.Reset)
        {
            context.Abort();
            return;
        }
        if (fault != UpstreamFault.None)
        {
            await WriteFaulty(context, path, fault);
            return;
        }
        if (Delays.TryGetValue(path, out var delay))
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        var dash = path.IndexOf("/-/", StringComparison.Ordinal);
        if (dash < 0)
        {
            var file = Path.Combine(DataFolder, "packuments", path.TrimStart('@').Replace("/", "__", StringComparison.Ordinal) + ".json");
            if (!File.Exists(file))
            {
                context.Response.StatusCode = 404;
                return;
            }
            var etag = "\"fixture-" + Path.GetFileNameWithoutExtension(file) + "-" + string.Join(",", Ages.Select(a => a.Key + a.Value)) + ETagSuffix + "\"";
            IfNoneMatch[path] = context.Request.Headers.IfNoneMatch.ToString();
            if (!NoValidators && context.Request.Headers.IfNoneMatch == etag)
            {
                context.Response.StatusCode = 304;
                return;
            }
            var doc = JsonNode.Parse(await File.ReadAllBytesAsync(file))!.AsObject();
            foreach (var (version, manifest) in doc["versions"]!.AsObject())
            {
                var dist = manifest!["dist"]!.AsObject();
                var name = doc["name"]!.GetValue<string>();
                var tarballFile = new Uri(dist["tarball"]!.GetValue<string>()).Segments[^1];
                dist["tarball"] = $"{TarballOrigin ?? BaseUrl}{name}/-/{tarballFile}";
                if (Ages.TryGetValue($"{name}@{version}", out var age))
                {
                    doc["time"]![version] = (DateTimeOffset.UtcNow - age).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                }
            }
            if (!NoValidators)
            {
                context.Response.Headers.ETag = etag;
            }
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(doc.ToJsonString(), Encoding.UTF8);
            return;
        }
        var packageName = path[..dash];
        var tarball = path[(dash + 3)..];
        var local = Path.Combine(DataFolder, "tarballs",
            (packageName.StartsWith('@') ? packageName[1..packageName.IndexOf('/', StringComparison.Ordinal)] + "-" : "") + tarball);
        if (!File.Exists(local))
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (TarballDelay > TimeSpan.Zero)
        {
            await Task.Delay(TarballDelay);
        }
        var bytes = await File.ReadAllBytesAsync(local);
        if (Tamper)
        {
            bytes[^1] ^= 0xFF;
        }
        context.Response.ContentType = "application/octet-stream";
        await context.Response.Body.WriteAsync(bytes);
    }

    /// <summary>
    /// A body that goes wrong: cut short after half of the declared length, one byte flipped (tarballs), or sent a byte
    /// every 100 ms (slower than any upstream timeout of the tests). Packuments are the fixture's file as it is.
    /// </summary>
    private async Task WriteFaulty(HttpContext context, string path, UpstreamFault fault)
    {
        var dash = path.IndexOf("/-/", StringComparison.Ordinal);
        var file = dash < 0
            ? Path.Combine(DataFolder, "packuments", path.TrimStart('@').Replace("/", "__", StringComparison.Ordinal) + ".json")
            : Path.Combine(DataFolder, "tarballs", path[(dash + 3)..]);
        if (!File.Exists(file))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var bytes = await File.ReadAllBytesAsync(file);
        context.Response.ContentType = dash < 0 ? "application/json" : "application/octet-stream";
        context.Response.ContentLength = bytes.Length;
        try
        {
            switch (fault)
            {
                case UpstreamFault.Truncate:
                    await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    context.Abort();
                    break;
                case UpstreamFault.Tamper:
                    bytes[^1] ^= 0xFF;
                    await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
                    break;
                case UpstreamFault.SlowDrip:
                    foreach (var b in bytes)
                    {
                        await context.Response.Body.WriteAsync(new[] { b }, context.RequestAborted);
                        await context.Response.Body.FlushAsync(context.RequestAborted);
                        await Task.Delay(100, context.RequestAborted);
                    }
                    break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The feed gave up on the drip or the reset body: that is the point.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>What the fault-injecting upstream does with a request.</summary>
internal enum UpstreamFault
{
    None,
    /// <summary>503.</summary>
    ServerError,
    /// <summary>404, as for a package the registry does not have (or no longer has).</summary>
    NotFound,
    /// <summary>The connection is dropped before any answer.</summary>
    Reset,
    /// <summary>Half of the declared body, then the connection is dropped.</summary>
    Truncate,
    /// <summary>A tarball with one byte changed (its hash no longer matches the packument).</summary>
    Tamper,
    /// <summary>A byte every 100 ms.</summary>
    SlowDrip,
}
