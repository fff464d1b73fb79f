using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>What the feed does with one version.</summary>
public enum FeedVerdict
{
    /// <summary>Served.</summary>
    Allowed,
    /// <summary>Served, with a warning in the audit log (a finding below the blocking level, or dry-run).</summary>
    Warned,
    /// <summary>Removed from packuments and refused as a tarball (malicious, vulnerable, denied, install script).</summary>
    Blocked,
    /// <summary>Not yet served: younger than the policy's minimum release age.</summary>
    Hidden,
}

/// <summary>The decision for one version: the verdict, the rule or advisory that decided it, and why, in words.</summary>
public sealed record VersionDecision(string Version, FeedVerdict Verdict, string? Rule, string Message)
{
    /// <summary>True when the version may be served (allowed or warned).</summary>
    public bool IsServed => Verdict is FeedVerdict.Allowed or FeedVerdict.Warned;
}

/// <summary>
/// Judges every version of a packument with the same policy and advisory database <c>tollgate scan</c> uses:
/// advisory matches (malicious, vulnerabilities at or above failOn), the deny and allow lists, install scripts
/// outside <c>installScripts.allow</c>, ignore entries with their expiry, and the minimum release age.
/// </summary>
internal sealed class VersionJudge(TollgatePolicy policy, AdvisoryLookup? advisories, VulnerabilityAction vulnerabilities, TimeProvider time)
{
    /// <summary>The rule name reported for versions younger than <see cref="TollgatePolicy.MinimumReleaseAge"/>.</summary>
    public const string MinimumReleaseAgeRule = "minimumReleaseAge";

    /// <summary>The install script rule (see docs/rules.md).</summary>
    public const string InstallScriptRule = "TG1001";

    private static readonly string[] InstallScriptNames = ["preinstall", "install", "postinstall"];

    public TollgatePolicy Policy => policy;

    /// <summary>A decision for every version in <paramref name="packument"/> (keyed by version text).</summary>
    public ImmutableDictionary<string, VersionDecision> Judge(string name, JsonObject packument)
    {
        var versions = packument["versions"] as JsonObject ?? [];
        var times = packument["time"] as JsonObject;
        var components = new List<Component>();
        foreach (var (version, manifest) in versions)
        {
            components.Add(new Component
            {
                Ecosystem = Ecosystem.Npm,
                Name = name,
                Version = version,
                Purl = PackageUrl.For(Ecosystem.Npm, name, version),
                HasInstallScript = HasInstallScript(manifest as JsonObject),
            });
        }
        var graph = new DependencyGraph(components, [], []);
        var findings = new List<Finding>();
        if (advisories is not null)
        {
            findings.AddRange(advisories.Match(graph));
        }
        findings.AddRange(PolicyFindings.FromGraph(graph, policy, SchemeVersionMatcher.Instance));
        foreach (var component in components)
        {
            if (component.HasInstallScript == true && !policy.MayRunInstallScripts(component, SchemeVersionMatcher.Instance))
            {
                findings.Add(new Finding
                {
                    Kind = FindingKind.Signal,
                    Id = InstallScriptRule,
                    Severity = Severity.Medium,
                    Summary = "runs an install script and is not on installScripts.allow",
                    Component = component,
                });
            }
        }
        // The feed blocks install scripts and denied packages whatever a scan's rule levels say: a level of warn for
        // TG1001 is meant for reports, and the allow list and ignore entries are the feed's ways to accept them.
        var feedPolicy = policy with { Rules = policy.Rules.Remove(InstallScriptRule).Remove(PolicyFindings.DeniedRuleId) };
        var now = time.GetUtcNow();
        var verdict = PolicyEvaluator.Evaluate(findings, feedPolicy, DateOnly.FromDateTime(now.UtcDateTime),
            id => id is InstallScriptRule or PolicyFindings.DeniedRuleId ? RuleLevel.Fail : null, SchemeVersionMatcher.Instance);
        var byVersion = verdict.Findings.ToLookup(f => f.Finding.Component.Version, StringComparer.Ordinal);

        var result = ImmutableDictionary.CreateBuilder<string, VersionDecision>(StringComparer.Ordinal);
        foreach (var component in components)
        {
            result[component.Version] = Decide(component, byVersion[component.Version].ToList(), times, now);
        }
        return result.ToImmutable();
    }

