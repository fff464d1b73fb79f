using System.Diagnostics.CodeAnalysis;
using Tollgate.Graph;

namespace Tollgate.Policy;

/// <summary>
/// A pattern naming packages in a policy list: a name with <c>*</c> globs (<c>@acme/*</c>, <c>acme-*</c>), optionally
/// followed by a version or range (<c>sharp@^0.33.0</c>, <c>Newtonsoft.Json@[13.0.1,)</c>, <c>requests&gt;=2,&lt;3</c>),
/// or a package URL (<c>pkg:npm/left-pad</c>, <c>pkg:npm/lodash@4.17.20</c>). See docs/policy.md for the syntax.
/// </summary>
public sealed record PackagePattern
{
    private const string PyPISpecifierStart = "=<>!~";

    private PackagePattern(string text, Ecosystem? ecosystem, string name, string? version)
    {
        Text = text;
        Ecosystem = ecosystem;
        Name = name;
        Version = version;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>The only ecosystem the pattern applies to (purls and PyPI specifier forms), or null for every ecosystem.</summary>
    public Ecosystem? Ecosystem { get; }

    /// <summary>The name part, possibly with <c>*</c> globs, as written.</summary>
    public string Name { get; }

    /// <summary>The version or range part as written, or null when any version matches.</summary>
    public string? Version { get; }

    /// <summary>Where the pattern is written in the policy file.</summary>
    public SourceLocation? Location { get; init; }

    public override string ToString() => Text;

    /// <summary>Parses a pattern; throws <see cref="FormatException"/> with the reason when it is not one.</summary>
    public static PackagePattern Parse(string text) =>
        TryParse(text, out var pattern, out var error) ? pattern : throw new FormatException(error);

    /// <summary>Parses a pattern, or returns false with a reason a user can act on.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out PackagePattern? pattern, [NotNullWhen(false)] out string? error)
    {
        pattern = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "a package pattern cannot be empty";
            return false;
        }
        if (text.StartsWith("pkg:", StringComparison.OrdinalIgnoreCase))
        {
            return TryParsePurl(text, out pattern, out error);
        }

        Ecosystem? ecosystem = null;
        string name;
        string? version = null;
        // The version follows the last '@' that is not the first character: '@acme/cli@^2' is '@acme/cli' at '^2'.
        var at = text.LastIndexOf('@');
        var op = text.IndexOfAny(PyPISpecifierStart.ToCharArray());
        if (at > 0 && (op < 0 || op > at))
        {
            name = text[..at];
            version = text[(at + 1)..].Trim();
            if (version.Length == 0)
            {
                error = $"'{text}' has nothing after '@': write a version or a range, or leave out the '@'";
                return false;
            }
        }
        else if (op >= 0)
        {
            if (op == 0)
            {
                error = $"'{text}' starts with a version operator: a pattern starts with a package name";
                return false;
            }
            // PEP 440 specifiers written straight after the name ('requests>=2,<3') only make sense for PyPI.
            name = text[..op].TrimEnd();
            version = text[op..].Trim();
            ecosystem = Graph.Ecosystem.PyPI;
        }
        else
        {
            name = text;
        }
        if (!IsValidName(name, out error))
        {
            return false;
        }
        if (version is not null && !IsValidVersion(version, out error))
        {
            return false;
        }
        pattern = new PackagePattern(text, ecosystem, name, version);
        error = null;
        return true;
    }

    private static bool TryParsePurl(string text, [NotNullWhen(true)] out PackagePattern? pattern, [NotNullWhen(false)] out string? error)
    {
        pattern = null;
        if (!PackageUrl.TryParse(text, out var purl, out var purlError))
        {
            error = $"'{text}' is not a valid package URL: {purlError}";
            return false;
        }
        if (!EcosystemNames.TryParse(purl.Type, out var ecosystem))
        {
            error = $"package URL type '{purl.Type}' is not supported: use pkg:npm/, pkg:pypi/ or pkg:nuget/";
            return false;
        }
        if (!purl.Qualifiers.IsEmpty || purl.Subpath is not null)
        {
            error = $"'{text}' has qualifiers or a subpath: a pattern names a package and optionally a version, nothing more";
            return false;
        }
        var name = purl.FullName;
        if (!IsValidName(name, out error))
        {
            return false;
        }
        if (purl.Version is not null && !IsBareVersion(purl.Version))
        {
            error = $"'{text}' has version '{purl.Version}': a package URL names one exact version; for a range write name@range";
            return false;
        }
        pattern = new PackagePattern(text, ecosystem, name, purl.Version);
        return true;
    }

