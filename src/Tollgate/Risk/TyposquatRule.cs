using System.Globalization;
using System.Text;
using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>
/// TG1010: a name that imitates another: letters from another script that look like Latin ones (the NuGet
/// packages of MAL-2024-3991 and MAL-2024-4003 use Cyrillic letters), or a direct dependency one edit away
/// from a widely used package.
/// </summary>
internal sealed class TyposquatRule() : RiskRule(
    "TG1010",
    "TyposquatCandidate",
    "Package name imitates another package's name",
    RuleLevel.Warn,
    Severity.Medium,
    "Typosquatting and homoglyph attacks publish packages whose names look like popular ones (a swapped or missing letter, "
    + "a Cyrillic 'о' for a Latin 'o') and wait for someone to install them by mistake. Their code is usually a credential stealer.",
    "Check the name letter by letter against the package you meant. If it is the wrong package, remove it and rotate any secrets "
    + "of machines that installed it. If it is the package you want, suppress this finding for it in tollgate.yaml.")
{
    /// <summary>Candidates shorter than this are not compared by edit distance: short names are all one edit apart.</summary>
    private const int MinimumLength = 5;

    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context)
    {
        foreach (var c in graph.Components)
        {
            var name = c.Name;
            var foreign = ForeignLetters(name);
            if (foreign.Count > 0)
            {
                var skeleton = Confusables.Skeleton(name);
                var letters = string.Join(", ", foreign.Select(f => $"'{f.Letter}' U+{(int)f.Letter:X4} {f.Script}").Distinct());
                var scripts = string.Join(" and ", foreign.Select(f => f.Script).Distinct());
                var looksLike = skeleton != name && Confusables.IsAscii(skeleton) ? $"; it reads as '{skeleton}'" : "";
                var mixes = name.Any(char.IsAsciiLetter) ? $"mixes Latin with {scripts} letters" : $"is written in {scripts} letters";
                yield return Report(c, context,
                    $"has a name that {mixes}{looksLike}",
                    "letters: " + letters,
                    Severity.High);
                continue;
            }
            if (c.Direct && PopularNames.NearestTo(c.Ecosystem, name, MinimumLength) is { } popular)
            {
                yield return Report(c, context,
                    $"has a name one edit away from the widely used package '{popular}'",
                    $"'{name}' differs from '{popular}' by one letter");
            }
        }
    }

    private static List<(char Letter, string Script)> ForeignLetters(string name)
    {
        var result = new List<(char, string)>();
        foreach (var ch in name)
        {
            if (ch > 0x7F)
            {
                result.Add((ch, Confusables.ScriptOf(ch)));
            }
        }
        return result;
    }
}

/// <summary>Letters of other scripts that render like Latin letters, after Unicode's confusables data (a small subset).</summary>
internal static class Confusables
{
    // Cyrillic and Greek letters whose glyphs are indistinguishable from Latin ones in common fonts (UTS #39 confusables.txt).
    private static readonly Dictionary<char, char> s_latinLookalikes = new()
    {
        ['а'] = 'a', ['в'] = 'b', ['е'] = 'e', ['ё'] = 'e', ['һ'] = 'h', ['і'] = 'i', ['ј'] = 'j', ['к'] = 'k', ['о'] = 'o',
        ['р'] = 'p', ['с'] = 'c', ['ѕ'] = 's', ['у'] = 'y', ['х'] = 'x', ['ԁ'] = 'd', ['ԛ'] = 'q', ['ԝ'] = 'w', ['ӏ'] = 'l',
        ['А'] = 'A', ['В'] = 'B', ['Е'] = 'E', ['К'] = 'K', ['М'] = 'M', ['Н'] = 'H', ['О'] = 'O', ['Р'] = 'P', ['С'] = 'C',
        ['Т'] = 'T', ['Х'] = 'X', ['І'] = 'I', ['Ј'] = 'J', ['Ѕ'] = 'S', ['Ү'] = 'Y', ['Ԁ'] = 'D', ['Ԛ'] = 'Q', ['Ԝ'] = 'W',
        ['α'] = 'a', ['ο'] = 'o', ['ν'] = 'v', ['ρ'] = 'p', ['ι'] = 'i', ['κ'] = 'k', ['υ'] = 'u', ['χ'] = 'x', ['γ'] = 'y',
        ['Α'] = 'A', ['Β'] = 'B', ['Ε'] = 'E', ['Ζ'] = 'Z', ['Η'] = 'H', ['Ι'] = 'I', ['Κ'] = 'K', ['Μ'] = 'M', ['Ν'] = 'N',
        ['Ο'] = 'O', ['Ρ'] = 'P', ['Τ'] = 'T', ['Υ'] = 'Y', ['Χ'] = 'X',
    };

    /// <summary>The name with look-alike letters replaced by the Latin letters they imitate.</summary>
    public static string Skeleton(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var ch in name.Normalize(NormalizationForm.FormKC))
        {
            sb.Append(s_latinLookalikes.TryGetValue(ch, out var latin) ? latin : ch);
        }
        return sb.ToString();
    }

    public static bool IsAscii(string text) => text.All(char.IsAscii);

    /// <summary>A rough script name for a non-ASCII letter, enough to say what a name mixes.</summary>
    public static string ScriptOf(char ch) => ch switch
    {
        >= '\u0400' and <= '\u052F' => "Cyrillic",
        >= '\u0370' and <= '\u03FF' => "Greek",
        >= '\u0530' and <= '\u058F' => "Armenian",
        >= '\u0080' and <= '\u024F' => "accented Latin",
        >= '\uFF00' and <= '\uFFEF' => "full-width",
        _ => char.GetUnicodeCategory(ch) switch
        {
            UnicodeCategory.SpaceSeparator or UnicodeCategory.Format or UnicodeCategory.Control => "invisible or space",
            _ => "non-Latin",
        },
    };
}
