using System.Collections.Immutable;
using Tollgate.Advisories;
using Tollgate.Ecosystems;
using Tollgate.Graph;

namespace Tollgate.Inventory;

/// <summary>A parsed <c>inventory affected</c> query: a package (by name, with an optional version or range) or an advisory id.</summary>
/// <param name="Ecosystem">Restricts the search to one ecosystem (a purl's type); null for every ecosystem.</param>
/// <param name="Name">The package name; null for an advisory query.</param>
/// <param name="Constraint">A version or a range in the ecosystem's native syntax; null for every version.</param>
/// <param name="AdvisoryId">An advisory id or alias (GHSA-, CVE-, PYSEC-, MAL-...); null for a package query.</param>
public sealed record AffectedQuery(Ecosystem? Ecosystem, string? Name, string? Constraint, string? AdvisoryId)
{
    /// <summary>
    /// Reads <c>pkg:npm/axios@1.6.0</c>, <c>NAME</c>, <c>NAME@VERSION</c>, <c>NAME@RANGE</c> (<c>axios@&lt;1.6.0</c>,
    /// <c>requests@&lt;2.32</c>, <c>Newtonsoft.Json@[,13.0.1)</c>) or an advisory id (<c>GHSA-…</c>, <c>CVE-…</c>).
    /// </summary>
    public static bool TryParse(string text, out AffectedQuery? query, out string? error)
    {
        text = text.Trim();
        query = null;
        error = null;
        if (text.StartsWith("pkg:", StringComparison.OrdinalIgnoreCase))
        {
            if (!PackageUrl.TryParse(text, out var purl, out var purlError) || !EcosystemNames.TryParse(purl.Type, out var eco))
            {
                error = $"'{text}' is not a purl of a supported ecosystem (npm, pypi, nuget){(purlError is null ? "" : ": " + purlError)}";
                return false;
            }
            query = new AffectedQuery(eco, purl.FullName, purl.Version, null);
            return true;
        }
        if (LooksLikeAdvisoryId(text))
        {
            query = new AffectedQuery(null, null, null, text);
            return true;
        }
        // The last '@' after the first character splits name and constraint; a leading '@' is an npm scope.
        var at = text.IndexOf('@', 1);
        var (name, constraint) = at > 0 ? (text[..at], text[(at + 1)..]) : (text, null);
        if (name.IndexOfAny(['<', '>', '=', '~', '^', '[', '(', '!', ' ']) >= 0)
        {
            error = $"'{text}': write a range after an '@', e.g. requests@<2.32, axios@<1.6.0 or Newtonsoft.Json@[,13.0.1)";
            return false;
        }
        if (name.Length == 0 || constraint is { Length: 0 })
        {
            error = $"'{text}' is not NAME, NAME@VERSION, NAME@RANGE, a purl or an advisory id";
            return false;
        }
        query = new AffectedQuery(null, name, constraint, null);
        return true;
    }

    /// <summary>GHSA-xxxx-xxxx-xxxx, CVE-2024-1234, PYSEC-2021-1, MAL-2024-1, OSV-…: upper-case prefix, dash, digits or id text.</summary>
    private static bool LooksLikeAdvisoryId(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        return dash is >= 2 and <= 8 && text[..dash].All(char.IsAsciiLetterUpper) && text.Length > dash + 1
            && !text.Contains('@', StringComparison.Ordinal) && text[(dash + 1)..].All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
    }

    /// <summary>
    /// Whether a stored version passes the constraint: a range in the ecosystem's native syntax when the scheme
    /// reads it as one, else equality in the ecosystem's version order (so NuGet 1.0 equals 1.0.0).
    /// </summary>
    public bool Matches(Ecosystem ecosystem, string version)
    {
        if (Constraint is null)
        {
            return true;
        }
        var scheme = VersionSchemes.For(ecosystem);
        if (!scheme.TryParse(version, out var parsed))
        {
            return string.Equals(version, Constraint, StringComparison.OrdinalIgnoreCase);
        }
        if (scheme.TryParse(Constraint, out var exact))
        {
            return scheme.Compare(parsed, exact) == 0;
        }
        return scheme.IsValidRange(Constraint) && scheme.Satisfies(parsed, Constraint);
    }

