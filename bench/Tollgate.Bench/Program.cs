using System.Diagnostics;
using System.Globalization;
using Tollgate.Bench;
using Tollgate.Ecosystems;
using Tollgate.Inputs;

// Benchmarks, run in Release: dotnet run -c Release --project bench/Tollgate.Bench -- deps LOCKFILE...
// Prints a Markdown table for docs/benchmarks.md.
if (args.Length > 0 && args[0] == "inventory")
{
    return InventoryBench.Run(args);
}
if (args.Length < 2 || args[0] != "deps")
{
    Console.Error.WriteLine("usage: Tollgate.Bench deps LOCKFILE...   (parse + graph build at 1x, 4x, 16x size)");
    return 2;
}

Console.WriteLine("| lockfile | size | MB | components | edges | median ms | ms per MB | allocated / file | retained / file |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
foreach (var lockfile in args.Skip(1))
{
    foreach (var factor in new[] { 1, 4, 16 })
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
            var bytes = new FileInfo(target).Length;
            Report(lockfile, factor, target, bytes);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
return 0;

static void Report(string lockfile, int factor, string target, long bytes)
{
    var discovery = EcosystemReaders.Discovery();
    var iterations = factor switch { 1 => 30, 4 => 12, _ => 5 };
    for (var i = 0; i < 3; i++)
    {
        discovery.Read([target], new DiagnosticBag());
    }
    var times = new List<double>();
    long allocated = 0;
    var components = 0;
    var edges = 0;
    for (var i = 0; i < iterations; i++)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        var bag = new DiagnosticBag();
        var graph = discovery.Read([target], bag);
        sw.Stop();
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

    times.Sort();
    var median = times[times.Count / 2];
    var mb = bytes / 1024.0 / 1024.0;
    var inv = CultureInfo.InvariantCulture;
    Console.WriteLine(string.Create(inv,
        $"| {Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(lockfile)))}/{Path.GetFileName(lockfile)} | {factor}x | {mb:F2} | {components} | {edges} | {median:F1} | {median / mb:F1} | {(double)allocated / bytes:F1}x | {(double)retained / bytes:F1}x |"));
}
