using System.Globalization;
using System.Text.Json.Nodes;
using Tollgate.Advisories;
using Tollgate.Tests.Versions;

namespace Tollgate.Tests.Advisories;

public sealed class CvssCalculatorTests
{
    /// <summary>Vectors with scores published in the CVSS specifications' examples and on NVD for well-known CVEs.</summary>
    [Theory]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, CvssSeverity.Critical)]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, CvssSeverity.Critical)] // CVE-2021-44228
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, CvssSeverity.High)] // CVE-2014-0160
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, CvssSeverity.Medium)]
    [InlineData("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, CvssSeverity.High)]
    [InlineData("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, CvssSeverity.Medium)]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8, CvssSeverity.High)]
    [InlineData("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, CvssSeverity.Low)]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, CvssSeverity.None)]
    [InlineData("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, CvssSeverity.Critical)]
    [InlineData("CVSS:3.0/AV:L/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 7.4, CvssSeverity.High)]
    [InlineData("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, CvssSeverity.High)]
    [InlineData("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, CvssSeverity.High)]
    [InlineData("AV:N/AC:L/Au:N/C:P/I:N/A:N", 5.0, CvssSeverity.Medium)] // CVE-2014-0160 (v2)
    [InlineData("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3, CvssSeverity.Medium)]
    [InlineData("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, CvssSeverity.Critical)]
    [InlineData("CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 5.1, CvssSeverity.Medium)] // v4.0 specification, section 7 example (CVSS-B)
    [InlineData("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, CvssSeverity.None)]
    public void CvssCalculator_KnownVector_ScoresAsPublished(string vector, double expected, CvssSeverity severity)
    {
        Assert.True(CvssCalculator.TryScore(vector, out var score, out var error), error);
        Assert.Equal(expected, score.Score);
        Assert.Equal(severity, score.Severity);
    }

    [Theory]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "lacks the base metric A")]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L", "appears twice")]
    [InlineData("CVSS:3.1/AV:F/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "no value 'F'")]
    [InlineData("CVSS:5.0/AV:N", "unsupported CVSS version")]
    [InlineData("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/XX:Y", "unknown CVSS metric")]
    [InlineData("", "empty")]
    public void CvssCalculator_MalformedVector_ReturnsReason(string vector, string reason)
    {
        Assert.False(CvssCalculator.TryScore(vector, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, CvssSeverity.None)]
    [InlineData(0.1, CvssSeverity.Low)]
    [InlineData(3.9, CvssSeverity.Low)]
    [InlineData(4.0, CvssSeverity.Medium)]
    [InlineData(6.9, CvssSeverity.Medium)]
    [InlineData(7.0, CvssSeverity.High)]
    [InlineData(8.9, CvssSeverity.High)]
    [InlineData(9.0, CvssSeverity.Critical)]
    [InlineData(10.0, CvssSeverity.Critical)]
    public void CvssCalculator_SeverityOf_UsesSpecificationThresholds(double score, CvssSeverity expected) =>
        Assert.Equal(expected, CvssCalculator.SeverityOf(CvssVersion.V3_1, score));

    [Fact]
    public void CvssCalculator_RealAdvisoryVectors_Score()
    {
        string folder = TestData.Reference("osv", "github");
        int scored = 0;
        foreach (string file in Directory.GetFiles(folder, "*.json"))
        {
            var json = JsonNode.Parse(File.ReadAllText(file))!;
            foreach (var severity in json["severity"]?.AsArray() ?? [])
            {
                string vector = (string)severity!["score"]!;
                Assert.True(CvssCalculator.TryScore(vector, out var score, out var error), $"{Path.GetFileName(file)}: {error}");
                Assert.InRange(score.Score, 0, 10);
                scored++;
            }
        }
        Assert.True(scored > 0, "no CVSS vectors found in the sample advisories");
    }

    /// <summary>
    /// Thousands of seeded random vectors of every version, scored by us and by the ae-cvss-calculator
    /// npm package (an independent implementation of FIRST's specifications and v4.0 calculator).
    /// </summary>
    [Fact]
    public void CvssCalculator_RandomVectors_AgreeWithReferenceCalculator()
    {
        var random = new Random(31);
        var vectors = new List<string>();
        for (int i = 0; i < 1500; i++)
        {
            vectors.Add(CvssGenerator.V2(random));
            vectors.Add("CVSS:3.0/" + CvssGenerator.V3(random));
            vectors.Add("CVSS:3.1/" + CvssGenerator.V3(random));
            vectors.Add(CvssGenerator.V4(random));
        }
        var answers = ReferenceOracle.RunNode([.. vectors.Select(v => new JsonObject { ["op"] = "cvss", ["v"] = v })]);
        var mismatches = new List<string>();
        for (int i = 0; i < vectors.Count; i++)
        {
            bool ok = CvssCalculator.TryScore(vectors[i], out var score, out var error);
            double? theirs = ReferenceOracle.Ok(answers[i]) ? answers[i]["r"]!.GetValue<double>() : null;
            if (!ok || theirs is null || Math.Abs(score!.Score - theirs.Value) > 1e-9)
            {
                mismatches.Add($"{vectors[i]}: ours {(ok ? score!.Score.ToString(CultureInfo.InvariantCulture) : error)}, reference {answers[i].ToJsonString()}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {vectors.Count} vectors disagree:\n" + string.Join('\n', mismatches.Take(40)));
    }
}

/// <summary>Seeded random CVSS vectors.</summary>
internal static class CvssGenerator
{
    private static string Pick(Random r, params string[] items) => items[r.Next(items.Length)];

    public static string V2(Random r) =>
        $"AV:{Pick(r, "L", "A", "N")}/AC:{Pick(r, "H", "M", "L")}/Au:{Pick(r, "M", "S", "N")}/C:{Pick(r, "N", "P", "C")}/I:{Pick(r, "N", "P", "C")}/A:{Pick(r, "N", "P", "C")}";

    public static string V3(Random r) =>
        $"AV:{Pick(r, "N", "A", "L", "P")}/AC:{Pick(r, "L", "H")}/PR:{Pick(r, "N", "L", "H")}/UI:{Pick(r, "N", "R")}/S:{Pick(r, "U", "C")}/C:{Pick(r, "H", "L", "N")}/I:{Pick(r, "H", "L", "N")}/A:{Pick(r, "H", "L", "N")}";

    public static string V4(Random r)
    {
        string v = $"CVSS:4.0/AV:{Pick(r, "N", "A", "L", "P")}/AC:{Pick(r, "L", "H")}/AT:{Pick(r, "N", "P")}/PR:{Pick(r, "N", "L", "H")}/UI:{Pick(r, "N", "P", "A")}"
            + $"/VC:{Pick(r, "H", "L", "N")}/VI:{Pick(r, "H", "L", "N")}/VA:{Pick(r, "H", "L", "N")}/SC:{Pick(r, "H", "L", "N")}/SI:{Pick(r, "H", "L", "N")}/SA:{Pick(r, "H", "L", "N")}";
        if (r.Next(3) == 0)
        {
            v += "/E:" + Pick(r, "X", "A", "P", "U");
        }
        if (r.Next(4) == 0)
        {
            v += $"/CR:{Pick(r, "X", "H", "M", "L")}/IR:{Pick(r, "X", "H", "M", "L")}/AR:{Pick(r, "X", "H", "M", "L")}";
        }
        if (r.Next(4) == 0)
        {
            v += $"/MAV:{Pick(r, "X", "N", "A", "L", "P")}/MAC:{Pick(r, "X", "L", "H")}/MAT:{Pick(r, "X", "N", "P")}/MPR:{Pick(r, "X", "N", "L", "H")}/MUI:{Pick(r, "X", "N", "P", "A")}"
                + $"/MVC:{Pick(r, "X", "H", "L", "N")}/MVI:{Pick(r, "X", "H", "L", "N")}/MVA:{Pick(r, "X", "H", "L", "N")}/MSC:{Pick(r, "X", "H", "L", "N")}/MSI:{Pick(r, "X", "S", "H", "L", "N")}/MSA:{Pick(r, "X", "S", "H", "L", "N")}";
        }
        return v;
    }
}
