using System.Text.Json.Nodes;
using Tollgate.Ecosystems.Npm;

namespace Tollgate.Tests.Versions;

/// <summary>
/// Our node-semver implementation against node-semver itself (tests/tools/node, pinned in its
/// package-lock.json): thousands of seeded random versions and ranges plus a table of tricky ones,
/// all answered by one node process.
/// </summary>
public sealed class NpmDifferentialTests
{
    private const int Seed = 20240611;

    /// <summary>Ranges chosen for the corners of node-semver's grammar and pre-release rule.</summary>
    public static readonly string[] TrickyRanges =
    [
        "", "*", "x", "X", "1.x", "1.X", "1.2.*", "1.*.3", ">=1.2.3", ">= 1.2.3", "> =1.2.3", "=1.2.3", "v1.2.3", "=v1.2.3", "==1.2.3",
        "~1.2.3", "~1.2", "~1", "~0.2.3", "~>1.2.3", "~> 1.2", "~ 1.2.3", "~=1.2", "~1.2.3-beta.2", "~v1.2",
        "^1.2.3", "^0.2.3", "^0.0.3", "^0.0", "^0", "^1.2.3-beta.2", "^0.0.3-beta", "^0.2.3-beta", "^ 1.2", "^1.x", "^0.x", "^*", "^x.1",
        "1.2.3 - 2.3.4", "1.2 - 2.3.4", "1.2.3 - 2.3", "1.2.3 - 2", "1.2.3-beta - 2.3.4-rc.1", "* - 2", "1 - *", "v1.2.3 - v2.0.0",
        ">1.2", ">1", ">=1.2", "<1.2", "<=1.2", "<=1", ">*", "<*", ">=*", "<=*", "<x", ">=1.0.0-0", ">=0.0.0", ">=0.0.0-0", "<0.0.0-0",
        ">1.2.3-alpha <1.2.4", "1.2.3-alpha.1 || 1.2.3", "* || 1.2.3-beta", ">=1.2.3-beta <1.2.3-gamma", "<2.0.0-0 >=1.0.0", "1.2.3+build",
        ">=1.2.3 <1.2.3", "<1.0.0 || >=2.0.0", "1.2.3 || 2.x || ^3.1.0-rc.1", "01.2.3", "1.2.3.4", "1.2.3-", "1.2.3-01", "blah", "1 || ",
        "||", "1.2.3 ||| 2", "> 1.2.3 < 2", ">=1.2.3 - 2", "~1.2.3 - 2", "1.2.3 -2", "1.2.3- 2", ">01.2.3", "1.2.x-beta", "1.2.3-beta+b.1 - 2",
        "=1.2.3-beta - 2", ">=1.2.3-beta.2 <=1.2.3-beta.10", "^1.2.3-beta.02", "9007199254740991.0.0", "9007199254740992.0.0", "^9007199254740991",
        "1.2.3 1.2.3", ">=1.0.0 >=1.0.0 <2", "  1.2.3   ||   2.0.0  ", "\t^1.2\t", "1.2.3-alpha.beta.1 - 1.2.3-alpha.beta.10",
    ];

    public static readonly string[] TrickyVersions =
    [
        "1.2.3", "v1.2.3", " 1.2.3 ", "=1.2.3", "1.2.3-beta", "1.2.3-beta.2", "1.2.3-beta.10", "1.2.3-beta.02", "1.2.3-0", "1.2.3-alpha",
        "1.2.3-alpha.1", "1.2.3+build.7", "1.2.3-rc.1+build", "1.2.4-0", "1.3.0-0", "2.0.0-0", "0.0.0", "0.0.3-beta", "0.2.4", "01.2.3",
        "1.2", "1.2.3.4", "V1.2.3", "1.2.3-", "1.2.3-a..b", "1.2.3+", "9007199254740991.0.0", "9007199254740992.0.0", "1.2.3--x",
        "1.2.3-x-y-z.--", "1.2.3-123456789012345678901", "1.2.3-123456789012345678902",
    ];

