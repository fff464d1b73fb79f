using System.CommandLine;
using Spectre.Console;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Mcp;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;

namespace Tollgate.Cli.Commands;

internal sealed record McpAuditCommandOptions(
    IReadOnlyList<string> Configs,
    bool Discover,
    string Format,
    string? Output,
    string? Policy,
    string? Database,
    string? FailOn,
    bool NoAdvisories = false);

/// <summary><c>tollgate mcp audit</c>: checks MCP client configurations for unpinned, unsafe or secret-bearing servers.</summary>
internal static class McpCommand
{
    public static Command Create(Terminal terminal) => Create(terminal, McpDiscoveryEnvironment.Current);

    /// <summary>The command, with the machine that <c>--discover</c> looks at supplied (tests give a fake home).</summary>
    public static Command Create(Terminal terminal, Func<McpDiscoveryEnvironment> environment)
    {
        var configs = new Argument<string[]>("CONFIG")
        {
            Description = "Client configuration files (claude_desktop_config.json, .mcp.json, .vscode/mcp.json, mcp_config.json, config.toml…) or project folders.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var discover = new Option<bool>("--discover")
        {
            Description = "Also audit every client's documented per-user files and the current folder's per-project files.",
        };
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output format: table, json, sarif or markdown.",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json", "sarif", "markdown");
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write the report to this file instead of stdout (written whole or not at all).",
            HelpName = "FILE",
        };
        var policy = new Option<string?>("--policy")
        {
            Description = "The policy file (default: tollgate.yaml in the current folder or above).",
            HelpName = "FILE",
        };
        var database = new Option<string?>("--db")
        {
            Description = "The advisory database that server versions are checked against (default: the one 'tollgate db update' writes).",
            HelpName = "FILE",
        };
        var failOn = new Option<string?>("--fail-on")
        {
            Description = "Vulnerabilities of this severity or higher fail: none, low, medium, high, critical (overrides the policy's failOn).",
            HelpName = "SEVERITY",
        };
        failOn.AcceptOnlyFromAmong("none", "low", "medium", "high", "critical");
        var noAdvisories = new Option<bool>("--no-advisories")
        {
            Description = "Do not check server packages against the advisory database (reports say so). Without it, a missing database makes the audit incomplete.",
        };

