using System.Collections.Immutable;
using System.Text.Json.Nodes;
using NuGet.Versioning;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Tests.Versions;

namespace Tollgate.Tests.Advisories;

public sealed class OsvRangeEvaluatorTests
{
    private static AdvisoryRange Range(RangeType type, params (RangeEventKind Kind, string Version)[] events) =>
        AdvisoryRange.Of(type, [.. events.Select(e => new RangeEvent(e.Kind, e.Version))]);

    private const RangeEventKind I = RangeEventKind.Introduced;
    private const RangeEventKind F = RangeEventKind.Fixed;
    private const RangeEventKind L = RangeEventKind.LastAffected;
    private const RangeEventKind Lim = RangeEventKind.Limit;

    /// <summary>The OSV schema's own examples (Evaluation and Examples sections).</summary>
    [Theory]
    [InlineData("0.0.1", false)]
    [InlineData("1.0.1", true)]
    [InlineData("1.0.2", false)]
    [InlineData("2.9.9", false)]
    [InlineData("3.0.0", true)]
    [InlineData("3.2.4", true)]
    [InlineData("3.2.5", false)]
    [InlineData("1.0.0", true)]
    [InlineData("0.9.9", false)]
    public void OsvRangeEvaluator_SchemaMultipleRangeExample_MatchesSchema(string version, bool expected)
    {
        var range = Range(RangeType.Semver, (I, "1.0.0"), (F, "1.0.2"), (I, "3.0.0"), (F, "3.2.5"));
        Assert.Equal(expected, OsvRangeEvaluator.IsAffected(Ecosystem.Npm, version, [range], []));
    }

    [Theory]
    [InlineData("2.1.214", true, false)]
    [InlineData("2.1.213", true, true)]
    [InlineData("2.1.215", false, false)]
    [InlineData("0.0.0", true, true)]
    public void OsvRangeEvaluator_LastAffectedVersusFixed_InclusiveVersusExclusive(string version, bool lastAffected, bool fixedRange)
    {
        Assert.Equal(lastAffected, OsvRangeEvaluator.IsAffected(Ecosystem.Npm, version, [Range(RangeType.Ecosystem, (I, "0"), (L, "2.1.214"))], []));
        Assert.Equal(fixedRange, OsvRangeEvaluator.IsAffected(Ecosystem.Npm, version, [Range(RangeType.Semver, (I, "0"), (F, "2.1.214"))], []));
    }

    [Fact]
    public void OsvRangeEvaluator_UnsortedEvents_AreSortedByEcosystemOrder()
    {
        // PEP 440 order: 1.0rc1 < 1.0 < 1.0.post1; lexical order would differ.
        var range = Range(RangeType.Ecosystem, (F, "1.0.post1"), (I, "1.0rc1"));
        Assert.True(OsvRangeEvaluator.IsAffected(Ecosystem.PyPI, "1.0", [range], []));
        Assert.True(OsvRangeEvaluator.IsAffected(Ecosystem.PyPI, "1.0rc1", [range], []));
        Assert.False(OsvRangeEvaluator.IsAffected(Ecosystem.PyPI, "1.0.post1", [range], []));
        Assert.False(OsvRangeEvaluator.IsAffected(Ecosystem.PyPI, "1.0b9", [range], []));
    }

    [Fact]
    public void OsvRangeEvaluator_Limit_BoundsTheRange()
    {
        var range = Range(RangeType.Ecosystem, (I, "0"), (Lim, "2.0.0"));
        Assert.True(OsvRangeEvaluator.IsAffected(Ecosystem.NuGet, "1.9.9", [range], []));
        Assert.False(OsvRangeEvaluator.IsAffected(Ecosystem.NuGet, "2.0.0", [range], []));
        var star = Range(RangeType.Ecosystem, (I, "1.0.0"), (Lim, "*"));
        Assert.True(OsvRangeEvaluator.IsAffected(Ecosystem.NuGet, "99.0.0", [star], []));
    }

    [Fact]
    public void OsvRangeEvaluator_VersionsList_MatchesExactAndEquivalentSpellings()
    {
        Assert.True(OsvRangeEvaluator.IsAffected(Ecosystem.PyPI, "1.0.0", [], ["1.0"]));
        Assert.True(OsvRangeEvaluator.IsAffected(Ecosystem.NuGet, "1.0.0", [], ["1.0"]));
        Assert.False(OsvRangeEvaluator.IsAffected(Ecosystem.Npm, "1.0.1", [], ["1.0.0"]));
        Assert.True(OsvRangeEvaluator.IsAffected(Ecosystem.Npm, "not-a-version", [], ["not-a-version"]));
    }

    [Fact]
    public void OsvRangeEvaluator_GitRange_IsIgnored()
    {
        var git = Range(RangeType.Git, (I, "0"));
        Assert.False(OsvRangeEvaluator.IsAffected(Ecosystem.Npm, "1.0.0", [git], []));
    }

