using System.CommandLine;
using System.Runtime.InteropServices;
using Tollgate.Graph;
using Tollgate.Server.Inventory;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate serve</c>: the inventory API and the dashboard, for a team; <c>serve new-token</c> makes API tokens.</summary>
internal static class ServeCommand
{
    public static Command Create(Terminal terminal)
    {
        var listen = new Option<string>("--listen")
        {
            Description = "Address to listen on (a loopback address unless --allow-remote).",
            HelpName = "URL",
            DefaultValueFactory = _ => "http://127.0.0.1:8080",
        };
        var inventory = new Option<string?>("--inventory")
        {
            Description = "Inventory store: a SQLite file path or a PostgreSQL connection string. Default: TOLLGATE_STORE, else $TOLLGATE_HOME/inventory.db.",
            HelpName = "STORE",
        };
        var tokens = new Option<string?>("--tokens") { Description = "The API tokens file that `tollgate serve new-token` appends to.", HelpName = "FILE" };
        var anonymous = new Option<bool>("--allow-anonymous-read") { Description = "Let anyone who can reach the server read the inventory and the dashboard without a token." };
        var remote = new Option<bool>("--allow-remote") { Description = "Accept a --listen address that is not loopback (put the server behind TLS)." };
        var db = new Option<string?>("--db") { Description = "Advisory database for advisory-id searches and rescans (default: $TOLLGATE_HOME/advisories.db).", HelpName = "FILE" };
        var feedConfig = new Option<string?>("--feed-config")
        {
            Description = "The feed's config file (as for `tollgate feed serve`): also runs that feed in this process, on the config's listen address, and adds a Feed page with its decisions to the dashboard.",
            HelpName = "FILE",
        };
        var rescanEvery = new Option<string>("--rescan-interval")
        {
            Description = "How often to check whether the advisory database changed (after `tollgate db update`) and rescan every deployment when it did; 0 turns it off.",
            HelpName = "DURATION",
            DefaultValueFactory = _ => "5m",
        };
        var webhook = new Option<string?>("--webhook")
        {
            Description = "Post new malicious hits found by a rescan as JSON to this https:// URL (a Slack or Teams incoming webhook, or any receiver). Default: TOLLGATE_WEBHOOK.",
            HelpName = "URL",
        };
        var webhookSeverity = new Option<string?>("--webhook-severity")
        {
            Description = "Also post new hits at or above this severity (critical, high, medium, low); malicious hits are always posted.",
            HelpName = "LEVEL",
        };
        webhookSeverity.AcceptOnlyFromAmong("critical", "high", "medium", "low");
        var entraTenant = new Option<string?>("--entra-tenant")
        {
            Description = "Also accept Microsoft Entra ID access tokens issued by this tenant (id or domain), with app role Inventory.Write (upload, rescan) or Inventory.Read.",
            HelpName = "TENANT",
        };
        var entraAudience = new Option<string[]>("--entra-audience")
        {
            Description = "The audience Entra ID tokens must be for: the server's app registration (client id or Application ID URI); repeatable.",
            HelpName = "AUDIENCE",
            AllowMultipleArgumentsPerToken = false,
        };
        var entraAuthority = new Option<string?>("--entra-authority")
        {
            Description = "The Entra ID authority (a sovereign cloud's); default: the public cloud's.",
            HelpName = "URL",
        };
        var command = new Command("serve", """
            Serve the inventory API (/api/v1, described at /openapi/v1.json) and the dashboard (/) over one inventory
            store. CI uploads each deployment's SBOM with a write token; people and scripts read with a read token, or
            without one when --allow-anonymous-read is given. Listens on 127.0.0.1:8080 by default.

            Every uploaded SBOM is matched against the advisory database at once, and every deployment again when the
            database changes (checked every --rescan-interval): each hit keeps the time it was first found, so the
            dashboard's Hits page and `tollgate inventory hits --since 24h` answer "what became affected since
            yesterday". New malicious hits can be posted to a webhook.

            Examples:
              tollgate serve new-token ci --scope write --tokens tokens.txt
              tollgate serve --inventory inventory.db --tokens tokens.txt
              tollgate serve --inventory "Host=db;Database=inventory;Username=tollgate" --tokens tokens.txt --allow-anonymous-read
              tollgate serve --inventory inventory.db --tokens tokens.txt --feed-config feed.yaml
              tollgate serve --inventory "Host=db;Database=inventory" --entra-tenant contoso.onmicrosoft.com --entra-audience api://tollgate-inventory
              TOLLGATE_WEBHOOK=https://hooks.example.com/T000/B000/XXXX tollgate serve --inventory inventory.db --tokens tokens.txt --webhook-severity critical
            """) { listen, inventory, tokens, anonymous, remote, db, feedConfig, rescanEvery, webhook, webhookSeverity, entraTenant, entraAudience, entraAuthority };
        command.Subcommands.Add(NewToken(terminal));
        command.SetAction((r, cancellationToken) =>
        {
            if (!Tollgate.Policy.PolicyDuration.TryParse(r.GetValue(rescanEvery), out var interval, out var durationError))
            {
                terminal.Fail($"--rescan-interval: {durationError}");
                return Task.FromResult(ExitCodes.InputError);
            }
            var hook = r.GetValue(webhook) ?? Environment.GetEnvironmentVariable("TOLLGATE_WEBHOOK");
            Uri? hookUri = null;
            if (!string.IsNullOrEmpty(hook) && !Uri.TryCreate(hook, UriKind.Absolute, out hookUri))
            {
                terminal.Fail("--webhook is not an absolute URL such as https://hooks.example.com/...");
                return Task.FromResult(ExitCodes.InputError);
            }
            Tollgate.Graph.Severity? level = Tollgate.Graph.SeverityNames.TryParse(r.GetValue(webhookSeverity), out var parsedLevel) ? parsedLevel : null;
            EntraOptions? entra = null;
            if (r.GetValue(entraTenant) is { Length: > 0 } tenant)
            {
                entra = new EntraOptions(tenant, r.GetValue(entraAudience) ?? []);
                if (r.GetValue(entraAuthority) is { } authorityText)
                {
                    if (!Uri.TryCreate(authorityText, UriKind.Absolute, out var authority) || authority.Scheme != Uri.UriSchemeHttps)
                    {
                        terminal.Fail($"--entra-authority '{authorityText}' is not an https:// URL");
                        return Task.FromResult(ExitCodes.InputError);
                    }
                    entra = entra with { Authority = authority };
                }
            }
            else if (r.GetValue(entraAudience) is { Length: > 0 } || r.GetValue(entraAuthority) is not null)
            {
                terminal.Fail("--entra-audience and --entra-authority need --entra-tenant");
                return Task.FromResult(ExitCodes.InputError);
            }
            var extra = new ServeExtras(interval, hookUri, level, entra);
            return Serve(terminal, r.GetValue(listen)!, InventoryCommand.ResolveStore(r.GetValue(inventory)), r.GetValue(tokens),
                r.GetValue(anonymous), r.GetValue(remote), r.GetValue(db), r.GetValue(feedConfig), extra, cancellationToken);
        });
        return command;
    }

