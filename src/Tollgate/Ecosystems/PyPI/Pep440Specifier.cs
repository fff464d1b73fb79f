using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>A PEP 440 comparison operator.</summary>
public enum Pep440Operator
{
    /// <summary><c>~=</c></summary>
    Compatible,
    /// <summary><c>==</c>, with or without a trailing <c>.*</c></summary>
    Equal,
    /// <summary><c>!=</c>, with or without a trailing <c>.*</c></summary>
    NotEqual,
    /// <summary><c>&lt;=</c></summary>
    LessOrEqual,
    /// <summary><c>&gt;=</c></summary>
    GreaterOrEqual,
    /// <summary><c>&lt;</c></summary>
    Less,
    /// <summary><c>&gt;</c></summary>
    Greater,
    /// <summary><c>===</c>: case-insensitive string identity</summary>
    Arbitrary,
}

/// <summary>
/// One PEP 440 version specifier (<c>&gt;=1.0</c>, <c>==1.2.*</c>, <c>~=2.2</c>, ...), with the
/// semantics of <c>packaging.specifiers.Specifier</c> (packaging 22 and later). <see cref="VersionText"/>
/// is kept as written because packaging's wildcard and <c>~=</c> rules work on the text.
/// </summary>
public sealed class Pep440Specifier
{
    private Pep440Specifier(Pep440Operator op, string versionText, Pep440Version version, bool wildcard)
    {
        Operator = op;
        VersionText = versionText;
        Version = version;
        IsWildcard = wildcard;
    }

    public Pep440Operator Operator { get; }

    /// <summary>The version as written, white space trimmed, <c>.*</c> included.</summary>
    public string VersionText { get; }

    /// <summary>The parsed version (without the <c>.*</c>).</summary>
    public Pep440Version Version { get; }

    /// <summary>True for <c>==X.*</c> and <c>!=X.*</c>.</summary>
    public bool IsWildcard { get; }

    /// <summary>
    /// Whether this specifier admits pre-releases by itself: an inclusive operator (==, &gt;=, &lt;=, ~=, ===)
    /// naming a pre-release.
    /// </summary>
    public bool AllowsPrereleases =>
        Operator is Pep440Operator.Equal or Pep440Operator.GreaterOrEqual or Pep440Operator.LessOrEqual
            or Pep440Operator.Compatible or Pep440Operator.Arbitrary
        && Version.IsPrerelease;

    /// <summary>Parses one specifier as <c>packaging.specifiers.Specifier(text)</c> does.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Pep440Specifier? specifier)
    {
        specifier = null;
        if (text is null)
        {
            return false;
        }
        int start = 0, end = text.Length;
        Pep440Version.TrimWhiteSpace(text, ref start, ref end);
        Pep440Operator op;
        string s = text[start..end];
        int i;
        if (s.StartsWith("===", StringComparison.Ordinal)) { op = Pep440Operator.Arbitrary; i = 3; }
        else if (s.StartsWith("~=", StringComparison.Ordinal)) { op = Pep440Operator.Compatible; i = 2; }
        else if (s.StartsWith("==", StringComparison.Ordinal)) { op = Pep440Operator.Equal; i = 2; }
        else if (s.StartsWith("!=", StringComparison.Ordinal)) { op = Pep440Operator.NotEqual; i = 2; }
        else if (s.StartsWith("<=", StringComparison.Ordinal)) { op = Pep440Operator.LessOrEqual; i = 2; }
        else if (s.StartsWith(">=", StringComparison.Ordinal)) { op = Pep440Operator.GreaterOrEqual; i = 2; }
        else if (s.StartsWith('<')) { op = Pep440Operator.Less; i = 1; }
        else if (s.StartsWith('>')) { op = Pep440Operator.Greater; i = 1; }
        else { return false; }

        int vStart = i, vEnd = s.Length;
        Pep440Version.TrimWhiteSpace(s, ref vStart, ref vEnd);
        string versionText = s[vStart..vEnd];

        if (op == Pep440Operator.Arbitrary)
        {
            // packaging accepts any text here, but raises when it later asks whether the text is a
            // pre-release, so only PEP 440 versions are usable.
            if (versionText.AsSpan().IndexOfAny(" \t\r\n;)") >= 0 || !Pep440Version.TryParse(versionText, out var arbitrary))
            {
                return false;
            }
            specifier = new Pep440Specifier(op, versionText, arbitrary, wildcard: false);
            return true;
        }

        bool wildcard = false;
        string parsedText = versionText;
        if (op is Pep440Operator.Equal or Pep440Operator.NotEqual && versionText.EndsWith(".*", StringComparison.Ordinal))
        {
            // Only a release segment may precede ".*".
            wildcard = true;
            parsedText = versionText[..^2];
            if (!IsReleaseOnly(parsedText))
            {
                return false;
            }
        }
        var reader = new Pep440Version.Reader(parsedText, 0, parsedText.Length);
        bool allowLocal = op is Pep440Operator.Equal or Pep440Operator.NotEqual && !wildcard;
        if (!reader.TryReadVersion(allowLocal, out var version) || !reader.AtEnd)
        {
            return false;
        }
        if (op == Pep440Operator.Compatible && version.Release.Length < 2)
        {
            return false;
        }
        specifier = new Pep440Specifier(op, versionText, version, wildcard);
        return true;
    }

