using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tollgate.Server.Tests.Feeds.NuGet;

/// <summary>
/// A loopback NuGet V3 source serving the packages in testdata/nuget/packages and testdata/nuget/recorded (see its README): a service index,
/// registrations with every version inlined (<c>published</c> 2024-03-01 unless <see cref="Ages"/> says otherwise,
/// <c>listed</c>, a deprecation where <see cref="Deprecations"/> gives one) and a flat container.
/// </summary>
internal sealed class NuGetSourceFixture : IAsyncDisposable
{
    public static readonly DateTimeOffset Published = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;
    private readonly List<(string Id, string Version, string File)> _packages;

    private NuGetSourceFixture(WebApplication app)
    {
        _app = app;
        _packages = [.. Directory.GetFiles(Packages, "*.nupkg").Concat(Directory.GetFiles(Recorded, "*.nupkg")).Order(StringComparer.Ordinal).Select(f =>
        {
            using var zip = ZipFile.OpenRead(f);
            using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
            var metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            return (metadata.Elements().Single(e => e.Name.LocalName == "id").Value, metadata.Elements().Single(e => e.Name.LocalName == "version").Value, f);
        })];
    }

    public static string DataFolder => Path.Combine(AppContext.BaseDirectory, "testdata", "nuget");

    public static string Packages => Path.Combine(DataFolder, "packages");

    /// <summary>Real packages recorded from a NuGet source (see testdata/nuget/README.md): a C# MCP server's dependencies.</summary>
    public static string Recorded => Path.Combine(DataFolder, "recorded");

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Request path to the <c>If-None-Match</c> its last JSON request carried ("" for none).</summary>
    public ConcurrentDictionary<string, string> IfNoneMatch { get; } = new(StringComparer.Ordinal);

