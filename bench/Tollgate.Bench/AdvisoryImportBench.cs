using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tollgate.Advisories;
using Tollgate.Inputs;

namespace Tollgate.Bench;

/// <summary>Generates a synthetic OSV corpus (or reuses one) and times <see cref="AdvisoryImporter.Import"/> into a fresh database.</summary>
internal static class AdvisoryImportBench
{
    public static int Run(string[] args)
    {
        var records = 300_000;
        string? corpus = null;
        string? db = null;
        var runs = 1;
        var lockfile = "tests/Tollgate.Tests/testdata/npm/large/package-lock.json";
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--records": records = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--corpus": corpus = args[i + 1]; break;
                case "--db": db = args[i + 1]; break;
                case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--lockfile": lockfile = args[i + 1]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        var temp = Directory.CreateTempSubdirectory("tollgate-osv-");
        try
        {
            var archives = Corpus(corpus ?? temp.FullName, records, lockfile);
            var target = db ?? Path.Combine(temp.FullName, "advisories.db");
            Console.WriteLine("| records | input MB (zip) | wall s | CPU s | records/s (wall) | records per CPU-second | inserted | db MB |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            for (var run = 0; run < runs; run++)
            {
                File.Delete(target);
                using var process = Process.GetCurrentProcess();
                var cpu = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                var diagnostics = new DiagnosticBag();
                var result = AdvisoryImporter.Import(archives, new AdvisoryImportOptions { DatabasePath = target, Replace = true }, diagnostics);
                sw.Stop();
                process.Refresh();
                var cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
                if (!result.Succeeded || diagnostics.HasErrors)
                {
                    Console.Error.WriteLine(string.Join('\n', diagnostics.Items));
                    return 1;
                }
                var zipBytes = archives.Sum(a => new FileInfo(a).Length);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {result.Read} | {zipBytes / 1048576.0:F0} | {sw.Elapsed.TotalSeconds:F1} | {cpuSeconds:F1} | {result.Read / sw.Elapsed.TotalSeconds:F0} | {result.Read / cpuSeconds:F0} | {result.Inserted} | {new FileInfo(target).Length / 1048576.0:F0} |"));
            }
            return 0;
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>The archives of the corpus in <paramref name="folder"/>, written first unless they are there already.</summary>
    internal static IReadOnlyList<string> Corpus(string folder, int records, string lockfile)
    {
        var archives = new[] { "npm", "PyPI", "NuGet" }.Select(e => Path.Combine(folder, e, "all.zip")).ToList();
        if (archives.All(File.Exists))
        {
            return archives;
        }
        var sw = Stopwatch.StartNew();
        var npm = records * 2 / 3;
        var pypi = records / 5;
        var counts = new OsvCorpus.Counts(npm, pypi, records - npm - pypi);
        var written = OsvCorpus.Write(folder, counts, KnownPackages(lockfile));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"corpus: {counts.Total} records in {folder} ({sw.Elapsed.TotalSeconds:F0} s)"));
        return written;
    }

    /// <summary>Names and versions of the packages of an npm lockfile (lockfileVersion 2 or 3).</summary>
    private static List<(string Name, string Version)> KnownPackages(string lockfile)
    {
        var result = new List<(string, string)>();
        if (!File.Exists(lockfile))
        {
            return result;
        }
        using var document = JsonDocument.Parse(File.ReadAllBytes(lockfile));
        if (!document.RootElement.TryGetProperty("packages", out var packages))
        {
            return result;
        }
        foreach (var p in packages.EnumerateObject())
        {
            var at = p.Name.LastIndexOf("node_modules/", StringComparison.Ordinal);
            if (at >= 0 && p.Value.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String)
            {
                result.Add((p.Name[(at + "node_modules/".Length)..], v.GetString()!));
            }
        }
        return result;
    }
}
