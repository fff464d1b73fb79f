using System.Collections.Immutable;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;
using Tollgate.Vex;

namespace Tollgate;

/// <summary>What a scan needs besides the graph and the policy.</summary>
/// <param name="Advisories">The advisory database, or null to check risk signals only (<c>--no-advisories</c>).</param>
/// <param name="Today">The date ignore expiry is judged on.</param>
/// <param name="ToolVersion">Tollgate's version, written into reports.</param>
/// <param name="SourceRoot">The folder paths in reports are relative to.</param>
public sealed record ScanSettings(AdvisoryStore? Advisories, DateOnly Today, string ToolVersion, string? SourceRoot = null)
{
    /// <summary>Where the advisories came from, as reports show it; default: the database file.</summary>
    public string? AdvisorySource { get; init; }

    /// <summary>
    /// Each ecosystem's configured default registry (from the package manager's own configuration), used to tell
    /// whether a private name came from a public registry. An ecosystem left out is one whose default is unknown.
    /// </summary>
    public ImmutableDictionary<Ecosystem, string> DefaultRegistries { get; init; } = ImmutableDictionary<Ecosystem, string>.Empty;

    /// <summary>The sources the package manager's configuration maps a name to (see <see cref="RiskContext.MappedSources"/>); null: none known.</summary>
    public Func<Component, IReadOnlyList<string>?>? MappedSources { get; init; }

