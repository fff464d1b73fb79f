using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Tollgate.Ecosystems.Npm;

/// <summary>The operator of one primitive comparator of a node-semver range.</summary>
public enum NpmComparatorOperator
{
    /// <summary>Matches every version (the empty comparator, from <c>*</c>, <c>x</c> or an empty range).</summary>
    Any,
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>A primitive comparator such as <c>&gt;=1.2.3</c>; <see cref="Version"/> is null for <see cref="NpmComparatorOperator.Any"/>.</summary>
public sealed record NpmComparator(NpmComparatorOperator Operator, NpmVersion? Version)
{
    /// <summary>node-semver's comparator <c>value</c>: the operator and normalised version, empty for any.</summary>
    public string Value => Operator switch
    {
        NpmComparatorOperator.Any => "",
        NpmComparatorOperator.Equal => Version!.Normalized,
        NpmComparatorOperator.Less => "<" + Version!.Normalized,
        NpmComparatorOperator.LessOrEqual => "<=" + Version!.Normalized,
        NpmComparatorOperator.Greater => ">" + Version!.Normalized,
        _ => ">=" + Version!.Normalized,
    };

    /// <summary>Tests the version against this comparator alone (no pre-release rule).</summary>
    public bool Test(NpmVersion version)
    {
        if (Operator == NpmComparatorOperator.Any)
        {
            return true;
        }
        int c = version.CompareTo(Version);
        return Operator switch
        {
            NpmComparatorOperator.Equal => c == 0,
            NpmComparatorOperator.Less => c < 0,
            NpmComparatorOperator.LessOrEqual => c <= 0,
            NpmComparatorOperator.Greater => c > 0,
            _ => c >= 0,
        };
    }

    public override string ToString() => Value;
}

/// <summary>
/// A node-semver range: a union (<c>||</c>) of comparator sets that all must hold. Parsing desugars
/// hyphen ranges, x-ranges, tilde and caret exactly as node-semver 7 does (same rewriting steps in
/// the same order) so that <see cref="IsSatisfiedBy"/> answers as <c>semver.satisfies</c> does.
/// </summary>
public sealed class NpmRange
{
    private const string NullSet = "<0.0.0-0";

    private NpmRange(string raw, ImmutableArray<ImmutableArray<NpmComparator>> sets, bool includePrerelease)
    {
        Raw = raw;
        Sets = sets;
        IncludePrerelease = includePrerelease;
    }

    /// <summary>The range text with white space collapsed, as node-semver keeps it.</summary>
    public string Raw { get; }

    /// <summary>The comparator sets; a version satisfies the range when it satisfies any set.</summary>
    public ImmutableArray<ImmutableArray<NpmComparator>> Sets { get; }

    /// <summary>Whether pre-releases were allowed to match any comparator (node-semver's <c>includePrerelease</c>).</summary>
    public bool IncludePrerelease { get; }

    /// <summary>Parses a range; throws <see cref="FormatException"/> when node-semver would.</summary>
    public static NpmRange Parse(string text, bool includePrerelease = false) =>
        TryParse(text, includePrerelease, out var range) ? range : throw new FormatException($"'{text}' is not a valid npm range.");

    /// <summary>Parses a range as <c>new Range(text, { includePrerelease })</c> does; false when it would throw.</summary>
    public static bool TryParse(string? text, bool includePrerelease, [NotNullWhen(true)] out NpmRange? range)
    {
        range = null;
        if (text is null)
        {
            return false;
        }
        string raw = CollapseWhiteSpace(text);
        var sets = new List<ImmutableArray<NpmComparator>>();
        foreach (string part in raw.Split("||"))
        {
            if (!TryParseSet(part.Trim(), includePrerelease, out var set))
            {
                return false;
            }
            sets.Add(set);
        }
        if (sets.Count > 1)
        {
            // node-semver drops impossible sets, and a lone "any" set swallows the others (which
            // also drops their pre-release allowances: "* || 1.2.3-beta" does not match 1.2.3-beta).
            var first = sets[0];
            sets.RemoveAll(s => s[0].Value == NullSet);
            if (sets.Count == 0)
            {
                sets.Add(first);
            }
            else if (sets.Count > 1)
            {
                foreach (var s in sets)
                {
                    if (s.Length == 1 && s[0].Operator == NpmComparatorOperator.Any)
                    {
                        sets = [s];
                        break;
                    }
                }
            }
        }
        range = new NpmRange(raw, [.. sets], includePrerelease);
        return true;
    }

