#!/usr/bin/env bash
# SBOM benchmark: `tollgate sbom` (NativeAOT) vs cyclonedx-npm and cdxgen on the large npm fixture.
# Results go to $OUT (default /tmp/tollgate-bench-sbom). See docs/benchmarks.md (section SBOM).
# Needs: dotnet, node/npm, python3, clang + zlib1g-dev (AOT), hyperfine, time (GNU), util-linux flock.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-/tmp/tollgate-bench-sbom}"
RUNS="${RUNS:-10}"
WARMUP="${WARMUP:-2}"
LOCK="flock /tmp/tollgate-bench.lock"
mkdir -p "$OUT"

# 1. Publish the CLI with NativeAOT.
# TG=/path/to/Tollgate.Cli skips the publish (e.g. a ReadyToRun build); TG_LABEL names it.
if [ -z "${TG:-}" ]; then
  dotnet publish "$ROOT/src/Tollgate.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$OUT/aot" >"$OUT/publish.log"
  TG="$OUT/aot/Tollgate.Cli"
fi
TG_LABEL="${TG_LABEL:-NativeAOT}"

# 2. Install the pinned peers (no install scripts).
# `npm ci` rejects the pinned lock (optional platform packages of cdxgen are missing from it), so
# install from it with `npm install` unless the peers are already there.
[ -x "$ROOT/bench/peers/node_modules/.bin/cdxgen" ] || \
  npm install --ignore-scripts --no-audit --no-fund --prefix "$ROOT/bench/peers" >"$OUT/peers.log"
export PATH="$ROOT/bench/peers/node_modules/.bin:$PATH"
export FETCH_LICENSE=false   # cdxgen: no licence look-ups over the network

# The project, copied so no tool writes into the repository.
PROJ="$OUT/project"
rm -rf "$PROJ"; cp -r "$ROOT/tests/Tollgate.Tests/testdata/npm/large" "$PROJ"
cd "$PROJ"

C_TG="$TG sbom $PROJ/package-lock.json -o $OUT/tollgate.cdx.json"
# --ignore-npm-errors: `npm ls --package-lock-only` reports the absent node_modules tree as invalid.
C_CDXNPM="cyclonedx-npm --package-lock-only --ignore-npm-errors -o $OUT/cyclonedx-npm.cdx.json $PROJ/package.json"
C_CDXGEN="cdxgen -t npm --no-recurse --no-install-deps --no-babel -o $OUT/cdxgen.cdx.json $PROJ"

{ date -u; uptime; } | tee "$OUT/load-before.txt"
$LOCK hyperfine --warmup "$WARMUP" --runs "$RUNS" --ignore-failure \
  --export-markdown "$OUT/hyperfine.md" --export-json "$OUT/hyperfine.json" \
  -n "tollgate sbom ($TG_LABEL)" "$C_TG" \
  -n "cyclonedx-npm --package-lock-only" "$C_CDXNPM" \
  -n "cdxgen -t npm" "$C_CDXGEN" 2>&1 | tee "$OUT/hyperfine.txt"
{ date -u; uptime; } | tee "$OUT/load-after.txt"

# 3. Peak RSS (max over 3 runs each), GNU time.
: >"$OUT/rss.tsv"
for pair in "tollgate|$C_TG" "cyclonedx-npm|$C_CDXNPM" "cdxgen|$C_CDXGEN"; do
  name="${pair%%|*}"; cmd="${pair#*|}"
  for i in 1 2 3; do
    $LOCK /usr/bin/time -f "%M" -o "$OUT/rss.tmp" bash -c "$cmd" >/dev/null 2>&1 || true
    printf '%s\t%s\n' "$name" "$(tail -1 "$OUT/rss.tmp")" >>"$OUT/rss.tsv"
  done
done
python3 - "$OUT/rss.tsv" <<'PY' | tee "$OUT/rss.md"
import sys, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    n, kb = line.split("\t"); d[n].append(int(kb))
print("| command | peak RSS, max of runs (MiB) | runs (KiB) |\n|---|---:|---|")
for n, v in d.items():
    print(f"| {n} | {max(v)/1024:.1f} | {', '.join(map(str, v))} |")
PY

# 4. Component sets.
python3 "$ROOT/bench/sbom/compare.py" "$PROJ/npm-ls.json" \
  "tollgate=$OUT/tollgate.cdx.json" "cyclonedx-npm=$OUT/cyclonedx-npm.cdx.json" "cdxgen=$OUT/cdxgen.cdx.json" \
  | tee "$OUT/components.md"
