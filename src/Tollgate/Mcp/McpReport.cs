using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;

namespace Tollgate.Mcp;

/// <summary>Judges an audit's findings with a policy and turns the verdict into the <see cref="ScanReport"/> every report writer renders.</summary>
public static class McpReport
{
    /// <summary>Each rule's own default level: MCP rules and dependency rules alike.</summary>
    public static RuleLevel? DefaultLevel(string id) => RiskRules.Find(id)?.DefaultLevel;

    /// <summary>The policy's verdict on the audit's findings.</summary>
    public static Verdict Judge(McpAuditResult result, TollgatePolicy policy, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(result);
        return PolicyEvaluator.Evaluate(result.Findings, policy, today, DefaultLevel, new SchemeVersionMatcher());
    }

    /// <summary>The report of an audit: findings turned off by the policy are left out; ignored ones are kept, marked suppressed.</summary>
    public static ScanReport Build(McpAuditResult result, Verdict verdict, TollgatePolicy policy, string toolVersion, string? sourceRoot, string? toolInformationUri = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(verdict);
        ArgumentNullException.ThrowIfNull(policy);
        var findings = ImmutableArray.CreateBuilder<ReportedFinding>();
        foreach (var evaluated in verdict.Findings)
        {
            if (evaluated.Level == RuleLevel.Off)
            {
                continue;
            }
            var level = evaluated.Level switch
            {
                RuleLevel.Fail => FindingLevel.Fail,
                RuleLevel.Warn => FindingLevel.Warn,
                _ => FindingLevel.Info,
            };
            var suppression = evaluated.Suppression is { } s ? new Suppression(s.Id, s.Reason, s.Owner, s.Expires) : null;
            findings.Add(ReportedFinding.Create(evaluated.Finding, level, suppression, result.Graph));
        }
        return new ScanReport
        {
            Outcome = verdict.Outcome switch
            {
                Outcome.Fail => ScanOutcome.Fail,
                Outcome.Warn => ScanOutcome.Warn,
                _ => ScanOutcome.Pass,
            },
            FailOn = policy.FailOn,
            Findings = findings.ToImmutable(),
            Diagnostics = result.Diagnostics,
            ToolVersion = toolVersion,
            ToolInformationUri = toolInformationUri,
            ScannedFiles = [.. result.Files.Select(f => f.Path)],
            SourceRoot = sourceRoot,
            Graph = result.Graph,
        };
    }
}
