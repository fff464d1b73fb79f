using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Inventory;

namespace Tollgate.Bench;

/// <summary>
/// The inventory at fleet size: DEPLOYMENTS snapshots of COMPONENTS packages each, drawn from a pool of 20,000
/// npm names with Zipf popularity (s = 1.1) and one to four versions per name (the newest most used). A handful of
/// real package names with advisories in the shared data sit at the top ranks so rescans have something to find.
/// Generation stops early when the time budget is spent; the report says which size was measured.
/// </summary>
internal static class InventoryBench
{
    private const int PoolSize = 20_000;
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
        var advisoryDb = args.Length > 5 ? args[5] : null;

        var pool = Pool(new Random(42));
        var random = new Random(7);
        var zipf = new Zipf(PoolSize, 1.1, random);
        using var inventory = InventoryStore.Open(store);
        var existing = inventory.List().Count;
        var generate = Stopwatch.StartNew();
        var made = existing;
        while (made < deployments && generate.Elapsed < budget)
        {
            inventory.Add(Deployment(pool, zipf, random, perDeployment), $"deployment-{made:D5}", "1.0." + made, made % 3 == 0 ? "staging" : "prod", null, DateTimeOffset.UnixEpoch.AddMinutes(made));
            made++;
            if (made % 250 == 0)
            {
                Console.Error.WriteLine($"{made} deployments, {generate.Elapsed.TotalSeconds:F0} s");
            }
        }
        generate.Stop();
        Console.WriteLine($"store: {(InventoryStore.IsPostgres(store) ? "PostgreSQL" : "SQLite")}; {made:N0} deployments x {perDeployment:N0} components = {(long)made * perDeployment:N0} rows "
            + $"({made - existing:N0} generated now in {generate.Elapsed.TotalSeconds:F0} s, {(made - existing) * (double)perDeployment / Math.Max(1, generate.Elapsed.TotalSeconds):N0} rows/s)");
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine();
        Console.WriteLine("| operation | result | median ms | min ms | max ms | runs |");
        Console.WriteLine("|---|---|---|---|---|---|");

        // affected: a top-ranked name (in nearly every deployment), a mid-ranked one and a rare one, with a range.
        foreach (var rank in new[] { 0, 50, 2_000, 15_000 })
        {
            var name = pool[rank].Name;
            var hits = 0;
            Measure($"affected `{name}@<1.0.0`-style range (rank {rank + 1})", 7, () => hits = inventory.Affected(Ecosystem.Npm, name, (_, v) => v.StartsWith('0') || v.StartsWith("1.", StringComparison.Ordinal)).Count, () => $"{hits:N0} hits");
        }

        // add: one more deployment of the same shape, into the full store.
        var addRuns = 0;
        Measure($"add a {perDeployment:N0}-component snapshot", 5, () =>
        {
            inventory.Add(Deployment(pool, zipf, random, perDeployment), $"bench-add-{addRuns++}", "2.0.0", "prod", null, DateTimeOffset.UnixEpoch);
        }, () => "committed");

        if (advisoryDb is not null)
        {
            using var advisories = AdvisoryStore.Open(advisoryDb);
            RescanResult? result = null;
            Measure("rescan of every current deployment", 2, () => result = InventoryAdvisories.Rescan(inventory, advisories),
                () => $"{result!.PackagesMatched:N0} package versions, {result.AffectedPackages} affected, {result.NewlyAffected.Count:N0} new / {result.Resolved.Count:N0} resolved hits");
        }
        Console.WriteLine();
        Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static void Measure(string label, int runs, Action action, Func<string> result)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {result()} | {times[times.Count / 2]:F1} | {times[0]:F1} | {times[^1]:F1} | {runs} |"));
    }

    private sealed record PoolEntry(string Name, string[] Versions);

    private static PoolEntry[] Pool(Random random)
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

    private static DependencyGraph Deployment(PoolEntry[] pool, Zipf zipf, Random random, int size)
    {
        var chosen = new HashSet<int>();
        while (chosen.Count < size)
        {
            chosen.Add(zipf.Next());
        }
        var root = new ProjectRoot(ProjectRoot.KeyFor("package-lock.json"), Ecosystem.Npm, "service", "1.0.0", "package-lock.json", ["package-lock.json"]);
        var components = new List<Component>(size);
        var edges = new List<DependencyEdge>(size);
        foreach (var index in chosen)
        {
            var entry = pool[index];
            // Newer versions are more common: the last version half the time.
            var version = random.Next(2) == 0 ? entry.Versions[^1] : entry.Versions[random.Next(entry.Versions.Length)];
            var direct = components.Count < 25;
            var component = new Component
            {
                Ecosystem = Ecosystem.Npm,
                Name = entry.Name,
                Version = version,
                Purl = PackageUrl.For(Ecosystem.Npm, entry.Name, version),
                Direct = direct,
                Scopes = random.Next(10) == 0 ? DependencyScopes.Dev : DependencyScopes.Prod,
            };
            // A tree: direct packages under the root, every other one under an earlier package.
            edges.Add(new DependencyEdge(direct ? root.Key : components[random.Next(components.Count)].Key, component.Key));
            components.Add(component);
        }
        return new DependencyGraph(components, edges, [root], ImmutableArray<Diagnostic>.Empty);
    }

    /// <summary>Zipf-distributed ranks 0..n-1 by inverse transform over the cumulative weights.</summary>
    private sealed class Zipf
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
