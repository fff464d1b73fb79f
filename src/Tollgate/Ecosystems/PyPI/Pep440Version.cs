using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>One dot-separated part of a PEP 440 local version label: a number or a lower-case word.</summary>
public readonly record struct Pep440LocalPart(BigInteger? Number, string? Word)
{
    public override string ToString() => Number?.ToString(CultureInfo.InvariantCulture) ?? Word!;
}

/// <summary>
/// A PEP 440 version, parsed, normalised and ordered exactly as <c>packaging.version.Version</c>:
/// <c>[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]</c> with the alternate spellings PEP 440 allows
/// (alpha, beta, c, pre, preview, rev, r, implicit post <c>-N</c>, separators <c>-_.</c>, a leading
/// <c>v</c>, any case, surrounding white space). Numbers are unbounded.
/// </summary>
public sealed class Pep440Version : IComparableVersion, IComparable<Pep440Version>, IEquatable<Pep440Version>
{
    private Pep440Version(
        string original,
        BigInteger epoch,
        ImmutableArray<BigInteger> release,
        (string Letter, BigInteger Number)? pre,
        BigInteger? post,
        BigInteger? dev,
        ImmutableArray<Pep440LocalPart>? local)
    {
        Original = original;
        Epoch = epoch;
        Release = release;
        Pre = pre;
        Post = post;
        Dev = dev;
        Local = local;
        Normalized = Format(includeLocal: true);
    }

    public string Original { get; }

    /// <summary><c>str(Version(text))</c>: the PEP 440 normal form.</summary>
    public string Normalized { get; }

    public BigInteger Epoch { get; }

    /// <summary>The release segment, as written (trailing zeros kept; they do not affect ordering).</summary>
    public ImmutableArray<BigInteger> Release { get; }

    /// <summary>The pre-release: letter <c>a</c>, <c>b</c> or <c>rc</c> and its number.</summary>
    public (string Letter, BigInteger Number)? Pre { get; }

    public BigInteger? Post { get; }

    public BigInteger? Dev { get; }

    /// <summary>The local version label's parts, or null when there is none.</summary>
    public ImmutableArray<Pep440LocalPart>? Local { get; }

    /// <summary>PEP 440: a, b, rc or dev releases are pre-releases.</summary>
    public bool IsPrerelease => Pre is not null || Dev is not null;

    public bool IsPostRelease => Post is not null;

    /// <summary>The version without its local label (<c>Version.public</c>).</summary>
    public string Public => Format(includeLocal: false);

    /// <summary>Epoch and release only (<c>Version.base_version</c>).</summary>
    public string BaseVersion
    {
        get
        {
            var sb = new StringBuilder();
            AppendEpochAndRelease(sb);
            return sb.ToString();
        }
    }

    /// <summary>The same version without its local label.</summary>
    public Pep440Version WithoutLocal() =>
        Local is null ? this : new Pep440Version(Original, Epoch, Release, Pre, Post, Dev, null);

    /// <summary>The same version with only epoch and release.</summary>
    public Pep440Version BaseOnly() =>
        Pre is null && Post is null && Dev is null && Local is null ? this : new Pep440Version(Original, Epoch, Release, null, null, null, null);

    /// <summary>Parses a version; throws <see cref="FormatException"/> when it is not PEP 440.</summary>
    public static Pep440Version Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a valid PEP 440 version.");

    /// <summary>Parses a version as <c>packaging.version.Version(text)</c> does; false where it raises InvalidVersion.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Pep440Version? version)
    {
        version = null;
        if (text is null)
        {
            return false;
        }
        int start = 0, end = text.Length;
        TrimWhiteSpace(text, ref start, ref end);
        var reader = new Reader(text, start, end);
        return reader.TryReadVersion(allowLocal: true, out version) && reader.AtEnd;
    }

