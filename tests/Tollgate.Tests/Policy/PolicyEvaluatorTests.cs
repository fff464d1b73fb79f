using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Policy;
using static Tollgate.Tests.Policy.PolicyTestComponents;

namespace Tollgate.Tests.Policy;

public sealed class PolicyEvaluatorTests
{
    private static readonly DateOnly Today = new(2026, 6, 1);

    private static Finding Vulnerability(Severity severity, string id = "GHSA-35jh-r3h4-6jhm", Component? component = null, params string[] aliases) => new()
    {
        Kind = FindingKind.Vulnerability,
        Id = id,
        Aliases = [.. aliases],
        Severity = severity,
        Summary = "Command injection in lodash",
        Component = component ?? NpmPackage("lodash", "4.17.20"),
    };

    private static Finding Malicious(Component? component = null) => new()
    {
        Kind = FindingKind.Malicious,
        Id = "MAL-2025-1234",
        Severity = Severity.Critical,
        Summary = "Malicious code in event-stream",
        Component = component ?? NpmPackage("event-stream", "3.3.6"),
    };

    private static Finding Signal(string id, Component? component = null) => new()
    {
        Kind = FindingKind.Signal,
        Id = id,
        Severity = Severity.Medium,
        Summary = "install script",
        Component = component ?? NpmPackage("esbuild", "0.20.0"),
    };

    private static TollgatePolicy Load(string yaml)
    {
        var result = PolicyLoader.Parse(yaml, "tollgate.yaml");
        Assert.Empty(result.Diagnostics);
        return result.Policy!;
    }

    private static Verdict Evaluate(TollgatePolicy policy, params Finding[] findings) =>
        PolicyEvaluator.Evaluate(findings, policy, Today);

    [Theory]
    [InlineData("none", Severity.Critical, RuleLevel.Warn)]
    [InlineData("low", Severity.Low, RuleLevel.Fail)]
    [InlineData("low", Severity.None, RuleLevel.Warn)]
    [InlineData("medium", Severity.Low, RuleLevel.Warn)]
    [InlineData("medium", Severity.Medium, RuleLevel.Fail)]
    [InlineData("high", Severity.Medium, RuleLevel.Warn)]
    [InlineData("high", Severity.High, RuleLevel.Fail)]
    [InlineData("high", Severity.Critical, RuleLevel.Fail)]
    [InlineData("critical", Severity.High, RuleLevel.Warn)]
    [InlineData("critical", Severity.Critical, RuleLevel.Fail)]
    public void Evaluate_VulnerabilitySeverity_ComparedWithFailOn(string failOn, Severity severity, RuleLevel expected)
    {
        var verdict = Evaluate(Load($"failOn: {failOn}"), Vulnerability(severity));

        Assert.Equal(expected, Assert.Single(verdict.Findings).Level);
        Assert.Equal(expected == RuleLevel.Fail ? Outcome.Fail : Outcome.Warn, verdict.Outcome);
    }

    [Fact]
    public void Evaluate_NoFindings_Passes()
    {
        var verdict = Evaluate(TollgatePolicy.Default);

        Assert.Equal(Outcome.Pass, verdict.Outcome);
        Assert.Equal(0, verdict.Total);
    }

