using Tollgate.Bench;

// Benchmarks, run in Release: dotnet run -c Release --project bench/Tollgate.Bench -- VERB ARGS...
// Each verb prints a Markdown table for docs/benchmarks.md.
return args.Length == 0 ? Usage() : args[0] switch
{
    "deps" => DepsBench.Run(args[1..]),
    "import" => AdvisoryImportBench.Run(args[1..]),
    "scan" => ScanBench.Run(args[1..]),
    "inventory" => InventoryBench.Run(args),
    "dashboard" => DashboardBench.Run(args),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Tollgate.Bench deps [--factors 1,4,16] LOCKFILE...   parse + graph build at 1x, 4x, 16x size
               Tollgate.Bench import [--records N] [--keep DIR]     generate a synthetic OSV corpus and import it
               Tollgate.Bench scan --db DB LOCKFILE                  match a lockfile's graph against an advisory database
               Tollgate.Bench inventory STORE [DEPLOYMENTS] [COMPONENTS] [SECONDS] [ADVISORY_DB] [--generate-only]   generated inventory: add, affected, rescan
               Tollgate.Bench dashboard STORE [ADVISORY_DB] [COMPONENTS]   the inventory server over HTTP on a store the inventory verb made: pages, uploads
        """);
    return 2;
}
