using System.Globalization;
using System.Text.Json.Nodes;
using Tollgate.Ecosystems.PyPI;

namespace Tollgate.Tests.Versions;

/// <summary>
/// Our PEP 440 implementation against Python's <c>packaging</c> (22 or later): parsing and
/// normalisation, ordering, and <c>SpecifierSet.contains</c>, with seeded random cases and a table
/// of tricky ones, all answered by one Python process.
/// </summary>
public sealed class Pep440DifferentialTests
{
    private const int Seed = 440;

    public static readonly string[] TrickyVersions =
    [
        "1.0", "1.0.0", "1", "v1.0", "V1.0", " 1.0 ", "1.0.0-RC1", "1.0rc1", "1.0c1", "1.0pre1", "1.0preview2", "1.0-preview-2", "1.0ALPHA",
        "1.0a", "1.0.a.1", "1.0_b_2", "1.0beta3", "1.0-1", "1.0-r", "1.0rev4", "1.0.post", "1.0post2", "1.0.post2.dev3", "1.0.dev", "1.0dev0",
        "1.0-dev-1", "1.0a1.dev1", "1.0a1.post1.dev1", "1!1.0", "0!1.0", "2!0.1", "1.0+abc", "1.0+ABC.5", "1.0+1.2", "1.0+01", "1.0+ubuntu-1",
        "1.0+abc_def", "1.0+", "1.0+.a", "1.0a-", "1.0.post-", "1.0.dev-", "1.0-", "01.02.03", "1.0.0.0.0", "1.0a1-1", "1.0a--5", "1.0rc",
        "1.0r", "1.0.r1", "1.0-post1", "1..0", "1.0.", ".1.0", "1.0 a1", "1.0foo", "1.0-a1", "1.0.0a0", "1.0a0", "1.0a1.post0",
        "1.0b2.post345.dev456", "1.0.post456.dev34", "1.1.dev1", "1.0+5", "1.0+foo5", "1.0+5foo", "1.0+abc.7", "1.0+abc.10", "99999999999999999999.0",
    ];

    public static readonly string[] TrickySpecifiers =
    [
        "", ">=1.0", ">= 1.0", ">=1.0,<2.0", "==1.0", "==1.0.0", "==1.0+abc", "==1.0.*", "==1.*", "==1.0.0.*", "!=1.0.*", "!=1.0", "!=1.0+abc",
        "~=1.0", "~=1.4.5", "~=1.4.5a4", "~=1.4.5.post1", "~=2.2.0.dev1", "~=1", "~=1!1.0", "~=v1.4", ">1.0", ">1.0.post1", "<1.0", "<1.0rc1",
        "<=1.0", ">1.0a1", "<2.0.dev0", "===1.0", "===1.0.0", "===1.0+abc", "==1.0a1", ">=1.0a1", "<=1.0rc1", "==1.0rc1.*", "==1.0+abc.*",
        ">=1.0+abc", "<1.0+abc", ">=1.0,!=1.1.*", ">=1.0rc1,<2", "==2!1.0.*", "== 1.0.*", "==v1.0.*", "==1.0RC1", ">=1.0 ,, <2", "1.0", "=1.0",
        "==", ">=1.0;", "~=1.0.*", ">1!0", "<=1!2.0", ">=0.0.dev0", ">1.0.dev1", "<1.0.post1", "==1.0.post1.*",
    ];

