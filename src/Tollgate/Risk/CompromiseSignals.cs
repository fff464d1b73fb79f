using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using Tollgate.Ecosystems;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Risk;

/// <summary>One sign that a version may not come from the package's usual authors: a rule id, a severity and the evidence.</summary>
public sealed record CompromiseSignal(string Id, Severity Severity, string Message);

/// <summary>What the signals need besides the two versions.</summary>
/// <param name="MinimumAge">Versions younger than this are too new to trust (the policy's minimumReleaseAge).</param>
/// <param name="Now">The time ages are measured at.</param>
/// <param name="Dependency">The registry facts of a dependency by name (null when the registry does not have it).</param>
public sealed record SignalContext(TimeSpan MinimumAge, DateTimeOffset Now, Func<string, PackageFacts?>? Dependency = null);

/// <summary>
/// Compromise signals: the registry's facts about a version compared with those of the version before it and with the
/// package's history. A field the registry publishes for neither version (a mirror that drops it) is no change and
/// never a signal.
/// </summary>
public static class CompromiseSignals
{
    /// <summary>The signals of <paramref name="candidate"/> against <paramref name="baseline"/> (the version in use, or the one before).</summary>
    public static ImmutableArray<CompromiseSignal> Compare(PackageFacts facts, VersionFacts? baseline, VersionFacts candidate, SignalContext context)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(context);
        var signals = ImmutableArray.CreateBuilder<CompromiseSignal>();
        if (baseline is not null && !ReferenceEquals(baseline, candidate))
        {
            if (candidate.InstallScripts is { IsEmpty: false } scripts && baseline.InstallScripts is { IsEmpty: true })
            {
                signals.Add(new(RegistryRules.NewInstallScript, Severity.High,
                    $"{candidate.Version} runs code when installed and {baseline.Version} did not: {string.Join("; ", scripts)}"));
            }
            var earlier = Earlier(facts, candidate);
            if (candidate.Publisher is { } publisher && baseline.Publisher is not null
                && !earlier.Any(v => string.Equals(v.Publisher, publisher, StringComparison.OrdinalIgnoreCase)))
            {
                signals.Add(new(RegistryRules.PublisherChanged, Severity.High,
                    $"{candidate.Version} was published by '{publisher}', who published no earlier version ({baseline.Version} was published by '{baseline.Publisher}')"));
            }
            if (candidate.Maintainers is { } maintainers && baseline.Maintainers is not null)
            {
                var known = earlier.Where(v => v.Maintainers is not null).SelectMany(v => v.Maintainers!).ToHashSet(StringComparer.OrdinalIgnoreCase);
                var added = maintainers.Where(m => !known.Contains(m)).ToList();
                if (added.Count > 0)
                {
                    signals.Add(new(RegistryRules.PublisherChanged, Severity.Medium,
                        $"{candidate.Version} lists maintainer(s) no earlier version had: {string.Join(", ", added)}"));
                }
            }
            if (baseline.HasProvenance && !candidate.HasProvenance)
            {
                signals.Add(new(RegistryRules.ProvenanceLost, Severity.High,
                    $"{baseline.Version} was published with provenance attestations and {candidate.Version} has none (built outside the usual CI?)"));
            }
            if (candidate.Dependencies is { } dependencies && baseline.Dependencies is { } before && context.Dependency is { } lookup)
            {
                foreach (var (name, range) in dependencies)
                {
                    if (!before.ContainsKey(name))
                    {
                        NewDependency(facts.Ecosystem, name, range, candidate, context, lookup, signals);
                    }
                }
            }
        }
        if (Cadence(facts, candidate) is { } cadence)
        {
            signals.Add(cadence);
        }
        if (candidate.Deprecated is { } deprecated)
        {
            signals.Add(new(RegistryRules.DeprecatedOrYanked, Severity.Medium, $"{candidate.Version} is deprecated: {deprecated}"));
        }
        if (candidate.Yanked)
        {
            signals.Add(new(RegistryRules.DeprecatedOrYanked, Severity.Medium,
                $"{candidate.Version} is {(facts.Ecosystem == Ecosystem.NuGet ? "unlisted" : "yanked")}" + (candidate.YankReason is { } why && why != "unlisted" ? $": {why}" : "")));
        }
        return signals.ToImmutable();
    }

    /// <summary>The version published before <paramref name="candidate"/> that precedes it in the version order (its baseline in a scan).</summary>
    public static VersionFacts? Previous(PackageFacts facts, VersionFacts candidate)
    {
        var scheme = VersionSchemes.For(facts.Ecosystem);
        if (!scheme.TryParse(candidate.Version, out var version))
        {
            return null;
        }
        VersionFacts? best = null;
        IComparableVersion? bestVersion = null;
        foreach (var v in facts.Versions)
        {
            if (scheme.TryParse(v.Version, out var parsed) && scheme.Compare(parsed, version) < 0 && (bestVersion is null || scheme.Compare(parsed, bestVersion) > 0))
            {
                best = v;
                bestVersion = parsed;
            }
        }
        return best;
    }

    /// <summary>How long ago the version was published, or null when the registry does not say.</summary>
    public static TimeSpan? Age(VersionFacts version, DateTimeOffset now) => version.Published is { } published ? now - published : null;

    private static List<VersionFacts> Earlier(PackageFacts facts, VersionFacts candidate) =>
        candidate.Published is { } when
            ? [.. facts.Versions.Where(v => v.Published is { } p && p < when)]
            : [.. facts.Versions.Where(v => !ReferenceEquals(v, candidate))];

    private static void NewDependency(Ecosystem ecosystem, string name, string range, VersionFacts candidate, SignalContext context,
        Func<string, PackageFacts?> lookup, ImmutableArray<CompromiseSignal>.Builder signals)
    {
        var dependency = lookup(name);
        if (dependency is null)
        {
            signals.Add(new(RegistryRules.RiskyNewDependency, Severity.High, $"{candidate.Version} adds the dependency {name} ({range}), which the registry does not have"));
            return;
        }
        var picked = ecosystem == Ecosystem.Npm
            ? NpmPickManifest.Pick(dependency, range)
            : Highest(dependency, range);
        if (picked is null)
        {
            return;
        }
        if (Age(picked, context.Now) is { } age && age < context.MinimumAge)
        {
            signals.Add(new(RegistryRules.RiskyNewDependency, Severity.High,
                $"{candidate.Version} adds the dependency {name}, whose version {picked.Version} was published {Describe(age)} ago (minimumReleaseAge {PolicyDuration.Format(context.MinimumAge)})"));
        }
        if (picked.InstallScripts is { IsEmpty: false } scripts)
        {
            signals.Add(new(RegistryRules.RiskyNewDependency, Severity.High,
                $"{candidate.Version} adds the dependency {name}@{picked.Version}, which runs code when installed: {string.Join("; ", scripts)}"));
        }
    }

    private static VersionFacts? Highest(PackageFacts facts, string range)
    {
        var scheme = VersionSchemes.For(facts.Ecosystem);
        return facts.Versions
            .Select(v => (Facts: v, Ok: scheme.TryParse(v.Version, out var p), Parsed: p))
            .Where(x => x.Ok && !x.Parsed!.IsPrerelease && !x.Facts.Yanked && (range.Length == 0 || scheme.Satisfies(x.Parsed, range)))
            .OrderByDescending(x => x.Parsed!, Comparer<IComparableVersion>.Create(scheme.Compare))
            .Select(x => x.Facts)
            .FirstOrDefault();
    }

    /// <summary>
    /// A release on an old major line after a long silence on that line while newer lines exist (the shape of a
    /// hijacked account publishing "1.2.x" of a package on 4.x), or after a gap far beyond the package's usual pace.
    /// </summary>
    private static CompromiseSignal? Cadence(PackageFacts facts, VersionFacts candidate)
    {
        if (candidate.Published is not { } when)
        {
            return null;
        }
        var scheme = VersionSchemes.For(facts.Ecosystem);
        if (!scheme.TryParse(candidate.Version, out var version) || version.IsPrerelease)
        {
            return null;
        }
        var major = MajorOf(version.Normalized);
        var published = facts.Versions
            .Where(v => v.Published is not null && v.Published < when && !ReferenceEquals(v, candidate))
            .Select(v => (Facts: v, Ok: scheme.TryParse(v.Version, out var p), Parsed: p))
            .Where(x => x.Ok && !x.Parsed!.IsPrerelease)
            .ToList();
        if (published.Count < 3)
        {
            return null;
        }
        var sameLine = published.Where(x => MajorOf(x.Parsed!.Normalized) == major).Select(x => x.Facts.Published!.Value).DefaultIfEmpty().Max();
        var newerLine = facts.Versions.Any(v => scheme.TryParse(v.Version, out var p) && !p.IsPrerelease && MajorOf(p.Normalized) > major);
        if (sameLine != default && newerLine && when - sameLine > TimeSpan.FromDays(365))
        {
            return new(RegistryRules.CadenceOutlier, Severity.Medium,
                $"{candidate.Version} is a release of the old {major}.x line {Describe(when - sameLine)} after that line's previous release, while newer major lines exist");
        }
        var times = published.Select(x => x.Facts.Published!.Value).Order().ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).Order().ToList();
        if (gaps.Count >= 3)
        {
            var median = gaps[gaps.Count / 2];
            var gap = when - times[^1];
            if (gap > TimeSpan.FromDays(365) && gap > median * 20)
            {
                return new(RegistryRules.CadenceOutlier, Severity.Low,
                    $"{candidate.Version} came {Describe(gap)} after the previous release; the package's usual gap is {Describe(median)}");
            }
        }
        return null;
    }

    private static long MajorOf(string normalized)
    {
        var end = 0;
        while (end < normalized.Length && char.IsAsciiDigit(normalized[end]))
        {
            end++;
        }
        return end > 0 && long.TryParse(normalized.AsSpan(0, Math.Min(end, 18)), NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0;
    }

    /// <summary>A duration in the largest whole unit: "5 hours", "3 days", "2 years".</summary>
    public static string Describe(TimeSpan span) =>
        span.TotalDays >= 730 ? $"{(int)(span.TotalDays / 365)} years"
        : span.TotalDays >= 2 ? $"{(int)span.TotalDays} days"
        : span.TotalHours >= 2 ? $"{(int)span.TotalHours} hours"
        : $"{Math.Max(0, (int)span.TotalMinutes)} minutes";
}