    [Fact]
    public void Evaluate_DefaultPolicy_HighFailsMediumWarns()
    {
        var verdict = Evaluate(TollgatePolicy.Default, Vulnerability(Severity.High), Vulnerability(Severity.Medium, "GHSA-2"));

        Assert.Equal(Outcome.Fail, verdict.Outcome);
        Assert.Equal(1, verdict.Failing);
        Assert.Equal(1, verdict.Warnings);
        Assert.Contains("at or above failOn high", verdict.Findings[0].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fail", RuleLevel.Fail, Outcome.Fail)]
    [InlineData("warn", RuleLevel.Warn, Outcome.Warn)]
    public void Evaluate_Malicious_FollowsMaliciousSetting(string setting, RuleLevel level, Outcome outcome)
    {
        var verdict = Evaluate(Load($"malicious: {setting}\nfailOn: none"), Malicious());

        Assert.Equal(level, verdict.Findings[0].Level);
        Assert.Equal(outcome, verdict.Outcome);
    }

    [Fact]
    public void Evaluate_MaliciousOnAllowList_StillFails()
    {
        var verdict = Evaluate(Load("allow: [ event-stream ]"), Malicious());

        Assert.Equal(Outcome.Fail, verdict.Outcome);
    }

    [Fact]
    public void Evaluate_MaliciousIgnoredById_IsSuppressed()
    {
        var verdict = Evaluate(Load("ignore: [ { id: mal-2025-1234, reason: \"research sandbox\", expires: 2026-12-31 } ]"), Malicious());

        Assert.Equal(Outcome.Pass, verdict.Outcome);
        Assert.Equal(1, verdict.Suppressed);
        Assert.Equal(RuleLevel.Fail, verdict.Findings[0].Level);
        Assert.Equal(RuleLevel.Off, verdict.Findings[0].EffectiveLevel);
    }

    [Theory]
    [InlineData("off", RuleLevel.Off, Outcome.Pass)]
    [InlineData("info", RuleLevel.Info, Outcome.Pass)]
    [InlineData("warn", RuleLevel.Warn, Outcome.Warn)]
    [InlineData("fail", RuleLevel.Fail, Outcome.Fail)]
    public void Evaluate_SignalWithPolicyLevel_UsesIt(string level, RuleLevel expected, Outcome outcome)
    {
        var verdict = PolicyEvaluator.Evaluate([Signal("TG1001")], Load($"rules: {{ TG1001: {level} }}"), Today,
            ruleDefaults: _ => RuleLevel.Fail);

        Assert.Equal(expected, verdict.Findings[0].Level);
        Assert.Equal(outcome, verdict.Outcome);
        Assert.Contains("in the policy", verdict.Findings[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_SignalTurnedOff_CountedAsTurnedOff()
    {
        var verdict = Evaluate(Load("rules: { TG1001: off }"), Signal("TG1001"));

        Assert.Equal(1, verdict.TurnedOff);
        Assert.Equal(0, verdict.Suppressed);
    }

    [Fact]
    public void Evaluate_SignalWithoutPolicyLevel_UsesRuleDefault()
    {
        var defaults = new Dictionary<string, RuleLevel> { ["TG1001"] = RuleLevel.Fail, ["TG1002"] = RuleLevel.Info };

        var verdict = PolicyEvaluator.Evaluate([Signal("TG1001"), Signal("TG1002"), Signal("TG1999")], TollgatePolicy.Default, Today,
            ruleDefaults: id => defaults.TryGetValue(id, out var level) ? level : null);

        Assert.Equal([RuleLevel.Fail, RuleLevel.Info, RuleLevel.Warn], verdict.Findings.Select(f => f.Level));
        Assert.Contains("by default", verdict.Findings[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_IgnoreByAlias_SuppressesWithEntry()
    {
        var policy = Load("""
            ignore:
              - id: cve-2021-23337
                reason: "template() is never called"
                owner: team-mcp
                expires: 2026-12-31
            """);

        var verdict = Evaluate(policy, Vulnerability(Severity.High, "GHSA-35jh-r3h4-6jhm", null, "CVE-2021-23337"));

        var finding = Assert.Single(verdict.Findings);
        Assert.Equal(Outcome.Pass, verdict.Outcome);
        Assert.Equal("cve-2021-23337", finding.Suppression!.Id);
        Assert.Equal("team-mcp", finding.Suppression.Owner);
        Assert.Contains("template() is never called", finding.Reason, StringComparison.Ordinal);
        Assert.Empty(verdict.UnusedIgnores);
    }

    [Fact]
    public void Evaluate_IgnoreWithPackagePattern_OnlyThatPackage()
    {
        var policy = Load("""
            ignore:
              - id: GHSA-1
                package: pkg:npm/lodash@4.17.20
                reason: r
                expires: 2026-12-31
            """);

        var verdict = Evaluate(policy,
            Vulnerability(Severity.High, "GHSA-1", NpmPackage("lodash", "4.17.20")),
            Vulnerability(Severity.High, "GHSA-1", NpmPackage("lodash", "4.17.19")),
            Vulnerability(Severity.High, "GHSA-1", PyPIPackage("lodash", "4.17.20")));

        Assert.Equal([true, false, false], verdict.Findings.Select(f => f.IsSuppressed));
        Assert.Equal(Outcome.Fail, verdict.Outcome);
    }

    [Fact]
    public void Evaluate_IgnoreWithPackageRange_UsesPluggedMatcher()
    {
        var policy = Load("ignore: [ { id: GHSA-1, package: \"lodash@<4.17.21\", reason: r, expires: 2026-12-31 } ]");
        var matcher = new PackagePatternTests.RecordingMatcher(true);

        var withRange = PolicyEvaluator.Evaluate([Vulnerability(Severity.High, "GHSA-1")], policy, Today, versions: matcher);
        var fallback = PolicyEvaluator.Evaluate([Vulnerability(Severity.High, "GHSA-1")], policy, Today);

        Assert.Equal(Outcome.Pass, withRange.Outcome);
        Assert.Equal((Ecosystem.Npm, "4.17.20", "<4.17.21"), Assert.Single(matcher.Calls));
        // Without a plugged matcher the ecosystem's own ranges decide: 4.17.20 is inside '<4.17.21'.
        Assert.Equal(Outcome.Pass, fallback.Outcome);
    }

    [Fact]
    public void Evaluate_ExpiredIgnore_NotAppliedAndReported()
    {
        var policy = Load("ignore: [ { id: GHSA-1, reason: r, expires: 2026-05-31 } ]");

        var verdict = Evaluate(policy, Vulnerability(Severity.High, "GHSA-1"));

        Assert.Equal(Outcome.Fail, verdict.Outcome);
        Assert.Null(verdict.Findings[0].Suppression);
        Assert.Contains("expired on 2026-05-31", verdict.Findings[0].Reason, StringComparison.Ordinal);
        var expired = Assert.Single(verdict.ExpiredIgnores);
        Assert.Equal("GHSA-1", expired.Entry.Id);
        Assert.Single(expired.Findings);
    }

    [Fact]
    public void Evaluate_IgnoreOnItsLastDay_StillApplies()
    {
        var policy = Load("ignore: [ { id: GHSA-1, reason: r, expires: 2026-06-01 } ]");

        var verdict = Evaluate(policy, Vulnerability(Severity.High, "GHSA-1"));

        Assert.Equal(Outcome.Pass, verdict.Outcome);
        Assert.Empty(verdict.ExpiredIgnores);
    }

    [Fact]
    public void Evaluate_ExpiredIgnoreMatchingNothing_MakesItAWarning()
    {
        var verdict = Evaluate(Load("ignore: [ { id: GHSA-9, reason: r, expires: 2025-01-01 } ]"));

        Assert.Equal(Outcome.Warn, verdict.Outcome);
        Assert.Empty(Assert.Single(verdict.ExpiredIgnores).Findings);
    }

    [Fact]
    public void Evaluate_IgnoreMatchingNothing_ReportedAsUnused()
    {
        var verdict = Evaluate(Load("ignore: [ { id: GHSA-9, reason: r, expires: 2026-12-31 } ]"), Vulnerability(Severity.Low));

        Assert.Equal("GHSA-9", Assert.Single(verdict.UnusedIgnores).Id);
        Assert.Equal(Outcome.Warn, verdict.Outcome);
    }

    [Fact]
    public void Evaluate_IgnoreByRuleId_SuppressesSignal()
    {
        var verdict = Evaluate(Load("ignore: [ { id: TG1001, package: esbuild, reason: reviewed, expires: 2026-12-31 } ]"),
            Signal("TG1001"), Signal("TG1001", NpmPackage("sharp", "0.33.0")));

        Assert.Equal([true, false], verdict.Findings.Select(f => f.IsSuppressed));
    }

    [Fact]
    public void Evaluate_AllowedPackage_FailLoweredToWarn()
    {
        var verdict = Evaluate(Load("allow: [ lodash ]\nrules: { TG1001: fail }"),
            Vulnerability(Severity.Critical), Signal("TG1001", NpmPackage("lodash", "4.17.20")));

        Assert.Equal(Outcome.Warn, verdict.Outcome);
        Assert.All(verdict.Findings, f => Assert.Equal(RuleLevel.Warn, f.Level));
        Assert.Contains("allow list", verdict.Findings[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_DenyFinding_FailsByDefault()
    {
        var graph = new DependencyGraph([NpmPackage("left-pad", "1.3.0"), NpmPackage("lodash", "4.17.21")], [], []);
        var policy = Load("deny: [ \"pkg:npm/left-pad\" ]");

        var verdict = PolicyEvaluator.Evaluate(PolicyFindings.FromGraph(graph, policy), policy, Today);

        Assert.Equal(Outcome.Fail, verdict.Outcome);
        Assert.Equal(PolicyFindings.DeniedRuleId, Assert.Single(verdict.Findings).Finding.Id);
    }

    [Fact]
    public void Evaluate_DenyTurnedDownInRules_Warns()
    {
        var graph = new DependencyGraph([NpmPackage("left-pad", "1.3.0")], [], []);
        var policy = Load("deny: [ left-pad ]\nrules: { TG1100: warn }");

        var verdict = PolicyEvaluator.Evaluate(PolicyFindings.FromGraph(graph, policy), policy, Today);

        Assert.Equal(Outcome.Warn, verdict.Outcome);
    }

    [Fact]
    public void Evaluate_SuppressedFailure_DoesNotFailButStaysListed()
    {
        var verdict = Evaluate(Load("ignore: [ { id: GHSA-1, reason: r, expires: 2026-12-31 } ]"),
            Vulnerability(Severity.Critical, "GHSA-1"), Vulnerability(Severity.Low, "GHSA-2"));

        Assert.Equal(Outcome.Warn, verdict.Outcome);
        Assert.Equal(2, verdict.Total);
        Assert.Equal(0, verdict.Failing);
        Assert.Equal(1, verdict.Warnings);
        Assert.Equal(1, verdict.Suppressed);
    }

    [Fact]
    public void DatabaseAgeWarning_MaxInMinutes_ComparesAndReportsMinutes()
    {
        var now = new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
        var policy = TollgatePolicy.Default with { MaxDatabaseAge = TimeSpan.FromMinutes(90) };

        Assert.Null(PolicyEvaluator.DatabaseAgeWarning(policy, now.AddMinutes(-89), now));
        Assert.Contains("updated 1h 40m ago, more than maxDatabaseAge 90m",
            PolicyEvaluator.DatabaseAgeWarning(policy, now.AddMinutes(-100), now), StringComparison.Ordinal);
        Assert.Contains("updated 45m ago, more than maxDatabaseAge 30m",
            PolicyEvaluator.DatabaseAgeWarning(policy with { MaxDatabaseAge = TimeSpan.FromMinutes(30) }, now.AddMinutes(-45), now), StringComparison.Ordinal);
    }

    [Fact]
    public void DatabaseAgeWarning_OlderThanMax_Warns()
    {
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

        Assert.Null(PolicyEvaluator.DatabaseAgeWarning(TollgatePolicy.Default, now.AddHours(-23), now));
        Assert.Contains("30h ago, more than maxDatabaseAge 24h",
            PolicyEvaluator.DatabaseAgeWarning(TollgatePolicy.Default, now.AddHours(-30), now), StringComparison.Ordinal);
        Assert.Contains("never been updated", PolicyEvaluator.DatabaseAgeWarning(TollgatePolicy.Default, null, now), StringComparison.Ordinal);
        Assert.Null(PolicyEvaluator.DatabaseAgeWarning(Load("maxDatabaseAge: 0"), null, now));
    }

    [Fact]
    public void Evaluate_DesignExample_EndToEnd()
    {
        var policy = PolicyLoader.LoadFile(TestData.Path("policy", "design-example.yaml")).Policy!;
        var graph = new DependencyGraph(
            [NpmPackage("event-stream", "3.3.6"), NpmPackage("event-stream", "4.0.1"), NpmPackage("left-pad", "1.3.0"), NpmPackage("@acme/tools", "1.0.0")], [], []);
        var findings = PolicyFindings.FromGraph(graph, policy).ToList();
        findings.Add(Signal("TG1001"));
        findings.Add(Vulnerability(Severity.Medium));

        var verdict = PolicyEvaluator.Evaluate(findings, policy, new DateOnly(2026, 12, 31));

        Assert.Equal(["event-stream@3.3.6", "left-pad@1.3.0"],
            verdict.Findings.Where(f => f.Finding.Id == "TG1100").Select(f => $"{f.Finding.Component.Name}@{f.Finding.Component.Version}"));
        Assert.Equal(RuleLevel.Warn, verdict.Findings.Single(f => f.Finding.Id == "TG1001").Level);
        Assert.Equal(Outcome.Fail, verdict.Outcome);
        Assert.True(policy.IsPrivate(NpmPackage("@acme/tools", "1.0.0")));
        Assert.True(policy.MayRunInstallScripts(NpmPackage("esbuild", "0.20.0")));
        Assert.True(policy.Registries.IsApproved("https://artifacts.example.com/npm/lodash/-/lodash-4.17.21.tgz"));
        Assert.False(policy.Registries.IsApproved("https://artifacts.example.com/npm-mirror/lodash/-/lodash-4.17.21.tgz"));
    }
}
