using System.Collections.Immutable;
using System.CommandLine;
using Spectre.Console;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;
using Tollgate.Updates;

namespace Tollgate.Cli.Commands;

internal sealed record UpdateLintOptions(string Path, string? Policy, string Format, string? Output);

/// <summary><c>tollgate update lint</c>: the update bots' own configuration, reported like a scan.</summary>
internal static class UpdateLintCommand
{
    public static Command Create(Terminal terminal)
    {
        var path = new Argument<string?>("PATH") { Description = "The repository's root folder. Default: the current folder.", Arity = ArgumentArity.ZeroOrOne };
        var policy = new Option<string?>("--policy") { Description = "The policy file (rule levels and ignores). Default: tollgate.yaml found by walking up from PATH.", HelpName = "FILE" };
        var format = new Option<string>("--format", "-f") { Description = "Output format: table, json, sarif or markdown.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "sarif", "markdown");
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of stdout (written whole or not at all).", HelpName = "FILE" };
        var command = new Command("lint", """
            Check Dependabot and Renovate configuration: cooldowns, auto-merge limits, coverage of the repository's
            ecosystems, security updates, ignores without an end (rules TG4101-TG4106).

            Reads .github/dependabot.yml, renovate.json, renovate.json5, .renovaterc(.json), .github/renovate.json and
            the "renovate" key of package.json. Exit codes as scan: 0 pass, 1 policy failed, 2 input error, 3 internal.

            Examples:
              tollgate update lint .
              tollgate update lint . --format sarif -o update-bots.sarif
            """)
        {
            path, policy, format, output,
        };
        command.SetAction(r => Run(new UpdateLintOptions(r.GetValue(path) ?? ".", r.GetValue(policy), r.GetValue(format) ?? "table", r.GetValue(output)), terminal, TimeProvider.System));
        return command;
    }

    public static int Run(UpdateLintOptions options, Terminal terminal, TimeProvider time)
    {
        if (!Directory.Exists(options.Path))
        {
            terminal.Fail($"{options.Path}: no such folder (give the repository's root folder)");
            return ExitCodes.InputError;
        }
        var loaded = PolicyLoader.Load(options.Policy, options.Path, [.. RiskRules.All.Select(r => r.Id), .. RegistryRules.All.Select(r => r.Id), PolicyFindings.DeniedRuleId]);
        terminal.Diagnostics(loaded.Diagnostics);
        if (loaded.HasErrors || loaded.Policy is null)
        {
            terminal.Fail($"the policy {loaded.Path ?? options.Policy} has errors (see above); nothing was checked.");
            return ExitCodes.InputError;
        }
        var policy = loaded.Policy;
        var result = UpdateBotLint.Run(options.Path);
        if (result.Files.IsEmpty && result.Findings.IsEmpty)
        {
            // Neither a bot configuration nor a dependency it should cover: nothing was checked (a mistyped folder, or a
            // subfolder of the repository), which is not a pass, as for deploy audit and mcp audit.
            result = result with
            {
                Diagnostics = result.Diagnostics.Add(new Diagnostic(DiagnosticIds.NoInput, DiagnosticSeverity.Error,
                    "no Dependabot or Renovate configuration, and no dependencies for one to cover, in this folder",
                    new SourceLocation(InputFile.DisplayPath(options.Path)),
                    "give the repository's root folder: .github/dependabot.yml, renovate.json and the lockfiles are found from there")),
            };
        }
        var verdict = PolicyEvaluator.Evaluate(result.Findings, policy, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), id => RiskRules.Find(id)?.DefaultLevel, new SchemeVersionMatcher());
        var problems = ScanNames.InputProblems(result.Diagnostics, true).ToList();
        var findings = verdict.Findings.Where(f => f.Level != RuleLevel.Off).Select(f => ReportedFinding.Create(
            f.Finding,
            f.Level switch { RuleLevel.Fail => FindingLevel.Fail, RuleLevel.Warn => FindingLevel.Warn, _ => FindingLevel.Info },
            f.Suppression is { } s ? new Suppression(s.Id, s.Reason, s.Owner, s.Expires) : null,
            result.Graph)).ToImmutableArray();
        var report = new ScanReport
        {
            Outcome = ScanNames.Decide(verdict.Outcome, problems, null),
            Incomplete = [.. problems],
            FailOn = policy.FailOn,
            Findings = findings,
            Diagnostics = result.Diagnostics,
            ToolVersion = ToolInfo.Version,
            ScannedFiles = result.Files,
            SourceRoot = Directory.GetCurrentDirectory(),
            Graph = result.Graph,
        };
        terminal.Diagnostics(result.Diagnostics);
        if (result.Files.IsEmpty && !result.Findings.IsEmpty)
        {
            terminal.Message("no Dependabot or Renovate configuration found.");
        }
        switch (options.Format)
        {
            case "json":
                DepsCommand.Emit(ScanJson.Write(report), options.Output, terminal);
                break;
            case "sarif":
                DepsCommand.Emit(SarifWriter.Write(report), options.Output, terminal);
                break;
            case "markdown":
                DepsCommand.Emit(MarkdownReport.Write(report, "Tollgate update-bot lint"), options.Output, terminal);
                break;
            default:
                var table = new TerminalTable(["File", "Line", "Level", "Id", "Finding"], "Finding");
                foreach (var f in report.Ordered)
                {
                    var at = f.Finding.Component.Locations[0];
                    table.AddRow(Spectre.Console.Markup.Escape(at.File), at.Line.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        f.Level == FindingLevel.Fail ? "[red]fail[/]" : f.Suppression is not null ? "[grey]ignored[/]" : "[yellow]warn[/]",
                        f.Finding.Id, Spectre.Console.Markup.Escape(f.Finding.Summary + (f.Finding.Evidence is { } e ? $" ({e})" : "")));
                }
                var writer = options.Output is null ? terminal : new Terminal(new StringWriter(), terminal.ErrorWriter);
                table.Write(writer.Out);
                writer.Out.MarkupLine($"{(report.Outcome == ScanOutcome.Fail ? "[red bold]FAIL[/]" : report.Outcome == ScanOutcome.Incomplete ? "[red bold]INCOMPLETE[/]" : report.Findings.IsEmpty ? "[green]PASS[/]" : "[yellow]WARN[/]")}: {report.Findings.Length} finding(s) in {result.Files.Length} file(s)");
                if (options.Output is not null)
                {
                    DepsCommand.Emit(writer.OutWriter.ToString()!.TrimEnd(), options.Output, terminal);
                }
                break;
        }
        return ScanCommand.Finish(report, terminal, "lint");
    }
}
