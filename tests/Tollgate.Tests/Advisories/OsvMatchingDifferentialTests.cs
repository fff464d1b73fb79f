using System.Text.Json.Nodes;
using Tollgate.Advisories;
using Tollgate.Ecosystems.Npm;
using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Tests.Policy;
using Tollgate.Tests.Versions;
using Xunit.Abstractions;

namespace Tollgate.Tests.Advisories;

/// <summary>
/// The whole matching path (OSV JSON → import → SQLite store → <see cref="AdvisoryMatcher"/>) against
/// the OSV schema's evaluation algorithm run with the ecosystem's reference comparator (node-semver
/// for npm, <c>packaging</c> for PyPI; tests/tools/*-oracle.*). Records are random: events drawn from a
/// small pool per package so versions repeat (<c>introduced X, fixed X, introduced X</c>), unsorted,
/// with <c>introduced: "0"</c>, <c>last_affected</c>, <c>limit</c> (and <c>"*"</c>), build metadata on
/// npm, epochs and local versions on PyPI, and <c>versions</c> lists spelled differently from the
/// installed version.
/// </summary>
public sealed class OsvMatchingDifferentialTests(ITestOutputHelper output)
{
    private const int Packages = 1500;

    [Fact]
    public void Matcher_RandomNpmRecords_AgreesWithTheSchemaAlgorithmOnNodeSemver() =>
        Compare(Ecosystem.Npm, new Random(20261205), RandomNpmVersion, ReferenceOracle.RunNode);

    [Fact]
    public void Matcher_RandomPyPIRecords_AgreesWithTheSchemaAlgorithmOnPackaging() =>
        Compare(Ecosystem.PyPI, new Random(20261206), RandomPyPIVersion, ReferenceOracle.RunPython);

    private static string? RandomNpmVersion(Random r)
    {
        string v = NpmGenerator.Version(r).TrimStart('v', 'V', '=').Trim();
        if (r.Next(100) < 10 && !v.Contains('+', StringComparison.Ordinal))
        {
            v += "+build." + r.Next(3);
        }
        return NpmVersion.TryParse(v, out _) ? v : null;
    }

    private static string? RandomPyPIVersion(Random r)
    {
        string v = Pep440Generator.Version(r, allowLocal: true).TrimStart('v');
        if (r.Next(100) < 8)
        {
            v = r.Next(1, 3) + "!" + v;
        }
        return Pep440Version.TryParse(v, out _) ? v : null;
    }

    private void Compare(Ecosystem ecosystem, Random random, Func<Random, string?> version, Func<IReadOnlyList<JsonObject>, IReadOnlyList<JsonObject>> oracle)
    {
        using var temp = new TempFolder();
        string records = temp.File("records");
        Directory.CreateDirectory(records);
        var components = new List<Component>();
        var cases = new List<(string Name, string Version, JsonObject Query)>();
        int repeated = 0;
        for (int p = 0; p < Packages; p++)
        {
            string name = $"osv-diff-{p}";
            var pool = new List<string>();
            while (pool.Count < random.Next(3, 8))
            {
                if (version(random) is { } v)
                {
                    pool.Add(v);
                }
            }
            var ranges = new JsonArray();
            for (int k = random.Next(1, 3); k > 0; k--)
            {
                var events = RandomEvents(random, pool, ref repeated);
                ranges.Add(new JsonObject { ["type"] = ecosystem == Ecosystem.Npm && random.Next(2) == 0 ? "SEMVER" : "ECOSYSTEM", ["events"] = events });
            }
            var listed = new JsonArray();
            if (random.Next(4) == 0)
            {
                foreach (var v in pool.Where(_ => random.Next(3) == 0))
                {
                    listed.Add(Respell(ecosystem, random, v));
                }
            }
            var affected = new JsonObject
            {
                ["package"] = new JsonObject { ["ecosystem"] = ecosystem.ToOsvName(), ["name"] = name },
                ["ranges"] = ranges,
            };
            if (listed.Count > 0)
            {
                affected["versions"] = listed;
            }
            var record = new JsonObject
            {
                ["schema_version"] = "1.6.0",
                ["id"] = $"TEST-{ecosystem.ToOsvName()}-{p}",
                ["modified"] = "2026-01-01T00:00:00Z",
                ["summary"] = "random record for the differential test",
                ["affected"] = new JsonArray(affected),
            };
            File.WriteAllText(Path.Combine(records, $"TEST-{p}.json"), record.ToJsonString());

            // Installed versions: the pool itself, respellings of it, and a few others.
            var installed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in pool)
            {
                installed.Add(v);
                installed.Add(Respell(ecosystem, random, v));
            }
            for (int i = 0; i < 2; i++)
            {
                if (version(random) is { } v)
                {
                    installed.Add(v);
                }
            }
            foreach (var v in installed)
            {
                components.Add(PolicyTestComponents.Make(ecosystem, name, v));
                var query = new JsonObject
                {
                    ["op"] = "osv",
                    ["v"] = v,
                    ["ranges"] = ranges.DeepClone(),
                    ["versions"] = listed.DeepClone(),
                };
                cases.Add((name, v, query));
            }
        }

