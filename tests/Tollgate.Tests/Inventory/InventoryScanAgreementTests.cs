using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Sbom;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;
using Tollgate.Tests.Sbom;

namespace Tollgate.Tests.Inventory;

/// <summary>
/// `scan --sbom` and the inventory's advisory queries (`rescan`, `affected ID`) decide with the same matcher: on the
/// same SBOM and policy they report the same advisory hits. The SBOM is the example MCP server's real lockfile with
/// four vulnerable packages moved to the sources the matcher leaves out (git, a tarball URL, a local folder, and a
/// private name from the approved private registry) and one private name from the public registry (dependency
/// confusion: that is the public package, and is matched).
/// </summary>
public sealed class InventoryScanAgreementTests : IDisposable
{
    private const string PrivateRegistry = "http://127.0.0.1:9/npm/";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static IEnumerable<object[]> Kinds() => StoreTargets.Kinds();

    private string Sbom()
    {
        var graph = SbomInputs.Graph("examples/mcp-server-npm");
        var moved = new Dictionary<string, Origin>(StringComparer.Ordinal)
        {
            ["axios"] = new(OriginKind.Git, "git+https://git.example.invalid/axios.git#v1.5.1"),
            ["lodash"] = new(OriginKind.Url, "https://files.example.invalid/lodash-4.17.20.tgz"),
            ["minimist"] = new(OriginKind.File, "vendor/minimist"),
            ["cookie"] = Origin.Registry(PrivateRegistry + "cookie/-/cookie-0.5.0.tgz"),
        };
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var components = graph.Components.Select(c =>
        {
            var changed = moved.TryGetValue(c.Name, out var origin) ? c with { Origin = origin } : c;
            keys[c.Key] = changed.Key;
            return changed;
        }).ToList();
        Assert.All(moved.Keys, name => Assert.Contains(graph.Components, c => c.Name == name));
        var edges = graph.Edges.Select(e => new DependencyEdge(keys.GetValueOrDefault(e.From, e.From), keys.GetValueOrDefault(e.To, e.To)));
        var file = _temp.File("weather.cdx.json");
        File.WriteAllText(file, CycloneDxWriter.Write(new DependencyGraph(components, edges, graph.Roots),
            new SbomOptions("1.6", DateTimeOffset.UnixEpoch, true, "test", "weather-mcp-server")));
        return file;
    }

    private string Policy()
    {
        var file = _temp.File("tollgate.yaml");
        File.WriteAllText(file, $"""
            private: [ "cookie", "body-parser" ]
            registries:
              approved: [ "{PrivateRegistry}" ]
            """);
        return file;
    }

    private string Database()
    {
        var db = _temp.File("advisories.db");
        var import = CliRunner.Run("db", "import", TestData.Reference("osv", "github"), TestData.Reference("osv", "malicious"), "--db", db);
        Assert.True(import.ExitCode == 0, import.Stderr);
        return db;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ScanAndInventory_SameSbom_ReportTheSameAdvisoryHits(string kind)
    {
        var sbom = Sbom();
        var policy = Policy();
        var db = Database();
        var store = StoreTargets.NewStore(kind);

        var scan = CliRunner.Run("scan", "--sbom", sbom, "--policy", policy, "--db", db, "--format", "json");
        var add = CliRunner.Run("inventory", "add", sbom, "--deployment", "weather", "--store", store);
        var rescan = CliRunner.Run("inventory", "rescan", "--store", store, "--db", db, "--policy", policy, "--format", "json");

        Assert.True(add.ExitCode == 0, add.Stderr);
        Assert.True(rescan.ExitCode == 0, rescan.Stderr);
        var scanned = ScanHits(scan.Stdout);
        var rescanned = RescanHits(rescan.Stdout);
        Assert.Equal(scanned, rescanned);
        // The private name from the public registry is matched; the moved packages and the own private one are not.
        Assert.Contains(scanned, h => h.StartsWith("body-parser@1.20.1 ", StringComparison.Ordinal));
        Assert.Contains(scanned, h => h.StartsWith("express@4.18.2 ", StringComparison.Ordinal));
        Assert.DoesNotContain(scanned, h => h.Split('@')[0] is "axios" or "lodash" or "minimist" or "cookie");

        // Each advisory id gives the same hits as the scan; the ids of the left-out packages give none.
        foreach (var id in scanned.Select(h => h.Split(' ')[1]).Distinct())
        {
            var affected = CliRunner.Run("inventory", "affected", id, "--store", store, "--db", db, "--policy", policy, "--format", "json");
            Assert.True(affected.ExitCode == 0, affected.Stderr);
            Assert.Equal(scanned.Where(h => h.EndsWith(" " + id, StringComparison.Ordinal)), AffectedHits(affected.Stdout).Select(h => $"{h} {id}"));
        }
        foreach (var id in new[] { "GHSA-wf5p-g6vw-rhxx", "GHSA-35jh-r3h4-6jhm", "GHSA-xvch-5gv4-984h", "GHSA-pxg6-pf52-xh8x" })
        {
            var affected = CliRunner.Run("inventory", "affected", id, "--store", store, "--db", db, "--policy", policy, "--format", "json");
            Assert.True(affected.ExitCode == 0, affected.Stderr);
            Assert.Empty(AffectedHits(affected.Stdout));
        }
    }

    private static List<string> ScanHits(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("kind").GetString() is "vulnerability" or "malicious")
            .Select(f => $"{f.GetProperty("package").GetProperty("name").GetString()}@{f.GetProperty("package").GetProperty("version").GetString()} {f.GetProperty("id").GetString()}")
            .Distinct().Order(StringComparer.Ordinal)];
    }

    private static List<string> RescanHits(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("newlyAffected").EnumerateArray()
            .Select(h => $"{h.GetProperty("hit").GetProperty("component").GetProperty("name").GetString()}@{h.GetProperty("hit").GetProperty("component").GetProperty("version").GetString()} {h.GetProperty("advisoryId").GetString()}")
            .Distinct().Order(StringComparer.Ordinal)];
    }

    private static List<string> AffectedHits(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("affected").EnumerateArray()
            .Select(h => $"{h.GetProperty("component").GetProperty("name").GetString()}@{h.GetProperty("component").GetProperty("version").GetString()}")
            .Distinct().Order(StringComparer.Ordinal)];
    }
}

public sealed class ComponentKeyTests
{
    public static TheoryData<Origin> Origins() =>
    [
        Origin.Registry(),
        new Origin(OriginKind.Git, "git+https://git.example.invalid/a.git#v1"),
        new Origin(OriginKind.Url, "https://files.example.invalid/a-1.0.0.tgz#sha=1"),
        new Origin(OriginKind.File, "vendor/a"),
        new Origin(OriginKind.Workspace, null),
    ];

    [Theory]
    [MemberData(nameof(Origins))]
    public void OriginOfKey_KeyOfAnyOrigin_GivesTheOriginBack(Origin origin)
    {
        foreach (var (ecosystem, name) in new[] { (Ecosystem.Npm, "@scope/a"), (Ecosystem.Npm, "a"), (Ecosystem.PyPI, "A_b"), (Ecosystem.NuGet, "A.B") })
        {
            Assert.Equal(origin, Component.OriginOfKey(Component.KeyFor(ecosystem, name, "1.0.0", origin)));
        }
    }
}