/// <summary>
/// Rules about registry facts (TG4xxx): release age and compromise signals (found with registry metadata by
/// <c>update</c> and <c>scan --registry-metadata</c>), and the update bots' configuration (<c>update lint</c>).
/// They are <see cref="RiskRule"/>s for their metadata only: nothing in a graph alone finds them.
/// </summary>
public sealed class RegistryRule(string id, string name, string title, RuleLevel defaultLevel, Severity defaultSeverity, string rationale, string fix)
    : RiskRule(id, name, title, defaultLevel, defaultSeverity, rationale, fix)
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context) => [];
}

/// <summary>The TG4xxx rules. docs/rules.md documents each.</summary>
public static class RegistryRules
{
    public const string ReleaseTooYoung = "TG4001";
    public const string NewInstallScript = "TG4002";
    public const string PublisherChanged = "TG4003";
    public const string ProvenanceLost = "TG4004";
    public const string RiskyNewDependency = "TG4005";
    public const string CadenceOutlier = "TG4006";
    public const string DeprecatedOrYanked = "TG4007";
    public const string NoCooldown = "TG4101";
    public const string AutomergeMajor = "TG4102";
    public const string AutomergeWithoutAge = "TG4103";
    public const string EcosystemNotCovered = "TG4104";
    public const string SecurityUpdatesOff = "TG4105";
    public const string EndlessIgnore = "TG4106";

