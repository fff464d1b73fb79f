using System.Collections.Immutable;
using Tollgate.Ecosystems;
using Tollgate.Graph;

namespace Tollgate.Advisories;

/// <summary>The answer for one version: affected or not, plus the ranges that could not be evaluated and why.</summary>
public sealed record OsvRangeVerdict(bool IsAffected, ImmutableArray<string> Unevaluated);

/// <summary>
/// Decides whether a version is affected per the OSV schema's evaluation algorithm: listed in
/// <c>versions</c>, or inside a range whose events, sorted in the range type's order, leave it
/// vulnerable (introduced inclusive, fixed exclusive, last_affected inclusive) and below a limit.
/// </summary>
public static class OsvRangeEvaluator
{
    /// <summary>Evaluates one <c>affected[]</c> entry of the given ecosystem for <paramref name="version"/>.</summary>
    public static OsvRangeVerdict Evaluate(Ecosystem ecosystem, string version, IEnumerable<AdvisoryRange> ranges, IEnumerable<string> versions)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(versions);
        var scheme = VersionSchemes.For(ecosystem);
        bool affected = IsListed(scheme, version, versions);
        var unevaluated = ImmutableArray.CreateBuilder<string>();
        foreach (var range in ranges)
        {
            if (range.Type == RangeType.Git)
            {
                continue;
            }
            var walk = Walk(ecosystem, range, version);
            if (walk.Problem is not null)
            {
                unevaluated.Add(walk.Problem);
            }
            affected |= walk.Affected;
        }
        return new OsvRangeVerdict(affected, unevaluated.ToImmutable());
    }

    /// <summary>True when <see cref="Evaluate"/> finds the version affected.</summary>
    public static bool IsAffected(Ecosystem ecosystem, string version, IEnumerable<AdvisoryRange> ranges, IEnumerable<string> versions) =>
        Evaluate(ecosystem, version, ranges, versions).IsAffected;

    /// <summary>
    /// The lowest <c>fixed</c> version above <paramref name="version"/>, taken from the ranges that
    /// affect it (or from all ranges when none does); null when there is none.
    /// </summary>
    public static string? LowestFixAbove(Ecosystem ecosystem, string version, IEnumerable<AdvisoryRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var evaluable = ranges.Where(r => r.Type != RangeType.Git).ToList();
        var affecting = evaluable.Where(r => Walk(ecosystem, r, version).Affected).ToList();
        string? best = null;
        IComparableVersion? bestParsed = null;
        foreach (var range in affecting.Count > 0 ? affecting : evaluable)
        {
            var scheme = SchemeOf(ecosystem, range.Type);
            if (!scheme.TryParse(version, out var installed))
            {
                continue;
            }
            foreach (var e in range.Events)
            {
                if (e.Kind == RangeEventKind.Fixed && scheme.TryParse(e.Version, out var fix)
                    && scheme.Compare(fix, installed) > 0
                    && (bestParsed is null || (bestParsed.GetType() == fix.GetType() && scheme.Compare(fix, bestParsed) < 0)))
                {
                    best = e.Version;
                    bestParsed = fix;
                }
            }
        }
        return best;
    }

    private static IVersionScheme SchemeOf(Ecosystem ecosystem, RangeType type) =>
        type == RangeType.Semver ? VersionSchemes.SemVer : VersionSchemes.For(ecosystem);

    /// <summary>OSV compares <c>v == version</c>; equal-by-ecosystem spellings (<c>1.0</c> and <c>1.0.0</c> on PyPI) count too.</summary>
    private static bool IsListed(IVersionScheme scheme, string version, IEnumerable<string> versions)
    {
        bool parsed = scheme.TryParse(version, out var installed);
        foreach (string listed in versions)
        {
            if (string.Equals(listed, version, StringComparison.Ordinal)
                || (parsed && scheme.TryParse(listed, out var other) && scheme.Compare(installed!, other) == 0))
            {
                return true;
            }
        }
        return false;
    }

    private readonly record struct WalkResult(bool Affected, string? Problem);

    /// <summary>A position on the range's axis: a version, or one of the ends "0" (introduced) and "*" (limit).</summary>
    private readonly record struct Point(RangeEvent Event, IComparableVersion? Version, int End);

    private static WalkResult Walk(Ecosystem ecosystem, AdvisoryRange range, string version)
    {
        var scheme = SchemeOf(ecosystem, range.Type);
        if (!scheme.TryParse(version, out var v))
        {
            return new WalkResult(false, $"'{version}' is not a valid {scheme.Name} version, so a {range.Type} range could not be evaluated");
        }
        var points = new List<Point>(range.Events.Length);
        foreach (var e in range.Events)
        {
            if (e.Kind == RangeEventKind.Introduced && e.Version == "0")
            {
                points.Add(new Point(e, null, -1));
            }
            else if (e.Kind == RangeEventKind.Limit && e.Version.Contains('*', StringComparison.Ordinal))
            {
                points.Add(new Point(e, null, 1));
            }
            else if (scheme.TryParse(e.Version, out var parsed))
            {
                points.Add(new Point(e, parsed, 0));
            }
            else
            {
                return new WalkResult(false, $"event version '{e.Version}' is not a valid {scheme.Name} version");
            }
        }

        int CompareToPoint(Point p) => p.End != 0 ? -p.End : scheme.Compare(v, p.Version!);

        var limits = points.Where(p => p.Event.Kind == RangeEventKind.Limit).ToList();
        if (limits.Count > 0 && !limits.Any(p => CompareToPoint(p) < 0))
        {
            return new WalkResult(false, null);
        }

        // A stable sort by version, as the schema's algorithm says: events at equal versions keep
        // their order in the record, so "introduced X, fixed X, introduced X" leaves X affected
        // (re-affected at the release that fixed it) and "introduced X, fixed X" does not.
        var sorted = points.OrderBy(p => p, Comparer<Point>.Create((a, b) => ComparePoints(scheme, a, b)));

        bool vulnerable = false;
        foreach (var p in sorted)
        {
            int c = CompareToPoint(p);
            switch (p.Event.Kind)
            {
                case RangeEventKind.Introduced when c >= 0:
                    vulnerable = true;
                    break;
                case RangeEventKind.Fixed when c >= 0:
                    vulnerable = false;
                    break;
                case RangeEventKind.LastAffected when c > 0:
                    vulnerable = false;
                    break;
            }
        }
        return new WalkResult(vulnerable, null);
    }

    private static int ComparePoints(IVersionScheme scheme, Point a, Point b)
    {
        if (a.End != 0 || b.End != 0)
        {
            return a.End.CompareTo(b.End);
        }
        return scheme.Compare(a.Version!, b.Version!);
    }
}
