using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Tollgate.Ecosystems.Npm;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>A packument as the feed found it: the document, or the status and message to answer with.</summary>
internal sealed record PackumentFetch(JsonObject? Document, int Status, string? Problem = null, bool Stale = false, bool Private = false);

/// <summary>
/// The npm feed: answers the registry protocol, asks the upstream registry (through the cache) for what it does not
/// hold, and lets through only the versions the policy allows. Decide first, then serve or refuse.
/// </summary>
internal sealed partial class NpmFeed(FeedOptions options, NpmUpstream upstream, FeedStorage storage, VersionJudge judge,
    FeedAuditLog audit, TimeProvider time, ILogger logger, CancellationToken stopping)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _downloads = new(StringComparer.Ordinal);
    private readonly Lock _publishGate = new();

    /// <summary>How many tarballs were fetched from upstream (tests assert that concurrent requests share one).</summary>
    public int UpstreamTarballDownloads => _upstreamTarballDownloads;

    private int _upstreamTarballDownloads;

    public async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.ToString();
        if (!NpmRequestPath.TryParse(raw, out var path, out var error))
        {
            await WriteError(context, StatusCodes.Status400BadRequest, error).ConfigureAwait(false);
            return;
        }
        try
        {
            await Dispatch(context, path).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // Nobody is left to answer, and the upstream did nothing wrong.
            LogClientGone(logger, raw);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogStopping(logger, raw);
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.Connection = "close";
                await WriteError(context, 503, "the feed is stopping; try again").ConfigureAwait(false);
            }
        }
        catch (StoragePathException e) when (!context.Response.HasStarted)
        {
            // Never expected: the request and publish checks come first. Refuse rather than touch another file.
            LogStoragePathRefused(logger, raw, e.Message);
            await WriteError(context, 400, $"refused: {e.Message}").ConfigureAwait(false);
        }
    }

    private async Task Dispatch(HttpContext context, NpmRequestPath path)
    {
        var method = context.Request.Method;
        switch (path.Kind)
        {
            case NpmRequestKind.Ping when HttpMethods.IsGet(method):
                await WriteJson(context, 200, new JsonObject()).ConfigureAwait(false);
                return;
            case NpmRequestKind.Whoami when HttpMethods.IsGet(method):
                if (Authenticate(context) is { } user)
                {
                    await WriteJson(context, 200, new JsonObject { ["username"] = user.Name }).ConfigureAwait(false);
                }
                else
                {
                    await WriteError(context, 401, "authentication required: configure a feed token (see docs/feed.md)").ConfigureAwait(false);
                }
                return;
            case NpmRequestKind.Packument when HttpMethods.IsGet(method) || HttpMethods.IsHead(method):
                await ServePackument(context, path.Name!).ConfigureAwait(false);
                return;
            case NpmRequestKind.Packument when HttpMethods.IsPut(method):
                await Publish(context, path.Name!).ConfigureAwait(false);
                return;
            case NpmRequestKind.Tarball when HttpMethods.IsGet(method) || HttpMethods.IsHead(method):
                await ServeTarball(context, path.Name!, path.File!).ConfigureAwait(false);
                return;
            case NpmRequestKind.Unsupported:
                await WriteError(context, 404, "this feed does not offer that endpoint").ConfigureAwait(false);
                return;
            default:
                await WriteError(context, 405, $"{method} is not supported here").ConfigureAwait(false);
                return;
        }
    }

    private bool IsPrivate(string name) => judge.Policy.IsPrivate(Component(name, "0.0.0"));

    private static Graph.Component Component(string name, string version) => new()
    {
        Ecosystem = Graph.Ecosystem.Npm,
        Name = name,
        Version = version,
        Purl = Graph.PackageUrl.For(Graph.Ecosystem.Npm, name, version),
    };

    private async Task ServePackument(HttpContext context, string name)
    {
        var fetch = await GetPackument(name, context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted).ConfigureAwait(false);
        if (fetch.Document is null)
        {
            await WriteError(context, fetch.Status, fetch.Problem ?? "not found").ConfigureAwait(false);
            return;
        }
        var decisions = judge.Judge(name, fetch.Document);
        Audit(context, name, decisions.Values.Where(d => d.Verdict != FeedVerdict.Allowed), "packument");
        var baseUrl = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/";
        var served = PackumentView.Filter(name, fetch.Document, decisions, baseUrl, options.DryRun);
        if (served is null)
        {
            var reasons = decisions.Values.Where(d => !d.IsServed).Select(d => d.Message).Take(3);
            await WriteError(context, 404, $"no version of {name} is allowed by the feed's policy: {string.Join("; ", reasons)}").ConfigureAwait(false);
            return;
        }
        if (fetch.Stale)
        {
            context.Response.Headers["Warning"] = "110 - \"Response is Stale\"";
            context.Response.Headers["X-Tollgate-Stale"] = fetch.Problem ?? "upstream unavailable";
        }
        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains(PackumentView.AbbreviatedMediaType, StringComparison.OrdinalIgnoreCase))
        {
            await WriteJson(context, 200, PackumentView.Abbreviate(served), PackumentView.AbbreviatedMediaType).ConfigureAwait(false);
        }
        else
        {
            await WriteJson(context, 200, served).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The full upstream (or private) packument, through the cache. <paramref name="requestAborted"/> is the client's
    /// token: a client that leaves ends the upstream request too (with an <see cref="OperationCanceledException"/>,
    /// not as an upstream failure).
    /// </summary>
    internal async Task<PackumentFetch> GetPackument(string name, string? client, CancellationToken requestAborted)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        if (IsPrivate(name))
        {
            // The dependency-confusion defence: a private name is never asked of the upstream registry.
            var file = storage.PrivatePackumentFile(name);
            if (File.Exists(file))
            {
                if (ReadObject(file) is { } local)
                {
                    return new PackumentFetch(local, 200, Private: true);
                }
                LogPrivatePackumentUnreadable(logger, name, file);
                return new PackumentFetch(null, 500, $"the feed's record of {name} cannot be read");
            }
            audit.Write([new AuditEntry(time.GetUtcNow(), name, null, "refused", "private", $"{name} is private and has not been published to this feed", client, "packument", options.DryRun)]);
            return new PackumentFetch(null, 404, $"{name} is a private name (policy 'private') and has not been published to this feed");
        }
        var cacheFile = storage.PackumentFile(name);
        var metaFile = storage.PackumentMetaFile(name);
        JsonObject? meta = File.Exists(metaFile) && File.Exists(cacheFile) ? ReadObject(metaFile) : null;
        var fetchedAt = meta?["fetchedAt"] is JsonValue f && f.TryGetValue<string>(out var t) && DateTimeOffset.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var at) ? at : (DateTimeOffset?)null;
        if (meta is not null && fetchedAt is { } when && time.GetUtcNow() - when < options.PackumentTtl && ReadObject(cacheFile) is { } fresh)
        {
            return new PackumentFetch(fresh, 200);
        }
        var validators = meta is null ? null : new CacheValidators(meta["etag"]?.GetValue<string>(), meta["lastModified"]?.GetValue<string>());
        var answer = await upstream.GetPackumentAsync(name, validators, cancellation.Token).ConfigureAwait(false);
        switch (answer.Status)
        {
            case UpstreamStatus.Ok:
                JsonObject? doc = null;
                try
                {
                    doc = JsonNode.Parse(answer.Body) as JsonObject;
                }
                catch (JsonException)
                {
                }
                if (doc is null || doc["versions"] is not JsonObject)
                {
                    return Stale(name, cacheFile, "the upstream registry sent a packument that is not valid JSON");
                }
                storage.WriteAtomically(cacheFile, answer.Body);
                WriteMeta(metaFile, answer.ETag, answer.LastModified);
                return new PackumentFetch(doc, 200);
            case UpstreamStatus.NotModified when ReadObject(cacheFile) is { } same:
                WriteMeta(metaFile, validators?.ETag, validators?.LastModified);
                return new PackumentFetch(same, 200);
            case UpstreamStatus.NotFound:
                return new PackumentFetch(null, 404, $"{name} is not in the upstream registry");
            case UpstreamStatus.Refused:
                // Not a passing outage a stale copy bridges: the upstream's current answer is one the feed will not take.
                LogUpstreamRefused(logger, name, answer.Problem ?? "refused");
                return new PackumentFetch(null, 502, answer.Problem ?? "the upstream answer was refused");
            default:
                return Stale(name, cacheFile, answer.Problem ?? "the upstream registry failed");
        }
    }

    private PackumentFetch Stale(string name, string cacheFile, string problem)
    {
        if (ReadObject(cacheFile) is { } stale)
        {
            LogStale(logger, name, problem);
            return new PackumentFetch(stale, 200, problem, Stale: true);
        }
        LogUpstreamFailed(logger, name, problem);
        return new PackumentFetch(null, 502, $"{problem}, and the feed has no cached copy");
    }

    private void WriteMeta(string metaFile, string? etag, string? lastModified)
    {
        var meta = new JsonObject { ["etag"] = etag, ["lastModified"] = lastModified, ["fetchedAt"] = time.GetUtcNow().ToString("O") };
        storage.WriteAtomically(metaFile, Encoding.UTF8.GetBytes(meta.ToJsonString()));
    }

    private static JsonObject? ReadObject(string file)
    {
        try
        {
            return File.Exists(file) ? JsonNode.Parse(File.ReadAllBytes(file)) as JsonObject : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }

    private async Task ServeTarball(HttpContext context, string name, string file)
    {
        var client = context.Connection.RemoteIpAddress?.ToString();
        var fetch = await GetPackument(name, client, context.RequestAborted).ConfigureAwait(false);
        if (fetch.Document is null)
        {
            await WriteError(context, fetch.Status, fetch.Problem ?? "not found").ConfigureAwait(false);
            return;
        }
        var version = PackumentView.VersionOfFile(name, fetch.Document, file);
        if (version is null)
        {
            await WriteError(context, 404, $"{name} has no version whose tarball is {file}").ConfigureAwait(false);
            return;
        }
        var decision = judge.Judge(name, fetch.Document)[version];
        Audit(context, name, [decision], "tarball");
        if (!decision.IsServed && !options.DryRun)
        {
            var message = $"{name}@{version} is refused by the Tollgate feed: {decision.Message}";
            context.Response.Headers["npm-notice"] = message;
            await WriteError(context, 403, message, decision.Rule).ConfigureAwait(false);
            return;
        }
        var dist = fetch.Document["versions"]?[version]?["dist"] as JsonObject;
        if (fetch.Private)
        {
            await ServePrivateTarball(context, name, version, dist).ConfigureAwait(false);
            return;
        }
        var (stored, problem) = await CachedTarball(name, file, dist, context.RequestAborted).ConfigureAwait(false);
        if (problem is not null || stored is null)
        {
            LogUpstreamFailed(logger, $"{name}@{version}", problem ?? "the tarball could not be fetched");
            await WriteError(context, 502, problem ?? "the tarball could not be fetched").ConfigureAwait(false);
            return;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = new FileInfo(stored).Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.SendFileAsync(stored, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A published tarball, served only when its bytes still match the integrity recorded at publish: the bytes are
    /// hashed and sent from the same open file, so a file replaced in between is never sent unchecked.
    /// </summary>
    private async Task ServePrivateTarball(HttpContext context, string name, string version, JsonObject? dist)
    {
        if (!NpmVersion.TryParse(version, out var parsed) || !string.Equals(parsed.Normalized, version, StringComparison.Ordinal)
            || dist?["integrity"] is not JsonValue)
        {
            LogPrivateTarballRefused(logger, name, version, "the stored packument has no valid version or no recorded dist.integrity");
            await WriteError(context, 500, $"{name}@{version} is not served: the feed's record of it has no valid version or integrity").ConfigureAwait(false);
            return;
        }
        FileStream stream;
        try
        {
            stream = new FileStream(storage.PrivateTarballFile(name, parsed), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            LogPrivateTarballRefused(logger, name, version, "the stored tarball is missing");
            await WriteError(context, 500, $"{name}@{version} is published but its tarball is missing from the feed's storage").ConfigureAwait(false);
            return;
        }
        await using (stream.ConfigureAwait(false))
        {
            var (sha512, sha1) = await TarballIntegrity.HashStreamAsync(stream, context.RequestAborted).ConfigureAwait(false);
            if (TarballIntegrity.Check(dist, sha512, sha1) is { } mismatch)
            {
                LogPrivateTarballRefused(logger, name, version, mismatch);
                await WriteError(context, 500, $"{name}@{version} is not served: the stored tarball does not match the integrity recorded at publish ({mismatch})")
                    .ConfigureAwait(false);
                return;
            }
            stream.Position = 0;
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = stream.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await stream.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The verified tarball file in the cache, downloading it once however many requests ask at the same time.</summary>
    private async Task<(string? Path, string? Problem)> CachedTarball(string name, string file, JsonObject? dist, CancellationToken requestAborted)
    {
        var target = storage.TarballFile(name, file);
        if (File.Exists(target))
        {
            var (sha512, sha1) = TarballIntegrity.HashFile(target);
            if (TarballIntegrity.Check(dist, sha512, sha1) is null)
            {
                return (target, null);
            }
            // A cached file that no longer matches the packument is not served; fetch it again.
            FeedStorage.TryDelete(target);
        }
        var url = dist?["tarball"] is JsonValue u && u.TryGetValue<string>(out var text) && Uri.TryCreate(text, UriKind.Absolute, out var parsed)
            && parsed.Scheme is "http" or "https" ? parsed : null;
        if (url is null)
        {
            return (null, "the upstream packument has no usable dist.tarball URL");
        }
        if (upstream.ForeignOrigin(url) is { } foreign)
        {
            LogTarballRefused(logger, url, foreign);
            return (null, foreign);
        }
        var download = _downloads.GetOrAdd(target, _ => new Lazy<Task<string?>>(() => Download(url, target, dist)));
        // A client that leaves stops waiting; the shared download goes on for the others and the cache.
        var problem = await download.Value.WaitAsync(requestAborted).ConfigureAwait(false);
        return problem is null ? (target, null) : (null, problem);
    }

    /// <summary>Downloads and verifies a tarball into the cache; removes itself from the shared downloads when done.</summary>
    private async Task<string?> Download(Uri url, string target, JsonObject? dist)
    {
        Interlocked.Increment(ref _upstreamTarballDownloads);
        var temp = storage.NewTempFile();
        try
        {
            // Not the request's token: a client that gives up must not abort a download other clients share.
            var (sha512, sha1, problem) = await upstream.DownloadAsync(url, temp, stopping).ConfigureAwait(false);
            problem ??= TarballIntegrity.Check(dist, sha512!, sha1!);
            if (problem is not null)
            {
                LogTarballRefused(logger, url, problem);
                return problem;
            }
            FeedStorage.MoveIntoPlace(temp, target);
            return null;
        }
        finally
        {
            _downloads.TryRemove(target, out _);
            if (File.Exists(temp))
            {
                FeedStorage.TryDelete(temp);
            }
        }
    }

    private FeedToken? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(header[7..].Trim()));
        foreach (var token in options.Tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(token.Sha256)))
            {
                return token;
            }
        }
        return null;
    }

    private async Task Publish(HttpContext context, string name)
    {
        // Refusals below do not read the body; Kestrel then drops the connection, so tell the client not to reuse it.
        context.Response.Headers.Connection = "close";
        var client = context.Connection.RemoteIpAddress?.ToString();
        if (Authenticate(context) is not { } token)
        {
            await WriteError(context, 401, "publishing needs a feed token: set //HOST:PORT/:_authToken in .npmrc (see docs/feed.md)").ConfigureAwait(false);
            return;
        }
        var user = token.Name;
        if (!IsPrivate(name))
        {
            audit.Write([new AuditEntry(time.GetUtcNow(), name, null, "refused", "private", $"{user} tried to publish {name}, which is not a private name", client, "publish", false)]);
            await WriteError(context, 403, $"{name} is not a private name: only names listed under 'private' in the policy can be published to this feed").ConfigureAwait(false);
            return;
        }
        if (!NpmRequestPath.IsValidNewName(name, out var nameError))
        {
            await WriteError(context, 400, nameError).ConfigureAwait(false);
            return;
        }
        if (!token.MayPublishName(name))
        {
            var refusal = TokenRefusal(token, name);
            audit.Write([new AuditEntry(time.GetUtcNow(), name, null, "refused", "token", refusal, client, "publish", false)]);
            await WriteError(context, 403, refusal).ConfigureAwait(false);
            return;
        }
        if (context.Request.ContentLength > options.MaxPublishBytes)
        {
            await WriteError(context, 413, $"the publish request is larger than maxPublishBytes ({options.MaxPublishBytes})").ConfigureAwait(false);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxPublishBytes;
        }
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false) as JsonObject;
        }
        catch (Exception e) when (e is JsonException or BadHttpRequestException)
        {
            await WriteError(context, e is BadHttpRequestException b ? b.StatusCode : 400, $"the publish body could not be read: {e.Message}").ConfigureAwait(false);
            return;
        }
        var (status, message) = StorePublish(name, body, token);
        audit.Write([new AuditEntry(time.GetUtcNow(), name, null, status < 300 ? "published" : "refused", null, message, client, "publish", false)]);
        if (status < 300)
        {
            context.Response.Headers.Remove("Connection");
            await WriteJson(context, status, new JsonObject { ["ok"] = message }).ConfigureAwait(false);
        }
        else
        {
            await WriteError(context, status, message).ConfigureAwait(false);
        }
    }

    private static string TokenRefusal(FeedToken token, string what) =>
        $"the token of {token.Name} may not publish {what}: it is limited to {string.Join(", ", token.Packages.Select(p => p.Text))}";

    /// <summary>A version of a publish body that passed every check, ready to be stored.</summary>
    private sealed record PublishedVersion(NpmVersion Version, JsonObject Manifest, byte[] Tarball, string Integrity, string Shasum);

    /// <summary>
    /// Checks a whole publish body before anything is written: every version a canonical SemVer equal to its
    /// manifest's <c>version</c>, not yet published, allowed for the token, with exactly its own attachment
    /// (<c>name-version.tgz</c>, as npm names it) whose bytes match the declared integrity; no other attachment; and
    /// dist-tags naming only versions that are published or part of this publish.
    /// </summary>
    private (int Status, string Message) StorePublish(string name, JsonObject? body, FeedToken token)
    {
        if (body is null || body["versions"] is not JsonObject versions || versions.Count == 0 || body["_attachments"] is not JsonObject attachments)
        {
            return (400, "the publish body needs 'versions' and '_attachments'");
        }
        if (body["name"]?.GetValueKind() != JsonValueKind.String || body["name"]!.GetValue<string>() != name)
        {
            return (400, $"the publish body names another package than {name}");
        }
        lock (_publishGate)
        {
            var file = storage.PrivatePackumentFile(name);
            var existing = ReadObject(file);
            if (existing is null && File.Exists(file))
            {
                // Starting afresh would forget which versions exist and let them be published again.
                LogPrivatePackumentUnreadable(logger, name, file);
                return (500, $"the feed's record of {name} cannot be read: nothing is published until it is repaired");
            }
            var packument = existing ?? new JsonObject
            {
                ["_id"] = name,
                ["name"] = name,
                ["dist-tags"] = new JsonObject(),
                ["versions"] = new JsonObject(),
                ["time"] = new JsonObject { ["created"] = time.GetUtcNow().ToString("O") },
            };
            var storedVersions = (JsonObject)packument["versions"]!;
            var checkedVersions = new List<PublishedVersion>();
            var claimed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (key, node) in versions)
            {
                // The key becomes part of a file name: only the canonical form node-semver prints is accepted, which
                // has no '/', '\', '..', white space or build metadata.
                if (!NpmVersion.TryParse(key, out var version) || !string.Equals(version.Normalized, key, StringComparison.Ordinal))
                {
                    return (400, $"'{key}' is not a valid version: a published version is SemVer as npm writes it, such as 1.2.3 or 2.0.0-rc.1");
                }
                // Compared by precedence too: no second spelling of a published version is ever accepted.
                if (storedVersions.ContainsKey(key) || storedVersions.Any(v => NpmVersion.TryParse(v.Key, out var old) && old == version))
                {
                    return (409, $"{name}@{key} is already published: a version is never replaced");
                }
                if (node is not JsonObject manifest || manifest["dist"] is not JsonObject dist)
                {
                    return (400, $"version {key} has no 'dist'");
                }
                var declared = manifest["version"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
                if (!string.Equals(declared, key, StringComparison.Ordinal))
                {
                    return (400, $"the manifest under versions['{key}'] says version '{declared}': the two must be the same");
                }
                if (manifest["name"] is { } manifestName && (manifestName.GetValueKind() != JsonValueKind.String || manifestName.GetValue<string>() != name))
                {
                    return (400, $"the manifest of version {key} names another package than {name}");
                }
                if (!token.MayPublish(Component(name, key)))
                {
                    return (403, TokenRefusal(token, $"{name}@{key}"));
                }
                var attachmentName = $"{name}-{key}.tgz";
                if (attachments[attachmentName] is not JsonObject attachment || attachment["data"] is not JsonValue data || !data.TryGetValue<string>(out var base64))
                {
                    return (400, $"no tarball attached for {key}: the publish body needs the attachment '{attachmentName}'");
                }
                claimed.Add(attachmentName);
                byte[] bytes;
                try
                {
                    bytes = Convert.FromBase64String(base64);
                }
                catch (FormatException)
                {
                    return (400, $"the tarball attached for {key} is not base64");
                }
                var (integrity, shasum) = TarballIntegrity.Describe(bytes);
                if (dist["integrity"] is JsonValue sriValue && sriValue.TryGetValue<string>(out var sri) && !string.Equals(sri, integrity, StringComparison.Ordinal))
                {
                    return (400, $"the tarball attached for {key} does not match its dist.integrity");
                }
                // A stored file is never replaced either: only a retry of an interrupted publish with the same bytes passes.
                var target = storage.PrivateTarballFile(name, version);
                if (File.Exists(target) && !string.Equals(TarballIntegrity.Describe(File.ReadAllBytes(target)).Integrity, integrity, StringComparison.Ordinal))
                {
                    return (409, $"a different tarball of {name}@{key} is already stored: a version is never replaced");
                }
                checkedVersions.Add(new PublishedVersion(version, manifest, bytes, integrity, shasum));
            }
            if (attachments.Select(a => a.Key).FirstOrDefault(a => !claimed.Contains(a)) is { } stray)
            {
                return (400, $"the attachment '{stray}' belongs to no version of the publish");
            }
            var tagged = body["dist-tags"] as JsonObject ?? [];
            foreach (var (tag, target) in tagged)
            {
                var text = target is JsonValue t && t.TryGetValue<string>(out var targetText) ? targetText : null;
                if (text is null || !(storedVersions.ContainsKey(text) || checkedVersions.Any(p => p.Version.Normalized == text)))
                {
                    return (400, $"the dist-tag '{tag}' names '{text}', which is neither published nor part of this publish");
                }
            }
            foreach (var published in checkedVersions)
            {
                var key = published.Version.Normalized;
                storage.WriteAtomically(storage.PrivateTarballFile(name, published.Version), published.Tarball);
                var copy = (JsonObject)published.Manifest.DeepClone();
                // What the feed serves later is checked against this integrity, computed here from the bytes it stored.
                copy["dist"] = new JsonObject
                {
                    ["integrity"] = published.Integrity,
                    ["shasum"] = published.Shasum,
                    ["tarball"] = $"http://feed.invalid/{PackumentView.TarballPath(name, FeedStorage.PrivateTarballName(name, published.Version))}",
                };
                copy["_npmUser"] = new JsonObject { ["name"] = token.Name };
                storedVersions[key] = copy;
                ((JsonObject)packument["time"]!)[key] = time.GetUtcNow().ToString("O");
            }
            var tags = (JsonObject)packument["dist-tags"]!;
            foreach (var (tag, target) in tagged)
            {
                tags[tag] = target?.DeepClone();
            }
            ((JsonObject)packument["time"]!)["modified"] = time.GetUtcNow().ToString("O");
            storage.WriteAtomically(file, Encoding.UTF8.GetBytes(packument.ToJsonString()));
            var added = string.Join(", ", checkedVersions.Select(p => p.Version.Normalized));
            LogPublished(logger, name, added, token.Name);
            return (201, $"published {name}@{added}");
        }
    }

    private void Audit(HttpContext context, string name, IEnumerable<VersionDecision> decisions, string request)
    {
        var now = time.GetUtcNow();
        var client = context.Connection.RemoteIpAddress?.ToString();
        var entries = decisions.Select(d => new AuditEntry(now, name, d.Version, d.Verdict.ToString().ToLowerInvariant(), d.Rule, d.Message, client, request, options.DryRun)).ToList();
        var refused = entries.Where(e => e.Verdict != "allowed").ToList();
        var dryRun = options.DryRun ? " (dry-run: served)" : "";
        if (refused.Count == 1)
        {
            LogDecision(logger, refused[0].Package, refused[0].Version, refused[0].Verdict, refused[0].Rule, dryRun);
        }
        else if (refused.Count > 1)
        {
            // One line per request, however many versions a packument hides; the audit log keeps each decision.
            var counts = refused.GroupBy(e => (e.Verdict, e.Rule)).OrderByDescending(g => g.Count())
                .Select(g => $"{g.Count()} {g.Key.Verdict} by {g.Key.Rule}");
            LogDecisions(logger, name, refused.Count, string.Join(", ", counts), dryRun);
        }
        audit.Write(entries);
    }

    internal static Task WriteError(HttpContext context, int status, string message, string? rule = null)
    {
        var body = new JsonObject { ["error"] = message };
        if (rule is not null)
        {
            body["rule"] = rule;
        }
        return WriteJson(context, status, body);
    }

    private static async Task WriteJson(HttpContext context, int status, JsonObject body, string mediaType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = mediaType + "; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Package}@{Version}: {Verdict} by {Rule}{DryRun}")]
    private static partial void LogDecision(ILogger logger, string package, string? version, string verdict, string? rule, string dryRun);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Package}: {Refused} versions refused ({Counts}){DryRun}; see `tollgate feed log --package` for each")]
    private static partial void LogDecisions(ILogger logger, string package, int refused, string counts, string dryRun);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Package}: serving a stale packument: {Problem}")]
    private static partial void LogStale(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Package}: upstream failed and nothing is cached, answered 502: {Problem}")]
    private static partial void LogUpstreamFailed(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Package}: upstream answer refused, answered 502: {Problem}")]
    private static partial void LogUpstreamRefused(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "tarball {Url} not stored: {Problem}")]
    private static partial void LogTarballRefused(ILogger logger, Uri url, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Package}@{Version}: published tarball not served: {Problem}")]
    private static partial void LogPrivateTarballRefused(ILogger logger, string package, string version, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Target}: the client went away before the answer")]
    private static partial void LogClientGone(ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Target}: not answered, the feed is stopping")]
    private static partial void LogStopping(ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Target}: refused a storage path: {Problem}")]
    private static partial void LogStoragePathRefused(ILogger logger, string target, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Package}: its stored packument {File} cannot be read")]
    private static partial void LogPrivatePackumentUnreadable(ILogger logger, string package, string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "{User} published {Package}@{Versions}")]
    private static partial void LogPublished(ILogger logger, string package, string versions, string user);
}
