using System.Collections.Immutable;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;

namespace Tollgate;

/// <summary>What a scan needs besides the graph and the policy.</summary>
/// <param name="Advisories">The advisory database, or null to check risk signals only.</param>
/// <param name="Today">The date ignore expiry is judged on.</param>
/// <param name="ToolVersion">Tollgate's version, written into reports.</param>
/// <param name="SourceRoot">The folder paths in reports are relative to.</param>
public sealed record ScanSettings(AdvisoryStore? Advisories, DateOnly Today, string ToolVersion, string? SourceRoot = null);

/// <summary>The verdict of a scan and the report every output format renders.</summary>
public sealed record ScanResult(Verdict Verdict, ScanReport Report);

/// <summary>
/// The inspect pipeline, one way: dependency graph → advisory matches and risk signals → findings → policy verdict →
/// report. Used by <c>tollgate scan</c>, SBOM scans and the MCP configuration audit.
/// </summary>
public static class Scanner
{
    public static ScanResult Scan(DependencyGraph graph, TollgatePolicy policy, ScanSettings settings, IEnumerable<Finding>? extraFindings = null)
    {
        var findings = new List<Finding>();
        var notMatched = ImmutableArray<UnmatchedComponent>.Empty;
        if (settings.Advisories is { } store)
        {
            var matches = new AdvisoryMatcher(store).Match(graph, c => policy.IsPrivate(c));
            findings.AddRange(matches.Findings);
            notMatched = matches.NotMatched;
        }
        var context = new RiskContext
        {
            ApprovedRegistries = [.. policy.Registries.Approved.Select(u => u.AbsoluteUri)],
            IsPrivateName = c => policy.IsPrivate(c),
            IsInstallScriptAllowed = c => policy.MayRunInstallScripts(c),
        };
        findings.AddRange(RiskRules.Evaluate(graph, context));
        findings.AddRange(PolicyFindings.FromGraph(graph, policy));
        findings.AddRange(extraFindings ?? []);

        var verdict = PolicyEvaluator.Evaluate(findings, policy, settings.Today, id => RiskRules.Find(id)?.DefaultLevel);
        var reported = verdict.Findings
            .Where(f => f.Level != RuleLevel.Off)
            .Select(f => ReportedFinding.Create(
                f.Finding,
                f.Level switch { RuleLevel.Fail => FindingLevel.Fail, RuleLevel.Warn => FindingLevel.Warn, _ => FindingLevel.Info },
                f.Suppression is { } s ? new Suppression(s.Id, s.Reason, s.Owner, s.Expires) : null,
                graph))
            .ToImmutableArray();
        var report = new ScanReport
        {
            Outcome = verdict.Outcome switch { Outcome.Fail => ScanOutcome.Fail, Outcome.Warn => ScanOutcome.Warn, _ => ScanOutcome.Pass },
            FailOn = policy.FailOn,
            Findings = reported,
            Diagnostics = graph.Diagnostics,
            NotMatched = [.. notMatched.Select(n => new UnmatchedPackage(n.Component.Purl.ToString(), n.Reason))],
            ToolVersion = settings.ToolVersion,
            ScannedFiles = [.. graph.Files],
            SourceRoot = settings.SourceRoot,
            Graph = graph,
        };
        return new ScanResult(verdict, report);
    }
}