    /// <summary><c>v?([0-9]+!)?[0-9]+(\.[0-9]+)*</c></summary>
    private static bool IsReleaseOnly(string text)
    {
        int i = 0;
        if (i < text.Length && text[i] is 'v' or 'V')
        {
            i++;
        }
        bool seenBang = false;
        bool expectDigit = true;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsAsciiDigit(c))
            {
                expectDigit = false;
            }
            else if (expectDigit)
            {
                return false;
            }
            else if (c == '!' && !seenBang && !text[..i].Contains('.', StringComparison.Ordinal))
            {
                seenBang = true;
                expectDigit = true;
            }
            else if (c == '.')
            {
                expectDigit = true;
            }
            else
            {
                return false;
            }
        }
        return !expectDigit;
    }

    /// <summary>
    /// <c>Specifier.contains(version, prereleases)</c>: a pre-release is refused unless
    /// <paramref name="prereleases"/>, then the operator decides.
    /// </summary>
    public bool Contains(Pep440Version version, bool prereleases)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.IsPrerelease && !prereleases)
        {
            return false;
        }
        return Operator switch
        {
            Pep440Operator.Compatible => CompareCompatible(version),
            Pep440Operator.Equal => CompareEqual(version, VersionText),
            Pep440Operator.NotEqual => !CompareEqual(version, VersionText),
            Pep440Operator.LessOrEqual => version.WithoutLocal() <= Version,
            Pep440Operator.GreaterOrEqual => version.WithoutLocal() >= Version,
            Pep440Operator.Less => CompareLess(version),
            Pep440Operator.Greater => CompareGreater(version),
            _ => string.Equals(version.Normalized, VersionText, StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <summary>~=X.Y.Z is &gt;=X.Y.Z together with ==X.Y.*, where the prefix is cut from the text.</summary>
    private bool CompareCompatible(Pep440Version version)
    {
        var parts = VersionSplit(VersionText);
        int keep = 0;
        while (keep < parts.Count && IsNotSuffix(parts[keep]))
        {
            keep++;
        }
        var prefix = parts.Take(Math.Max(0, keep - 1)).ToList();
        string prefixText = prefix.Count == 0 ? "" : prefix[0] + "!" + string.Join('.', prefix.Skip(1));
        return version.WithoutLocal() >= Version && CompareEqual(version, prefixText + ".*");
    }

    private static bool CompareEqual(Pep440Version prospective, string spec)
    {
        if (spec.EndsWith(".*", StringComparison.Ordinal))
        {
            string specText = spec[..^2];
            string normalizedSpec = Pep440Version.TryParse(specText, out var specVersion) ? CanonicalWithTrailingZeros(specVersion) : specText;
            var splitSpec = VersionSplit(normalizedSpec);
            var splitProspective = VersionSplit(CanonicalWithTrailingZeros(prospective.WithoutLocal()));
            var padded = PadRelease(splitProspective, splitSpec);
            if (padded.Count < splitSpec.Count)
            {
                return false;
            }
            for (int i = 0; i < splitSpec.Count; i++)
            {
                if (!string.Equals(padded[i], splitSpec[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }
            return true;
        }
        var target = Pep440Version.Parse(spec);
        var candidate = target.Local is null ? prospective.WithoutLocal() : prospective;
        return candidate == target;
    }

    private bool CompareLess(Pep440Version prospective)
    {
        if (!(prospective < Version))
        {
            return false;
        }
        // <V does not admit pre-releases of V itself unless V is one.
        return Version.IsPrerelease || !prospective.IsPrerelease || prospective.BaseOnly() != Version.BaseOnly();
    }

    private bool CompareGreater(Pep440Version prospective)
    {
        if (!(prospective > Version))
        {
            return false;
        }
        // >V does not admit post-releases or local versions of V itself.
        if (!Version.IsPostRelease && prospective.IsPostRelease && prospective.BaseOnly() == Version.BaseOnly())
        {
            return false;
        }
        return prospective.Local is null || prospective.BaseOnly() != Version.BaseOnly();
    }

    /// <summary><c>canonicalize_version(v, strip_trailing_zero=False)</c>, which is <c>str(v)</c>.</summary>
    private static string CanonicalWithTrailingZeros(Pep440Version version) => version.Normalized;

    /// <summary>packaging's <c>_version_split</c>: epoch first, then dot parts with <c>1rc2</c> split into <c>1</c>, <c>rc2</c>.</summary>
    private static List<string> VersionSplit(string version)
    {
        int bang = version.LastIndexOf('!');
        string epoch = bang < 0 ? "" : version[..bang];
        string rest = bang < 0 ? version : version[(bang + 1)..];
        var result = new List<string> { epoch.Length == 0 ? "0" : epoch };
        foreach (string item in rest.Split('.'))
        {
            int digits = 0;
            while (digits < item.Length && char.IsAsciiDigit(item[digits]))
            {
                digits++;
            }
            string tail = item[digits..];
            if (digits > 0 && IsPrefixSuffix(tail))
            {
                result.Add(item[..digits]);
                result.Add(tail);
            }
            else
            {
                result.Add(item);
            }
        }
        return result;
    }

    /// <summary><c>(?:a|b|c|rc)[0-9]+</c>, case-sensitive.</summary>
    private static bool IsPrefixSuffix(string tail)
    {
        int letters = tail.StartsWith("rc", StringComparison.Ordinal) ? 2 : tail.Length > 0 && tail[0] is 'a' or 'b' or 'c' ? 1 : 0;
        if (letters == 0 || tail.Length == letters)
        {
            return false;
        }
        for (int i = letters; i < tail.Length; i++)
        {
            if (!char.IsAsciiDigit(tail[i]))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsNotSuffix(string segment) =>
        !(segment.StartsWith("dev", StringComparison.Ordinal) || segment.StartsWith('a') || segment.StartsWith('b')
          || segment.StartsWith("rc", StringComparison.Ordinal) || segment.StartsWith("post", StringComparison.Ordinal));

    /// <summary>packaging's <c>_pad_version(left, right)</c>, returning the padded left side.</summary>
    private static List<string> PadRelease(List<string> left, List<string> right)
    {
        int leftDigits = left.TakeWhile(IsDigits).Count();
        int rightDigits = right.TakeWhile(IsDigits).Count();
        var result = new List<string>(left.Take(leftDigits));
        result.AddRange(Enumerable.Repeat("0", Math.Max(0, rightDigits - leftDigits)));
        result.AddRange(left.Skip(leftDigits));
        return result;
    }

    private static bool IsDigits(string s) => s.Length > 0 && s.All(char.IsAsciiDigit);

    public override string ToString() => Operator switch
    {
        Pep440Operator.Compatible => "~=",
        Pep440Operator.Equal => "==",
        Pep440Operator.NotEqual => "!=",
        Pep440Operator.LessOrEqual => "<=",
        Pep440Operator.GreaterOrEqual => ">=",
        Pep440Operator.Less => "<",
        Pep440Operator.Greater => ">",
        _ => "===",
    } + VersionText;
}

/// <summary>
/// A comma-separated PEP 440 specifier set with the default pre-release rule of
/// <c>SpecifierSet.contains(version, prereleases=None)</c>: pre-releases are admitted only when some
/// specifier names one with an inclusive operator; an empty set admits every final release.
/// </summary>
public sealed class Pep440SpecifierSet
{
    private Pep440SpecifierSet(ImmutableArray<Pep440Specifier> specifiers) => Specifiers = specifiers;

    public ImmutableArray<Pep440Specifier> Specifiers { get; }

    public static Pep440SpecifierSet Parse(string text) =>
        TryParse(text, out var set) ? set : throw new FormatException($"'{text}' is not a valid PEP 440 specifier set.");

    /// <summary>Parses as <c>SpecifierSet(text)</c>: empty items between commas are ignored.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Pep440SpecifierSet? set)
    {
        set = null;
        if (text is null)
        {
            return false;
        }
        var specifiers = ImmutableArray.CreateBuilder<Pep440Specifier>();
        foreach (string item in text.Split(','))
        {
            if (string.IsNullOrWhiteSpace(item))
            {
                continue;
            }
            if (!Pep440Specifier.TryParse(item, out var specifier))
            {
                return false;
            }
            specifiers.Add(specifier);
        }
        set = new Pep440SpecifierSet(specifiers.ToImmutable());
        return true;
    }

    /// <summary>Whether some specifier admits pre-releases (null for an empty set, as packaging says).</summary>
    public bool? AllowsPrereleases => Specifiers.IsEmpty ? null : Specifiers.Any(s => s.AllowsPrereleases);

    /// <summary><c>SpecifierSet.contains(version)</c> with <c>prereleases=None</c>, or forced when given.</summary>
    public bool Contains(Pep440Version version, bool? prereleases = null)
    {
        ArgumentNullException.ThrowIfNull(version);
        bool allow = prereleases ?? AllowsPrereleases ?? false;
        if (!allow && version.IsPrerelease)
        {
            return false;
        }
        foreach (var specifier in Specifiers)
        {
            if (!specifier.Contains(version, allow))
            {
                return false;
            }
        }
        return true;
    }

    public override string ToString() => string.Join(',', Specifiers.Select(s => s.ToString()));
}
