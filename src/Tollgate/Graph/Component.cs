using System.Collections.Immutable;

namespace Tollgate.Graph;

/// <summary>How a component is used by the project that pulls it in. A component can have several.</summary>
[Flags]
public enum DependencyScopes
{
    None = 0,
    Prod = 1,
    Dev = 2,
    Optional = 4,
    Peer = 8,
}

/// <summary>Where a component's code comes from.</summary>
public enum OriginKind
{
    /// <summary>A package registry (the default one or another).</summary>
    Registry,
    /// <summary>A git repository.</summary>
    Git,
    /// <summary>A tarball, wheel or archive fetched from a URL.</summary>
    Url,
    /// <summary>A local file or directory outside the project's workspaces.</summary>
    File,
    /// <summary>A package of the same workspace or solution (npm/yarn/pnpm workspaces, project references).</summary>
    Workspace,
}

/// <summary>The source of a component: its kind and, where the input records it, the URL or path.</summary>
public sealed record Origin(OriginKind Kind, string? Location = null)
{
    public static Origin Registry(string? url = null) => new(OriginKind.Registry, url);
}

/// <summary>An integrity hash as the input declared it, e.g. <c>sha512</c> and its base64 or hex value.</summary>
public sealed record IntegrityHash(string Algorithm, string Value)
{
    /// <summary>Parses an SRI string (<c>sha512-BASE64</c>); several space-separated hashes give several values.</summary>
    public static ImmutableArray<IntegrityHash> ParseSri(string? sri)
    {
        if (string.IsNullOrWhiteSpace(sri))
        {
            return [];
        }
        var result = ImmutableArray.CreateBuilder<IntegrityHash>();
        foreach (var part in sri.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0)
            {
                result.Add(new IntegrityHash(part[..dash].ToLowerInvariant(), part[(dash + 1)..]));
            }
        }
        return result.ToImmutable();
    }

    public override string ToString() => $"{Algorithm}-{Value}";
}

/// <summary>
/// One package version in a dependency graph.
/// <see cref="Key"/> identifies it across files: the purl with the name in its ecosystem's normal form.
/// </summary>
public sealed record Component
{
    private readonly Ecosystem _ecosystem;
    private readonly string _name = "";
    private readonly string _version = "";
    private readonly Origin _origin = Origin.Registry();
    // Graphs look the key up many times per component; it is computed once. Setting any part of it
    // (also in a `with` copy) clears the cache.
    private KeyCache _key;

    public required Ecosystem Ecosystem { get => _ecosystem; init { _ecosystem = value; _key = default; } }

    /// <summary>The name as the ecosystem writes it (PyPI names in PEP 503 normal form).</summary>
    public required string Name { get => _name; init { _name = value; _key = default; } }

    /// <summary>The resolved version, or the declared range when <see cref="Resolved"/> is false.</summary>
    public required string Version { get => _version; init { _version = value; _key = default; } }

    public required PackageUrl Purl { get; init; }

    /// <summary>False when only a manifest range is known (no lockfile): the version is a range, not a pin.</summary>
    public bool Resolved { get; init; } = true;

    public DependencyScopes Scopes { get; init; } = DependencyScopes.Prod;

    /// <summary>True when a project root depends on it directly.</summary>
    public bool Direct { get; init; }

    public Origin Origin { get => _origin; init { _origin = value; _key = default; } }

    public ImmutableArray<IntegrityHash> Integrity { get; init; } = [];

    /// <summary>True or false where the input records it (npm <c>hasInstallScript</c>); null when unknown.</summary>
    public bool? HasInstallScript { get; init; }

    /// <summary>Licence expression where the input records one.</summary>
    public string? License { get; init; }

    /// <summary>
    /// NuGet: the package files that run code at build time or in Visual Studio (<c>build/*.props|targets</c>,
    /// <c>buildTransitive/</c>, <c>buildMultiTargeting/</c>, <c>tools/init.ps1</c>, <c>tools/install.ps1</c>), where the
    /// restore result or the package folder shows them; empty when none or unknown.
    /// </summary>
    public ImmutableArray<string> BuildCode { get; init; } = [];

    public ImmutableArray<SourceLocation> Locations { get; init; } = [];

    /// <summary>The identity used to merge and link components: purl with a normalised name, no qualifiers for registry origins.</summary>
    public string Key => _key.Value ??= KeyFor(Ecosystem, Name, Version, Origin);

    /// <summary>Computes the key a component with these properties has; readers use it to write edges.</summary>
    public static string KeyFor(Ecosystem ecosystem, string name, string version, Origin? origin = null)
    {
        var normal = NormalizeName(ecosystem, name);
        var key = $"{ecosystem.ToPurlType()}/{normal}@{version}";
        return origin is null || origin.Kind == OriginKind.Registry ? key : $"{key}#{origin.Kind.ToString().ToLowerInvariant()}:{origin.Location}";
    }

    /// <summary>
    /// The origin a key written by <see cref="KeyFor"/> names: its kind and location for a non-registry origin, a
    /// registry without a location otherwise (a registry URL is not part of the key).
    /// </summary>
    public static Origin OriginOfKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        // The origin follows the version: the first "#kind:" after the '@' (a location may itself contain '#').
        var at = key.IndexOf('@', key.IndexOf('/', StringComparison.Ordinal) + 2);
        (int Index, OriginKind Kind, int Length)? first = null;
        foreach (var kind in NonRegistryKinds)
        {
            var marker = $"#{kind.ToString().ToLowerInvariant()}:";
            var index = at < 0 ? -1 : key.IndexOf(marker, at, StringComparison.Ordinal);
            if (index >= 0 && (first is null || index < first.Value.Index))
            {
                first = (index, kind, marker.Length);
            }
        }
        if (first is not { } found)
        {
            return Origin.Registry();
        }
        var location = key[(found.Index + found.Length)..];
        return new Origin(found.Kind, location.Length == 0 ? null : location);
    }

    private static readonly OriginKind[] NonRegistryKinds = [OriginKind.Git, OriginKind.Url, OriginKind.File, OriginKind.Workspace];

    /// <summary>The ecosystem's comparison form of a name: PEP 503 for PyPI, lower case for npm and NuGet.</summary>
    public static string NormalizeName(Ecosystem ecosystem, string name) => ecosystem switch
    {
        Ecosystem.PyPI => NormalizePyPIName(name),
        _ => name.ToLowerInvariant(),
    };

    /// <summary>A cache that takes no part in the record's equality and hash code.</summary>
    private struct KeyCache : IEquatable<KeyCache>
    {
        public string? Value;

        public readonly bool Equals(KeyCache other) => true;

        public override readonly bool Equals(object? obj) => obj is KeyCache;

        public override readonly int GetHashCode() => 0;
    }

    /// <summary>PEP 503: lower case, runs of '-', '_' and '.' become one '-'.</summary>
    public static string NormalizePyPIName(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length);
        var pendingDash = false;
        foreach (var c in name.Trim())
        {
            if (c is '-' or '_' or '.')
            {
                pendingDash = sb.Length > 0;
                continue;
            }
            if (pendingDash)
            {
                sb.Append('-');
                pendingDash = false;
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
