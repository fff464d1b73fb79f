using System.Globalization;
using System.Text.Json.Nodes;
using Tollgate.Ecosystems;
using Tollgate.Ecosystems.Npm;
using Tollgate.Tests.Versions;

namespace Tollgate.Tests.Updates;

/// <summary>
/// "wanted" against npm's own resolver: npm-pick-manifest (pinned in tests/tools/node) and NpmPickManifest pick the
/// same version for random specs, release-age cut-offs (<c>before</c>) and node versions, on every recorded packument.
/// </summary>
public sealed class NpmPickManifestDifferentialTests
{
    private static readonly string?[] NodeVersions = [null, "0.10.0", "8.0.0", "14.17.0", "18.19.0", "20.11.1", "22.3.0"];

    [Fact]
    public void Pick_AgreesWithNpmPickManifest_OnEveryRecordedPackument()
    {
        var random = new Random(20261204);
        var cases = new List<(string File, PackageFacts Facts, string Wanted, string? Before, string? Node)>();
        var files = Directory.GetFiles(Path.Combine(FixtureRegistry.DataFolder, "npm"), "*.json")
            .Concat(Directory.GetFiles(Path.Combine(FixtureRegistry.DataFolder, "npm-signals"), "*.json")).Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            var facts = NpmPackument.Parse(File.ReadAllBytes(file), Path.GetFileName(file), out var error)!;
            Assert.True(error is null, error);
            var versions = facts.Versions.Select(v => v.Version).Where(v => NpmVersion.TryParse(v, out _)).ToList();
            var times = facts.Versions.Where(v => v.Published is not null).Select(v => v.Published!.Value).Order().ToList();
            for (var i = 0; i < 120; i++)
            {
                var wanted = RandomSpec(random, versions, facts.DistTags.Keys.ToList());
                string? before = null;
                if (times.Count > 0 && random.Next(3) > 0)
                {
                    var at = times[random.Next(times.Count)] + TimeSpan.FromSeconds(random.Next(-2, 3));
                    before = at.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
                }
                cases.Add((file, facts, wanted, before, NodeVersions[random.Next(NodeVersions.Length)]));
            }
        }

        var answers = ReferenceOracle.RunNode([.. cases.Select(c => new JsonObject
        {
            ["op"] = "pick",
            ["file"] = c.File,
            ["wanted"] = c.Wanted,
            ["before"] = c.Before,
            ["node"] = c.Node,
        })]);

        var disagreements = new List<string>();
        var picked = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var expected = answers[i]["version"]?.GetValue<string>();
            var before = c.Before is null ? (DateTimeOffset?)null : DateTimeOffset.Parse(c.Before, CultureInfo.InvariantCulture);
            var actual = NpmPickManifest.Pick(c.Facts, c.Wanted, before, c.Node)?.Version;
            picked += expected is null ? 0 : 1;
            if (expected != actual)
            {
                disagreements.Add($"{Path.GetFileName(c.File)} '{c.Wanted}' before={c.Before} node={c.Node}: npm-pick-manifest {expected ?? "(none)"}, Tollgate {actual ?? "(none)"}");
            }
        }
        Assert.True(disagreements.Count == 0, $"{disagreements.Count} of {cases.Count} cases differ:\n" + string.Join("\n", disagreements.Take(30)));
        // The cases must mostly pick something, or the comparison says little.
        Assert.True(picked > cases.Count / 2, $"only {picked} of {cases.Count} cases picked a version");
        Assert.True(cases.Count >= 1500);
    }

    private static string RandomSpec(Random random, List<string> versions, List<string> tags)
    {
        string V() => versions[random.Next(versions.Count)];
        string Core(string v) => v.Split('-', 2)[0];
        var v = V();
        var parts = Core(v).Split('.');
        return random.Next(16) switch
        {
            0 => "^" + v,
            1 => "~" + v,
            2 => ">=" + v,
            3 => "<" + v,
            4 => $">={Core(V())} <{Core(V())}",
            5 => $"{Core(V())} - {Core(V())}",
            6 => parts[0],
            7 => $"{parts[0]}.{parts[1]}.x",
            8 => "*",
            9 => v,
            10 => tags.Count > 0 ? tags[random.Next(tags.Count)] : "latest",
            11 => $"<={Core(V())} || >={Core(V())}",
            12 => $"^{parts[0]}.{parts[1]}",
            13 => "",
            14 => $"~{parts[0]}",
            _ => $"^{Core(v)}-0",
        };
    }
}
