using NuGet.Versioning;
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
/// The fallback matcher: understands exact versions only (<c>1.2.3</c>, <c>=1.2.3</c> for npm, <c>==1.2</c> and
/// <c>===1.2</c> for PyPI, <c>[1.2.3]</c> for NuGet) and answers null for every real range.
/// </summary>
public sealed class ExactVersionMatcher : IVersionRangeMatcher
{
    public static ExactVersionMatcher Instance { get; } = new();

    public bool? Satisfies(Ecosystem ecosystem, string version, string range)
    {
        range = range.Trim();
        version = version.Trim();
        switch (ecosystem)
        {
            case Ecosystem.Npm:
            {
                var exact = range.StartsWith('=') ? range[1..].TrimStart() : range;
                exact = StripV(exact);
                // A bare npm version with fewer than three parts ('4', '4.17') is a range, not a version.
                if (!PackagePattern.IsBareVersion(exact) || CoreParts(exact) != 3)
                {
                    return null;
                }
                // Pre-release labels compare case-sensitively in semver ("1.2.3-RC.1" is not "1.2.3-rc.1").
                return string.Equals(WithoutBuild(exact), WithoutBuild(StripV(version)), StringComparison.Ordinal);
            }
            case Ecosystem.PyPI:
            {
                if (range.StartsWith("===", StringComparison.Ordinal))
                {
                    // Arbitrary equality compares the strings as they are (PEP 440).
                    return string.Equals(range[3..].Trim(), version, StringComparison.OrdinalIgnoreCase);
                }
                var exact = range.StartsWith("==", StringComparison.Ordinal) ? range[2..].Trim() : range;
                if (!PackagePattern.IsBareVersion(exact) || exact.Contains(',', StringComparison.Ordinal))
                {
                    return null;
                }
                return string.Equals(NormalizePep440(exact), NormalizePep440(version), StringComparison.Ordinal);
            }
            case Ecosystem.NuGet:
            {
                if (range.Length < 3 || range[0] != '[' || range[^1] != ']' || range.Contains(',', StringComparison.Ordinal))
                {
                    return null;
                }
                if (!NuGetVersion.TryParse(range[1..^1].Trim(), out var wanted) || !NuGetVersion.TryParse(version, out var actual))
                {
                    return null;
                }
                return VersionComparer.Default.Equals(wanted, actual);
            }
            default:
                return null;
        }
    }

    private static string StripV(string text) => text.StartsWith('v') || text.StartsWith('V') ? text[1..] : text;

    private static string WithoutBuild(string text)
    {
        var plus = text.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? text : text[..plus];
    }

    private static int CoreParts(string text)
    {
        var end = text.IndexOfAny(['-', '+']);
        var core = end < 0 ? text : text[..end];
        return core.Split('.').Length;
    }

    /// <summary>Enough of PEP 440 normalisation for equality: lower case, no 'v', release without trailing zeros.</summary>
    private static string NormalizePep440(string text)
    {
        var s = StripV(text.Trim()).ToLowerInvariant();
        var end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] == '.'))
        {
            end++;
        }
        var release = s[..end].TrimEnd('.');
        while (release.EndsWith(".0", StringComparison.Ordinal))
        {
            release = release[..^2];
        }
        return release + s[end..];
    }
}
