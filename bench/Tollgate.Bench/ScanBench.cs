using System.Diagnostics;
using System.Globalization;
using Tollgate.Advisories;
using Tollgate.Ecosystems;
using Tollgate.Inputs;

namespace Tollgate.Bench;

/// <summary>Matches a lockfile's graph against an advisory database with <see cref="AdvisoryMatcher"/>, timed after the database is open.</summary>
internal static class ScanBench
{
    public static int Run(string[] args)
    {
        string? db = null;
        var runs = 5;
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--db" when i + 1 < args.Length: db = args[++i]; break;
                case "--runs" when i + 1 < args.Length: runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: files.Add(args[i]); break;
            }
        }
        if (db is null || files.Count == 0)
        {
            Console.Error.WriteLine("usage: Tollgate.Bench scan --db DB [--runs N] LOCKFILE...");
            return 2;
        }
        var graph = EcosystemReaders.Discovery().Read(files, new DiagnosticBag());
        Console.WriteLine("| lockfile | components | advisories in db | run | match ms | CPU ms | findings |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        using var process = Process.GetCurrentProcess();
        for (var run = 1; run <= runs; run++)
        {
            // A fresh store each run: the first lookup of a run pays what a `tollgate scan` process pays.
            using var store = AdvisoryStore.Open(db);
            var advisories = run == 1 ? store.Status().Advisories : 0;
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var matches = new AdvisoryMatcher(store).Match(graph);
            sw.Stop();
            process.Refresh();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {string.Join(", ", files.Select(Path.GetFileName))} | {graph.Components.Length} | {(run == 1 ? advisories.ToString(CultureInfo.InvariantCulture) : "")} | {run} | {sw.Elapsed.TotalMilliseconds:F1} | {(process.TotalProcessorTime - cpu).TotalMilliseconds:F0} | {matches.Findings.Length} |"));
        }
        return 0;
    }
}
