using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Inventory;
using Tollgate.Sbom;

namespace Tollgate.Tests.Inventory;

public sealed class InventoryStoreTests
{
    public static IEnumerable<object[]> Kinds() => StoreTargets.Kinds();

    private static DependencyGraph RealGraph(string file = "cdxgen-12.8.4.cdx-1.6.json")
    {
        var path = TestData.Reference("sbom", file);
        var bag = new DiagnosticBag();
        var graph = SbomReader.Read(path, bag);
        Assert.False(bag.HasErrors, string.Join('\n', bag.Items));
        return graph;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Add_TwoSnapshots_LatestIsCurrentAndHistoryKept(string kind)
    {
        using var store = InventoryStore.Open(StoreTargets.NewStore(kind));
        var graph = RealGraph();
        var first = store.Add(graph, "weather", "1.0.0", "prod", "a.json", DateTimeOffset.Parse("2026-11-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var second = store.Add(graph, "weather", "1.1.0", "prod", "b.json", DateTimeOffset.Parse("2026-11-02T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        store.Add(RealGraph("sbom-tool-sample.spdx-2.2.json"), "nuget-app", null, "staging", null, DateTimeOffset.UnixEpoch);

        var list = store.List();
        Assert.Equal(["nuget-app", "weather"], list.Select(s => s.Deployment));
        Assert.Equal(second.Id, list.Single(s => s.Deployment == "weather").Id);
        Assert.Equal(graph.Components.Length, list.Single(s => s.Deployment == "weather").ComponentCount);

        var history = store.History("weather");
        Assert.Equal([second.Id, first.Id], history.Select(h => h.Id));
        Assert.Equal([true, false], history.Select(h => h.Current));
        Assert.Equal(graph.Components.Length, store.Components(second.Id).Count);
        Assert.Empty(store.History("no-such-deployment"));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Affected_ByNameAndVersion_FindsCurrentDeploymentsWithPath(string kind)
    {
        using var store = InventoryStore.Open(StoreTargets.NewStore(kind));
        var graph = RealGraph();
        store.Add(graph, "weather", "1.0.0", "prod", null, DateTimeOffset.UnixEpoch);
        store.Add(RealGraph("sbom-tool-sample.spdx-2.2.json"), "nuget-app", null, "staging", null, DateTimeOffset.UnixEpoch);

        // A transitive package of the real cdxgen SBOM: pick one with a parent, and check the stored path against the graph's.
        var target = graph.Components.First(c => !c.Direct);
        var expected = graph.ShortestPathTo(target.Key);
        var hits = store.Affected(Ecosystem.Npm, target.Name.ToUpperInvariant(), (_, v) => v == target.Version);

        var hit = Assert.Single(hits);
        Assert.Equal("weather", hit.Deployment);
        Assert.Equal("prod", hit.Environment);
        Assert.Equal(target.Version, hit.Component.Version);
        Assert.Equal(expected.Length - 1, hit.Path.Length); // the stored path starts at the first package, not the project root
        Assert.Equal($"{target.Name}@{target.Version}", hit.Path[^1]);

        Assert.Empty(store.Affected(Ecosystem.Npm, target.Name, (_, v) => v == "0.0.0-none"));
        Assert.Empty(store.Affected(Ecosystem.PyPI, target.Name, (_, _) => true));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Affected_OlderSnapshot_IsNotReported(string kind)
    {
        using var store = InventoryStore.Open(StoreTargets.NewStore(kind));
        store.Add(RealGraph(), "weather", "1.0.0", null, null, DateTimeOffset.UnixEpoch);
        store.Add(RealGraph("sbom-tool-sample.spdx-2.2.json"), "weather", "2.0.0", null, null, DateTimeOffset.UnixEpoch);

        Assert.Empty(store.Affected(Ecosystem.Npm, "zod", (_, _) => true));
        Assert.NotEmpty(store.Affected(null, "Castle.Core", (_, _) => true));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Add_Concurrent_LosesNothing(string kind)
    {
        var store = StoreTargets.NewStore(kind);
        using (InventoryStore.Open(store))
        {
            // schema created once up front, as the first command on a new store would
        }
        var graph = RealGraph();
        var tasks = Enumerable.Range(0, 6).Select(i => Task.Run(() =>
        {
            using var s = InventoryStore.Open(store);
            return s.Add(graph, $"dep-{i % 3}", $"{i}", null, null, DateTimeOffset.UnixEpoch);
        })).ToArray();
        var added = await Task.WhenAll(tasks);

        using var check = InventoryStore.Open(store);
        Assert.Equal(6, added.Select(a => a.Id).Distinct().Count());
        Assert.Equal(3, check.List().Count);
        Assert.Equal(6, check.List().Sum(d => check.History(d.Deployment).Count));
        foreach (var d in check.List())
        {
            Assert.Equal(graph.Components.Length, check.Components(d.Id).Count);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Add_FailingMidway_LeavesNoPartialSnapshot(string kind)
    {
        var storePath = StoreTargets.NewStore(kind);
        using var store = InventoryStore.Open(storePath);
        var graph = RealGraph();
        // A NUL character is refused by PostgreSQL text columns; SQLite gets a trigger that refuses the last row.
        // Either way the failure happens after the deployment, snapshot and some components were written.
        Component poisoned = graph.Components[^1] with { Name = kind == "postgres" ? "bad\0name" : "poisoned" };
        if (kind == "sqlite")
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={storePath}");
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "CREATE TRIGGER refuse BEFORE INSERT ON components WHEN NEW.name = 'poisoned' BEGIN SELECT RAISE(ABORT, 'refused'); END;";
            cmd.ExecuteNonQuery();
        }
        var broken = new DependencyGraph([.. graph.Components.SkipLast(1), poisoned], graph.Edges, graph.Roots);

        Assert.ThrowsAny<Exception>(() => store.Add(broken, "weather", "1", null, null, DateTimeOffset.UnixEpoch));

        Assert.Empty(store.List());
        Assert.Empty(store.History("weather"));
        Assert.Empty(store.Affected(null, graph.Components[0].Name, (_, _) => true));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RecordRescan_ReportsNewThenResolved(string kind)
    {
        using var store = InventoryStore.Open(StoreTargets.NewStore(kind));
        store.Add(RealGraph(), "weather", "1", "prod", null, DateTimeOffset.UnixEpoch);
        var packages = store.CurrentPackages();
        var zod = packages.First(p => p.Component.Name == "zod");

        var first = store.RecordRescan(new Dictionary<InventoryPackage, IReadOnlyList<string>> { [zod] = ["GHSA-test-0001"] });
        var again = store.RecordRescan(new Dictionary<InventoryPackage, IReadOnlyList<string>> { [zod] = ["GHSA-test-0001"] });
        var cleared = store.RecordRescan(new Dictionary<InventoryPackage, IReadOnlyList<string>>());

        var hit = Assert.Single(first.New);
        Assert.Equal(("weather", "GHSA-test-0001"), (hit.Deployment.Deployment, hit.AdvisoryId));
        Assert.Empty(first.Resolved);
        Assert.Empty(again.New);
        Assert.Empty(again.Resolved);
        Assert.Equal("GHSA-test-0001", Assert.Single(cleared.Resolved).AdvisoryId);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RecordRescan_RedeployThatStillCarriesThePackage_IsNeitherNewNorResolved(string kind)
    {
        using var store = InventoryStore.Open(StoreTargets.NewStore(kind));
        store.Add(RealGraph(), "weather", "1", "prod", null, DateTimeOffset.UnixEpoch);
        var zod = store.CurrentPackages().First(p => p.Component.Name == "zod");
        Assert.Single(store.RecordRescan(new Dictionary<InventoryPackage, IReadOnlyList<string>> { [zod] = ["GHSA-test-0001"] }).New);

        // Version 2 of the deployment: a new snapshot with the same zod.
        store.Add(RealGraph(), "weather", "2", "prod", null, DateTimeOffset.UnixEpoch.AddDays(1));
        zod = store.CurrentPackages().First(p => p.Component.Name == "zod");
        var after = store.RecordRescan(new Dictionary<InventoryPackage, IReadOnlyList<string>> { [zod] = ["GHSA-test-0001"] });
        Assert.Empty(after.New);
        Assert.Empty(after.Resolved);

        // A second deployment with the same package is a new hit of its own.
        store.Add(RealGraph(), "weather-staging", "2", "staging", null, DateTimeOffset.UnixEpoch.AddDays(1));
        zod = store.CurrentPackages().First(p => p.Component.Name == "zod");
        var other = store.RecordRescan(new Dictionary<InventoryPackage, IReadOnlyList<string>> { [zod] = ["GHSA-test-0001"] });
        Assert.Equal("weather-staging", Assert.Single(other.New).Deployment.Deployment);
        Assert.Empty(other.Resolved);
    }
}