    /// <summary>"Id/version" to how long before now it was published.</summary>
    public ConcurrentDictionary<string, TimeSpan> Ages { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>"Id/version" to a deprecation message the registration carries (reason "Legacy").</summary>
    public ConcurrentDictionary<string, string> Deprecations { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When set, every request answers 503.</summary>
    public bool Down { get; set; }

    /// <summary>When set, packages are served with the zip's central directory offset changed.</summary>
    public bool Tamper { get; set; }

    /// <summary>When set, registrations declare each package's SHA512 (<c>packageHash</c>), as catalog entries do.</summary>
    public bool DeclareHashes { get; set; }

    /// <summary>When set, the declared SHA512 is of other bytes.</summary>
    public bool WrongHashes { get; set; }

    /// <summary>The service index URL.</summary>
    public Uri ServiceIndex { get; private set; } = null!;

    private string Root => ServiceIndex.AbsoluteUri[..^"v3/index.json".Length];

    public static async Task<NuGetSourceFixture> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fixture = new NuGetSourceFixture(app);
        app.Run(fixture.Handle);
        await app.StartAsync();
        fixture.ServiceIndex = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/v3/index.json");
        return fixture;
    }

    /// <summary>Requests received that mention <paramref name="text"/> (case-insensitive).</summary>
    public IEnumerable<string> RequestsFor(string text) => Requests.Where(r => r.Contains(text, StringComparison.OrdinalIgnoreCase));

    private async Task Handle(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        Requests.Enqueue(target);
        if (Down)
        {
            context.Response.StatusCode = 503;
            return;
        }
        var segments = target.Trim('/').Split('/');
        switch (segments)
        {
            case ["v3", "index.json"]:
                await Json(context, new JsonObject
                {
                    ["version"] = "3.0.0",
                    ["resources"] = new JsonArray(
                        new JsonObject { ["@id"] = Root + "v3-flatcontainer/", ["@type"] = "PackageBaseAddress/3.0.0" },
                        new JsonObject { ["@id"] = Root + "v3/registration5-gz-semver2/", ["@type"] = "RegistrationsBaseUrl/3.6.0" }),
                });
                return;
            case ["v3", "registration5-gz-semver2", var id, "index.json"]:
                var leaves = new JsonArray();
                // Newest file first: the feed must order versions itself.
                foreach (var p in Of(id).Reverse())
                {
                    leaves.Add(Leaf(p.Id, p.Version));
                }
                if (leaves.Count == 0)
                {
                    context.Response.StatusCode = 404;
                    return;
                }
                await Json(context, new JsonObject
                {
                    ["@id"] = $"{Root}v3/registration5-gz-semver2/{id}/index.json",
                    ["count"] = 1,
                    ["items"] = new JsonArray(new JsonObject { ["@id"] = $"{Root}v3/registration5-gz-semver2/{id}/index.json#page", ["count"] = leaves.Count, ["items"] = leaves }),
                });
                return;
            case ["v3-flatcontainer", var id, "index.json"]:
                var versions = new JsonArray();
                foreach (var p in Of(id))
                {
                    versions.Add(JsonValue.Create(p.Version.ToLowerInvariant()));
                }
                if (versions.Count == 0)
                {
                    context.Response.StatusCode = 404;
                    return;
                }
                await Json(context, new JsonObject { ["versions"] = versions });
                return;
            case ["v3-flatcontainer", var id, var version, var file]:
                var package = Of(id).FirstOrDefault(p => string.Equals(p.Version, version, StringComparison.OrdinalIgnoreCase));
                if (package.File is null || !string.Equals(file, $"{id}.{version}.nupkg", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.StatusCode = 404;
                    return;
                }
                var bytes = await File.ReadAllBytesAsync(package.File);
                if (Tamper)
                {
                    bytes[^6] ^= 0xFF;
                }
                context.Response.ContentType = "application/octet-stream";
                context.Response.ContentLength = bytes.Length;
                await context.Response.Body.WriteAsync(bytes);
                return;
            default:
                context.Response.StatusCode = 404;
                return;
        }
    }

    private IEnumerable<(string Id, string Version, string File)> Of(string id) =>
        _packages.Where(p => string.Equals(p.Id, Uri.UnescapeDataString(id), StringComparison.OrdinalIgnoreCase));

    private JsonObject Leaf(string id, string version)
    {
        var published = Ages.TryGetValue($"{id}/{version}", out var age) ? DateTimeOffset.UtcNow - age : Published;
        var content = $"{Root}v3-flatcontainer/{id.ToLowerInvariant()}/{version.ToLowerInvariant()}/{id.ToLowerInvariant()}.{version.ToLowerInvariant()}.nupkg";
        var entry = new JsonObject
        {
            ["@id"] = $"{Root}v3/catalog0/data/{id.ToLowerInvariant()}.{version}.json",
            ["@type"] = "PackageDetails",
            ["id"] = id,
            ["version"] = version,
            ["authors"] = "tollgate-tests",
            ["description"] = "A package made for Tollgate's feed tests.",
            ["listed"] = true,
            ["published"] = published.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+00:00'", CultureInfo.InvariantCulture),
            ["packageContent"] = content,
            ["dependencyGroups"] = new JsonArray(new JsonObject { ["@id"] = $"{Root}v3/catalog0/data/{id}#dependencygroup", ["targetFramework"] = "net10.0" }),
            ["vulnerabilities"] = new JsonArray(),
        };
        if (DeclareHashes)
        {
            var bytes = File.ReadAllBytes(Of(id).Single(p => p.Version == version).File);
            entry["packageHash"] = Convert.ToBase64String(System.Security.Cryptography.SHA512.HashData(WrongHashes ? [.. bytes, 0] : bytes));
            entry["packageHashAlgorithm"] = "SHA512";
        }
        if (Deprecations.TryGetValue($"{id}/{version}", out var message))
        {
            entry["deprecation"] = new JsonObject { ["@id"] = $"{Root}v3/catalog0/data/{id}#deprecation", ["reasons"] = new JsonArray(JsonValue.Create("Legacy")), ["message"] = message };
        }
        return new JsonObject
        {
            ["@id"] = $"{Root}v3/registration5-gz-semver2/{id.ToLowerInvariant()}/{version}.json",
            ["@type"] = "Package",
            ["catalogEntry"] = entry,
            ["packageContent"] = content,
            ["registration"] = $"{Root}v3/registration5-gz-semver2/{id.ToLowerInvariant()}/index.json",
        };
    }

    /// <summary>A JSON answer with a strong entity tag of its bytes, and 304 when the client already holds them, as a real source does.</summary>
    private async Task Json(HttpContext context, JsonObject document)
    {
        var body = document.ToJsonString();
        var etag = $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(body)))[..16]}\"";
        IfNoneMatch[context.Features.Get<IHttpRequestFeature>()!.RawTarget] = context.Request.Headers.IfNoneMatch.ToString();
        context.Response.Headers.ETag = etag;
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            context.Response.StatusCode = 304;
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