    internal static void TrimWhiteSpace(string text, ref int start, ref int end)
    {
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }
    }

    /// <summary>
    /// A hand-written reader for packaging's VERSION_PATTERN. Each optional part is taken greedily;
    /// no valid version needs the regular expression to backtrack out of a part it could take.
    /// </summary>
    internal struct Reader(string text, int position, int end)
    {
        public int Position = position;

        public readonly bool AtEnd => Position == end;

        public readonly bool Peek(char c) => Position < end && char.ToLowerInvariant(text[Position]) == c;

        public bool TryReadVersion(bool allowLocal, [NotNullWhen(true)] out Pep440Version? version)
        {
            version = null;
            int begin = Position;
            if (Peek('v'))
            {
                Position++;
            }
            BigInteger epoch = BigInteger.Zero;
            if (!TryReadNumber(out var first))
            {
                return false;
            }
            if (Position < end && text[Position] == '!')
            {
                Position++;
                epoch = first;
                if (!TryReadNumber(out first))
                {
                    return false;
                }
            }
            var release = ImmutableArray.CreateBuilder<BigInteger>();
            release.Add(first);
            while (Position + 1 < end && text[Position] == '.' && char.IsAsciiDigit(text[Position + 1]))
            {
                Position++;
                TryReadNumber(out var n);
                release.Add(n);
            }

            (string, BigInteger)? pre = null;
            int save = Position;
            SkipSeparator();
            if (TryReadWord(["preview", "alpha", "beta", "pre", "rc", "a", "b", "c"], out string? preWord))
            {
                SkipSeparator();
                TryReadNumber(out var n);
                pre = (preWord switch { "alpha" => "a", "beta" => "b", "c" or "pre" or "preview" => "rc", _ => preWord }, n);
            }
            else
            {
                Position = save;
            }

            BigInteger? post = null;
            save = Position;
            if (Position + 1 < end && text[Position] == '-' && char.IsAsciiDigit(text[Position + 1]))
            {
                Position++;
                TryReadNumber(out var n);
                post = n;
            }
            else
            {
                SkipSeparator();
                if (TryReadWord(["post", "rev", "r"], out _))
                {
                    SkipSeparator();
                    TryReadNumber(out var n);
                    post = n;
                }
                else
                {
                    Position = save;
                }
            }

            BigInteger? dev = null;
            save = Position;
            SkipSeparator();
            if (TryReadWord(["dev"], out _))
            {
                SkipSeparator();
                TryReadNumber(out var n);
                dev = n;
            }
            else
            {
                Position = save;
            }

            ImmutableArray<Pep440LocalPart>? local = null;
            if (allowLocal && Position < end && text[Position] == '+')
            {
                Position++;
                var parts = ImmutableArray.CreateBuilder<Pep440LocalPart>();
                while (true)
                {
                    int partStart = Position;
                    while (Position < end && char.IsAsciiLetterOrDigit(text[Position]))
                    {
                        Position++;
                    }
                    if (Position == partStart)
                    {
                        return false;
                    }
                    string part = text[partStart..Position].ToLowerInvariant();
                    parts.Add(IsAllDigits(part)
                        ? new Pep440LocalPart(BigInteger.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture), null)
                        : new Pep440LocalPart(null, part));
                    if (Position + 1 < end && text[Position] is '-' or '_' or '.' && char.IsAsciiLetterOrDigit(text[Position + 1]))
                    {
                        Position++;
                        continue;
                    }
                    break;
                }
                local = parts.ToImmutable();
            }
            version = new Pep440Version(text[begin..Position], epoch, release.ToImmutable(), pre, post, dev, local);
            return true;
        }

        public void SkipSeparator()
        {
            if (Position < end && text[Position] is '-' or '_' or '.')
            {
                Position++;
            }
        }

        /// <summary>Reads one of the words (longest listed first), case-insensitively.</summary>
        public bool TryReadWord(string[] words, [NotNullWhen(true)] out string? word)
        {
            foreach (string candidate in words)
            {
                if (end - Position >= candidate.Length
                    && string.Compare(text, Position, candidate, 0, candidate.Length, StringComparison.OrdinalIgnoreCase) == 0)
                {
                    Position += candidate.Length;
                    word = candidate;
                    return true;
                }
            }
            word = null;
            return false;
        }

        /// <summary>Reads <c>[0-9]+</c>; zero when there are no digits.</summary>
        public bool TryReadNumber(out BigInteger value)
        {
            int begin = Position;
            while (Position < end && char.IsAsciiDigit(text[Position]))
            {
                Position++;
            }
            value = Position == begin ? BigInteger.Zero : BigInteger.Parse(text.AsSpan(begin, Position - begin), NumberStyles.None, CultureInfo.InvariantCulture);
            return Position > begin;
        }
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

    private void AppendEpochAndRelease(StringBuilder sb)
    {
        if (!Epoch.IsZero)
        {
            sb.Append(Epoch.ToString(CultureInfo.InvariantCulture)).Append('!');
        }
        for (int i = 0; i < Release.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('.');
            }
            sb.Append(Release[i].ToString(CultureInfo.InvariantCulture));
        }
    }

    private string Format(bool includeLocal)
    {
        var sb = new StringBuilder();
        AppendEpochAndRelease(sb);
        if (Pre is { } pre)
        {
            sb.Append(pre.Letter).Append(pre.Number.ToString(CultureInfo.InvariantCulture));
        }
        if (Post is { } post)
        {
            sb.Append(".post").Append(post.ToString(CultureInfo.InvariantCulture));
        }
        if (Dev is { } dev)
        {
            sb.Append(".dev").Append(dev.ToString(CultureInfo.InvariantCulture));
        }
        if (includeLocal && Local is { } local)
        {
            sb.Append('+').AppendJoin('.', local);
        }
        return sb.ToString();
    }

    /// <summary>Orders as packaging's <c>_cmpkey</c>: epoch, release without trailing zeros, pre, post, dev, local.</summary>
    public int CompareTo(Pep440Version? other)
    {
        if (other is null)
        {
            return 1;
        }
        int c = Epoch.CompareTo(other.Epoch);
        if (c != 0)
        {
            return Math.Sign(c);
        }
        c = CompareRelease(Release, other.Release);
        if (c != 0)
        {
            return c;
        }
        c = PreKey().CompareTo(other.PreKey());
        if (c != 0)
        {
            return Math.Sign(c);
        }
        c = CompareOptional(Post, other.Post, missingIsLow: true);
        if (c != 0)
        {
            return c;
        }
        c = CompareOptional(Dev, other.Dev, missingIsLow: false);
        return c != 0 ? c : CompareLocal(Local, other.Local);
    }

    private static int CompareRelease(ImmutableArray<BigInteger> a, ImmutableArray<BigInteger> b)
    {
        int n = Math.Max(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            var x = i < a.Length ? a[i] : BigInteger.Zero;
            var y = i < b.Length ? b[i] : BigInteger.Zero;
            int c = x.CompareTo(y);
            if (c != 0)
            {
                return Math.Sign(c);
            }
        }
        return 0;
    }

    /// <summary>
    /// The pre-release position as (rank, number): a dev-only release sorts before every pre-release
    /// (rank 0), a/b/rc by letter (1..3), and a version without pre-release after them (rank 4).
    /// </summary>
    private (int Rank, BigInteger Number) PreKey() => Pre switch
    {
        null when Post is null && Dev is not null => (0, BigInteger.Zero),
        null => (4, BigInteger.Zero),
        { Letter: "a" } p => (1, p.Number),
        { Letter: "b" } p => (2, p.Number),
        { } p => (3, p.Number),
    };

    private static int CompareOptional(BigInteger? a, BigInteger? b, bool missingIsLow)
    {
        if (a is null || b is null)
        {
            return a is null == b is null ? 0 : (a is null) == missingIsLow ? -1 : 1;
        }
        return Math.Sign(a.Value.CompareTo(b.Value));
    }

    /// <summary>No label sorts first; parts compare words before numbers, words by code point, numbers numerically, shorter first.</summary>
    private static int CompareLocal(ImmutableArray<Pep440LocalPart>? a, ImmutableArray<Pep440LocalPart>? b)
    {
        if (a is null || b is null)
        {
            return a is null == b is null ? 0 : a is null ? -1 : 1;
        }
        var x = a.Value;
        var y = b.Value;
        for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            var p = x[i];
            var q = y[i];
            int c = (p.Number, q.Number) switch
            {
                ({ } m, { } n) => m.CompareTo(n),
                (null, null) => string.CompareOrdinal(p.Word, q.Word),
                (null, _) => -1,
                _ => 1,
            };
            if (c != 0)
            {
                return Math.Sign(c);
            }
        }
        return x.Length.CompareTo(y.Length);
    }

    public bool Equals(Pep440Version? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is Pep440Version other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Epoch);
        int last = Release.Length - 1;
        while (last > 0 && Release[last].IsZero)
        {
            last--;
        }
        for (int i = 0; i <= last; i++)
        {
            hash.Add(Release[i]);
        }
        hash.Add(Pre);
        hash.Add(Post);
        hash.Add(Dev);
        hash.Add(Local?.Length ?? -1);
        return hash.ToHashCode();
    }

    public override string ToString() => Normalized;

    public static bool operator ==(Pep440Version? left, Pep440Version? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(Pep440Version? left, Pep440Version? right) => !(left == right);

    public static bool operator <(Pep440Version left, Pep440Version right) => left.CompareTo(right) < 0;

    public static bool operator <=(Pep440Version left, Pep440Version right) => left.CompareTo(right) <= 0;

    public static bool operator >(Pep440Version left, Pep440Version right) => left.CompareTo(right) > 0;

    public static bool operator >=(Pep440Version left, Pep440Version right) => left.CompareTo(right) >= 0;
}
