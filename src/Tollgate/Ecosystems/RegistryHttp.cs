using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Tollgate.Advisories;

namespace Tollgate.Ecosystems;

/// <summary>How a registry request ended.</summary>
public enum RegistryStatus
{
    /// <summary>A body is available (fresh from the registry, revalidated, or from the cache).</summary>
    Ok,
    /// <summary>The registry said the caller's own copy is current (conditional request, uncached calls only).</summary>
    NotModified,
    /// <summary>The registry has no such document.</summary>
    NotFound,
    /// <summary>Unreachable, timed out, refused, a 4xx/5xx that retries did not cure, or offline without a cached copy.</summary>
    Failed,
    /// <summary>The answer is larger than the caller's limit: refused, whatever a cache holds.</summary>
    TooLarge,
}

/// <summary>Validators of a copy a caller holds, sent back as If-None-Match / If-Modified-Since.</summary>
public sealed record RegistryValidators(string? ETag, string? LastModified);

/// <summary>
/// A registry answer. <see cref="Body"/> is set for <see cref="RegistryStatus.Ok"/>; <see cref="FromCache"/> says it
/// came from the local cache (after a 304, within the freshness window, or offline); <see cref="Stale"/> says the
/// registry could not be asked and the cached copy was used anyway (<see cref="Problem"/> says why).
/// <see cref="MediaType"/> and <see cref="ResponseUrl"/> (the URL after redirects, without credentials) are known
/// for an answer fresh from the registry, not for a cached copy.
/// </summary>
public sealed record RegistryDocument(
    RegistryStatus Status,
    byte[]? Body = null,
    string? ETag = null,
    string? LastModified = null,
    bool FromCache = false,
    bool Stale = false,
    string? Problem = null,
    string? MediaType = null,
    Uri? ResponseUrl = null);

/// <summary>Settings of <see cref="RegistryHttp"/>.</summary>
public sealed record RegistryHttpOptions
{
    /// <summary>Where responses are cached; null for no disk cache.</summary>
    public string? CacheFolder { get; init; }

    /// <summary>
    /// Where responses are kept instead of <see cref="CacheFolder"/>: a store several processes share (the feed's state
    /// database). Null for the folder.
    /// </summary>
    public IRegistryCache? Cache { get; init; }

    /// <summary>Use only the cache: a document that is not cached is a failure, never a request.</summary>
    public bool Offline { get; init; }

    /// <summary>A cached document younger than this is used without asking the registry.</summary>
    public TimeSpan FreshFor { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>At most this many requests at once, over every registry.</summary>
    public int MaxParallel { get; init; } = 8;

    /// <summary>Retries after a 429, a 5xx or a network failure.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first retry's wait; each later one doubles it (a Retry-After header wins, up to 30 s).</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Each request's time limit.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Responses larger than this are refused.</summary>
    public long MaxBytes { get; init; } = 512L * 1024 * 1024;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The default cache folder: <c>registry-cache</c> in Tollgate's data folder.</summary>
    public static string DefaultCacheFolder(Func<string, string?>? environment = null) =>
        Path.Combine(TollgateHome.Resolve(environment), "registry-cache");
}

/// <summary>
/// HTTP for registry metadata, shared by every ecosystem's client: conditional requests against a disk cache
/// (ETag / Last-Modified), bounded parallelism, retries with backoff on 429 and 5xx, offline use of the cache.
/// Credentials are sent as headers and never written to the cache, to problems or to logs.
/// </summary>
public sealed class RegistryHttp : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsClient;
    private readonly SemaphoreSlim _gate;
    private readonly IRegistryCache? _cache;
    private long _requests;
    private long _bytes;
    private long _cacheHits;

