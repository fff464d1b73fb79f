using System.CommandLine;
using Spectre.Console;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;

namespace Tollgate.Cli.Commands;

internal sealed record ScanOptions(
    IReadOnlyList<string> Paths,
    string? Sbom,
    string? Policy,
    string? FailOn,
    string Format,
    string? Output,
    string? Database,
    IReadOnlyList<string> Advisories,
    bool NoAdvisories);

/// <summary><c>tollgate scan</c>: the CI gate. Graph → advisories and risk signals → policy → report and exit code.</summary>
internal static class ScanCommand
{
    public static Command Create(Terminal terminal)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Lockfiles, manifests or folders to scan (folders are searched recursively). Default: the current folder.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var sbom = new Option<string?>("--sbom") { Description = "Scan a CycloneDX or SPDX JSON SBOM instead of lockfiles.", HelpName = "FILE" };
        var policy = new Option<string?>("--policy") { Description = "The policy file. Default: tollgate.yaml found by walking up from PATH.", HelpName = "FILE" };
        var failOn = new Option<string?>("--fail-on") { Description = "Override the policy's failOn: none, low, medium, high or critical.", HelpName = "SEVERITY" };
        failOn.AcceptOnlyFromAmong("none", "low", "medium", "high", "critical");
        var format = new Option<string>("--format", "-f") { Description = "Output format: table, json, sarif or markdown.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "sarif", "markdown");
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of stdout (written whole or not at all).", HelpName = "FILE" };
        var db = new Option<string?>("--db") { Description = "The advisory database. Default: $TOLLGATE_HOME/advisories.db.", HelpName = "FILE" };
        var advisories = new Option<string[]>("--advisories")
        {
            Description = "Match against these OSV files instead of the database: all.zip archives, folders of OSV JSON or single files (loaded into a temporary database for this run).",
            HelpName = "PATH",
            AllowMultipleArgumentsPerToken = true,
        };
        var noAdvisories = new Option<bool>("--no-advisories") { Description = "Check risk signals and the policy only, without an advisory database." };
        var command = new Command("scan", """
            Find vulnerable, known-malicious and risky dependencies, judge them with the policy, and gate CI.

            Exit codes: 0 pass, 1 policy failed (findings at or above the threshold), 2 usage or input error, 3 internal error.
            Scans never use the network: advisories come from the local database (`tollgate db update` downloads it,
            `tollgate db import FILE` loads it offline) or from --advisories.

            Examples:
              tollgate scan examples/mcp-server-npm --advisories examples/advisories
              tollgate scan . --format sarif -o tollgate.sarif
              tollgate scan --sbom sbom.cdx.json --fail-on critical
              tollgate scan . --format markdown > comment.md
            """)
        {
            paths, sbom, policy, failOn, format, output, db, advisories, noAdvisories,
        };
        command.SetAction(r => Run(new ScanOptions(
            r.GetValue(paths) is { Length: > 0 } p ? p : ["."],
            r.GetValue(sbom),
            r.GetValue(policy),
            r.GetValue(failOn),
            r.GetValue(format) ?? "table",
            r.GetValue(output),
            r.GetValue(db),
            r.GetValue(advisories) ?? [],
            r.GetValue(noAdvisories)), terminal, TimeProvider.System));
        return command;
    }