    /// <summary>VEX statements: <c>not_affected</c> and <c>fixed</c> ones suppress the vulnerability findings they match.</summary>
    public VexStatements? Vex { get; init; }
}

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
        var incomplete = ScanNames.InputProblems(graph.Diagnostics, !graph.Roots.IsEmpty).ToList();
        AdvisoryCoverage? coverage = null;
        var context = RiskContextFor(policy, settings.DefaultRegistries);
        if (settings.MappedSources is { } mapped)
        {
            context = context with { MappedSources = mapped };
        }
        if (settings.Advisories is { } store)
        {
            var matches = new AdvisoryMatcher(store).Match(graph, OwnPrivatePackages(policy, context));
            findings.AddRange(matches.Findings);
            notMatched = matches.NotMatched;
            var skipped = matches.NotMatched.Select(n => n.Component.Key).ToHashSet(StringComparer.Ordinal);
            coverage = Coverage(graph.Components.Where(c => !skipped.Contains(c.Key)), store, settings.AdvisorySource ?? store.Path);
            incomplete.AddRange(CoverageProblems(coverage, policy));
        }
        findings.AddRange(RiskRules.Evaluate(graph, context));
        findings.AddRange(PolicyFindings.FromGraph(graph, policy));
        findings.AddRange(extraFindings ?? []);

        // VEX speaks of vulnerabilities only: a known-malicious version or a risk signal is never "not affected".
        var vexed = new Dictionary<Finding, VexStatement>(ReferenceEqualityComparer.Instance);
        foreach (var finding in findings)
        {
            if (finding.Kind == FindingKind.Vulnerability && settings.Vex?.For(finding) is { Suppresses: true } statement)
            {
                vexed[finding] = statement;
            }
        }
        static RuleLevel? Defaults(string id) => RiskRules.Find(id)?.DefaultLevel;
        var verdict = PolicyEvaluator.Evaluate([.. findings.Where(f => !vexed.ContainsKey(f))], policy, settings.Today, Defaults);
        // Suppressed findings are still reported, at the level the policy would have given them.
        var vexVerdict = PolicyEvaluator.Evaluate([.. vexed.Keys], policy with { Ignore = [] }, settings.Today, Defaults);
        var reported = verdict.Findings.Concat(vexVerdict.Findings)
            .Where(f => f.Level != RuleLevel.Off)
            .Select(f => ReportedFinding.Create(
                f.Finding,
                f.Level switch { RuleLevel.Fail => FindingLevel.Fail, RuleLevel.Warn => FindingLevel.Warn, _ => FindingLevel.Info },
                vexed.TryGetValue(f.Finding, out var statement) ? VexSuppression(statement, f.Finding)
                : f.Suppression is { } s ? new Suppression(s.Id, s.Reason, s.Owner, s.Expires) : null,
                graph))
            .ToImmutableArray();
        var report = new ScanReport
        {
            Outcome = ScanNames.Decide(verdict.Outcome, incomplete, coverage),
            Incomplete = [.. incomplete],
            Advisories = coverage,
            FailOn = policy.FailOn,
            Findings = reported,
            Diagnostics = [.. graph.Diagnostics, .. InstallScriptsUnknown(graph, policy)],
            NotMatched = [.. notMatched.Select(n => new UnmatchedPackage(n.Component.Purl.ToString(), n.Reason))],
            ToolVersion = settings.ToolVersion,
            ScannedFiles = [.. graph.Files],
            SourceRoot = settings.SourceRoot,
            Graph = graph,
            VexDocuments = settings.Vex?.Documents ?? [],
        };
        return new ScanResult(verdict, report);
    }

    /// <summary>
    /// TG0018, one warning per lockfile whose format does not record install scripts (yarn, pnpm 9, bun, package-lock v1):
    /// TG1001 could not check its packages, and the report says so rather than nothing. None when the policy turns TG1001 off.
    /// </summary>
    internal static IEnumerable<Diagnostic> InstallScriptsUnknown(DependencyGraph graph, TollgatePolicy policy)
    {
        if (policy.Rules.TryGetValue("TG1001", out var level) && level == RuleLevel.Off)
        {
            yield break;
        }
        var unknown = graph.Components
            .Where(c => c.Ecosystem == Ecosystem.Npm && c.Resolved && c.Origin.Kind == OriginKind.Registry && c.HasInstallScript is null)
            .GroupBy(c => c.Locations.FirstOrDefault()?.File ?? "", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in unknown)
        {
            var file = group.Key.Length == 0 ? "the input" : group.Key;
            yield return new Diagnostic(DiagnosticIds.InstallScriptsUnknown, DiagnosticSeverity.Warning,
                $"install scripts unknown for {group.Count()} package(s): {Path.GetFileName(file)} does not record which packages run install scripts, so TG1001 could not check them",
                group.Key.Length == 0 ? null : new SourceLocation(group.Key),
                "package-lock.json (v2 or later) and pnpm 7-8 lockfiles record them; or install with scripts off (npm ci --ignore-scripts, `tollgate install`)");
        }
    }

    /// <summary>The suppression a VEX statement makes of a finding: author as owner, detail (else justification) as reason.</summary>
    public static Suppression VexSuppression(VexStatement statement, Finding finding)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(finding);
        var ids = statement.AllIds.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var id = finding.AllIds.FirstOrDefault(ids.Contains) ?? statement.Vulnerability;
        var reason = statement.Detail ?? statement.Justification ?? statement.Status.ToName();
        return new Suppression(id, reason, statement.Author, null, SuppressionSource.Vex, statement.Status.ToName(), statement.Justification, statement.Document);
    }

    /// <summary>The risk rules' settings: the policy's lists and each ecosystem's configured default registry.</summary>
    public static RiskContext RiskContextFor(TollgatePolicy policy, ImmutableDictionary<Ecosystem, string> defaultRegistries)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new RiskContext
        {
            ApprovedRegistries = [.. policy.Registries.Approved.Select(u => u.AbsoluteUri)],
            IsPrivateName = c => policy.IsPrivate(c),
            IsInstallScriptAllowed = c => policy.MayRunInstallScripts(c),
            DefaultRegistries = defaultRegistries,
        };
    }

    /// <summary>
    /// The organisation's own packages: names the policy declares private, from where private names may come from.
    /// They are not matched against public advisories (<see cref="AdvisoryMatcher.WhyNotMatched"/>). A private name
    /// from a public registry is that public package (dependency confusion) and is matched. Used by <c>scan</c> and
    /// by the inventory's advisory queries alike.
    /// </summary>
    public static Func<Component, bool> OwnPrivatePackages(TollgatePolicy policy, RiskContext context)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(context);
        return c => policy.IsPrivate(c) && context.ConfusionReason(c) is null;
    }

    /// <summary>Records per ecosystem of the <paramref name="matched"/> packages (those matched against advisories, not those deliberately skipped).</summary>
    public static AdvisoryCoverage Coverage(IEnumerable<Component> matched, AdvisoryStore store, string source)
    {
        ArgumentNullException.ThrowIfNull(store);
        var records = store.RecordsByEcosystem();
        return new AdvisoryCoverage(source, [.. matched
            .Where(c => c.Ecosystem != Ecosystem.Generic)
            .GroupBy(c => c.Ecosystem)
            .OrderBy(g => g.Key)
            .Select(g => new EcosystemCoverage(g.Key, g.Count(), records.GetValueOrDefault(g.Key)))]);
    }

    /// <summary>
    /// Why the coverage leaves a scan incomplete: one reason per scanned ecosystem without records, unless the policy
    /// says <c>missingAdvisories: warn</c> (then nothing: the outcome is at least a warning, see <see cref="ScanNames.Decide"/>).
    /// </summary>
    public static IReadOnlyList<string> CoverageProblems(AdvisoryCoverage coverage, TollgatePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        ArgumentNullException.ThrowIfNull(policy);
        return policy.MissingAdvisories == MissingAdvisoriesAction.Warn ? [] : [.. coverage.Missing.Select(m =>
            $"the advisory database has no {m.Ecosystem.ToOsvName()} records: {m.Packages} {m.Ecosystem.ToOsvName()} package(s) were not checked for vulnerabilities or malware "
            + "(import that ecosystem's advisories, or set missingAdvisories: warn in tollgate.yaml)")];
    }
}
