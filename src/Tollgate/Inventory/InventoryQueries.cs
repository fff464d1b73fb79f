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

/// <summary>What an advisory query found: the records the id names, and one page of the hits (<see cref="AffectedPage"/> counts them all).</summary>
public sealed record AdvisoryAffected(IReadOnlyList<Advisory> Advisories, IReadOnlyList<AdvisoryHit> Hits, AffectedPage Page);

/// <summary>What a rescan found: hits new since the last rescan, hits that went away, and the totals.</summary>
public sealed record RescanResult(
    IReadOnlyList<FoundHit> NewlyAffected,
    IReadOnlyList<(string Deployment, string Purl, string AdvisoryId)> Resolved,
    int PackagesMatched,
    int AffectedPackages);

/// <summary>
/// The inventory questions that need the advisory database: which deployments an advisory hits, and rescans. Both
/// decide with <see cref="AdvisoryMatcher"/>, as <c>scan</c> does: components from git, URLs, local paths or
/// workspaces, and the organisation's own private packages (<see cref="Scanner.OwnPrivatePackages"/>), are not hits.
/// </summary>
public static class InventoryAdvisories
{
    /// <summary>
    /// Every current deployment with a component that an advisory (found by id or alias) affects: the packages each
    /// record names, as the snapshots hold them, matched by the advisory matcher (OSV ranges, withdrawn records hit
    /// nothing). Empty advisories list when the id is unknown. <c>ownPrivate</c>: the policy's own private packages
    /// (<see cref="Scanner.OwnPrivatePackages"/>), null for none.
    /// </summary>
    public static AdvisoryAffected Affected(InventoryStore inventory, AdvisoryStore advisories, string idOrAlias, Func<Component, bool>? ownPrivate = null, Paging paging = default)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(advisories);
        var found = advisories.FindById(idOrAlias);
        var packages = found.Where(a => !a.IsWithdrawn)
            .SelectMany(a => a.Affected)
            .Select(entry => (entry.Ecosystem, Name: Component.NormalizeName(entry.Ecosystem, entry.Name)))
            .Distinct()
            .SelectMany(p => inventory.Packages(p.Ecosystem, p.Name, bySource: ownPrivate is not null))
            .ToList();
        var ids = found.Select(a => a.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        // The matcher decides, as for a scan; a package is hit when a finding's merged ids include a record found.
        var hitIds = new Dictionary<InventoryPackage, string>();
        foreach (var (package, findings) in MatchPackages(packages, advisories, ownPrivate))
        {
            var matched = findings.SelectMany(f => f.Aliases.Prepend(f.Id)).Where(ids.Contains).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
            if (matched.Count > 0)
            {
                hitIds[package] = string.Join(", ", matched);
            }
        }
        var page = inventory.Affected(hitIds.Keys, paging);
        var byPurl = hitIds.GroupBy(h => h.Key.Component.Purl.ToString(), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        return new AdvisoryAffected(found, [.. page.Hits.Select(h => new AdvisoryHit(h, byPurl.GetValueOrDefault(h.Component.Purl) ?? found[0].Id))], page);
    }

    /// <summary>
    /// Matches every current deployment (or only <paramref name="deployment"/>, after an upload) against the advisory
    /// database again and records the hits, each with the time it was first found; returns what is new and what was
    /// resolved since the previous rescan. <c>ownPrivate</c>: the policy's own private packages
    /// (<see cref="Scanner.OwnPrivatePackages"/>), null for none. <paramref name="time"/>: the clock (the system clock when null).
    /// </summary>
    public static RescanResult Rescan(InventoryStore inventory, AdvisoryStore advisories, Func<Component, bool>? ownPrivate = null, string? deployment = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(advisories);
        // The registry a package came from matters only to the decision about private names.
        var packages = inventory.CurrentPackages(bySource: ownPrivate is not null, deployment);
        var matches = new Dictionary<InventoryPackage, IReadOnlyList<HitFinding>>();
        foreach (var (package, findings) in MatchPackages(packages, advisories, ownPrivate))
        {
            matches[package] = [.. findings.DistinctBy(f => f.Id, StringComparer.Ordinal).Select(HitFinding.From)];
        }
        var (added, resolved) = inventory.RecordRescan(matches, (time ?? TimeProvider.System).GetUtcNow(), deployment, advisories.DataVersion());
        return new RescanResult(added, resolved, packages.Select(p => p.ComponentId).Distinct().Count(), matches.Keys.Select(p => p.ComponentId).Distinct().Count());
    }

    /// <summary>The findings of each package the matcher matched (packages it does not match, or that nothing hits, are left out).</summary>
    private static IEnumerable<(InventoryPackage Package, List<Finding> Findings)> MatchPackages(IReadOnlyList<InventoryPackage> packages, AdvisoryStore advisories, Func<Component, bool>? ownPrivate)
    {
        var byComponent = new Dictionary<Component, InventoryPackage>(ReferenceEqualityComparer.Instance);
        foreach (var package in packages)
        {
            byComponent[package.Component] = package;
        }
        var graph = new DependencyGraph(byComponent.Keys, [], [], ImmutableArray<Diagnostic>.Empty);
        return new AdvisoryMatcher(advisories).Match(graph, ownPrivate).Findings
            .GroupBy(f => byComponent[f.Component])
            .Select(g => (g.Key, g.ToList()));
    }
}
