using System.Diagnostics.CodeAnalysis;

namespace Tollgate.Ecosystems.Npm;

/// <summary>The npm version scheme: node-semver versions, precedence and ranges.</summary>
internal sealed class NpmVersionScheme(string name = "npm") : IVersionScheme
{
    public string Name => name;

    public bool TryParse(string? text, [NotNullWhen(true)] out IComparableVersion? version)
    {
        bool ok = NpmVersion.TryParse(text, out var parsed);
        version = parsed;
        return ok;
    }

    public int Compare(IComparableVersion left, IComparableVersion right) =>
        VersionSchemes.Expect<NpmVersion>(left, name).CompareTo(VersionSchemes.Expect<NpmVersion>(right, name));

    public bool IsValidRange(string? rangeText) => NpmRange.TryParse(rangeText, includePrerelease: false, out _);

    public bool Satisfies(IComparableVersion version, string rangeText) =>
        NpmRange.TryParse(rangeText, includePrerelease: false, out var range)
        && range.IsSatisfiedBy(VersionSchemes.Expect<NpmVersion>(version, name));
}