    [Fact]
    public void OsvRangeEvaluator_UnparseableVersion_IsReportedNotThrown()
    {
        var verdict = OsvRangeEvaluator.Evaluate(Ecosystem.Npm, "1.0.0", [Range(RangeType.Semver, (I, "0"), (F, "banana"))], []);
        Assert.False(verdict.IsAffected);
        Assert.Contains("banana", Assert.Single(verdict.Unevaluated), StringComparison.Ordinal);

        // A SEMVER range orders by SemVer even on PyPI; a PEP 440-only version cannot be placed in it.
        var pypi = OsvRangeEvaluator.Evaluate(Ecosystem.PyPI, "1.0rc1", [Range(RangeType.Semver, (I, "0"), (F, "2.0.0"))], []);
        Assert.False(pypi.IsAffected);
        Assert.Single(pypi.Unevaluated);
    }

    [Fact]
    public void OsvRangeEvaluator_SemverRangeOnPyPI_UsesSemVerPrecedence()
    {
        // Under SemVer 1.0.0-rc.1 < 1.0.0; the PyPI scheme could not parse "1.0.0-rc.1" the same way.
        var range = Range(RangeType.Semver, (I, "1.0.0-rc.1"), (F, "1.0.0"));
        Assert.True(OsvRangeEvaluator.IsAffected(Ecosystem.PyPI, "1.0.0-rc.2", [range], []));
        Assert.False(OsvRangeEvaluator.IsAffected(Ecosystem.PyPI, "1.0.0", [range], []));
    }

    [Theory]
    [InlineData("1.2.0", "1.5.0")]
    [InlineData("2.1.0", "2.3.0")]
    [InlineData("3.0.0", null)]
    public void OsvRangeEvaluator_LowestFixAbove_PicksTheBranchFix(string installed, string? expected)
    {
        var ranges = ImmutableArray.Create(
            Range(RangeType.Ecosystem, (I, "2.0.0"), (F, "2.3.0")),
            Range(RangeType.Ecosystem, (I, "1.0.0"), (F, "1.5.0")));
        Assert.Equal(expected, OsvRangeEvaluator.LowestFixAbove(Ecosystem.Npm, installed, ranges));
    }

