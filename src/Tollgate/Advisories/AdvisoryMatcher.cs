using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Advisories;

/// <summary>A component that was deliberately not matched against public advisories, and why.</summary>
public sealed record UnmatchedComponent(Component Component, string Reason);

/// <summary>The advisories that hit a graph: one finding per vulnerability per component, and what was not matched.</summary>
public sealed record AdvisoryMatches(ImmutableArray<Finding> Findings, ImmutableArray<UnmatchedComponent> NotMatched);

/// <summary>
/// Matches every component of a graph against the advisory database, following the OSV schema's range
/// semantics per ecosystem. Records that describe the same issue (GHSA, CVE, PYSEC aliases) become one
/// finding. Components from git, URLs, local paths or workspaces, and names the policy declares private,
/// are not matched by name against public advisories.
/// </summary>
public sealed class AdvisoryMatcher(AdvisoryStore store)
{
    public const string NonRegistrySource = "not matched: private or non-registry source";
    public const string NotPinned = "not matched: version not pinned (no lockfile)";

    /// <param name="graph">The graph to match.</param>
    /// <param name="isPrivate">Names the policy declares private: never matched against public advisories.</param>
    public AdvisoryMatches Match(DependencyGraph graph, Func<Component, bool>? isPrivate = null)
    {
        var findings = ImmutableArray.CreateBuilder<Finding>();
        var notMatched = ImmutableArray.CreateBuilder<UnmatchedComponent>();
        var matched = new List<Component>(graph.Components.Length);
        foreach (var component in graph.Components)
        {
            if (WhyNotMatched(component, isPrivate) is { } reason)
            {
                notMatched.Add(new UnmatchedComponent(component, reason));
            }
            else
            {
                matched.Add(component);
            }
        }
        var byPackage = store.FindByPackages(matched.Select(c => (c.Ecosystem, c.Name)));
        foreach (var component in matched)
        {
            var advisories = byPackage[(component.Ecosystem, Component.NormalizeName(component.Ecosystem, component.Name))];
            var hits = new List<(Advisory Advisory, ImmutableArray<string> Fixes)>();
            foreach (var advisory in advisories)
            {
                if (advisory.IsWithdrawn)
                {
                    continue;
                }
                var fixes = new List<string>();
                var affected = false;
                foreach (var entry in advisory.AffectedFor(component.Ecosystem, component.Name))
                {
                    if (!OsvRangeEvaluator.IsAffected(component.Ecosystem, component.Version, entry.Ranges, entry.Versions))
                    {
                        continue;
                    }
                    affected = true;
                    if (OsvRangeEvaluator.LowestFixAbove(component.Ecosystem, component.Version, entry.Ranges) is { } fix)
                    {
                        fixes.Add(fix);
                    }
                }
                if (affected)
                {
                    hits.Add((advisory, [.. fixes.Distinct()]));
                }
            }
            findings.AddRange(MergeAliases(component, hits));
        }
        return new AdvisoryMatches(findings.ToImmutable(), notMatched.ToImmutable());
    }

    /// <summary>
    /// Why a component is not matched against public advisories by name (<see cref="NonRegistrySource"/>,
    /// <see cref="NotPinned"/>), or null when it is. The one decision <c>scan</c> and the inventory share.
    /// </summary>
    public static string? WhyNotMatched(Component component, Func<Component, bool>? isPrivate)
    {
        ArgumentNullException.ThrowIfNull(component);
        return component.Origin.Kind != OriginKind.Registry || isPrivate?.Invoke(component) == true ? NonRegistrySource
            : !component.Resolved ? NotPinned
            : null;
    }

