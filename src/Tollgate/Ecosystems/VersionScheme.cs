using System.Diagnostics.CodeAnalysis;
using Tollgate.Ecosystems.Npm;
using Tollgate.Ecosystems.NuGet;
using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;

namespace Tollgate.Ecosystems;

/// <summary>A parsed version of one ecosystem's scheme. Versions of different schemes never compare.</summary>
public interface IComparableVersion
{
    /// <summary>The text the version was parsed from.</summary>
    string Original { get; }

    /// <summary>The ecosystem's normalised spelling (what its own tools print).</summary>
    string Normalized { get; }

    /// <summary>True for a pre-release in the ecosystem's own sense (npm: has a pre-release tag; PEP 440: a, b, rc or dev).</summary>
    bool IsPrerelease { get; }
}

/// <summary>
/// One ecosystem's version scheme: parsing, total order and its native range syntax
/// (node-semver ranges for npm, PEP 440 specifier sets for PyPI, NuGet interval notation for NuGet).
/// </summary>
public interface IVersionScheme
{
    /// <summary>The scheme's name, e.g. <c>npm</c>, <c>PyPI</c>, <c>NuGet</c>, <c>SemVer</c>.</summary>
    string Name { get; }

    /// <summary>Parses a version; false when the text is not a version of this scheme.</summary>
    bool TryParse(string? text, [NotNullWhen(true)] out IComparableVersion? version);

    /// <summary>Orders two versions of this scheme: negative, zero or positive.</summary>
    /// <exception cref="ArgumentException">A version of another scheme.</exception>
    int Compare(IComparableVersion left, IComparableVersion right);

    /// <summary>True when the range text is valid in this scheme's native syntax.</summary>
    bool IsValidRange(string? rangeText);

    /// <summary>
    /// Whether the version lies in the range written in the scheme's native syntax, with the
    /// ecosystem's default pre-release rules. An invalid range is satisfied by nothing.
    /// </summary>
    bool Satisfies(IComparableVersion version, string rangeText);
}

/// <summary>The version scheme of each ecosystem.</summary>
public static class VersionSchemes
{
    /// <summary>npm: node-semver versions and ranges.</summary>
    public static IVersionScheme Npm { get; } = new NpmVersionScheme();

    /// <summary>PyPI: PEP 440 versions and specifier sets.</summary>
    public static IVersionScheme PyPI { get; } = new Pep440VersionScheme();

    /// <summary>NuGet: NuGet.Versioning versions and interval ranges.</summary>
    public static IVersionScheme NuGet { get; } = new NuGetVersioningScheme();

    /// <summary>
    /// Plain SemVer 2.0.0 precedence, as OSV's <c>SEMVER</c> range type requires whatever the ecosystem.
    /// Versions parse as node-semver parses them; ranges use node-semver syntax.
    /// </summary>
    public static IVersionScheme SemVer { get; } = new NpmVersionScheme("SemVer");

    /// <summary>The scheme of an ecosystem.</summary>
    public static IVersionScheme For(Ecosystem ecosystem) => ecosystem switch
    {
        Ecosystem.Npm => Npm,
        Ecosystem.PyPI => PyPI,
        Ecosystem.NuGet => NuGet,
        _ => throw new ArgumentOutOfRangeException(nameof(ecosystem)),
    };

    internal static T Expect<T>(IComparableVersion version, string scheme)
        where T : class, IComparableVersion =>
        version as T ?? throw new ArgumentException($"{version.GetType().Name} is not a {scheme} version.", nameof(version));
}