    public static int Run(ScanOptions options, Terminal terminal, TimeProvider time)
    {
        var diagnostics = new DiagnosticBag();
        var graph = DepsCommand.ReadGraph(options.Paths, options.Sbom, diagnostics);

        var scanPath = options.Sbom ?? options.Paths[0];
        var loaded = PolicyLoader.Load(options.Policy, scanPath, [.. RiskRules.All.Select(r => r.Id), PolicyFindings.DeniedRuleId]);
        terminal.Diagnostics(loaded.Diagnostics);
        if (loaded.HasErrors || loaded.Policy is null)
        {
            terminal.Fail($"the policy {loaded.Path ?? options.Policy} has errors (see above); nothing was scanned.");
            return ExitCodes.InputError;
        }
        var policy = loaded.Policy;
        if (options.FailOn is not null && SeverityNames.TryParse(options.FailOn, out var failOn))
        {
            policy = policy with { FailOn = failOn };
        }
        if (loaded.Path is not null)
        {
            terminal.Error.MarkupLineInterpolated($"[grey]policy[/] {InputFile.DisplayPath(loaded.Path)}");
        }

        string? temporary = null;
        AdvisoryStore? store = null;
        try
        {
            if (!options.NoAdvisories && !OpenAdvisories(options, terminal, time, policy, out store, out temporary))
            {
                return ExitCodes.InputError;
            }
            var result = Scanner.Scan(graph, policy, new ScanSettings(store, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), ToolInfo.Version, Directory.GetCurrentDirectory()));
            Render(result.Report, options, terminal);
            terminal.Diagnostics(diagnostics.Items);
            foreach (var expired in result.Verdict.ExpiredIgnores)
            {
                terminal.Warning($"ignore entry {expired.Entry.Id} expired on {expired.Entry.Expires:yyyy-MM-dd} and no longer applies ({expired.Findings.Length} finding(s))");
            }
            if (diagnostics.HasErrors)
            {
                terminal.Fail("some inputs could not be read (see above); the scan is incomplete.");
                return ExitCodes.InputError;
            }
            return result.Report.Outcome == ScanOutcome.Fail ? ExitCodes.PolicyFailed : ExitCodes.Pass;
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

    private static bool OpenAdvisories(ScanOptions options, Terminal terminal, TimeProvider time, TollgatePolicy policy, out AdvisoryStore? store, out string? temporary)
    {
        store = null;
        temporary = null;
        string path;
        if (options.Advisories.Count > 0)
        {
            temporary = Directory.CreateTempSubdirectory("tollgate-scan-").FullName;
            path = Path.Combine(temporary, "advisories.db");
            var bag = new DiagnosticBag();
            var imported = AdvisoryImporter.Import(options.Advisories, new AdvisoryImportOptions { DatabasePath = path, Source = string.Join(", ", options.Advisories) }, bag);
            terminal.Diagnostics(bag.Items);
            if (!imported.Succeeded)
            {
                terminal.Fail("the advisories given with --advisories could not be loaded (see above).");
                return false;
            }
            terminal.Error.MarkupLineInterpolated($"[grey]advisories[/] {imported.Read} record(s) from {string.Join(", ", options.Advisories)}");
        }
        else
        {
            path = TollgateHome.DatabasePath(options.Database);
        }
        if (!AdvisoryStore.TryOpen(path, out store, out var error))
        {
            terminal.Fail(error.Message);
            terminal.Message($"hint: {error.Hint}; or scan with --advisories FILE (OSV all.zip or JSON), or --no-advisories for risk signals only.");
            return false;
        }
        if (temporary is null && PolicyEvaluator.DatabaseAgeWarning(policy, store.ImportedAt(), time.GetUtcNow()) is { } stale)
        {
            terminal.Warning(stale);
        }
        return true;
    }

    private static void Render(ScanReport report, ScanOptions options, Terminal terminal)
    {
        switch (options.Format)
        {
            case "json":
                DepsCommand.Emit(ScanJson.Write(report), options.Output, terminal);
                return;
            case "sarif":
                DepsCommand.Emit(SarifWriter.Write(report), options.Output, terminal);
                return;
            case "markdown":
                DepsCommand.Emit(MarkdownReport.Write(report), options.Output, terminal);
                return;
        }
        if (options.Output is not null)
        {
            var writer = new StringWriter();
            RenderTable(report, new Terminal(writer, terminal.ErrorWriter));
            DepsCommand.Emit(writer.ToString().TrimEnd(), options.Output, terminal);
            return;
        }
        RenderTable(report, terminal);
    }

    /// <summary>Findings grouped by package, most severe first, with fixes and the shortest "why" path, and a summary line.</summary>
    internal static void RenderTable(ScanReport report, Terminal terminal)
    {
        var groups = report.Ordered.GroupBy(f => f.Finding.Component.Key, StringComparer.Ordinal).ToList();
        if (groups.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumns("Package", "Severity", "Id", "Summary", "Fixed in", "Why (shortest path)");
            foreach (var group in groups)
            {
                var first = true;
                foreach (var f in group)
                {
                    var c = f.Finding.Component;
                    var severity = f.Finding.Kind == FindingKind.Malicious ? "malicious" : f.Finding.Severity == Severity.None ? "unknown" : f.Finding.Severity.ToName();
                    var colour = f.Suppression is not null ? "grey" : f.Finding.Kind == FindingKind.Malicious || f.Finding.Severity >= Severity.Critical ? "red bold"
                        : f.Finding.Severity == Severity.High ? "red" : f.Finding.Severity == Severity.Medium ? "yellow" : "blue";
                    var level = f.Suppression is not null ? " (ignored)" : f.Level == FindingLevel.Fail ? " FAIL" : "";
                    table.AddRow(
                        first ? Markup.Escape($"{c.Name}@{c.Version}") + $" [grey]{c.Ecosystem.ToOsvName()}[/]" : "",
                        $"[{colour}]{Markup.Escape(severity + level)}[/]",
                        Markup.Escape(f.Finding.Id),
                        Markup.Escape(Truncate(f.Finding.Summary, 70)),
                        Markup.Escape(string.Join(", ", f.Finding.FixedIn)),
                        first ? Markup.Escape(f.Paths.Length > 0 ? string.Join(" > ", f.Paths[0]) : "") : "");
                    first = false;
                }
            }
            terminal.Out.Write(table);
        }
        var s = report.Summary;
        var verdict = report.Outcome switch
        {
            ScanOutcome.Fail => "[red bold]FAIL[/]",
            ScanOutcome.Warn => "[yellow]WARN[/]",
            _ => "[green]PASS[/]",
        };
        var packages = report.Graph?.Components.Length ?? 0;
        terminal.Out.MarkupLine($"{verdict}: {s.Total} finding(s) in {packages} package(s): {s.Failing} failing (failOn {report.FailOn.ToName()}), {s.Warnings} warning(s), {s.Suppressed} suppressed");
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
