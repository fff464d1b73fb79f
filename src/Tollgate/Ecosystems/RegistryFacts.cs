using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Ecosystems;

/// <summary>
/// What a registry says about one version of a package, in the same terms for every ecosystem. A property that is
/// null is one the registry did not publish (a mirror that drops the field, an ecosystem without it): "unknown" is
/// never the same as "none", so comparisons of two unknowns find no change.
/// </summary>
public sealed record VersionFacts
{
    public required string Version { get; init; }

    /// <summary>When the version was published, where the registry says.</summary>
    public DateTimeOffset? Published { get; init; }

    /// <summary>The account that published it (npm <c>_npmUser</c>), where the registry says.</summary>
    public string? Publisher { get; init; }

    /// <summary>The maintainer accounts listed with the version (npm <c>maintainers</c>), where the registry says.</summary>
    public ImmutableSortedSet<string>? Maintainers { get; init; }

    /// <summary>
    /// What runs when the version is installed: npm preinstall/install/postinstall (or <c>hasInstallScript</c>,
    /// which covers binding.gyp), a PyPI release with only an sdist (its build backend runs); empty when the registry
    /// shows none; null when it does not say.
    /// </summary>
    public ImmutableArray<string>? InstallScripts { get; init; }

    /// <summary>True when the registry publishes provenance / attestations for it (npm <c>dist.attestations</c>, PEP 740).</summary>
    public bool HasProvenance { get; init; }

    /// <summary>The deprecation message (npm <c>deprecated</c>, NuGet deprecation), or null.</summary>
    public string? Deprecated { get; init; }

    /// <summary>True when yanked (PEP 592) or unlisted (NuGet); <see cref="YankReason"/> may say why.</summary>
    public bool Yanked { get; init; }

    public string? YankReason { get; init; }

    /// <summary>Runtime dependencies (name → range as the registry writes it); null when not published.</summary>
    public ImmutableSortedDictionary<string, string>? Dependencies { get; init; }

    /// <summary>The sha256 digests (hex) of the version's files, for hash-pinned requirements.</summary>
    public ImmutableArray<string> Sha256 { get; init; } = [];

    /// <summary>True for a PyPI release that has wheels; null when not a PyPI release or unknown.</summary>
    public bool? HasWheels { get; init; }

    /// <summary>npm <c>engines.node</c>, for choosing the version npm would pick.</summary>
    public string? EnginesNode { get; init; }
}

/// <summary>Every version a registry lists for one package, and its tags.</summary>
public sealed record PackageFacts
{
    public required Ecosystem Ecosystem { get; init; }

    public required string Name { get; init; }

    /// <summary>The versions in the order the registry lists them.</summary>
    public required ImmutableArray<VersionFacts> Versions { get; init; }

    /// <summary>npm dist-tags (<c>latest</c> and others); empty elsewhere.</summary>
    public ImmutableDictionary<string, string> DistTags { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Where release notes live (the repository's releases page), where the registry names a repository.</summary>
    public string? ReleaseNotes { get; init; }

    /// <summary>The registry the facts came from (without credentials), as reports show it.</summary>
    public string? Registry { get; init; }

    /// <summary>The version with this exact text, or the one equal to it in the ecosystem's scheme.</summary>
    public VersionFacts? Find(string version)
    {
        foreach (var v in Versions)
        {
            if (string.Equals(v.Version, version, StringComparison.Ordinal))
            {
                return v;
            }
        }
        var scheme = VersionSchemes.For(Ecosystem);
        if (!scheme.TryParse(version, out var wanted))
        {
            return null;
        }
        foreach (var v in Versions)
        {
            if (scheme.TryParse(v.Version, out var parsed) && scheme.Compare(parsed, wanted) == 0)
            {
                return v;
            }
        }
        return null;
    }
}

/// <summary>A registry metadata client of one ecosystem: the facts about a package, or why they could not be had.</summary>
public interface IPackageFactsSource
{
    Ecosystem Ecosystem { get; }

    /// <summary>The registry's base URL as reports show it (no credentials).</summary>
    string RegistryDisplay { get; }

    /// <summary>The package's facts; null with a problem when the registry could not answer or does not have it.</summary>
    Task<FactsResult> GetAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>The answer of <see cref="IPackageFactsSource.GetAsync"/>.</summary>
/// <param name="Facts">The facts, or null.</param>
/// <param name="Problem">Why there are none (unreachable, not found, malformed), or a note on stale cached facts.</param>
/// <param name="NotFound">True when the registry answered that it has no such package.</param>
public sealed record FactsResult(PackageFacts? Facts, string? Problem = null, bool NotFound = false);
