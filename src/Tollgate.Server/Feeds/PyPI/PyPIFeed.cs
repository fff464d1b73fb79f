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
internal sealed record PageFetch(SimplePage? Page, int Status, string? Problem = null, bool Stale = false, bool Private = false);

/// <summary>
/// The PyPI feed under <c>/pypi/</c>: the simple repository API (PEP 503 HTML, PEP 691 JSON, PEP 592, 658/714, 700),
/// files fetched from the upstream index on demand (or taken from the instances' shared store) and verified against the
/// sha256 the index declares before they are stored or served, and the legacy upload API for private projects. Decide
/// first, then serve or refuse.
/// </summary>
internal sealed partial class PyPIFeed(FeedOptions options, PyPIUpstream upstream, FeedStorage storage, PackageJudge judge,
    Storage.AuditQueue audit, Storage.ISharedArtifacts? shared, TimeProvider time, ILogger logger, CancellationToken stopping)
{
    /// <summary>The path prefix the feed answers under.</summary>
    public const string Prefix = "/pypi";

    private const string InstallCode = "is published only as a source distribution, whose build runs the project's own code at install time";

    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _downloads = new(StringComparer.Ordinal);
    private readonly Lock _uploadGate = new();

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
        foreach (var folder in new[] { "pages", "private" })
        {
            var dir = storage.Inside("pypi", folder);
            if (Directory.Exists(dir))
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
                {
                    var name = Path.GetFileName(entry);
                    name = name.EndsWith(".json", StringComparison.Ordinal) ? name[..^5] : name;
                    if (IsValidName(name) && !name.EndsWith(".meta", StringComparison.Ordinal))
                    {
                        names.Add(name);
                    }
                }
            }
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
        var decisions = Judge(fetch.Page);
        Audit(context, normalized, decisions.Values.Where(d => d.Verdict != FeedVerdict.Allowed), "page");
        var served = View(fetch.Page, decisions, Base(context));
        if (fetch.Stale)
        {
            context.Response.Headers["Warning"] = "110 - \"Response is Stale\"";
            context.Response.Headers["X-Tollgate-Stale"] = fetch.Problem ?? "upstream unavailable";
        }
        var refused = decisions.Values.Count(d => !d.IsServed);
        if (refused > 0)
        {
            context.Response.Headers["X-Tollgate-Refused"] = refused.ToString(CultureInfo.InvariantCulture);
        }
        var json = WantsJson(context);
        context.Response.Headers.Vary = "Accept";
        await WriteBytes(context, 200, json ? served.ToJson() : served.ToHtml(), json ? SimplePage.JsonMediaType : SimplePage.HtmlMediaType).ConfigureAwait(false);
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

    /// <summary>A decision per version: its files' earliest upload time, and whether it can be installed without building.</summary>
    internal ImmutableDictionary<string, VersionDecision> Judge(SimplePage page)
    {
        var releases = page.Files.Select(f => (File: f, Version: VersionOf(f, page.Name)))
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
        return judge.Judge(releases);
    }

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
            if (ReadPage(file, name) is { } local)
            {
                return new PageFetch(local, 200, Private: true);
            }
            audit.Enqueue([new AuditEntry(time.GetUtcNow(), Purl(name), null, "refused", "private", $"{name} is private and has not been uploaded to this feed", client, "page", options.DryRun)]);
            return new PageFetch(null, 404, $"{name} is a private name (policy 'private') and has not been uploaded to this feed");
        }
        var cacheFile = storage.Inside("pypi", "pages", name + ".json");
        var metaFile = storage.Inside("pypi", "pages", name + ".meta");
        if (File.Exists(metaFile) && DateTimeOffset.TryParse(File.ReadAllText(metaFile), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var fetchedAt)
            && time.GetUtcNow() - fetchedAt < options.PackumentTtl && ReadPage(cacheFile, name) is { } fresh)
        {
            return new PageFetch(fresh, 200);
        }
        var answer = await upstream.GetPageAsync(name, cancellation.Token).ConfigureAwait(false);
        switch (answer.Status)
        {
            case UpstreamStatus.Ok:
                storage.WriteAtomically(cacheFile, answer.Page!.ToJson());
                storage.WriteAtomically(metaFile, Encoding.UTF8.GetBytes(time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)));
                return new PageFetch(answer.Page, 200);
            case UpstreamStatus.NotFound:
                return new PageFetch(null, 404, $"{name} is not in the upstream index");
            case UpstreamStatus.Refused:
                LogUpstreamFailed(logger, name, answer.Problem ?? "refused");
                return new PageFetch(null, 502, answer.Problem);
            default:
                if (ReadPage(cacheFile, name) is { } stale)
                {
                    LogStale(logger, name, answer.Problem ?? "upstream failed");
                    return new PageFetch(stale, 200, answer.Problem, Stale: true);
                }
                LogUpstreamFailed(logger, name, answer.Problem ?? "upstream failed");
                return new PageFetch(null, 502, $"{answer.Problem}, and the feed has no cached copy");
        }
    }

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
        var decision = Judge(fetch.Page)[version];
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
            if (!File.Exists(stored) || !string.Equals(HashFile(stored), expected, StringComparison.Ordinal))
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
        context.Response.ContentLength = new FileInfo(stored).Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.SendFileAsync(stored, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>The verified file in the cache, downloading it once however many requests ask at the same time.</summary>
    private async Task<(string? Path, string? Problem)> Cached(string target, Uri url, string sha256, CancellationToken requestAborted)
    {
        if (File.Exists(target))
        {
            if (string.Equals(HashFile(target), sha256, StringComparison.Ordinal))
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
        return problem is null ? (target, null) : (null, problem);
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

    private static string HashFile(string path)
    {
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
