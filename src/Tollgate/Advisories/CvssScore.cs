using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Tollgate.Advisories;

/// <summary>The CVSS version a vector is written in.</summary>
public enum CvssVersion
{
    V2,
    V3_0,
    V3_1,
    V4_0,
}

/// <summary>Qualitative severity; <see cref="None"/> for a score of 0.</summary>
public enum CvssSeverity
{
    None,
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>A scored CVSS vector.</summary>
/// <param name="Version">The CVSS version of the vector.</param>
/// <param name="Score">
/// The score, rounded to one decimal: for v2 and v3.x the base score (temporal and environmental
/// metrics are parsed but do not change it); for v4.0 the score of the vector as written (CVSS-B,
/// -BT, -BE or -BTE), as FIRST's calculator computes it.
/// </param>
/// <param name="Severity">The qualitative rating of <paramref name="Score"/>.</param>
/// <param name="Vector">The vector as given.</param>
public sealed record CvssScore(CvssVersion Version, double Score, CvssSeverity Severity, string Vector);

/// <summary>Parses CVSS v2, v3.0, v3.1 and v4.0 vectors and computes their scores per FIRST's specifications.</summary>
public static class CvssCalculator
{
    /// <summary>Scores a vector; on failure returns false with a message saying what is wrong.</summary>
    public static bool TryScore(string? vector, [NotNullWhen(true)] out CvssScore? score, [NotNullWhen(false)] out string? error)
    {
        score = null;
        if (string.IsNullOrWhiteSpace(vector))
        {
            error = "empty CVSS vector";
            return false;
        }
        string text = vector.Trim();
        CvssVersion version;
        string body;
        if (text.StartsWith("CVSS:4.0/", StringComparison.Ordinal)) { version = CvssVersion.V4_0; body = text[9..]; }
        else if (text.StartsWith("CVSS:3.1/", StringComparison.Ordinal)) { version = CvssVersion.V3_1; body = text[9..]; }
        else if (text.StartsWith("CVSS:3.0/", StringComparison.Ordinal)) { version = CvssVersion.V3_0; body = text[9..]; }
        else if (text.StartsWith("CVSS:2.0/", StringComparison.Ordinal)) { version = CvssVersion.V2; body = text[9..]; }
        else if (text.StartsWith("CVSS:", StringComparison.Ordinal))
        {
            error = $"unsupported CVSS version in '{text}'";
            return false;
        }
        else
        {
            // v2 vectors carry no prefix; NVD sometimes wraps them in parentheses.
            version = CvssVersion.V2;
            body = text.StartsWith('(') && text.EndsWith(')') ? text[1..^1] : text;
        }

        var allowed = version switch
        {
            CvssVersion.V2 => CvssMetrics.V2,
            CvssVersion.V4_0 => CvssMetrics.V4,
            _ => CvssMetrics.V3,
        };
        if (!TryParseMetrics(body, allowed, out var metrics, out error))
        {
            return false;
        }
        var required = version switch
        {
            CvssVersion.V2 => CvssMetrics.V2Base,
            CvssVersion.V4_0 => CvssMetrics.V4Base,
            _ => CvssMetrics.V3Base,
        };
        foreach (string name in required)
        {
            if (!metrics.ContainsKey(name))
            {
                error = $"CVSS vector '{text}' lacks the base metric {name}";
                return false;
            }
        }
        double value = version switch
        {
            CvssVersion.V2 => V2Base(metrics),
            CvssVersion.V4_0 => CvssV4.Score(metrics),
            _ => V3Base(metrics, version == CvssVersion.V3_1),
        };
        score = new CvssScore(version, value, SeverityOf(version, value), vector);
        error = null;
        return true;
    }

    /// <summary>
    /// The qualitative rating: v3.x and v4.0 use None 0, Low 0.1-3.9, Medium 4.0-6.9, High 7.0-8.9,
    /// Critical 9.0-10.0; v2 (which has no Critical) uses Low 0.1-3.9, Medium 4.0-6.9, High 7.0-10.0.
    /// </summary>
    public static CvssSeverity SeverityOf(CvssVersion version, double score) => score switch
    {
        <= 0 => CvssSeverity.None,
        < 4.0 => CvssSeverity.Low,
        < 7.0 => CvssSeverity.Medium,
        < 9.0 => CvssSeverity.High,
        _ => version == CvssVersion.V2 ? CvssSeverity.High : CvssSeverity.Critical,
    };

