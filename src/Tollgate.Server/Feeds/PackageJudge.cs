using System.Collections.Immutable;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Policy;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Feeds;

/// <summary>What the feed does with one version.</summary>
public enum FeedVerdict
{
    /// <summary>Served.</summary>
    Allowed,
    /// <summary>Served, with a warning in the audit log (a finding below the blocking level, or dry-run).</summary>
    Warned,
    /// <summary>Removed from listings and refused as a download (malicious, vulnerable, denied, install-time code).</summary>
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

/// <summary>One version of a package as an ecosystem's feed sees it, ready to be judged.</summary>
/// <param name="Component">The package version (ecosystem, name, version, purl).</param>
/// <param name="Published">When the upstream says it was published, if it says.</param>
/// <param name="InstallCode">What code the version runs when it is installed, in words; null when none.</param>
internal sealed record FeedRelease(Component Component, DateTimeOffset? Published, string? InstallCode = null);

/// <summary>
/// Judges the versions of one package, in any ecosystem, with the same policy and advisory database <c>tollgate scan</c>
/// uses: advisory matches (malicious, vulnerabilities at or above failOn), the deny and allow lists, install-time code
/// outside <c>installScripts.allow</c>, ignore entries with their expiry, and the minimum release age.
/// </summary>
internal sealed class PackageJudge(TollgatePolicy policy, AdvisoryLookup? advisories, VulnerabilityAction vulnerabilities, TimeProvider time)
{
    /// <summary>The rule name reported for versions younger than <see cref="TollgatePolicy.MinimumReleaseAge"/>.</summary>
    public const string MinimumReleaseAgeRule = "minimumReleaseAge";

    /// <summary>The install script rule (see docs/rules.md).</summary>
    public const string InstallScriptRule = "TG1001";

    public TollgatePolicy Policy => policy;

    /// <summary>The clock decisions are made by.</summary>
    public TimeProvider Time => time;

    /// <summary>True when the name is private by the policy: never asked of an upstream.</summary>
    public bool IsPrivate(Ecosystem ecosystem, string name) => policy.IsPrivate(new Component
    {
        Ecosystem = ecosystem,
        Name = name,
        Version = "0.0.0",
        Purl = PackageUrl.For(ecosystem, name, "0.0.0"),
    });

    /// <summary>A decision for every release (keyed by version text).</summary>
    public ImmutableDictionary<string, VersionDecision> Judge(IReadOnlyList<FeedRelease> releases)
    {
        var components = releases.Select(r => r.InstallCode is null ? r.Component : r.Component with { HasInstallScript = true }).ToList();
        var graph = new DependencyGraph(components, [], []);
        var findings = new List<Finding>();
        if (advisories is not null)
        {
            findings.AddRange(advisories.Match(graph));
        }
        findings.AddRange(PolicyFindings.FromGraph(graph, policy, SchemeVersionMatcher.Instance));
        findings.AddRange(TyposquatFindings(components));
        foreach (var (release, component) in releases.Zip(components))
        {
            if (release.InstallCode is { } code && !policy.MayRunInstallScripts(component, SchemeVersionMatcher.Instance))
            {
                findings.Add(new Finding
                {
                    Kind = FindingKind.Signal,
                    Id = InstallScriptRule,
                    Severity = Severity.Medium,
                    Summary = $"{code} and is not on installScripts.allow",
                    Component = component,
                });
            }
        }
        // The feed blocks install-time code and denied packages whatever a scan's rule levels say: a level of warn for
        // TG1001 is meant for reports, and the allow list and ignore entries are the feed's ways to accept them.
        var feedPolicy = policy with { Rules = policy.Rules.Remove(InstallScriptRule).Remove(PolicyFindings.DeniedRuleId) };
        var now = time.GetUtcNow();
        var verdict = PolicyEvaluator.Evaluate(findings, feedPolicy, DateOnly.FromDateTime(now.UtcDateTime),
            id => id is InstallScriptRule or PolicyFindings.DeniedRuleId ? RuleLevel.Fail : null, SchemeVersionMatcher.Instance);
        var byVersion = verdict.Findings.ToLookup(f => f.Finding.Component.Version, StringComparer.Ordinal);

        var result = ImmutableDictionary.CreateBuilder<string, VersionDecision>(StringComparer.Ordinal);
        foreach (var (release, component) in releases.Zip(components))
        {
            result[component.Version] = Decide(component, byVersion[component.Version].ToList(), release.Published, now);
        }
        return result.ToImmutable();
    }

