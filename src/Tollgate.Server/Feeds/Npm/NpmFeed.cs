using System.Collections.Concurrent;
using System.Collections.Frozen;
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
/// <param name="Document">The parsed document, or null (see <paramref name="Status"/> and <paramref name="Unchanged"/>).</param>
/// <param name="Status">The HTTP status to answer with when there is no document.</param>
/// <param name="Problem">Why not, or why stale.</param>
/// <param name="Stale">The upstream failed and this is the last good copy.</param>
/// <param name="Private">A package published to this feed.</param>
/// <param name="Digest">The hex SHA-256 of the document's bytes: what the decisions and cached answers are keyed by.</param>
/// <param name="Unchanged">The upstream confirmed the cached copy whose digest the caller already holds; no document is read.</param>
/// <param name="CheckedAt">
/// When the upstream last sent or confirmed a stored copy (which another instance sharing the state may have fetched);
/// null: now.
/// </param>
internal sealed record PackumentFetch(JsonObject? Document, int Status, string? Problem = null, bool Stale = false, bool Private = false,
    string? Digest = null, bool Unchanged = false, DateTimeOffset? CheckedAt = null);

/// <summary>
/// The decisions for one packument, made once per change of their inputs (the document, the policy and advisory
/// database, the clock passing a release-age boundary) and shared by every packument and tarball request until then.
/// </summary>
internal sealed record JudgedPackument(
    string Name,
    string Digest,
    string JudgementVersion,
    DateTimeOffset CheckedAt,
    DateTimeOffset? Expires,
    ImmutableDictionary<string, VersionDecision> Decisions,
    IReadOnlyDictionary<string, string> VersionByFile,
    IReadOnlyDictionary<string, JsonObject?> Dist,
    bool Private,
    bool Stale,
    string? Problem)
{
    /// <summary>The decisions the packument request logs (everything not plainly allowed).</summary>
    public ImmutableArray<VersionDecision> NotAllowed { get; } = [.. Decisions.Values.Where(d => d.Verdict != FeedVerdict.Allowed)];
}

