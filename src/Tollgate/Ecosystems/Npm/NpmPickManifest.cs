namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// The version npm installs for a spec, chosen as npm's own <c>npm-pick-manifest</c> chooses (without staged,
/// restricted or avoided versions): a dist-tag names its version; an exact version only itself; a range takes the
/// default tag (<c>latest</c>) when it satisfies the range, is not deprecated and suits the node engine, otherwise the
/// best satisfying version ordered by (not deprecated and engine ok, engine ok, not deprecated, highest).
/// <c>before</c> drops versions published after it (npm's <c>--before</c>, and the release-age cooldown).
/// </summary>
public static class NpmPickManifest
{
    /// <summary>The picked version, or null when nothing matches.</summary>
    /// <param name="packument">The package's versions, times and dist-tags.</param>
    /// <param name="wanted">A version, range or dist-tag; empty means the default tag.</param>
    /// <param name="before">Only versions published at or before this (those without a time always qualify).</param>
    /// <param name="nodeVersion">The node version engines are checked against; null checks none.</param>
    /// <param name="defaultTag">The tag a range prefers.</param>
    public static VersionFacts? Pick(PackageFacts packument, string? wanted, DateTimeOffset? before = null, string? nodeVersion = null, string defaultTag = "latest")
    {
        ArgumentNullException.ThrowIfNull(packument);
        var spec = string.IsNullOrWhiteSpace(wanted) ? defaultTag : wanted.Trim();
        var byVersion = new Dictionary<string, VersionFacts>(StringComparer.Ordinal);
        foreach (var v in packument.Versions)
        {
            byVersion.TryAdd(v.Version, v);
        }
        // npm-package-arg: a valid version is a version, a valid range a range, anything else a tag.
        if (!string.IsNullOrWhiteSpace(wanted) && NpmVersion.TryParse(spec.TrimStart('='), out var exact))
        {
            var found = byVersion.GetValueOrDefault(exact.Normalized);
            return found is not null && IsBefore(found, before) ? found : null;
        }
        NpmRange? range = null;
        if (spec == "*" || spec.Length == 0)
        {
            range = null;
        }
        else if (NpmRange.TryParse(spec, includePrerelease: false, out var parsed))
        {
            range = parsed;
        }
        else if (!string.IsNullOrWhiteSpace(wanted))
        {
            // A dist-tag: that version exactly, or the best one up to it when it is too young.
            if (!packument.DistTags.TryGetValue(spec, out var tagged))
            {
                return null;
            }
            var tagVersion = byVersion.GetValueOrDefault(tagged);
            if (tagVersion is null || IsBefore(tagVersion, before))
            {
                return tagVersion;
            }
            return Pick(packument, "<=" + tagged, before, nodeVersion, defaultTag);
        }

        if (packument.DistTags.TryGetValue(defaultTag, out var defaultVersion)
            && (range is null || (NpmVersion.TryParse(defaultVersion, out var dv) && range.IsSatisfiedBy(dv)))
            && byVersion.GetValueOrDefault(defaultVersion) is { } preferred
            && IsBefore(preferred, before) && EngineOk(preferred, nodeVersion) && preferred.Deprecated is null)
        {
            return preferred;
        }

        VersionFacts? best = null;
        NpmVersion? bestVersion = null;
        var bestKey = (0, 0, 0);
        foreach (var candidate in byVersion.Values)
        {
            if (!IsBefore(candidate, before) || !NpmVersion.TryParse(candidate.Version, out var version))
            {
                continue;
            }
            if (range is not null ? !range.IsSatisfiedBy(version) : version.IsPrerelease)
            {
                continue;
            }
            var engine = EngineOk(candidate, nodeVersion) ? 1 : 0;
            var notDeprecated = candidate.Deprecated is null ? 1 : 0;
            var key = (notDeprecated & engine, engine, notDeprecated);
            if (best is null || key.CompareTo(bestKey) > 0 || (key.CompareTo(bestKey) == 0 && version.CompareTo(bestVersion) > 0))
            {
                best = candidate;
                bestVersion = version;
                bestKey = key;
            }
        }
        return best;
    }

    private static bool IsBefore(VersionFacts version, DateTimeOffset? before) =>
        before is null || version.Published is null || version.Published <= before;

    /// <summary>npm-install-checks' checkEngine for node: no engine, or the node version satisfies it (pre-releases included).</summary>
    private static bool EngineOk(VersionFacts version, string? nodeVersion)
    {
        if (nodeVersion is null || version.EnginesNode is null)
        {
            return true;
        }
        return NpmVersion.TryParse(nodeVersion, out var node)
            && NpmRange.TryParse(version.EnginesNode, includePrerelease: true, out var engine)
            && engine.IsSatisfiedBy(node);
    }
}
