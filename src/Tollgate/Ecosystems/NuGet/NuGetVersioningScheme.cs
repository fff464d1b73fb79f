using System.Diagnostics.CodeAnalysis;
using NuGet.Versioning;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>A NuGet version wrapped for <see cref="IVersionScheme"/>; ordering is NuGet.Versioning's (build metadata ignored).</summary>
public sealed class NuGetComparableVersion(string original, NuGetVersion version) : IComparableVersion
{
    public string Original { get; } = original;

    /// <summary>NuGet's normalised form (<c>ToNormalizedString</c>): no leading zeros, four parts only when the fourth is non-zero.</summary>
    public string Normalized => Version.ToNormalizedString();

    public NuGetVersion Version { get; } = version;

    public bool IsPrerelease => Version.IsPrerelease;

    public override string ToString() => Normalized;
}

/// <summary>
/// The NuGet version scheme, delegating to NuGet.Versioning: <see cref="NuGetVersion"/> parsing and
/// <see cref="VersionComparer.Default"/>, and <see cref="VersionRange"/> for ranges (interval notation
/// <c>[1.0,2.0)</c>; a bare <c>1.0</c> means <c>&gt;= 1.0</c>). Pre-releases satisfy a range like any other
/// version, as in NuGet's own <c>VersionRange.Satisfies</c>.
/// </summary>
internal sealed class NuGetVersioningScheme : IVersionScheme
{
    public string Name => "NuGet";

    public bool TryParse(string? text, [NotNullWhen(true)] out IComparableVersion? version)
    {
        version = null;
        if (text is null || !NuGetVersion.TryParse(text, out var parsed))
        {
            return false;
        }
        version = new NuGetComparableVersion(text, parsed);
        return true;
    }

    public int Compare(IComparableVersion left, IComparableVersion right) =>
        VersionComparer.Default.Compare(
            VersionSchemes.Expect<NuGetComparableVersion>(left, Name).Version,
            VersionSchemes.Expect<NuGetComparableVersion>(right, Name).Version);

    public bool IsValidRange(string? rangeText) => rangeText is not null && VersionRange.TryParse(rangeText, out _);

    public bool Satisfies(IComparableVersion version, string rangeText) =>
        VersionRange.TryParse(rangeText, out var range)
        && range.Satisfies(VersionSchemes.Expect<NuGetComparableVersion>(version, Name).Version);
}
