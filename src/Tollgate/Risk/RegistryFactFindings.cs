using System.Collections.Immutable;
using Tollgate.Ecosystems;
using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Risk;

/// <summary>
/// Findings a scan makes from registry metadata (asked for with <c>scan --registry-metadata</c>): a locked version
/// younger than <c>minimumReleaseAge</c> (TG4001), and the compromise signals of the locked version against the
/// version before it (TG4002–TG4007).
/// </summary>
public static class RegistryFactFindings
{
    /// <summary>The findings, and what could not be checked (a package whose metadata could not be had).</summary>
    public static async Task<(ImmutableArray<Finding> Findings, ImmutableArray<string> Problems)> FindAsync(
        DependencyGraph graph, IReadOnlyDictionary<Ecosystem, IPackageFactsSource> sources, TollgatePolicy policy, DateTimeOffset now,
        string? rulesDocumentationUri = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(policy);
        var components = graph.Components
            .Where(c => c.Resolved && c.Origin.Kind == OriginKind.Registry && sources.ContainsKey(c.Ecosystem) && !policy.IsPrivate(c))
            .ToList();
        var names = components.Select(c => (c.Ecosystem, Name: Component.NormalizeName(c.Ecosystem, c.Name), c.Name)).DistinctBy(n => (n.Ecosystem, n.Name)).ToList();
        var results = await Task.WhenAll(names.Select(n => sources[n.Ecosystem].GetAsync(n.Item3, cancellationToken))).ConfigureAwait(false);
        var facts = new Dictionary<(Ecosystem, string), PackageFacts>();
        var problems = ImmutableArray.CreateBuilder<string>();
        for (var i = 0; i < names.Count; i++)
        {
            if (results[i].Facts is { } f)
            {
                facts[(names[i].Ecosystem, names[i].Name)] = f;
            }
            else
            {
                problems.Add($"registry metadata of {names[i].Ecosystem.ToOsvName()} {names[i].Item3}: {results[i].Problem}");
            }
        }
        var findings = ImmutableArray.CreateBuilder<Finding>();
        foreach (var c in components)
        {
            if (!facts.TryGetValue((c.Ecosystem, Component.NormalizeName(c.Ecosystem, c.Name)), out var f) || f.Find(c.Version) is not { } locked)
            {
                continue;
            }
            if (!policy.IsExemptFromReleaseAge(c) && CompromiseSignals.Age(locked, now) is { } age && age < policy.MinimumReleaseAge)
            {
                findings.Add(Report(c, RegistryRules.ReleaseTooYoung, Severity.Medium,
                    $"{c.Name}@{c.Version} was published {CompromiseSignals.Describe(age)} ago, younger than minimumReleaseAge {PolicyDuration.Format(policy.MinimumReleaseAge)}",
                    $"published {locked.Published:yyyy-MM-ddTHH:mm:ssZ} according to {f.Registry}", rulesDocumentationUri));
            }
            var context = new SignalContext(policy.MinimumReleaseAge, now);
            foreach (var signal in CompromiseSignals.Compare(f, CompromiseSignals.Previous(f, locked), locked, context))
            {
                findings.Add(Report(c, signal.Id, signal.Severity, $"{c.Name}@{c.Version}: {RegistryRules.Find(signal.Id)!.Title.ToLowerInvariant()}", signal.Message, rulesDocumentationUri));
            }
        }
        return (findings.ToImmutable(), problems.ToImmutable());
    }

    private static Finding Report(Component component, string id, Severity severity, string summary, string evidence, string? docs) => new()
    {
        Kind = FindingKind.Signal,
        Id = id,
        Severity = severity,
        Summary = summary,
        Component = component,
        Evidence = evidence,
        HelpUri = docs is null ? null : $"{docs}#{id.ToLowerInvariant()}",
    };
}
