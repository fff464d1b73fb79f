using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Policy;

/// <summary>
/// Judges findings against a policy. The order is: the finding's level from its kind (failOn, malicious, rule
/// levels), then the allow list (caps non-malicious findings at warn), then ignore entries (expired ones do not apply
/// and are reported). The outcome is fail when any finding still fails, warn when any still warns or an ignore has
/// expired, pass otherwise. See docs/policy.md.
/// </summary>
public static class PolicyEvaluator
{
    /// <summary>Evaluates <paramref name="findings"/>.</summary>
    /// <param name="findings">Findings from advisory matching, risk rules and <see cref="PolicyFindings.FromGraph"/>.</param>
    /// <param name="policy">The policy to apply.</param>
    /// <param name="today">The date ignore expiry is judged on (the caller's <see cref="TimeProvider"/>, in UTC).</param>
    /// <param name="ruleDefaults">Each rule's own default level; null or an unknown id falls back to warn (fail for TG1100).</param>
    /// <param name="versions">Decides version ranges in patterns; null understands exact versions only.</param>
    public static Verdict Evaluate(
        IReadOnlyList<Finding> findings,
        TollgatePolicy policy,
        DateOnly today,
        Func<string, RuleLevel?>? ruleDefaults = null,
        IVersionRangeMatcher? versions = null)
    {
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(policy);
        var active = policy.Ignore.Where(i => !i.IsExpired(today)).ToList();
        var expired = policy.Ignore.Where(i => i.IsExpired(today)).ToList();
        var used = new bool[active.Count];
        var expiredHits = expired.Select(_ => new List<Finding>()).ToArray();
        var evaluated = ImmutableArray.CreateBuilder<EvaluatedFinding>(findings.Count);

        foreach (var finding in findings)
        {
            var (level, reason) = LevelOf(finding, policy, ruleDefaults);
            if (finding.Kind != FindingKind.Malicious && level == RuleLevel.Fail && policy.AllowedBy(finding.Component, versions) is { } allowed)
            {
                level = RuleLevel.Warn;
                reason += $"; lowered to warn: {finding.Component.Name} is on the allow list ('{allowed.Text}')";
            }
            IgnoreEntry? suppression = null;
            for (var i = 0; i < active.Count; i++)
            {
                var entry = active[i];
                if (entry.Matches(finding, versions))
                {
                    suppression = entry;
                    used[i] = true;
                    reason += $"; ignored until {entry.Expires:yyyy-MM-dd}: {entry.Reason}" + (entry.Owner is null ? "" : $" (owner: {entry.Owner})");
                    break;
                }
            }
            for (var i = 0; i < expired.Count; i++)
            {
                var entry = expired[i];
                if (entry.Matches(finding, versions))
                {
                    expiredHits[i].Add(finding);
                    if (suppression is null)
                    {
                        reason += $"; the ignore entry for {entry.Id} expired on {entry.Expires:yyyy-MM-dd} and no longer applies";
                    }
                }
            }
            evaluated.Add(new EvaluatedFinding(finding, level, suppression, reason));
        }

        var results = evaluated.MoveToImmutable();
        var outcome = results.Any(f => f.EffectiveLevel == RuleLevel.Fail) ? Outcome.Fail
            : results.Any(f => f.EffectiveLevel == RuleLevel.Warn) || expired.Count > 0 ? Outcome.Warn
            : Outcome.Pass;
        return new Verdict
        {
            Outcome = outcome,
            Findings = results,
            ExpiredIgnores = [.. expired.Select((e, i) => new ExpiredIgnore(e, [.. expiredHits[i]]))],
            UnusedIgnores = [.. active.Where((_, i) => !used[i])],
            PolicySource = policy.Source,
        };
    }

    /// <summary>
    /// A warning text when the advisory database is older than <see cref="TollgatePolicy.MaxDatabaseAge"/>, else null.
    /// </summary>
    /// <param name="policy">The policy.</param>
    /// <param name="updatedAt">When the database was last updated; null when it never was.</param>
    /// <param name="now">The current time.</param>
    public static string? DatabaseAgeWarning(TollgatePolicy policy, DateTimeOffset? updatedAt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.MaxDatabaseAge <= TimeSpan.Zero)
        {
            return null;
        }
        if (updatedAt is null)
        {
            return "the advisory database has never been updated: run 'tollgate db update'";
        }
        var age = now - updatedAt.Value;
        return age > policy.MaxDatabaseAge
            // Minutes, not whole hours: with maxDatabaseAge 90m an age of 100 minutes must not read "1h ago".
            ? $"the advisory database was updated {HoursAndMinutes(age)} ago, more than maxDatabaseAge {PolicyDuration.Format(policy.MaxDatabaseAge)}: run 'tollgate db update'"
            : null;
    }

    /// <summary>An age as whole hours and minutes: <c>45m</c>, <c>30h</c>, <c>1h 40m</c>.</summary>
    private static string HoursAndMinutes(TimeSpan age)
    {
        var minutes = (long)Math.Floor(age.TotalMinutes);
        var (h, m) = (minutes / 60, minutes % 60);
        return h == 0 ? $"{m}m" : m == 0 ? $"{h}h" : $"{h}h {m}m";
    }

    private static (RuleLevel Level, string Reason) LevelOf(Finding finding, TollgatePolicy policy, Func<string, RuleLevel?>? ruleDefaults)
    {
        switch (finding.Kind)
        {
            case FindingKind.Malicious:
                return policy.Malicious == MaliciousAction.Fail
                    ? (RuleLevel.Fail, "known-malicious version (malicious: fail)")
                    : (RuleLevel.Warn, "known-malicious version (malicious: warn)");
            case FindingKind.Vulnerability:
                if (policy.FailOn == Severity.None)
                {
                    return (RuleLevel.Warn, $"{finding.Severity.ToName()} vulnerability; failOn is none");
                }
                if (finding.Severity == Severity.None)
                {
                    return (RuleLevel.Warn, $"vulnerability without a severity; failOn {policy.FailOn.ToName()} needs one to fail");
                }
                return finding.Severity >= policy.FailOn
                    ? (RuleLevel.Fail, $"{finding.Severity.ToName()} vulnerability, at or above failOn {policy.FailOn.ToName()}")
                    : (RuleLevel.Warn, $"{finding.Severity.ToName()} vulnerability, below failOn {policy.FailOn.ToName()}");
            default:
                if (policy.Rules.TryGetValue(finding.Id, out var configured))
                {
                    return (configured, $"rule {finding.Id} is {configured.ToName()} in the policy");
                }
                if (ruleDefaults?.Invoke(finding.Id) is { } byRule)
                {
                    return (byRule, $"rule {finding.Id} is {byRule.ToName()} by default");
                }
                var fallback = string.Equals(finding.Id, PolicyFindings.DeniedRuleId, StringComparison.OrdinalIgnoreCase) ? RuleLevel.Fail : RuleLevel.Warn;
                return (fallback, $"rule {finding.Id} is {fallback.ToName()} by default");
        }
    }
}
