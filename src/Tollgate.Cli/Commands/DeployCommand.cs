using System.CommandLine;
using Spectre.Console;
using Tollgate.Deployment;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;

namespace Tollgate.Cli.Commands;

internal sealed record DeployAuditCommandOptions(
    IReadOnlyList<string> Paths,
    string Format,
    string? Output,
    string? Policy,
    string? Bicep,
    IReadOnlyList<string>? Exclude = null);

/// <summary><c>tollgate deploy audit</c>: blast-radius checks of the files an MCP server is deployed with.</summary>
internal static class DeployCommand
{
    public static Command Create(Terminal terminal)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Deployment files or folders to audit (folders are searched recursively, .github and .pipelines included). Default: the current folder.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var format = new Option<string>("--format", "-f") { Description = "Output format: table, json, sarif or markdown.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "sarif", "markdown");
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of stdout (written whole or not at all).", HelpName = "FILE" };
        var policy = new Option<string?>("--policy") { Description = "The policy file. Default: tollgate.yaml found by walking up from PATH.", HelpName = "FILE" };
        var bicep = new Option<string?>("--bicep") { Description = "The Bicep CLI that compiles *.bicep files (default: bicep on PATH, or ~/.azure/bin/bicep). Without one, Bicep files are not checked and the audit is incomplete.", HelpName = "PATH" };
        var exclude = DepsCommand.ExcludeOption();
        var audit = new Command("audit", """
            Audit the files an MCP server is deployed with, assuming a compromise gets through: does the server run
            with its own identity and least privilege, without secrets in plain text, without a way out to the
            internet, as a non-root user, from pinned images and actions, and do its CI workflows hold only the
            rights they need? Rules TG3xxx, each in one category: identity, secret, privilege, egress, runtime,
            pinning, install-scripts, ci-permissions (docs/deploy-audit.md).

            Reads ARM templates and parameters files, Bicep (compiled with the Bicep CLI), azure.yaml (azd),
            Kubernetes manifests, docker-compose files, Dockerfile/Containerfile, GitHub Actions workflows and Azure
            Pipelines YAML. Nothing is deployed or sent; secrets are masked in every output.

            Examples:
              tollgate deploy audit .
              tollgate deploy audit infra/main.bicep --bicep ~/.azure/bin/bicep
              tollgate deploy audit . --format sarif -o deploy.sarif
            Exit codes: 0 pass, 1 policy failed, 2 usage or input error or an incomplete audit (a file that could not
            be read or compiled), 3 internal error.
            """)
        {
            paths, format, output, policy, bicep, exclude,
        };
        audit.SetAction(r => Run(new DeployAuditCommandOptions(
            r.GetValue(paths) is { Length: > 0 } p ? p : ["."],
            r.GetValue(format) ?? "table",
            r.GetValue(output),
            r.GetValue(policy),
            r.GetValue(bicep),
            r.GetValue(exclude) ?? []), terminal, TimeProvider.System));
        return new Command("deploy", """
            Deployment files: Azure (ARM, Bicep, azure.yaml), Kubernetes, compose, Dockerfiles and CI workflows.

            Example:
              tollgate deploy audit .
            """) { audit };
    }

    /// <summary>The rule ids a policy may name: every rule of every check.</summary>
    internal static IReadOnlyList<string> KnownRuleIds() =>
        [.. RiskRules.All.Select(r => r.Id), .. Tollgate.Mcp.McpRules.All.Select(r => r.Id), .. DeployRules.All.Select(r => r.Id), PolicyFindings.DeniedRuleId];

    public static int Run(DeployAuditCommandOptions options, Terminal terminal, TimeProvider time)
    {
        var loaded = PolicyLoader.Load(options.Policy, options.Paths[0], KnownRuleIds());
        terminal.Diagnostics(loaded.Diagnostics);
        if (loaded.HasErrors || loaded.Policy is null)
        {
            terminal.Fail($"the policy {loaded.Path ?? options.Policy} has errors (see above); nothing was audited.");
            return ExitCodes.InputError;
        }
        if (loaded.Path is not null)
        {
            terminal.Progress("policy", InputFile.DisplayPath(loaded.Path));
        }
        var policy = loaded.Policy;
        var diagnostics = new DiagnosticBag();
        var result = DeployAudit.Run(options.Paths, new DeployAuditOptions { BicepPath = options.Bicep, Exclude = new PathGlobs(options.Exclude ?? []) }, diagnostics);
        foreach (var file in result.Files)
        {
            terminal.Progress(file.Skipped is null ? "checked" : "skipped", $"{file.Path} ({file.Kind.ToName()}){(file.Skipped is null ? "" : ": " + file.Skipped)}");
        }
        var verdict = DeployReport.Judge(result, policy, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
        var report = DeployReport.Build(result, verdict, policy, ToolInfo.Version, Directory.GetCurrentDirectory());
        switch (options.Format)
        {
            case "json":
                DepsCommand.Emit(DeployJson.Write(report, result), options.Output, terminal);
                break;
            case "sarif":
                DepsCommand.Emit(SarifWriter.Write(report), options.Output, terminal);
                break;
            case "markdown":
                DepsCommand.Emit(MarkdownReport.Write(report, "Tollgate deployment audit"), options.Output, terminal);
                break;
            default:
                if (options.Output is not null)
                {
                    var writer = new StringWriter();
                    RenderTable(report, result, new Terminal(writer, terminal.ErrorWriter));
                    DepsCommand.Emit(writer.ToString().TrimEnd(), options.Output, terminal);
                }
                else
                {
                    RenderTable(report, result, terminal);
                }
                break;
        }
        terminal.Diagnostics(result.Diagnostics);
        foreach (var expired in verdict.ExpiredIgnores)
        {
            terminal.Warning($"the ignore entry for {expired.Entry.Id} expired on {expired.Entry.Expires:yyyy-MM-dd} and no longer applies");
        }
        return ScanCommand.Finish(report, terminal, "audit");
    }

    private static void RenderTable(ScanReport report, DeployAuditResult result, Terminal terminal)
    {
        var ordered = report.Ordered.ToList();
        if (ordered.Count > 0)
        {
            var table = new TerminalTable(["Level", "Id", "Category", "Resource", "Finding", "Where"], "Finding");
            foreach (var f in ordered)
            {
                var level = f.IsActive ? f.Level.ToName() : "ignored";
                var colour = !f.IsActive ? "grey" : f.Level switch { FindingLevel.Fail => "red", FindingLevel.Warn => "yellow", _ => "grey" };
                var finding = f.Finding;
                table.AddRow(
                    $"[{colour}]{Markup.Escape(level)}[/]",
                    Markup.Escape(finding.Id),
                    Markup.Escape(DeployReport.CategoryOf(finding) ?? ""),
                    Markup.Escape(finding.Component.Name),
                    Markup.Escape(finding.Evidence is null ? finding.Summary : $"{finding.Summary} ({finding.Evidence})"),
                    Markup.Escape(finding.Component.Locations.FirstOrDefault()?.ToString() ?? ""));
            }
            table.Write(terminal.Out);
        }
        var summary = report.Summary;
        var incomplete = report.Incomplete.IsEmpty ? "" : "; not a pass: " + string.Join("; ", report.Incomplete);
        terminal.Out.MarkupLineInterpolated(
            $"{report.Outcome.ToName().ToUpperInvariant()}: {result.Files.Length} file(s), {summary.Total} finding(s): {summary.Failing} failing, {summary.Warnings} warning(s), {summary.Suppressed} suppressed{incomplete}");
    }
}