    private static bool TryParseMetrics(string body, FrozenDictionary<string, string[]> allowed,
        [NotNullWhen(true)] out Dictionary<string, string>? metrics, [NotNullWhen(false)] out string? error)
    {
        metrics = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in body.Split('/'))
        {
            int colon = part.IndexOf(':', StringComparison.Ordinal);
            string name = colon < 0 ? part : part[..colon];
            string value = colon < 0 ? "" : part[(colon + 1)..];
            if (!allowed.TryGetValue(name, out var values))
            {
                error = $"unknown CVSS metric '{part}'";
                metrics = null;
                return false;
            }
            if (Array.IndexOf(values, value) < 0)
            {
                error = $"metric {name} has no value '{value}' (expected one of {string.Join(", ", values)})";
                metrics = null;
                return false;
            }
            if (!metrics.TryAdd(name, value))
            {
                error = $"metric {name} appears twice";
                metrics = null;
                return false;
            }
        }
        error = null;
        return true;
    }

    /// <summary>CVSS v3.0/v3.1 base score (specification section 7.1).</summary>
    private static double V3Base(Dictionary<string, string> m, bool v31)
    {
        bool changed = m["S"] == "C";
        double av = m["AV"] switch { "N" => 0.85, "A" => 0.62, "L" => 0.55, _ => 0.2 };
        double ac = m["AC"] == "L" ? 0.77 : 0.44;
        double pr = m["PR"] switch { "N" => 0.85, "L" => changed ? 0.68 : 0.62, _ => changed ? 0.5 : 0.27 };
        double ui = m["UI"] == "N" ? 0.85 : 0.62;
        static double Cia(string v) => v switch { "H" => 0.56, "L" => 0.22, _ => 0 };
        double iss = 1 - ((1 - Cia(m["C"])) * (1 - Cia(m["I"])) * (1 - Cia(m["A"])));
        double impact = changed ? (7.52 * (iss - 0.029)) - (3.25 * Math.Pow(iss - 0.02, 15)) : 6.42 * iss;
        double exploitability = 8.22 * av * ac * pr * ui;
        if (impact <= 0)
        {
            return 0;
        }
        double raw = changed ? Math.Min(1.08 * (impact + exploitability), 10) : Math.Min(impact + exploitability, 10);
        return v31 ? RoundUp31(raw) : RoundUp30(raw);
    }

    /// <summary>v3.1 Appendix A: round up to one decimal, avoiding floating-point artefacts.</summary>
    internal static double RoundUp31(double value)
    {
        long scaled = (long)Math.Round(value * 100000, MidpointRounding.AwayFromZero);
        return scaled % 10000 == 0 ? scaled / 100000.0 : (Math.Floor(scaled / 10000.0) + 1) / 10.0;
    }

    /// <summary>v3.0: the smallest number with one decimal not below the value.</summary>
    internal static double RoundUp30(double value) => Math.Ceiling(value * 10) / 10;

    /// <summary>CVSS v2 base score (v2 guide section 3.2.1).</summary>
    private static double V2Base(Dictionary<string, string> m)
    {
        static double Cia(string v) => v switch { "C" => 0.660, "P" => 0.275, _ => 0 };
        double impact = 10.41 * (1 - ((1 - Cia(m["C"])) * (1 - Cia(m["I"])) * (1 - Cia(m["A"]))));
        double av = m["AV"] switch { "N" => 1.0, "A" => 0.646, _ => 0.395 };
        double ac = m["AC"] switch { "L" => 0.71, "M" => 0.61, _ => 0.35 };
        double au = m["Au"] switch { "N" => 0.704, "S" => 0.56, _ => 0.45 };
        double exploitability = 20 * av * ac * au;
        double f = impact == 0 ? 0 : 1.176;
        double raw = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
        return Math.Round(raw, 1, MidpointRounding.AwayFromZero);
    }
}

