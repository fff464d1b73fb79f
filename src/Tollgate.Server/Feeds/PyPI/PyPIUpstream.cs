using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Feeds.PyPI;

/// <summary>An upstream project page: the page, or why there is none.</summary>
internal sealed record UpstreamPage(UpstreamStatus Status, SimplePage? Page = null, string? Problem = null);

/// <summary>
/// The upstream PEP 503/691 index: project pages (JSON preferred, HTML understood) and files streamed to a temporary
/// file while hashed. Every request gets <paramref name="timeout"/>; running out of it is reported as a value.
/// </summary>
internal sealed class PyPIUpstream(HttpClient http, Uri indexUrl, TimeSpan timeout, long maxPageBytes, long maxFileBytes)
{
    public Uri IndexUrl => indexUrl;

    public async Task<UpstreamPage> GetPageAsync(string normalizedName, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var url = new Uri(indexUrl, Uri.EscapeDataString(normalizedName) + "/");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(SimplePage.JsonMediaType);
        request.Headers.Accept.ParseAdd(SimplePage.HtmlMediaType + "; q=0.2");
        request.Headers.Accept.ParseAdd("text/html; q=0.1");
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new UpstreamPage(UpstreamStatus.NotFound);
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new UpstreamPage(UpstreamStatus.Failed, Problem: $"the upstream index answered {(int)response.StatusCode} for {normalizedName}");
            }
            if (response.Content.Headers.ContentLength > maxPageBytes)
            {
                return new UpstreamPage(UpstreamStatus.Refused, Problem: $"the upstream page of {normalizedName} is larger than {maxPageBytes} bytes");
            }
            var body = await ReadLimited(response.Content, maxPageBytes, timeoutSource.Token).ConfigureAwait(false);
            if (body is null)
            {
                return new UpstreamPage(UpstreamStatus.Refused, Problem: $"the upstream page of {normalizedName} is larger than {maxPageBytes} bytes");
            }
            var pageUrl = response.RequestMessage?.RequestUri ?? url;
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
            var page = mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase) || mediaType == "application/json"
                ? SimplePage.ParseJson(body, pageUrl, normalizedName)
                : SimplePage.ParseHtml(Encoding.UTF8.GetString(body), pageUrl, normalizedName);
            return page is null
                ? new UpstreamPage(UpstreamStatus.Failed, Problem: $"the upstream page of {normalizedName} is not a valid simple-API page")
                : new UpstreamPage(UpstreamStatus.Ok, page);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new UpstreamPage(UpstreamStatus.Failed, Problem: $"the upstream index did not answer within {timeout.TotalSeconds:0}s");
        }
        catch (HttpRequestException e)
        {
            return new UpstreamPage(UpstreamStatus.Failed, Problem: $"the upstream index cannot be reached: {e.Message}");
        }
        catch (IOException e)
        {
            return new UpstreamPage(UpstreamStatus.Failed, Problem: $"the upstream index broke off: {e.Message}");
        }
    }

    /// <summary>Downloads <paramref name="url"/> into <paramref name="temp"/>; the lower-case hex sha256, or why it failed.</summary>
    public async Task<(string? Sha256, string? Problem)> DownloadAsync(Uri url, string temp, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token).ConfigureAwait(false);
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
            return (null, $"the upstream did not send {url.Segments[^1]} within {timeout.TotalSeconds:0}s");
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

    private static async Task<byte[]?> ReadLimited(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
    }
}
