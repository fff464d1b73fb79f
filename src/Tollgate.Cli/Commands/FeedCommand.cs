using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tollgate.Policy;
using Tollgate.Server;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Cli.Commands;

internal sealed record FeedServeOptions(string? Config, string? Listen, string[]? Upstream, string? Storage, string? Policy, string? Database, bool DryRun, bool NoAdvisories = false, string? SharedArtifacts = null, string? State = null, bool ForwardedHeaders = false);

internal sealed record FeedLogOptions(string? Config, string? Storage, bool BlockedOnly, string? Package, string? Since, string Format, int Limit, string? Prune = null);

/// <summary><c>tollgate feed serve|log</c>: the vetted npm feed and its audit log.</summary>
internal static class FeedCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("feed", """
            Run a vetted npm registry: a proxy in front of your upstream registry that serves only the package versions
            your tollgate.yaml allows (no known-malicious or vulnerable versions, no install scripts outside the
            allowlist, nothing younger than minimumReleaseAge), and keeps private names away from the public registry.

            Examples:
              tollgate feed serve --listen http://127.0.0.1:4873 --policy tollgate.yaml
              npm config set registry http://127.0.0.1:4873/
              tollgate feed log --blocked
            See docs/feed.md.
            """)
        {
            CreateServe(terminal),
            CreateLog(terminal),
            CheckClientCommand.Create(terminal),
        };
        return command;
    }

    private static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = "The feed config file (feed.yaml). Flags override its settings.",
        HelpName = "FILE",
    };

    private static Command CreateServe(Terminal terminal)
    {
        var config = ConfigOption();
        var listen = new Option<string?>("--listen") { Description = "The URL to listen on (default http://127.0.0.1:4873).", HelpName = "URL" };
        var upstream = new Option<string[]?>("--upstream")
        {
            Description = "Where packages come from, per ecosystem: npm=URL (default: `npm config get registry`), pypi=URL, a PEP 503/691 index "
                + "(default: the index pip or uv is configured with; PyPI is not served when there is none), nuget=URL, a NuGet V3 service index "
                + "(NuGet is served only when given). A bare URL means npm. Repeat for each ecosystem.",
            HelpName = "[ECOSYSTEM=]URL",
            AllowMultipleArgumentsPerToken = false,
        };
        var storage = new Option<string?>("--storage") { Description = "Cache, private packages and audit log (default $TOLLGATE_HOME/feed).", HelpName = "DIR" };
        var policy = new Option<string?>("--policy") { Description = "The policy file (tollgate.yaml); default: the built-in policy.", HelpName = "FILE" };
        var database = new Option<string?>("--db") { Description = "The advisory database (default $TOLLGATE_HOME/advisories.db).", HelpName = "FILE" };
        var shared = new Option<string?>("--shared-artifacts")
        {
            Description = "Share verified npm tarballs, NuGet packages and PyPI files with other feed instances through Azure Blob Storage: the container's https:// URL (managed identity), "
                + "or a container name with the connection string in TOLLGATE_BLOB_CONNECTION_STRING.",
            HelpName = "CONTAINER",
        };
        var state = new Option<string?>("--state")
        {
            Description = "A PostgreSQL connection string for the state several instances share (the audit log, cached npm packuments, private npm packages). "
                + "Default: TOLLGATE_FEED_STATE, else the files in --storage. Without a password for an Azure Database for PostgreSQL host, the feed signs in with its managed identity.",
            HelpName = "CONNECTION",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Log what would be refused, but serve everything." };
        var forwarded = new Option<bool>("--forwarded-headers")
        {
            Description = "Behind a reverse proxy or ingress (Azure Container Apps, nginx): build the URLs in answers from its X-Forwarded-Proto and X-Forwarded-Host. "
                + "Only when clients can reach the feed through that proxy alone.",
        };
        var noAdvisories = new Option<bool>("--no-advisories") { Description = "Serve without an advisory database (other policy checks only). Without it, a missing database stops the feed from starting." };
        var command = new Command("serve", """
            Serve the npm registry protocol, applying the policy to every packument and tarball. Stops on Ctrl+C,
            letting requests in flight finish.

            Examples:
              tollgate feed serve --listen http://127.0.0.1:4873
              tollgate feed serve --config feed.yaml --dry-run
            """) { config, listen, upstream, storage, shared, state, policy, database, dryRun, noAdvisories, forwarded };
        command.Validators.Add(r =>
        {
            if (r.GetValue(noAdvisories) && r.GetValue(database) is not null)
            {
                r.AddError("--db and --no-advisories contradict each other: give one of them");
            }
        });
        command.SetAction((r, cancellationToken) => Serve(terminal, new FeedServeOptions(r.GetValue(config), r.GetValue(listen), r.GetValue(upstream),
            r.GetValue(storage), r.GetValue(policy), r.GetValue(database), r.GetValue(dryRun), r.GetValue(noAdvisories), r.GetValue(shared), r.GetValue(state), r.GetValue(forwarded)), cancellationToken));
        return command;
    }

    /// <summary>The options from the config file (if any) with the flags laid over them; null after printing errors.</summary>
    internal static FeedOptions? Resolve(Terminal terminal, string? configPath, FeedServeOptions? flags)
    {
        var options = new FeedOptions();
        if (configPath is not null)
        {
            var loaded = FeedConfigLoader.Load(configPath);
            terminal.Diagnostics(loaded.Diagnostics);
            if (loaded.Options is null)
            {
                terminal.Fail($"the feed config {configPath} has errors (see above)");
                return null;
            }
            options = loaded.Options;
        }
        // Secrets come from the environment, never from the config file's neighbours on disk.
        options = options with
        {
            SharedArtifactsConnectionString = Environment.GetEnvironmentVariable("TOLLGATE_BLOB_CONNECTION_STRING"),
            State = Environment.GetEnvironmentVariable("TOLLGATE_FEED_STATE") is { Length: > 0 } envState ? envState : options.State,
        };
        if (flags is null)
        {
            return options;
        }
        var ok = true;
        Uri? Url(string? text, string flag)
        {
            if (text is null)
            {
                return null;
            }
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.UserInfo.Length == 0)
            {
                return uri;
            }
            terminal.Fail($"{flag} '{text}' is not an absolute http(s) URL without credentials");
            ok = false;
            return null;
        }
        foreach (var given in flags.Upstream ?? [])
        {
            var eq = given.IndexOf('=', StringComparison.Ordinal);
            var scheme = given.IndexOf("://", StringComparison.Ordinal);
            if (eq > 0 && (scheme < 0 || eq < scheme) && given[..eq].ToLowerInvariant() is not ("npm" or "pypi" or "nuget"))
            {
                terminal.Fail($"--upstream '{given}' names the ecosystem '{given[..eq]}'; expected npm=URL, pypi=URL, nuget=URL or a bare URL (npm)");
                ok = false;
            }
        }
        options = options with
        {
            Listen = Url(flags.Listen, "--listen") ?? options.Listen,
            Upstream = Url(Upstream(flags.Upstream, "npm"), "--upstream npm=") ?? options.Upstream,
            PyPIUpstream = Url(Upstream(flags.Upstream, "pypi"), "--upstream pypi=") ?? options.PyPIUpstream,
            NuGetUpstream = Url(Upstream(flags.Upstream, "nuget"), "--upstream nuget=") ?? options.NuGetUpstream,
            Storage = flags.Storage is null ? options.Storage : Path.GetFullPath(flags.Storage),
            SharedArtifacts = flags.SharedArtifacts ?? options.SharedArtifacts,
            State = flags.State ?? options.State,
            Policy = flags.Policy is null ? options.Policy : Path.GetFullPath(flags.Policy),
            Database = flags.Database is null ? options.Database : Path.GetFullPath(flags.Database),
            DryRun = flags.DryRun || options.DryRun,
            NoAdvisories = flags.NoAdvisories || options.NoAdvisories,
            ForwardedHeaders = flags.ForwardedHeaders || options.ForwardedHeaders,
        };
        return ok ? options : null;
    }

    /// <summary>The URL given for <paramref name="ecosystem"/> as ECOSYSTEM=URL (a bare URL is npm's); the last one wins.</summary>
    private static string? Upstream(string[]? given, string ecosystem)
    {
        string? found = null;
        foreach (var text in given ?? [])
        {
            var eq = text.IndexOf('=', StringComparison.Ordinal);
            var scheme = text.IndexOf("://", StringComparison.Ordinal);
            var named = eq > 0 && (scheme < 0 || eq < scheme) ? text[..eq].ToLowerInvariant() : null;
            if (named == ecosystem)
            {
                found = text[(eq + 1)..];
            }
            else if (named is null && ecosystem == "npm")
            {
                found = text;
            }
        }
        return found;
    }

    private static async Task<int> Serve(Terminal terminal, FeedServeOptions flags, CancellationToken cancellationToken)
    {
        if (Resolve(terminal, flags.Config, flags) is not { } options)
        {
            return ExitCodes.InputError;
        }
        if (CreateHost(terminal, options) is not { } host)
        {
            return ExitCodes.InputError;
        }
        await using (host.ConfigureAwait(false))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            if (!await StartAsync(terminal, host, stop.Token).ConfigureAwait(false))
            {
                return ExitCodes.InputError;
            }
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            terminal.Message("tollgate feed: stopping; requests in flight finish first");
            await host.StopAsync().ConfigureAwait(false);
        }
        return ExitCodes.Pass;
    }

    /// <summary>Builds the feed's host, printing its problems and policy diagnostics; null when it cannot start.</summary>
    internal static FeedHost? CreateHost(Terminal terminal, FeedOptions options)
    {
        var start = FeedHost.Create(options, logging: FeedLogging.Console);
        terminal.Diagnostics(start.PolicyDiagnostics);
        foreach (var problem in start.Problems)
        {
            if (problem.Severity == Graph.DiagnosticSeverity.Error)
            {
                terminal.Fail(problem.Message);
            }
            else
            {
                terminal.Warning(problem.Message);
            }
            if (problem.Hint is not null)
            {
                terminal.Message("  hint: " + problem.Hint);
            }
        }
        return start.Host;
    }

    /// <summary>Starts the feed and prints its routes with the client setting for each; false when it cannot listen.</summary>
    internal static async Task<bool> StartAsync(Terminal terminal, FeedHost host, CancellationToken cancellationToken)
    {
        var options = host.Options;
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            terminal.Fail($"cannot listen on {options.Listen}: {e.Message}");
            terminal.Message("  hint: another program listens there; stop it, or choose another address with --listen (the feed config's listen)");
            return false;
        }
        terminal.Message($"tollgate feed: serving {host.Address}{(options.DryRun ? " (dry-run: nothing is refused)" : "")}");
        if (host.SharedArtifacts is { } sharedStore)
        {
            terminal.Message($"  shared tarballs: {sharedStore}");
        }
        terminal.Message($"  policy: {options.Policy ?? "built-in default"}; advisories: {(options.NoAdvisories ? "none (--no-advisories)" : Advisories.TollgateHome.DatabasePath(options.Database))}; storage: {options.StorageFolder}");
        if (host.Upstream is { } npmUpstream)
        {
            terminal.Message($"  npm   {host.Address.AbsoluteUri} from {npmUpstream}");
            terminal.Message($"        npm config set registry {host.Address.AbsoluteUri}");
        }
        if (host.PyPIUpstream is { } pypiUpstream)
        {
            terminal.Message($"  PyPI  {host.Address.AbsoluteUri}pypi/simple/ from {pypiUpstream}");
            terminal.Message($"        pip config set global.index-url {host.Address.AbsoluteUri}pypi/simple/");
        }
        if (host.NuGetUpstream is { } nugetUpstream)
        {
            terminal.Message($"  NuGet {host.Address.AbsoluteUri}nuget/v3/index.json from {nugetUpstream}");
            terminal.Message($"        nuget.config: <packageSources><clear /><add key=\"tollgate\" value=\"{host.Address.AbsoluteUri}nuget/v3/index.json\" /></packageSources> and a <packageSourceMapping> (docs/feed.md)");
        }
        return true;
    }

    private static Command CreateLog(Terminal terminal)
    {
        var config = ConfigOption();
        var storage = new Option<string?>("--storage") { Description = "The feed's storage folder (default: from --config, else $TOLLGATE_HOME/feed).", HelpName = "DIR" };
        var blocked = new Option<bool>("--blocked") { Description = "Only refused versions (blocked, hidden, refused)." };
        var package = new Option<string?>("--package") { Description = "Only this package.", HelpName = "NAME" };
        var since = new Option<string?>("--since") { Description = "Only entries last seen since a time (2026-05-01, 2026-05-01T12:00Z) or for a duration back (24h, 7d).", HelpName = "T" };
        var format = new Option<string>("--format", "-f") { Description = "Output format: table or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var limit = new Option<int>("--limit") { Description = "At most this many decisions, the most recently seen (default 1000).", DefaultValueFactory = _ => 1000 };
        var prune = new Option<string?>("--prune")
        {
            Description = "Delete the entries last seen before a time (2026-05-01) or longer ago than a duration (30d), then exit. The feed does this at start with 'auditRetention'.",
            HelpName = "OLDER_THAN",
        };
        var command = new Command("log", """
            Show the feed's audit log: each decision once per package, version, verdict and rule, with how many requests
            met it and when first and last; publishes and blocked tarball downloads one row per request, with the client.

            Examples:
              tollgate feed log --blocked --since 24h
              tollgate feed log --package lodash --format json
              tollgate feed log --prune 90d
            """) { config, storage, blocked, package, since, format, limit, prune };
        command.Validators.Add(r =>
        {
            if (r.GetResult(limit) is { Implicit: false } && r.GetValue(limit) < 1)
            {
                r.AddError($"--limit takes a number of entries, 1 or more (got {r.GetValue(limit)})");
            }
            if (r.GetResult(prune) is null)
            {
                return;
            }
            // Pruning deletes by age only: a filter next to it would look as if it narrowed what is deleted.
            var filters = new Option[] { blocked, package, since, limit, format }.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
            if (filters.Count > 0)
            {
                r.AddError($"--prune deletes by age only and cannot be combined with {string.Join(", ", filters)}");
            }
        });
        command.SetAction(r => Log(terminal, new FeedLogOptions(r.GetValue(config), r.GetValue(storage), r.GetValue(blocked), r.GetValue(package),
            r.GetValue(since), r.GetValue(format)!, r.GetValue(limit), r.GetValue(prune))));
        return command;
    }

    /// <summary><c>tollgate feed log</c>: lists the audit log's entries, or with <c>--prune</c> deletes those older than a point in time.</summary>
    internal static int Log(Terminal terminal, FeedLogOptions o)
    {
        if (Resolve(terminal, o.Config, null) is not { } options)
        {
            return ExitCodes.InputError;
        }
        var folder = o.Storage is null ? options.StorageFolder : Path.GetFullPath(o.Storage);
        if (!TryPointInTime(terminal, "--since", o.Since, out var since) || !TryPointInTime(terminal, "--prune", o.Prune, out var pruneBefore))
        {
            return ExitCodes.InputError;
        }
        var state = options.State;
        if (state is null && !File.Exists(Path.Combine(folder, FeedAuditLog.FileName)))
        {
            terminal.Fail($"no audit log in {folder}: has the feed run with this storage folder?");
            return ExitCodes.InputError;
        }
        try
        {
            return Log(terminal, o, folder, state, since, pruneBefore);
        }
        catch (System.Data.Common.DbException e)
        {
            // A damaged or foreign audit.db, or a --state database without the feed's tables: the user's data, not a bug.
            var where = state is null ? Path.Combine(folder, FeedAuditLog.FileName) : "the feed's state database";
            terminal.Fail($"cannot read the audit log in {where}: {e.Message}");
            terminal.Message("hint: is this the storage folder (or --state) of a Tollgate feed? A damaged audit.db can be moved away; the feed starts a new one.");
            return ExitCodes.InputError;
        }
    }

    /// <summary>The point in time an option names (null when it is not given); false, with the option's error printed, when it names none.</summary>
    private static bool TryPointInTime(Terminal terminal, string option, string? text, out DateTimeOffset? at)
    {
        at = null;
        if (text is null)
        {
            return true;
        }
        if (!PointInTime.TryParse(text, TimeProvider.System.GetUtcNow(), out var parsed, out var error))
        {
            terminal.Fail($"{option} {error}");
            return false;
        }
        at = parsed;
        return true;
    }

    private static int Log(Terminal terminal, FeedLogOptions o, string folder, string? state, DateTimeOffset? since, DateTimeOffset? pruneBefore)
    {
        if (pruneBefore is { } before)
        {
            // A running feed may hold the log open: SQLite's locking lets both write, one after the other.
            using var writable = FeedAuditLog.Open(folder, state: state);
            var removed = writable.Prune(before);
            terminal.Message($"removed {removed} entries last seen before {before.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}Z from {Path.Combine(folder, FeedAuditLog.FileName)}");
            return ExitCodes.Pass;
        }
        using var log = FeedAuditLog.Open(folder, readOnly: true, state: state);
        var entries = log.Query(new AuditQuery { BlockedOnly = o.BlockedOnly, Package = o.Package, Since = since, Limit = o.Limit });
        if (o.Format == "json")
        {
            terminal.OutWriter.WriteLine(Json(entries));
            return ExitCodes.Pass;
        }
        if (entries.IsEmpty)
        {
            terminal.Message("no decisions match");
            return ExitCodes.Pass;
        }
        var table = new TerminalTable(["Last seen (UTC)", "Count", "Package", "Version", "Verdict", "Rule", "Client", "Request", "Why"], "Why");
        foreach (var e in entries)
        {
            table.AddRow(
                Markup.Escape(e.LastSeen.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)),
                e.Count.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(e.Package),
                Markup.Escape(e.Version ?? ""),
                Markup.Escape(e.Verdict + (e.DryRun && e.Verdict is "blocked" or "hidden" ? " (dry-run)" : "")),
                Markup.Escape(e.Rule ?? ""),
                Markup.Escape(e.Client ?? ""),
                Markup.Escape(e.Request),
                Markup.Escape(e.Message));
        }
        table.Write(terminal.Out);
        return ExitCodes.Pass;
    }

    private static string Json(IEnumerable<AuditEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            foreach (var e in entries)
            {
                writer.WriteStartObject();
                writer.WriteString("time", e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                writer.WriteString("lastSeen", e.LastSeen.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                writer.WriteNumber("count", e.Count);
                writer.WriteString("package", e.Package);
                writer.WriteString("version", e.Version);
                writer.WriteString("verdict", e.Verdict);
                writer.WriteString("rule", e.Rule);
                writer.WriteString("message", e.Message);
                writer.WriteString("client", e.Client);
                writer.WriteString("request", e.Request);
                writer.WriteBoolean("dryRun", e.DryRun);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