    public RegistryHttp(RegistryHttpOptions options, HttpClient? http = null)
    {
        Options = options;
        _ownsClient = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = Math.Max(1, options.MaxParallel),
        })
        { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _gate = new SemaphoreSlim(Math.Max(1, options.MaxParallel));
        _cache = options.Cache ?? (options.CacheFolder is { } folder ? new FolderRegistryCache(folder) : null);
    }

    public RegistryHttpOptions Options { get; }

    /// <summary>Requests sent (retries count), bodies' bytes received, documents answered from the cache.</summary>
    public (long Requests, long Bytes, long CacheHits) Statistics => (Interlocked.Read(ref _requests), Interlocked.Read(ref _bytes), Interlocked.Read(ref _cacheHits));

    /// <summary>
    /// A document through the cache: fresh copies are used as they are, older ones revalidated, new ones fetched and
    /// stored. When the registry cannot be reached, a cached copy is returned marked <see cref="RegistryDocument.Stale"/>.
    /// </summary>
    public async Task<RegistryDocument> GetAsync(Uri url, string accept, string? authorization, CancellationToken cancellationToken = default)
    {
        var cached = await ReadCache(url, accept, cancellationToken).ConfigureAwait(false);
        if (cached is not null && (Options.Offline || Options.Time.GetUtcNow() - cached.FetchedAt < Options.FreshFor))
        {
            Interlocked.Increment(ref _cacheHits);
            return cached.NotFound
                ? new RegistryDocument(RegistryStatus.NotFound, FromCache: true, Problem: $"{Display(url)} answered 404 (cached)")
                : new RegistryDocument(RegistryStatus.Ok, cached.Body, cached.ETag, cached.LastModified, FromCache: true);
        }
        if (cached is { NotFound: true })
        {
            // A cached "not found" is asked again once stale, without validators.
            cached = null;
        }
        if (Options.Offline)
        {
            return new RegistryDocument(RegistryStatus.Failed, Problem: $"{Display(url)} is not in the metadata cache and --offline forbids asking the registry");
        }
        var validators = cached is { } c ? new RegistryValidators(c.ETag, c.LastModified) : null;
        var answer = await GetUncachedAsync(url, accept, authorization, validators, Options.MaxBytes, cancellationToken).ConfigureAwait(false);
        switch (answer.Status)
        {
            case RegistryStatus.NotModified when cached is { } hit:
                await WriteCache(c => c.ConfirmAsync(Display(url), accept, hit with { FetchedAt = Options.Time.GetUtcNow() }, cancellationToken)).ConfigureAwait(false);
                Interlocked.Increment(ref _cacheHits);
                return new RegistryDocument(RegistryStatus.Ok, hit.Body, hit.ETag, hit.LastModified, FromCache: true);
            case RegistryStatus.Ok when answer.Body is { } body:
                await WriteCache(c => c.StoreAsync(Display(url), accept, new RegistryCacheEntry(body, answer.ETag, answer.LastModified, Options.Time.GetUtcNow()), cancellationToken))
                    .ConfigureAwait(false);
                return answer;
            case RegistryStatus.NotFound:
                // Remembered like a body, so --offline knows the registry has no such document.
                await WriteCache(c => c.StoreAsync(Display(url), accept, new RegistryCacheEntry([], null, null, Options.Time.GetUtcNow(), NotFound: true), cancellationToken))
                    .ConfigureAwait(false);
                return answer;
            case RegistryStatus.Failed when cached is { } stale:
                Interlocked.Increment(ref _cacheHits);
                return new RegistryDocument(RegistryStatus.Ok, stale.Body, stale.ETag, stale.LastModified, FromCache: true, Stale: true, Problem: answer.Problem);
            default:
                return answer;
        }
    }

    /// <summary>
    /// One request without the disk cache, for callers that keep their own copies (the feed): conditional on
    /// <paramref name="validators"/>, bounded to <paramref name="maxBytes"/>, retried on 429/5xx.
    /// </summary>
    public async Task<RegistryDocument> GetUncachedAsync(Uri url, string accept, string? authorization, RegistryValidators? validators, long maxBytes, CancellationToken cancellationToken = default)
    {
        if (Options.Offline)
        {
            return new RegistryDocument(RegistryStatus.Failed, Problem: $"{Display(url)}: --offline forbids asking the registry");
        }
        string? problem = null;
        for (var attempt = 0; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Options.Timeout);
                using var request = NewRequest(url, accept, authorization);
                if (validators?.ETag is { } etag)
                {
                    request.Headers.TryAddWithoutValidation("If-None-Match", etag);
                }
                if (validators?.LastModified is { } modified)
                {
                    request.Headers.TryAddWithoutValidation("If-Modified-Since", modified);
                }
                Interlocked.Increment(ref _requests);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                var code = (int)response.StatusCode;
                if (response.StatusCode == HttpStatusCode.NotModified)
                {
                    return new RegistryDocument(RegistryStatus.NotModified, ETag: validators?.ETag, LastModified: validators?.LastModified);
                }
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
                {
                    return new RegistryDocument(RegistryStatus.NotFound, Problem: $"{Display(url)} answered {code} {response.ReasonPhrase}");
                }
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    if (response.Content.Headers.ContentLength > maxBytes)
                    {
                        return new RegistryDocument(RegistryStatus.TooLarge, Problem: $"{Display(url)} is larger than the limit of {maxBytes} bytes");
                    }
                    var body = await ReadBounded(response.Content, maxBytes, timeout.Token).ConfigureAwait(false);
                    if (body is null)
                    {
                        return new RegistryDocument(RegistryStatus.TooLarge, Problem: $"{Display(url)} is larger than the limit of {maxBytes} bytes");
                    }
                    Interlocked.Add(ref _bytes, body.Length);
                    return new RegistryDocument(RegistryStatus.Ok, body, response.Headers.ETag?.ToString(), response.Content.Headers.LastModified?.ToString("R"),
                        MediaType: response.Content.Headers.ContentType?.MediaType, ResponseUrl: response.RequestMessage?.RequestUri);
                }
                problem = $"{Display(url)} answered {code} {response.ReasonPhrase}"
                    + (code is 401 or 403 ? " (check the credentials for this registry in your package manager's configuration)" : "");
                if (code != 429 && code < 500)
                {
                    return new RegistryDocument(RegistryStatus.Failed, Problem: problem);
                }
                retryAfter = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } date ? date - Options.Time.GetUtcNow() : null);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                problem = e is OperationCanceledException
                    ? $"{Display(url)} did not answer within {Options.Timeout.TotalSeconds:0} s"
                    : $"{Display(url)} could not be reached: {e.Message}";
            }
            finally
            {
                _gate.Release();
            }
            if (attempt >= Options.MaxRetries)
            {
                return new RegistryDocument(RegistryStatus.Failed, Problem: problem + $" (after {attempt + 1} attempts)");
            }
            var wait = retryAfter is { } after && after > TimeSpan.Zero
                ? TimeSpan.FromTicks(Math.Min(after.Ticks, TimeSpan.FromSeconds(30).Ticks))
                : Options.InitialBackoff * Math.Pow(2, attempt);
            await Task.Delay(wait, Options.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Starts a streamed download (tarballs, wheels, packages) with the registry's credentials; the caller reads and
    /// disposes the response. No retries and no cache: the caller verifies and stores what it reads.
    /// </summary>
    public async Task<HttpResponseMessage> OpenAsync(Uri url, string? authorization, CancellationToken cancellationToken = default)
    {
        using var request = NewRequest(url, "*/*", authorization);
        Interlocked.Increment(ref _requests);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A URL as problems show it: never with user information (a password written into an index URL).</summary>
    public static string Display(Uri url) => string.IsNullOrEmpty(url.UserInfo)
        ? url.AbsoluteUri
        : new UriBuilder(url) { UserName = "", Password = "" }.Uri.AbsoluteUri;

    private static HttpRequestMessage NewRequest(Uri url, string accept, string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, StripUserInfo(url));
        request.Headers.TryAddWithoutValidation("Accept", accept);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("tollgate", "1"));
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        else if (!string.IsNullOrEmpty(url.UserInfo))
        {
            // An index URL with user:password@ (pip's way of writing credentials) is basic authentication.
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(url.UserInfo))));
        }
        return request;
    }

    private static Uri StripUserInfo(Uri url) => string.IsNullOrEmpty(url.UserInfo) ? url : new UriBuilder(url) { UserName = "", Password = "" }.Uri;

    private static async Task<byte[]?> ReadBounded(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        await using var body = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The stored copy; none when there is no cache or it cannot be reached (a shared store that is down): then the
    /// registry is asked afresh, without validators, and nothing unverified is used.
    /// </summary>
    private async Task<RegistryCacheEntry?> ReadCache(Uri url, string accept, CancellationToken cancellationToken)
    {
        if (_cache is null)
        {
            return null;
        }
        try
        {
            return await _cache.ReadAsync(Display(url), accept, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Stores what the registry sent or confirmed; a cache that cannot be written costs speed, not correctness.</summary>
    private async Task WriteCache(Func<IRegistryCache, Task> write)
    {
        if (_cache is null)
        {
            return;
        }
        try
        {
            await write(_cache).ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        _gate.Dispose();
        if (_ownsClient)
        {
            _http.Dispose();
        }
    }
}
