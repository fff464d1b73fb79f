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

        var first = store.RecordRescan(Hit(zod, "GHSA-test-0001"), Day(0));
        var again = store.RecordRescan(Hit(zod, "GHSA-test-0001"), Day(0));
        var cleared = store.RecordRescan(new Dictionary<InventoryPackage, IReadOnlyList<HitFinding>>(), Day(0));

        var hit = Assert.Single(first.New);
        Assert.Equal(("weather", "GHSA-test-0001"), (hit.Hit.Deployment, hit.AdvisoryId));
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
        Assert.Single(store.RecordRescan(Hit(zod, "GHSA-test-0001"), Day(0)).New);

        // Version 2 of the deployment: a new snapshot with the same zod.
        store.Add(RealGraph(), "weather", "2", "prod", null, DateTimeOffset.UnixEpoch.AddDays(1));
        zod = store.CurrentPackages().First(p => p.Component.Name == "zod");
        var after = store.RecordRescan(Hit(zod, "GHSA-test-0001"), Day(0));
        Assert.Empty(after.New);
        Assert.Empty(after.Resolved);

        // A second deployment with the same package is a new hit of its own.
        store.Add(RealGraph(), "weather-staging", "2", "staging", null, DateTimeOffset.UnixEpoch.AddDays(1));
        zod = store.CurrentPackages().First(p => p.Component.Name == "zod");
        var other = store.RecordRescan(Hit(zod, "GHSA-test-0001"), Day(0));
        Assert.Equal("weather-staging", Assert.Single(other.New).Hit.Deployment);
        Assert.Empty(other.Resolved);
    }

    private static Dictionary<InventoryPackage, IReadOnlyList<HitFinding>> Hit(InventoryPackage package, string id, Severity severity = Severity.High, bool malicious = false) =>
        new() { [package] = [new HitFinding(id, severity, malicious, malicious ? null : "9.9.9", $"summary of {id}")] };

    private static DateTimeOffset Day(int day) => DateTimeOffset.UnixEpoch.AddDays(20_000 + day);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Hits_KeepTheTimeFirstFound_AcrossRescansAndRedeploys_AndAnswerSince(string kind)
    {
        using var store = InventoryStore.Open(StoreTargets.NewStore(kind));
        store.Add(RealGraph(), "weather", "1", "prod", null, Day(0));
        store.Add(RealGraph(), "billing", "1", "prod", null, Day(0));
        Assert.Equal(["billing", "weather"], store.UncheckedDeployments().Order(StringComparer.Ordinal));
        var zod = store.CurrentPackages().First(p => p.Component.Name == "zod");
        store.RecordRescan(Hit(zod, "GHSA-test-0001"), Day(1));
        Assert.Empty(store.UncheckedDeployments());

        // Day 2: weather redeploys with the same zod; day 3 a malicious record for zod appears.
        store.Add(RealGraph(), "weather", "2", "prod", null, Day(2));
        Assert.Equal(["weather"], store.UncheckedDeployments());
        zod = store.CurrentPackages().First(p => p.Component.Name == "zod");
        var matches = new Dictionary<InventoryPackage, IReadOnlyList<HitFinding>>
        {
            [zod] = [new("GHSA-test-0001", Severity.High, false, "9.9.9", "s"), new("MAL-test-0002", Severity.Critical, true, null, "malware")],
        };
        var third = store.RecordRescan(matches, Day(3), databaseVersion: "v2");

        Assert.Equal([("billing", "MAL-test-0002"), ("weather", "MAL-test-0002")], third.New.Select(h => (h.Hit.Deployment, h.AdvisoryId)));
        var all = store.Hits();
        Assert.Equal(4, all.Total);
        Assert.Equal([Day(3), Day(3), Day(1), Day(1)], all.Hits.Select(h => h.FoundAt));
        Assert.All(all.Hits.Where(h => h.AdvisoryId == "GHSA-test-0001"), h => Assert.Equal(("9.9.9", Severity.High, false), (h.Finding.FixedIn, h.Finding.Severity, h.Finding.Malicious)));
        Assert.All(all.Hits, h => Assert.Equal("zod", h.Hit.Path[^1].Split('@')[0]));
        var since = store.Hits(Day(2));
        Assert.Equal(2, since.Total);
        Assert.All(since.Hits, h => Assert.True(h.Finding.Malicious));
        Assert.Equal(["GHSA-test-0001", "MAL-test-0002"], store.Hits(deployment: "billing").Hits.Select(h => h.AdvisoryId).Order(StringComparer.Ordinal));
        var page = store.Hits(paging: new Paging(1, 2));
        Assert.Equal((4, 2, 3), (page.Total, page.Hits.Count, page.NextOffset));

        var counts = store.HitCountsByDeployment();
        Assert.Equal(new HitCounts(2, 1, 0, 1, Day(3)), counts["weather"]);
        var run = store.Rescans().First();
        Assert.Equal((Day(3), "v2", (string?)null, 2, 0), (run.At, run.DatabaseVersion, run.Deployment, run.NewHits, run.ResolvedHits));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void RecordRescan_OfOneDeployment_LeavesTheOthersAlone(string kind)
    {
        using var store = InventoryStore.Open(StoreTargets.NewStore(kind));
        store.Add(RealGraph(), "weather", "1", "prod", null, Day(0));
        store.Add(RealGraph(), "billing", "1", "prod", null, Day(0));
        var zod = store.CurrentPackages().First(p => p.Component.Name == "zod");
        store.RecordRescan(Hit(zod, "GHSA-test-0001"), Day(1));

        // billing uploads again; only its packages are matched, with nothing found now.
        store.Add(RealGraph(), "billing", "2", "prod", null, Day(2));
        var billingPackages = store.CurrentPackages(deployment: "billing");
        Assert.Equal(RealGraph().Components.Length, billingPackages.Count);
        var scoped = store.RecordRescan(new Dictionary<InventoryPackage, IReadOnlyList<HitFinding>>(), Day(2), deployment: "billing");

        Assert.Equal(("billing", "GHSA-test-0001"), (Assert.Single(scoped.Resolved).Deployment, scoped.Resolved[0].AdvisoryId));
        Assert.Equal("weather", Assert.Single(store.Hits().Hits).Hit.Deployment);
        Assert.Empty(store.UncheckedDeployments());
        Assert.Equal("billing", store.Rescans().First().Deployment);
    }

    [Fact]
    public void Open_UpgradesAVersion2Store_HitsRecordedBeforeCountAsFoundAtTheUpgrade()
    {
        var path = StoreTargets.NewStore("sqlite");
        using (var store = InventoryStore.Open(path))
        {
            store.Add(RealGraph(), "weather", "1", "prod", null, Day(0));
        }
        // The store as version 2 wrote it: rescan rows without what or when, no rescans table, no checked time.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = """
                DROP INDEX rescan_matches_found; DROP TABLE rescans;
                ALTER TABLE rescan_matches DROP COLUMN found_at; ALTER TABLE rescan_matches DROP COLUMN severity; ALTER TABLE rescan_matches DROP COLUMN malicious;
                ALTER TABLE rescan_matches DROP COLUMN fixed; ALTER TABLE rescan_matches DROP COLUMN summary; ALTER TABLE snapshots DROP COLUMN checked_at;
                UPDATE inventory_meta SET value = '2' WHERE key = 'schema_version';
                INSERT INTO rescan_matches (snapshot_id, component_id, advisory_id)
                    SELECT sc.snapshot_id, sc.component_id, 'GHSA-test-0001' FROM snapshot_components sc JOIN components c ON c.id = sc.component_id WHERE c.name = 'zod';
                """;
            cmd.ExecuteNonQuery();
        }
        var upgradeStarted = DateTimeOffset.UtcNow.AddSeconds(-1);

        using var upgraded = InventoryStore.Open(path, mustExist: true);
        var hit = Assert.Single(upgraded.Hits().Hits);
        Assert.Equal("GHSA-test-0001", hit.AdvisoryId);
        Assert.InRange(hit.FoundAt, upgradeStarted, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(Severity.None, hit.Finding.Severity);
        Assert.Empty(upgraded.UncheckedDeployments());
        Assert.Empty(upgraded.Rescans());
        // The next rescan keeps the time the hit was first recorded.
        var zod = upgraded.CurrentPackages().First(p => p.Component.Name == "zod");
        Assert.Empty(upgraded.RecordRescan(Hit(zod, "GHSA-test-0001"), Day(5)).New);
        Assert.Equal(hit.FoundAt, Assert.Single(upgraded.Hits().Hits).FoundAt);
    }
}