    private static Command NewToken(Terminal terminal)
    {
        var name = new Argument<string>("NAME") { Description = "Who the token is for (e.g. ci-weather-mcp); letters, digits, '-', '_' and '.'." };
        var scope = new Option<string>("--scope") { Description = "read: query the inventory; write: also upload SBOMs and start rescans.", Required = true };
        scope.AcceptOnlyFromAmong("read", "write");
        var tokens = new Option<string>("--tokens") { Description = "The tokens file to append the token's hash to (created when missing).", HelpName = "FILE", Required = true };
        var command = new Command("new-token", """
            Make an API token: prints it once on stdout and appends only its SHA-256 hash to the tokens file. Keep the
            token in your CI's secret store; a running server reads the file when it starts.

            Example:
              tollgate serve new-token ci --scope write --tokens tokens.txt
            """) { name, scope, tokens };
        command.SetAction(r =>
        {
            var tokenName = r.GetValue(name)!;
            if (tokenName.Length == 0 || !tokenName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                terminal.Fail($"'{tokenName}' is not a token name: use letters, digits, '-', '_' and '.'");
                return ExitCodes.InputError;
            }
            var path = r.GetValue(tokens)!;
            if (File.Exists(path) && !ApiTokens.TryLoad(path, out _, out var error))
            {
                terminal.Fail(error!);
                return ExitCodes.InputError;
            }
            ApiTokens.TryScope(r.GetValue(scope)!, out var tokenScope);
            var (token, entry) = ApiTokens.Create(tokenName, tokenScope);
            try
            {
                File.AppendAllText(path, ApiTokens.Line(entry) + "\n");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                terminal.Fail($"cannot write {path}: {e.Message}");
                return ExitCodes.InputError;
            }
            terminal.OutWriter.WriteLine(token);
            terminal.Message($"added {tokenName} ({r.GetValue(scope)}) to {path}; the token above is not stored anywhere, copy it now");
            return ExitCodes.Pass;
        });
        return command;
    }