/// <summary>The metric names and values each CVSS version allows.</summary>
internal static class CvssMetrics
{
    public static readonly string[] V2Base = ["AV", "AC", "Au", "C", "I", "A"];

    public static readonly FrozenDictionary<string, string[]> V2 = new Dictionary<string, string[]>
    {
        ["AV"] = ["L", "A", "N"], ["AC"] = ["H", "M", "L"], ["Au"] = ["M", "S", "N"],
        ["C"] = ["N", "P", "C"], ["I"] = ["N", "P", "C"], ["A"] = ["N", "P", "C"],
        ["E"] = ["U", "POC", "F", "H", "ND"], ["RL"] = ["OF", "TF", "W", "U", "ND"], ["RC"] = ["UC", "UR", "C", "ND"],
        ["CDP"] = ["N", "L", "LM", "MH", "H", "ND"], ["TD"] = ["N", "L", "M", "H", "ND"],
        ["CR"] = ["L", "M", "H", "ND"], ["IR"] = ["L", "M", "H", "ND"], ["AR"] = ["L", "M", "H", "ND"],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static readonly string[] V3Base = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];

    public static readonly FrozenDictionary<string, string[]> V3 = new Dictionary<string, string[]>
    {
        ["AV"] = ["N", "A", "L", "P"], ["AC"] = ["L", "H"], ["PR"] = ["N", "L", "H"], ["UI"] = ["N", "R"], ["S"] = ["U", "C"],
        ["C"] = ["H", "L", "N"], ["I"] = ["H", "L", "N"], ["A"] = ["H", "L", "N"],
        ["E"] = ["X", "H", "F", "P", "U"], ["RL"] = ["X", "U", "W", "T", "O"], ["RC"] = ["X", "C", "R", "U"],
        ["CR"] = ["X", "H", "M", "L"], ["IR"] = ["X", "H", "M", "L"], ["AR"] = ["X", "H", "M", "L"],
        ["MAV"] = ["X", "N", "A", "L", "P"], ["MAC"] = ["X", "L", "H"], ["MPR"] = ["X", "N", "L", "H"], ["MUI"] = ["X", "N", "R"],
        ["MS"] = ["X", "U", "C"], ["MC"] = ["X", "H", "L", "N"], ["MI"] = ["X", "H", "L", "N"], ["MA"] = ["X", "H", "L", "N"],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static readonly string[] V4Base = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"];

    public static readonly FrozenDictionary<string, string[]> V4 = new Dictionary<string, string[]>
    {
        ["AV"] = ["N", "A", "L", "P"], ["AC"] = ["L", "H"], ["AT"] = ["N", "P"], ["PR"] = ["N", "L", "H"], ["UI"] = ["N", "P", "A"],
        ["VC"] = ["H", "L", "N"], ["VI"] = ["H", "L", "N"], ["VA"] = ["H", "L", "N"],
        ["SC"] = ["H", "L", "N"], ["SI"] = ["H", "L", "N"], ["SA"] = ["H", "L", "N"],
        ["E"] = ["X", "A", "P", "U"],
        ["CR"] = ["X", "H", "M", "L"], ["IR"] = ["X", "H", "M", "L"], ["AR"] = ["X", "H", "M", "L"],
        ["MAV"] = ["X", "N", "A", "L", "P"], ["MAC"] = ["X", "L", "H"], ["MAT"] = ["X", "N", "P"], ["MPR"] = ["X", "N", "L", "H"],
        ["MUI"] = ["X", "N", "P", "A"], ["MVC"] = ["X", "H", "L", "N"], ["MVI"] = ["X", "H", "L", "N"], ["MVA"] = ["X", "H", "L", "N"],
        ["MSC"] = ["X", "H", "L", "N"], ["MSI"] = ["X", "S", "H", "L", "N"], ["MSA"] = ["X", "S", "H", "L", "N"],
        ["S"] = ["X", "N", "P"], ["AU"] = ["X", "N", "Y"], ["R"] = ["X", "A", "U", "I"], ["V"] = ["X", "D", "C"],
        ["RE"] = ["X", "L", "M", "H"], ["U"] = ["X", "Clear", "Green", "Amber", "Red"],
    }.ToFrozenDictionary(StringComparer.Ordinal);
}
