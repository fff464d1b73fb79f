using System.Collections.Concurrent;
using System.Collections.Immutable;
using Tollgate.Advisories;
using Tollgate.Ecosystems;
using Tollgate.Ecosystems.Npm;
using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Policy;
using Tollgate.Risk;

namespace Tollgate.Updates;

/// <summary>
/// Plans updates of a graph's direct dependencies from registry facts and advisories: for each, the current, wanted
/// and latest versions, one proposal (security first, then in-range, then out-of-range), its compromise signals and
/// its auto-merge verdict with every reason; and, for vulnerable transitive dependencies, how to reach a fix.
/// </summary>
public sealed class UpdatePlanner(IReadOnlyDictionary<Ecosystem, IPackageFactsSource> sources, AdvisoryStore? advisories, UpdateSettings settings)
{
    private readonly ConcurrentDictionary<(Ecosystem, string), Task<FactsResult>> _facts = new();

    /// <summary>A direct dependency as a project declares it.</summary>
    private sealed record Direct(Component Component, string? Range, SourceLocation? Declared, string Project);

    public async Task<UpdatePlan> PlanAsync(DependencyGraph graph, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var directs = DirectDependencies(graph);
        var problems = new List<string>();
        var notes = new List<string>();
        foreach (var ecosystem in directs.Select(d => d.Component.Ecosystem).Distinct())
        {
            if (!sources.ContainsKey(ecosystem))
            {
                problems.Add($"no {ecosystem.ToOsvName()} registry is configured: {directs.Count(d => d.Component.Ecosystem == ecosystem)} direct dependency(ies) were not checked");
            }
        }
        var wanted = directs.Where(d => sources.ContainsKey(d.Component.Ecosystem)).Select(d => (d.Component.Ecosystem, d.Component.Name)).Distinct().ToList();
        var results = await Task.WhenAll(wanted.Select(w => Facts(w.Ecosystem, w.Name, cancellationToken))).ConfigureAwait(false);
        var facts = new Dictionary<(Ecosystem, string), PackageFacts>();
        for (var i = 0; i < wanted.Count; i++)
        {
            if (results[i].Facts is { } f)
            {
                facts[wanted[i]] = f;
                if (results[i].Problem is { } note)
                {
                    notes.Add(note);
                }
            }
            else
            {
                problems.Add($"{wanted[i].Ecosystem.ToOsvName()} {wanted[i].Name}: {results[i].Problem}");
            }
        }

        var findings = new Dictionary<string, List<Finding>>(StringComparer.Ordinal);
        Dictionary<(Ecosystem, string), IReadOnlyList<Advisory>> byPackage = [];
        if (advisories is not null)
        {
            foreach (var finding in new AdvisoryMatcher(advisories).Match(graph).Findings)
            {
                if (!findings.TryGetValue(finding.Component.Key, out var list))
                {
                    findings[finding.Component.Key] = list = [];
                }
                list.Add(finding);
            }
            byPackage = advisories.FindByPackages(directs.Select(d => (d.Component.Ecosystem, d.Component.Name)));
        }

        // First pass: what to propose. Second: the signals, which need the facts of dependencies the proposal adds.
        var drafts = new List<(Direct Direct, PackageFacts Facts, DependencyUpdate Update)>();
        foreach (var direct in directs)
        {
            var c = direct.Component;
            if (!facts.TryGetValue((c.Ecosystem, c.Name), out var f))
            {
                continue;
            }
            var advisoriesOf = byPackage.GetValueOrDefault((c.Ecosystem, Component.NormalizeName(c.Ecosystem, c.Name))) ?? [];
            drafts.Add((direct, f, Propose(direct, f, findings.GetValueOrDefault(c.Key) ?? [], advisoriesOf)));
        }
        var newDependencies = drafts
            .Where(d => d.Update.Proposed is not null)
            .SelectMany(d => AddedDependencies(d.Facts, d.Update).Select(n => (d.Facts.Ecosystem, n)))
            .Distinct().ToList();
        var dependencyFacts = new Dictionary<(Ecosystem, string), PackageFacts?>();
        var dependencyResults = await Task.WhenAll(newDependencies.Select(n => Facts(n.Ecosystem, n.n, cancellationToken))).ConfigureAwait(false);
        for (var i = 0; i < newDependencies.Count; i++)
        {
            if (dependencyResults[i].Facts is null && !dependencyResults[i].NotFound)
            {
                problems.Add($"{newDependencies[i].Ecosystem.ToOsvName()} {newDependencies[i].n} (a new dependency of a proposed version): {dependencyResults[i].Problem}");
            }
            dependencyFacts[newDependencies[i]] = dependencyResults[i].Facts;
        }

        var updates = new List<DependencyUpdate>();
        foreach (var (direct, f, draft) in drafts)
        {
            var update = draft;
            if (update.Proposed is { } proposed && f.Find(proposed) is { } candidate)
            {
                var context = new SignalContext(settings.MinimumAge, settings.Now, name => dependencyFacts.GetValueOrDefault((f.Ecosystem, name)));
                var signals = CompromiseSignals.Compare(f, f.Find(update.Current) ?? CompromiseSignals.Previous(f, candidate), candidate, context);
                update = Verdict(update with { Signals = signals }, candidate, byPackage.GetValueOrDefault((f.Ecosystem, Component.NormalizeName(f.Ecosystem, f.Name))) ?? [], direct.Component);
            }
            if (update.Proposed is not null || update.Reasons.Length > 0)
            {
                updates.Add(update);
            }
        }
        var ordered = updates.OrderBy(u => u.Kind == ProposalKind.None ? 9 : (int)u.Kind).ThenBy(u => u.Ecosystem).ThenBy(u => u.Name, StringComparer.Ordinal).ToImmutableArray();
        var groups = ordered.Where(u => u.Group is not null).GroupBy(u => u.Group!)
            .Select(g => new UpdateGroup(g.Key, [.. g.Select(u => u.Name).Distinct()], g.All(u => u.Automerge)))
            .ToImmutableArray();
        if (advisories is null)
        {
            notes.Add("advisories were not checked: no security proposals and no advisory condition in the verdicts");
        }
        return new UpdatePlan
        {
            Updates = ordered,
            Transitive = Transitive(graph, findings, directs),
            Groups = groups,
            Problems = [.. problems],
            Notes = [.. notes.Distinct()],
            Checked = directs.Count,
            AdvisoriesChecked = advisories is not null,
        };
    }

