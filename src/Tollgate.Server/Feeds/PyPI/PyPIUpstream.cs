using System.Net;
using System.Security.Cryptography;
using Tollgate.Ecosystems;
using Tollgate.Ecosystems.PyPI;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Feeds.PyPI;

/// <summary>An upstream project page: the page with the index's validators for it, or why there is none.</summary>
internal sealed record UpstreamPage(UpstreamStatus Status, SimplePage? Page = null, string? Problem = null, string? ETag = null, string? LastModified = null);

/// <summary>
/// The upstream PEP 503/691 index, on the core <see cref="PyPIIndexClient"/> (the same reader <c>update</c> and
/// <c>scan</c> use): project pages (JSON preferred, HTML understood) and files streamed to a temporary file while
/// hashed. Every request gets <paramref name="timeout"/>; running out of it is an upstream failure reported as a
/// value. Only the caller's own cancellation (the client went away, the feed is stopping) ends a request with an
/// <see cref="OperationCanceledException"/>. Failures are not retried: a client waiting on the feed gets the cached
/// copy or a quick 502 instead.
/// </summary>
internal sealed class PyPIUpstream(PyPIIndexClient client, TimeSpan timeout, long maxPageBytes, long maxFileBytes)
{
    /// <summary>The HTTP layer for a feed's upstream: no disk cache (the feed keeps its own), no retries, the feed's timeout.</summary>
    public static PyPIUpstream Create(HttpClient http, Uri indexUrl, TimeSpan timeout, long maxPageBytes, long maxFileBytes) =>
        new(new PyPIIndexClient(new RegistryHttp(new RegistryHttpOptions { Timeout = timeout, MaxRetries = 0, MaxParallel = 256, MaxBytes = maxPageBytes }, http),
            indexUrl), timeout, maxPageBytes, maxFileBytes);

    public Uri IndexUrl => client.Index;

    /// <summary>The project page; with the validators of a stored copy the index may answer <see cref="UpstreamStatus.NotModified"/>.</summary>
    public async Task<UpstreamPage> GetPageAsync(string normalizedName, CacheValidators? validators, CancellationToken cancellationToken)
    {
        var conditional = validators is null ? null : new RegistryValidators(validators.ETag, validators.LastModified);
        var answer = await client.GetPageAsync(normalizedName, maxPageBytes, conditional, cancellationToken).ConfigureAwait(false);
        return answer.Status switch
        {
            RegistryStatus.Ok => new UpstreamPage(UpstreamStatus.Ok, answer.Page, ETag: answer.ETag, LastModified: answer.LastModified),
            RegistryStatus.NotModified => new UpstreamPage(UpstreamStatus.NotModified),
            RegistryStatus.NotFound => new UpstreamPage(UpstreamStatus.NotFound),
            RegistryStatus.TooLarge => new UpstreamPage(UpstreamStatus.Refused, Problem: $"the upstream page of {normalizedName} is larger than {maxPageBytes} bytes"),
            _ => new UpstreamPage(UpstreamStatus.Failed, Problem: Upstream(answer.Problem)),
        };
    }

    /// <summary>The core client's problem, with the setting that bounds the wait named.</summary>
    private static string Upstream(string? problem) =>
        problem is null ? "the upstream index failed"
        : "upstream: " + problem + (problem.Contains("did not answer within", StringComparison.Ordinal) ? " (upstreamTimeout)" : "");

    /// <summary>Downloads <paramref name="url"/> into <paramref name="temp"/>; the lower-case hex sha256, or why it failed.</summary>
    public async Task<(string? Sha256, string? Problem)> DownloadAsync(Uri url, string temp, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await client.OpenFileAsync(url, timeoutSource.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (null, $"the upstream answered {(int)response.StatusCode} for {url.Segments[^1]}");
            }
            if (response.Content.Headers.ContentLength > maxFileBytes)
            {
                return (null, $"{url.Segments[^1]} is larger than {maxFileBytes} bytes");
            }
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var source = await response.Content.ReadAsStreamAsync(timeoutSource.Token).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                await using (target.ConfigureAwait(false))
                {
                    var buffer = new byte[81920];
                    long total = 0;
                    int read;
                    while ((read = await source.ReadAsync(buffer, timeoutSource.Token).ConfigureAwait(false)) > 0)
                    {
                        total += read;
                        if (total > maxFileBytes)
                        {
                            return (null, $"{url.Segments[^1]} is larger than {maxFileBytes} bytes");
                        }
                        sha256.AppendData(buffer, 0, read);
                        await target.WriteAsync(buffer.AsMemory(0, read), timeoutSource.Token).ConfigureAwait(false);
                    }
                    if (response.Content.Headers.ContentLength is { } declared && declared != total)
                    {
                        return (null, $"{url.Segments[^1]} was cut short ({total} of {declared} bytes)");
                    }
                }
            }
            return (Convert.ToHexStringLower(sha256.GetHashAndReset()), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"the upstream did not send {url.Segments[^1]} within {NpmUpstream.FormatTimeout(timeout)} (upstreamTimeout)");
        }
        catch (HttpRequestException e)
        {
            return (null, $"the upstream cannot be reached: {e.Message}");
        }
        catch (IOException e)
        {
            return (null, $"the download of {url.Segments[^1]} broke off: {e.Message}");
        }
    }
}
