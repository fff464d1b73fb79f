"""Start-up and scan against a parse-only process, as whole processes, interleaved in one run.

Usage (from the repository root):
  python3 bench/startup/run.py TOLLGATE_BINARY ROUNDS SMALL_DB LARGE_DB
where SMALL_DB holds the bundled example advisories (`tollgate db import examples/advisories --db SMALL_DB`) and
LARGE_DB the synthetic 300,000-record corpus (`dotnet run -c Release --project bench/Tollgate.Bench -- import
--records 300000 --db LARGE_DB`). CPU time is user + system time of each child process (getrusage); "first output"
is the time until the first byte on stdout. See docs/benchmarks.md.
"""
import os
import resource
import subprocess
import sys
import time


def run(args):
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.read(1)
    t1 = time.perf_counter()
    p.stdout.read()
    p.wait()
    t2 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return (t1 - t0) * 1000, (t2 - t0) * 1000, cpu * 1000, p.returncode


def main():
    binary, rounds, small, large = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    lock = "tests/Tollgate.Tests/testdata/npm/large/package-lock.json"
    cases = [
        ("start-up: scan example (table, 11-record db)", [binary, "scan", "examples/mcp-server-npm", "--db", small]),
        ("parse only: deps 1,500-package lockfile (JSON)", [binary, "deps", lock, "--format", "json"]),
        ("scan 1,500-package lockfile, 300k-record db (JSON, every check)", [binary, "scan", lock, "--db", large, "--format", "json"]),
    ]
    print("load average at start: %.1f %.1f %.1f" % os.getloadavg())
    print("| case | run | first output ms | wall ms | CPU ms | exit |")
    print("|---|---|---|---|---|---|")
    for i in range(1, rounds + 1):
        for name, args in cases:
            first, wall, cpu, rc = run(args)
            print(f"| {name} | {i} | {first:.0f} | {wall:.0f} | {cpu:.0f} | {rc} |")
    print("load average at end: %.1f %.1f %.1f" % os.getloadavg())


if __name__ == "__main__":
    main()
