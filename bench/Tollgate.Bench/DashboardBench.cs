using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Npgsql;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Inventory;
using Tollgate.Sbom;
using Tollgate.Server.Inventory;

namespace Tollgate.Bench;

/// <summary>
/// The inventory server at fleet size, over real HTTP: the server (<see cref="InventoryHost"/>, as <c>tollgate serve</c>
/// starts it) runs in this process on 127.0.0.1 over a store made by the <c>inventory</c> verb, and an
/// <see cref="HttpClient"/> asks it for the dashboard's fleet page, its "affected by" search for the query kinds the
/// inventory benchmark uses, a deployment page, and uploads 1,500-component CycloneDX SBOMs through the API (with an
/// advisory database, as the server then matches the new snapshot at once, and without). A time is from sending the
/// request to having read the whole body. CPU is this process's (server and client); on PostgreSQL the CPU of the
/// database server's backends for this database is shown separately, per request. The server's scheduled rescan is
/// off; when the store has never been rescanned, one rescan of every deployment runs first (over the API) so the
/// pages show hits as they do in use.
/// </summary>
internal static class DashboardBench
{
    private const int PageRuns = 21;
    private const int UploadRuns = 7;
    private const int WarmUps = 2;

    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: Tollgate.Bench dashboard STORE [ADVISORY_DB] [COMPONENTS=1500]   (STORE made by the inventory verb)");
            return 2;
        }
        return RunAsync(args[1], args.Length > 2 ? args[2] : null, args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1_500).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string store, string? advisoryDb, int perDeployment)
    {
        var postgres = InventoryStore.IsPostgres(store);
        Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        int count;
        bool rescanned;
        var open = Stopwatch.StartNew();
        using (var inventory = InventoryStore.Open(store, mustExist: true))
        {
            Console.WriteLine($"first open of the store (a schema upgrade included, when one was due): {open.Elapsed.TotalSeconds:F1} s");
            count = inventory.List().Count;
            rescanned = inventory.Rescans(1).Count > 0;
        }
        if (count == 0)
        {
            Console.Error.WriteLine("the store is empty: generate it first with `Tollgate.Bench inventory STORE 10000 1500 1800 --generate-only`");
            return 2;
        }
        Console.WriteLine($"store: {(postgres ? "PostgreSQL" : "SQLite")}; {count:N0} current deployments; size {InventoryBench.StoreSize(store):N0} MB");
        var names = InventoryBench.Pool(new Random(42));

        var queries = new List<(string Query, string Kind)>();
        foreach (var rank in new[] { 0, 50, 15_000 })
        {
            queries.Add(($"{names[rank].Name}@<={names[rank].Versions[^1]}", $"name@range, rank {rank + 1}"));
        }
        queries.Add((PackageUrl.For(Ecosystem.Npm, names[3].Name, names[3].Versions[0]).ToString(), "purl, rank 4"));
        if (advisoryDb is not null)
        {
            using var advisories = AdvisoryStore.Open(advisoryDb);
            queries.Add((InventoryBench.RealAdvisoryIds(advisories, 1)[0], "advisory id"));
        }
        // A generated deployment (the same in every run; uploads add others): its page, and a rescan of it alone.
        const string deployment = "deployment-05000";

        var dir = Directory.CreateTempSubdirectory("tollgate-dashboard-bench-");
        try
        {
            var (token, entry) = ApiTokens.Create("bench", TokenScope.Write);
            var tokensFile = Path.Combine(dir.FullName, "tokens");
            await File.WriteAllTextAsync(tokensFile, ApiTokens.Line(entry) + "\n");
            if (!ApiTokens.TryLoad(tokensFile, out var tokens, out var error))
            {
                throw new InvalidOperationException(error);
            }
            var pool = InventoryBench.Pool(new Random(42));
            // No advisory database: a path where there is none (the server then stores uploads without matching them).
            var noAdvisories = Path.Combine(dir.FullName, "no-advisories.db");
            await using (var host = Start(store, tokens, advisoryDb ?? noAdvisories))
            {
                await host.StartAsync();
                using var http = Client(host, token);
                Console.WriteLine($"server: {host.Address}; load average: {File.ReadAllText("/proc/loadavg").Trim()}");
                if (!rescanned && advisoryDb is not null)
                {
                    var rescan = Stopwatch.StartNew();
                    using var process = Process.GetCurrentProcess();
                    var cpuBefore = process.TotalProcessorTime;
                    using var response = await http.PostAsync("/api/v1/rescan", null);
                    var answer = await response.Content.ReadAsStringAsync();
                    process.Refresh();
                    Console.WriteLine($"first rescan of every deployment (`POST /api/v1/rescan`): {(int)response.StatusCode}, {rescan.Elapsed.TotalSeconds:F1} s wall, "
                        + $"{(process.TotalProcessorTime - cpuBefore).TotalSeconds:F1} s CPU; {answer[..Math.Min(200, answer.Length)]}");
                }
                Console.WriteLine();
                Console.WriteLine("| request | body KB (upload: request body) | median ms | p95 ms | min ms | max ms | median CPU ms | DB server CPU ms/request | runs |");
                Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
                await Page(http, store, "`GET /` (fleet)", "/", null);
                foreach (var (query, kind) in queries)
                {
                    await Page(http, store, $"`GET /?q={query}` (affected by, {kind})", "/?q=" + Uri.EscapeDataString(query), null);
                }
                await Page(http, store, $"`GET /deployments/{deployment}`", "/deployments/" + deployment, null);
                await Page(http, store, "`GET /hits?since=7d` (hits found in the last 7 days, first 200)", "/hits?since=7d", null);
                foreach (var (query, kind) in queries.Take(1))
                {
                    await Page(http, store, $"`GET /api/v1/affected?q={query}` (API, {kind})", "/api/v1/affected?q=" + Uri.EscapeDataString(query), null);
                }

                await Uploads(http, store, pool, perDeployment, advisoryDb is null ? "no advisory database" : "the server matches the new snapshot against the advisory database");
                await host.StopAsync();
            }
            if (advisoryDb is not null)
            {
                // The same uploads to a server without an advisory database: the store's part alone.
                await using var bare = Start(store, tokens, noAdvisories);
                await bare.StartAsync();
                using var http = Client(bare, token);
                await Uploads(http, store, pool, perDeployment, "server without an advisory database: stored, not matched");
                await bare.StopAsync();
            }

            // The store calls the pages make, timed without HTTP and HTML, to tell the store's share from the rest.
            Console.WriteLine();
            Console.WriteLine("| store call (in process, no HTTP) | what | median ms | p95 ms | min ms | max ms | median CPU ms | DB server CPU ms/call | runs |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
            await Measure(store, "`InventoryStore.Open` (per request, as the server does)", PageRuns, WarmUps, () =>
            {
                using var s = InventoryStore.Open(store, mustExist: true);
                return Task.FromResult(0);
            }, storeCall: true);
            await Measure(store, "`Open` + `List()` (the fleet page's deployments)", PageRuns, WarmUps, () =>
            {
                using var s = InventoryStore.Open(store, mustExist: true);
                return Task.FromResult(s.List().Count);
            }, storeCall: true);
            foreach (var (query, kind) in queries)
            {
                AffectedQuery.TryParse(query, out var q, out _);
                AdvisoryStore? advisories = q!.AdvisoryId is null ? null : AdvisoryStore.Open(advisoryDb!);
                try
                {
                    await Measure(store, $"`Open` + affected `{query}` ({kind}), first 200", PageRuns, WarmUps, () =>
                    {
                        using var s = InventoryStore.Open(store, mustExist: true);
                        var page = advisories is null ? s.Affected(q.Ecosystem, q.Name!, q.Matches, new Paging(0, 200))
                            : InventoryAdvisories.Affected(s, advisories, q.AdvisoryId!, null, new Paging(0, 200)).Page;
                        return Task.FromResult(page.Hits.Count);
                    }, storeCall: true);
                }
                finally
                {
                    advisories?.Dispose();
                }
            }
            await Measure(store, "`HitCountsByDeployment()` (fleet page)", PageRuns, WarmUps, () =>
            {
                using var s = InventoryStore.Open(store, mustExist: true);
                return Task.FromResult(s.HitCountsByDeployment().Count);
            }, storeCall: true);
            await Measure(store, "`UncheckedDeployments()` (fleet and deployment pages)", PageRuns, WarmUps, () =>
            {
                using var s = InventoryStore.Open(store, mustExist: true);
                return Task.FromResult(s.UncheckedDeployments().Count);
            }, storeCall: true);
            await Measure(store, "`Rescans(1)` + `Hits(newest 10)` (fleet page)", PageRuns, WarmUps, () =>
            {
                using var s = InventoryStore.Open(store, mustExist: true);
                s.Rescans(1);
                return Task.FromResult(s.Hits(null, null, new Paging(0, 10)).Hits.Count);
            }, storeCall: true);
            await Measure(store, $"`Open` + `History` + `Components` ({deployment})", PageRuns, WarmUps, () =>
            {
                using var s = InventoryStore.Open(store, mustExist: true);
                var current = s.History(deployment).First(h => h.Current);
                return Task.FromResult(s.Components(current.Id).Count);
            }, storeCall: true);
            await Measure(store, $"`Hits(deployment)` ({deployment}, every hit)", PageRuns, WarmUps, () =>
            {
                using var s = InventoryStore.Open(store, mustExist: true);
                return Task.FromResult(s.Hits(null, deployment, Paging.All).Total);
            }, storeCall: true);
            if (advisoryDb is not null)
            {
                using var advisories = AdvisoryStore.Open(advisoryDb);
                await Measure(store, $"`InventoryAdvisories.Rescan` of one deployment ({deployment}; what an upload adds)", PageRuns, WarmUps, () =>
                {
                    using var s = InventoryStore.Open(store, mustExist: true);
                    return Task.FromResult(InventoryAdvisories.Rescan(s, advisories, null, deployment).PackagesMatched);
                }, storeCall: true);
            }
            var sbom = Path.Combine(dir.FullName, "sbom.cdx.json");
            await File.WriteAllTextAsync(sbom, CycloneDxWriter.Write(InventoryBench.Deployment(pool, new InventoryBench.Zipf(InventoryBench.PoolSize, 1.1, new Random(5)), new Random(5), perDeployment),
                new SbomOptions("1.6", DateTimeOffset.UnixEpoch, true, "bench", "service")));
            await Measure(store, $"`SbomReader.Read` of a {perDeployment:N0}-component CycloneDX file (the upload's parse)", PageRuns, WarmUps, () =>
            {
                var graph = SbomReader.Read(sbom, new DiagnosticBag());
                return Task.FromResult(graph.Components.Length);
            }, storeCall: true);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
        Console.WriteLine();
        Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"process CPU: {self.UserProcessorTime.TotalSeconds:F1} s user + {self.PrivilegedProcessorTime.TotalSeconds:F1} s system");
        return 0;
    }

    private static InventoryHost Start(string store, ApiTokens tokens, string advisoryDb)
    {
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(new Uri("http://127.0.0.1:0"), store, tokens, AllowAnonymousRead: false, AdvisoryDatabase: advisoryDb)
        {
            RescanInterval = TimeSpan.Zero,
        });
        return host ?? throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
    }

    private static HttpClient Client(InventoryHost host, string token)
    {
        var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = host.Address,
            Timeout = TimeSpan.FromMinutes(5),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>Uploads: a new deployment and a different generated SBOM each time (one untimed warm-up upload first).</summary>
    private static Task Uploads(HttpClient http, string store, InventoryBench.PoolEntry[] pool, int perDeployment, string what)
    {
        var random = new Random(11);
        var zipf = new InventoryBench.Zipf(InventoryBench.PoolSize, 1.1, random);
        var stamp = Guid.NewGuid().ToString("N")[..8];
        var bodies = Enumerable.Range(0, UploadRuns + 1).Select(_ => System.Text.Encoding.UTF8.GetBytes(CycloneDxWriter.Write(
            InventoryBench.Deployment(pool, zipf, random, perDeployment), new SbomOptions("1.6", DateTimeOffset.UnixEpoch, true, "bench", "service")))).ToList();
        var upload = 0;
        return Measure(store, $"`POST /api/v1/deployments/NAME/sboms` ({perDeployment:N0}-component CycloneDX 1.6, a new deployment each time; {what})", UploadRuns, 1, async () =>
        {
            var body = bodies[upload];
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync($"/api/v1/deployments/dashboard-upload-{stamp}-{upload++}/sboms?environment=prod&version=2.0.0&commit=0123abc", content);
            var answer = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"upload: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(answer)}");
            }
            return body.Length;
        });
    }

    private static Task Page(HttpClient http, string store, string label, string url, string? what) =>
        Measure(store, label, PageRuns, WarmUps, async () =>
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseContentRead);
            var body = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"{url}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
            }
            return body.Length;
        }, what: what);

    /// <summary>
    /// Runs <paramref name="action"/> <paramref name="warmUps"/> times untimed, then <paramref name="runs"/> times timed,
    /// and prints a row: wall time, this process's CPU time, and the database server's CPU for this store.
    /// </summary>
    private static async Task Measure(string store, string label, int runs, int warmUps, Func<Task<int>> action, bool storeCall = false, string? what = null)
    {
        var size = 0;
        for (var i = 0; i < warmUps; i++)
        {
            size = await action();
        }
        var times = new List<double>();
        var cpu = new List<double>();
        using var process = Process.GetCurrentProcess();
        var server = ServerCpu.Start(store);
        for (var i = 0; i < runs; i++)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            size = await action();
            times.Add(sw.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
        }
        var serverMs = server?.StopMilliseconds() / runs;
        times.Sort();
        cpu.Sort();
        var p95 = times[Math.Min(times.Count - 1, (int)Math.Ceiling(times.Count * 0.95) - 1)];
        var result = what ?? (storeCall ? $"{size:N0} rows" : (size / 1024.0).ToString("N0", CultureInfo.InvariantCulture));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {result} | {times[times.Count / 2]:F1} | {p95:F1} | {times[0]:F1} | {times[^1]:F1} | {cpu[cpu.Count / 2]:F1} | {(serverMs is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : "")} | {times.Count} |"));
    }

    /// <summary>
    /// CPU time of the PostgreSQL backends connected to the benchmark's database (read from /proc: the server runs on
    /// this machine), summed over the backends seen at the start and at the end of a measurement. Null for SQLite.
    /// </summary>
    private sealed class ServerCpu
    {
        private readonly string _store;
        private readonly Dictionary<int, long> _start;

        private ServerCpu(string store, Dictionary<int, long> start)
        {
            _store = store;
            _start = start;
        }

        public static ServerCpu? Start(string store) => InventoryStore.IsPostgres(store) ? new ServerCpu(store, Backends(store)) : null;

        public double StopMilliseconds()
        {
            var end = Backends(_store);
            long ticks = 0;
            foreach (var (pid, total) in end)
            {
                ticks += total - _start.GetValueOrDefault(pid);
            }
            return ticks * 1000.0 / 100; // USER_HZ is 100 on Linux
        }

        private static Dictionary<int, long> Backends(string store)
        {
            var result = new Dictionary<int, long>();
            using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(store) { Pooling = false }.ToString());
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                var pid = reader.GetInt32(0);
                try
                {
                    // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
                    var stat = File.ReadAllText($"/proc/{pid}/stat");
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    result[pid] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                    // The backend ended between the query and the read.
                }
            }
            return result;
        }
    }
}
