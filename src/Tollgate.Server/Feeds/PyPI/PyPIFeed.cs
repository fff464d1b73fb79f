using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Feeds.PyPI;

/// <summary>A project page as the feed found it: the page, or the status and message to answer with.</summary>
internal sealed record PageFetch(SimplePage? Page, int Status, string? Problem = null, bool Stale = false, bool Private = false, string Digest = "");

/// <summary>
/// The decisions for one project page, made once per change of their inputs (the page, the policy and advisory
/// database, the clock passing a release-age boundary) and shared by every page and file request until then.
/// </summary>
internal sealed record JudgedPage(SimplePage Page, string Digest, string JudgementVersion, DateTimeOffset? Expires, ImmutableDictionary<string, VersionDecision> Decisions)
{
    /// <summary>The decisions a page request logs (everything not plainly allowed).</summary>
    public ImmutableArray<VersionDecision> NotAllowed { get; } = [.. Decisions.Values.Where(d => d.Verdict != FeedVerdict.Allowed)];

    /// <summary>How many versions are not served.</summary>
    public int Refused { get; } = Decisions.Values.Count(d => !d.IsServed);
}

/// <summary>
/// The PyPI feed under <c>/pypi/</c>: the simple repository API (PEP 503 HTML, PEP 691 JSON, PEP 592, 658/714, 700),
/// upstream project pages kept with their validators in <paramref name="pages"/> (the storage folder, or the state
/// database several instances share), files fetched from the upstream index on demand (or taken from the instances'
/// shared store) and verified against the sha256 the index declares before they are stored or served, and the legacy
/// upload API for private projects. Decide first, then serve or refuse.
/// </summary>
internal sealed partial class PyPIFeed(FeedOptions options, PyPIUpstream upstream, FeedStorage storage, IPackumentCache pages, PackageJudge judge,
    Storage.AuditQueue audit, Storage.ResponseCache responses, Func<string> judgementVersion, Storage.ISharedArtifacts? shared, TimeProvider time, ILogger logger,
    CancellationToken stopping)
{
    /// <summary>The path prefix the feed answers under.</summary>
    public const string Prefix = "/pypi";

    private const string InstallCode = "is published only as a source distribution, whose build runs the project's own code at install time";

    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _downloads = new(StringComparer.Ordinal);
    private readonly Lock _uploadGate = new();
    private readonly ConcurrentDictionary<string, JudgedPage> _judged = new(StringComparer.Ordinal);
    // The upstream project pages stored (folder or shared state); a store that cannot be reached counts as empty.
    private readonly UpstreamDocumentStore _stored = new(pages, (name, problem) => LogPageCacheUnavailable(logger, name, problem));
    // Stored files whose bytes were checked (when written, or once after a restart): the sha256 checked, and the size and
    // modification time the file had then; a file whose size or time changed since is checked again.
    private readonly ConcurrentDictionary<string, (string Sha256, long Length, DateTime Written)> _verified = new(StringComparer.Ordinal);
    private int _fileHashes;

    /// <summary>How many times a stored file was read through to check its sha256.</summary>
    public int FileHashes => Volatile.Read(ref _fileHashes);

    public Uri IndexUrl => upstream.IndexUrl;

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
            if (path is "/" or "/legacy" or "/legacy/" && HttpMethods.IsPost(context.Request.Method))
            {
                await Upload(context).ConfigureAwait(false);
                return;
            }
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                await WriteText(context, 405, $"{context.Request.Method} is not supported here").ConfigureAwait(false);
                return;
            }
            var segments = path.Split('/');
            // "", "simple", name, ""   or   "", "files", name, file
            if (path == "/simple/" || path == "/simple")
            {
                await ServeRoot(context).ConfigureAwait(false);
            }
            else if (segments.Length is 3 or 4 && segments[1] == "simple" && (segments.Length == 3 || segments[3].Length == 0))
            {
                await ServePage(context, segments[2], segments.Length == 4).ConfigureAwait(false);
            }
            else if (segments.Length == 4 && segments[1] == "files")
            {
                await ServeFile(context, segments[2], segments[3]).ConfigureAwait(false);
            }
            else
            {
                await WriteText(context, 404, "this feed offers /pypi/simple/ and the files it lists").ConfigureAwait(false);
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

    /// <summary>True for a name PEP 508 allows (letters, digits, '.', '_', '-', starting and ending with a letter or digit).</summary>
    internal static bool IsValidName(string name) =>
        name.Length is > 0 and <= 200 && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>True for a file name the feed may store: a wheel or sdist name with no path characters.</summary>
    internal static bool IsValidFileName(string file) =>
        file.Length is > 0 and <= 255 && file[0] != '.' && file.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+' or '!')
        && !file.Contains("..", StringComparison.Ordinal);

    private static string Base(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{Prefix}/";

    private async Task ServeRoot(HttpContext context)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            names.UnionWith((await pages.NamesAsync(context.RequestAborted).ConfigureAwait(false)).Where(IsValidName));
        }
        catch (IOException e)
        {
            // The private projects are still listed; the upstream ones a client asks for by name are fetched as usual.
            LogPageCacheUnavailable(logger, "/simple/", e.Message);
        }
        var privateFolder = storage.Inside("pypi", "private");
        if (Directory.Exists(privateFolder))
        {
            names.UnionWith(Directory.EnumerateDirectories(privateFolder).Select(d => Path.GetFileName(d)).Where(IsValidName));
        }
        var json = WantsJson(context);
        await WriteBytes(context, 200, json ? SimplePage.RootJson(names) : SimplePage.RootHtml(names), json ? SimplePage.JsonMediaType : SimplePage.HtmlMediaType)
            .ConfigureAwait(false);
    }

    private async Task ServePage(HttpContext context, string name, bool slash)
    {
        if (!IsValidName(name))
        {
            await WriteText(context, 400, $"'{name}' is not a valid project name").ConfigureAwait(false);
            return;
        }
        var normalized = Component.NormalizePyPIName(name);
        if (!slash || !string.Equals(name, normalized, StringComparison.Ordinal))
        {
            // PEP 503: the canonical URL is the normalised name with a trailing slash; pip follows the redirect.
            context.Response.StatusCode = 301;
            context.Response.Headers.Location = $"{Base(context)}simple/{normalized}/";
            return;
        }
        var fetch = await GetPage(normalized, context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted).ConfigureAwait(false);
        if (fetch.Page is null)
        {
            await WriteText(context, fetch.Status, fetch.Problem ?? "not found").ConfigureAwait(false);
            return;
        }
        var judged = Judged(normalized, fetch);
        Audit(context, normalized, judged.NotAllowed, "page");
        if (fetch.Stale)
        {
            context.Response.Headers["Warning"] = "110 - \"Response is Stale\"";
            context.Response.Headers["X-Tollgate-Stale"] = fetch.Problem ?? "upstream unavailable";
        }
        if (judged.Refused > 0)
        {
            context.Response.Headers["X-Tollgate-Refused"] = judged.Refused.ToString(CultureInfo.InvariantCulture);
        }
        var json = WantsJson(context);
        var baseUrl = Base(context);
        // Every input of the answer is in the key: a changed page, policy, database, host name or form is a new entry.
        var key = $"pypi\n{normalized}\n{judged.Digest}\n{judged.JudgementVersion}\n{options.DryRun}\n{baseUrl}\n{(json ? "json" : "html")}";
        var cached = responses.Get(key);
        if (cached is null)
        {
            var served = View(judged.Page, judged.Decisions, baseUrl);
            cached = Storage.CachedResponse.Create(json ? served.ToJson() : served.ToHtml(), json ? SimplePage.JsonMediaType : SimplePage.HtmlMediaType + "; charset=utf-8",
                judged.Expires);
            // A stale page is served, never kept as the answer: the next request asks the upstream again.
            if (!fetch.Stale)
            {
                responses.Add(key, cached);
            }
        }
        await cached.WriteAsync(context).ConfigureAwait(false);
    }

    /// <summary>PEP 691 content negotiation: JSON when the client prefers it by its q-values, else HTML.</summary>
    internal static bool WantsJson(HttpContext context)
    {
        if (context.Request.Query["format"].ToString() is { Length: > 0 } format)
        {
            return format.Contains("json", StringComparison.OrdinalIgnoreCase);
        }
        if (!MediaTypeHeaderValue.TryParseList(context.Request.Headers.Accept.Select(a => a ?? "").ToList(), out var accepted) || accepted.Count == 0)
        {
            return false;
        }
        double json = 0, html = 0;
        foreach (var media in accepted)
        {
            var q = media.Quality ?? 1.0;
            var type = media.MediaType.Value ?? "";
            if (type is SimplePage.JsonMediaType or "application/vnd.pypi.simple.latest+json")
            {
                json = Math.Max(json, q);
            }
            else if (type is SimplePage.HtmlMediaType or "application/vnd.pypi.simple.latest+html" or "text/html" or "*/*")
            {
                html = Math.Max(html, q);
            }
        }
        return json > 0 && json >= html;
    }

    /// <summary>The version a file belongs to (PEP 440 normalised), or null when its name does not fit the project.</summary>
    private static string? VersionOf(SimpleFile file, string project) =>
        PyPIDistribution.Parse(file.Filename) is { } d && d.BelongsTo(project)
            ? (Pep440Version.TryParse(d.Version, out var v) ? v.Normalized : null)
            : null;

    /// <summary>
    /// The decisions for a fetched page: from memory while the page (by its digest), the policy and the advisory
    /// database are unchanged and no release-age boundary has passed; otherwise judged again. Decisions on a stale page
    /// are not kept.
    /// </summary>
    private JudgedPage Judged(string name, PageFetch fetch)
    {
        var version = judgementVersion();
        if (_judged.TryGetValue(name, out var known) && known.Digest == fetch.Digest && known.JudgementVersion == version
            && (known.Expires is null || time.GetUtcNow() < known.Expires))
        {
            return known;
        }
        var releases = Releases(fetch.Page!);
        var decisions = judge.Judge(releases);
        var judged = new JudgedPage(fetch.Page!, fetch.Digest, version, judge.NextChange(releases.Select(r => (r.Component.Version, r.Published)), decisions), decisions);
        if (!fetch.Stale)
        {
            _judged[name] = judged;
        }
        return judged;
    }

    /// <summary>The versions of a page as the judge sees them: each one's earliest upload time, and whether it can be installed without building.</summary>
    private static List<FeedRelease> Releases(SimplePage page) =>
        page.Files.Select(f => (File: f, Version: VersionOf(f, page.Name)))
            .Where(f => f.Version is not null)
            .GroupBy(f => f.Version!, StringComparer.Ordinal)
            .Select(g => new FeedRelease(
                new Component
                {
                    Ecosystem = Ecosystem.PyPI,
                    Name = page.Name,
                    Version = g.Key,
                    Purl = PackageUrl.For(Ecosystem.PyPI, page.Name, g.Key),
                },
                g.Select(f => f.File.UploadTime).Where(t => t is not null).Min(),
                g.Any(f => PyPIDistribution.Parse(f.File.Filename)!.IsWheel) ? null : InstallCode))
            .ToList();

    /// <summary>
    /// The page as served: only files of served versions with a sha256, their URLs on the feed (and no upstream
    /// provenance URL: the feed serves nothing from another host).
    /// </summary>
    private SimplePage View(SimplePage page, ImmutableDictionary<string, VersionDecision> decisions, string baseUrl)
    {
        bool Served(string? version) => version is not null && decisions.TryGetValue(version, out var d) && (d.IsServed || options.DryRun);
        var files = page.Files
            .Where(f => f.Sha256 is not null && Served(VersionOf(f, page.Name)))
            .Select(f => f with { Url = new Uri($"{baseUrl}files/{page.Name}/{Uri.EscapeDataString(f.Filename)}"), Provenance = null })
            .ToImmutableArray();
        var versions = page.Versions.IsEmpty ? decisions.Keys.ToImmutableArray() : page.Versions;
        versions = [.. versions.Where(v => Pep440Version.TryParse(v, out var p) && Served(p.Normalized))
            .OrderBy(v => Pep440Version.Parse(v))];
        return new SimplePage(page.Name, files, versions);
    }

    /// <summary>The upstream (or private) project page, through the cache.</summary>
    internal async Task<PageFetch> GetPage(string name, string? client, CancellationToken requestAborted)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        if (judge.IsPrivate(Ecosystem.PyPI, name))
        {
            // The dependency-confusion defence: a private name is never asked of the upstream index.
            var file = storage.Inside("pypi", "private", name, "page.json");
            if (LoadPage(file, name) is { } local)
            {
                return new PageFetch(local.Page, 200, Private: true, Digest: local.Digest);
            }
            audit.Enqueue([new AuditEntry(time.GetUtcNow(), Purl(name), null, "refused", "private", $"{name} is private and has not been uploaded to this feed", client, "page", options.DryRun)]);
            return new PageFetch(null, 404, $"{name} is a private name (policy 'private') and has not been uploaded to this feed");
        }
        var cached = await _stored.FindAsync(name, cancellation.Token).ConfigureAwait(false);
        if (cached is { FetchedAt: { } when } && time.GetUtcNow() - when < options.PackumentTtl
            && await ReadCached(name, cached, cancellation.Token).ConfigureAwait(false) is { } fresh)
        {
            return new PageFetch(fresh.Page, 200, Digest: fresh.Digest);
        }
        var validators = cached is null ? null : new CacheValidators(cached.ETag, cached.LastModified);
        var answer = await upstream.GetPageAsync(name, validators, cancellation.Token).ConfigureAwait(false);
        switch (answer.Status)
        {
            case UpstreamStatus.Ok:
                var bytes = answer.Page!.ToJson();
                var digest = Digest(bytes);
                if (cached is not null && cached.Digest == digest)
                {
                    // The stored page again (an index that sends no validators, or ignores them): renewed, not stored again.
                    await _stored.WriteAsync(name, c => c.ConfirmAsync(name, cached with { ETag = answer.ETag, LastModified = answer.LastModified, FetchedAt = time.GetUtcNow() },
                        cancellation.Token)).ConfigureAwait(false);
                    return new PageFetch(answer.Page, 200, Digest: digest);
                }
                await _stored.WriteAsync(name, c => c.StoreAsync(name, bytes, new CachedPackument(answer.ETag, answer.LastModified, time.GetUtcNow(), digest), cancellation.Token))
                    .ConfigureAwait(false);
                return new PageFetch(answer.Page, 200, Digest: digest);
            case UpstreamStatus.NotModified:
                if (await ReadCached(name, null, cancellation.Token).ConfigureAwait(false) is { } same)
                {
                    // The confirmation names the digest of the bytes read: a copy another instance replaced since keeps its own age.
                    await _stored.WriteAsync(name, c => c.ConfirmAsync(name, (cached ?? new CachedPackument(null, null, null, null)) with { FetchedAt = time.GetUtcNow(), Digest = same.Digest },
                        cancellation.Token)).ConfigureAwait(false);
                    return new PageFetch(same.Page, 200, Digest: same.Digest);
                }
                return await Stale(name, "the upstream index answered 304 Not Modified for a copy the feed cannot read", cancellation.Token).ConfigureAwait(false);
            case UpstreamStatus.NotFound:
                return new PageFetch(null, 404, $"{name} is not in the upstream index");
            case UpstreamStatus.Refused:
                LogUpstreamFailed(logger, name, answer.Problem ?? "refused");
                return new PageFetch(null, 502, answer.Problem);
            default:
                return await Stale(name, answer.Problem ?? "upstream failed", cancellation.Token).ConfigureAwait(false);
        }
    }

    private async Task<PageFetch> Stale(string name, string problem, CancellationToken cancellationToken)
    {
        if (await ReadCached(name, null, cancellationToken).ConfigureAwait(false) is { } stale)
        {
            LogStale(logger, name, problem);
            return new PageFetch(stale.Page, 200, problem, Stale: true, Digest: stale.Digest);
        }
        LogUpstreamFailed(logger, name, problem);
        return new PageFetch(null, 502, $"{problem}, and the feed has no cached copy it can read");
    }

    /// <summary>
    /// The stored page and its digest; null when none can be read. When <paramref name="entry"/> names the digest of
    /// the page judged last, that page is used without reading the bytes again.
    /// </summary>
    private async Task<(SimplePage Page, string Digest)?> ReadCached(string name, CachedPackument? entry, CancellationToken cancellationToken)
    {
        if (entry?.Digest is { } known && _judged.TryGetValue(name, out var judged) && judged.Digest == known)
        {
            return (judged.Page, known);
        }
        var bytes = await _stored.ReadAsync(name, cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : Parsed(bytes, name);
    }

    /// <summary>A stored private page and the digest of its bytes.</summary>
    private (SimplePage Page, string Digest)? LoadPage(string file, string name)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(file))
            {
                return null;
            }
            bytes = File.ReadAllBytes(file);
        }
        catch (IOException)
        {
            return null;
        }
        return Parsed(bytes, name);
    }

    /// <summary>
    /// A stored page's bytes read as a page, with their digest; the page judged last is reused when the bytes are the
    /// same, so an unchanged page is not parsed again.
    /// </summary>
    private (SimplePage Page, string Digest)? Parsed(byte[] bytes, string name)
    {
        var digest = Digest(bytes);
        if (_judged.TryGetValue(name, out var known) && known.Digest == digest)
        {
            return (known.Page, digest);
        }
        return SimplePage.ParseJson(bytes, new Uri("http://feed.invalid/"), name) is { } page ? (page, digest) : null;
    }

    private static string Digest(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static SimplePage? ReadPage(string file, string name)
    {
        try
        {
            return File.Exists(file) ? SimplePage.ParseJson(File.ReadAllBytes(file), new Uri("http://feed.invalid/"), name) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string Purl(string name) => $"pkg:pypi/{name}";

    private async Task ServeFile(HttpContext context, string name, string file)
    {
        if (!IsValidName(name) || !IsValidFileName(file))
        {
            await WriteText(context, 400, $"'{name}/{file}' is not a project and file name the feed serves").ConfigureAwait(false);
            return;
        }
        var normalized = Component.NormalizePyPIName(name);
        var metadata = file.EndsWith(".metadata", StringComparison.Ordinal);
        var distribution = metadata ? file[..^9] : file;
        var fetch = await GetPage(normalized, context.Connection.RemoteIpAddress?.ToString(), context.RequestAborted).ConfigureAwait(false);
        if (fetch.Page is null)
        {
            await WriteText(context, fetch.Status, fetch.Problem ?? "not found").ConfigureAwait(false);
            return;
        }
        var entry = fetch.Page.Files.FirstOrDefault(f => f.Filename == distribution);
        var version = entry is null ? null : VersionOf(entry, normalized);
        if (entry is null || version is null)
        {
            await WriteText(context, 404, $"{normalized} has no file {distribution}").ConfigureAwait(false);
            return;
        }
        var decision = Judged(normalized, fetch).Decisions[version];
        Audit(context, normalized, [decision], "tarball");
        if (!decision.IsServed && !options.DryRun)
        {
            await Refuse(context, 403, $"{normalized} {version} is refused by the Tollgate feed: {decision.Message}").ConfigureAwait(false);
            return;
        }
        var expected = metadata ? entry.MetadataSha256 : entry.Sha256;
        if (expected is null)
        {
            await WriteText(context, metadata ? 404 : 502, $"the upstream index declares no sha256 for {file}: the feed serves nothing it cannot verify").ConfigureAwait(false);
            return;
        }
        string? stored;
        if (fetch.Private)
        {
            stored = storage.Inside("pypi", "private", normalized, file);
            if (!Verified(stored, expected))
            {
                LogPrivateFileRefused(logger, normalized, file);
                await WriteText(context, 500, $"{file} is not served: the stored file is missing or does not match the sha256 recorded at upload").ConfigureAwait(false);
                return;
            }
        }
        else
        {
            var url = metadata ? new Uri(entry.Url.AbsoluteUri + ".metadata") : entry.Url;
            string? problem;
            (stored, problem) = await Cached(storage.Inside("pypi", "files", normalized, file), url, expected, context.RequestAborted).ConfigureAwait(false);
            if (stored is null)
            {
                LogUpstreamFailed(logger, $"{normalized}/{file}", problem ?? "not fetched");
                await WriteText(context, 502, problem ?? "the file could not be fetched").ConfigureAwait(false);
                return;
            }
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = metadata ? "text/plain; charset=utf-8" : "application/octet-stream";
        await Storage.ResponseBody.WriteFileAsync(context, stored).ConfigureAwait(false);
    }

    /// <summary>The verified file in the cache, downloading it once however many requests ask at the same time.</summary>
    private async Task<(string? Path, string? Problem)> Cached(string target, Uri url, string sha256, CancellationToken requestAborted)
    {
        if (File.Exists(target))
        {
            if (Verified(target, sha256))
            {
                return (target, null);
            }
            // A cached file that no longer matches the index is not served; fetch it again.
            FeedStorage.TryDelete(target);
        }
        if (url.Scheme is not ("http" or "https"))
        {
            return (null, $"the upstream index names {url.Scheme}: URLs; the feed fetches http(s) only");
        }
        var download = _downloads.GetOrAdd(target, _ => new Lazy<Task<string?>>(() => Download(url, target, sha256)));
        var problem = await download.Value.WaitAsync(requestAborted).ConfigureAwait(false);
        if (problem is not null)
        {
            return (null, problem);
        }
        // Verified when it was written: remembered as it is now, so the next request does not read it through again.
        var written = new FileInfo(target);
        if (written.Exists)
        {
            _verified[target] = (sha256, written.Length, written.LastWriteTimeUtc);
        }
        return (target, null);
    }

    /// <summary>
    /// True when the stored file's bytes have the expected sha256: checked once per process while the file keeps the
    /// size and modification time it had when checked (and when the file was written by <see cref="Download"/>).
    /// </summary>
    private bool Verified(string path, string sha256)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return false;
        }
        // Size and time are taken before the bytes are read: a file changed while it is read is read again next time.
        var (length, written) = (info.Length, info.LastWriteTimeUtc);
        if (_verified.TryGetValue(path, out var known) && known.Sha256 == sha256 && known.Length == length && known.Written == written)
        {
            return true;
        }
        string actual;
        try
        {
            actual = HashFile(path);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        if (string.Equals(actual, sha256, StringComparison.Ordinal))
        {
            _verified[path] = (sha256, length, written);
            return true;
        }
        _verified.TryRemove(path, out _);
        return false;
    }

    /// <summary>
    /// Puts the file in the cache: a copy another instance shared when its sha256 is the one the index declares, else
    /// the upstream's (verified the same way, then shared); removes itself from the shared downloads when done.
    /// </summary>
    private async Task<string?> Download(Uri url, string target, string sha256)
    {
        try
        {
            // The index declares a sha256 for every file that gets here (ServeFile serves nothing else): it vouches for a shared copy.
            var fetched = await Storage.SharedCopies.FetchAsync(shared, storage, target, file => Mismatch(Path.GetFileName(target), HashFile(file), sha256), async temp =>
            {
                // Not the request's token: a client that gives up must not abort a download other clients share.
                var (actual, problem) = await upstream.DownloadAsync(url, temp, stopping).ConfigureAwait(false);
                problem ??= Mismatch(url.Segments[^1], actual!, sha256);
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

    /// <summary>Null when <paramref name="actual"/> is the sha256 the index declares; else why the file is refused.</summary>
    private static string? Mismatch(string file, string actual, string declared) =>
        string.Equals(actual, declared, StringComparison.Ordinal)
            ? null
            : $"{file} does not match the sha256 the upstream index declares ({actual[..12]}… instead of {declared[..12]}…)";

    private string HashFile(string path)
    {
        Interlocked.Increment(ref _fileHashes);
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private FeedToken? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        string? secret = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            secret = header[7..].Trim();
        }
        else if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                // twine sends the token as the password (user name __token__ by convention; any user name is accepted).
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                secret = pair[(pair.IndexOf(':', StringComparison.Ordinal) + 1)..];
            }
            catch (FormatException)
            {
                return null;
            }
        }
        if (secret is null)
        {
            return null;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        return options.Tokens.FirstOrDefault(t => CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(t.Sha256)));
    }

    /// <summary>The legacy upload API (<c>twine upload</c>): one distribution file per request, for private projects only.</summary>
    private async Task Upload(HttpContext context)
    {
        var client = context.Connection.RemoteIpAddress?.ToString();
        if (Authenticate(context) is not { } token)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"tollgate\"";
            await Refuse(context, 401, "uploading needs a feed token: twine upload -u __token__ -p TOKEN (or TWINE_PASSWORD); see docs/feed.md").ConfigureAwait(false);
            return;
        }
        if (!context.Request.HasFormContentType)
        {
            await WriteText(context, 400, "the upload must be multipart/form-data (the legacy upload API twine uses)").ConfigureAwait(false);
            return;
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var name = form["name"].ToString();
        var version = form["version"].ToString();
        var content = form.Files.GetFile("content");
        if (form[":action"].ToString() != "file_upload" || content is null || !IsValidName(name) || !Pep440Version.TryParse(version, out var parsedVersion))
        {
            await WriteText(context, 400, "the upload needs ':action=file_upload', a valid 'name' and PEP 440 'version', and the file as 'content'").ConfigureAwait(false);
            return;
        }
        var normalized = Component.NormalizePyPIName(name);
        if (!judge.IsPrivate(Ecosystem.PyPI, normalized))
        {
            audit.Enqueue([new AuditEntry(time.GetUtcNow(), Purl(normalized), version, "refused", "private", $"{token.Name} tried to upload {normalized}, which is not a private name", client, "publish", false)]);
            await Refuse(context, 403, $"{normalized} is not a private name: only names listed under 'private' in the policy can be uploaded to this feed").ConfigureAwait(false);
            return;
        }
        if (!token.MayPublishName(normalized))
        {
            await Refuse(context, 403, $"the token of {token.Name} may not upload {normalized}").ConfigureAwait(false);
            return;
        }
        var fileName = Path.GetFileName(content.FileName);
        if (!IsValidFileName(fileName) || PyPIDistribution.Parse(fileName) is not { } distribution || !distribution.BelongsTo(normalized)
            || !Pep440Version.TryParse(distribution.Version, out var fileVersion) || fileVersion.Normalized != parsedVersion.Normalized)
        {
            await WriteText(context, 400, $"'{content.FileName}' is not a wheel or sdist file name of {normalized} {version}").ConfigureAwait(false);
            return;
        }
        byte[] bytes;
        using (var buffer = new MemoryStream())
        {
            await content.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            bytes = buffer.ToArray();
        }
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (form["sha256_digest"].ToString() is { Length: > 0 } declared && !string.Equals(declared, sha256, StringComparison.OrdinalIgnoreCase))
        {
            await WriteText(context, 400, $"{fileName} does not match its sha256_digest").ConfigureAwait(false);
            return;
        }
        var (status, message) = StoreUpload(normalized, fileName, bytes, sha256, distribution.IsWheel, form["requires_python"].ToString());
        audit.Enqueue([new AuditEntry(time.GetUtcNow(), Purl(normalized), parsedVersion.Normalized, status < 300 ? "published" : "refused", null, message, client, "publish", false)]);
        if (status < 300)
        {
            LogPublished(logger, token.Name, normalized, fileName);
            await WriteText(context, 200, message).ConfigureAwait(false);
        }
        else
        {
            await Refuse(context, status, message).ConfigureAwait(false);
        }
    }

    private (int Status, string Message) StoreUpload(string name, string fileName, byte[] bytes, string sha256, bool isWheel, string requiresPython)
    {
        lock (_uploadGate)
        {
            var pageFile = storage.Inside("pypi", "private", name, "page.json");
            var page = ReadPage(pageFile, name);
            if (page is null && File.Exists(pageFile))
            {
                return (500, $"the feed's record of {name} cannot be read: nothing is uploaded until it is repaired");
            }
            page ??= new SimplePage(name, [], []);
            if (page.Files.FirstOrDefault(f => f.Filename == fileName) is { } existing)
            {
                return existing.Sha256 == sha256
                    ? (200, $"{fileName} is already uploaded with the same content")
                    : (409, $"{fileName} is already uploaded with other content: a file is never replaced");
            }
            string? metadataSha = null;
            if (isWheel && WheelMetadata(bytes) is { } metadata)
            {
                storage.WriteAtomically(storage.Inside("pypi", "private", name, fileName + ".metadata"), metadata);
                metadataSha = Convert.ToHexStringLower(SHA256.HashData(metadata));
            }
            storage.WriteAtomically(storage.Inside("pypi", "private", name, fileName), bytes);
            var file = new SimpleFile(fileName, new Uri($"http://feed.invalid/{name}/{fileName}"), sha256, requiresPython.Length == 0 ? null : requiresPython,
                null, metadataSha, time.GetUtcNow(), bytes.Length);
            storage.WriteAtomically(pageFile, (page with { Files = page.Files.Add(file), Versions = [] }).ToJson());
            return (200, $"uploaded {fileName}");
        }
    }

    /// <summary>The <c>*.dist-info/METADATA</c> of a wheel (served as its PEP 658 metadata file), or null.</summary>
    private static byte[]? WheelMetadata(byte[] wheel)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(wheel), ZipArchiveMode.Read);
            var entry = zip.Entries.FirstOrDefault(e => e.FullName.Count(c => c == '/') == 1 && e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal));
            if (entry is null || entry.Length > 1024 * 1024)
            {
                return null;
            }
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private void Audit(HttpContext context, string name, IEnumerable<VersionDecision> decisions, string request)
    {
        var now = time.GetUtcNow();
        var client = context.Connection.RemoteIpAddress?.ToString();
        var entries = decisions.Select(d => new AuditEntry(now, Purl(name), d.Version, d.Verdict.ToString().ToLowerInvariant(), d.Rule, d.Message, client, request, options.DryRun)).ToList();
        foreach (var e in entries.Where(e => e.Verdict != "allowed").Take(5))
        {
            LogDecision(logger, name, e.Version, e.Verdict, e.Rule, options.DryRun ? " (dry-run: served)" : "");
        }
        audit.Enqueue(entries);
    }

    /// <summary>
    /// A refusal with the reason in the status line too: pip and twine print the reason phrase ("403 Client Error:
    /// REASON for url"), not the body.
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
        WriteBytes(context, status, Encoding.UTF8.GetBytes(message + "\n"), "text/plain");

    private static async Task WriteBytes(HttpContext context, int status, byte[] body, string mediaType)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = mediaType + (mediaType.StartsWith("text/", StringComparison.Ordinal) || mediaType.EndsWith("html", StringComparison.Ordinal) ? "; charset=utf-8" : "");
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pypi {Package} {Version}: {Verdict} by {Rule}{DryRun}")]
    private static partial void LogDecision(ILogger logger, string package, string? version, string verdict, string? rule, string dryRun);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pypi {Package}: the feed's page cache cannot be used: {Problem}")]
    private static partial void LogPageCacheUnavailable(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pypi {Package}: serving a stale page: {Problem}")]
    private static partial void LogStale(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pypi {Package}: upstream failed or refused, answered 502: {Problem}")]
    private static partial void LogUpstreamFailed(ILogger logger, string package, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pypi file {Url} not stored: {Problem}")]
    private static partial void LogFileRefused(ILogger logger, Uri url, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "pypi {Package}: uploaded file {File} not served: missing or changed since upload")]
    private static partial void LogPrivateFileRefused(ILogger logger, string package, string file);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Target}: the client went away before the answer")]
    private static partial void LogClientGone(ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "{User} uploaded pypi {Package} {File}")]
    private static partial void LogPublished(ILogger logger, string user, string package, string file);
}