    [Fact]
    public void NpmRange_RandomAndTrickyCases_AgreeWithNodeSemver()
    {
        var random = new Random(Seed);
        var cases = new List<JsonObject>();
        foreach (string r in TrickyRanges)
        {
            foreach (string v in TrickyVersions)
            {
                cases.Add(new JsonObject { ["op"] = "sat", ["v"] = v, ["r"] = r, ["ip"] = false });
            }
            cases.Add(new JsonObject { ["op"] = "sat", ["v"] = "1.2.3-beta.5", ["r"] = r, ["ip"] = true });
        }
        for (int i = 0; i < 4000; i++)
        {
            cases.Add(new JsonObject
            {
                ["op"] = "sat",
                ["v"] = NpmGenerator.Version(random),
                ["r"] = NpmGenerator.Range(random),
                ["ip"] = random.Next(5) == 0,
            });
        }
        foreach (string r in TrickyRanges.Concat(Enumerable.Range(0, 500).Select(_ => NpmGenerator.Range(random))))
        {
            cases.Add(new JsonObject { ["op"] = "range", ["r"] = r, ["ip"] = false });
        }

        var answers = ReferenceOracle.RunNode(cases);
        var mismatches = new List<string>();
        int satisfied = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var a = answers[i];
            bool ip = c["ip"]!.GetValue<bool>();
            bool ok = NpmRange.TryParse(c["r"]!.GetValue<string>(), ip, out var range);
            if ((string)c["op"]! == "range")
            {
                if (ok != ReferenceOracle.Ok(a))
                {
                    mismatches.Add($"{ReferenceOracle.Describe(c)}: ours valid={ok}, node {a.ToJsonString()}");
                }
                continue;
            }
            bool ours = ok && NpmVersion.TryParse(c["v"]!.GetValue<string>(), out var version) && range!.IsSatisfiedBy(version);
            bool theirs = ReferenceOracle.Ok(a) && a["r"]!.GetValue<bool>();
            satisfied += theirs ? 1 : 0;
            if (ours != theirs || ok != ReferenceOracle.Ok(a))
            {
                mismatches.Add($"{ReferenceOracle.Describe(c)}: ours valid={ok} satisfied={ours}, node {a.ToJsonString()}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} cases disagree:\n" + string.Join('\n', mismatches.Take(40)));
        // The generator must exercise both answers, or the comparison proves little.
        Assert.InRange(satisfied, cases.Count / 20, cases.Count - (cases.Count / 20));
    }

    [Fact]
    public void NpmVersion_ParseAndCompare_AgreeWithNodeSemver()
    {
        var random = new Random(Seed + 1);
        var pool = TrickyVersions.Concat(Enumerable.Range(0, 400).Select(_ => NpmGenerator.Version(random))).ToList();
        var cases = new List<JsonObject>();
        foreach (string v in pool)
        {
            cases.Add(new JsonObject { ["op"] = "valid", ["v"] = v });
        }
        for (int i = 0; i < 3000; i++)
        {
            cases.Add(new JsonObject { ["op"] = "cmp", ["a"] = pool[random.Next(pool.Count)], ["b"] = pool[random.Next(pool.Count)] });
        }
        var answers = ReferenceOracle.RunNode(cases);
        var mismatches = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var a = answers[i];
            if ((string)c["op"]! == "valid")
            {
                bool ok = NpmVersion.TryParse(c["v"]!.GetValue<string>(), out var v);
                if (ok != ReferenceOracle.Ok(a) || (ok && v!.Normalized != (string)a["norm"]!))
                {
                    mismatches.Add($"{ReferenceOracle.Describe(c)}: ours {(ok ? v!.Normalized : "invalid")}, node {a.ToJsonString()}");
                }
                continue;
            }
            bool both = NpmVersion.TryParse(c["a"]!.GetValue<string>(), out var x) & NpmVersion.TryParse(c["b"]!.GetValue<string>(), out var y);
            if (both != ReferenceOracle.Ok(a) || (both && Math.Sign(x!.CompareTo(y)) != a["r"]!.GetValue<int>()))
            {
                mismatches.Add($"{ReferenceOracle.Describe(c)}: ours {(both ? x!.CompareTo(y) : "invalid")}, node {a.ToJsonString()}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} cases disagree:\n" + string.Join('\n', mismatches.Take(40)));
    }
}

/// <summary>Seeded generators of realistic npm versions and ranges, with a few malformed ones.</summary>
internal static class NpmGenerator
{
    private static readonly string[] PrereleaseTags = ["alpha", "beta", "rc", "0", "1", "2", "10", "alpha.1", "beta.2", "beta.11", "rc.1", "x-y", "1a", "alpha.beta"];

    private static string Pick(Random r, params string[] items) => items[r.Next(items.Length)];

    public static string Version(Random r)
    {
        int roll = r.Next(100);
        if (roll < 3)
        {
            return Pick(r, "01.2.3", "1.2", "1.2.3.4", "1.2.3-", "=1.2.3", "1.2.3-01", "a.b.c", "");
        }
        string v = $"{Small(r)}.{Small(r)}.{Small(r)}";
        if (r.Next(100) < 35)
        {
            v += "-" + Pick(r, PrereleaseTags);
        }
        if (r.Next(100) < 8)
        {
            v += "+" + Pick(r, "build", "build.5", "sha-abc", "001");
        }
        if (r.Next(100) < 4)
        {
            v = "v" + v;
        }
        return v;
    }

    private static int Small(Random r) => r.Next(100) < 85 ? r.Next(4) : r.Next(12);

    private static string Part(Random r) => r.Next(100) < 12 ? Pick(r, "x", "X", "*") : Small(r).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A full or partial version operand, with x-ranges and pre-releases.</summary>
    public static string Operand(Random r)
    {
        int parts = r.Next(100) < 70 ? 3 : r.Next(1, 3);
        string v = Part(r);
        for (int i = 1; i < parts; i++)
        {
            v += "." + Part(r);
        }
        if (parts == 3 && r.Next(100) < 30)
        {
            v += "-" + Pick(r, PrereleaseTags);
        }
        if (parts == 3 && r.Next(100) < 3)
        {
            v += "+b1";
        }
        if (r.Next(100) < 3)
        {
            v = Pick(r, "v", "=") + v;
        }
        return v;
    }

    public static string Comparator(Random r)
    {
        string op = Pick(r, "", "", "=", "<", "<=", ">", ">=", ">=", "~", "~", "~>", "^", "^", "^");
        string space = r.Next(100) < 8 ? " " : "";
        return op + (op.Length > 0 ? space : "") + Operand(r);
    }

    public static string Set(Random r)
    {
        int kind = r.Next(100);
        if (kind < 10)
        {
            return Operand(r) + " - " + Operand(r);
        }
        if (kind < 13)
        {
            return Pick(r, "*", "", "x", ">=0.0.0", "<0.0.0-0");
        }
        int n = r.Next(100) < 60 ? 1 : 2;
        return string.Join(' ', Enumerable.Range(0, n).Select(_ => Comparator(r)));
    }

    public static string Range(Random r)
    {
        int n = r.Next(100) < 75 ? 1 : r.Next(2, 4);
        return string.Join(Pick(r, " || ", "||", " ||"), Enumerable.Range(0, n).Select(_ => Set(r)));
    }
}