    /// <summary>The rescan and webhook settings of <c>serve</c>.</summary>
    private sealed record ServeExtras(TimeSpan RescanInterval, Uri? Webhook, Tollgate.Graph.Severity? WebhookSeverity, EntraOptions? Entra);

    private static async Task<int> Serve(Terminal terminal, string listenText, string store, string? tokensPath, bool anonymous, bool remote, string? db, string? feedConfig, ServeExtras extras, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(listenText, UriKind.Absolute, out var listen))
        {
            terminal.Fail($"--listen '{listenText}' is not a URL such as http://127.0.0.1:8080");
            return ExitCodes.InputError;
        }
        var tokens = ApiTokens.None;
        if (tokensPath is not null)
        {
            if (!File.Exists(tokensPath))
            {
                terminal.Fail($"no tokens file {tokensPath}; make one with `tollgate serve new-token NAME --scope write --tokens {tokensPath}`");
                return ExitCodes.InputError;
            }
            if (!ApiTokens.TryLoad(tokensPath, out tokens, out var error))
            {
                terminal.Fail(error!);
                return ExitCodes.InputError;
            }
        }
        string? feedStorage = null;
        string? feedState = null;
        Server.FeedHost? feed = null;
        if (feedConfig is not null)
        {
            // The feed runs in this process on its own address (the config's listen), and its decisions show on the Feed page.
            if (FeedCommand.Resolve(terminal, feedConfig, null) is not { } feedOptions || FeedCommand.CreateHost(terminal, feedOptions) is not { } feedHost)
            {
                terminal.Fail($"the feed config {feedConfig} has errors (see above); the server was not started");
                return ExitCodes.InputError;
            }
            feed = feedHost;
            feedStorage = feedOptions.StorageFolder;
            feedState = feedOptions.State;
        }
        await using var feedLifetime = feed is null ? null : new FeedLifetime(feed);
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(listen, store, tokens, anonymous, remote, db)
        {
            FeedStorage = feedStorage,
            FeedState = feedState,
            RescanInterval = extras.RescanInterval,
            Webhook = extras.Webhook,
            WebhookSeverity = extras.WebhookSeverity,
            Entra = extras.Entra,
        }, logging: Server.FeedLogging.Console);
        foreach (var problem in problems)
        {
            terminal.Fail(problem);
        }
        if (host is null)
        {
            return ExitCodes.InputError;
        }
        await using (host.ConfigureAwait(false))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                await host.StartAsync(stop.Token).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                terminal.Fail($"cannot listen on {listen}: {e.Message}");
                terminal.Message("  hint: another program listens there; stop it, or choose another address with --listen");
                return ExitCodes.InputError;
            }
            if (feed is not null && !await FeedCommand.StartAsync(terminal, feed, stop.Token).ConfigureAwait(false))
            {
                await host.StopAsync().ConfigureAwait(false);
                return ExitCodes.InputError;
            }
            terminal.Message($"tollgate serve: dashboard {host.Address.AbsoluteUri}, API {host.Address.AbsoluteUri}api/v1 (OpenAPI: {host.Address.AbsoluteUri}openapi/v1.json)");
            terminal.Message($"  inventory: {(Tollgate.Inventory.InventoryStore.IsPostgres(store) ? "PostgreSQL" : store)}; {tokens.Count} API token(s){(anonymous ? "; anonymous reads allowed" : "")}");
            if (extras.Entra is { } entraSettings)
            {
                terminal.Message($"  Entra ID tokens of tenant {entraSettings.Tenant} for {string.Join(" or ", entraSettings.Audiences)}: app role {entraSettings.WriteRole} writes, {entraSettings.ReadRole} reads");
            }
            terminal.Message($"  rescans: {(extras.RescanInterval > TimeSpan.Zero ? $"when the advisory database changes (checked every {Tollgate.Policy.PolicyDuration.Format(extras.RescanInterval)})" : "on request only")}"
                + (extras.Webhook is { } hookUrl ? $"; new {(extras.WebhookSeverity is { } l ? $"malicious and {l.ToName()}+" : "malicious")} hits posted to {hookUrl.Scheme}://{hookUrl.Host}/…" : ""));
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            terminal.Message("tollgate serve: stopping; requests in flight finish first");
            if (feed is not null)
            {
                await feed.StopAsync().ConfigureAwait(false);
            }
            await host.StopAsync().ConfigureAwait(false);
        }
        return ExitCodes.Pass;
    }

    /// <summary>Disposes the feed host at the end of <c>serve</c>, whichever way it ends.</summary>
    private sealed class FeedLifetime(Server.FeedHost feed) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => feed.DisposeAsync();
    }
}
