using System.CommandLine;
using Spectre.Console;
using Tollgate.Advisories;
using Tollgate.Ecosystems;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;
using Tollgate.Updates;

namespace Tollgate.Cli.Commands;

internal sealed record UpdateOptions(
    IReadOnlyList<string> Paths,
    string? Policy,
    string Format,
    string? Output,
    string? Database,
    IReadOnlyList<string> Advisories,
    bool NoAdvisories,
    IReadOnlyList<string> Registries,
    bool Offline,
    string? MinAge,
    bool StrictAge,
    bool Apply,
    string? Only,
    string? Group,
    IReadOnlyList<string> Exclude,
    string? NodeVersion = null,
    string? CacheFolder = null);

/// <summary><c>tollgate update</c>: update proposals with compromise signals and auto-merge verdicts, and <c>update lint</c>.</summary>
internal static class UpdateCommand
{
    public static Command Create(Terminal terminal)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Lockfiles, manifests or folders (as for scan). Default: the current folder.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var policy = new Option<string?>("--policy") { Description = "The policy file (minimumReleaseAge and its exclusions). Default: tollgate.yaml found by walking up from PATH.", HelpName = "FILE" };
        var format = new Option<string>("--format", "-f") { Description = "Output format: table, json or markdown (a pull-request body).", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "markdown");
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of stdout (written whole or not at all).", HelpName = "FILE" };
        var db = new Option<string?>("--db") { Description = "The advisory database. Default: $TOLLGATE_HOME/advisories.db.", HelpName = "FILE" };
        var advisories = new Option<string[]>("--advisories") { Description = "Use these OSV files instead of the database (all.zip, a folder or a file). Repeat for several.", HelpName = "PATH" };
        var noAdvisories = new Option<bool>("--no-advisories") { Description = "Plan without advisories: no security proposals, and no proposal may be auto-merged." };
        var registry = new Option<string[]>("--registry")
        {
            Description = "The registry of one ecosystem, as ECOSYSTEM=URL (npm=…, pypi=… a PEP 691 index, nuget=… a V3 service index). Default: the package managers' own configuration (.npmrc, pip.conf/uv.toml, nuget.config). Repeat for several.",
            HelpName = "ECOSYSTEM=URL",
        };
        var offline = new Option<bool>("--offline") { Description = "Use only the metadata cache under $TOLLGATE_HOME; never ask a registry." };
        var minAge = new Option<string?>("--min-age") { Description = "Propose no version younger than this (e.g. 72h, 7d); overrides the policy's minimumReleaseAge. 0 turns the cooldown off.", HelpName = "DURATION" };
        var strictAge = new Option<bool>("--strict-age") { Description = "Apply the cooldown to security fixes too (by default they are exempt)." };
        var apply = new Option<bool>("--apply") { Description = "Write the proposals into the manifests and lockfiles through the package managers, scripts off; everything is restored when a step fails." };
        var only = new Option<string?>("--only") { Description = "With --apply: only these proposals (security).", HelpName = "KIND" };
        only.AcceptOnlyFromAmong("security");
        var group = new Option<string?>("--group") { Description = "Only the proposals of this group (see the report's groups), for output and --apply.", HelpName = "NAME" };
        var node = new Option<string?>("--node-version") { Description = "The Node.js version npm's engine check uses when choosing 'wanted' and 'latest', as npm does with the node it runs on. Default: the installed node's version (none checked when node is not installed, or with 'none').", HelpName = "VERSION" };
        var exclude = DepsCommand.ExcludeOption();
        var command = new Command("update", """
            Propose dependency updates, security fixes first, each with an auto-merge verdict from the registry's own facts.

            For every direct dependency: the current version, the version the package manager would pick for its range
            ("wanted"), the newest ("latest"), and one proposal. Versions younger than minimumReleaseAge are not
            proposed (security fixes are exempt unless --strict-age). A proposal may be auto-merged only when it is a
            patch or minor update, older than the cooldown, shows no compromise signal (new install script, new
            publisher, lost provenance, risky new dependency, unusual release cadence, deprecated or yanked) and no
            advisory affects it.

            Exit codes: 0 nothing to do (or everything applied), 1 security proposals exist, 2 usage or input error or
            an incomplete plan (a registry that did not answer), 3 internal error.

            Examples:
              tollgate update .
              tollgate update . --format markdown -o pr-body.md
              tollgate update . --only security --apply
              tollgate update lint .
            """)
        {
            paths, policy, format, output, db, advisories, noAdvisories, registry, offline, minAge, strictAge, apply, only, group, node, exclude,
        };
        command.Subcommands.Add(UpdateLintCommand.Create(terminal));
        command.Validators.Add(r =>
        {
            if (r.GetValue(noAdvisories) && (r.GetValue(advisories) is { Length: > 0 } || r.GetValue(db) is not null))
            {
                r.AddError("--no-advisories contradicts --db and --advisories: give one of them");
            }
            if (r.GetValue(db) is not null && r.GetValue(advisories) is { Length: > 0 })
            {
                r.AddError("--db and --advisories both name the advisories to use: give one of them");
            }
            if (r.GetValue(only) is not null && !r.GetValue(apply))
            {
                r.AddError("--only selects what --apply writes: give --apply too");
            }
            if (r.GetValue(minAge) is { } age && !PolicyDuration.TryParse(age, out _, out var error))
            {
                r.AddError($"--min-age '{age}': {error}");
            }
            foreach (var entry in r.GetValue(registry) ?? [])
            {
                if (!RegistrySources.TryParseOverride(entry, out _, out _, out var problem))
                {
                    r.AddError(problem!);
                }
            }
        });
        command.SetAction((r, token) => RunAsync(new UpdateOptions(
            r.GetValue(paths) is { Length: > 0 } p ? p : ["."],
            r.GetValue(policy),
            r.GetValue(format) ?? "table",
            r.GetValue(output),
            r.GetValue(db),
            r.GetValue(advisories) ?? [],
            r.GetValue(noAdvisories),
            r.GetValue(registry) ?? [],
            r.GetValue(offline),
            r.GetValue(minAge),
            r.GetValue(strictAge),
            r.GetValue(apply),
            r.GetValue(only),
            r.GetValue(group),
            r.GetValue(exclude) ?? [],
            NodeVersion(r.GetValue(node))), terminal, TimeProvider.System, token));
        return command;
    }

    /// <summary>The node version npm would check engines against: the option, else the installed node's (null for none).</summary>
    private static string? NodeVersion(string? option)
    {
        if (option is not null)
        {
            return option == "none" ? null : option;
        }
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("node", ["--version"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = System.Diagnostics.Process.Start(start);
            if (process is null)
            {
                return null;
            }
            var text = process.StandardOutput.ReadToEnd().Trim();
            return process.WaitForExit(10_000) && process.ExitCode == 0 && Ecosystems.Npm.NpmVersion.TryParse(text, out var version) ? version.Normalized : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    public static async Task<int> RunAsync(UpdateOptions options, Terminal terminal, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var diagnostics = new DiagnosticBag();
        var graph = DepsCommand.ReadGraph(options.Paths, null, diagnostics, new PathGlobs(options.Exclude));
        terminal.Diagnostics(diagnostics.Items);
        var inputProblems = ScanNames.InputProblems(graph.Diagnostics, !graph.Roots.IsEmpty).ToList();
        if (inputProblems.Count > 0)
        {
            foreach (var problem in inputProblems)
            {
                terminal.Fail(problem);
            }
            terminal.Fail("the inputs could not be read completely; no updates were planned.");
            return ExitCodes.InputError;
        }
        var loaded = PolicyLoader.Load(options.Policy, options.Paths[0], [.. RiskRules.All.Select(r => r.Id), .. RegistryRules.All.Select(r => r.Id), PolicyFindings.DeniedRuleId]);
        terminal.Diagnostics(loaded.Diagnostics);
        if (loaded.HasErrors || loaded.Policy is null)
        {
            terminal.Fail($"the policy {loaded.Path ?? options.Policy} has errors (see above); nothing was planned.");
            return ExitCodes.InputError;
        }
        var policy = loaded.Policy;
        var minimumAge = policy.MinimumReleaseAge;
        if (options.MinAge is { } text && PolicyDuration.TryParse(text, out var parsed, out _))
        {
            minimumAge = parsed;
        }

        var overrides = new Dictionary<Ecosystem, Uri>();
        foreach (var entry in options.Registries)
        {
            if (RegistrySources.TryParseOverride(entry, out var ecosystem, out var url, out _))
            {
                overrides[ecosystem] = url!;
            }
        }
        if (overrides.Values.Any(u => !string.IsNullOrEmpty(u.UserInfo)))
        {
            terminal.Warning("--registry carries credentials in its URL, where other users of this machine can read them in the process list; put them in the package manager's configuration instead.");
        }

        string? temporary = null;
        AdvisoryStore? store = null;
        var scanOptions = new ScanOptions(options.Paths, null, options.Policy, null, "table", null, options.Database, options.Advisories, options.NoAdvisories);
        try
        {
            if (!options.NoAdvisories && !ScanCommand.OpenAdvisories(scanOptions, terminal, time, policy, out store, out temporary))
            {
                return ExitCodes.InputError;
            }
            var folder = Directory.Exists(options.Paths[0]) ? options.Paths[0] : Path.GetDirectoryName(Path.GetFullPath(options.Paths[0]))!;
            var problems = new List<string>();
            using var http = new RegistryHttp(new RegistryHttpOptions { CacheFolder = options.CacheFolder ?? RegistryHttpOptions.DefaultCacheFolder(), Offline = options.Offline, Time = time });
            var ecosystems = graph.Components.Where(c => c.Direct && c.Origin.Kind == OriginKind.Registry && c.Ecosystem != Ecosystem.Generic).Select(c => c.Ecosystem);
            var sources = RegistrySources.Configure(ecosystems, folder, overrides, http, problems);
            var settings = new UpdateSettings
            {
                MinimumAge = minimumAge,
                StrictAge = options.StrictAge,
                Now = time.GetUtcNow(),
                NodeVersion = options.NodeVersion,
                AutomergeTypes = [.. policy.Automerge.Select(t => Enum.Parse<UpdateType>(t, ignoreCase: true))],
                IsExemptFromAge = c => policy.IsExemptFromReleaseAge(c),
            };
            var planner = new UpdatePlanner(sources, store, settings);
            var plan = await planner.PlanAsync(graph, cancellationToken).ConfigureAwait(false);
            plan = plan with { Problems = [.. problems, .. plan.Problems] };
            if (options.Group is { } group)
            {
                if (!plan.Groups.Any(g => g.Name == group))
                {
                    terminal.Fail($"there is no group '{group}'; the groups are: {(plan.Groups.IsEmpty ? "(none)" : string.Join(", ", plan.Groups.Select(g => g.Name)))}");
                    return ExitCodes.InputError;
                }
                plan = plan with { Updates = [.. plan.Updates.Where(u => u.Group == group)], Groups = [.. plan.Groups.Where(g => g.Name == group)] };
            }
            var (requests, bytes, hits) = http.Statistics;
            terminal.Progress("registries", $"{requests} request(s), {bytes / 1024} KiB, {hits} from the cache{(options.Offline ? " (offline)" : "")}");
            foreach (var note in plan.Notes)
            {
                terminal.Warning(note);
            }

            if (options.Apply)
            {
                return Apply(plan, options, overrides, sources, terminal, cancellationToken);
            }
            Render(plan, options, terminal);
            if (!plan.Problems.IsEmpty)
            {
                foreach (var problem in plan.Problems)
                {
                    terminal.Fail(problem);
                }
                terminal.Fail("the plan is incomplete: what could not be checked is listed above.");
                return ExitCodes.InputError;
            }
            return plan.Proposals.Any(p => p.Kind == ProposalKind.Security) ? ExitCodes.PolicyFailed : ExitCodes.Pass;
        }
        finally
        {
            store?.Dispose();
            if (temporary is not null)
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    private static int Apply(UpdatePlan plan, UpdateOptions options, Dictionary<Ecosystem, Uri> overrides, Dictionary<Ecosystem, IPackageFactsSource> sources, Terminal terminal, CancellationToken cancellationToken)
    {
        if (!plan.Problems.IsEmpty)
        {
            foreach (var problem in plan.Problems)
            {
                terminal.Fail(problem);
            }
            terminal.Fail("the plan is incomplete; nothing was applied.");
            return ExitCodes.InputError;
        }
        var selected = plan.Proposals.Where(p => options.Only != "security" || p.Kind == ProposalKind.Security).ToList();
        if (selected.Count == 0)
        {
            terminal.Message("nothing to apply.");
            return ExitCodes.Pass;
        }
        PackageFacts? Facts(Ecosystem ecosystem, string name) =>
            sources.TryGetValue(ecosystem, out var source) ? source.GetAsync(name, cancellationToken).GetAwaiter().GetResult().Facts : null;
        var applier = new UpdateApplier(Facts, new ApplySettings(overrides.GetValueOrDefault(Ecosystem.Npm)));
        var applied = applier.Apply(selected, out var failure);
        if (failure is not null)
        {
            terminal.Fail(failure);
            return ExitCodes.InputError;
        }
        foreach (var a in applied)
        {
            terminal.Out.MarkupLine($"[green]updated[/] {Markup.Escape(a.Message)} [grey]({Markup.Escape(a.Update.Kind.ToName())})[/]");
        }
        var left = plan.Proposals.Count(p => p.Kind == ProposalKind.Security) - applied.Count(a => a.Update.Kind == ProposalKind.Security);
        return left > 0 ? ExitCodes.PolicyFailed : ExitCodes.Pass;
    }

    private static void Render(UpdatePlan plan, UpdateOptions options, Terminal terminal)
    {
        switch (options.Format)
        {
            case "json":
                DepsCommand.Emit(UpdateReport.Json(plan), options.Output, terminal);
                return;
            case "markdown":
                DepsCommand.Emit(UpdateReport.Markdown(plan, options.Group), options.Output, terminal);
                return;
        }
        if (options.Output is not null)
        {
            var writer = new StringWriter();
            RenderTable(plan, new Terminal(writer, terminal.ErrorWriter));
            DepsCommand.Emit(writer.ToString().TrimEnd(), options.Output, terminal);
            return;
        }
        RenderTable(plan, terminal);
    }

    private static void RenderTable(UpdatePlan plan, Terminal terminal)
    {
        var table = new TerminalTable(["Package", "Current", "Wanted", "Latest", "Proposed", "Type", "Auto-merge", "Reasons"], "Reasons");
        foreach (var u in plan.Updates)
        {
            var kind = u.Kind == ProposalKind.Security ? $"[red]security[/] {Markup.Escape(string.Join(", ", u.Security))}" : Markup.Escape(u.Kind.ToName());
            var verdict = u.Proposed is null ? "" : u.Automerge ? "[green]yes[/]" : "[yellow]no[/]";
            table.AddRow(
                Markup.Escape(u.Name) + $" [grey]{u.Ecosystem.ToOsvName()}[/]",
                Markup.Escape(u.Current),
                Markup.Escape(u.Wanted ?? "-"),
                Markup.Escape(u.Latest ?? "-"),
                Markup.Escape(u.Proposed ?? "-"),
                u.Proposed is null ? "" : $"{kind} {u.UpdateType.ToName()}",
                verdict,
                Markup.Escape(string.Join("; ", u.Automerge ? u.Reasons.Where(r => r.StartsWith("security", StringComparison.Ordinal)) : NegativeReasons(u))));
        }
        table.Write(terminal.Out);
        foreach (var t in plan.Transitive)
        {
            terminal.Out.MarkupLine($"[red]vulnerable transitive[/] {Markup.Escape($"{t.Name}@{t.Current}")} ({Markup.Escape(string.Join(", ", t.Advisories))}) via {Markup.Escape(t.Via)}: {Markup.Escape(t.Advice)}");
        }
        var proposals = plan.Proposals.ToList();
        var line = $"{proposals.Count} proposal(s) for {plan.Checked} direct dependency(ies): {proposals.Count(p => p.Kind == ProposalKind.Security)} security, "
            + $"{proposals.Count(p => p.Kind == ProposalKind.InRange)} in-range, {proposals.Count(p => p.Kind == ProposalKind.OutOfRange)} out-of-range; {proposals.Count(p => p.Automerge)} may be auto-merged";
        terminal.Out.MarkupLine(plan.Problems.IsEmpty ? Markup.Escape(line) : $"[red bold]INCOMPLETE[/]: {Markup.Escape(line)}");
    }

    /// <summary>The reasons that stop an auto-merge (those come first in the list), or all reasons for a dependency without a proposal.</summary>
    private static IEnumerable<string> NegativeReasons(DependencyUpdate u) =>
        u.Proposed is null ? u.Reasons : u.Reasons.Where(r => !IsPositive(r));

    private static bool IsPositive(string reason) =>
        reason.StartsWith("patch update", StringComparison.Ordinal) || reason.StartsWith("minor update", StringComparison.Ordinal)
        || reason.StartsWith("published ", StringComparison.Ordinal) || reason.StartsWith("no compromise", StringComparison.Ordinal)
        || reason.StartsWith("no known advisory", StringComparison.Ordinal) || reason.StartsWith("release age not required", StringComparison.Ordinal);
}
