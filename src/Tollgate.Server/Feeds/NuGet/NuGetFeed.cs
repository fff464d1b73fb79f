using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using NuGet.Versioning;
using Tollgate.Ecosystems;
using Tollgate.Ecosystems.NuGet;
using Tollgate.Graph;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Feeds.NuGet;

/// <summary>One version of a package as the feed lists it.</summary>
/// <param name="Version">The version (NuGet.Versioning).</param>
/// <param name="Published">When it was published (upstream <c>published</c>; the push time for a private package).</param>
/// <param name="CatalogEntry">The upstream registration leaf's <c>catalogEntry</c>; null for a private package.</param>
/// <param name="Content">The upstream <c>packageContent</c> URL, if the leaf gives one.</param>
internal sealed record NuGetListedVersion(NuGetVersion Version, DateTimeOffset? Published, JsonElement? CatalogEntry, Uri? Content)
{
    /// <summary>The lower-case normalised version, as flat container paths write it.</summary>
    public string Lower => Version.ToNormalizedString().ToLowerInvariant();
}

/// <summary>A package's versions as the feed found them, or the status and message to answer with.</summary>
internal sealed record NuGetListing(string Id, ImmutableArray<NuGetListedVersion> Versions, int Status = 200, string? Problem = null, bool Private = false, bool Stale = false)
{
    /// <summary>The SHA-256 of everything the feed's answers about this listing are made of (ids, versions, times, catalog entries, URLs).</summary>
    public string Digest()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string? text) => hash.AppendData(Encoding.UTF8.GetBytes((text ?? "\u0001") + "\u0000"));
        Add(Id);
        Add(Private ? "private" : "upstream");
        foreach (var v in Versions)
        {
            Add(v.Version.ToFullString());
            Add(v.Published?.UtcTicks.ToString(CultureInfo.InvariantCulture));
            Add(v.CatalogEntry?.GetRawText());
            Add(v.Content?.AbsoluteUri);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

/// <summary>
/// The decisions for one listing, made once per change of their inputs (the listing, the policy and advisory database,
/// the clock passing a release-age boundary) and shared by every request until then.
/// </summary>
internal sealed record JudgedListing(string Digest, string JudgementVersion, DateTimeOffset? Expires, ImmutableDictionary<string, VersionDecision> Decisions)
{
    /// <summary>The decisions a listing request logs (everything not plainly allowed).</summary>
    public ImmutableArray<VersionDecision> NotAllowed { get; } = [.. Decisions.Values.Where(d => d.Verdict != FeedVerdict.Allowed)];

    /// <summary>How many versions are not served.</summary>
    public int Refused { get; } = Decisions.Values.Count(d => !d.IsServed);
}

/// <summary>
/// The NuGet V3 feed under <c>/nuget/</c>: a service index, the flat container (<c>PackageBaseAddress/3.0.0</c>),
/// registrations (<c>RegistrationsBaseUrl</c>, all versions) and <c>PackagePublish/2.0.0</c> for private packages.
/// Upstream metadata is read with the core <see cref="NuGetRegistrationClient"/>; packages are fetched on demand, checked
/// (the SHA512 the registration declares, where it declares one; a readable .nupkg whose .nuspec names the requested id
/// and version) before they are stored or served. A refused
/// version stays in the version list, so that <c>dotnet restore</c> asks for it and prints the 403's reason phrase
/// naming the advisory or rule, instead of only "NU1102 unable to find version".
/// </summary>
internal sealed partial class NuGetFeed(FeedOptions options, NuGetRegistrationClient upstream, RegistryHttp http, FeedStorage storage, PackageJudge judge,
    Storage.AuditQueue audit, Storage.ResponseCache responses, Func<string> judgementVersion, Storage.ISharedArtifacts? shared, TimeProvider time, ILogger logger,
    CancellationToken stopping)
{
    /// <summary>The path prefix the feed answers under.</summary>
    public const string Prefix = "/nuget";

    /// <summary>The header <c>dotnet nuget push</c> sends the API key in.</summary>
    public const string ApiKeyHeader = "X-NuGet-ApiKey";

    private static readonly string[] s_registrationTypes =
        ["RegistrationsBaseUrl", "RegistrationsBaseUrl/3.0.0-beta", "RegistrationsBaseUrl/3.0.0-rc", "RegistrationsBaseUrl/3.4.0", "RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl/Versioned"];

    private static readonly string[] s_searchTypes = ["SearchQueryService", "SearchQueryService/3.0.0-beta", "SearchQueryService/3.0.0-rc", "SearchQueryService/3.5.0"];

    /// <summary>The most results one search returns, whatever <c>take</c> asks.</summary>
    private const int MaxSearchResults = 1000;

    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _downloads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NuGetPackageFile> _checked = new(StringComparer.Ordinal);
    private readonly Lock _pushGate = new();
    private readonly ConcurrentDictionary<string, JudgedListing> _judged = new(StringComparer.Ordinal);

    public Uri ServiceIndex => upstream.ServiceIndex;

    /// <summary>
    /// Builds the feed over the core registration client, with its metadata cache in the feed's storage, or in
    /// <paramref name="sharedMetadata"/> (the state database several instances share) when given.
    /// </summary>
    public static NuGetFeed Create(FeedOptions options, Uri serviceIndex, HttpClient client, FeedStorage storage, IPackumentCache? sharedMetadata, PackageJudge judge,
        Storage.AuditQueue audit, Storage.ResponseCache responses, Func<string> judgementVersion, Storage.ISharedArtifacts? shared, TimeProvider time, ILogger logger,
        CancellationToken stopping)
    {
        var http = new RegistryHttp(new RegistryHttpOptions
        {
            CacheFolder = storage.Inside("nuget", "metadata"),
            Cache = sharedMetadata is null ? null : new SharedRegistryCache(sharedMetadata, logger),
            FreshFor = options.PackumentTtl,
            Timeout = options.UpstreamTimeout,
            MaxBytes = options.MaxPackumentBytes,
            MaxRetries = 1,
            Time = time,
        }, client);
        return new NuGetFeed(options, new NuGetRegistrationClient(http, serviceIndex), http, storage, judge, audit, responses, judgementVersion, shared, time, logger, stopping);
    }

    /// <summary>True for an id NuGet accepts: letters, digits, '.', '_' and '-', up to 100 characters, not starting with '.'.</summary>
    internal static bool IsValidId(string id) =>
        id.Length is > 0 and <= 100 && char.IsAsciiLetterOrDigit(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
        && !id.Contains("..", StringComparison.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.ToString();
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = Uri.UnescapeDataString(query >= 0 ? raw[..query] : raw)[Prefix.Length..];
        if (path.Split('/').Any(s => s is "." or "..") || path.Any(c => c == '\\' || char.IsControl(c)))
        {
            await WriteText(context, 400, "refused: dot segments, backslashes and control characters are not allowed in a path").ConfigureAwait(false);
            return;
        }
        try
        {
            var segments = path.Trim('/').Split('/');
            if (segments is ["v2", "package", ..])
            {
                if (HttpMethods.IsPut(context.Request.Method) && segments.Length == 2)
                {
                    await Push(context).ConfigureAwait(false);
                }
                else
                {
                    await WriteText(context, 405, "this feed accepts pushes (PUT) here; packages are never deleted or unlisted through it").ConfigureAwait(false);
                }
                return;
            }
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                await WriteText(context, 405, $"{context.Request.Method} is not supported here").ConfigureAwait(false);
                return;
            }
            switch (segments)
            {
                case ["v3", "index.json"]:
                    await WriteJson(context, 200, ServiceIndexDocument(Base(context))).ConfigureAwait(false);
                    break;
                case ["v3", "query"]:
                    await Search(context).ConfigureAwait(false);
                    break;
                case ["v3", "flatcontainer", var id, "index.json"]:
                    await ServeVersions(context, id).ConfigureAwait(false);
                    break;
                case ["v3", "flatcontainer", var id, var version, var file]:
                    await ServeFile(context, id, version, file).ConfigureAwait(false);
                    break;
                case ["v3", "registration", var id, "index.json"]:
                    await ServeRegistration(context, id, null).ConfigureAwait(false);
                    break;
                case ["v3", "registration", var id, var leaf] when leaf.EndsWith(".json", StringComparison.Ordinal):
                    await ServeRegistration(context, id, leaf[..^5]).ConfigureAwait(false);
                    break;
                default:
                    await WriteText(context, 404, "this feed offers the NuGet V3 API at /nuget/v3/index.json").ConfigureAwait(false);
                    break;
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            LogClientGone(logger, raw);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.Connection = "close";
                await WriteText(context, 503, "the feed is stopping; try again").ConfigureAwait(false);
            }
        }
        catch (StoragePathException e) when (!context.Response.HasStarted)
        {
            await WriteText(context, 400, $"refused: {e.Message}").ConfigureAwait(false);
        }
    }

    private static string Base(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{Prefix}/";

    /// <summary>The V3 service index: every URL in it points at this feed.</summary>
    internal static JsonObject ServiceIndexDocument(string baseUrl)
    {
        var resources = new JsonArray
        {
            (JsonNode)Resource(baseUrl + "v3/flatcontainer/", "PackageBaseAddress/3.0.0", "Package contents, vetted by the feed's policy"),
            (JsonNode)Resource(baseUrl + "v2/package", "PackagePublish/2.0.0", "Push of private packages (names under 'private' in the policy)"),
        };
        foreach (var type in s_searchTypes)
        {
            resources.Add((JsonNode)Resource(baseUrl + "v3/query", type, "Search of the packages this feed holds (pushed and cached), served versions only"));
        }
        foreach (var type in s_registrationTypes)
        {
            resources.Add((JsonNode)Resource(baseUrl + "v3/registration/", type, "Package metadata; versions the policy refuses are marked deprecated with the reason"));
        }
        return new JsonObject { ["version"] = "3.0.0", ["resources"] = resources };
    }

    private static JsonObject Resource(string id, string type, string comment) =>
        new() { ["@id"] = id, ["@type"] = type, ["comment"] = comment };

    private async Task ServeVersions(HttpContext context, string id)
    {
        if (!await CheckId(context, id).ConfigureAwait(false))
        {
            return;
        }
        var listing = await GetListing(id, context.RequestAborted).ConfigureAwait(false);
        if (listing.Status != 200)
        {
            await WriteText(context, listing.Status, listing.Problem ?? "not found").ConfigureAwait(false);
            return;
        }
        var judged = Judged(listing);
        Audit(context, listing.Id, judged.NotAllowed, "versions");
        MarkStale(context, listing);
        if (judged.Refused > 0)
        {
            context.Response.Headers["X-Tollgate-Refused"] = judged.Refused.ToString(CultureInfo.InvariantCulture);
        }
        await Answer(context, listing, judged, "versions", () =>
        {
            // Refused versions stay listed: their .nupkg answers 403 with the reason, which dotnet restore prints.
            var versions = new JsonArray();
            foreach (var v in listing.Versions)
            {
                versions.Add((JsonNode)JsonValue.Create(v.Lower));
            }
            return new JsonObject { ["versions"] = versions };
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The decisions for a listing: from memory while the listing (by its digest), the policy and the advisory database
    /// are unchanged and no release-age boundary has passed; otherwise judged again. Decisions on a stale listing are not kept.
    /// </summary>
    private JudgedListing Judged(NuGetListing listing)
    {
        var version = judgementVersion();
        var digest = listing.Digest();
        var key = listing.Id.ToLowerInvariant();
        if (_judged.TryGetValue(key, out var known) && known.Digest == digest && known.JudgementVersion == version
            && (known.Expires is null || time.GetUtcNow() < known.Expires))
        {
            return known;
        }
        var decisions = Judge(listing);
        var judged = new JudgedListing(digest, version, judge.NextChange(listing.Versions.Select(v => (v.Version.ToNormalizedString(), v.Published)), decisions), decisions);
        if (!listing.Stale)
        {
            _judged[key] = judged;
        }
        return judged;
    }

    /// <summary>
    /// A finished JSON answer about a listing, built once per change of its inputs (all in the key) and kept as bytes,
    /// pre-compressed, with a strong ETag; an answer from a stale listing is served but not kept.
    /// </summary>
    private Task Answer(HttpContext context, NuGetListing listing, JudgedListing judged, string form, Func<JsonNode> build)
    {
        var key = $"nuget\n{listing.Id.ToLowerInvariant()}\n{judged.Digest}\n{judged.JudgementVersion}\n{options.DryRun}\n{Base(context)}\n{form}";
        var cached = responses.Get(key);
        if (cached is null)
        {
            cached = Storage.CachedResponse.Create(Encoding.UTF8.GetBytes(build().ToJsonString()), "application/json", judged.Expires);
            if (!listing.Stale)
            {
                responses.Add(key, cached);
            }
        }
        return cached.WriteAsync(context);
    }

    private async Task<bool> CheckId(HttpContext context, string id)
    {
        if (IsValidId(id))
        {
            return true;
        }
        await WriteText(context, 400, $"'{id}' is not a valid NuGet package id").ConfigureAwait(false);
        return false;
    }

    /// <summary>A decision per version (keyed by NuGet's normalised version text).</summary>
    internal ImmutableDictionary<string, VersionDecision> Judge(NuGetListing listing, NuGetListedVersion? only = null, string? installCode = null) =>
        judge.Judge([.. (only is null ? listing.Versions.AsEnumerable() : [only]).Select(v => new FeedRelease(Component(listing.Id, v.Version), v.Published, installCode))]);

    private static Component Component(string id, NuGetVersion version)
    {
        var text = version.ToNormalizedString();
        return new Component { Ecosystem = Ecosystem.NuGet, Name = id, Version = text, Purl = PackageUrl.For(Ecosystem.NuGet, id, text) };
    }

    private async Task ServeFile(HttpContext context, string id, string versionText, string file)
    {
        if (!await CheckId(context, id).ConfigureAwait(false))
        {
            return;
        }
        if (!NuGetVersion.TryParse(versionText, out var version))
        {
            await WriteText(context, 400, $"'{versionText}' is not a NuGet version").ConfigureAwait(false);
            return;
        }
        var lowerId = id.ToLowerInvariant();
        var lowerVersion = version.ToNormalizedString().ToLowerInvariant();
        var nuspec = string.Equals(file, lowerId + ".nuspec", StringComparison.OrdinalIgnoreCase);
        if (!nuspec && !string.Equals(file, $"{lowerId}.{lowerVersion}.nupkg", StringComparison.OrdinalIgnoreCase))
        {
            await WriteText(context, 404, $"the flat container offers {lowerId}.{lowerVersion}.nupkg and {lowerId}.nuspec here").ConfigureAwait(false);
            return;
        }
        var listing = await GetListing(id, context.RequestAborted).ConfigureAwait(false);
        if (listing.Status != 200)
        {
            await WriteText(context, listing.Status, listing.Problem ?? "not found").ConfigureAwait(false);
            return;
        }
        var entry = listing.Versions.FirstOrDefault(v => VersionComparer.Default.Equals(v.Version, version));
        if (entry is null)
        {
            await WriteText(context, 404, $"{listing.Id} {lowerVersion} is not in {(listing.Private ? "this feed" : "the upstream source")}").ConfigureAwait(false);
            return;
        }
        var request = nuspec ? "nuspec" : "package";
        var decision = Judged(listing).Decisions[entry.Version.ToNormalizedString()];
        if (!decision.IsServed)
        {
            // Decided before anything is downloaded: a refused package never reaches this machine.
            Audit(context, listing.Id, [decision], request);
            if (!options.DryRun)
            {
                await Refuse(context, 403, decision.Message).ConfigureAwait(false);
                return;
            }
        }
        string? stored;
        NuGetPackageFile? package;
        if (listing.Private)
        {
            stored = PrivateFile(lowerId, lowerVersion);
            (package, var problem) = File.Exists(stored) ? Checked(stored) : (null, "the stored package is missing");
            if (package is null)
            {
                LogPrivateFileRefused(logger, lowerId, lowerVersion, problem ?? "unreadable");
                await WriteText(context, 500, $"{listing.Id} {lowerVersion} is not served: {problem}").ConfigureAwait(false);
                return;
            }
        }
        else
        {
            string? problem;
            (stored, problem) = await Cached(listing.Id, entry, context.RequestAborted).ConfigureAwait(false);
            if (stored is null)
            {
                LogUpstreamFailed(logger, $"{lowerId} {lowerVersion}", problem ?? "not fetched");
                await Refuse(context, 502, problem ?? "the package could not be fetched from upstream").ConfigureAwait(false);
                return;
            }
            (package, problem) = Checked(stored);
            if (package is null)
            {
                // Changed on disk since it was checked and stored: never served; the next request fetches it again.
                FeedStorage.TryDelete(stored);
                LogUpstreamFailed(logger, $"{lowerId} {lowerVersion}", $"the cached package is unreadable: {problem}");
                await Refuse(context, 502, $"the cached {lowerId}.{lowerVersion}.nupkg is unreadable and was removed; try again").ConfigureAwait(false);
                return;
            }
        }
        if (package.InstallCode is not null && decision.IsServed)
        {
            // Only the package's files show what it runs: judged again once it is here (and verified).
            decision = Judge(listing, entry, package.InstallCode)[entry.Version.ToNormalizedString()];
            if (!decision.IsServed)
            {
                Audit(context, listing.Id, [decision], request);
                if (!options.DryRun)
                {
                    await Refuse(context, 403, decision.Message).ConfigureAwait(false);
                    return;
                }
            }
        }
        if (decision.IsServed)
        {
            Audit(context, listing.Id, [decision], request);
        }
        context.Response.StatusCode = 200;
        if (nuspec)
        {
            context.Response.ContentType = "application/xml";
            await Storage.ResponseBody.WriteAsync(context, package.Nuspec).ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = "application/octet-stream";
        await Storage.ResponseBody.WriteFileAsync(context, stored).ConfigureAwait(false);
    }

    /// <summary>The package read once per stored file (it never changes once in place).</summary>
    private (NuGetPackageFile? Package, string? Problem) Checked(string stored)
    {
        if (_checked.TryGetValue(stored, out var known))
        {
            return (known, null);
        }
        var (package, problem) = NuGetPackageFile.Read(stored);
        if (package is not null)
        {
            _checked[stored] = package;
        }
        return (package, problem);
    }

    private string PrivateFile(string lowerId, string lowerVersion) => storage.Inside("nuget", "private", lowerId, lowerVersion, $"{lowerId}.{lowerVersion}.nupkg");

    /// <summary>The checked package in the cache, downloading it once however many requests ask at the same time.</summary>
    private async Task<(string? Path, string? Problem)> Cached(string id, NuGetListedVersion entry, CancellationToken requestAborted)
    {
        var lowerId = id.ToLowerInvariant();
        var target = storage.Inside("nuget", "packages", lowerId, entry.Lower, $"{lowerId}.{entry.Lower}.nupkg");
        if (File.Exists(target))
        {
            return (target, null);
        }
        var download = _downloads.GetOrAdd(target, _ => new Lazy<Task<string?>>(() => Download(id, entry, target)));
        var problem = await download.Value.WaitAsync(requestAborted).ConfigureAwait(false);
        return problem is null ? (target, null) : (null, problem);
    }

    private async Task<string?> Download(string id, NuGetListedVersion entry, string target)
    {
        try
        {
            var lowerId = id.ToLowerInvariant();
            // Only a package whose registration declares its SHA512 is shared: that hash is what vouches for a shared copy.
            var declaredHash = DeclaredSha512(entry);
            Func<string, string?>? verify = declaredHash is { Length: > 0 } ? file => CheckFile(file, id, entry, declaredHash) : null;
            var fetched = await Storage.SharedCopies.FetchAsync(shared, storage, target, verify, async temp =>
            {
                var (flat, _) = await upstream.FindResourceAsync(["PackageBaseAddress/3.0.0"], stopping).ConfigureAwait(false);
                var url = flat is not null ? new Uri(flat, $"{lowerId}/{entry.Lower}/{lowerId}.{entry.Lower}.nupkg") : entry.Content;
                if (url is null || url.Scheme is not ("http" or "https"))
                {
                    return $"the upstream source gives no http(s) address for {id} {entry.Lower}";
                }
                var problem = await DownloadTo(url, temp).ConfigureAwait(false) ?? CheckFile(temp, id, entry, declaredHash);
                if (problem is not null)
                {
                    LogFileRefused(logger, url, problem);
                }
                return problem;
            }, logger, stopping).ConfigureAwait(false);
            return fetched.Problem;
        }
        finally
        {
            _downloads.TryRemove(target, out _);
        }
    }

    /// <summary>
    /// Null when a downloaded <c>.nupkg</c> (from the upstream or the shared store) matches the SHA512 the registration
    /// declares (where it declares one) and its .nuspec names this id and version; else why not.
    /// </summary>
    private static string? CheckFile(string file, string id, NuGetListedVersion entry, byte[]? declared)
    {
        var name = $"{id.ToLowerInvariant()}.{entry.Lower}.nupkg";
        if (declared is not null)
        {
            byte[] actual;
            using (var stream = File.OpenRead(file))
            {
                actual = SHA512.HashData(stream);
            }
            if (!CryptographicOperations.FixedTimeEquals(actual, declared))
            {
                return $"the upstream's {name} does not match the SHA512 its registration declares";
            }
        }
        var (package, readProblem) = NuGetPackageFile.Read(file);
        if (package is null)
        {
            return $"the upstream's {name} is refused: {readProblem}";
        }
        return !string.Equals(package.Id, id, StringComparison.OrdinalIgnoreCase) || !VersionComparer.Default.Equals(package.Version, entry.Version)
            ? $"the upstream's {name} is refused: its .nuspec says {package.Id} {package.Version.ToNormalizedString()}"
            : null;
    }

    /// <summary>The package hash the registration's catalog entry declares (<c>packageHash</c>, SHA512, base64), where it offers one.</summary>
    private static byte[]? DeclaredSha512(NuGetListedVersion entry)
    {
        if (entry.CatalogEntry is not { } catalog || !catalog.TryGetProperty("packageHash", out var hash) || hash.ValueKind != JsonValueKind.String
            || !(catalog.TryGetProperty("packageHashAlgorithm", out var algorithm) && algorithm.ValueKind == JsonValueKind.String
                && string.Equals(algorithm.GetString(), "SHA512", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }
        try
        {
            return Convert.FromBase64String(hash.GetString()!);
        }
        catch (FormatException)
        {
            // A hash that cannot be read cannot vouch for anything: compare against nothing, and fail.
            return [];
        }
    }

    private async Task<string?> DownloadTo(Uri url, string temp)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(options.UpstreamTimeout);
        var name = url.Segments[^1];
        try
        {
            using var response = await http.OpenAsync(url, null, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode != System.Net.HttpStatusCode.OK)
            {
                return $"the upstream answered {(int)response.StatusCode} for {name}";
            }
            if (response.Content.Headers.ContentLength > options.MaxTarballBytes)
            {
                return $"{name} is larger than {options.MaxTarballBytes} bytes";
            }
            var source = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                await using (target.ConfigureAwait(false))
                {
                    var buffer = new byte[81920];
                    long total = 0;
                    int read;
                    while ((read = await source.ReadAsync(buffer, timeout.Token).ConfigureAwait(false)) > 0)
                    {
                        total += read;
                        if (total > options.MaxTarballBytes)
                        {
                            return $"{name} is larger than {options.MaxTarballBytes} bytes";
                        }
                        await target.WriteAsync(buffer.AsMemory(0, read), timeout.Token).ConfigureAwait(false);
                    }
                    if (response.Content.Headers.ContentLength is { } declared && declared != total)
                    {
                        return $"{name} was cut short ({total} of {declared} bytes)";
                    }
                }
            }
            return null;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            return $"the upstream did not send {name} within {options.UpstreamTimeout.TotalSeconds:0}s";
        }
        catch (HttpRequestException e)
        {
            return $"the upstream cannot be reached: {e.Message}";
        }
        catch (IOException e)
        {
            return $"the download of {name} broke off: {e.Message}";
        }
    }

    /// <summary>A package's versions: pushed ones for a private id (never asked upstream), else the upstream registration.</summary>
    internal async Task<NuGetListing> GetListing(string id, CancellationToken requestAborted)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        var lowerId = id.ToLowerInvariant();
        if (judge.IsPrivate(Ecosystem.NuGet, id))
        {
            // The dependency-confusion defence: a private id is never asked of the upstream source.
            return PrivateListing(lowerId) is { } local && !local.Versions.IsEmpty
                ? local
                : new NuGetListing(id, [], 404, $"{id} is a private name (policy 'private') and has not been pushed to this feed");
        }
        var read = await upstream.ReadRegistrationAsync(lowerId, cancellation.Token).ConfigureAwait(false);
        if (read.Leaves is not { } leaves)
        {
            if (!read.NotFound)
            {
                LogUpstreamFailed(logger, lowerId, read.Problem ?? "upstream failed");
            }
            return read.NotFound
                ? new NuGetListing(id, [], 404, $"{id} is not on the upstream source")
                : new NuGetListing(id, [], 502, read.Problem ?? "the upstream source failed");
        }
        var versions = new List<NuGetListedVersion>();
        var name = id;
        foreach (var leaf in leaves)
        {
            if (NuGetRegistrationClient.ReadLeaf(leaf) is not { } facts || !NuGetVersion.TryParse(facts.Version, out var version)
                || !leaf.TryGetProperty("catalogEntry", out var catalogEntry))
            {
                continue;
            }
            if (catalogEntry.TryGetProperty("id", out var leafId) && leafId.ValueKind == JsonValueKind.String && leafId.GetString() is { } given
                && string.Equals(given, id, StringComparison.OrdinalIgnoreCase))
            {
                name = given;
            }
            Uri? content = leaf.TryGetProperty("packageContent", out var c) && c.ValueKind == JsonValueKind.String && Uri.TryCreate(c.GetString(), UriKind.Absolute, out var u) ? u : null;
            if (!versions.Any(v => VersionComparer.Default.Equals(v.Version, version)))
            {
                versions.Add(new NuGetListedVersion(version, facts.Published, catalogEntry, content));
            }
        }
        versions.Sort((a, b) => VersionComparer.Default.Compare(a.Version, b.Version));
        if (read.Stale)
        {
            LogStale(logger, lowerId, read.Problem ?? "upstream failed");
        }
        return new NuGetListing(name, [.. versions], Problem: read.Stale ? read.Problem : null, Stale: read.Stale);
    }

    private NuGetListing? PrivateListing(string lowerId)
    {
        var folder = storage.Inside("nuget", "private", lowerId);
        if (!Directory.Exists(folder))
        {
            return null;
        }
        var versions = new List<NuGetListedVersion>();
        var name = lowerId;
        foreach (var dir in Directory.EnumerateDirectories(folder))
        {
            var published = Path.Combine(dir, "published");
            if (NuGetVersion.TryParse(Path.GetFileName(dir), out var version) && File.Exists(published)
                && DateTimeOffset.TryParse(File.ReadAllText(published), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            {
                versions.Add(new NuGetListedVersion(version, when, null, null));
                var idFile = Path.Combine(dir, "id");
                if (File.Exists(idFile))
                {
                    name = File.ReadAllText(idFile).Trim();
                }
            }
        }
        versions.Sort((a, b) => VersionComparer.Default.Compare(a.Version, b.Version));
        return new NuGetListing(name, [.. versions], Private: true);
    }

    private async Task ServeRegistration(HttpContext context, string id, string? leafVersion)
    {
        if (!await CheckId(context, id).ConfigureAwait(false))
        {
            return;
        }
        NuGetVersion? only = null;
        if (leafVersion is not null && !NuGetVersion.TryParse(leafVersion, out only))
        {
            await WriteText(context, 400, $"'{leafVersion}' is not a NuGet version").ConfigureAwait(false);
            return;
        }
        var listing = await GetListing(id, context.RequestAborted).ConfigureAwait(false);
        if (listing.Status != 200)
        {
            await WriteText(context, listing.Status, listing.Problem ?? "not found").ConfigureAwait(false);
            return;
        }
        var judged = Judged(listing);
        Audit(context, listing.Id, judged.NotAllowed, "registration");
        MarkStale(context, listing);
        RegistrationView View() => new(Base(context), listing, judged.Decisions, options.DryRun);
        if (only is null)
        {
            await Answer(context, listing, judged, "index", () => View().Index()).ConfigureAwait(false);
            return;
        }
        var entry = listing.Versions.FirstOrDefault(v => VersionComparer.Default.Equals(v.Version, only));
        if (entry is null)
        {
            await WriteText(context, 404, $"{listing.Id} {only.ToNormalizedString()} is not in {(listing.Private ? "this feed" : "the upstream source")}").ConfigureAwait(false);
            return;
        }
        await Answer(context, listing, judged, "leaf\n" + entry.Lower, () => View().LeafDocument(entry)).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>SearchQueryService</c>: ids containing <c>q</c> among the packages this feed holds (pushed, or cached from the
    /// upstream), with their served versions only; the upstream's own search is never asked.
    /// </summary>
    private async Task Search(HttpContext context)
    {
        var q = context.Request.Query["q"].ToString().Trim();
        var prerelease = bool.TryParse(context.Request.Query["prerelease"], out var p) && p;
        var skip = int.TryParse(context.Request.Query["skip"], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var take = int.TryParse(context.Request.Query["take"], NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? Math.Min(t, MaxSearchResults) : 20;
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var folder in new[] { "private", "packages" })
        {
            var dir = storage.Inside("nuget", folder);
            if (Directory.Exists(dir))
            {
                ids.UnionWith(Directory.EnumerateDirectories(dir).Select(d => Path.GetFileName(d)!).Where(IsValidId)
                    .Where(id => id.Contains(q, StringComparison.OrdinalIgnoreCase)));
            }
        }
        var baseUrl = Base(context);
        var data = new JsonArray();
        foreach (var id in ids)
        {
            var listing = await GetListing(id, context.RequestAborted).ConfigureAwait(false);
            if (listing.Status != 200)
            {
                continue;
            }
            var decisions = Judged(listing).Decisions;
            var served = listing.Versions.Where(v => (prerelease || !v.Version.IsPrerelease)
                && (options.DryRun || decisions[v.Version.ToNormalizedString()].IsServed)).ToList();
            if (served.Count == 0)
            {
                continue;
            }
            var registration = $"{baseUrl}v3/registration/{id}/index.json";
            var versions = new JsonArray();
            foreach (var v in served)
            {
                versions.Add((JsonNode)new JsonObject { ["version"] = v.Version.ToNormalizedString(), ["downloads"] = 0, ["@id"] = $"{baseUrl}v3/registration/{id}/{v.Lower}.json" });
            }
            string? description = null;
            if (served[^1].CatalogEntry is { } entry && entry.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String)
            {
                description = d.GetString();
            }
            data.Add((JsonNode)new JsonObject
            {
                ["@id"] = registration,
                ["@type"] = "Package",
                ["registration"] = registration,
                ["id"] = listing.Id,
                ["version"] = served[^1].Version.ToNormalizedString(),
                ["description"] = description ?? "",
                ["title"] = listing.Id,
                ["totalDownloads"] = 0,
                ["verified"] = false,
                ["versions"] = versions,
            });
        }
        var page = new JsonArray();
        foreach (var item in data.Skip(skip).Take(take).ToList())
        {
            data.Remove(item);
            page.Add(item);
        }
        await WriteJson(context, 200, new JsonObject { ["totalHits"] = page.Count + data.Count, ["data"] = page }).ConfigureAwait(false);
    }

    private static void MarkStale(HttpContext context, NuGetListing listing)
    {
        if (listing.Stale)
        {
            context.Response.Headers["Warning"] = "110 - \"Response is Stale\"";
            context.Response.Headers["X-Tollgate-Stale"] = listing.Problem ?? "upstream unavailable";
        }
    }

    private FeedToken? Authenticate(HttpContext context)
    {
        var key = context.Request.Headers[ApiKeyHeader].ToString();
        if (key.Length == 0)
        {
            return null;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return options.Tokens.FirstOrDefault(t => CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(t.Sha256)));
    }

    /// <summary><c>dotnet nuget push</c>: one .nupkg in a multipart form, private ids only, a version never replaced.</summary>
    private async Task Push(HttpContext context)
    {
        var client = context.Connection.RemoteIpAddress?.ToString();
        if (Authenticate(context) is not { } token)
        {
            await Refuse(context, 401, "pushing needs a feed token as the API key: dotnet nuget push PACKAGE -s FEED -k TOKEN (see docs/feed.md)").ConfigureAwait(false);
            return;
        }
        if (!context.Request.HasFormContentType)
        {
            await Refuse(context, 400, "the push must be multipart/form-data with the .nupkg (as dotnet nuget push sends it)").ConfigureAwait(false);
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        if (form.Files.Count != 1)
        {
            await Refuse(context, 400, $"the push must carry exactly one .nupkg file ({form.Files.Count} given)").ConfigureAwait(false);
            return;
        }
        byte[] bytes;
        using (var buffer = new MemoryStream())
        {
            await form.Files[0].CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            bytes = buffer.ToArray();
        }
        var (package, problem) = NuGetPackageFile.Read(bytes);
        if (package is null)
        {
            await Refuse(context, 400, $"the pushed file is refused: {problem}").ConfigureAwait(false);
            return;
        }
        var component = Component(package.Id, package.Version);
        if (!judge.IsPrivate(Ecosystem.NuGet, package.Id))
        {
            audit.Enqueue([new AuditEntry(time.GetUtcNow(), Purl(package.Id), component.Version, "refused", "private",
                $"{token.Name} tried to push {package.Id}, which is not a private name", client, "publish", false)]);
            await Refuse(context, 403, $"{package.Id} is not a private name: only ids listed under 'private' in the policy can be pushed to this feed").ConfigureAwait(false);
            return;
        }
        if (!token.MayPublish(component))
        {
            await Refuse(context, 403, $"the token of {token.Name} may not push {package.Id} {component.Version}").ConfigureAwait(false);
            return;
        }
        var (status, message) = StorePush(package, bytes);
        audit.Enqueue([new AuditEntry(time.GetUtcNow(), Purl(package.Id), component.Version, status < 300 ? "published" : "refused", null, message, client, "publish", false)]);
        if (status < 300)
        {
            LogPublished(logger, token.Name, package.Id, component.Version);
            await WriteText(context, status, message).ConfigureAwait(false);
        }
        else
        {
            await Refuse(context, status, message).ConfigureAwait(false);
        }
    }

    private (int Status, string Message) StorePush(NuGetPackageFile package, byte[] bytes)
    {
        var lowerId = package.Id.ToLowerInvariant();
        var lowerVersion = package.Version.ToNormalizedString().ToLowerInvariant();
        lock (_pushGate)
        {
            var file = PrivateFile(lowerId, lowerVersion);
            if (File.Exists(file))
            {
                return (409, $"{package.Id} {package.Version.ToNormalizedString()} is already on this feed: a version is never replaced; push a new version");
            }
            storage.WriteAtomically(storage.Inside("nuget", "private", lowerId, lowerVersion, "id"), Encoding.UTF8.GetBytes(package.Id));
            storage.WriteAtomically(storage.Inside("nuget", "private", lowerId, lowerVersion, "published"),
                Encoding.UTF8.GetBytes(time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)));
            // The package last: the version exists once its file does.
            storage.WriteAtomically(file, bytes);
            return (201, $"pushed {package.Id} {package.Version.ToNormalizedString()}");
        }
    }

    private static string Purl(string id) => $"pkg:nuget/{id}";

    private void Audit(HttpContext context, string id, IEnumerable<VersionDecision> decisions, string request)
    {
        var now = time.GetUtcNow();
        var client = context.Connection.RemoteIpAddress?.ToString();
        var entries = decisions.Select(d => new AuditEntry(now, Purl(id), d.Version, d.Verdict.ToString().ToLowerInvariant(), d.Rule, d.Message, client, request, options.DryRun)).ToList();
        foreach (var e in entries.Where(e => e.Verdict != "allowed").Take(5))
        {
            LogDecision(logger, id, e.Version, e.Verdict, e.Rule, options.DryRun ? " (dry-run: served)" : "");
        }
        audit.Enqueue(entries);
    }

    /// <summary>
    /// A refusal with the reason in the status line too: dotnet restore and dotnet nuget push print the reason phrase
    /// ("Response status code does not indicate success: 403 (REASON)"), not the body.
    /// </summary>
    private static Task Refuse(HttpContext context, int status, string message)
    {
        if (context.Features.Get<IHttpResponseFeature>() is { } response)
        {
            var phrase = new string(message.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
            response.ReasonPhrase = phrase.Length > 400 ? phrase[..400] : phrase;
        }
        return WriteText(context, status, message);
    }

    private static Task WriteText(HttpContext context, int status, string message) =>
        WriteBytes(context, status, Encoding.UTF8.GetBytes(message + "\n"), "text/plain; charset=utf-8");

    private static Task WriteJson(HttpContext context, int status, JsonNode document) =>
        WriteBytes(context, status, Encoding.UTF8.GetBytes(document.ToJsonString()), "application/json");

    private static async Task WriteBytes(HttpContext context, int status, byte[] body, string mediaType)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = mediaType;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "nuget {Package} {Version}: {Verdict} by {Rule}{DryRun}")]
    private static partial void LogDecision(ILogger logger, string package, string? version, string verdict, string? rule, string dryRun);

    [LoggerMessage(Level = LogLevel.Warning, Message = "nuget {Package}: serving a stale registration: {Problem}")]
    private static partial void LogStale(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "nuget {Package}: upstream failed or refused: {Problem}")]
    private static partial void LogUpstreamFailed(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "nuget package {Url} not stored: {Problem}")]
    private static partial void LogFileRefused(ILogger logger, Uri url, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "nuget {Package} {Version}: pushed package not served: {Problem}")]
    private static partial void LogPrivateFileRefused(ILogger logger, string package, string version, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Target}: the client went away before the answer")]
    private static partial void LogClientGone(ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "{User} pushed nuget {Package} {Version}")]
    private static partial void LogPublished(ILogger logger, string user, string package, string version);
}

/// <summary>Maps the NuGet feed's endpoints under <c>/nuget/v3/</c> and <c>/nuget/v2/package</c>, ahead of the npm catch-all.</summary>
internal static class NuGetFeedEndpoints
{
    /// <summary>Only the NuGet paths; everything else under <c>/nuget</c> stays with npm (a package named "nuget").</summary>
    public static WebApplication MapNuGetFeed(this WebApplication app, NuGetFeed feed)
    {
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value ?? "";
            var nuget = path.StartsWith("/nuget/v3/", StringComparison.Ordinal) || path.StartsWith("/nuget/v2/package", StringComparison.Ordinal);
            return nuget ? feed.HandleAsync(context) : next(context);
        });
        return app;
    }
}