    /// <summary>
    /// <c>semver.satisfies</c>: some set has every comparator true, and a pre-release version is only
    /// admitted by a set with a comparator that has a pre-release on the same major.minor.patch
    /// (unless <see cref="IncludePrerelease"/>).
    /// </summary>
    public bool IsSatisfiedBy(NpmVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        foreach (var set in Sets)
        {
            if (TestSet(set, version))
            {
                return true;
            }
        }
        return false;
    }

    private bool TestSet(ImmutableArray<NpmComparator> set, NpmVersion version)
    {
        foreach (var comparator in set)
        {
            if (!comparator.Test(version))
            {
                return false;
            }
        }
        if (!version.IsPrerelease || IncludePrerelease)
        {
            return true;
        }
        foreach (var comparator in set)
        {
            var allowed = comparator.Version;
            if (allowed is not null && allowed.IsPrerelease
                && allowed.Major == version.Major && allowed.Minor == version.Minor && allowed.Patch == version.Patch)
            {
                return true;
            }
        }
        return false;
    }

    public override string ToString() =>
        string.Join("||", Sets.Select(set => string.Join(' ', set.Select(c => c.Value))));

    // ---- parsing: node-semver's rewriting pipeline, without regular expressions ----

    private static string CollapseWhiteSpace(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char c in text.AsSpan().Trim())
        {
            if (NpmVersion.IsJsWhiteSpace(c))
            {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace && sb.Length > 0)
            {
                sb.Append(' ');
            }
            pendingSpace = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool TryParseSet(string part, bool includePrerelease, out ImmutableArray<NpmComparator> set)
    {
        set = default;
        string rewritten = TryRewriteHyphenRange(part, includePrerelease) ?? part;
        var tokens = TrimOperators(rewritten.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList());

        var comparatorTexts = new List<string>();
        foreach (string token in tokens)
        {
            foreach (string piece in ParseComparator(token, includePrerelease).Split(' '))
            {
                comparatorTexts.Add(IsGreaterOrEqualZero(piece, includePrerelease) ? "" : piece);
            }
        }
        if (comparatorTexts.Count == 0)
        {
            comparatorTexts.Add("");
        }

        var comparators = new List<NpmComparator>(comparatorTexts.Count);
        foreach (string text in comparatorTexts)
        {
            if (!TryParseComparator(text, out var comparator))
            {
                return false;
            }
            comparators.Add(comparator);
        }
        foreach (var comparator in comparators)
        {
            if (comparator.Value == NullSet)
            {
                set = [comparator];
                return true;
            }
        }
        var byValue = new Dictionary<string, NpmComparator>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var comparator in comparators)
        {
            if (byValue.TryAdd(comparator.Value, comparator))
            {
                order.Add(comparator.Value);
            }
            else
            {
                byValue[comparator.Value] = comparator;
            }
        }
        if (order.Count > 1)
        {
            order.Remove("");
        }
        set = [.. order.Select(v => byValue[v])];
        return true;
    }

    /// <summary>
    /// The effect of node-semver's COMPARATORTRIM, TILDETRIM and CARETTRIM: white space after an
    /// operator is removed, so <c>&gt;= 1.2</c>, <c>~ 1.2</c> and <c>^ 1.2</c> become one comparator.
    /// </summary>
    private static List<string> TrimOperators(List<string> tokens)
    {
        tokens = MergeWhere(tokens, (token, next) => EndsWithComparisonOperator(token) && StartsLikeVersion(next), dropSuffix: 0);
        tokens = MergeWhere(tokens, (token, _) => token is "~", dropSuffix: 0);
        tokens = MergeWhere(tokens, (token, _) => token is "~>", dropSuffix: 1);
        tokens = MergeWhere(tokens, (token, _) => token is "^", dropSuffix: 0);
        return tokens;
    }

