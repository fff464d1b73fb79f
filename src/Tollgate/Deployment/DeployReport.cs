using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;

namespace Tollgate.Deployment;

/// <summary>Judges a deployment audit with the policy and turns it into the <see cref="ScanReport"/> the SARIF and Markdown writers render.</summary>
public static class DeployReport
{
    /// <summary>The policy's verdict on the audit's findings (rule levels, ignores with expiry).</summary>
    public static Verdict Judge(DeployAuditResult result, TollgatePolicy policy, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(result);
        return PolicyEvaluator.Evaluate(result.Findings, policy, today, id => RiskRules.Find(id)?.DefaultLevel);
    }

    /// <summary>The report: findings turned off are left out, ignored ones kept and marked; unreadable or skipped files make it incomplete.</summary>
    public static ScanReport Build(DeployAuditResult result, Verdict verdict, TollgatePolicy policy, string toolVersion, string? sourceRoot, string? toolInformationUri = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(verdict);
        ArgumentNullException.ThrowIfNull(policy);
        var problems = ScanNames.InputProblems(result.Diagnostics, !result.Files.IsEmpty, "deployment file").Concat(result.Incomplete).ToList();
        return new ScanReport
        {
            Outcome = ScanNames.Decide(verdict.Outcome, problems, null),
            Incomplete = [.. problems],
            FailOn = policy.FailOn,
            Findings = Reported(verdict),
            Diagnostics = result.Diagnostics,
            ToolVersion = toolVersion,
            ToolInformationUri = toolInformationUri,
            ScannedFiles = [.. result.Files.Select(f => f.Path)],
            SourceRoot = sourceRoot,
        };
    }

    /// <summary>The findings of a verdict as reports show them.</summary>
    public static ImmutableArray<ReportedFinding> Reported(Verdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        return [.. verdict.Findings.Where(f => f.Level != RuleLevel.Off).Select(f => ReportedFinding.Create(
            f.Finding,
            f.Level switch { RuleLevel.Fail => FindingLevel.Fail, RuleLevel.Warn => FindingLevel.Warn, _ => FindingLevel.Info },
            f.Suppression is { } s ? new Suppression(s.Id, s.Reason, s.Owner, s.Expires) : null,
            null))];
    }

    /// <summary>The category of a finding's rule, or null for findings of other checks.</summary>
    public static string? CategoryOf(Finding finding) => DeployRules.Find(finding?.Id ?? "")?.Category;
}

/// <summary>
/// The JSON form of a deployment audit (<c>tollgate deploy audit --format json</c>):
/// <c>{"findings":[{ruleId, category, severity, level, file, line, resource, message, fix}], "files":[{path, kind, skipped}], "summary":{…}}</c>.
/// A finding an ignore entry applies to has level <c>ignored</c>.
/// </summary>
public static class DeployJson
{
    public static string Write(ScanReport report, DeployAuditResult result)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(result);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("findings");
            foreach (var f in report.Ordered)
            {
                var finding = f.Finding;
                var rule = DeployRules.Find(finding.Id);
                var location = finding.Component.Locations.FirstOrDefault();
                w.WriteStartObject();
                w.WriteString("ruleId", finding.Id);
                w.WriteString("category", rule?.Category);
                w.WriteString("severity", finding.Severity.ToName());
                w.WriteString("level", f.IsActive ? f.Level.ToName() : "ignored");
                w.WriteString("file", location?.File);
                w.WriteNumber("line", location?.Line ?? 0);
                w.WriteString("resource", finding.Component.Name);
                w.WriteString("message", finding.Evidence is null ? finding.Summary : $"{finding.Summary} ({finding.Evidence})");
                w.WriteString("fix", rule?.Fix ?? ScanText.Fix(finding));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("files");
            foreach (var file in result.Files)
            {
                w.WriteStartObject();
                w.WriteString("path", file.Path);
                w.WriteString("kind", file.Kind.ToName());
                w.WriteString("skipped", file.Skipped);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            var summary = report.Summary;
            var active = report.Findings.Where(f => f.IsActive).ToList();
            w.WriteStartObject("summary");
            w.WriteString("verdict", report.Outcome.ToName());
            w.WriteNumber("files", result.Files.Length);
            w.WriteNumber("skipped", result.Files.Count(f => f.Skipped is not null));
            w.WriteNumber("total", summary.Total);
            w.WriteNumber("failing", summary.Failing);
            w.WriteNumber("warnings", summary.Warnings);
            w.WriteNumber("suppressed", summary.Suppressed);
            w.WriteStartObject("byCategory");
            foreach (var category in DeployCategory.All)
            {
                w.WriteNumber(category, active.Count(f => DeployReport.CategoryOf(f.Finding) == category));
            }
            w.WriteEndObject();
            w.WriteStartObject("bySeverity");
            foreach (var (severity, count) in summary.BySeverity)
            {
                w.WriteNumber(severity.ToName(), count);
            }
            w.WriteEndObject();
            w.WriteStartArray("incomplete");
            foreach (var reason in report.Incomplete)
            {
                w.WriteStringValue(reason);
            }
            w.WriteEndArray();
            w.WriteStartArray("diagnostics");
            foreach (var d in report.Diagnostics)
            {
                w.WriteStartObject();
                w.WriteString("id", d.Id);
                w.WriteString("severity", d.Severity.ToString().ToLowerInvariant());
                w.WriteString("file", d.Location?.File);
                w.WriteNumber("line", d.Location?.Line ?? 0);
                w.WriteString("message", d.Message);
                w.WriteString("hint", d.Hint);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
