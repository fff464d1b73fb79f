using Tollgate.Ecosystems;
using Tollgate.Graph;

namespace Tollgate.Policy;

/// <summary>
/// Decides whether a version lies in a range written in an ecosystem's own syntax (npm semver ranges,
/// PEP 440 specifiers, NuGet interval notation). Policy patterns use it for their version part.
/// </summary>
public interface IVersionRangeMatcher
{
    /// <summary>True or false, or null when the version or the range cannot be read.</summary>
    bool? Satisfies(Ecosystem ecosystem, string version, string range);
}

/// <summary>
/// Decides ranges with each ecosystem's version scheme (<see cref="VersionSchemes"/>): node-semver ranges for npm,
/// PEP 440 specifier sets for PyPI, NuGet interval notation for NuGet. Null when the version or range does not parse.
/// </summary>
public sealed class SchemeVersionMatcher : IVersionRangeMatcher
{
    public static SchemeVersionMatcher Instance { get; } = new();

    public bool? Satisfies(Ecosystem ecosystem, string version, string range)
    {
        if (ecosystem == Ecosystem.Generic)
        {
            // Container images, remote servers and local programs have no version scheme to decide a range with.
            return null;
        }
        var scheme = VersionSchemes.For(ecosystem);
        range = range.Trim();
        if (ecosystem == Ecosystem.PyPI && range.StartsWith("===", StringComparison.Ordinal) && !range.Contains(',', StringComparison.Ordinal))
        {
            // PEP 440 arbitrary equality compares the text, and applies to versions that are not PEP 440 at all.
            return string.Equals(version.Trim(), range[3..].Trim(), StringComparison.OrdinalIgnoreCase);
        }
        return scheme.TryParse(version.Trim(), out var parsed) && scheme.IsValidRange(range) ? scheme.Satisfies(parsed, range) : null;
    }
}