    private static bool IsValidName(string name, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (name.Length == 0)
        {
            error = "a package pattern needs a name";
            return false;
        }
        var slash = -1;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '*' || (c == '@' && i == 0))
            {
                continue;
            }
            if (c == '/' && name[0] == '@' && slash < 0)
            {
                slash = i;
                continue;
            }
            error = char.IsWhiteSpace(c)
                ? $"'{name}' contains a space: a package name has none; put a version or range after '@'"
                : $"'{name}' contains '{c}', which no package name does";
            return false;
        }
        if (name[0] == '@' && (slash < 2 || slash == name.Length - 1))
        {
            error = $"'{name}' starts with '@' but is not a scoped npm name: write @scope/name or @scope/*";
            return false;
        }
        return true;
    }

    private static bool IsValidVersion(string version, [NotNullWhen(false)] out string? error)
    {
        foreach (var c in version)
        {
            if (char.IsControl(c) || c == '@')
            {
                error = $"version or range '{version}' contains '{(char.IsControl(c) ? "a control character" : c)}'";
                return false;
            }
        }
        error = null;
        return true;
    }

    /// <summary>True when <paramref name="text"/> is one plain version (<c>1.2.3</c>, <c>v2.0.0-rc.1</c>) rather than a range.</summary>
    internal static bool IsBareVersion(string text)
    {
        var s = text.StartsWith('v') || text.StartsWith('V') ? text[1..] : text;
        if (s.Length == 0 || !char.IsAsciiDigit(s[0]))
        {
            return false;
        }
        foreach (var c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '+' or '_' or '!'))
            {
                return false;
            }
        }
        // '1.x' and '1.X' are npm ranges, not versions.
        foreach (var part in s.Split('.'))
        {
            if (part is "x" or "X")
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The range to check a version of <paramref name="ecosystem"/> against. A bare version means exactly that version
    /// in every ecosystem, so it is rewritten in the ecosystem's exact form (NuGet's bare version would mean "or higher").
    /// </summary>
    public string? RangeFor(Ecosystem ecosystem)
    {
        if (Version is null || !IsBareVersion(Version))
        {
            return Version;
        }
        return ecosystem switch
        {
            Graph.Ecosystem.PyPI => "==" + Version,
            Graph.Ecosystem.NuGet => "[" + Version + "]",
            _ => Version,
        };
    }

    /// <summary>
    /// Whether the component matches: true or false, or null when the name matches but the version check cannot
    /// be decided (the component is unresolved or the range cannot be read).
    /// </summary>
    public bool? Matches(Component component, IVersionRangeMatcher? versions = null)
    {
        if (Ecosystem is { } only && only != component.Ecosystem)
        {
            return false;
        }
        if (!Glob(Component.NormalizeName(component.Ecosystem, Name), Component.NormalizeName(component.Ecosystem, component.Name)))
        {
            return false;
        }
        var range = RangeFor(component.Ecosystem);
        if (range is null)
        {
            return true;
        }
        if (!component.Resolved)
        {
            return null;
        }
        return (versions ?? SchemeVersionMatcher.Instance).Satisfies(component.Ecosystem, component.Version, range);
    }

    /// <summary>The first pattern that matches the component for certain, or null.</summary>
    public static PackagePattern? FirstMatch(IEnumerable<PackagePattern> patterns, Component component, IVersionRangeMatcher? versions = null)
    {
        foreach (var pattern in patterns)
        {
            if (pattern.Matches(component, versions) == true)
            {
                return pattern;
            }
        }
        return null;
    }

    /// <summary>Glob with '*' (any run of characters, '/' included) over already normalised names.</summary>
    internal static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