    public static ImmutableArray<RegistryRule> All { get; } =
    [
        new(ReleaseTooYoung, "ReleaseTooYoung", "Version published more recently than minimumReleaseAge", RuleLevel.Warn, Severity.Medium,
            "Most malicious versions are found and removed within days; a version younger than the cooldown has not had that time.",
            "Wait until the version is older than minimumReleaseAge, or pin the previous version."),
        new(NewInstallScript, "NewInstallScript", "New version runs code at install time and the previous one did not", RuleLevel.Warn, Severity.High,
            "A new preinstall/install/postinstall script (or an sdist-only release) is how most npm and PyPI compromises ran their payload.",
            "Read the script before taking the version; keep scripts off (--ignore-scripts) and allow them per package."),
        new(PublisherChanged, "PublisherChanged", "Version published by an account that never published the package before", RuleLevel.Warn, Severity.High,
            "A hijacked or newly added account publishing a release is the signature of account takeover.",
            "Check the project's announcements and repository for the release; wait for the cooldown."),
        new(ProvenanceLost, "ProvenanceLost", "Earlier version had provenance attestations and this one has none", RuleLevel.Warn, Severity.High,
            "A package built by CI with provenance that suddenly publishes without it was likely published from somewhere else.",
            "Do not take the version until the maintainers explain it."),
        new(RiskyNewDependency, "RiskyNewDependency", "Version adds a dependency that is brand new or runs install scripts", RuleLevel.Warn, Severity.High,
            "Compromises often add a freshly published dependency carrying the payload.",
            "Look at the new dependency; wait for the cooldown."),
        new(CadenceOutlier, "CadenceOutlier", "Version published far outside the package's usual release cadence", RuleLevel.Warn, Severity.Medium,
            "A patch to an old major line after years of silence is typical of a stolen token used to reach users pinned to old ranges.",
            "Check the release with the maintainers; prefer the current major line."),
        new(DeprecatedOrYanked, "DeprecatedOrYanked", "Version is deprecated, yanked or unlisted", RuleLevel.Warn, Severity.Medium,
            "Maintainers deprecate or yank versions that are broken or malicious.",
            "Move to a version the maintainers recommend."),
        new(NoCooldown, "UpdateBotNoCooldown", "Update bot configuration has no cooldown / minimumReleaseAge", RuleLevel.Warn, Severity.Medium,
            "Without a cooldown the bot proposes a version minutes after it is published, before a compromise is noticed.",
            "Dependabot: add cooldown: default-days: 3. Renovate: add \"minimumReleaseAge\": \"3 days\"."),
        new(AutomergeMajor, "UpdateBotAutomergeMajor", "Update bot auto-merges major updates", RuleLevel.Warn, Severity.Medium,
            "A major update changes behaviour and should be read by a person.",
            "Limit automerge to matchUpdateTypes [\"patch\", \"minor\"]."),
        new(AutomergeWithoutAge, "UpdateBotAutomergeWithoutAge", "Update bot auto-merges without a release age", RuleLevel.Warn, Severity.High,
            "Auto-merging a version published an hour ago lets a compromised release into the default branch unseen.",
            "Set minimumReleaseAge (Renovate) or a cooldown (Dependabot) for every auto-merged update."),
        new(EcosystemNotCovered, "UpdateBotEcosystemNotCovered", "Ecosystem in the repository that no update configuration covers", RuleLevel.Warn, Severity.Low,
            "Dependencies nobody updates keep their known vulnerabilities.",
            "Add an updates entry (Dependabot) or enable the manager (Renovate) for it."),
        new(SecurityUpdatesOff, "UpdateBotSecurityUpdatesOff", "Update bot security updates are switched off", RuleLevel.Warn, Severity.High,
            "Security updates are the fix for known vulnerabilities.",
            "Remove the setting that turns them off."),
        new(EndlessIgnore, "UpdateBotEndlessIgnore", "Ignore entry without an end", RuleLevel.Warn, Severity.Low,
            "An ignore of every future version of a dependency stops all its updates, security fixes included, for good.",
            "Ignore a version range or update type instead, and review the entry regularly."),
    ];

    private static readonly FrozenDictionary<string, RegistryRule> s_byId = All.ToFrozenDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);

    public static RegistryRule? Find(string id) => s_byId.GetValueOrDefault(id);
}
