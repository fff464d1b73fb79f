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
    /// <param name="result">The audit.</param>
    /// <param name="verdict">The policy's verdict on it.</param>
    /// <param name="policy">The policy.</param>
    /// <param name="toolVersion">Tollgate's version.</param>
    /// <param name="sourceRoot">The folder paths are shown relative to.</param>
    /// <param name="toolInformationUri">Where users read about the tool, or null.</param>
    /// <param name="coverage">What the advisory check of pinned server packages covered; null when it was not made.</param>
    /// <param name="incomplete">Why the audit is incomplete beyond its own inputs (for example: no advisory database).</param>
    public static ScanReport Build(McpAuditResult result, Verdict verdict, TollgatePolicy policy, string toolVersion, string? sourceRoot,
        string? toolInformationUri = null, AdvisoryCoverage? coverage = null, IEnumerable<string>? incomplete = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(verdict);
        ArgumentNullException.ThrowIfNull(policy);
        var problems = ScanNames.InputProblems(result.Diagnostics, !result.Files.IsEmpty, "MCP client configuration")
            .Concat(incomplete ?? []).ToList();
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
            Outcome = ScanNames.Decide(verdict.Outcome, problems, coverage),
            Incomplete = [.. problems],
            Advisories = coverage,
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