    /// <summary>
    /// When the decisions for <paramref name="packument"/> next change by the clock alone: the moment the next hidden
    /// version comes of age, or the next UTC midnight when the policy has ignore entries (one may expire). Null when
    /// only a new input (packument, policy, advisories) changes them.
    /// </summary>
    public DateTimeOffset? NextChange(JsonObject packument, ImmutableDictionary<string, VersionDecision> decisions)
    {
        ArgumentNullException.ThrowIfNull(packument);
        ArgumentNullException.ThrowIfNull(decisions);
        DateTimeOffset? next = null;
        var times = packument["time"] as JsonObject;
        foreach (var decision in decisions.Values)
        {
            if (decision.Verdict == FeedVerdict.Hidden
                && times?[decision.Version] is JsonValue t && t.TryGetValue<string>(out var text)
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var published))
            {
                var ofAge = published + policy.MinimumReleaseAge;
                next = next is null || ofAge < next ? ofAge : next;
            }
        }
        if (!policy.Ignore.IsEmpty)
        {
            var midnight = new DateTimeOffset(time.GetUtcNow().UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
            next = next is null || midnight < next ? midnight : next;
        }
        return next;
    }

    private VersionDecision Decide(Component component, List<EvaluatedFinding> findings, JsonObject? times, DateTimeOffset now)
    {
        var version = component.Version;
        var blocking = findings.Where(f => f.EffectiveLevel == RuleLevel.Fail)
            .Where(f => !(f.Finding.Kind == FindingKind.Vulnerability && vulnerabilities == VulnerabilityAction.Warn))
            .OrderBy(f => f.Finding.Kind switch { FindingKind.Malicious => 0, FindingKind.Vulnerability => 1, _ => 2 })
            .FirstOrDefault();
        if (blocking is not null)
        {
            return new VersionDecision(version, FeedVerdict.Blocked, blocking.Finding.Id, Describe(blocking));
        }
        if (!policy.IsExemptFromReleaseAge(component, SchemeVersionMatcher.Instance)
            && times?[version]?.GetValueKind() == System.Text.Json.JsonValueKind.String
            && DateTimeOffset.TryParse(times[version]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var published)
            && now - published < policy.MinimumReleaseAge)
        {
            return new VersionDecision(version, FeedVerdict.Hidden, MinimumReleaseAgeRule,
                $"{component.Name}@{version} was published {published:yyyy-MM-dd HH:mm}Z, less than minimumReleaseAge {PolicyDuration.Format(policy.MinimumReleaseAge)} ago");
        }
        var warning = findings.FirstOrDefault(f => f.EffectiveLevel is RuleLevel.Warn or RuleLevel.Fail);
        return warning is null
            ? new VersionDecision(version, FeedVerdict.Allowed, null, "allowed")
            : new VersionDecision(version, FeedVerdict.Warned, warning.Finding.Id, Describe(warning));
    }

    private static string Describe(EvaluatedFinding finding)
    {
        var f = finding.Finding;
        var what = f.Kind switch
        {
            FindingKind.Malicious => $"{f.Component.Name}@{f.Component.Version} is known to be malicious ({f.Id}: {f.Summary})",
            FindingKind.Vulnerability => $"{f.Component.Name}@{f.Component.Version} has a {f.Severity.ToName()} vulnerability ({f.Id}: {f.Summary})"
                + (f.FixedIn.IsEmpty ? "" : $"; fixed in {f.FixedIn[0]}"),
            _ => $"{f.Component.Name}@{f.Component.Version}: {f.Summary} ({f.Id})" + (f.Evidence is null ? "" : $"; {f.Evidence}"),
        };
        return $"{what}; {finding.Reason}";
    }

    /// <summary>True when the version manifest declares an install-time script (or npm's <c>hasInstallScript</c> flag).</summary>
    internal static bool HasInstallScript(JsonObject? manifest)
    {
        if (manifest is null)
        {
            return false;
        }
        if (manifest["hasInstallScript"] is JsonValue flag && flag.GetValueKind() == System.Text.Json.JsonValueKind.True)
        {
            return true;
        }
        return manifest["scripts"] is JsonObject scripts
            && InstallScriptNames.Any(s => scripts[s] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String
                && !string.IsNullOrWhiteSpace(v.GetValue<string>()));
    }
}

/// <summary>The advisory database behind a lock: one SQLite connection is not safe for concurrent use.</summary>
internal sealed class AdvisoryLookup(AdvisoryStore store) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly AdvisoryMatcher _matcher = new(store);

    public AdvisoryStore Store => store;

    public IReadOnlyList<Finding> Match(DependencyGraph graph)
    {
        lock (_gate)
        {
            return _matcher.Match(graph).Findings;
        }
    }

    /// <summary>Changes whenever the database is imported or updated (while the feed runs, too).</summary>
    public string Version()
    {
        lock (_gate)
        {
            return $"{store.Meta(AdvisoryMetaKeys.ImportedAt)}|{store.Meta(AdvisoryMetaKeys.LastImport)}";
        }
    }

    public void Dispose() => store.Dispose();
}