    /// <summary>True when the constraint is neither a version nor a valid range in any ecosystem searched.</summary>
    public bool ConstraintIsInvalid => Constraint is not null
        && (Ecosystem is { } e ? [e] : EcosystemNames.Registries).All(eco =>
            !VersionSchemes.For(eco).TryParse(Constraint, out _) && !VersionSchemes.For(eco).IsValidRange(Constraint));
}

/// <summary>A deployment hit by an advisory: the deployment's component and the advisory (primary id after alias merging).</summary>
public sealed record AdvisoryHit(AffectedDeployment Deployment, string AdvisoryId);

/// <summary>What a rescan found: hits new since the last rescan, hits that went away, and the totals.</summary>
public sealed record RescanResult(
    IReadOnlyList<(AffectedDeployment Deployment, string AdvisoryId)> NewlyAffected,
    IReadOnlyList<(string Deployment, string Purl, string AdvisoryId)> Resolved,
    int PackagesMatched,
    int AffectedPackages);

/// <summary>The inventory questions that need the advisory database: which deployments an advisory hits, and rescans.</summary>
public static class InventoryAdvisories
{
    /// <summary>
    /// Every current deployment with a component that an advisory (found by id or alias) affects, following the
    /// OSV range semantics of each affected package entry. Withdrawn advisories hit nothing. Empty advisories list
    /// when the id is unknown.
    /// </summary>
    public static (IReadOnlyList<Advisory> Advisories, IReadOnlyList<AdvisoryHit> Hits) Affected(InventoryStore inventory, AdvisoryStore advisories, string idOrAlias)
    {
        var found = advisories.FindById(idOrAlias);
        var hits = new List<AdvisoryHit>();
        foreach (var advisory in found.Where(a => !a.IsWithdrawn))
        {
            foreach (var entry in advisory.Affected)
            {
                foreach (var hit in inventory.Affected(entry.Ecosystem, entry.Name, (eco, version) => OsvRangeEvaluator.IsAffected(eco, version, entry.Ranges, entry.Versions)))
                {
                    hits.Add(new AdvisoryHit(hit, advisory.Id));
                }
            }
        }
        return (found, [.. hits.DistinctBy(h => (h.Deployment.Deployment, h.Deployment.Component.Purl, h.AdvisoryId))
            .OrderBy(h => h.Deployment.Deployment, StringComparer.Ordinal).ThenBy(h => h.Deployment.Component.Purl, StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Matches every package version of every current deployment against the advisory database (with the same
    /// matcher and alias merging as <c>scan</c>) and records the result, reporting what changed since the last rescan.
    /// </summary>
    public static RescanResult Rescan(InventoryStore inventory, AdvisoryStore advisories)
    {
        var packages = inventory.CurrentPackages();
        var byKey = new Dictionary<string, long>(StringComparer.Ordinal);
        var components = new List<Component>(packages.Count);
        foreach (var (id, p) in packages)
        {
            var component = new Component { Ecosystem = p.Ecosystem, Name = p.Name, Version = p.Version, Purl = PackageUrl.For(p.Ecosystem, p.Name, p.Version) };
            if (byKey.TryAdd(component.Key, id))
            {
                components.Add(component);
            }
        }
        var graph = new DependencyGraph(components, [], [], ImmutableArray<Diagnostic>.Empty);
        var matches = new AdvisoryMatcher(advisories).Match(graph).Findings
            .GroupBy(f => byKey[f.Component.Key])
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(f => f.Id).Distinct(StringComparer.Ordinal)]);
        var (added, resolved) = inventory.RecordRescan(matches);
        return new RescanResult(added, resolved, components.Count, matches.Count);
    }
}