    private Task<FactsResult> Facts(Ecosystem ecosystem, string name, CancellationToken cancellationToken) =>
        _facts.GetOrAdd((ecosystem, Component.NormalizeName(ecosystem, name)), _ =>
            sources.TryGetValue(ecosystem, out var source)
                ? source.GetAsync(name, cancellationToken)
                : Task.FromResult(new FactsResult(null, $"no {ecosystem.ToOsvName()} registry is configured")));

    /// <summary>The registry dependencies each project declares directly, with their declared ranges where the manifest is readable.</summary>
    private static List<Direct> DirectDependencies(DependencyGraph graph)
    {
        var result = new List<Direct>();
        var seen = new HashSet<(string, string)>();
        foreach (var root in graph.Roots)
        {
            Dictionary<string, Tollgate.Ecosystems.Npm.DeclaredDependency>? declared = null;
            if (root.Ecosystem == Ecosystem.Npm && root.Files.FirstOrDefault(f => Path.GetFileName(f) == "package.json") is { } manifest)
            {
                declared = PackageJson.Read(manifest, new DiagnosticBag())?.Dependencies
                    .GroupBy(d => d.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            }
            foreach (var key in graph.ChildrenOf(root.Key))
            {
                if (graph.Find(key) is not { } c || c.Origin.Kind != OriginKind.Registry || !c.Resolved || c.Ecosystem == Ecosystem.Generic)
                {
                    continue;
                }
                if (!seen.Add((root.Key, c.Key)))
                {
                    continue;
                }
                string? range = null;
                SourceLocation? location = c.Locations.IsEmpty ? null : c.Locations[0];
                if (declared is not null && declared.TryGetValue(c.Name, out var d))
                {
                    range = d.Spec;
                    location = d.Location;
                }
                else if (c.Ecosystem == Ecosystem.PyPI)
                {
                    range = PythonRange(c) ?? "==" + c.Version;
                    location = PythonLocation(c) ?? location;
                }
                else if (c.Ecosystem == Ecosystem.NuGet)
                {
                    range = "[" + c.Version + ",)";
                }
                result.Add(new Direct(c, range, location, root.AuthoritativeFile));
            }
        }
        return result;
    }

    private static SourceLocation? PythonLocation(Component c) =>
        c.Locations.FirstOrDefault(l => Path.GetFileName(l.File).EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(l.File).EndsWith(".in", StringComparison.OrdinalIgnoreCase));

    /// <summary>The specifier a requirements line declares, read back from the line the reader recorded.</summary>
    private static string? PythonRange(Component c)
    {
        if (PythonLocation(c) is not { Line: > 0 } location)
        {
            return null;
        }
        try
        {
            var lines = File.ReadAllLines(location.File);
            if (location.Line > lines.Length)
            {
                return null;
            }
            var text = lines[location.Line - 1];
            var cut = text.IndexOfAny(['#', '\\']);
            text = (cut >= 0 ? text[..cut] : text).Split(" --", 2)[0].Trim();
            return PythonRequirement.TryParse(text, out var requirement, out _, out _) && requirement.Specifier.Length > 0 ? requirement.Specifier : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed record Candidate(VersionFacts Facts, IComparableVersion Version);

    private DependencyUpdate Propose(Direct direct, PackageFacts facts, List<Finding> findings, IReadOnlyList<Advisory> advisoriesOf)
    {
        var c = direct.Component;
        var scheme = VersionSchemes.For(c.Ecosystem);
        var update = new DependencyUpdate
        {
            Ecosystem = c.Ecosystem,
            Name = c.Name,
            Current = c.Version,
            Range = direct.Range,
            Declared = direct.Declared,
            Project = direct.Project,
            ReleaseNotes = facts.ReleaseNotes,
        };
        if (!scheme.TryParse(c.Version, out var current))
        {
            return update with { Reasons = [$"the current version {c.Version} is not a {c.Ecosystem.ToOsvName()} version"] };
        }
        var exempt = settings.IsExemptFromAge?.Invoke(c) == true || settings.MinimumAge <= TimeSpan.Zero;
        var cutoff = exempt ? (DateTimeOffset?)null : settings.Now - settings.MinimumAge;
        var all = facts.Versions
            .Select(v => scheme.TryParse(v.Version, out var p) ? new Candidate(v, p) : null)
            .OfType<Candidate>()
            .OrderBy(x => x.Version, Comparer<IComparableVersion>.Create(scheme.Compare))
            .ToList();
        bool Aged(Candidate x) => cutoff is null || x.Facts.Published is null || x.Facts.Published <= cutoff;
        bool Stable(Candidate x) => !x.Version.IsPrerelease || current.IsPrerelease;
        bool InRange(Candidate x) => direct.Range is { Length: > 0 } r && scheme.Satisfies(x.Version, r);

        var wanted = Wanted(facts, direct.Range, all, null);
        var wantedAged = Wanted(facts, direct.Range, all, cutoff);
        var latest = Latest(facts, all, null, Stable);
        var latestAged = Latest(facts, all, cutoff, Stable);
        update = update with { Wanted = wanted?.Version, Latest = latest?.Facts.Version };

        // Security: the lowest version that fixes every advisory hitting the current one, in range when possible.
        var hits = findings.Where(f => f.Kind is FindingKind.Vulnerability or FindingKind.Malicious).ToList();
        if (hits.Count > 0)
        {
            var ids = hits.SelectMany(h => h.AllIds).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var relevant = advisoriesOf.Where(a => !a.IsWithdrawn && a.Aliases.Append(a.Id).Any(ids.Contains)).ToList();
            bool Fixes(Candidate x) => relevant.All(a => !a.AffectedFor(c.Ecosystem, c.Name).Any(e => OsvRangeEvaluator.IsAffected(c.Ecosystem, x.Facts.Version, e.Ranges, e.Versions)));
            var fixing = all.Where(x => scheme.Compare(x.Version, current) > 0 && Stable(x) && !x.Facts.Yanked && Fixes(x)
                && (!settings.StrictAge || Aged(x))).ToList();
            var fix = fixing.FirstOrDefault(InRange) ?? fixing.FirstOrDefault();
            var fixedIds = hits.Select(h => h.Id).Distinct().Order(StringComparer.Ordinal).ToImmutableArray();
            if (fix is null)
            {
                return update with
                {
                    Kind = ProposalKind.None,
                    Security = fixedIds,
                    Reasons = [$"no {(settings.StrictAge ? "sufficiently old " : "")}version fixes {string.Join(", ", fixedIds)}: the current version stays vulnerable"],
                };
            }
            return Finish(update with { Security = fixedIds }, fix, current, ProposalKind.Security, scheme);
        }
        if (wantedAged is not null && scheme.TryParse(wantedAged.Version, out var w) && scheme.Compare(w, current) > 0)
        {
            return Finish(update, all.First(x => x.Facts == wantedAged), current, ProposalKind.InRange, scheme);
        }
        if (latestAged is not null && scheme.Compare(latestAged.Version, current) > 0)
        {
            return Finish(update, latestAged, current, InRange(latestAged) && direct.Range is not null && c.Ecosystem != Ecosystem.NuGet ? ProposalKind.InRange : ProposalKind.OutOfRange, scheme);
        }
        if (latest is not null && scheme.Compare(latest.Version, current) > 0)
        {
            var age = CompromiseSignals.Age(latest.Facts, settings.Now);
            return update with
            {
                Reasons = [$"{latest.Facts.Version} is newer but was published {(age is { } a ? CompromiseSignals.Describe(a) + " ago" : "at an unknown time")}, within the cooldown (minimumReleaseAge {PolicyDuration.Format(settings.MinimumAge)}): not proposed yet"],
            };
        }
        return update;
    }

    private DependencyUpdate Finish(DependencyUpdate update, Candidate proposed, IComparableVersion current, ProposalKind kind, IVersionScheme scheme)
    {
        var type = TypeOf(current.Normalized, proposed.Version.Normalized);
        var group = kind == ProposalKind.Security ? $"security-{update.Ecosystem.ToOsvName().ToLowerInvariant()}-{update.Name}" : $"{update.Ecosystem.ToOsvName().ToLowerInvariant()}-{type.ToName()}";
        return update with
        {
            Proposed = proposed.Facts.Version,
            Kind = kind,
            UpdateType = type,
            Group = group,
            ProposedPublished = proposed.Facts.Published,
        };
    }

    /// <summary>The auto-merge verdict: true only when the update type is allowed, the version is aged, no signal fired and no advisory hits it.</summary>
    private DependencyUpdate Verdict(DependencyUpdate update, VersionFacts candidate, IReadOnlyList<Advisory> advisoriesOf, Component component)
    {
        var yes = new List<string>();
        var no = new List<string>();
        if (update.Kind == ProposalKind.Security)
        {
            yes.Add($"security update: fixes {string.Join(", ", update.Security)}");
        }
        if (settings.AutomergeTypes.Contains(update.UpdateType))
        {
            yes.Add($"{update.UpdateType.ToName()} update");
        }
        else
        {
            no.Add(settings.AutomergeTypes.IsEmpty
                ? $"{update.UpdateType.ToName()} update: the policy's automerge list is empty"
                : $"{update.UpdateType.ToName()} update: auto-merge takes only {string.Join(" and ", settings.AutomergeTypes.Order().Select(t => t.ToName()))} updates (policy key automerge)");
        }
        var exempt = settings.IsExemptFromAge?.Invoke(component) == true;
        var age = CompromiseSignals.Age(candidate, settings.Now);
        if (exempt || settings.MinimumAge <= TimeSpan.Zero)
        {
            yes.Add("release age not required for this package");
        }
        else if (age is null)
        {
            no.Add($"the registry does not say when {candidate.Version} was published, so its age cannot be checked");
        }
        else if (age < settings.MinimumAge)
        {
            var text = $"{candidate.Version} was published {CompromiseSignals.Describe(age.Value)} ago, younger than minimumReleaseAge {PolicyDuration.Format(settings.MinimumAge)}";
            no.Add(update.Kind == ProposalKind.Security && !settings.StrictAge ? text + " (proposed anyway: security fixes are exempt from the cooldown)" : text);
        }
        else
        {
            yes.Add($"published {CompromiseSignals.Describe(age.Value)} ago (minimumReleaseAge {PolicyDuration.Format(settings.MinimumAge)})");
        }
        if (update.Signals.IsEmpty)
        {
            yes.Add("no compromise signal");
        }
        else
        {
            no.AddRange(update.Signals.Select(s => $"{s.Id}: {s.Message}"));
        }
        if (advisories is null)
        {
            no.Add("advisories were not checked");
        }
        else
        {
            var hitting = advisoriesOf.Where(a => !a.IsWithdrawn && a.AffectedFor(update.Ecosystem, update.Name)
                .Any(e => OsvRangeEvaluator.IsAffected(update.Ecosystem, candidate.Version, e.Ranges, e.Versions))).Select(a => a.Id).ToList();
            if (hitting.Count > 0)
            {
                no.Add($"{candidate.Version} is affected by {string.Join(", ", hitting)}");
            }
            else
            {
                yes.Add($"no known advisory affects {candidate.Version}");
            }
        }
        return update with { Automerge = no.Count == 0, Reasons = [.. no, .. yes] };
    }

    private VersionFacts? Wanted(PackageFacts facts, string? range, List<Candidate> all, DateTimeOffset? before)
    {
        if (facts.Ecosystem == Ecosystem.Npm)
        {
            return range is null ? null : NpmPickManifest.Pick(facts, range, before, settings.NodeVersion);
        }
        if (range is null)
        {
            return null;
        }
        var scheme = VersionSchemes.For(facts.Ecosystem);
        var matching = all.Where(x => !x.Facts.Yanked && !x.Version.IsPrerelease && (before is null || x.Facts.Published is null || x.Facts.Published <= before) && scheme.Satisfies(x.Version, range));
        // pip takes the highest satisfying version; NuGet the lowest.
        return (facts.Ecosystem == Ecosystem.NuGet ? matching.FirstOrDefault() : matching.LastOrDefault())?.Facts;
    }

    /// <summary>
    /// The newest version: for npm what <c>npm outdated</c> calls latest (npm-pick-manifest for <c>*</c>: the latest tag
    /// unless it is deprecated or its node engine does not fit, then the best other version); elsewhere the highest
    /// stable, non-yanked, non-deprecated version.
    /// </summary>
    private Candidate? Latest(PackageFacts facts, List<Candidate> all, DateTimeOffset? before, Func<Candidate, bool> stable)
    {
        if (facts.Ecosystem == Ecosystem.Npm)
        {
            var picked = NpmPickManifest.Pick(facts, "*", before, settings.NodeVersion);
            return picked is null ? null : all.FirstOrDefault(x => ReferenceEquals(x.Facts, picked));
        }
        bool Old(Candidate x) => before is null || x.Facts.Published is null || x.Facts.Published <= before;
        return all.LastOrDefault(x => Old(x) && stable(x) && !x.Facts.Yanked && x.Facts.Deprecated is null);
    }

    /// <summary>Names the proposed version depends on and the current one does not.</summary>
    private static IEnumerable<string> AddedDependencies(PackageFacts facts, DependencyUpdate update)
    {
        if (facts.Find(update.Proposed!)?.Dependencies is not { } proposed || facts.Find(update.Current)?.Dependencies is not { } current)
        {
            return [];
        }
        return proposed.Keys.Where(k => !current.ContainsKey(k));
    }

    /// <summary>patch / minor / major between two versions by their leading numbers (PEP 440 and NuGet versions too).</summary>
    public static UpdateType TypeOf(string from, string to)
    {
        var a = Numbers(from);
        var b = Numbers(to);
        if (a[0] != b[0])
        {
            return UpdateType.Major;
        }
        // node-semver and Dependabot treat 0.x minors as breaking: 0.3 → 0.4 is a major step.
        if (a[1] != b[1])
        {
            return a[0] == 0 ? UpdateType.Major : UpdateType.Minor;
        }
        return from == to ? UpdateType.None : UpdateType.Patch;
    }

    private static long[] Numbers(string version)
    {
        var result = new long[3];
        var part = 0;
        var i = 0;
        var text = version.TrimStart('v', '=');
        var bang = text.IndexOf('!', StringComparison.Ordinal);
        if (bang >= 0)
        {
            text = text[(bang + 1)..];
        }
        while (part < 3 && i < text.Length)
        {
            long n = 0;
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]) && i - start < 18)
            {
                n = n * 10 + (text[i] - '0');
                i++;
            }
            if (i == start)
            {
                break;
            }
            result[part++] = n;
            if (i < text.Length && text[i] == '.')
            {
                i++;
                continue;
            }
            break;
        }
        return result;
    }

