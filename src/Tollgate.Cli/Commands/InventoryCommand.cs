using System.CommandLine;
using System.Collections.Immutable;
using Spectre.Console;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Inventory;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;
using Tollgate.Sbom;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate inventory</c>: SBOM snapshots per deployment, and which deployments an advisory hits.</summary>
internal static class InventoryCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("inventory", """
            Record an SBOM per deployment and ask which deployments contain a package or are hit by an advisory.

            The store is a SQLite file ($TOLLGATE_HOME/inventory.db) unless --store or TOLLGATE_STORE names another
            file or a PostgreSQL connection string (Host=...;Database=...).

            Examples:
              tollgate sbom . -o sbom.json && tollgate inventory add sbom.json --deployment weather-mcp --version 1.4.2 --environment prod
              tollgate inventory list
              tollgate inventory affected pkg:npm/axios@1.6.0
              tollgate inventory affected "axios@<1.6.0"
              tollgate inventory affected GHSA-wf5p-g6vw-rhxx
              tollgate inventory rescan
              tollgate inventory hits --since 24h
            """);
        command.Subcommands.Add(Add(terminal));
        command.Subcommands.Add(List(terminal));
        command.Subcommands.Add(Show(terminal));
        command.Subcommands.Add(Affected(terminal));
        command.Subcommands.Add(Rescan(terminal));
        command.Subcommands.Add(Hits(terminal));
        return command;
    }

    /// <summary>--server asks a server, whose store is its own: a --store beside it would be silently ignored.</summary>
    private static void RefuseStoreWithServer(Command command, Option<string?> store, Option<string?> server) =>
        command.Validators.Add(r =>
        {
            if (r.GetResult(store) is { Implicit: false } && r.GetResult(server) is { Implicit: false })
            {
                r.AddError("--store and --server contradict each other: --server uses the server's own store; give one of them");
            }
        });

    /// <summary>--limit and --offset of a listing of hits: a number of hits, 0 or more.</summary>
    private static void RefuseNegativePaging(Command command, Option<int> limit, Option<int> offset) =>
        command.Validators.Add(r =>
        {
            if (r.GetValue(limit) < 0 || r.GetValue(offset) < 0)
            {
                r.AddError("--limit and --offset take a number of hits, 0 or more");
            }
        });

    internal static Option<string?> StoreOption() => new("--store")
    {
        Description = "Inventory store: a SQLite file path or a PostgreSQL connection string. Default: TOLLGATE_STORE, else $TOLLGATE_HOME/inventory.db.",
        HelpName = "STORE",
    };

    internal static Option<string> FormatOption() => WithChoices(new Option<string>("--format", "-f")
    {
        Description = "Output format: table or json.",
        DefaultValueFactory = _ => "table",
    });

    private static Option<string> WithChoices(Option<string> option)
    {
        option.AcceptOnlyFromAmong("table", "json");
        return option;
    }

    internal static string ResolveStore(string? store) =>
        store ?? Environment.GetEnvironmentVariable("TOLLGATE_STORE") ?? Path.Combine(Tollgate.Advisories.TollgateHome.Resolve(), "inventory.db");

    private static Command Add(Terminal terminal)
    {
        var sbom = new Argument<string>("SBOM") { Description = "A CycloneDX or SPDX JSON SBOM of the deployment (or a lockfile/folder)." };
        var deployment = new Option<string>("--deployment", "-d") { Description = "Deployment name (e.g. weather-mcp-prod).", Required = true };
        var version = new Option<string?>("--version") { Description = "Deployed version or build id." };
        var environment = new Option<string?>("--environment", "-e") { Description = "Environment (e.g. prod, staging)." };
        var store = StoreOption();
        var format = FormatOption();
        var server = InventoryRemote.ServerOption();
        var token = InventoryRemote.TokenOption();
        var command = new Command("add", """
            Record a snapshot of a deployment; it becomes the deployment's current one (history is kept).

            Example:
              tollgate inventory add sbom.cdx.json --deployment weather-mcp --version 1.4.2 --environment prod
              TOLLGATE_TOKEN=... tollgate inventory add sbom.cdx.json --deployment weather-mcp --server https://inventory.example.com
            """) { sbom, deployment, version, environment, store, format, server, token };
        RefuseStoreWithServer(command, store, server);
        command.SetAction(r => Guard(terminal, StoreOf(r, store, server), () =>
        {
            if (r.GetValue(server) is { } url)
            {
                return InventoryRemote.Add(terminal, url, r.GetValue(token), r.GetValue(sbom)!, r.GetValue(deployment)!, r.GetValue(version), r.GetValue(environment), r.GetValue(format) == "json");
            }
            var diagnostics = new DiagnosticBag();
            var path = r.GetValue(sbom)!;
            var graph = SbomCommand.ReadInput(path, diagnostics);
            terminal.Diagnostics(diagnostics.Items);
            if (diagnostics.HasErrors)
            {
                terminal.Fail("the SBOM could not be read (see above); nothing was stored.");
                return ExitCodes.InputError;
            }
            using var inventory = InventoryStore.Open(ResolveStore(r.GetValue(store)));
            var snapshot = inventory.Add(graph, r.GetValue(deployment)!, r.GetValue(version), r.GetValue(environment), InputFile.DisplayPath(path), TimeProvider.System.GetUtcNow());
            if (r.GetValue(format) == "json")
            {
                terminal.OutWriter.WriteLine(InventoryJson.Snapshots([snapshot]));
            }
            else
            {
                terminal.Out.MarkupLineInterpolated($"recorded snapshot {snapshot.Id} of [bold]{snapshot.Deployment}[/]: {snapshot.ComponentCount} components");
            }
            return ExitCodes.Pass;
        }));
        return command;
    }

    private static Command List(Terminal terminal)
    {
        var store = StoreOption();
        var format = FormatOption();
        var server = InventoryRemote.ServerOption();
        var token = InventoryRemote.TokenOption();
        var command = new Command("list", """
            List every deployment with its current snapshot.

            Example:
              tollgate inventory list --format json
            """) { store, format, server, token };
        RefuseStoreWithServer(command, store, server);
        command.SetAction(r => Guard(terminal, StoreOf(r, store, server), () =>
        {
            if (r.GetValue(server) is { } url)
            {
                return InventoryRemote.List(terminal, url, r.GetValue(token), r.GetValue(format) == "json");
            }
            using var inventory = InventoryStore.Open(ResolveStore(r.GetValue(store)), mustExist: true);
            var list = inventory.List();
            if (r.GetValue(format) == "json")
            {
                terminal.OutWriter.WriteLine(InventoryJson.Snapshots(list));
                return ExitCodes.Pass;
            }
            var table = new TerminalTable(["Deployment", "Version", "Environment", "Components", "Recorded", "Snapshot"]);
            foreach (var s in list)
            {
                table.AddRow(Markup.Escape(s.Deployment), Markup.Escape(s.Version ?? ""), Markup.Escape(s.Environment ?? ""),
                    s.ComponentCount.ToString(System.Globalization.CultureInfo.InvariantCulture), s.AddedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
                    s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            table.Write(terminal.Out);
            terminal.Out.WriteLine($"{list.Count} deployment(s)");
            return ExitCodes.Pass;
        }));
        return command;
    }

    private static Command Show(Terminal terminal)
    {
        var name = new Argument<string>("NAME") { Description = "Deployment name." };
        var store = StoreOption();
        var format = FormatOption();
        var command = new Command("show", """
            Show a deployment: its snapshot history and the components of the current snapshot.

            Example:
              tollgate inventory show weather-mcp
            """) { name, store, format };
        command.SetAction(r => Guard(terminal, StoreOf(r, store), () =>
        {
            using var inventory = InventoryStore.Open(ResolveStore(r.GetValue(store)), mustExist: true);
            var history = inventory.History(r.GetValue(name)!);
            if (history.Count == 0)
            {
                terminal.Fail($"no deployment named '{r.GetValue(name)}'; `tollgate inventory list` shows the recorded ones.");
                return ExitCodes.InputError;
            }
            var current = history.First(h => h.Current);
            var components = inventory.Components(current.Id);
            if (r.GetValue(format) == "json")
            {
                terminal.OutWriter.WriteLine(InventoryJson.Show(current, history, components));
                return ExitCodes.Pass;
            }
            terminal.Out.MarkupLineInterpolated($"[bold]{current.Deployment}[/] {current.Version} {current.Environment}: {components.Count} components (snapshot {current.Id})");
            var historyTable = new TerminalTable(["Snapshot", "Version", "Environment", "Components", "Recorded"]);
            foreach (var h in history)
            {
                historyTable.AddRow(h.Id + (h.Current ? " (current)" : ""), Markup.Escape(h.Version ?? ""), Markup.Escape(h.Environment ?? ""),
                    h.ComponentCount.ToString(System.Globalization.CultureInfo.InvariantCulture), h.AddedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
            }
            historyTable.Write(terminal.Out);
            var table = new TerminalTable(["Ecosystem", "Package", "Version", "Direct", "Scope"]);
            foreach (var c in components)
            {
                table.AddRow(c.Ecosystem.ToOsvName(), Markup.Escape(c.Name), Markup.Escape(c.Version), c.Direct ? "yes" : "", string.Join(",", GraphJson.ScopeNames(c.Scopes)));
            }
            table.Write(terminal.Out);
            return ExitCodes.Pass;
        }));
        return command;
    }

    private static Option<string?> DbOption() => new("--db")
    {
        Description = "Advisory database (default: $TOLLGATE_HOME/advisories.db).",
        HelpName = "FILE",
    };

    private static Option<string?> PolicyOption() => new("--policy")
    {
        Description = "The policy whose private names are the organisation's own packages, not matched against public advisories (as scan does). Default: tollgate.yaml found by walking up from the current folder.",
        HelpName = "FILE",
    };

    /// <summary>
    /// The policy's own private packages, judged as <c>scan</c> judges them (<see cref="Scanner.OwnPrivatePackages"/>),
    /// or null when the policy names none. False (after saying why) when the policy cannot be read.
    /// </summary>
    private static bool TryOwnPrivate(Terminal terminal, string? policyPath, out Func<Component, bool>? ownPrivate)
    {
        ownPrivate = null;
        var loaded = PolicyLoader.Load(policyPath, Directory.GetCurrentDirectory(), [.. RiskRules.All.Select(r => r.Id), PolicyFindings.DeniedRuleId]);
        terminal.Diagnostics(loaded.Diagnostics);
        if (loaded.HasErrors || loaded.Policy is null)
        {
            terminal.Fail($"the policy {loaded.Path ?? policyPath} has errors (see above); nothing was matched.");
            return false;
        }
        if (loaded.Path is not null)
        {
            terminal.Progress("policy", InputFile.DisplayPath(loaded.Path));
        }
        var policy = loaded.Policy;
        if (policy.Private.IsEmpty)
        {
            return true;
        }
        // Whether a private name came from the default registry needs npm's configured one, as for a scan.
        var defaults = NpmRegistryConfig.Read(workingDirectory: Directory.GetCurrentDirectory()) is { } npm
            ? ImmutableDictionary<Ecosystem, string>.Empty.Add(Ecosystem.Npm, npm.AbsoluteUri)
            : ImmutableDictionary<Ecosystem, string>.Empty;
        ownPrivate = Scanner.OwnPrivatePackages(policy, Scanner.RiskContextFor(policy, defaults));
        return true;
    }

    private static Option<int> LimitOption() => new("--limit")
    {
        Description = "Show at most N hits (default 100; 0 shows every one). The summary counts every hit.",
        HelpName = "N",
        DefaultValueFactory = _ => 100,
    };

    private static Option<int> OffsetOption(string order = "deployment-name order") => new("--offset")
    {
        Description = $"Skip the first N hits (with --limit, for the next page; hits are in {order}).",
        HelpName = "N",
    };

    private static Command Affected(Terminal terminal)
    {
        var query = new Argument<string>("QUERY") { Description = "An advisory id or alias, a purl, NAME, NAME@VERSION or NAME@RANGE (the ecosystem's own range syntax)." };
        var store = StoreOption();
        var db = DbOption();
        var format = FormatOption();
        var policy = PolicyOption();
        var limit = LimitOption();
        var offset = OffsetOption();
        var server = InventoryRemote.ServerOption();
        var token = InventoryRemote.TokenOption();
        var command = new Command("affected", """
            List every current deployment that contains a matching component, with its path from the root.

            An advisory id (GHSA-..., CVE-..., PYSEC-..., MAL-...) is looked up in the advisory database, also as an
            alias, and each package it names is matched as `scan` matches it: the OSV ranges of the record, and not
            components from git, URLs, local paths or workspaces, nor the policy's private names (unless they came
            from a public registry). A NAME, NAME@RANGE or purl lists every component of that name, whatever its
            source. A range after '@' uses the ecosystem's own syntax: node-semver for npm, PEP 440 specifiers for
            PyPI, NuGet interval notation.

            Hits are shown 100 at a time in deployment-name order (--limit, --offset); the summary line and the JSON
            `total` count every hit.

            Examples:
              tollgate inventory affected GHSA-wf5p-g6vw-rhxx
              tollgate inventory affected CVE-2023-45857
              tollgate inventory affected "axios@<1.6.0"
              tollgate inventory affected "requests@<2.32"
              tollgate inventory affected "Newtonsoft.Json@[,13.0.1)"
              tollgate inventory affected pkg:npm/axios@1.5.1
              tollgate inventory affected lodash --limit 50 --offset 50
            """) { query, store, db, format, policy, limit, offset, server, token };
        RefuseStoreWithServer(command, store, server);
        RefuseNegativePaging(command, limit, offset);
        command.SetAction(r => Guard(terminal, StoreOf(r, store, server), () =>
        {
            var text = r.GetValue(query)!;
            if (!AffectedQuery.TryParse(text, out var parsed, out var error))
            {
                terminal.Fail(error!);
                return ExitCodes.InputError;
            }
            var paging = new Paging(r.GetValue(offset), r.GetValue(limit) is > 0 and var n ? n : null);
            if (r.GetValue(server) is { } url)
            {
                return InventoryRemote.Affected(terminal, url, r.GetValue(token), text, paging.Offset, paging.Limit, r.GetValue(format) == "json");
            }
            if (parsed!.AdvisoryId is { } id)
            {
                if (!TryOwnPrivate(terminal, r.GetValue(policy), out var ownPrivate))
                {
                    return ExitCodes.InputError;
                }
                if (!Tollgate.Advisories.AdvisoryStore.TryOpen(Tollgate.Advisories.TollgateHome.DatabasePath(r.GetValue(db)), out var advisories, out var dbError))
                {
                    terminal.Fail(dbError.Message);
                    return ExitCodes.InputError;
                }
                using (advisories)
                {
                    using var inventory = InventoryStore.Open(ResolveStore(r.GetValue(store)), mustExist: true);
                    var result = InventoryAdvisories.Affected(inventory, advisories, id, ownPrivate, paging);
                    if (result.Advisories.Count == 0)
                    {
                        terminal.Fail($"no advisory {id} in {advisories.Path} (as an id or alias); `tollgate db update` fetches new ones.");
                        return ExitCodes.InputError;
                    }
                    if (r.GetValue(format) == "json")
                    {
                        terminal.OutWriter.WriteLine(InventoryJson.Affected(text, result.Page, result.Hits.Select(h => h.AdvisoryId)));
                        return ExitCodes.Pass;
                    }
                    RenderAffected(terminal, $"{text} ({string.Join(", ", result.Advisories.Select(a => a.Id))})", result.Page, json: false);
                    return ExitCodes.Pass;
                }
            }
            if (parsed.ConstraintIsInvalid)
            {
                terminal.Fail($"'{parsed.Constraint}' is neither a version nor a valid range (npm: <1.6.0 or ^1.2.0; PyPI: <2.32 or >=1,<2; NuGet: [,13.0.1)).");
                return ExitCodes.InputError;
            }
            using var store2 = InventoryStore.Open(ResolveStore(r.GetValue(store)), mustExist: true);
            var hits = store2.Affected(parsed.Ecosystem, parsed.Name!, parsed.Matches, paging);
            RenderAffected(terminal, text, hits, r.GetValue(format) == "json");
            return ExitCodes.Pass;
        }));
        return command;
    }

    private static Command Rescan(Terminal terminal)
    {
        var store = StoreOption();
        var db = DbOption();
        var format = FormatOption();
        var policy = PolicyOption();
        var command = new Command("rescan", """
            Match every package of every current deployment against the advisory database again (run it after
            `tollgate db update`), and report the deployments newly affected and those no longer affected since the
            previous rescan. The first rescan reports every current hit as new. Packages are matched as `scan` matches
            them: not components from git, URLs, local paths or workspaces, nor the policy's private names (unless
            they came from a public registry).

            Example:
              tollgate db update && tollgate inventory rescan --format json
            """) { store, db, format, policy };
        command.SetAction(r => Guard(terminal, StoreOf(r, store), () =>
        {
            if (!TryOwnPrivate(terminal, r.GetValue(policy), out var ownPrivate))
            {
                return ExitCodes.InputError;
            }
            if (!Tollgate.Advisories.AdvisoryStore.TryOpen(Tollgate.Advisories.TollgateHome.DatabasePath(r.GetValue(db)), out var advisories, out var dbError))
            {
                terminal.Fail(dbError.Message);
                return ExitCodes.InputError;
            }
            using (advisories)
            {
                using var inventory = InventoryStore.Open(ResolveStore(r.GetValue(store)), mustExist: true);
                var result = InventoryAdvisories.Rescan(inventory, advisories, ownPrivate);
                if (r.GetValue(format) == "json")
                {
                    terminal.OutWriter.WriteLine(InventoryJson.Rescan(result));
                    return ExitCodes.Pass;
                }
                var table = new TerminalTable(["", "Deployment", "Environment", "Package", "Advisory", "Path"], "Path");
                foreach (var found in result.NewlyAffected)
                {
                    var hit = found.Hit;
                    table.AddRow(found.Finding.Malicious ? "[red]new, malicious[/]" : "[red]new[/]", Markup.Escape(hit.Deployment), Markup.Escape(hit.Environment ?? ""),
                        Markup.Escape($"{hit.Component.Name}@{hit.Component.Version}"), Markup.Escape($"{found.AdvisoryId} ({found.Finding.Severity.ToName()})"),
                        Markup.Escape(string.Join(" > ", hit.Path)));
                }
                foreach (var (deployment, purl, advisory) in result.Resolved)
                {
                    table.AddRow("[green]resolved[/]", Markup.Escape(deployment), "", Markup.Escape(purl), Markup.Escape(advisory), "");
                }
                if (result.NewlyAffected.Count + result.Resolved.Count > 0)
                {
                    table.Write(terminal.Out);
                }
                terminal.Out.WriteLine($"{result.PackagesMatched} package version(s) matched, {result.AffectedPackages} affected; "
                    + $"{result.NewlyAffected.Count} newly affected, {result.Resolved.Count} resolved since the last rescan");
                return ExitCodes.Pass;
            }
        }));
        return command;
    }

    private static Command Hits(Terminal terminal)
    {
        var since = new Option<string?>("--since") { Description = "Only hits first found in this time: a duration back from now (24h, 7d) or a time (2026-12-04T09:00:00Z).", HelpName = "WHEN" };
        var deployment = new Option<string?>("--deployment", "-d") { Description = "Only the hits of this deployment." };
        var store = StoreOption();
        var format = FormatOption();
        var limit = LimitOption();
        var offset = OffsetOption("the order shown: newest found first");
        var server = InventoryRemote.ServerOption();
        var token = InventoryRemote.TokenOption();
        var command = new Command("hits", """
            List the advisory hits that rescans recorded in current deployments, newest found first, each with the time
            a rescan first found it: "what became affected since yesterday". A hit keeps its time across rescans and
            redeploys that still carry the package. Hits are as of the last rescan (`tollgate inventory rescan`, or
            the server's own rescan after `tollgate db update`); with no rescan yet, nothing is known and the command
            says so and exits 2.

            Examples:
              tollgate inventory hits --since 24h
              tollgate inventory hits --since 2026-12-04T00:00:00Z --format json
              tollgate inventory hits --deployment weather-mcp
              TOLLGATE_TOKEN=... tollgate inventory hits --since 24h --server https://inventory.example.com
            """) { since, deployment, store, format, limit, offset, server, token };
        RefuseStoreWithServer(command, store, server);
        RefuseNegativePaging(command, limit, offset);
        command.SetAction(r => Guard(terminal, StoreOf(r, store, server), () =>
        {
            DateTimeOffset? from = null;
            if (r.GetValue(since) is { } text)
            {
                if (!Tollgate.Policy.PointInTime.TryParse(text, DateTimeOffset.UtcNow, out var parsed, out var error))
                {
                    terminal.Fail("--since " + error);
                    return ExitCodes.InputError;
                }
                from = parsed;
            }
            var paging = new Paging(r.GetValue(offset), r.GetValue(limit) is > 0 and var n ? n : null);
            var json = r.GetValue(format) == "json";
            if (r.GetValue(server) is { } url)
            {
                return InventoryRemote.Hits(terminal, url, r.GetValue(token), r.GetValue(since), r.GetValue(deployment), paging, json);
            }
            using var inventory = InventoryStore.Open(ResolveStore(r.GetValue(store)), mustExist: true);
            var (page, last) = inventory.HitsAsOfLastRescan(from, r.GetValue(deployment), paging);
            var document = InventoryJson.Hits(from, r.GetValue(deployment), page, last);
            return RenderHits(terminal, document, json);
        }));
        return command;
    }

    /// <summary>Prints a <c>hits</c> document (local or from a server); no rescan recorded is an error, not an empty list.</summary>
    internal static int RenderHits(Terminal terminal, string document, bool json)
    {
        if (InventoryJson.ReadHits(document) is not { } list)
        {
            terminal.Fail("the answer is not a list of hits (is --server an inventory server?)");
            return ExitCodes.InputError;
        }
        if (list.LastRescan is null)
        {
            terminal.Fail("no rescan has been recorded in this inventory, so no hits are known: run `tollgate inventory rescan` (or POST /api/v1/rescan on a server)");
            return ExitCodes.InputError;
        }
        if (json)
        {
            terminal.OutWriter.WriteLine(document);
            return ExitCodes.Pass;
        }
        var table = new TerminalTable(["Found (UTC)", "Deployment", "Environment", "Package", "Advisory", "Severity", "Fixed in", "Path"], "Path");
        foreach (var h in list.Hits)
        {
            table.AddRow(h.FoundAt.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(h.Hit.Deployment),
                Markup.Escape(h.Hit.Environment ?? ""), Markup.Escape($"{h.Hit.Component.Name}@{h.Hit.Component.Version}"), Markup.Escape(h.AdvisoryId),
                h.Malicious ? "[red]malicious[/]" : Markup.Escape(h.Severity), Markup.Escape(h.FixedIn ?? ""), Markup.Escape(string.Join(" > ", h.Hit.Path)));
        }
        if (list.Hits.Count > 0)
        {
            table.Write(terminal.Out);
        }
        var scope = (list.Deployment is null ? "" : $" in {list.Deployment}") + (list.Since is { } s ? $" found since {s.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture)}" : "");
        terminal.Out.WriteLine($"{list.Total} hit(s){scope}; last rescan {list.LastRescan.At.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture)}");
        if (list.Hits.Count < list.Total && list.NextOffset is { } next)
        {
            terminal.Out.WriteLine($"shown: hits {list.Offset + 1}-{list.Offset + list.Hits.Count} of {list.Total}; next page: --offset {next} (--limit 0 shows every hit)");
        }
        return ExitCodes.Pass;
    }

    internal static void RenderAffected(Terminal terminal, string query, AffectedPage page, bool json)
    {
        if (json)
        {
            terminal.OutWriter.WriteLine(InventoryJson.Affected(query, page));
            return;
        }
        var table = new TerminalTable(["Deployment", "Environment", "Version", "Package", "Path"], "Path");
        foreach (var h in page.Hits)
        {
            table.AddRow(Markup.Escape(h.Deployment), Markup.Escape(h.Environment ?? ""), Markup.Escape(h.Version ?? ""),
                Markup.Escape($"{h.Component.Name}@{h.Component.Version}"), Markup.Escape(string.Join(" > ", h.Path)));
        }
        table.Write(terminal.Out);
        terminal.Out.WriteLine($"{page.Deployments} deployment(s) affected by {query} ({page.Total} hit(s))");
        if (page.Hits.Count < page.Total)
        {
            terminal.Out.WriteLine(page.Hits.Count == 0
                ? $"no hits shown: --offset {page.Offset} is past the last hit"
                : $"shown: hits {page.Offset + 1}-{page.Offset + page.Hits.Count} of {page.Total}"
                    + (page.NextOffset is { } next ? $"; next page: --offset {next}" : "") + " (--limit 0 shows every hit)");
        }
    }

    /// <summary>
    /// Runs a handler, turning store failures into a clear message naming the store (<paramref name="store"/>: null when
    /// the command works on a server) and exit code 2.
    /// </summary>
    internal static int Guard(Terminal terminal, Func<string?> store, Func<int> handler)
    {
        try
        {
            return handler();
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A PostgreSQL connection string may hold a password: only a file's path is named.
            var named = store() is { } s ? InventoryStore.IsPostgres(s) ? " (PostgreSQL)" : $" {s}" : "";
            terminal.Fail($"inventory store{named}: {e.Message}");
            return ExitCodes.InputError;
        }
    }

    /// <summary>The store a command's options name, for <see cref="Guard"/>; null when it sends to <c>--server</c>.</summary>
    private static Func<string?> StoreOf(ParseResult r, Option<string?> store, Option<string?>? server = null) =>
        () => server is not null && r.GetValue(server) is not null ? null : ResolveStore(r.GetValue(store));
}
