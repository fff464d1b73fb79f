using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Inventory;
using Tollgate.Sbom;

namespace Tollgate.Bench;

/// <summary>
/// The inventory at fleet size: DEPLOYMENTS snapshots of COMPONENTS packages each, drawn from a pool of 20,000
/// npm names with Zipf popularity (s = 1.1) and one to four versions per name (the newest most used). A handful of
/// real package names with advisories in the test reference data sit at the top ranks so rescans have something to find.
/// Generation stops early when the time budget is spent; the report says which size was measured.
/// </summary>
internal static class InventoryBench
{
    internal const int PoolSize = 20_000;
    private static readonly string[] RealNames = ["lodash", "axios", "minimist", "express", "body-parser", "cookie"];
    private static readonly string[] RealVulnerable = ["4.17.20", "1.5.1", "1.2.5", "4.18.2", "1.20.1", "0.5.0"];

    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: Tollgate.Bench inventory STORE [DEPLOYMENTS=10000] [COMPONENTS=1500] [BUDGET_SECONDS=600] [ADVISORY_DB]");
            return 2;
        }
        var store = args[1];
        var deployments = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10_000;
        var perDeployment = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1_500;
        var budget = TimeSpan.FromSeconds(args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 600);
        var advisoryDb = args.Length > 5 && args[5] != "--generate-only" ? args[5] : null;
        var postgres = InventoryStore.IsPostgres(store);

        var pool = Pool(new Random(42));
        var random = new Random(7);
        var zipf = new Zipf(PoolSize, 1.1, random);
        Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        using (var migrate = InventoryStore.Open(store))
        {
            var existing = migrate.List().Count;
            if (existing == 0)
            {
                var generate = Stopwatch.StartNew();
                var made = postgres ? InventoryBulkLoad.Postgres(store, pool, zipf, random, deployments, perDeployment, budget)
                    : InventoryBulkLoad.Sqlite(store, pool, zipf, random, deployments, perDeployment, budget);
                generate.Stop();
                Console.WriteLine($"generated {made:N0} deployments x {perDeployment:N0} components = {(long)made * perDeployment:N0} rows in {generate.Elapsed.TotalSeconds:F0} s "
                    + $"({made * (double)perDeployment / Math.Max(1, generate.Elapsed.TotalSeconds):N0} rows/s, indexes and statistics included)");
            }
            else
            {
                Console.WriteLine($"store already holds {existing:N0} deployments; not generating");
            }
        }
        if (args.Contains("--generate-only"))
        {
            // Generation only (run it outside the benchmark lock, then run again to measure).
            return 0;
        }
        using var inventory = InventoryStore.Open(store);
        var count = inventory.List().Count;
        Console.WriteLine($"store: {(postgres ? "PostgreSQL" : "SQLite")}; {count:N0} current deployments; size {StoreSize(store):N0} MB");
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine();
        Console.WriteLine("| operation | result | median ms | p95 ms | min ms | max ms | median CPU ms | runs |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        // Each query twice: the first page of 100 hits (what `inventory affected` shows by default, with the count of
        // every hit) and every hit with its path (--limit 0).
        var pages = new[] { ("first 100", new Paging(0, 100)), ("all", Paging.All) };

        // affected by name@range, parsed and matched as `inventory affected NAME@RANGE` does: a top-ranked name (in
        // nearly every deployment), a mid-ranked one and two rare ones.
        foreach (var rank in new[] { 0, 50, 2_000, 15_000 })
        {
            var entry = pool[rank];
            var text = $"{entry.Name}@<={entry.Versions[^1]}";
            AffectedQuery.TryParse(text, out var q, out _);
            foreach (var (label, paging) in pages)
            {
                AffectedPage? page = null;
                Measure($"affected `{text}` (name@range, rank {rank + 1}), {label}", 21, () => page = inventory.Affected(q!.Ecosystem, q.Name!, q.Matches, paging),
                    () => $"{page!.Hits.Count:N0} of {page.Total:N0} hits");
            }
        }
        // affected by purl: one exact version.
        foreach (var rank in new[] { 3, 500 })
        {
            var entry = pool[rank];
            var text = PackageUrl.For(Ecosystem.Npm, entry.Name, entry.Versions[0]).ToString();
            AffectedQuery.TryParse(text, out var q, out _);
            foreach (var (label, paging) in pages)
            {
                AffectedPage? page = null;
                Measure($"affected `{text}` (purl, rank {rank + 1}), {label}", 21, () => page = inventory.Affected(q!.Ecosystem, q.Name!, q.Matches, paging),
                    () => $"{page!.Hits.Count:N0} of {page.Total:N0} hits");
            }
        }

        AdvisoryStore? advisories = advisoryDb is null ? null : AdvisoryStore.Open(advisoryDb);
        try
        {
            if (advisories is not null)
            {
                // affected by advisory id: advisories of the real names in the pool (found by the matcher, as scan does).
                foreach (var id in RealAdvisoryIds(advisories, 3))
                {
                    foreach (var (label, paging) in pages)
                    {
                        AdvisoryAffected? found = null;
                        Measure($"affected `{id}` (advisory id), {label}", 21, () => found = InventoryAdvisories.Affected(inventory, advisories, id, null, paging),
                            () => $"{found!.Hits.Count:N0} of {found.Page.Total:N0} hits");
                    }
                }
            }

            // add: what `tollgate inventory add SBOM --deployment D` does: read a 1,500-component CycloneDX file,
            // open the store, add the snapshot; into the full store. Timed as a whole and for the store's Add alone.
            var sbomDir = Directory.CreateTempSubdirectory("tollgate-inventory-bench-");
            try
            {
                var files = Enumerable.Range(0, 7).Select(i =>
                {
                    var file = Path.Combine(sbomDir.FullName, $"sbom-{i}.cdx.json");
                    File.WriteAllText(file, CycloneDxWriter.Write(Deployment(pool, zipf, random, perDeployment),
                        new SbomOptions("1.6", DateTimeOffset.UnixEpoch, true, "bench", "service")));
                    return file;
                }).ToList();
                var addRuns = 0;
                var storeOnly = new List<double>();
                Measure($"add a {perDeployment:N0}-component CycloneDX SBOM (read + open + add)", files.Count, () =>
                {
                    var diagnostics = new DiagnosticBag();
                    var file = files[addRuns];
                    var graph = SbomReader.Read(file, diagnostics);
                    if (diagnostics.HasErrors || graph.Components.Length != perDeployment)
                    {
                        throw new InvalidOperationException($"the generated SBOM did not read back: {string.Join("; ", diagnostics.Items)}");
                    }
                    using var target = InventoryStore.Open(store);
                    var sw = Stopwatch.StartNew();
                    target.Add(graph, $"bench-add-{addRuns++}", "2.0.0", "prod", file, DateTimeOffset.UtcNow);
                    storeOnly.Add(sw.Elapsed.TotalMilliseconds);
                }, () => "committed");
                Report($"  of which `InventoryStore.Add`", storeOnly, "");
            }
            finally
            {
                sbomDir.Delete(recursive: true);
            }

            if (advisories is not null)
            {
                RescanResult? result = null;
                Measure("rescan of every current deployment (first)", 1, () => result = InventoryAdvisories.Rescan(inventory, advisories),
                    () => $"{result!.PackagesMatched:N0} package versions, {result.AffectedPackages} affected, {result.NewlyAffected.Count:N0} new / {result.Resolved.Count:N0} resolved hits");
                Measure("rescan of every current deployment (again, nothing changed)", 1, () => result = InventoryAdvisories.Rescan(inventory, advisories),
                    () => $"{result!.PackagesMatched:N0} package versions, {result.AffectedPackages} affected, {result.NewlyAffected.Count:N0} new / {result.Resolved.Count:N0} resolved hits");
            }
        }
        finally
        {
            advisories?.Dispose();
        }
        Console.WriteLine();
        Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>Advisory ids that hit the real names in the pool (found by the matcher, as scan does), one per name.</summary>
    internal static List<string> RealAdvisoryIds(AdvisoryStore advisories, int count)
    {
        var real = new DependencyGraph(
            [.. RealNames.Select((n, i) => new Component { Ecosystem = Ecosystem.Npm, Name = n, Version = RealVulnerable[i], Purl = PackageUrl.For(Ecosystem.Npm, n, RealVulnerable[i]) })],
            [], [], ImmutableArray<Diagnostic>.Empty);
        return new AdvisoryMatcher(advisories).Match(real).Findings.GroupBy(f => f.Component.Name).Select(g => g.First().Id).Take(count).ToList();
    }

    internal static double StoreSize(string store)
    {
        if (InventoryStore.IsPostgres(store))
        {
            using var connection = new Npgsql.NpgsqlConnection(store);
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "SELECT pg_database_size(current_database())";
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) / 1048576.0;
        }
        return new[] { store, store + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length) / 1048576.0;
    }

    private static void Measure(string label, int runs, Action action, Func<string> result)
    {
        var times = new List<double>();
        var cpu = new List<double>();
        using var process = Process.GetCurrentProcess();
        for (var i = 0; i < runs; i++)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
        }
        Report(label, times, result(), cpu);
    }

    private static void Report(string label, List<double> times, string result, List<double>? cpu = null)
    {
        times.Sort();
        cpu?.Sort();
        var p95 = times[Math.Min(times.Count - 1, (int)Math.Ceiling(times.Count * 0.95) - 1)];
        var cpuMedian = cpu is { Count: > 0 } ? cpu[cpu.Count / 2].ToString("F1", CultureInfo.InvariantCulture) : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {result} | {times[times.Count / 2]:F1} | {p95:F1} | {times[0]:F1} | {times[^1]:F1} | {cpuMedian} | {times.Count} |"));
    }

    internal sealed record PoolEntry(string Name, string[] Versions);

    /// <summary>The generated package pool, the same for every verb (seed 42) so names and ranks match the generated stores.</summary>
    internal static PoolEntry[] Pool(Random random)
    {
        var pool = new PoolEntry[PoolSize];
        for (var i = 0; i < PoolSize; i++)
        {
            if (i < RealNames.Length)
            {
                // Real names at the top ranks: one vulnerable and one fixed version each.
                pool[i * 7 + 3] = new PoolEntry(RealNames[i], [RealVulnerable[i], "9.9.9"]);
            }
        }
        for (var i = 0; i < PoolSize; i++)
        {
            if (pool[i] is not null)
            {
                continue;
            }
            var scoped = random.Next(5) == 0;
            var name = (scoped ? $"@scope{random.Next(400)}/" : "") + Syllables(random) + "-" + i.ToString(CultureInfo.InvariantCulture);
            var count = 1 + (int)Math.Floor(Math.Pow(random.NextDouble(), 2) * 4);
            var major = random.Next(0, 6);
            pool[i] = new PoolEntry(name, [.. Enumerable.Range(0, count).Select(v => $"{major}.{random.Next(0, 30)}.{v}")]);
        }
        return pool;
    }

    private static string Syllables(Random random)
    {
        string[] parts = ["ka", "lo", "mi", "ne", "ra", "tu", "vex", "zor", "pli", "qua", "dex", "fen", "gro", "hul", "jit"];
        return string.Concat(Enumerable.Range(0, 2 + random.Next(2)).Select(_ => parts[random.Next(parts.Length)]));
    }

    /// <summary>One generated deployment: pool index, version index, direct, scopes and the position of the parent (-1: the root).</summary>
    internal static (int Pool, int Version, bool Direct, DependencyScopes Scopes, int Parent)[] Rows(PoolEntry[] pool, Zipf zipf, Random random, int size)
    {
        var chosen = new HashSet<int>();
        while (chosen.Count < size)
        {
            chosen.Add(zipf.Next());
        }
        var rows = new (int, int, bool, DependencyScopes, int)[size];
        var n = 0;
        foreach (var index in chosen)
        {
            var entry = pool[index];
            // Newer versions are more common: the last version half the time.
            var version = random.Next(2) == 0 ? entry.Versions.Length - 1 : random.Next(entry.Versions.Length);
            var direct = n < 25;
            var scopes = random.Next(10) == 0 ? DependencyScopes.Dev : DependencyScopes.Prod;
            // A tree: direct packages under the root, every other one under an earlier package.
            rows[n] = (index, version, direct, scopes, direct ? -1 : random.Next(n));
            n++;
        }
        return rows;
    }

    internal static Component ComponentOf(PoolEntry entry, int version, bool direct = false, DependencyScopes scopes = DependencyScopes.Prod) => new()
    {
        Ecosystem = Ecosystem.Npm,
        Name = entry.Name,
        Version = entry.Versions[version],
        Purl = PackageUrl.For(Ecosystem.Npm, entry.Name, entry.Versions[version]),
        Direct = direct,
        Scopes = scopes,
    };

    internal static DependencyGraph Deployment(PoolEntry[] pool, Zipf zipf, Random random, int size)
    {
        var rows = Rows(pool, zipf, random, size);
        var root = new ProjectRoot(ProjectRoot.KeyFor("package-lock.json"), Ecosystem.Npm, "service", "1.0.0", "package-lock.json", ["package-lock.json"]);
        var components = rows.Select(r => ComponentOf(pool[r.Pool], r.Version, r.Direct, r.Scopes)).ToList();
        var edges = rows.Select((r, i) => new DependencyEdge(r.Parent < 0 ? root.Key : components[r.Parent].Key, components[i].Key)).ToList();
        return new DependencyGraph(components, edges, [root], ImmutableArray<Diagnostic>.Empty);
    }

    /// <summary>Zipf-distributed ranks 0..n-1 by inverse transform over the cumulative weights.</summary>
    internal sealed class Zipf
    {
        private readonly double[] _cumulative;
        private readonly Random _random;

        public Zipf(int n, double s, Random random)
        {
            _random = random;
            _cumulative = new double[n];
            var sum = 0.0;
            for (var k = 0; k < n; k++)
            {
                sum += 1.0 / Math.Pow(k + 1, s);
                _cumulative[k] = sum;
            }
            for (var k = 0; k < n; k++)
            {
                _cumulative[k] /= sum;
            }
        }

        public int Next()
        {
            var i = Array.BinarySearch(_cumulative, _random.NextDouble());
            return Math.Min(i < 0 ? ~i : i, _cumulative.Length - 1);
        }
    }
}
