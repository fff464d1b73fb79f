using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Advisories;

/// <summary>Where <c>tollgate db update</c> downloads from: <c>{base}/{Ecosystem}/all.zip</c>, the layout of OSV's public bucket.</summary>
public static class AdvisorySource
{
    /// <summary>The environment variable naming a mirror of the OSV bucket (same layout).</summary>
    public const string SourceVariable = "TOLLGATE_OSV_SOURCE";

    /// <summary>OSV's public export bucket: one <c>all.zip</c> per ecosystem. Used when nothing else is configured.</summary>
    public const string DefaultBaseUrl = "https://osv-vulnerabilities.storage.googleapis.com";

    /// <summary>The base URL: the explicit one (<c>--source</c>), else <c>$TOLLGATE_OSV_SOURCE</c>, else <see cref="DefaultBaseUrl"/>.</summary>
    public static bool TryResolve(string? explicitUrl, out Uri? baseUrl, out string? error, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var text = explicitUrl is { Length: > 0 } ? explicitUrl : environment(SourceVariable) is { Length: > 0 } configured ? configured : DefaultBaseUrl;
        if (Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
        {
            baseUrl = uri;
            error = null;
            return true;
        }
        baseUrl = null;
        error = $"'{text}' is not an http(s) URL";
        return false;
    }

    /// <summary>The archive URL of one ecosystem under a base URL.</summary>
    public static Uri ArchiveUrl(Uri baseUrl, Ecosystem ecosystem) => new(baseUrl, $"{ecosystem.ToOsvName()}/all.zip");
}

/// <summary>What an update should fetch, and how patiently.</summary>
public sealed record AdvisoryUpdateOptions
{
    public required string DatabasePath { get; init; }

    /// <summary>The base URL (see <see cref="AdvisorySource"/>).</summary>
    public required Uri BaseUrl { get; init; }

    public ImmutableArray<Ecosystem> Ecosystems { get; init; } = [Ecosystem.Npm, Ecosystem.PyPI, Ecosystem.NuGet];