    [Fact]
    public void Pep440Version_ParseNormaliseAndCompare_AgreeWithPackaging()
    {
        var random = new Random(Seed);
        var pool = TrickyVersions.Concat(Enumerable.Range(0, 600).Select(_ => Pep440Generator.Version(random, allowLocal: true))).ToList();
        var cases = new List<JsonObject>();
        foreach (string v in pool)
        {
            cases.Add(new JsonObject { ["op"] = "parse", ["v"] = v });
        }
        var valid = pool.Where(v => Pep440Version.TryParse(v, out _)).ToList();
        for (int i = 0; i < 3000; i++)
        {
            // Near neighbours compare more interestingly than random pairs.
            string a = valid[random.Next(valid.Count)];
            string b = random.Next(3) == 0 ? valid[random.Next(valid.Count)] : Pep440Generator.Neighbour(random, a);
            cases.Add(new JsonObject { ["op"] = "cmp", ["a"] = a, ["b"] = b });
        }

        var answers = ReferenceOracle.RunPython(cases);
        var mismatches = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var a = answers[i];
            if ((string)c["op"]! == "parse")
            {
                bool ok = Pep440Version.TryParse((string)c["v"]!, out var v);
                if (ok != ReferenceOracle.Ok(a) || (ok && (v!.Normalized != (string)a["norm"]! || v.IsPrerelease != a["pre"]!.GetValue<bool>())))
                {
                    mismatches.Add($"{ReferenceOracle.Describe(c)}: ours {(ok ? v!.Normalized + " pre=" + v.IsPrerelease : "invalid")}, packaging {a.ToJsonString()}");
                }
                continue;
            }
            bool both = Pep440Version.TryParse((string)c["a"]!, out var x) & Pep440Version.TryParse((string)c["b"]!, out var y);
            if (both != ReferenceOracle.Ok(a) || (both && Math.Sign(x!.CompareTo(y)) != a["r"]!.GetValue<int>()))
            {
                mismatches.Add($"{ReferenceOracle.Describe(c)}: ours {(both ? x!.CompareTo(y) : "invalid")}, packaging {a.ToJsonString()}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} cases disagree:\n" + string.Join('\n', mismatches.Take(40)));
    }

    [Fact]
    public void Pep440SpecifierSet_Contains_AgreesWithPackaging()
    {
        var random = new Random(Seed + 1);
        var cases = new List<JsonObject>();
        foreach (string s in TrickySpecifiers)
        {
            foreach (string v in TrickyVersions.Where(v => Pep440Version.TryParse(v, out _)))
            {
                cases.Add(new JsonObject { ["op"] = "contains", ["v"] = v, ["s"] = s });
            }
        }
        for (int i = 0; i < 4000; i++)
        {
            string spec = Pep440Generator.SpecifierSet(random);
            // Candidates near the specifier's own versions hit its boundaries.
            string v = random.Next(2) == 0 ? Pep440Generator.Version(random, allowLocal: true) : Pep440Generator.NearSpecifier(random, spec);
            cases.Add(new JsonObject { ["op"] = "contains", ["v"] = v, ["s"] = spec });
        }

        var answers = ReferenceOracle.RunPython(cases);
        var mismatches = new List<string>();
        int contained = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var a = answers[i];
            bool ok = Pep440SpecifierSet.TryParse((string)c["s"]!, out var set) & Pep440Version.TryParse((string)c["v"]!, out var v);
            bool ours = ok && set!.Contains(v!);
            bool theirs = ReferenceOracle.Ok(a) && a["r"]!.GetValue<bool>();
            contained += theirs ? 1 : 0;
            if (ok != ReferenceOracle.Ok(a) || ours != theirs)
            {
                mismatches.Add($"{ReferenceOracle.Describe(c)}: ours valid={ok} contains={ours}, packaging {a.ToJsonString()}");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} cases disagree:\n" + string.Join('\n', mismatches.Take(40)));
        Assert.InRange(contained, cases.Count / 20, cases.Count - (cases.Count / 20));
    }
}

/// <summary>Seeded generators of PEP 440 versions (all spellings) and specifier sets.</summary>
internal static class Pep440Generator
{
    private static string Pick(Random r, params string[] items) => items[r.Next(items.Length)];

    private static string N(Random r) => (r.Next(100) < 80 ? r.Next(4) : r.Next(20)).ToString(CultureInfo.InvariantCulture);

    public static string Release(Random r, int minParts = 1)
    {
        int parts = Math.Max(minParts, r.Next(100) < 50 ? 2 : r.Next(1, 5));
        return string.Join('.', Enumerable.Range(0, parts).Select(_ => N(r)));
    }

