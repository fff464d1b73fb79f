using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// A SemVer 2.0.0 version as node-semver parses it without the <c>loose</c> option:
/// surrounding white space and one leading <c>v</c> are accepted, numbers have no leading zeros,
/// each of major, minor and patch is at most 2^53-1, the whole text is at most 256 characters.
/// Build metadata is kept but takes no part in ordering or equality.
/// </summary>
public sealed class NpmVersion : IComparableVersion, IComparable<NpmVersion>, IEquatable<NpmVersion>
{
    /// <summary>node-semver refuses longer version strings.</summary>
    internal const int MaxLength = 256;

    /// <summary>JavaScript's <c>Number.MAX_SAFE_INTEGER</c>: node-semver's bound on each number.</summary>
    internal const long MaxSafeInteger = 9007199254740991;

    private NpmVersion(string original, long major, long minor, long patch, ImmutableArray<string> prerelease, ImmutableArray<string> build)
    {
        Original = original;
        Major = major;
        Minor = minor;
        Patch = patch;
        Prerelease = prerelease;
        Build = build;
        Normalized = prerelease.IsEmpty
            ? string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}.{patch}")
            : string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}.{patch}-{string.Join('.', prerelease)}");
    }

    public string Original { get; }

    /// <summary>node-semver's <c>version</c> property: <c>M.m.p[-pre]</c>, without build metadata.</summary>
    public string Normalized { get; }

    public long Major { get; }

    public long Minor { get; }

    public long Patch { get; }

    /// <summary>The dot-separated pre-release identifiers, empty for a release.</summary>
    public ImmutableArray<string> Prerelease { get; }

    /// <summary>The dot-separated build metadata identifiers.</summary>
    public ImmutableArray<string> Build { get; }

    public bool IsPrerelease => !Prerelease.IsEmpty;

    /// <summary>Parses a version; throws <see cref="FormatException"/> when it is not one.</summary>
    public static NpmVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a valid npm version.");

    /// <summary>Parses a version the way <c>new SemVer(text)</c> does; false when node-semver would throw.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out NpmVersion? version)
    {
        version = null;
        if (text is null || text.Length > MaxLength)
        {
            return false;
        }
        int start = 0, end = text.Length;
        while (start < end && IsJsWhiteSpace(text[start]))
        {
            start++;
        }
        while (end > start && IsJsWhiteSpace(text[end - 1]))
        {
            end--;
        }
        if (start < end && text[start] == 'v')
        {
            start++;
        }
        return TryParseCore(text, start, end, out version);
    }

    /// <summary>Parses <c>M.m.p[-pre][+build]</c> exactly, with no prefix or white space.</summary>
    private static bool TryParseCore(string text, int start, int end, [NotNullWhen(true)] out NpmVersion? version)
    {
        version = null;
        int i = start;
        if (!TryReadNumber(text, ref i, end, out long major) || !Expect(text, ref i, end, '.')
            || !TryReadNumber(text, ref i, end, out long minor) || !Expect(text, ref i, end, '.')
            || !TryReadNumber(text, ref i, end, out long patch))
        {
            return false;
        }
        var prerelease = ImmutableArray<string>.Empty;
        var build = ImmutableArray<string>.Empty;
        if (i < end && text[i] == '-')
        {
            i++;
            if (!TryReadIdentifiers(text, ref i, end, prereleaseRules: true, out prerelease))
            {
                return false;
            }
        }
        if (i < end && text[i] == '+')
        {
            i++;
            if (!TryReadIdentifiers(text, ref i, end, prereleaseRules: false, out build))
            {
                return false;
            }
        }
        if (i != end)
        {
            return false;
        }
        version = new NpmVersion(text, major, minor, patch, prerelease, build);
        return true;
    }

    private static bool Expect(string text, ref int i, int end, char c)
    {
        if (i < end && text[i] == c)
        {
            i++;
            return true;
        }
        return false;
    }

    /// <summary>A numeric identifier: <c>0</c> or a digit run without a leading zero, at most 2^53-1.</summary>
    private static bool TryReadNumber(string text, ref int i, int end, out long value)
    {
        value = 0;
        int begin = i;
        while (i < end && char.IsAsciiDigit(text[i]))
        {
            i++;
        }
        int length = i - begin;
        if (length == 0 || (length > 1 && text[begin] == '0') || length > 16)
        {
            return false;
        }
        for (int k = begin; k < i; k++)
        {
            value = (value * 10) + (text[k] - '0');
        }
        return value <= MaxSafeInteger;
    }

    /// <summary>Dot-separated identifiers of <c>[0-9A-Za-z-]</c>; pre-release numeric ones have no leading zero.</summary>
    private static bool TryReadIdentifiers(string text, ref int i, int end, bool prereleaseRules, out ImmutableArray<string> identifiers)
    {
        identifiers = default;
        var builder = ImmutableArray.CreateBuilder<string>();
        while (true)
        {
            int begin = i;
            bool allDigits = true;
            while (i < end && IsIdentifierChar(text[i]))
            {
                allDigits &= char.IsAsciiDigit(text[i]);
                i++;
            }
            int length = i - begin;
            if (length == 0 || (prereleaseRules && allDigits && length > 1 && text[begin] == '0'))
            {
                return false;
            }
            builder.Add(text.Substring(begin, length));
            if (i < end && text[i] == '.')
            {
                i++;
                continue;
            }
            identifiers = builder.ToImmutable();
            return true;
        }
    }

    private static bool IsIdentifierChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '-';

    /// <summary>What JavaScript's <c>String.prototype.trim</c> removes.</summary>
    internal static bool IsJsWhiteSpace(char c) => char.IsWhiteSpace(c) || c == '\uFEFF';

    /// <summary>SemVer precedence as node-semver computes it (<c>compareMain || comparePre</c>).</summary>
    public int CompareTo(NpmVersion? other)
    {
        if (other is null)
        {
            return 1;
        }
        int c = Major.CompareTo(other.Major);
        if (c == 0)
        {
            c = Minor.CompareTo(other.Minor);
        }
        if (c == 0)
        {
            c = Patch.CompareTo(other.Patch);
        }
        return c != 0 ? Math.Sign(c) : ComparePrerelease(Prerelease, other.Prerelease);
    }

    private static int ComparePrerelease(ImmutableArray<string> a, ImmutableArray<string> b)
    {
        if (a.IsEmpty || b.IsEmpty)
        {
            // A release sorts after every pre-release of the same M.m.p.
            return a.IsEmpty == b.IsEmpty ? 0 : a.IsEmpty ? 1 : -1;
        }
        for (int i = 0; ; i++)
        {
            if (i >= a.Length || i >= b.Length)
            {
                return a.Length == b.Length ? 0 : i >= a.Length ? -1 : 1;
            }
            int c = CompareIdentifiers(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }
    }

    /// <summary>
    /// node-semver's <c>compareIdentifiers</c>: all-digit identifiers compare as JavaScript numbers
    /// (doubles, so two numbers above 2^53 may compare equal) and sort before the others, which
    /// compare by UTF-16 code unit.
    /// </summary>
    internal static int CompareIdentifiers(string a, string b)
    {
        bool aNumeric = IsAllDigits(a), bNumeric = IsAllDigits(b);
        if (aNumeric && bNumeric)
        {
            double x = double.Parse(a, NumberStyles.None, CultureInfo.InvariantCulture);
            double y = double.Parse(b, NumberStyles.None, CultureInfo.InvariantCulture);
            return x.CompareTo(y);
        }
        if (aNumeric != bNumeric)
        {
            return aNumeric ? -1 : 1;
        }
        return Math.Sign(string.CompareOrdinal(a, b));
    }

    private static bool IsAllDigits(string s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return s.Length > 0;
    }

    public bool Equals(NpmVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is NpmVersion other && Equals(other);

    // Pre-release identifiers can compare equal with different spellings (huge numbers), so they stay out of the hash.
    public override int GetHashCode() => HashCode.Combine(Major, Minor, Patch, Prerelease.Length);

    public override string ToString() => Normalized;

    public static bool operator ==(NpmVersion? left, NpmVersion? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(NpmVersion? left, NpmVersion? right) => !(left == right);

    public static bool operator <(NpmVersion left, NpmVersion right) => left.CompareTo(right) < 0;

    public static bool operator <=(NpmVersion left, NpmVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >(NpmVersion left, NpmVersion right) => left.CompareTo(right) > 0;

    public static bool operator >=(NpmVersion left, NpmVersion right) => left.CompareTo(right) >= 0;
}
