using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Tollgate.Ecosystems;
using Tollgate.Ecosystems.Npm;
using Tollgate.Policy;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>How an upstream request ended.</summary>
internal enum UpstreamStatus
{
    Ok,
    NotModified,
    NotFound,
    /// <summary>Unreachable, timed out, a 5xx or another unexpected answer.</summary>
    Failed,
    /// <summary>An answer the feed will not take (larger than its limit): refused whether or not a copy is cached.</summary>
    Refused,
}

/// <summary>An upstream packument answer; <see cref="Body"/> is set for <see cref="UpstreamStatus.Ok"/>.</summary>
internal sealed record UpstreamPackument(UpstreamStatus Status, byte[]? Body = null, string? ETag = null, string? LastModified = null, string? Problem = null);

/// <summary>Validators of a cached packument, sent back as If-None-Match / If-Modified-Since.</summary>
internal sealed record CacheValidators(string? ETag, string? LastModified);

/// <summary>
/// The upstream npm registry, on the core <see cref="NpmRegistryClient"/> (the same protocol code <c>update</c> and
/// <c>scan</c> use): packuments with conditional requests, tarballs streamed to a file while hashed. Every request gets
/// <paramref name="timeout"/>; running out of it is an upstream failure like a 5xx, reported as a value. Only the
/// caller's own cancellation (the client went away, the feed is stopping) ends a request with an
/// <see cref="OperationCanceledException"/>. Failures are not retried: a client waiting on the feed gets the cached
/// copy or a quick 502 instead.
/// </summary>
internal sealed class NpmUpstream(NpmRegistryClient client, TimeSpan timeout, long maxPackumentBytes, long maxTarballBytes)
{
    /// <summary>The HTTP layer for a feed's upstream: no disk cache (the feed keeps its own), no retries, the feed's timeout.</summary>
    public static NpmUpstream Create(HttpClient http, Uri baseUrl, TimeSpan timeout, long maxPackumentBytes, long maxTarballBytes, string? authorization = null) =>
        new(new NpmRegistryClient(new RegistryHttp(new RegistryHttpOptions { Timeout = timeout, MaxRetries = 0, MaxParallel = 256, MaxBytes = maxPackumentBytes }, http),
            baseUrl, authorization: authorization), timeout, maxPackumentBytes, maxTarballBytes);

    public Uri BaseUrl => client.Registry;

    /// <summary>
    /// Null when <paramref name="url"/> is on the upstream's own origin (scheme, host and port); else why the feed
    /// does not fetch it. A packument is data from the upstream, and a tarball URL in it must not make the feed fetch
    /// from any host it names (another registry, an internal service).
    /// </summary>
    public string? ForeignOrigin(Uri url) =>
        string.Equals(url.Scheme, BaseUrl.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(url.IdnHost, BaseUrl.IdnHost, StringComparison.OrdinalIgnoreCase)
        && url.Port == BaseUrl.Port
            ? null
            : $"the packument names the tarball at {url.GetLeftPart(UriPartial.Authority)}, which is not the upstream's origin "
              + $"{BaseUrl.GetLeftPart(UriPartial.Authority)}: the feed fetches tarballs from the upstream only";

    public async Task<UpstreamPackument> GetPackumentAsync(string name, CacheValidators? validators, CancellationToken cancellationToken)
    {
        var answer = await client.GetPackumentBytesAsync(name, validators is null ? null : new RegistryValidators(validators.ETag, validators.LastModified),
            maxPackumentBytes, cancellationToken).ConfigureAwait(false);
        return answer.Status switch
        {
            RegistryStatus.Ok => new UpstreamPackument(UpstreamStatus.Ok, answer.Body, answer.ETag, answer.LastModified),
            RegistryStatus.NotModified => new UpstreamPackument(UpstreamStatus.NotModified),
            RegistryStatus.NotFound => new UpstreamPackument(UpstreamStatus.NotFound),
            RegistryStatus.TooLarge => new UpstreamPackument(UpstreamStatus.Refused, Problem: $"the upstream packument is larger than maxPackumentBytes ({maxPackumentBytes} bytes)"),
            _ => new UpstreamPackument(UpstreamStatus.Failed, Problem: Upstream(answer.Problem)),
        };
    }

    /// <summary>The core client's problem, with the setting that bounds the wait named.</summary>
    private static string Upstream(string? problem) =>
        problem is null ? "the upstream registry failed"
        : "upstream: " + problem + (problem.Contains("did not answer within", StringComparison.Ordinal) ? " (upstreamTimeout)" : "");

    /// <summary>
    /// Downloads a tarball into <paramref name="tempFile"/> and returns its SHA-512 and SHA-1, or a problem text.
    /// The caller verifies the hashes and renames or deletes the file.
    /// </summary>
    public async Task<(byte[]? Sha512, byte[]? Sha1, string? Problem)> DownloadAsync(Uri url, string tempFile, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var token = timeoutSource.Token;
        if (ForeignOrigin(url) is { } foreign)
        {
            return (null, null, foreign);
        }
        try
        {
            using var response = await client.OpenTarballAsync(url, token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (null, null, $"the upstream registry answered {(int)response.StatusCode} {response.ReasonPhrase} for the tarball");
            }
            var tooLarge = $"the tarball is larger than maxTarballBytes ({maxTarballBytes} bytes)";
            if (response.Content.Headers.ContentLength > maxTarballBytes)
            {
                return (null, null, tooLarge);
            }
            using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            await using var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            await using var file = new FileStream(tempFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > maxTarballBytes)
                {
                    return (null, null, tooLarge);
                }
                sha512.AppendData(buffer, 0, read);
                sha1.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
            }
            await file.FlushAsync(token).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength is { } expected && expected != total)
            {
                return (null, null, $"the tarball download was cut short ({total} of {expected} bytes)");
            }
            return (sha512.GetHashAndReset(), sha1.GetHashAndReset(), null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return (null, null, Describe(e));
        }
    }

    /// <summary>Seconds below a minute (the policy's duration format has no seconds), else the policy's format.</summary>
    internal static string FormatTimeout(TimeSpan duration) => duration < TimeSpan.FromMinutes(1)
        ? duration.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "s"
        : PolicyDuration.Format(duration);

    /// <summary>Why a request failed; a cancellation the caller did not ask for can only be the timeout.</summary>
    private string Describe(Exception e) => e switch
    {
        OperationCanceledException => $"the upstream registry did not answer within {FormatTimeout(timeout)} (upstreamTimeout)",
        HttpRequestException h => $"the upstream registry could not be reached: {h.Message}",
        _ => $"the upstream transfer failed: {e.Message}",
    };
}
