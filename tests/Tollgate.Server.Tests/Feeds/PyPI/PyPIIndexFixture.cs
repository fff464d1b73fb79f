using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
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
using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;

namespace Tollgate.Server.Tests.Feeds.PyPI;

/// <summary>
/// A loopback PEP 503/691 index serving the distributions in testdata/pypi/dists (see its README): project pages as
/// JSON or HTML by Accept, files under /packages/, PEP 658 metadata for wheels. Every file was uploaded at
/// <see cref="UploadTime"/> unless <see cref="Ages"/> says otherwise.
/// </summary>
internal sealed class PyPIIndexFixture : IAsyncDisposable
{
    public static readonly DateTimeOffset UploadTime = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;

    private PyPIIndexFixture(WebApplication app) => _app = app;

    public static string DataFolder => Path.Combine(AppContext.BaseDirectory, "testdata", "pypi");

    public static string Dists => Path.Combine(DataFolder, "dists");

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Answer pages without an entity tag, always 200 (some mirrors and static indexes do).</summary>
    public bool NoValidators { get; set; }

    /// <summary>"name==version" to how long before now its files were uploaded.</summary>
    public ConcurrentDictionary<string, TimeSpan> Ages { get; } = new();

    /// <summary>When set, every request answers 503.</summary>
    public bool Down { get; set; }

    /// <summary>When set, files are served with one byte changed.</summary>
    public bool Tamper { get; set; }

    /// <summary>When set, files are served cut short (the connection closes after half).</summary>
    public bool Truncate { get; set; }

    /// <summary>When set, project pages are PEP 503 HTML whatever the client accepts (an index without PEP 691).</summary>
    public bool HtmlOnly { get; set; }

    /// <summary>How long every project page waits before it answers.</summary>
    public TimeSpan PageDelay { get; set; }

    /// <summary>Project name to the <c>If-None-Match</c> its last page request carried ("" for none).</summary>
    public ConcurrentDictionary<string, string> IfNoneMatch { get; } = new(StringComparer.Ordinal);

    /// <summary>"name==version" to the PEP 592 reason its files are yanked with.</summary>
    public ConcurrentDictionary<string, string> Yanked { get; } = new();

    /// <summary>The index URL (ends in /simple/).</summary>
    public Uri IndexUrl { get; private set; } = null!;

    public static async Task<PyPIIndexFixture> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fixture = new PyPIIndexFixture(app);
        app.Run(fixture.Handle);
        await app.StartAsync();
        fixture.IndexUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/simple/");
        return fixture;
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static byte[] Metadata(string wheel)
    {
        using var zip = ZipFile.OpenRead(wheel);
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal)).Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private async Task Handle(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        Requests.Enqueue(target);
        if (Down)
        {
            context.Response.StatusCode = 503;
            return;
        }
        var path = Uri.UnescapeDataString(target);
        if (path.StartsWith("/simple/", StringComparison.Ordinal))
        {
            var name = path["/simple/".Length..].TrimEnd('/');
            var files = Directory.GetFiles(Dists).Where(f => PyPIDistribution.Parse(Path.GetFileName(f)) is { } d && d.BelongsTo(name)).Order().ToList();
            if (files.Count == 0)
            {
                context.Response.StatusCode = 404;
                return;
            }
            if (PageDelay > TimeSpan.Zero)
            {
                await Task.Delay(PageDelay, context.RequestAborted);
            }
            var json = !HtmlOnly && context.Request.Headers.Accept.ToString().Contains("application/vnd.pypi.simple.v1+json", StringComparison.Ordinal);
            var array = new JsonArray();
            var html = new StringBuilder($"<!DOCTYPE html><html><body><h1>Links for {name}</h1>\n");
            foreach (var file in files)
            {
                var fileName = Path.GetFileName(file);
                var distribution = PyPIDistribution.Parse(fileName)!;
                var bytes = await File.ReadAllBytesAsync(file);
                var key = $"{Component.NormalizePyPIName(distribution.Project)}=={distribution.Version}";
                var uploaded = Ages.TryGetValue(key, out var age) ? DateTimeOffset.UtcNow - age : UploadTime;
                var yanked = Yanked.TryGetValue(key, out var reason) ? reason : null;
                var entry = new JsonObject
                {
                    ["filename"] = fileName,
                    ["url"] = $"../../packages/{fileName}",
                    ["hashes"] = new JsonObject { ["sha256"] = Sha256(bytes) },
                    ["requires-python"] = ">=3.8",
                    ["upload-time"] = uploaded.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                    ["size"] = bytes.Length,
                    ["yanked"] = yanked is null ? (JsonNode)false : yanked,
                };
                var metadataAttribute = yanked is null ? "" : $" data-yanked=\"{WebUtility.HtmlEncode(yanked)}\"";
                if (distribution.IsWheel)
                {
                    var metadataHash = Sha256(Metadata(file));
                    entry["core-metadata"] = new JsonObject { ["sha256"] = metadataHash };
                    metadataAttribute += $" data-core-metadata=\"sha256={metadataHash}\"";
                }
                array.Add(entry);
                html.Append(CultureInfo.InvariantCulture, $"<a href=\"../../packages/{fileName}#sha256={Sha256(bytes)}\" data-requires-python=\"{WebUtility.HtmlEncode(">=3.8")}\"{metadataAttribute}>{fileName}</a><br/>\n");
            }
            var page = json
                ? new JsonObject { ["meta"] = new JsonObject { ["api-version"] = "1.1" }, ["name"] = name, ["files"] = array }.ToJsonString()
                : html.Append("</body></html>").ToString();
            // A strong entity tag of the page's bytes, and 304 when the client already holds them, as a real index does.
            var etag = $"\"{Sha256(Encoding.UTF8.GetBytes(page))[..16]}\"";
            IfNoneMatch[name] = context.Request.Headers.IfNoneMatch.ToString();
            if (!NoValidators)
            {
                context.Response.Headers.ETag = etag;
            }
            if (!NoValidators && context.Request.Headers.IfNoneMatch == etag)
            {
                context.Response.StatusCode = 304;
                return;
            }
            context.Response.ContentType = json ? "application/vnd.pypi.simple.v1+json" : "text/html";
            await context.Response.WriteAsync(page);
            return;
        }
        if (path.StartsWith("/packages/", StringComparison.Ordinal))
        {
            var fileName = path["/packages/".Length..];
            var metadata = fileName.EndsWith(".metadata", StringComparison.Ordinal);
            var local = Path.Combine(Dists, metadata ? fileName[..^9] : fileName);
            if (fileName.Contains('/', StringComparison.Ordinal) || !File.Exists(local))
            {
                context.Response.StatusCode = 404;
                return;
            }
            var bytes = metadata ? Metadata(local) : await File.ReadAllBytesAsync(local);
            if (Tamper)
            {
                bytes[^1] ^= 0xFF;
            }
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = bytes.Length;
            if (Truncate)
            {
                await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            }
            await context.Response.Body.WriteAsync(bytes);
            return;
        }
        context.Response.StatusCode = 404;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