/// <summary>
/// The npm feed: answers the registry protocol, asks the upstream registry (through the cache) for what it does not
/// hold, and lets through only the versions the policy allows. Decide first, then serve or refuse.
/// </summary>
internal sealed partial class NpmFeed(FeedOptions options, NpmUpstream upstream, FeedStorage storage, VersionJudge judge,
    Storage.AuditQueue audit, Storage.ResponseCache responses, Storage.ISharedArtifacts? shared, IPrivatePackages privates, IPackumentCache packuments, Func<string> judgementVersion, TimeProvider time, ILogger logger, CancellationToken stopping)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _downloads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JudgedPackument> _judged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<(JudgedPackument? Judged, PackumentFetch? Failure, JsonObject? Document)>>> _judging = new(StringComparer.Ordinal);
    // Cached tarballs whose bytes were checked (when written, or once after a restart), with the digest checked.
    private readonly ConcurrentDictionary<string, string> _verified = new(StringComparer.Ordinal);
    private readonly Storage.HotFiles _hot = new(options.TarballMemoryBytes, 4L * 1024 * 1024);
    // The upstream packuments stored (folder or shared state); a store that cannot be reached counts as empty.
    private readonly UpstreamDocumentStore _stored = new(packuments, (name, problem) => LogPackumentCacheUnavailable(logger, name, problem));
    // The background revalidations running, at most one per name; a stop waits for them (see RevalidationsEnded).
    private readonly ConcurrentDictionary<string, Task> _revalidating = new(StringComparer.Ordinal);
    // At most options.BackgroundRevalidations of them ask the upstream at once; the others wait here.
    private readonly SemaphoreSlim _revalidationSlots = new(Math.Max(1, options.BackgroundRevalidations));
    // Names whose upstream last answered without a document (404, or an answer the feed refuses): their stored copy is
    // not answered past packumentTtl again until the upstream sends or confirms one, so the client gets that answer.
    private readonly ConcurrentDictionary<string, bool> _noStaleAnswers = new(StringComparer.Ordinal);

    /// <summary>How many tarballs were fetched from upstream (tests assert that concurrent requests share one).</summary>
    public int UpstreamTarballDownloads => _upstreamTarballDownloads;

    private int _upstreamTarballDownloads;
    private int _judgements;

    /// <summary>How many times an upstream or stored packument was decided (tests assert that an unchanged one is not).</summary>
    internal int PackumentJudgements => _judgements;
    private int _sharedTarballHits;

    /// <summary>Tarballs taken from the instances' shared store instead of the upstream (tests and logs).</summary>
    public int SharedTarballHits => _sharedTarballHits;

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
        // A second decision only when the stored copy changed after the first: another instance sharing the state
        // stored a newer one. It is made on the copy stored now.
        for (var attempt = 1; ; attempt++)
        {
            var (judged, failure, document) = await Judged(name, context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted).ConfigureAwait(false);
            if (judged is null)
            {
                await WriteError(context, failure!.Status, failure.Problem ?? "not found").ConfigureAwait(false);
                return;
            }
            var baseUrl = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}/";
            var abbreviated = context.Request.Headers.Accept.ToString().Contains(PackumentView.AbbreviatedMediaType, StringComparison.OrdinalIgnoreCase);
            // Every input of the answer is in the key: a changed document, policy, database, host name or form is a new entry.
            var key = $"npm\n{name}\n{judged.Digest}\n{judged.JudgementVersion}\n{options.DryRun}\n{baseUrl}\n{(abbreviated ? "abbreviated" : "full")}";
            if (judged.Stale)
            {
                context.Response.Headers["Warning"] = "110 - \"Response is Stale\"";
                context.Response.Headers["X-Tollgate-Stale"] = judged.Problem ?? "upstream unavailable";
            }
            var cached = responses.Get(key);
            if (cached is null)
            {
                document ??= await ReadPackument(name, judged).ConfigureAwait(false);
                if (document is null)
                {
                    // The stored copy changed, vanished or cannot be reached between the decision and now: decide again.
                    _judged.TryRemove(new KeyValuePair<string, JudgedPackument>(name, judged));
                    if (attempt == 1)
                    {
                        continue;
                    }
                    await WriteError(context, 503, $"the feed's copy of {name} changed or could not be read while it was served; try again").ConfigureAwait(false);
                    return;
                }
                var served = PackumentView.Filter(name, document, judged.Decisions, baseUrl, options.DryRun);
                if (served is null)
                {
                    await Audit(context, name, judged.NotAllowed, "packument").ConfigureAwait(false);
                    var reasons = judged.Decisions.Values.Where(d => !d.IsServed).Select(d => d.Message).Take(3);
                    await WriteError(context, 404, $"no version of {name} is allowed by the feed's policy: {string.Join("; ", reasons)}").ConfigureAwait(false);
                    return;
                }
                var body = abbreviated ? PackumentView.Abbreviate(served) : served;
                var mediaType = (abbreviated ? PackumentView.AbbreviatedMediaType : "application/json") + "; charset=utf-8";
                cached = Storage.CachedResponse.Create(Encoding.UTF8.GetBytes(body.ToJsonString()), mediaType, judged.Expires);
                if (!judged.Stale)
                {
                    responses.Add(key, cached);
                }
            }
            await Audit(context, name, judged.NotAllowed, "packument").ConfigureAwait(false);
            await cached.WriteAsync(context).ConfigureAwait(false);
            return;
        }
    }

    /// <summary>
    /// The decisions for a packument: from memory while the copy is within <c>packumentTtl</c>, no boundary has passed
    /// and the policy and database are unchanged (and, past <c>packumentTtl</c> but within
    /// <c>packumentStaleWhileRevalidate</c>, while one revalidation runs in the background); otherwise through
    /// <see cref="GetPackument"/> (the cache, then the upstream), once however many requests ask at the same time.
    /// The document is returned when it was read.
    /// <paramref name="forTarball"/>: the decisions are for a tarball. A published version's manifest does not change
    /// (npm never lets it), so an older copy of the packument decides its verdict as well as a newer one while the
    /// policy, the database and the release-age boundaries are unchanged: past <c>packumentTtl</c> the decisions are
    /// still used, and the packument is checked again when a client next asks for it.
    /// </summary>
    private async Task<(JudgedPackument? Judged, PackumentFetch? Failure, JsonObject? Document)> Judged(string name, string? client, CancellationToken requestAborted, bool forTarball = false)
    {
        var now = time.GetUtcNow();
        var version = judgementVersion();
        var unchanged = _judged.TryGetValue(name, out var known) && known.JudgementVersion == version && !known.Stale && (known.Expires is null || now < known.Expires);
        if (unchanged && (known!.Private ? PrivateStillCurrent(name, known.Digest) : now - known.CheckedAt < options.PackumentTtl))
        {
            return (known, null, null);
        }
        if (unchanged && forTarball && !known!.Private)
        {
            return (known, null, null);
        }
        // Past packumentTtl within packumentStaleWhileRevalidate: the decisions made on the copy still answer (they
        // are current: same policy, database and release-age boundaries), and the copy is revalidated in the background.
        if (unchanged && !known!.Private && ServableWhileRevalidating(name, now - known.CheckedAt))
        {
            Revalidate(name);
            return (known, null, null);
        }
        // Only a release-age boundary passed (same policy and database): for a tarball the stored copy decides again,
        // without asking the upstream, for the same reason as above.
        var fromStoredCopy = forTarball && known is { Private: false, Stale: false } && known.JudgementVersion == version;
        var flight = _judging.GetOrAdd(name, n => new Lazy<Task<(JudgedPackument?, PackumentFetch?, JsonObject?)>>(() => Judge(n, client, known, version, fromStoredCopy)));
        try
        {
            return await flight.Value.WaitAsync(requestAborted).ConfigureAwait(false);
        }
        finally
        {
            if (flight.Value.IsCompleted)
            {
                _judging.TryRemove(new KeyValuePair<string, Lazy<Task<(JudgedPackument?, PackumentFetch?, JsonObject?)>>>(name, flight));
            }
        }
    }

    /// <summary>
    /// Makes the decisions on the stored copy or the upstream's answer (see <see cref="GetPackument"/>);
    /// <paramref name="revalidate"/>: for a background revalidation, which always asks the upstream once the copy is
    /// past <c>packumentTtl</c>.
    /// </summary>
    private async Task<(JudgedPackument?, PackumentFetch?, JsonObject?)> Judge(string name, string? client, JudgedPackument? known, string version, bool fromStoredCopy = false,
        bool revalidate = false, CancellationToken cancellationToken = default)
    {
        // Not the request's token: the decision is shared by every request waiting for it.
        // The decisions in memory may be kept when only the copy's age ran out and the upstream confirms it unchanged.
        var reusable = known is not null && known.JudgementVersion == version && !known.Stale && (known.Expires is null || time.GetUtcNow() < known.Expires);
        var stored = fromStoredCopy && known is not null ? await ReadPackument(name, known).ConfigureAwait(false) : null;
        var fetch = stored is not null
            ? new PackumentFetch(stored, 200, Digest: known!.Digest)
            : await GetPackument(name, client, cancellationToken, reusable ? known!.Digest : null, revalidate).ConfigureAwait(false);
        if (fetch.Unchanged && known is not null)
        {
            var refreshed = known with { CheckedAt = fetch.CheckedAt ?? time.GetUtcNow() };
            _judged[name] = refreshed;
            return (refreshed, null, null);
        }
        if (fetch.Document is null)
        {
            return (null, fetch, null);
        }
        var document = fetch.Document;
        Interlocked.Increment(ref _judgements);
        var decisions = judge.Judge(name, document);
        var byFile = new Dictionary<string, string>(StringComparer.Ordinal);
        var dist = new Dictionary<string, JsonObject?>(StringComparer.Ordinal);
        foreach (var (v, node) in document["versions"] as JsonObject ?? [])
        {
            var d = node?["dist"] as JsonObject;
            dist[v] = d?.DeepClone() as JsonObject;
            byFile.TryAdd(PackumentView.TarballFile(name, v, d), v);
        }
        // Decided again from the stored copy, the copy is as old as before: a packument request still revalidates it.
        var checkedAt = stored is not null ? known!.CheckedAt : fetch.CheckedAt ?? time.GetUtcNow();
        var judged = new JudgedPackument(name, fetch.Digest ?? "", version, checkedAt, judge.NextChange(document, decisions), decisions,
            byFile.ToFrozenDictionary(StringComparer.Ordinal), dist.ToFrozenDictionary(StringComparer.Ordinal), fetch.Private, fetch.Stale, fetch.Problem);
        if (!fetch.Stale)
        {
            _judged[name] = judged;
        }
        return (judged, null, document);
    }

    /// <summary>
    /// True when a stored upstream copy this old is answered at once while it is revalidated in the background: past
    /// <c>packumentTtl</c> (the caller checks that) and within <c>packumentStaleWhileRevalidate</c> after it, unless the
    /// upstream's last answer for the name had no document.
    /// </summary>
    private bool ServableWhileRevalidating(string name, TimeSpan age) =>
        options.PackumentStaleWhileRevalidate > TimeSpan.Zero && age < options.PackumentTtl + options.PackumentStaleWhileRevalidate
        && !_noStaleAnswers.ContainsKey(name);

    /// <summary>
    /// Starts one revalidation of a name's stored copy in the background, unless one is running: what a request past
    /// <c>packumentTtl</c> does without the window (a conditional request with the stored validators; a 200 checked and
    /// stored, a 304 confirmed, the decisions made again for the next request), bounded by <c>upstreamTimeout</c> and
    /// ended by the feed's stop. At most <see cref="FeedOptions.BackgroundRevalidations"/> run at once; the others wait
    /// for a turn (the wait does not count against <c>upstreamTimeout</c>). A failure is logged and the stored copy kept.
    /// </summary>
    private void Revalidate(string name)
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_revalidating.TryAdd(name, ended.Task))
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await _revalidationSlots.WaitAsync(stopping).ConfigureAwait(false);
                try
                {
                    await RevalidateNow(name).ConfigureAwait(false);
                }
                finally
                {
                    _revalidationSlots.Release();
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                LogRevalidationStopped(logger, name);
            }
            finally
            {
                _revalidating.TryRemove(new KeyValuePair<string, Task>(name, ended.Task));
                ended.SetResult();
            }
        }, CancellationToken.None);
    }

    private async Task RevalidateNow(string name)
    {
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            bounded.CancelAfter(options.UpstreamTimeout);
            _judged.TryGetValue(name, out var known);
            var (judged, failure, _) = await Judge(name, null, known, judgementVersion(), revalidate: true, cancellationToken: bounded.Token).ConfigureAwait(false);
            if (judged is not null)
            {
                LogRevalidated(logger, name, judged.Digest == known?.Digest ? "the copy is unchanged" : "the next request is decided on the new copy");
            }
            else if (failure is { Stale: false })
            {
                LogRevalidatedWithoutDocument(logger, name, failure.Status, failure.Problem ?? "no document");
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogRevalidationStopped(logger, name);
        }
        catch (OperationCanceledException)
        {
            LogRevalidationFailed(logger, name, $"it did not end within {NpmUpstream.FormatTimeout(options.UpstreamTimeout)} (upstreamTimeout)");
        }
        catch (Exception e)
        {
            // Nobody waits for this task: whatever went wrong is logged here, and the stored copy stays in use.
            LogRevalidationError(logger, name, e);
        }
    }

    /// <summary>Completes when the background revalidations running now have ended (soon after the feed's stop token fires).</summary>
    internal Task RevalidationsEnded() => Task.WhenAll(_revalidating.Values);

    /// <summary>
    /// True while the decisions about a private package were made on the packument stored now (another instance
    /// sharing the state may have published since); an unreachable store means decide again.
    /// </summary>
    private bool PrivateStillCurrent(string name, string digest)
    {
        try
        {
            return privates.IsCurrent(name, digest);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Reads the stored copy a decision was made on; null when it is no longer that copy or cannot be read.</summary>
    private async Task<JsonObject?> ReadPackument(string name, JudgedPackument judged)
    {
        try
        {
            var bytes = judged.Private ? privates.ReadPackument(name) : await packuments.ReadAsync(name, stopping).ConfigureAwait(false);
            return bytes is not null && Digest(bytes) == judged.Digest ? JsonNode.Parse(bytes) as JsonObject : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }

    private static string Digest(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// The full upstream (or private) packument, through the cache. <paramref name="requestAborted"/> is the client's
    /// token: a client that leaves ends the upstream request too (with an <see cref="OperationCanceledException"/>,
    /// not as an upstream failure). A stored copy past <c>packumentTtl</c> within <c>packumentStaleWhileRevalidate</c>
    /// is returned like a fresh one and revalidated in the background. <paramref name="revalidate"/>: for that
    /// background revalidation, which asks the upstream once the copy is past <c>packumentTtl</c>, and whose failure
    /// returns no document (the stored copy is already in use).
    /// </summary>
    internal async Task<PackumentFetch> GetPackument(string name, string? client, CancellationToken requestAborted, string? knownDigest = null, bool revalidate = false)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        if (IsPrivate(name))
        {
            // The dependency-confusion defence: a private name is never asked of the upstream registry.
            byte[]? stored;
            try
            {
                stored = privates.ReadPackument(name);
            }
            catch (IOException e)
            {
                LogPrivatePackumentUnreadable(logger, name, e.Message);
                return new PackumentFetch(null, 503, $"the feed's record of {name} cannot be read now; try again");
            }
            if (stored is not null)
            {
                if (Parse(stored) is { } local)
                {
                    return new PackumentFetch(local, 200, Private: true, Digest: Digest(stored));
                }
                LogPrivatePackumentUnreadable(logger, name, "it is not a JSON object");
                return new PackumentFetch(null, 500, $"the feed's record of {name} cannot be read");
            }
            await audit.AddAsync([new AuditEntry(time.GetUtcNow(), name, null, "refused", "private", $"{name} is private and has not been published to this feed", client, "packument", options.DryRun)]).ConfigureAwait(false);
            return new PackumentFetch(null, 404, $"{name} is a private name (policy 'private') and has not been published to this feed");
        }
        var cached = await _stored.FindAsync(name, cancellation.Token).ConfigureAwait(false);
        var age = time.GetUtcNow() - cached?.FetchedAt;
        var fresh = age < options.PackumentTtl;
        // The same answer as a fresh copy (and the same decisions, made now), while one revalidation runs in the background.
        var servedWhileRevalidating = !fresh && !revalidate && age is { } past && ServableWhileRevalidating(name, past);
        if (fresh || servedWhileRevalidating)
        {
            // The copy is as old as the upstream's answer it holds, whichever instance received it.
            var checkedAt = cached!.FetchedAt;
            var local = knownDigest is not null && cached!.Digest == knownDigest
                ? new PackumentFetch(null, 200, Digest: knownDigest, Unchanged: true, CheckedAt: checkedAt)
                : await ReadCached(name, cancellation.Token).ConfigureAwait(false) is { } copy
                    ? new PackumentFetch(copy.Document, 200, Digest: copy.Digest, CheckedAt: checkedAt)
                    : null;
            if (local is not null)
            {
                if (servedWhileRevalidating)
                {
                    Revalidate(name);
                }
                return local;
            }
        }
        var validators = cached is null ? null : new CacheValidators(cached.ETag, cached.LastModified);
        var answer = await upstream.GetPackumentAsync(name, validators, cancellation.Token).ConfigureAwait(false);
        if (answer.Status is UpstreamStatus.Ok or UpstreamStatus.NotModified)
        {
            _noStaleAnswers.TryRemove(name, out _);
        }
        else if (cached is not null && answer.Status is UpstreamStatus.NotFound or UpstreamStatus.Refused)
        {
            // Only names with a stored copy: requests for names the upstream never had add nothing here.
            _noStaleAnswers[name] = true;
        }
        var bodyDigest = answer.Status == UpstreamStatus.Ok ? Digest(answer.Body) : null;
        // A 304, or a 200 with the same bytes again (an upstream that sends no validators, or ignores them), for the
        // copy the decisions in memory were made on: confirmed, without storing or deciding it again.
        var confirmed = answer.Status == UpstreamStatus.NotModified || bodyDigest == knownDigest;
        switch (answer.Status)
        {
            case UpstreamStatus.Ok or UpstreamStatus.NotModified when confirmed && knownDigest is not null && cached is not null && cached.Digest == knownDigest:
                // A 200 carries the upstream's current validators (it may name the same bytes with a new ETag): the next
                // conditional request sends those.
                var renewed = answer.Status == UpstreamStatus.Ok
                    ? cached with { ETag = answer.ETag, LastModified = answer.LastModified, FetchedAt = time.GetUtcNow() }
                    : cached with { FetchedAt = time.GetUtcNow() };
                await _stored.WriteAsync(name, c => c.ConfirmAsync(name, renewed, cancellation.Token)).ConfigureAwait(false);
                return new PackumentFetch(null, 200, Digest: knownDigest, Unchanged: true);
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
                    return await Stale(name, "the upstream registry sent a packument that is not valid JSON", revalidate, cancellation.Token).ConfigureAwait(false);
                }
                await _stored.WriteAsync(name, c => c.StoreAsync(name, answer.Body!, new CachedPackument(answer.ETag, answer.LastModified, time.GetUtcNow(), bodyDigest), cancellation.Token))
                    .ConfigureAwait(false);
                return new PackumentFetch(doc, 200, Digest: bodyDigest);
            case UpstreamStatus.NotModified:
                if (await ReadCached(name, cancellation.Token).ConfigureAwait(false) is { } same)
                {
                    await _stored.WriteAsync(name, c => c.ConfirmAsync(name, (cached ?? new CachedPackument(null, null, null, null)) with { FetchedAt = time.GetUtcNow(), Digest = same.Digest }, cancellation.Token)).ConfigureAwait(false);
                    return new PackumentFetch(same.Document, 200, Digest: same.Digest);
                }
                return await Stale(name, "the upstream registry answered 304 Not Modified for a copy the feed cannot read", revalidate, cancellation.Token).ConfigureAwait(false);
            case UpstreamStatus.NotFound:
                return new PackumentFetch(null, 404, $"{name} is not in the upstream registry");
            case UpstreamStatus.Refused:
                // Not a passing outage a stale copy bridges: the upstream's current answer is one the feed will not take.
                if (!revalidate)
                {
                    LogUpstreamRefused(logger, name, answer.Problem ?? "refused");
                }
                return new PackumentFetch(null, 502, answer.Problem ?? "the upstream answer was refused");
            default:
                return await Stale(name, answer.Problem ?? "the upstream registry failed", revalidate, cancellation.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The stored copy marked stale when the upstream failed; for a background revalidation
    /// (<paramref name="revalidate"/>) only the failure, logged: the stored copy is already being answered.
    /// </summary>
    private async Task<PackumentFetch> Stale(string name, string problem, bool revalidate, CancellationToken cancellationToken)
    {
        if (revalidate)
        {
            LogRevalidationFailed(logger, name, problem);
            return new PackumentFetch(null, 502, problem, Stale: true);
        }
        if (await ReadCached(name, cancellationToken).ConfigureAwait(false) is { } stale)
        {
            LogStale(logger, name, problem);
            return new PackumentFetch(stale.Document, 200, problem, Stale: true, Digest: stale.Digest);
        }
        LogUpstreamFailed(logger, name, problem);
        return new PackumentFetch(null, 502, $"{problem}, and the feed has no cached copy it can read");
    }

    /// <summary>A stored copy with the digest of the bytes it was parsed from; null when none can be read.</summary>
    private async Task<(JsonObject Document, string Digest)?> ReadCached(string name, CancellationToken cancellationToken)
    {
        var bytes = await _stored.ReadAsync(name, cancellationToken).ConfigureAwait(false);
        return bytes is not null && Parse(bytes) is { } document ? (document, Digest(bytes)) : null;
    }

    private static JsonObject? Parse(byte[] bytes)
    {
        try
        {
            return JsonNode.Parse(bytes) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task ServeTarball(HttpContext context, string name, string file)
    {
        var (judged, failure, _) = await Judged(name, context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted, forTarball: true).ConfigureAwait(false);
        if (judged is null)
        {
            await WriteError(context, failure!.Status, failure.Problem ?? "not found").ConfigureAwait(false);
            return;
        }
        if (!judged.VersionByFile.TryGetValue(file, out var version))
        {
            await WriteError(context, 404, $"{name} has no version whose tarball is {file}").ConfigureAwait(false);
            return;
        }
        var decision = judged.Decisions[version];
        await Audit(context, name, [decision], "tarball").ConfigureAwait(false);
        if (!decision.IsServed && !options.DryRun)
        {
            var message = $"{name}@{version} is refused by the Tollgate feed: {decision.Message}";
            context.Response.Headers["npm-notice"] = message;
            await WriteError(context, 403, message, decision.Rule).ConfigureAwait(false);
            return;
        }
        var dist = judged.Dist[version];
        if (judged.Private)
        {
            await ServePrivateTarball(context, name, version, dist).ConfigureAwait(false);
            return;
        }
        var digest = ExpectedDigest(dist);
        var (stored, problem) = await CachedTarball(name, file, dist, digest, context.RequestAborted).ConfigureAwait(false);
        if (problem is not null || stored is null)
        {
            LogUpstreamFailed(logger, $"{name}@{version}", problem ?? "the tarball could not be fetched");
            await WriteError(context, 502, problem ?? "the tarball could not be fetched").ConfigureAwait(false);
            return;
        }
        // A verified file is immutable under its name: its digest is a strong entity tag, and ranges are safe to serve.
        var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{digest}\"");
        context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        // The most asked-for small files are answered from memory (the same checks of ETag and ranges as from disk).
        var hot = digest is not null ? _hot.Get(stored, digest) : null;
        if (Storage.ResponseBody.IsPlainGet(context.Request))
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/octet-stream";
            context.Response.Headers.ETag = etag.ToString();
            context.Response.Headers.AcceptRanges = "bytes";
            await (hot is not null ? Storage.ResponseBody.WriteAsync(context, hot) : Storage.ResponseBody.WriteFileAsync(context, stored)).ConfigureAwait(false);
            return;
        }
        var result = hot is not null
            ? (IResult)TypedResults.File(hot, "application/octet-stream", entityTag: etag, enableRangeProcessing: true)
            : TypedResults.PhysicalFile(stored, "application/octet-stream", entityTag: etag, enableRangeProcessing: true);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>The digest a tarball must have: the sha512 in <c>dist.integrity</c> (hex), else <c>dist.shasum</c>.</summary>
    private static string? ExpectedDigest(JsonObject? dist)
    {
        var sri = dist?["integrity"] is JsonValue i && i.TryGetValue<string>(out var text) ? text : null;
        foreach (var hash in Graph.IntegrityHash.ParseSri(sri))
        {
            if (hash.Algorithm == "sha512")
            {
                try
                {
                    return "sha512-" + Convert.ToHexStringLower(Convert.FromBase64String(hash.Value));
                }
                catch (FormatException)
                {
                    return null;
                }
            }
        }
        return dist?["shasum"] is JsonValue s && s.TryGetValue<string>(out var hex) ? "sha1-" + hex.ToLowerInvariant() : null;
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
        byte[]? bytes;
        try
        {
            bytes = privates.ReadTarball(name, parsed);
        }
        catch (IOException e)
        {
            LogPrivateTarballRefused(logger, name, version, e.Message);
            await WriteError(context, 503, $"{name}@{version} cannot be read from the feed's storage now; try again").ConfigureAwait(false);
            return;
        }
        if (bytes is null)
        {
            LogPrivateTarballRefused(logger, name, version, "the stored tarball is missing");
            await WriteError(context, 500, $"{name}@{version} is published but its tarball is missing from the feed's storage").ConfigureAwait(false);
            return;
        }
        // The bytes that are checked are the bytes that are sent.
        var (sha512, sha1) = TarballIntegrity.Hash(bytes);
        if (TarballIntegrity.Check(dist, sha512, sha1) is { } mismatch)
        {
            LogPrivateTarballRefused(logger, name, version, mismatch);
            await WriteError(context, 500, $"{name}@{version} is not served: the stored tarball does not match the integrity recorded at publish ({mismatch})")
                .ConfigureAwait(false);
            return;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/octet-stream";
        await Storage.ResponseBody.WriteAsync(context, bytes).ConfigureAwait(false);
    }

    /// <summary>True when the file's bytes were checked in this process against <paramref name="expected"/> (the digest the packument declares).</summary>
    private bool Verified(string target, string? expected) =>
        expected is not null && _verified.TryGetValue(target, out var checkedDigest) && checkedDigest == expected;

    /// <summary>The verified tarball file in the cache, downloading it once however many requests ask at the same time; <paramref name="expected"/> is <see cref="ExpectedDigest"/> of <paramref name="dist"/>.</summary>
    private async Task<(string? Path, string? Problem)> CachedTarball(string name, string file, JsonObject? dist, string? expected, CancellationToken requestAborted)
    {
        var target = storage.TarballFile(name, file);
        if (File.Exists(target))
        {
            if (Verified(target, expected))
            {
                return (target, null);
            }
            // Written before this process started, or the packument now declares other hashes: check the bytes once.
            var (sha512, sha1) = TarballIntegrity.HashFile(target);
            if (expected is not null && TarballIntegrity.Check(dist, sha512, sha1) is null)
            {
                _verified[target] = expected;
                return (target, null);
            }
            // A cached file that no longer matches the packument is not served; fetch it again.
            _verified.TryRemove(target, out _);
            _hot.Forget(target);
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
        var download = _downloads.GetOrAdd(target, _ => new Lazy<Task<string?>>(() => Download(url, target, dist, expected)));
        // A client that leaves stops waiting; the shared download goes on for the others and the cache.
        var problem = await download.Value.WaitAsync(requestAborted).ConfigureAwait(false);
        return problem is null ? (target, null) : (null, problem);
    }

    /// <summary>
    /// Downloads and verifies a tarball into the cache (from the instances' shared store when another instance put it
    /// there, else from the upstream, then shares it); removes itself from the shared downloads when done.
    /// </summary>
    private async Task<string?> Download(Uri url, string target, JsonObject? dist, string? expected)
    {
        try
        {
            // A request that found no file just before another request's download of it ended (and left the shared
            // downloads) arrives here after it: the file is in place and verified, there is nothing to fetch.
            if (Verified(target, expected) && File.Exists(target))
            {
                return null;
            }
            var fetched = await Storage.SharedCopies.FetchAsync(shared, storage, target, file =>
            {
                var (sha512, sha1) = TarballIntegrity.HashFile(file);
                return TarballIntegrity.Check(dist, sha512, sha1);
            }, async temp =>
            {
                Interlocked.Increment(ref _upstreamTarballDownloads);
                // Not the request's token: a client that gives up must not abort a download other clients share.
                var (sha512, sha1, problem) = await upstream.DownloadAsync(url, temp, stopping).ConfigureAwait(false);
                problem ??= TarballIntegrity.Check(dist, sha512!, sha1!);
                if (problem is not null)
                {
                    LogTarballRefused(logger, url, problem);
                }
                return problem;
            }, logger, stopping).ConfigureAwait(false);
            if (fetched.Problem is null && expected is not null)
            {
                _verified[target] = expected;
            }
            if (fetched.Taken)
            {
                Interlocked.Increment(ref _sharedTarballHits);
            }
            return fetched.Problem;
        }
        finally
        {
            _downloads.TryRemove(target, out _);
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
            await audit.AddAsync([new AuditEntry(time.GetUtcNow(), name, null, "refused", "private", $"{user} tried to publish {name}, which is not a private name", client, "publish", false)]).ConfigureAwait(false);
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
            await audit.AddAsync([new AuditEntry(time.GetUtcNow(), name, null, "refused", "token", refusal, client, "publish", false)]).ConfigureAwait(false);
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
        // The stored packument changed: the next request decides on the new one.
        _judged.TryRemove(name, out _);
        await audit.AddAsync([new AuditEntry(time.GetUtcNow(), name, null, status < 300 ? "published" : "refused", null, message, client, "publish", false)]).ConfigureAwait(false);
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
        try
        {
            return privates.Publish(name, stored => StorePublish(name, versions, attachments, body, token, stored));
        }
        catch (IOException e)
        {
            LogPrivatePackumentUnreadable(logger, name, e.Message);
            return (503, $"the feed's storage of {name} cannot be reached now: nothing was published; try again");
        }
    }

    /// <summary>The checks and the write of a publish, holding the name's publish lock in every instance.</summary>
    private (int Status, string Message) StorePublish(string name, JsonObject versions, JsonObject attachments, JsonObject body, FeedToken token, IPrivatePublish stored)
    {
        var storedBytes = stored.Packument;
        var existing = storedBytes is null ? null : Parse(storedBytes);
        if (existing is null && storedBytes is not null)
        {
            // Starting afresh would forget which versions exist and let them be published again.
            LogPrivatePackumentUnreadable(logger, name, "it is not a JSON object");
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
            if (stored.Tarball(version) is { } earlier && !string.Equals(TarballIntegrity.Describe(earlier).Integrity, integrity, StringComparison.Ordinal))
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
        stored.Write(Encoding.UTF8.GetBytes(packument.ToJsonString()), [.. checkedVersions.Select(p => (p.Version, p.Tarball))]);
        var added = string.Join(", ", checkedVersions.Select(p => p.Version.Normalized));
        LogPublished(logger, name, added, token.Name);
        return (201, $"published {name}@{added}");
    }

    private ValueTask Audit(HttpContext context, string name, IReadOnlyCollection<VersionDecision> decisions, string request)
    {
        if (decisions.Count == 0)
        {
            return ValueTask.CompletedTask;
        }
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
        return audit.AddAsync(entries);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Package}: revalidated in the background: {Outcome}")]
    private static partial void LogRevalidated(ILogger logger, string package, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Package}: revalidated in the background: the upstream answered {Status} ({Problem}); the next request asks the upstream before it is answered")]
    private static partial void LogRevalidatedWithoutDocument(ILogger logger, string package, int status, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Package}: the background revalidation failed, the stored copy stays in use: {Problem}")]
    private static partial void LogRevalidationFailed(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Package}: the background revalidation was ended by the feed's stop")]
    private static partial void LogRevalidationStopped(ILogger logger, string package);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Package}: the background revalidation failed unexpectedly, the stored copy stays in use")]
    private static partial void LogRevalidationError(ILogger logger, string package, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Package}: the feed's packument cache cannot be used: {Problem}")]
    private static partial void LogPackumentCacheUnavailable(ILogger logger, string package, string problem);

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

    [LoggerMessage(Level = LogLevel.Error, Message = "{Package}: its stored packument cannot be read: {Problem}")]
    private static partial void LogPrivatePackumentUnreadable(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "{User} published {Package}@{Versions}")]
    private static partial void LogPublished(ILogger logger, string package, string versions, string user);
}
