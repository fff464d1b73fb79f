using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// A dependency specifier (PEP 508): <c>name[extra1,extra2] (specifier) ; marker</c> or <c>name[extras] @ url ; marker</c>.
/// Only the structure is parsed: versions and markers stay text (markers are recorded, never evaluated).
/// </summary>
/// <param name="Name">The name as written.</param>
/// <param name="Extras">The extras requested, as written.</param>
/// <param name="Specifier">The version specifier text without parentheses, e.g. <c>&gt;=1.0,&lt;2</c>; empty for any version.</param>
/// <param name="Url">The direct reference after <c>@</c>, when there is one.</param>
/// <param name="Marker">The environment marker after <c>;</c>, when there is one.</param>
internal sealed record PythonRequirement(
    string Name,
    ImmutableArray<string> Extras,
    string Specifier,
    string? Url,
    string? Marker)
{
    /// <summary>The version when the specifier pins exactly one (<c>==1.2.3</c> or <c>===1.2.3</c>, no wildcard), else null.</summary>
    public string? PinnedVersion => PinOf(Specifier);

    /// <summary>The pinned version of a specifier text, or null when it allows more than one version.</summary>
    public static string? PinOf(string specifier)
    {
        var s = specifier.Trim();
        if (s.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }
        string? version = s.StartsWith("===", StringComparison.Ordinal) ? s[3..] : s.StartsWith("==", StringComparison.Ordinal) ? s[2..] : null;
        version = version?.Trim();
        return string.IsNullOrEmpty(version) || version.Contains('*', StringComparison.Ordinal) ? null : version;
    }

    /// <summary>Parses a requirement; on failure <paramref name="error"/> says why and <paramref name="errorOffset"/> where (0-based).</summary>
    public static bool TryParse(
        string text,
        [NotNullWhen(true)] out PythonRequirement? requirement,
        [NotNullWhen(false)] out string? error,
        out int errorOffset)
    {
        requirement = null;
        error = null;
        var i = SkipSpace(text, 0);
        var nameStart = i;
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '-' or '_' or '.'))
        {
            i++;
        }
        var name = text[nameStart..i];
        if (name.Length == 0 || !char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            error = "expected a package name";
            errorOffset = nameStart;
            return false;
        }
        i = SkipSpace(text, i);
        var extras = ImmutableArray<string>.Empty;
        if (i < text.Length && text[i] == '[')
        {
            var close = text.IndexOf(']', i);
            if (close < 0)
            {
                error = "unclosed '[' in the extras";
                errorOffset = i;
                return false;
            }
            extras = [.. text[(i + 1)..close].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
            i = SkipSpace(text, close + 1);
        }

        string? url = null;
        var specifier = "";
        string? marker = null;
        var markerStart = -1;
        if (i < text.Length && text[i] == '@')
        {
            i = SkipSpace(text, i + 1);
            var urlStart = i;
            // A marker after a URL needs whitespace before ';' (PEP 508), since ';' may occur in URLs.
            var end = text.IndexOf(" ;", i, StringComparison.Ordinal);
            var tab = text.IndexOf("\t;", i, StringComparison.Ordinal);
            if (tab >= 0 && (end < 0 || tab < end))
            {
                end = tab;
            }
            url = (end < 0 ? text[i..] : text[i..end]).Trim();
            if (url.Length == 0)
            {
                error = "expected a URL after '@'";
                errorOffset = urlStart;
                return false;
            }
            if (end >= 0)
            {
                markerStart = text.IndexOf(';', end) + 1;
            }
        }
        else
        {
            var semicolon = text.IndexOf(';', i);
            var specEnd = semicolon < 0 ? text.Length : semicolon;
            var spec = text[i..specEnd].Trim();
            if (spec.StartsWith('('))
            {
                if (!spec.EndsWith(')'))
                {
                    error = "unclosed '(' in the version specifier";
                    errorOffset = i;
                    return false;
                }
                spec = spec[1..^1].Trim();
            }
            if (spec.Length > 0 && !IsSpecifier(spec))
            {
                error = $"expected a version specifier such as '==1.0' or '>=1.0', found '{spec}'";
                errorOffset = i;
                return false;
            }
            specifier = spec;
            if (semicolon >= 0)
            {
                markerStart = semicolon + 1;
            }
        }
        if (markerStart >= 0)
        {
            marker = text[markerStart..].Trim();
            if (marker.Length == 0)
            {
                error = "expected an environment marker after ';'";
                errorOffset = markerStart;
                return false;
            }
        }
        requirement = new PythonRequirement(name, extras, specifier, url, marker);
        errorOffset = 0;
        return true;
    }

    /// <summary>Comma-separated clauses, each an operator followed by a version (structure only).</summary>
    private static bool IsSpecifier(string spec)
    {
        foreach (var clause in spec.Split(','))
        {
            var c = clause.Trim();
            var op = c.StartsWith("===", StringComparison.Ordinal) ? 3
                : c.Length >= 2 && c[..2] is "==" or "!=" or "<=" or ">=" or "~=" ? 2
                : c.Length >= 1 && c[0] is '<' or '>' ? 1
                : 0;
            if (op == 0)
            {
                return false;
            }
            var version = c[op..].Trim();
            if (version.Length == 0 || version.Any(ch => char.IsWhiteSpace(ch) || ch is '(' or ')' or '[' or ']' or '"' or '\''))
            {
                return false;
            }
        }
        return true;
    }

    private static int SkipSpace(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
        return i;
    }
}