        string db = temp.File("advisories.db");
        var diagnostics = new DiagnosticBag();
        var import = AdvisoryImporter.Import([records], new AdvisoryImportOptions { DatabasePath = db }, diagnostics);
        Assert.True(import.Succeeded, string.Join('\n', diagnostics.Items.Select(d => d.ToString())));
        using var store = AdvisoryStore.Open(db);
        var graph = new DependencyGraph(components, [], []);
        var hits = new AdvisoryMatcher(store).Match(graph).Findings
            .Select(f => (f.Component.Name, f.Component.Version))
            .ToHashSet();

        var answers = oracle([.. cases.Select(c => c.Query)]);
        var missed = new List<string>();
        var extra = new List<string>();
        int reference = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            Assert.True(ReferenceOracle.Ok(answers[i]), $"the reference could not evaluate {ReferenceOracle.Describe(cases[i].Query)}: {answers[i].ToJsonString()}");
            bool theirs = answers[i]["r"]!.GetValue<bool>();
            bool ours = hits.Contains((cases[i].Name, cases[i].Version));
            reference += theirs ? 1 : 0;
            if (theirs && !ours)
            {
                missed.Add(ReferenceOracle.Describe(cases[i].Query));
            }
            else if (ours && !theirs)
            {
                extra.Add(ReferenceOracle.Describe(cases[i].Query));
            }
        }
        Assert.True(missed.Count == 0 && extra.Count == 0,
            $"of {cases.Count} versions ({reference} affected per the reference), Tollgate missed {missed.Count} and added {extra.Count}:\n"
            + string.Join('\n', missed.Take(15).Select(m => "missed " + m).Concat(extra.Take(15).Select(e => "extra " + e))));
        output.WriteLine($"{ecosystem}: {Packages} records, {cases.Count} installed versions, {reference} affected per the reference, {repeated} ranges repeating a version; agreement on all");
        // The generator must exercise both answers and the repeated-version case, or the comparison proves little.
        Assert.InRange(reference, cases.Count / 10, cases.Count - (cases.Count / 10));
        Assert.True(repeated >= 100, $"only {repeated} ranges repeat a version");
    }

    /// <summary>1–5 events from the pool (repeats allowed), at least one introduced, shuffled; sometimes the re-affected pattern.</summary>
    private static JsonArray RandomEvents(Random random, List<string> pool, ref int repeated)
    {
        var events = new List<JsonObject>();
        string Pick() => pool[random.Next(pool.Count)];
        if (random.Next(12) == 0)
        {
            string x = Pick();
            events.Add(new JsonObject { ["introduced"] = x });
            events.Add(new JsonObject { ["fixed"] = x });
            events.Add(new JsonObject { ["introduced"] = x });
        }
        else
        {
            events.Add(new JsonObject { ["introduced"] = random.Next(5) == 0 ? "0" : Pick() });
            for (int n = random.Next(0, 5); n > 0; n--)
            {
                int kind = random.Next(20);
                events.Add(kind switch
                {
                    < 7 => new JsonObject { ["introduced"] = Pick() },
                    < 15 => new JsonObject { ["fixed"] = Pick() },
                    < 18 => new JsonObject { ["last_affected"] = Pick() },
                    _ => new JsonObject { ["limit"] = random.Next(3) == 0 ? "*" : Pick() },
                });
            }
            if (random.Next(2) == 0)
            {
                events = [.. events.OrderBy(_ => random.Next())];
            }
        }
        var values = events.Select(e => e.First().Value!.GetValue<string>()).ToList();
        if (values.Count != values.Distinct(StringComparer.Ordinal).Count())
        {
            repeated++;
        }
        return [.. events];
    }

    /// <summary>The same version spelled another way: npm with or without build metadata, PyPI with padded zeros or upper case.</summary>
    private static string Respell(Ecosystem ecosystem, Random random, string v)
    {
        if (ecosystem == Ecosystem.Npm)
        {
            int plus = v.IndexOf('+', StringComparison.Ordinal);
            return plus >= 0 ? v[..plus] : v + "+meta." + random.Next(9);
        }
        return random.Next(3) switch
        {
            0 => v.ToUpperInvariant(),
            1 when Pep440Version.TryParse(v + ".0", out var padded) && Pep440Version.TryParse(v, out var original) && padded.CompareTo(original) == 0 => v + ".0",
            _ => v,
        };
    }
}