    /// <summary>For each vulnerable transitive dependency: the direct dependency that pulls it in, and how to reach the fix.</summary>
    private static ImmutableArray<TransitiveFix> Transitive(DependencyGraph graph, Dictionary<string, List<Finding>> findings, List<Direct> directs)
    {
        var directKeys = directs.Select(d => d.Component.Key).ToHashSet(StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<TransitiveFix>();
        foreach (var (key, list) in findings.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (directKeys.Contains(key) || graph.Find(key) is not { } c)
            {
                continue;
            }
            var path = graph.ShortestPathTo(key);
            var via = path.Length >= 2 && graph.Find(path[1]) is { } v ? v.Name : "(unknown)";
            var fixes = list.SelectMany(f => f.FixedIn).ToList();
            var scheme = VersionSchemes.For(c.Ecosystem);
            // Every advisory must be fixed: the highest of each advisory's lowest fix.
            var fix = list.All(f => !f.FixedIn.IsEmpty)
                ? list.Select(f => f.FixedIn[0]).OrderBy(x => x, Comparer<string>.Create((x, y) => scheme.TryParse(x, out var px) && scheme.TryParse(y, out var py) ? scheme.Compare(px, py) : string.CompareOrdinal(x, y))).Last()
                : null;
            var advice = fix is null
                ? $"no fixed version is known; remove or replace {via}, which pulls {c.Name} in"
                : c.Ecosystem switch
                {
                    Ecosystem.Npm => $"update {via} to a version that depends on {c.Name} >= {fix}, or add to package.json \"overrides\": {{ \"{c.Name}\": \"^{fix}\" }} (yarn: \"resolutions\"; pnpm: \"pnpm\": {{ \"overrides\" }})",
                    Ecosystem.PyPI => $"update {via}, or add the constraint {c.Name}>={fix} to your requirements or constraints file",
                    Ecosystem.NuGet => $"update {via}, or reference {c.Name} {fix} directly (a PackageReference, or CentralPackageTransitivePinningEnabled with a PackageVersion)",
                    _ => $"update {via}",
                };
            result.Add(new TransitiveFix(c.Ecosystem, c.Name, c.Version, fix, [.. list.Select(f => f.Id).Distinct()], via, advice));
        }
        return result.ToImmutable();
    }
}