    /// <summary>
    /// Random OSV event lists on npm, checked against node-semver: each list is rewritten as the
    /// equivalent node-semver range (union of [introduced, next fix) intervals, all below a limit),
    /// which node-semver with includePrerelease evaluates by plain SemVer precedence.
    /// </summary>
    [Fact]
    public void OsvRangeEvaluator_RandomNpmEvents_AgreeWithNodeSemverIntervals()
    {
        var random = new Random(7);
        var cases = new List<(JsonObject Query, string Version, AdvisoryRange Range)>();
        for (int i = 0; i < 2500; i++)
        {
            var range = RandomRange(random, () => NpmGenerator.Version(random).TrimStart('v'), s => Tollgate.Ecosystems.Npm.NpmVersion.TryParse(s, out var v) ? v : null);
            if (range is null)
            {
                continue;
            }
            string version = NpmGenerator.Version(random);
            if (!Tollgate.Ecosystems.Npm.NpmVersion.TryParse(version, out _))
            {
                continue;
            }
            string nodeRange = ToNodeRange(range.Value.Intervals, range.Value.Limits);
            cases.Add((new JsonObject { ["op"] = "sat", ["v"] = version, ["r"] = nodeRange, ["ip"] = true }, version, range.Value.Range));
        }
        var answers = ReferenceOracle.RunNode([.. cases.Select(c => c.Query)]);
        var mismatches = new List<string>();
        int affected = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            bool ours = OsvRangeEvaluator.IsAffected(Ecosystem.Npm, cases[i].Version, [cases[i].Range], []);
            bool theirs = ReferenceOracle.Ok(answers[i]) && answers[i]["r"]!.GetValue<bool>();
            affected += theirs ? 1 : 0;
            if (ours != theirs)
            {
                mismatches.Add($"{cases[i].Version} in {string.Join(", ", cases[i].Range.Events)} (node range '{cases[i].Query["r"]}'): ours {ours}, node {answers[i].ToJsonString()}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} disagree:\n" + string.Join('\n', mismatches.Take(30)));
        Assert.InRange(affected, cases.Count / 20, cases.Count - (cases.Count / 20));
    }

    /// <summary>Random OSV event lists on NuGet against NuGet.Versioning's own VersionRange for the same intervals.</summary>
    [Fact]
    public void OsvRangeEvaluator_RandomNuGetEvents_AgreeWithNuGetVersionRange()
    {
        var random = new Random(8);
        string[] pool = ["0.9.0", "1.0.0-alpha", "1.0.0-beta.2", "1.0.0", "1.0", "1.0.0.1", "1.0.1", "1.1.0-rc.1", "1.1.0", "1.2.0", "2.0.0-preview.1", "2.0.0", "2.0.0+meta", "2.1.0", "3.0.0"];
        int checkedCount = 0, affected = 0;
        var mismatches = new List<string>();
        for (int i = 0; i < 3000; i++)
        {
            var range = RandomRange(random, () => pool[random.Next(pool.Length)], s => NuGetVersion.TryParse(s, out var v) ? v : null);
            if (range is null)
            {
                continue;
            }
            var version = NuGetVersion.Parse(pool[random.Next(pool.Length)]);
            bool reference = range.Value.Intervals.Any(iv => (iv.NuGet == "(,)" ? VersionRange.All : VersionRange.Parse(iv.NuGet)).Satisfies(version))
                && (range.Value.Limits.Count == 0 || range.Value.Limits.Any(l => l == "*" || VersionComparer.Default.Compare(version, NuGetVersion.Parse(l)) < 0));
            bool ours = OsvRangeEvaluator.IsAffected(Ecosystem.NuGet, version.OriginalVersion!, [range.Value.Range], []);
            checkedCount++;
            affected += reference ? 1 : 0;
            if (ours != reference)
            {
                mismatches.Add($"{version.OriginalVersion} in {string.Join(", ", range.Value.Range.Events)}: ours {ours}, NuGet {reference}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {checkedCount} disagree:\n" + string.Join('\n', mismatches.Take(30)));
        Assert.InRange(affected, checkedCount / 20, checkedCount - (checkedCount / 20));
    }

    private sealed record Interval(string? From, string? To, bool ToInclusive)
    {
        public string NuGet => (From, To) switch
        {
            (null, null) => "(,)",
            (null, _) => $"(,{To}{(ToInclusive ? "]" : ")")}",
            (_, null) => $"[{From},)",
            _ => $"[{From},{To}{(ToInclusive ? "]" : ")")}",
        };
    }

    /// <summary>
    /// A random event list (shuffled, as OSV allows) and its meaning as intervals: after sorting, each
    /// introduced opens an interval closed by the next fixed or last_affected.
    /// </summary>
    private static (AdvisoryRange Range, List<Interval> Intervals, List<string> Limits)? RandomRange<T>(Random random, Func<string> version, Func<string, T?> parse)
        where T : class, IComparable<T>
    {
        var points = new List<(RangeEventKind Kind, string Text, T Parsed)>();
        var distinct = new HashSet<T>();
        int pairs = random.Next(1, 3);
        bool useLastAffected = random.Next(4) == 0;
        var events = new List<RangeEvent>();
        var texts = Enumerable.Range(0, pairs * 2).Select(_ => version()).ToList();
        var parsed = texts.Select(parse).ToList();
        if (parsed.Any(p => p is null) || parsed.Select(p => p!).Distinct(new CompareEquality<T>()).Count() != parsed.Count)
        {
            return null;
        }
        var order = texts.Zip(parsed).OrderBy(x => x.Second!).ToList();
        var intervals = new List<Interval>();
        bool fromZero = random.Next(3) == 0;
        for (int p = 0; p < pairs; p++)
        {
            string from = order[2 * p].First;
            string to = order[(2 * p) + 1].First;
            bool open = p == pairs - 1 && random.Next(4) == 0;
            string? fromText = p == 0 && fromZero ? null : from;
            events.Add(new RangeEvent(RangeEventKind.Introduced, fromText ?? "0"));
            if (!open)
            {
                events.Add(new RangeEvent(useLastAffected ? RangeEventKind.LastAffected : RangeEventKind.Fixed, to));
            }
            intervals.Add(new Interval(fromText, open ? null : to, useLastAffected));
        }
        var limits = new List<string>();
        if (random.Next(6) == 0)
        {
            string limit = random.Next(3) == 0 ? "*" : version();
            if (limit != "*" && parse(limit) is null)
            {
                return null;
            }
            limits.Add(limit);
            events.Add(new RangeEvent(RangeEventKind.Limit, limit));
        }
        var shuffled = events.OrderBy(_ => random.Next()).ToImmutableArray();
        return (AdvisoryRange.Of(RangeType.Ecosystem, shuffled), intervals, limits);
    }

    private sealed class CompareEquality<T> : IEqualityComparer<T>
        where T : IComparable<T>
    {
        public bool Equals(T? x, T? y) => x!.CompareTo(y) == 0;

        public int GetHashCode(T obj) => 0;
    }

    private static string ToNodeRange(List<Interval> intervals, List<string> limits)
    {
        string limit = limits.Count == 0 || limits[0] == "*" ? "" : " <" + limits[0];
        return string.Join(" || ", intervals.Select(iv =>
        {
            string text = (iv.From is null ? ">=0.0.0-0" : ">=" + iv.From) + (iv.To is null ? "" : (iv.ToInclusive ? " <=" : " <") + iv.To) + limit;
            return text;
        }));
    }
}
