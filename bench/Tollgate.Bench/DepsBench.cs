using System.Diagnostics;
using System.Globalization;
using Tollgate.Ecosystems;
using Tollgate.Inputs;

namespace Tollgate.Bench;

/// <summary>Parse + graph build of lockfiles at 1x, 4x and 16x their size: time, allocations, retained heap.</summary>
internal static class DepsBench
{
    public static int Run(string[] args)
    {
        int[] factors = [1, 4, 16];
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--factors" && i + 1 < args.Length)
            {
                factors = [.. args[++i].Split(',').Select(f => int.Parse(f, CultureInfo.InvariantCulture))];
            }
            else
            {
                files.Add(args[i]);
            }
        }
        if (files.Count == 0)
        {
            Console.Error.WriteLine("usage: Tollgate.Bench deps [--factors 1,4,16] LOCKFILE...");
            return 2;
        }

        Console.WriteLine("| lockfile | size | MB | components | edges | median ms | median CPU ms | CPU ms per MB | allocated / file | retained / file |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var lockfile in files)
        {
            foreach (var factor in factors)
            {
                var work = Directory.CreateTempSubdirectory("tollgate-bench-");
                try
                {
                    var name = Path.GetFileName(lockfile);
                    var target = Path.Combine(work.FullName, name);
                    File.WriteAllText(target, LockfileScaler.Scale(name, File.ReadAllText(lockfile), factor));
                    var manifest = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(lockfile))!, "package.json");
                    if (File.Exists(manifest))
                    {
                        File.Copy(manifest, Path.Combine(work.FullName, "package.json"));
                    }
                    Report(lockfile, factor, target, new FileInfo(target).Length);
                }
                finally
                {
                    work.Delete(recursive: true);
                }
            }
        }
        return 0;
    }

    private static void Report(string lockfile, int factor, string target, long bytes)
    {
        var discovery = EcosystemReaders.Discovery();
        var iterations = factor switch { 1 => 30, 4 => 12, _ => 5 };
        for (var i = 0; i < 3; i++)
        {
            discovery.Read([target], new DiagnosticBag());
        }
        var times = new List<double>();
        var cpuTimes = new List<double>();
        long allocated = 0;
        var components = 0;
        var edges = 0;
        using var process = Process.GetCurrentProcess();
        for (var i = 0; i < iterations; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var before = GC.GetAllocatedBytesForCurrentThread();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var bag = new DiagnosticBag();
            var graph = discovery.Read([target], bag);
            sw.Stop();
            process.Refresh();
            cpuTimes.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            times.Add(sw.Elapsed.TotalMilliseconds);
            components = graph.Components.Length;
            edges = graph.Edges.Length;
            if (bag.HasErrors)
            {
                throw new InvalidOperationException(string.Join('\n', bag.Items));
            }
        }
        // Retained: the live heap holding the finished graph, against the file size.
        GC.Collect();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var kept = discovery.Read([target], new DiagnosticBag());
        var retained = GC.GetTotalMemory(forceFullCollection: true) - baseline;
        GC.KeepAlive(kept);

        var median = Median(times);
        var cpu = Median(cpuTimes);
        var mb = bytes / 1024.0 / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(lockfile)))}/{Path.GetFileName(lockfile)} | {factor}x | {mb:F2} | {components} | {edges} | {median:F1} | {cpu:F1} | {cpu / mb:F1} | {(double)allocated / bytes:F1}x | {(double)retained / bytes:F1}x |"));
    }

    internal static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