    /// <summary>Tries per archive on server errors (5xx, 408, 429), timeouts and broken connections.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The wait before the second try; it doubles before each further try.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for the response headers, and for each chunk of the body.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public ArchiveLimits Limits { get; init; } = ArchiveLimits.Default;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>A progress report of a download, for the terminal.</summary>
public sealed record DownloadProgress(Ecosystem Ecosystem, Uri Url, DownloadStage Stage, long Received = 0, long? Total = null, string? Message = null);

public enum DownloadStage
{
    Started,
    Receiving,
    Retrying,
    NotModified,
    Finished,
}

/// <summary>The outcome of one archive download.</summary>
public sealed record ArchiveDownload(Ecosystem Ecosystem, Uri Url, bool NotModified, long Bytes, int Attempts);

public enum AdvisoryUpdateOutcome
{
    /// <summary>Every archive answered 304: the database was not touched.</summary>
    UpToDate,
    /// <summary>At least one archive was downloaded and imported.</summary>
    Updated,
    /// <summary>A download or the import failed; the database is as it was (diagnostics say why).</summary>
    Failed,
}

public sealed record AdvisoryUpdateResult(AdvisoryUpdateOutcome Outcome, ImmutableArray<ArchiveDownload> Downloads, AdvisoryImportResult? Import);

/// <summary>
/// <c>tollgate db update</c>: downloads each ecosystem's OSV archive with conditional requests
/// (ETag / Last-Modified kept in the database's meta table), retries transient failures, then imports
/// every changed archive in one atomic import. A 304 for every archive changes nothing.
/// </summary>
public sealed class AdvisoryUpdater(HttpClient http)
{
    public async Task<AdvisoryUpdateResult> UpdateAsync(AdvisoryUpdateOptions options, DiagnosticBag diagnostics, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var failed = new AdvisoryUpdateResult(AdvisoryUpdateOutcome.Failed, [], null);
        var target = Path.GetFullPath(options.DatabasePath);
        if (!TryReadValidators(target, options, diagnostics, out var validators))
        {
            return failed;
        }
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var downloads = ImmutableArray.CreateBuilder<ArchiveDownload>();
        var files = new List<string>();
        var meta = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var ecosystem in options.Ecosystems.Distinct())
            {
                var url = AdvisorySource.ArchiveUrl(options.BaseUrl, ecosystem);
                var file = Path.Combine(folder, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.{ecosystem.ToOsvName()}.zip.tmp");
                files.Add(file);
                var result = await DownloadAsync(ecosystem, url, validators.GetValueOrDefault(url), file, options, diagnostics, progress, cancellationToken).ConfigureAwait(false);
                if (result is null)
                {
                    return failed;
                }
                downloads.Add(result.Download);
                if (!result.Download.NotModified)
                {
                    if (result.ETag is not null)
                    {
                        meta[AdvisoryMetaKeys.ETag(url)] = result.ETag;
                    }
                    if (result.LastModified is not null)
                    {
                        meta[AdvisoryMetaKeys.LastModified(url)] = result.LastModified;
                    }
                }
            }
            var changed = downloads.Where(d => !d.NotModified).ToList();
            if (changed.Count == 0)
            {
                return new AdvisoryUpdateResult(AdvisoryUpdateOutcome.UpToDate, downloads.ToImmutable(), null);
            }
            var inputs = files.Where(File.Exists).ToList();
            var import = AdvisoryImporter.Import(inputs, new AdvisoryImportOptions
            {
                DatabasePath = target,
                Source = options.BaseUrl.AbsoluteUri.TrimEnd('/'),
                Meta = meta.ToImmutable(),
                Limits = options.Limits,
                Time = options.Time,
            }, diagnostics, cancellationToken);
            return new AdvisoryUpdateResult(import.Succeeded ? AdvisoryUpdateOutcome.Updated : AdvisoryUpdateOutcome.Failed, downloads.ToImmutable(), import);
        }
        finally
        {
            foreach (var file in files)
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private sealed record Validators(string? ETag, string? LastModified);

    private sealed record DownloadResult(ArchiveDownload Download, string? ETag, string? LastModified);

    private static bool TryReadValidators(string target, AdvisoryUpdateOptions options, DiagnosticBag diagnostics, out Dictionary<Uri, Validators> validators)
    {
        validators = [];
        if (!File.Exists(target))
        {
            return true;
        }
        if (!AdvisoryStore.TryOpen(target, out var store, out var error))
        {
            if (error.Problem == AdvisoryStoreProblem.WrongVersion && AdvisoryImporter.OlderSchema(target))
            {
                // Written by an older release: download every archive (no validators) and let the import upgrade it.
                return true;
            }
            // Merging into a file we cannot read would fail after a long download; say so now.
            diagnostics.Error(DiagnosticIds.FileUnreadable, error.Message, new SourceLocation(target),
                "delete the file (or pass --db to use another one) and run `tollgate db update` again");
            return false;
        }
        using (store)
        {
            foreach (var ecosystem in options.Ecosystems)
            {
                var url = AdvisorySource.ArchiveUrl(options.BaseUrl, ecosystem);
                var etag = store.Meta(AdvisoryMetaKeys.ETag(url));
                var lastModified = store.Meta(AdvisoryMetaKeys.LastModified(url));
                if (etag is not null || lastModified is not null)
                {
                    validators[url] = new Validators(etag, lastModified);
                }
            }
        }
        return true;
    }

    private async Task<DownloadResult?> DownloadAsync(Ecosystem ecosystem, Uri url, Validators? validators, string file, AdvisoryUpdateOptions options,
        DiagnosticBag diagnostics, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new DownloadProgress(ecosystem, url, DownloadStage.Started));
        string? lastProblem = null;
        for (var attempt = 1; attempt <= options.MaxAttempts; attempt++)
        {
            if (attempt > 1)
            {
                var delay = options.RetryDelay * Math.Pow(2, attempt - 2);
                progress?.Report(new DownloadProgress(ecosystem, url, DownloadStage.Retrying, Message: $"{lastProblem}; try {attempt} of {options.MaxAttempts} in {delay.TotalSeconds:0.#} s"));
                await Task.Delay(delay, options.Time, cancellationToken).ConfigureAwait(false);
            }
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (validators?.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var tag))
            {
                request.Headers.IfNoneMatch.Add(tag);
            }
            if (validators?.LastModified is { } since && DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var sinceTime))
            {
                request.Headers.IfModifiedSince = sinceTime;
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Timeout);
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotModified)
                {
                    progress?.Report(new DownloadProgress(ecosystem, url, DownloadStage.NotModified));
                    return new DownloadResult(new ArchiveDownload(ecosystem, url, NotModified: true, 0, attempt), null, null);
                }
                if (IsTransient(response.StatusCode))
                {
                    lastProblem = $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}";
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                {
                    diagnostics.Error(DiagnosticIds.FileUnreadable, $"cannot download {url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}",
                        hint: response.StatusCode == HttpStatusCode.NotFound
                            ? $"check the source URL (--source or {AdvisorySource.SourceVariable}); it must hold {{Ecosystem}}/all.zip"
                            : null);
                    return null;
                }
                var total = response.Content.Headers.ContentLength;
                long received = 0;
                await using (var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false))
                await using (var output = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    var buffer = new byte[1 << 16];
                    while (true)
                    {
                        // The timeout covers each read, not the whole body: large archives on slow links still finish.
                        timeout.CancelAfter(options.Timeout);
                        var read = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }
                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        received += read;
                        progress?.Report(new DownloadProgress(ecosystem, url, DownloadStage.Receiving, received, total));
                    }
                }
                progress?.Report(new DownloadProgress(ecosystem, url, DownloadStage.Finished, received, total));
                var lastModified = response.Content.Headers.LastModified?.ToString("R", CultureInfo.InvariantCulture);
                return new DownloadResult(new ArchiveDownload(ecosystem, url, NotModified: false, received, attempt), response.Headers.ETag?.ToString(), lastModified);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lastProblem = $"no answer within {options.Timeout.TotalSeconds:0} s";
            }
            catch (HttpRequestException e)
            {
                lastProblem = e.Message;
            }
            catch (IOException e)
            {
                lastProblem = $"the connection broke ({e.Message})";
            }
        }
        diagnostics.Error(DiagnosticIds.FileUnreadable, $"cannot download {url} after {options.MaxAttempts} tries: {lastProblem}",
            hint: "nothing was changed; try again later, or import an archive you have with `tollgate db import FILE`");
        return null;
    }

    private static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}