    /// <summary>
    /// When <paramref name="decisions"/> next change by the clock alone: the moment the next hidden version (with its
    /// publication time in <paramref name="published"/>) comes of age, or the next UTC midnight when the policy has
    /// ignore entries (one may expire). Null when only a new input (the package's page, policy, advisories) changes them.
    /// </summary>
    public DateTimeOffset? NextChange(IEnumerable<(string Version, DateTimeOffset? Published)> published, ImmutableDictionary<string, VersionDecision> decisions)
    {
        ArgumentNullException.ThrowIfNull(published);
        ArgumentNullException.ThrowIfNull(decisions);
        DateTimeOffset? next = null;
        foreach (var (version, at) in published)
        {
            if (at is { } publishedAt && decisions.TryGetValue(version, out var decision) && decision.Verdict == FeedVerdict.Hidden)
            {
                var ofAge = publishedAt + policy.MinimumReleaseAge;
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

    /// <summary>The typosquat rule's name check (TG1010), as scan applies it to a direct dependency: the name is judged once and the finding given to every version.</summary>
    private IEnumerable<Finding> TyposquatFindings(List<Component> components)
    {
        if (components.Count == 0 || policy.Rules.TryGetValue(TyposquatRule, out var level) && level == RuleLevel.Off)
        {
            return [];
        }
        var rule = Tollgate.Risk.RiskRules.Find(TyposquatRule)!;
        var first = components[0] with { Direct = true };
        var found = rule.Evaluate(new DependencyGraph([first], [], []), Scanner.RiskContextFor(policy, ImmutableDictionary<Ecosystem, string>.Empty)).FirstOrDefault();
        return found is null ? [] : components.Select(c => found with { Component = c });
    }

    /// <summary>The typosquat rule (see docs/rules.md): warns by default; <c>rules: { TG1010: fail }</c> makes the feed refuse the name.</summary>
    public const string TyposquatRule = "TG1010";

    private VersionDecision Decide(Component component, List<EvaluatedFinding> findings, DateTimeOffset? published, DateTimeOffset now)
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
        if (policy.MinimumReleaseAge > TimeSpan.Zero && !policy.IsExemptFromReleaseAge(component, SchemeVersionMatcher.Instance))
        {
            if (published is { } when && now - when < policy.MinimumReleaseAge)
            {
                return new VersionDecision(version, FeedVerdict.Hidden, MinimumReleaseAgeRule,
                    $"{component.Name}@{version} was published {when.UtcDateTime:yyyy-MM-dd HH:mm}Z, less than minimumReleaseAge {PolicyDuration.Format(policy.MinimumReleaseAge)} ago");
            }
            // Fail closed: a version whose age cannot be known could be minutes old.
            if (published is null)
            {
                return new VersionDecision(version, FeedVerdict.Hidden, MinimumReleaseAgeRule,
                    $"{component.Name}@{version} has no publish time in the upstream's answer, so minimumReleaseAge {PolicyDuration.Format(policy.MinimumReleaseAge)} "
                    + "cannot be checked; add the package to minimumReleaseAgeExclude, or use an upstream that records publish times");
            }
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
}

/// <summary>
/// The advisory database behind a lock (one SQLite connection is not safe for concurrent use). <c>tollgate db update</c>
/// writes a new file and renames it over the old one, so a connection opened before keeps reading the old file: when
/// the file at the path is another one, <see cref="Version"/> opens it and the lookups use it from then on.
/// </summary>
internal sealed class AdvisoryLookup : IDisposable
{
    private readonly Lock _gate = new();
    private AdvisoryStore _store;
    private AdvisoryMatcher _matcher;
    private (DateTime Written, long Length)? _file;

    public AdvisoryLookup(AdvisoryStore store)
    {
        _store = store;
        _matcher = new AdvisoryMatcher(store);
        _file = FileOf(store.Path);
    }

    /// <summary>Why the replaced database could not be opened (the previous one is still used), or null.</summary>
    public string? ReloadProblem { get; private set; }

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
            ReopenIfReplaced();
            return _store.DataVersion();
        }
    }

    private void ReopenIfReplaced()
    {
        var now = FileOf(_store.Path);
        if (now is null || now == _file)
        {
            return;
        }
        // A file that cannot be opened (yet) leaves the previous database in use: it still answers every lookup.
        if (!AdvisoryStore.TryOpen(_store.Path, out var fresh, out var error))
        {
            ReloadProblem = error.Message;
            return;
        }
        var old = _store;
        (_store, _matcher, _file, ReloadProblem) = (fresh, new AdvisoryMatcher(fresh), now, null);
        old.Dispose();
    }

    private static (DateTime, long)? FileOf(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _store.Dispose();
        }
    }
}
