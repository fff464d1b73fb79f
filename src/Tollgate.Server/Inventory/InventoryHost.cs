using System.Collections.Immutable;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Inventory;
using Tollgate.Server.Dashboard;

namespace Tollgate.Server.Inventory;

/// <summary>The options of <c>tollgate serve</c>.</summary>
/// <param name="Listen">Where to listen; a loopback address unless <paramref name="AllowRemote"/>.</param>
/// <param name="Store">The inventory: a SQLite file or a PostgreSQL connection string.</param>
/// <param name="Tokens">The API tokens (empty: only anonymous reads, when allowed).</param>
/// <param name="AllowAnonymousRead">Whether reads (API and dashboard) need no token.</param>
/// <param name="AllowRemote">Whether a non-loopback listen address is accepted.</param>
/// <param name="AdvisoryDatabase">The advisory database for advisory-id queries; null for the default path.</param>
public sealed record InventoryServerOptions(Uri Listen, string Store, ApiTokens Tokens, bool AllowAnonymousRead, bool AllowRemote = false, string? AdvisoryDatabase = null)
{
    /// <summary>The storage folder of a feed (from its config file) whose audit log the dashboard's Feed page reads; null: no Feed page.</summary>
    public string? FeedStorage { get; init; }

    /// <summary>The feed's PostgreSQL state (its shared audit log), when it has one; null: the SQLite log in <see cref="FeedStorage"/>.</summary>
    public string? FeedState { get; init; }

    /// <summary>The largest SBOM accepted in an upload.</summary>
    public long MaxSbomBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Entra ID bearer tokens accepted besides the API tokens; null: API tokens only.</summary>
    public EntraOptions? Entra { get; init; }

    /// <summary>How often the server checks whether the advisory database changed, and rescans when it did; zero: never.</summary>
    public TimeSpan RescanInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where new hits are posted as JSON (a Slack or Teams incoming webhook, or any receiver); null: nowhere.</summary>
    public Uri? Webhook { get; init; }

    /// <summary>Besides malicious hits (always), new hits at or above this severity go to the webhook; null: malicious only.</summary>
    public Graph.Severity? WebhookSeverity { get; init; }
}

/// <summary>
/// The Kestrel host of the inventory API and the dashboard. <see cref="Create"/> checks the options and opens the
/// store (creating its schema) and reports problems as values; <see cref="StartAsync"/> binds the address.
/// </summary>
public sealed class InventoryHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Rescanner _rescanner;

    private InventoryHost(WebApplication app, InventoryServerOptions options, Rescanner rescanner)
    {
        _app = app;
        Options = options;
        _rescanner = rescanner;
    }

    public InventoryServerOptions Options { get; }

    /// <summary>The address listened on, with the real port once started.</summary>
    public Uri Address => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
        .Select(a => new Uri(a)).FirstOrDefault() ?? Options.Listen;

    /// <summary>Checks the options and builds the host, or returns why it cannot start.</summary>
    public static (InventoryHost? Host, ImmutableArray<string> Problems) Create(InventoryServerOptions options, TimeProvider? time = null, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = ImmutableArray.CreateBuilder<string>();
        if (!options.AllowRemote && !IsLoopback(options.Listen))
        {
            problems.Add($"--listen {options.Listen} is not a loopback address; the inventory listens on 127.0.0.1 or localhost unless --allow-remote is given (put it behind TLS)");
        }
        if (options.Listen.Scheme != Uri.UriSchemeHttp && options.Listen.Scheme != Uri.UriSchemeHttps)
        {
            problems.Add($"--listen {options.Listen}: expected an http:// or https:// URL");
        }
        if (options.Webhook is { } webhook && webhook.Scheme != Uri.UriSchemeHttps && !(webhook.Scheme == Uri.UriSchemeHttp && IsLoopback(webhook)))
        {
            problems.Add($"--webhook: expected an https:// URL (http:// only to a loopback address), not {webhook.Scheme}://{webhook.Host}/...");
        }
        if (options.Entra is { } entra && (entra.Tenant.Length == 0 || entra.Audiences.Count == 0 || entra.Audiences.Any(a => a.Length == 0)))
        {
            problems.Add("--entra-tenant needs --entra-audience: the server's app registration (its client id or Application ID URI, e.g. api://tollgate-inventory)");
        }
        if (options.Tokens.Count == 0 && !options.AllowAnonymousRead && options.Entra is null)
        {
            problems.Add("no API tokens, no --entra-tenant and no --allow-anonymous-read: nobody could use the server; create a token with `tollgate serve new-token NAME --scope write --tokens FILE` and pass --tokens FILE");
        }
        try
        {
            // Creates the schema once, so requests open an existing store.
            using var store = InventoryStore.Open(options.Store);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            problems.Add($"the inventory store cannot be opened: {e.Message}");
        }
        if (problems.Count > 0)
        {
            return (null, problems.ToImmutable());
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.UseUrls(options.Listen.AbsoluteUri.TrimEnd('/'));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxSbomBytes);
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, CommandLineLifetime>();
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Tollgate inventory API";
            doc.Info.Description = "Upload SBOMs per deployment; ask which deployments a package or advisory affects. "
                + "Send 'Authorization: Bearer TOKEN' (a token from `tollgate serve new-token`).";
            return Task.CompletedTask;
        }));
        var app = builder.Build();
        var clock = time ?? TimeProvider.System;
        var rescanner = new Rescanner(options, clock, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tollgate.Rescan"));
        var api = new InventoryApi(options, clock, rescanner);
        app.Use(api.Authorize);
        app.MapOpenApi("/openapi/{documentName}.json");
        api.Map(app);
        new DashboardPages(options, api).Map(app);
        return (new InventoryHost(app, options, rescanner), []);
    }

    private static bool IsLoopback(Uri listen) =>
        listen.IsLoopback || (IPAddress.TryParse(listen.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        _rescanner.Start();
    }

    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _rescanner.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _rescanner.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
