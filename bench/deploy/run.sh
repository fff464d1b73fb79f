#!/usr/bin/env bash
# Audits a generated repository of 2,000 mixed deployment files with a Release build and prints wall and CPU time.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build src/Tollgate.Cli -c Release --verbosity quiet >/dev/null
repo=$(mktemp -d)
trap 'rm -rf "$repo"' EXIT
python3 bench/deploy/generate.py "$repo" "${1:-2000}"
cli="dotnet src/Tollgate.Cli/bin/Release/net10.0/Tollgate.Cli.dll"
for run in 1 2 3; do
  /usr/bin/time -f "run $run: wall %e s, CPU %U s user + %S s sys" $cli deploy audit "$repo" --format json -q -o "$repo.json" || true
done
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['summary']['files'], 'files,', d['summary']['total'], 'findings, verdict', d['summary']['verdict'])" "$repo.json"
rm -f "$repo.json"