    public static string Version(Random r, bool allowLocal, int minParts = 1)
    {
        if (r.Next(100) < 3)
        {
            return Pick(r, "1.0foo", "1..0", "1.0+", "a1.0", "1.0-", "", "1.0.*", "1.0 b1");
        }
        string v = Release(r, minParts);
        if (r.Next(100) < 8)
        {
            v = N(r) + "!" + v;
        }
        if (r.Next(100) < 30)
        {
            v += Pick(r, "", "", ".", "-", "_") + Pick(r, "a", "b", "rc", "a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "RC", "A")
                + Pick(r, "", "", ".", "-") + (r.Next(100) < 85 ? N(r) : "");
        }
        if (r.Next(100) < 18)
        {
            v += Pick(r, ".post" + N(r), "-" + N(r), "post" + N(r), ".post", "-r" + N(r), ".rev" + N(r), "_post" + N(r), ".POST" + N(r));
        }
        if (r.Next(100) < 18)
        {
            v += Pick(r, ".dev" + N(r), "dev" + N(r), ".dev", "-dev" + N(r), "_DEV" + N(r));
        }
        if (allowLocal && r.Next(100) < 12)
        {
            v += "+" + Pick(r, "abc", "1.2", "ubuntu-1", "AbC.5", "5", "abc.7", "abc.10", "x_y", "00");
        }
        if (r.Next(100) < 4)
        {
            v = "v" + v;
        }
        return v;
    }

    /// <summary>A version close to <paramref name="v"/>: another suffix on the same release, padded zeros, a local label.</summary>
    public static string Neighbour(Random r, string v)
    {
        if (!Pep440Version.TryParse(v, out var parsed))
        {
            return v;
        }
        string baseText = parsed.BaseVersion;
        return r.Next(7) switch
        {
            0 => baseText + ".0",
            1 => baseText + Pick(r, "a1", "b2", "rc1", ".dev0", ".post1", "a1.dev1", ".post1.dev1", "rc1.post1"),
            2 => baseText + "+" + Pick(r, "abc", "1", "abc.1", "2"),
            3 => parsed.Public,
            4 => baseText,
            5 => Version(r, allowLocal: true),
            _ => parsed.Normalized + Pick(r, "", ".dev1", "+x"),
        };
    }

    public static string Specifier(Random r)
    {
        string op = Pick(r, "==", "==", "!=", "<=", ">=", ">=", "<", "<", ">", "~=", "===");
        string space = r.Next(100) < 10 ? " " : "";
        string version = op switch
        {
            "==" or "!=" when r.Next(100) < 30 => (r.Next(10) == 0 ? N(r) + "!" : "") + Release(r) + ".*",
            "==" or "!=" => Version(r, allowLocal: true),
            "~=" => Version(r, allowLocal: false, minParts: 2),
            "===" => Pep440Version.TryParse(Version(r, allowLocal: true), out var p) ? (r.Next(2) == 0 ? p.Normalized : p.Original) : "1.0",
            _ => Version(r, allowLocal: false),
        };
        return op + space + version;
    }

    public static string SpecifierSet(Random r)
    {
        int n = r.Next(100) < 55 ? 1 : r.Next(2, 4);
        return string.Join(Pick(r, ",", ", ", " ,"), Enumerable.Range(0, n).Select(_ => Specifier(r)));
    }

    /// <summary>A version near one named in the specifier set, so boundaries get tested.</summary>
    public static string NearSpecifier(Random r, string spec)
    {
        var names = spec.Split(',').Select(s => s.Trim().TrimStart('=', '!', '<', '>', '~').Trim().Replace(".*", "", StringComparison.Ordinal)).ToList();
        string name = names[r.Next(names.Count)];
        return Pep440Version.TryParse(name, out _) ? Neighbour(r, name) : Version(r, allowLocal: true);
    }
}