    private static List<string> MergeWhere(List<string> tokens, Func<string, string, bool> joins, int dropSuffix)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            if (i + 1 < tokens.Count && joins(tokens[i], tokens[i + 1]))
            {
                result.Add(tokens[i][..^dropSuffix] + tokens[i + 1]);
                i++;
            }
            else
            {
                result.Add(tokens[i]);
            }
        }
        return result;
    }

    private static bool EndsWithComparisonOperator(string token) =>
        token.Length > 0 && token[^1] is '<' or '>' or '=';

    /// <summary>What node-semver's LOOSEPLAIN or XRANGEPLAIN can start with: <c>[v=]*</c> then a digit, x, X or *.</summary>
    private static bool StartsLikeVersion(string token)
    {
        foreach (char c in token)
        {
            if (c is 'v' or '=')
            {
                continue;
            }
            return char.IsAsciiDigit(c) || c is 'x' or 'X' or '*';
        }
        return false;
    }

    /// <summary>An x-range operand: <c>[v=]*</c> then up to three parts of a number, x, X or *; pre-release and build only after three.</summary>
    private readonly record struct XRangePlain(string Text, string Major, string? Minor, string? Patch, string? Prerelease);

    /// <summary>Matches node-semver's XRANGEPLAIN against the whole of <paramref name="text"/>.</summary>
    private static bool TryMatchXRangePlain(string text, out XRangePlain match)
    {
        match = default;
        int i = 0, end = text.Length;
        while (i < end && text[i] is 'v' or '=' or ' ')
        {
            i++;
        }
        if (!TryReadXRangeIdentifier(text, ref i, out string? major))
        {
            return false;
        }
        string? minor = null, patch = null, prerelease = null;
        if (i < end && text[i] == '.')
        {
            i++;
            if (!TryReadXRangeIdentifier(text, ref i, out minor))
            {
                return false;
            }
            if (i < end && text[i] == '.')
            {
                i++;
                if (!TryReadXRangeIdentifier(text, ref i, out patch))
                {
                    return false;
                }
                if (i < end && text[i] == '-')
                {
                    int begin = ++i;
                    if (!SkipIdentifiers(text, ref i, prerelease: true))
                    {
                        return false;
                    }
                    prerelease = text[begin..i];
                }
                if (i < end && text[i] == '+')
                {
                    i++;
                    if (!SkipIdentifiers(text, ref i, prerelease: false))
                    {
                        return false;
                    }
                }
            }
        }
        if (i != end)
        {
            return false;
        }
        match = new XRangePlain(text, major, minor, patch, prerelease);
        return true;
    }

    private static bool TryReadXRangeIdentifier(string text, ref int i, [NotNullWhen(true)] out string? identifier)
    {
        identifier = null;
        if (i >= text.Length)
        {
            return false;
        }
        char c = text[i];
        if (c is 'x' or 'X' or '*' or '0')
        {
            identifier = c.ToString();
            i++;
            return true;
        }
        int begin = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }
        if (i == begin)
        {
            return false;
        }
        identifier = text[begin..i];
        return true;
    }

    private static bool SkipIdentifiers(string text, ref int i, bool prerelease)
    {
        while (true)
        {
            int begin = i;
            bool allDigits = true;
            while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '-'))
            {
                allDigits &= char.IsAsciiDigit(text[i]);
                i++;
            }
            if (i == begin || (prerelease && allDigits && i - begin > 1 && text[begin] == '0'))
            {
                return false;
            }
            if (i < text.Length && text[i] == '.')
            {
                i++;
                continue;
            }
            return true;
        }
    }

    private static bool IsX(string? id) => id is null or "x" or "X" or "*";

    /// <summary>
    /// The JavaScript <c>+id + 1</c> on a captured number. Numbers beyond 2^53 are out of node-semver's
    /// range anyway; the comparator they end up in fails to parse.
    /// </summary>
    private static string Increment(string number) =>
        long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n < long.MaxValue
            ? (n + 1).ToString(CultureInfo.InvariantCulture)
            : "Infinity";

    /// <summary>HYPHENRANGE: <c>A - B</c> becomes <c>&gt;=A &lt;=B</c> with x-range rounding on each side.</summary>
    private static string? TryRewriteHyphenRange(string part, bool includePrerelease)
    {
        for (int at = part.IndexOf(" - ", StringComparison.Ordinal); at >= 0; at = part.IndexOf(" - ", at + 1, StringComparison.Ordinal))
        {
            if (!TryMatchXRangePlain(part[..at], out var from) || !TryMatchXRangePlain(part[(at + 3)..], out var to))
            {
                continue;
            }
            string z = includePrerelease ? "-0" : "";
            string fromText =
                IsX(from.Major) ? ""
                : IsX(from.Minor) ? $">={from.Major}.0.0{z}"
                : IsX(from.Patch) ? $">={from.Major}.{from.Minor}.0{z}"
                : from.Prerelease is not null ? $">={from.Text}"
                : $">={from.Text}{z}";
            string toText =
                IsX(to.Major) ? ""
                : IsX(to.Minor) ? $"<{Increment(to.Major)}.0.0-0"
                : IsX(to.Patch) ? $"<{to.Major}.{Increment(to.Minor!)}.0-0"
                : to.Prerelease is not null ? $"<={to.Major}.{to.Minor}.{to.Patch}-{to.Prerelease}"
                : includePrerelease ? $"<{to.Major}.{to.Minor}.{Increment(to.Patch!)}-0"
                : $"<={to.Text}";
            return $"{fromText} {toText}".Trim();
        }
        return null;
    }

    /// <summary>node-semver's <c>parseComparator</c>: carets, then tildes, then x-ranges, then stars.</summary>
    private static string ParseComparator(string token, bool includePrerelease)
    {
        string text = ReplaceCaret(token, includePrerelease);
        text = string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ReplaceTilde));
        text = string.Join(' ', text.Split(' ').Select(t => ReplaceXRange(t, includePrerelease)));
        return ReplaceFirstStar(text.Trim());
    }

    private static string ReplaceTilde(string token)
    {
        if (!token.StartsWith('~'))
        {
            return token;
        }
        string rest = token.StartsWith("~>", StringComparison.Ordinal) ? token[2..] : token[1..];
        if (!TryMatchXRangePlain(rest, out var x))
        {
            // "~>" may also be "~" followed by an operand starting with '>', which never matches.
            return token;
        }
        string m = x.Major;
        return IsX(m) ? ""
            : IsX(x.Minor) ? $">={m}.0.0 <{Increment(m)}.0.0-0"
            : IsX(x.Patch) ? $">={m}.{x.Minor}.0 <{m}.{Increment(x.Minor!)}.0-0"
            : x.Prerelease is not null ? $">={m}.{x.Minor}.{x.Patch}-{x.Prerelease} <{m}.{Increment(x.Minor!)}.0-0"
            : $">={m}.{x.Minor}.{x.Patch} <{m}.{Increment(x.Minor!)}.0-0";
    }

    private static string ReplaceCaret(string token, bool includePrerelease)
    {
        if (!token.StartsWith('^') || !TryMatchXRangePlain(token[1..], out var x))
        {
            return token;
        }
        string z = includePrerelease ? "-0" : "";
        string M = x.Major, m = x.Minor ?? "", p = x.Patch ?? "";
        if (IsX(M))
        {
            return "";
        }
        if (IsX(x.Minor))
        {
            return $">={M}.0.0{z} <{Increment(M)}.0.0-0";
        }
        if (IsX(x.Patch))
        {
            return M == "0"
                ? $">={M}.{m}.0{z} <{M}.{Increment(m)}.0-0"
                : $">={M}.{m}.0{z} <{Increment(M)}.0.0-0";
        }
        if (x.Prerelease is { } pr)
        {
            return M == "0"
                ? m == "0"
                    ? $">={M}.{m}.{p}-{pr} <{M}.{m}.{Increment(p)}-0"
                    : $">={M}.{m}.{p}-{pr} <{M}.{Increment(m)}.0-0"
                : $">={M}.{m}.{p}-{pr} <{Increment(M)}.0.0-0";
        }
        return M == "0"
            ? m == "0"
                ? $">={M}.{m}.{p}{z} <{M}.{m}.{Increment(p)}-0"
                : $">={M}.{m}.{p}{z} <{M}.{Increment(m)}.0-0"
            : $">={M}.{m}.{p} <{Increment(M)}.0.0-0";
    }

    private static string ReplaceXRange(string token, bool includePrerelease)
    {
        // GTLT is "((?:<|>)?=?)", greedy.
        int i = 0;
        if (i < token.Length && token[i] is '<' or '>')
        {
            i++;
        }
        if (i < token.Length && token[i] == '=')
        {
            i++;
        }
        string gtlt = token[..i];
        if (!TryMatchXRangePlain(token[i..], out var x))
        {
            return token;
        }
        bool xM = IsX(x.Major), xm = xM || IsX(x.Minor), xp = xm || IsX(x.Patch);
        if (gtlt == "=" && xp)
        {
            gtlt = "";
        }
        string pr = includePrerelease ? "-0" : "";
        if (xM)
        {
            return gtlt is ">" or "<" ? NullSet : "*";
        }
        if (gtlt.Length > 0 && xp)
        {
            string M = x.Major, m = xm ? "0" : x.Minor!, p = "0";
            if (gtlt == ">")
            {
                gtlt = ">=";
                if (xm)
                {
                    M = Increment(M);
                    m = "0";
                }
                else
                {
                    m = Increment(m);
                }
                p = "0";
            }
            else if (gtlt == "<=")
            {
                gtlt = "<";
                if (xm)
                {
                    M = Increment(M);
                }
                else
                {
                    m = Increment(m);
                }
            }
            if (gtlt == "<")
            {
                pr = "-0";
            }
            return $"{gtlt}{M}.{m}.{p}{pr}";
        }
        if (xm)
        {
            return $">={x.Major}.0.0{pr} <{Increment(x.Major)}.0.0-0";
        }
        if (xp)
        {
            return $">={x.Major}.{x.Minor}.0{pr} <{x.Major}.{Increment(x.Minor!)}.0-0";
        }
        return token;
    }

    /// <summary>STAR, <c>(&lt;|&gt;)?=?\s*\*</c>, replaced once (the first match) by nothing.</summary>
    private static string ReplaceFirstStar(string text)
    {
        int star = text.IndexOf('*', StringComparison.Ordinal);
        if (star < 0)
        {
            return text;
        }
        int start = star;
        while (start > 0 && text[start - 1] == ' ')
        {
            start--;
        }
        if (start > 0 && text[start - 1] == '=')
        {
            start--;
        }
        if (start > 0 && text[start - 1] is '<' or '>')
        {
            start--;
        }
        return text[..start] + text[(star + 1)..];
    }

    private static bool IsGreaterOrEqualZero(string piece, bool includePrerelease) =>
        piece == (includePrerelease ? ">=0.0.0-0" : ">=0.0.0");

    /// <summary>COMPARATOR: <c>^((?:&lt;|&gt;)?=?)\s*(v?M.m.p[-pre][+build])$</c> or empty.</summary>
    private static bool TryParseComparator(string text, [NotNullWhen(true)] out NpmComparator? comparator)
    {
        comparator = null;
        if (text.Length == 0)
        {
            comparator = new NpmComparator(NpmComparatorOperator.Any, null);
            return true;
        }
        int i = 0;
        bool less = false, greater = false, equal = false;
        if (text[i] is '<' or '>')
        {
            less = text[i] == '<';
            greater = !less;
            i++;
        }
        if (i < text.Length && text[i] == '=')
        {
            equal = true;
            i++;
        }
        string operand = text[i..];
        if (operand.Length == 0 || NpmVersion.IsJsWhiteSpace(operand[0]) || !NpmVersion.TryParse(operand, out var version))
        {
            return false;
        }
        var op = less ? (equal ? NpmComparatorOperator.LessOrEqual : NpmComparatorOperator.Less)
            : greater ? (equal ? NpmComparatorOperator.GreaterOrEqual : NpmComparatorOperator.Greater)
            : NpmComparatorOperator.Equal;
        comparator = new NpmComparator(op, version);
        return true;
    }
}