    /// <summary>Groups advisories that name each other (id or alias) and turns each group into one finding.</summary>
    private static IEnumerable<Finding> MergeAliases(Component component, List<(Advisory Advisory, ImmutableArray<string> Fixes)> hits)
    {
        var groups = new List<List<(Advisory Advisory, ImmutableArray<string> Fixes)>>();
        var groupIds = new List<HashSet<string>>();
        foreach (var hit in hits)
        {
            var ids = hit.Advisory.Aliases.Append(hit.Advisory.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var joined = new List<int>();
            for (var i = 0; i < groups.Count; i++)
            {
                if (groupIds[i].Overlaps(ids))
                {
                    joined.Add(i);
                }
            }
            if (joined.Count == 0)
            {
                groups.Add([hit]);
                groupIds.Add(ids);
                continue;
            }
            var target = joined[0];
            groups[target].Add(hit);
            groupIds[target].UnionWith(ids);
            // A record that names two groups joins them.
            for (var j = joined.Count - 1; j >= 1; j--)
            {
                groups[target].AddRange(groups[joined[j]]);
                groupIds[target].UnionWith(groupIds[joined[j]]);
                groups.RemoveAt(joined[j]);
                groupIds.RemoveAt(joined[j]);
            }
        }
        for (var i = 0; i < groups.Count; i++)
        {
            yield return ToFinding(component, groups[i], groupIds[i]);
        }
    }

    private static Finding ToFinding(Component component, List<(Advisory Advisory, ImmutableArray<string> Fixes)> group, HashSet<string> ids)
    {
        var primary = group.Select(g => g.Advisory).OrderBy(a => IdPreference(a.Id)).ThenBy(a => a.Id, StringComparer.Ordinal).First();
        var malicious = group.Any(g => g.Advisory.Kind == AdvisoryKind.Malicious);
        var (severity, score, severityNote) = malicious ? (Severity.Critical, (double?)null, null) : SeverityOf(group.Select(g => g.Advisory));
        var fixes = group.SelectMany(g => g.Fixes).Distinct().ToList();
        var scheme = Ecosystems.VersionSchemes.For(component.Ecosystem);
        fixes.Sort((a, b) => scheme.TryParse(a, out var va) && scheme.TryParse(b, out var vb) ? scheme.Compare(va, vb) : string.CompareOrdinal(a, b));
        var summary = group.Select(g => g.Advisory).Select(a => a.Summary).FirstOrDefault(s => !string.IsNullOrWhiteSpace(s))
            ?? FirstLine(group.Select(g => g.Advisory.Details).FirstOrDefault(d => !string.IsNullOrWhiteSpace(d)))
            ?? primary.Id;
        return new Finding
        {
            Kind = malicious ? FindingKind.Malicious : FindingKind.Vulnerability,
            Id = primary.Id,
            Aliases = [.. ids.Where(id => !string.Equals(id, primary.Id, StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal)],
            Severity = severity,
            Score = score,
            Summary = summary,
            Component = component,
            FixedIn = [.. fixes],
            Evidence = severityNote,
            HelpUri = primary.Id.StartsWith("GHSA-", StringComparison.Ordinal)
                ? $"https://github.com/advisories/{primary.Id}"
                : $"https://osv.dev/vulnerability/{primary.Id}",
        };
    }

    /// <summary>Malware records first, then GitHub's reviewed ids, then the ecosystem databases, CVE last.</summary>
    private static int IdPreference(string id) => id switch
    {
        _ when id.StartsWith("MAL-", StringComparison.Ordinal) => 0,
        _ when id.StartsWith("GHSA-", StringComparison.Ordinal) => 1,
        _ when id.StartsWith("PYSEC-", StringComparison.Ordinal) => 2,
        _ when id.StartsWith("CVE-", StringComparison.Ordinal) => 4,
        _ => 3,
    };

    /// <summary>
    /// The highest severity any record of the group gives: computed from CVSS vectors (v4 over v3 over v2), else
    /// the database's own label. A record with neither has no severity (<see cref="Severity.None"/>): the policy
    /// warns about it whatever failOn says, and the finding says why.
    /// </summary>
    internal static (Severity Severity, double? Score, string? Note) SeverityOf(IEnumerable<Advisory> advisories)
    {
        Severity? best = null;
        double? bestScore = null;
        foreach (var advisory in advisories)
        {
            var vectors = advisory.Severity.Concat(advisory.Affected.SelectMany(a => a.Severity))
                .Where(s => s.Type is SeverityType.CvssV2 or SeverityType.CvssV3 or SeverityType.CvssV4)
                .OrderByDescending(s => s.Type);
            foreach (var vector in vectors)
            {
                if (CvssCalculator.TryScore(vector.Score, out var cvss, out _))
                {
                    var severity = FromScore(cvss.Score);
                    if (best is null || severity > best || (severity == best && cvss.Score > bestScore))
                    {
                        (best, bestScore) = (severity, cvss.Score);
                    }
                    break;
                }
            }
            if (SeverityNames.TryParse(advisory.DatabaseSeverity, out var label) && (best is null || label > best))
            {
                best = label;
                bestScore = null;
            }
        }
        return best is { } b ? (b, bestScore, null) : (Severity.None, null, "the advisory gives no severity (no CVSS vector or database rating)");
    }

    private static Severity FromScore(double score) => score switch
    {
        >= 9.0 => Severity.Critical,
        >= 7.0 => Severity.High,
        >= 4.0 => Severity.Medium,
        > 0 => Severity.Low,
        _ => Severity.None,
    };

    private static string? FirstLine(string? text) => text?.Split('\n', 2)[0].Trim();
}