        var audit = new Command("audit", """
            Audit MCP client configurations: servers run without an exact version, auto-confirmed installs, secrets
            written in plain text, remote servers over plain HTTP, servers started from git or from paths outside the
            project, containers given the host, and server versions with known advisories. Nothing is run or sent.

            Reads Claude Desktop, Claude Code (.mcp.json, ~/.claude.json), VS Code (mcp.json, settings.json), Cursor,
            Windsurf, Gemini CLI and Codex (config.toml) configurations. Secrets are masked in every output.

            Examples:
              tollgate mcp audit --discover
              tollgate mcp audit .vscode/mcp.json .mcp.json
              tollgate mcp audit . --format sarif -o mcp.sarif
            Exit codes: 0 pass, 1 policy failed, 2 usage or input error or an incomplete audit.
            """)
        {
            configs, discover, format, output, policy, database, failOn, noAdvisories,
        };
        audit.Validators.Add(r =>
        {
            if (r.GetValue(noAdvisories) && r.GetValue(database) is not null)
            {
                r.AddError("--db and --no-advisories contradict each other: give one of them");
            }
        });
        audit.SetAction(result => Run(new McpAuditCommandOptions(
            result.GetValue(configs) ?? [],
            result.GetValue(discover),
            result.GetValue(format) ?? "table",
            result.GetValue(output),
            result.GetValue(policy),
            result.GetValue(database),
            result.GetValue(failOn),
            result.GetValue(noAdvisories)), terminal, environment(), TimeProvider.System));
        return new Command("mcp", """
            MCP client configurations.

            Example:
              tollgate mcp audit --discover
            """) { audit };
    }

    public static int Run(McpAuditCommandOptions options, Terminal terminal, McpDiscoveryEnvironment environment, TimeProvider time)
    {
        var diagnostics = new DiagnosticBag();
        var files = new List<string>();
        foreach (var config in options.Configs)
        {
            if (Directory.Exists(config))
            {
                var found = McpDiscovery.Candidates(environment with { WorkingFolder = Path.GetFullPath(config) })
                    .Where(l => !l.PerUser && File.Exists(l.Path)).Select(l => l.Path).ToList();
                if (found.Count == 0)
                {
                    diagnostics.Error(DiagnosticIds.NoInput, "no MCP client configuration in this folder", new SourceLocation(InputFile.DisplayPath(config)),
                        "looked for .mcp.json, .vscode/mcp.json, .cursor/mcp.json, .gemini/settings.json and .codex/config.toml");
                }
                files.AddRange(found);
            }
            else
            {
                files.Add(config);
            }
        }
        if (options.Discover)
        {
            foreach (var location in McpDiscovery.Find(environment))
            {
                terminal.Progress("found", $"{InputFile.DisplayPath(location.Path)} ({location.Client.DisplayName()}, {(location.PerUser ? "per user" : "per project")})");
                files.Add(location.Path);
            }
        }
        else if (options.Configs.Count == 0)
        {
            terminal.Fail("name the configuration files to audit, or pass --discover to find them.");
            return ExitCodes.InputError;
        }
        files = [.. files.DistinctBy(Path.GetFullPath)];

        var knownRules = RiskRules.All.Select(r => r.Id).Concat(McpRules.All.Select(r => r.Id)).ToList();
        var loaded = PolicyLoader.Load(options.Policy, environment.WorkingFolder, knownRules);
        if (loaded.HasErrors || loaded.Policy is null)
        {
            terminal.Diagnostics(loaded.Diagnostics);
            terminal.Fail("the policy file could not be read; nothing was audited.");
            return ExitCodes.InputError;
        }
        var policy = loaded.Policy;
        if (options.FailOn is not null && SeverityNames.TryParse(options.FailOn, out var failOn))
        {
            policy = policy with { FailOn = failOn };
        }

        AdvisoryStore? store = null;
        if (!options.NoAdvisories)
        {
            var databasePath = TollgateHome.DatabasePath(options.Database, environment.Environment);
            if (AdvisoryStore.TryOpen(databasePath, out var opened, out var storeError))
            {
                store = opened;
            }
            else if (options.Database is not null || storeError.Problem != AdvisoryStoreProblem.Missing)
            {
                terminal.Fail(storeError.Message);
                if (storeError.Problem != AdvisoryStoreProblem.Missing)
                {
                    // A missing database's message already says how to get one.
                    terminal.Message("hint: " + storeError.Hint);
                }
                return ExitCodes.InputError;
            }
        }

        McpAuditResult result;
        AdvisoryCoverage? coverage = null;
        var incomplete = new List<string>();
        using (store)
        {
            result = McpAudit.Run(files, new McpAuditOptions { WorkingFolder = environment.WorkingFolder, UserHome = environment.Home }, diagnostics, store);
            var packages = result.Graph.Components.Where(c => c.Ecosystem != Ecosystem.Generic && c.Resolved).ToList();
            if (store is not null)
            {
                coverage = Scanner.Coverage(packages, store, store.Path);
                incomplete.AddRange(Scanner.CoverageProblems(coverage, policy));
            }
            else if (!options.NoAdvisories && packages.Count > 0)
            {
                incomplete.Add($"no advisory database: {packages.Count} pinned server package(s) were not checked for known vulnerabilities or malware "
                    + "(run 'tollgate db update', or pass --no-advisories to audit the configurations only)");
            }
        }
        var verdict = McpReport.Judge(result, policy, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
        var report = McpReport.Build(result, verdict, policy, ToolInfo.Version, environment.WorkingFolder, coverage: coverage, incomplete: incomplete);

        switch (options.Format)
        {
            case "json":
                DepsCommand.Emit(ScanJson.Write(report), options.Output, terminal);
                break;
            case "sarif":
                DepsCommand.Emit(SarifWriter.Write(report), options.Output, terminal);
                break;
            case "markdown":
                DepsCommand.Emit(MarkdownReport.Write(report, "Tollgate MCP audit"), options.Output, terminal);
                break;
            default:
                RenderTable(report, result, terminal);
                break;
        }
        terminal.Diagnostics(result.Diagnostics);
        foreach (var expired in verdict.ExpiredIgnores)
        {
            terminal.Warning($"the ignore entry for {expired.Entry.Id} expired on {expired.Entry.Expires:yyyy-MM-dd} and no longer applies");
        }
        return ScanCommand.Finish(report, terminal, "audit");
    }

    private static void RenderTable(ScanReport report, McpAuditResult result, Terminal terminal)
    {
        var ordered = report.Ordered.ToList();
        if (ordered.Count > 0)
        {
            var table = new TerminalTable(["Level", "Severity", "Id", "Package", "Finding", "Where"], "Finding");
            foreach (var f in ordered)
            {
                var level = f.IsActive ? f.Level.ToName() : "ignored";
                var colour = !f.IsActive ? "grey" : f.Level switch { FindingLevel.Fail => "red", FindingLevel.Warn => "yellow", _ => "grey" };
                table.AddRow(
                    $"[{colour}]{Markup.Escape(level)}[/]",
                    Markup.Escape(f.Finding.Severity.ToName()),
                    Markup.Escape(f.Finding.Id),
                    Markup.Escape($"{f.Finding.Component.Name}@{f.Finding.Component.Version}"),
                    Markup.Escape(f.Finding.Evidence is null ? f.Finding.Summary : $"{f.Finding.Summary} ({f.Finding.Evidence})"),
                    Markup.Escape(f.Finding.Component.Locations.FirstOrDefault()?.ToString() ?? ""));
            }
            table.Write(terminal.Out);
        }
        ScanCommand.RenderCoverage(report, terminal);
        var summary = report.Summary;
        var incomplete = report.Incomplete.IsEmpty ? "" : "; not a pass: " + string.Join("; ", report.Incomplete);
        terminal.Out.MarkupLineInterpolated(
            $"{report.Outcome.ToName().ToUpperInvariant()}: {result.Servers.Length} server(s) in {result.Files.Length} file(s); {summary.Failing} failing, {summary.Warnings} warning(s), {summary.Suppressed} suppressed{incomplete}");
    }
}
