using System.Collections.Frozen;
using System.Globalization;

namespace Tollgate.Advisories;

/// <summary>
/// CVSS v4.0 scoring as specified by FIRST (specification section 8 and its reference calculator):
/// the vector's macrovector (EQ1..EQ6) selects a score from the published lookup table, which is
/// then lowered by the mean proportional severity distance to the macrovector's highest vectors.
/// Floating-point steps follow the reference calculator's order so results match it exactly.
/// </summary>
internal static class CvssV4
{
    public static double Score(IReadOnlyDictionary<string, string> selected)
    {
        string M(string metric)
        {
            string value = selected.TryGetValue(metric, out var v) ? v : "X";
            // Unset threat and security requirements take their worst case.
            if (value == "X" && metric is "E")
            {
                return "A";
            }
            if (value == "X" && metric is "CR" or "IR" or "AR")
            {
                return "H";
            }
            if (selected.TryGetValue("M" + metric, out var modified) && modified != "X")
            {
                return modified;
            }
            return value;
        }

        if (M("VC") == "N" && M("VI") == "N" && M("VA") == "N" && M("SC") == "N" && M("SI") == "N" && M("SA") == "N")
        {
            return 0;
        }

        int eq1 = M("AV") == "N" && M("PR") == "N" && M("UI") == "N" ? 0
            : (M("AV") == "N" || M("PR") == "N" || M("UI") == "N") && M("AV") != "P" ? 1
            : 2;
        int eq2 = M("AC") == "L" && M("AT") == "N" ? 0 : 1;
        int eq3 = M("VC") == "H" && M("VI") == "H" ? 0
            : M("VC") == "H" || M("VI") == "H" || M("VA") == "H" ? 1
            : 2;
        int eq4 = M("MSI") == "S" || M("MSA") == "S" ? 0
            : M("SC") == "H" || M("SI") == "H" || M("SA") == "H" ? 1
            : 2;
        int eq5 = M("E") switch { "A" => 0, "P" => 1, _ => 2 };
        int eq6 = (M("CR") == "H" && M("VC") == "H") || (M("IR") == "H" && M("VI") == "H") || (M("AR") == "H" && M("VA") == "H") ? 0 : 1;

        double value = Lookup(eq1, eq2, eq3, eq4, eq5, eq6);

        double lowerEq1 = Lookup(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
        double lowerEq2 = Lookup(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
        double lowerEq3Eq6 = (eq3, eq6) switch
        {
            (1, 1) or (0, 1) => Lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6),
            (1, 0) => Lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1),
            // 00 can go down to 01 or 10: take the higher score (the reference compares left > right).
            (0, 0) => Lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1) > Lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6)
                ? Lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1)
                : Lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6),
            _ => Lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6 + 1),
        };
        double lowerEq4 = Lookup(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
        double lowerEq5 = Lookup(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

        // Find the first highest vector of the macrovector that the vector does not exceed.
        double dAV = 0, dPR = 0, dUI = 0, dAC = 0, dAT = 0, dVC = 0, dVI = 0, dVA = 0, dSC = 0, dSI = 0, dSA = 0, dCR = 0, dIR = 0, dAR = 0;
        foreach (var max in MaxVectors(eq1, eq2, eq3, eq4, eq5, eq6))
        {
            dAV = Level("AV", M("AV")) - Level("AV", max["AV"]);
            dPR = Level("PR", M("PR")) - Level("PR", max["PR"]);
            dUI = Level("UI", M("UI")) - Level("UI", max["UI"]);
            dAC = Level("AC", M("AC")) - Level("AC", max["AC"]);
            dAT = Level("AT", M("AT")) - Level("AT", max["AT"]);
            dVC = Level("VC", M("VC")) - Level("VC", max["VC"]);
            dVI = Level("VI", M("VI")) - Level("VI", max["VI"]);
            dVA = Level("VA", M("VA")) - Level("VA", max["VA"]);
            dSC = Level("SC", M("SC")) - Level("SC", max["SC"]);
            dSI = Level("SI", M("SI")) - Level("SI", max["SI"]);
            dSA = Level("SA", M("SA")) - Level("SA", max["SA"]);
            dCR = Level("CR", M("CR")) - Level("CR", max["CR"]);
            dIR = Level("IR", M("IR")) - Level("IR", max["IR"]);
            dAR = Level("AR", M("AR")) - Level("AR", max["AR"]);
            if (!(dAV < 0 || dPR < 0 || dUI < 0 || dAC < 0 || dAT < 0 || dVC < 0 || dVI < 0 || dVA < 0
                  || dSC < 0 || dSI < 0 || dSA < 0 || dCR < 0 || dIR < 0 || dAR < 0))
            {
                break;
            }
        }

        double currentEq1 = dAV + dPR + dUI;
        double currentEq2 = dAC + dAT;
        double currentEq3Eq6 = dVC + dVI + dVA + dCR + dIR + dAR;
        double currentEq4 = dSC + dSI + dSA;

        const double Step = 0.1;
        double maxSeverityEq1 = (eq1 switch { 0 => 1, 1 => 4, _ => 5 }) * Step;
        double maxSeverityEq2 = (eq2 == 0 ? 1 : 2) * Step;
        double maxSeverityEq3Eq6 = ((eq3, eq6) switch { (0, 0) => 7, (0, _) => 6, (1, _) => 8, _ => 10 }) * Step;
        double maxSeverityEq4 = (eq4 switch { 0 => 6, 1 => 5, _ => 4 }) * Step;

        int existing = 0;
        double n1 = 0, n2 = 0, n3 = 0, n4 = 0, n5 = 0;
        double available = value - lowerEq1;
        if (!double.IsNaN(available))
        {
            existing++;
            n1 = available * (currentEq1 / maxSeverityEq1);
        }
        available = value - lowerEq2;
        if (!double.IsNaN(available))
        {
            existing++;
            n2 = available * (currentEq2 / maxSeverityEq2);
        }
        available = value - lowerEq3Eq6;
        if (!double.IsNaN(available))
        {
            existing++;
            n3 = available * (currentEq3Eq6 / maxSeverityEq3Eq6);
        }
        available = value - lowerEq4;
        if (!double.IsNaN(available))
        {
            existing++;
            n4 = available * (currentEq4 / maxSeverityEq4);
        }
        available = value - lowerEq5;
        if (!double.IsNaN(available))
        {
            // EQ5 has no severity distance within a macrovector.
            existing++;
            n5 = available * 0;
        }
        double mean = existing == 0 ? 0 : (n1 + n2 + n3 + n4 + n5) / existing;
        value -= mean;
        value = Math.Clamp(value, 0, 10);
        // The reference calculator adds 1e-6 before rounding half up, so 5.6499999... rounds to 5.7.
        return JsRound((value + 1e-6) * 10) / 10;
    }

    /// <summary>JavaScript's <c>Math.round</c>: nearest integer, halves toward +infinity.</summary>
    private static double JsRound(double x)
    {
        double floor = Math.Floor(x);
        return x - floor >= 0.5 ? floor + 1 : floor;
    }

    private static double Lookup(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6) =>
        Table.TryGetValue(string.Create(CultureInfo.InvariantCulture, $"{eq1}{eq2}{eq3}{eq4}{eq5}{eq6}"), out double score) ? score : double.NaN;

    /// <summary>Each metric value's severity level in tenths: lower is more severe.</summary>
    private static double Level(string metric, string value) => (metric, value) switch
    {
        ("AV", "N") => 0.0, ("AV", "A") => 0.1, ("AV", "L") => 0.2, ("AV", _) => 0.3,
        ("PR", "N") => 0.0, ("PR", "L") => 0.1, ("PR", _) => 0.2,
        ("UI", "N") => 0.0, ("UI", "P") => 0.1, ("UI", _) => 0.2,
        ("AC", "L") => 0.0, ("AC", _) => 0.1,
        ("AT", "N") => 0.0, ("AT", _) => 0.1,
        ("VC" or "VI" or "VA", "H") => 0.0, ("VC" or "VI" or "VA", "L") => 0.1, ("VC" or "VI" or "VA", _) => 0.2,
        ("SC", "H") => 0.1, ("SC", "L") => 0.2, ("SC", _) => 0.3,
        ("SI" or "SA", "S") => 0.0, ("SI" or "SA", "H") => 0.1, ("SI" or "SA", "L") => 0.2, ("SI" or "SA", _) => 0.3,
        ("CR" or "IR" or "AR", "H") => 0.0, ("CR" or "IR" or "AR", "M") => 0.1, ("CR" or "IR" or "AR", _) => 0.2,
        _ => 0.0,
    };

    /// <summary>The highest-severity vectors of each EQ level (FIRST's max_composed data), composed in the reference order.</summary>
    private static IEnumerable<Dictionary<string, string>> MaxVectors(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6)
    {
        string[] e1 = eq1 switch
        {
            0 => ["AV:N/PR:N/UI:N"],
            1 => ["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"],
            _ => ["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"],
        };
        string[] e2 = eq2 == 0 ? ["AC:L/AT:N"] : ["AC:H/AT:N", "AC:L/AT:P"];
        string[] e36 = (eq3, eq6) switch
        {
            (0, 0) => ["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
            (0, _) => ["VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"],
            (1, 0) => ["VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"],
            (1, _) => ["VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M", "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"],
            _ => ["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"],
        };
        string[] e4 = eq4 switch { 0 => ["SC:H/SI:S/SA:S"], 1 => ["SC:H/SI:H/SA:H"], _ => ["SC:L/SI:L/SA:L"] };
        string e5 = eq5 switch { 0 => "E:A", 1 => "E:P", _ => "E:U" };
        foreach (string a in e1)
        {
            foreach (string b in e2)
            {
                foreach (string c in e36)
                {
                    foreach (string d in e4)
                    {
                        var vector = new Dictionary<string, string>(StringComparer.Ordinal);
                        foreach (string part in $"{a}/{b}/{c}/{d}/{e5}".Split('/'))
                        {
                            vector[part[..part.IndexOf(':', StringComparison.Ordinal)]] = part[(part.IndexOf(':', StringComparison.Ordinal) + 1)..];
                        }
                        yield return vector;
                    }
                }
            }
        }
    }

    /// <summary>FIRST's CVSS v4.0 macrovector lookup table: 270 macrovectors (EQ1..EQ6) and their scores.</summary>
    private static readonly FrozenDictionary<string, double> Table = ParseTable(
        """
        000000:10,000001:9.9,000010:9.8,000011:9.5,000020:9.5,000021:9.2,000100:10,000101:9.6,000110:9.3,000111:8.7,000120:9.1,000121:8.1,
        000200:9.3,000201:9,000210:8.9,000211:8,000220:8.1,000221:6.8,001000:9.8,001001:9.5,001010:9.5,001011:9.2,001020:9,001021:8.4,
        001100:9.3,001101:9.2,001110:8.9,001111:8.1,001120:8.1,001121:6.5,001200:8.8,001201:8,001210:7.8,001211:7,001220:6.9,001221:4.8,
        002001:9.2,002011:8.2,002021:7.2,002101:7.9,002111:6.9,002121:5,002201:6.9,002211:5.5,002221:2.7,010000:9.9,010001:9.7,010010:9.5,
        010011:9.2,010020:9.2,010021:8.5,010100:9.5,010101:9.1,010110:9,010111:8.3,010120:8.4,010121:7.1,010200:9.2,010201:8.1,010210:8.2,
        010211:7.1,010220:7.2,010221:5.3,011000:9.5,011001:9.3,011010:9.2,011011:8.5,011020:8.5,011021:7.3,011100:9.2,011101:8.2,011110:8,
        011111:7.2,011120:7,011121:5.9,011200:8.4,011201:7,011210:7.1,011211:5.2,011220:5,011221:3,012001:8.6,012011:7.5,012021:5.2,
        012101:7.1,012111:5.2,012121:2.9,012201:6.3,012211:2.9,012221:1.7,100000:9.8,100001:9.5,100010:9.4,100011:8.7,100020:9.1,100021:8.1,
        100100:9.4,100101:8.9,100110:8.6,100111:7.4,100120:7.7,100121:6.4,100200:8.7,100201:7.5,100210:7.4,100211:6.3,100220:6.3,100221:4.9,
        101000:9.4,101001:8.9,101010:8.8,101011:7.7,101020:7.6,101021:6.7,101100:8.6,101101:7.6,101110:7.4,101111:5.8,101120:5.9,101121:5,
        101200:7.2,101201:5.7,101210:5.7,101211:5.2,101220:5.2,101221:2.5,102001:8.3,102011:7,102021:5.4,102101:6.5,102111:5.8,102121:2.6,
        102201:5.3,102211:2.1,102221:1.3,110000:9.5,110001:9,110010:8.8,110011:7.6,110020:7.6,110021:7,110100:9,110101:7.7,110110:7.5,
        110111:6.2,110120:6.1,110121:5.3,110200:7.7,110201:6.6,110210:6.8,110211:5.9,110220:5.2,110221:3,111000:8.9,111001:7.8,111010:7.6,
        111011:6.7,111020:6.2,111021:5.8,111100:7.4,111101:5.9,111110:5.7,111111:5.7,111120:4.7,111121:2.3,111200:6.1,111201:5.2,111210:5.7,
        111211:2.9,111220:2.4,111221:1.6,112001:7.1,112011:5.9,112021:3,112101:5.8,112111:2.6,112121:1.5,112201:2.3,112211:1.3,112221:0.6,
        200000:9.3,200001:8.7,200010:8.6,200011:7.2,200020:7.5,200021:5.8,200100:8.6,200101:7.4,200110:7.4,200111:6.1,200120:5.6,200121:3.4,
        200200:7,200201:5.4,200210:5.2,200211:4,200220:4,200221:2.2,201000:8.5,201001:7.5,201010:7.4,201011:5.5,201020:6.2,201021:5.1,
        201100:7.2,201101:5.7,201110:5.5,201111:4.1,201120:4.6,201121:1.9,201200:5.3,201201:3.6,201210:3.4,201211:1.9,201220:1.9,201221:0.8,
        202001:6.4,202011:5.1,202021:2,202101:4.7,202111:2.1,202121:1.1,202201:2.4,202211:0.9,202221:0.4,210000:8.8,210001:7.5,210010:7.3,
        210011:5.3,210020:6,210021:5,210100:7.3,210101:5.5,210110:5.9,210111:4,210120:4.1,210121:2,210200:5.4,210201:4.3,210210:4.5,
        210211:2.2,210220:2,210221:1.1,211000:7.5,211001:5.5,211010:5.8,211011:4.5,211020:4,211021:2.1,211100:6.1,211101:5.1,211110:4.8,
        211111:1.8,211120:2,211121:0.9,211200:4.6,211201:1.8,211210:1.7,211211:0.7,211220:0.8,211221:0.2,212001:5.3,212011:2.4,212021:1.4,
        212101:2.4,212111:1.2,212121:0.5,212201:1,212211:0.3,212221:0.1
        """);

    private static FrozenDictionary<string, double> ParseTable(string text)
    {
        var table = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string entry in text.Split([',', '\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = entry.IndexOf(':', StringComparison.Ordinal);
            table.Add(entry[..colon], double.Parse(entry.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
