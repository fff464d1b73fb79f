using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inventory;
using Tollgate.Reports;
using RescanResult = Tollgate.Inventory.RescanResult;
using RescanHit = Tollgate.Reports.RescanHit;

namespace Tollgate.Server.Inventory;

/// <summary>
/// The server's rescans: of every deployment when the advisory database changes (checked every
/// <see cref="InventoryServerOptions.RescanInterval"/>, and on request), and of one deployment after an SBOM upload.
/// One rescan at a time per process. New hits that reach the webhook's level are posted to the webhook.
/// </summary>
internal sealed class Rescanner(InventoryServerOptions options, TimeProvider time, ILogger logger, HttpClient? webhookClient = null) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http = webhookClient ?? new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    private Task? _loop;
    private int _disposed;

    /// <summary>The outcome of a rescan: the result, or why none could run (the advisory database cannot be opened).</summary>
    public sealed record Outcome(RescanResult? Result, string? Error);

    /// <summary>Rescans every current deployment now.</summary>
    public Task<Outcome> RescanAllAsync(CancellationToken cancellationToken = default) => RunAsync(null, onlyWhenChanged: false, cancellationToken);

    /// <summary>Rescans one deployment (after its SBOM upload); without an advisory database it does nothing (the snapshot stays unchecked).</summary>
    public Task<Outcome> RescanDeploymentAsync(string deployment, CancellationToken cancellationToken = default) => RunAsync(deployment, onlyWhenChanged: false, cancellationToken);

    /// <summary>Starts the check for a changed advisory database (none when the interval is zero).</summary>
    public void Start()
    {
        if (options.RescanInterval > TimeSpan.Zero)
        {
            _loop = Task.Run(LoopAsync);
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(options.RescanInterval, time);
        do
        {
            try
            {
                await RunAsync(null, onlyWhenChanged: true, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or IOException or UnauthorizedAccessException or AdvisoryStoreException)
            {
                logger.LogWarning("scheduled rescan failed, tried again in {Interval}: {Message}", options.RescanInterval, e.Message);
            }
        }
        while (await WaitAsync(timer).ConfigureAwait(false));
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<Outcome> RunAsync(string? deployment, bool onlyWhenChanged, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        RescanResult result;
        try
        {
            var path = TollgateHome.DatabasePath(options.AdvisoryDatabase);
            // Only a requested rescan of every deployment reports a missing database; the others wait for one.
            if ((onlyWhenChanged || deployment is not null) && !File.Exists(path))
            {
                return new Outcome(null, null);
            }
            if (!AdvisoryStore.TryOpen(path, out var advisories, out var error))
            {
                return new Outcome(null, error.Message);
            }
            using (advisories)
            using (var store = InventoryStore.Open(options.Store, mustExist: true))
            {
                if (onlyWhenChanged)
                {
                    var last = store.Rescans(1, everyDeploymentOnly: true).FirstOrDefault();
                    if (last is not null && last.DatabaseVersion == advisories.DataVersion())
                    {
                        return new Outcome(null, null);
                    }
                    logger.LogInformation("the advisory database changed: rescanning every deployment");
                }
                result = InventoryAdvisories.Rescan(store, advisories, null, deployment, time);
            }
        }
        finally
        {
            _gate.Release();
        }
        if (result.NewlyAffected.Count + result.Resolved.Count > 0)
        {
            logger.LogInformation("rescan{Scope}: {New} new hit(s), {Resolved} resolved", deployment is null ? "" : $" of {deployment}", result.NewlyAffected.Count, result.Resolved.Count);
        }
        await NotifyAsync(result, cancellationToken).ConfigureAwait(false);
        return new Outcome(result, null);
    }

    /// <summary>The new hits the webhook is told about: malicious ones, and those at or above the configured severity.</summary>
    internal IReadOnlyList<FoundHit> Notable(RescanResult result) =>
        [.. result.NewlyAffected.Where(h => h.Finding.Malicious || (options.WebhookSeverity is { } level && h.Finding.Severity >= level))];

    private async Task NotifyAsync(RescanResult result, CancellationToken cancellationToken)
    {
        if (options.Webhook is not { } url)
        {
            return;
        }
        var notable = Notable(result);
        if (notable.Count == 0)
        {
            return;
        }
        var malicious = notable.Count(h => h.Finding.Malicious);
        var deployments = notable.Select(h => h.Hit.Deployment).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var lines = notable.Take(20).Select(h => $"- {h.Hit.Deployment}: {h.Hit.Component.Name}@{h.Hit.Component.Version} {h.AdvisoryId} ("
            + (h.Finding.Malicious ? "malicious" : h.Finding.Severity.ToName()) + (h.Finding.FixedIn is { } fix ? $", fixed in {fix}" : "") + ")");
        var text = $"Tollgate: {notable.Count} new hit(s)" + (malicious > 0 ? $", {malicious} malicious," : "") + $" in {deployments.Count} deployment(s)\n"
            + string.Join('\n', lines) + (notable.Count > 20 ? $"\n… and {notable.Count - 20} more" : "");
        var payload = new WebhookPayload(text, [.. notable.Select(RescanHit.From)]);
        // A short retry for a busy receiver; a webhook that stays down is logged, never a failed rescan.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            try
            {
                using var response = await _http.PostAsJsonAsync(url, payload, WebhookJsonContext.Default.WebhookPayload, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
                logger.LogWarning("webhook {Host} answered {Status} (attempt {Attempt} of 3)", url.Host, (int)response.StatusCode, attempt);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("webhook {Host} could not be reached (attempt {Attempt} of 3): {Message}", url.Host, attempt, e.Message);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), time, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
        _gate.Dispose();
        if (webhookClient is null)
        {
            _http.Dispose();
        }
    }
}

/// <summary>
/// The webhook's JSON body: <c>text</c> (what Slack and Teams incoming webhooks show) and the hits as
/// <c>tollgate inventory hits --format json</c> writes them.
/// </summary>
internal sealed record WebhookPayload(string Text, IReadOnlyList<RescanHit> Hits);

[JsonSerializable(typeof(WebhookPayload))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
