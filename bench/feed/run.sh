#!/usr/bin/env bash
# Tollgate's feed vs Verdaccio on loopback, same upstream fixture, same machine, one run. See docs/benchmarks.md
# (section "Package feed at scale").
# Usage: bench/feed/run.sh   (needs wrk, node/npm, dotnet, curl, flock; run `npm ci --ignore-scripts` here first)
#   PKGS="express lodash typescript"  packages whose packuments and latest tarball are recorded and measured
#   WRK="-t2 -c32 -d10s"              wrk settings, the same for both servers
#   WRK_WARMUP="-t2 -c32 -d3s"        an unmeasured wrk run of each case on each server first
#   RUNS=3                            timed `npm ci` runs per contender (0 skips the npm ci part)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
UPSTREAM=${UPSTREAM:-$(npm config get registry)}         # read at run time, never written down
UPSTREAM=${UPSTREAM%/}/
TG_PORT=${TG_PORT:-48731}; VD_PORT=${VD_PORT:-48732}; FX_PORT=${FX_PORT:-48733}
TG2_PORT=${TG2_PORT:-48734}; VD2_PORT=${VD2_PORT:-48735}
WRK=${WRK:-"-t2 -c32 -d10s"}; RUNS=${RUNS:-3}
WRK_WARMUP=${WRK_WARMUP:-"-t2 -c32 -d3s"}
PKGS=${PKGS:-"express lodash typescript"}
LARGE="$ROOT/tests/Tollgate.Tests/testdata/npm/large"
LOCK=/tmp/tollgate-bench.lock
WORK=$(mktemp -d /tmp/tollgate-feed-bench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
TG="$ROOT/src/Tollgate.Cli/bin/Release/net10.0/Tollgate.Cli"
VD="$HERE/node_modules/.bin/verdaccio"

dotnet build -c Release "$ROOT/src/Tollgate.Cli" -v q -nologo >/dev/null
echo "verdaccio $("$VD" --version), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), node $(node --version)"

# 1. Record the upstream fixture: each package's full packument and its latest tarball, once, before anything is timed.
FX="$WORK/fixture"; mkdir -p "$FX/packuments" "$FX/tarballs"
declare -A TGZ
for p in $PKGS; do
  curl -fsS -H 'Accept: application/json' -o "$FX/packuments/$p.json" "$UPSTREAM$p"
  url=$(node -e 'const d=require(process.argv[1]);process.stdout.write(d.versions[d["dist-tags"].latest].dist.tarball)' "$FX/packuments/$p.json")
  curl -fsS -o "$FX/tarballs/${url##*/}" "$url"
  TGZ[$p]="$p/-/${url##*/}"
  echo "fixture | $p | packument $(stat -c %s "$FX/packuments/$p.json") bytes | ${url##*/} $(stat -c %s "$FX/tarballs/${url##*/}") bytes"
done
node "$HERE/upstream.js" "$FX" "$FX_PORT" "$UPSTREAM" & PIDS+=($!)

start_servers() { # tollgate-port verdaccio-port upstream-url label
  # Dry-run without advisories: decisions are made and logged, every version is served: proxy against proxy.
  TOLLGATE_HOME="$WORK/tg-home-$4" "$TG" feed serve --listen "http://127.0.0.1:$1" --upstream "$3" \
    --storage "$WORK/tg-storage-$4" --dry-run --no-advisories >"$WORK/tollgate-$4.log" 2>&1 & TG_PID=$!; PIDS+=($TG_PID)
  sed -e "s|UPSTREAM_URL|$3|" -e "s|./storage|$WORK/vd-storage-$4|" "$HERE/verdaccio.yaml" >"$WORK/verdaccio-$4.yaml"
  "$VD" --config "$WORK/verdaccio-$4.yaml" --listen "127.0.0.1:$2" >"$WORK/verdaccio-$4.log" 2>&1 & VD_PID=$!; PIDS+=($VD_PID)
  for port in $1 $2; do
    for _ in $(seq 120); do curl -fs -o /dev/null "http://127.0.0.1:$port/-/ping" && break; sleep 1; done
  done
}
cpu_ms() { awk '{print ($14+$15)*10}' "/proc/$1/stat"; }   # user+system CPU of a process, ms (CLK_TCK=100)
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

start_servers "$TG_PORT" "$VD_PORT" "http://127.0.0.1:$FX_PORT/" wrk
echo "uptime: $(uptime)"
# Warm both caches: one request per URL and form.
for port in $TG_PORT $VD_PORT; do
  for p in $PKGS; do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/$p"
    curl -fsS -o /dev/null -H 'Accept: application/vnd.npm.install-v1+json' "http://127.0.0.1:$port/$p"
    curl -fsS -o /dev/null "http://127.0.0.1:$port/${TGZ[$p]}"
  done
done
# Wait (up to 60 s) until neither server used more than 50 ms of CPU in the last second: a contender still working
# on requests its wrk run gave up on (Verdaccio on typescript's packument) must not run during the next measurement.
quiet() {
  local a b i
  for i in $(seq 60); do
    a=$(( $(cpu_ms "$TG_PID") + $(cpu_ms "$VD_PID") )); sleep 1; b=$(( $(cpu_ms "$TG_PID") + $(cpu_ms "$VD_PID") ))
    [ $((b - a)) -le 50 ] && return 0
  done
  echo "note: the servers were still busy after 60 s" >&2
}
bench() { # server pid port label url-path [header [header]]
  local out before after requests
  # Warm-up, not measured: the same load for WARMUP, so both runtimes have compiled their hot paths (.NET's tiered
  # JIT and V8 both recompile hot code after the first requests) before the measured run.
  flock "$LOCK" wrk $WRK_WARMUP ${6:+-H "$6"} ${7:+-H "$7"} "http://127.0.0.1:$3/$5" >/dev/null
  quiet
  before=$(cpu_ms "$2")
  out=$(flock "$LOCK" wrk $WRK --latency ${6:+-H "$6"} ${7:+-H "$7"} "http://127.0.0.1:$3/$5")
  after=$(cpu_ms "$2")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  local rps p50 p99 non2xx errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out"); non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  errors=$(awk '/Socket errors/ {print $0}' <<<"$out")
  echo "wrk | $4 | $1 | $rps | $p50 | $p99 | $(awk -v c=$((after - before)) -v n="$requests" 'BEGIN {printf "%.3f", c / n}') ms CPU/req | non2xx=${non2xx:-0} ${errors}"
}
for p in $PKGS; do
  for ep in full abbrev tarball; do
    for s in tollgate verdaccio; do
      if [ $s = tollgate ]; then pid=$TG_PID; port=$TG_PORT; else pid=$VD_PID; port=$VD_PORT; fi
      case $ep in
        # The encodings npm, pnpm and yarn send (npm asks "gzip,deflate"); an uncompressed 5 MB packument would
        # measure the loopback's copy speed, not the server.
        full) bench $s "$pid" "$port" "$p packument (full)" "$p" 'Accept-Encoding: gzip' ;;
        abbrev) bench $s "$pid" "$port" "$p packument (abbreviated)" "$p" 'Accept: application/vnd.npm.install-v1+json' 'Accept-Encoding: gzip' ;;
        tarball) bench $s "$pid" "$port" "$p tarball" "${TGZ[$p]}" ;;
      esac
    done
  done
done
echo "rss | tollgate $(rss_mb "$TG_PID") MB | verdaccio $(rss_mb "$VD_PID") MB"
echo "uptime: $(uptime)"
[ "$RUNS" -gt 0 ] || exit 0

# 2. npm ci of the 1,500-package project through each server (upstream: the configured registry, as the fixture
# holds only the measured packages), and from a warm npm cache with --offline (the local floor).
start_servers "$TG2_PORT" "$VD2_PORT" "$UPSTREAM" npmci
# The fixture's lockfile holds only the Linux builds of platform-specific optional packages, which `npm ci`
# refuses as out of sync; complete it once (existing entries are kept) in a copy.
PROJ="$WORK/project"; mkdir -p "$PROJ"; cp "$LARGE/package.json" "$LARGE/package-lock.json" "$PROJ/"
(cd "$PROJ" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --cache "$WORK/lock-cache" >"$WORK/lock.log" 2>&1)
npmci() { # label registry-port-or-"offline" -> seconds
  local d="$WORK/ci-$1-$RANDOM" cache="$WORK/npm-cache-$1-$RANDOM" extra=()
  mkdir -p "$d"; cp "$PROJ/package.json" "$PROJ/package-lock.json" "$d/"
  # The floor names the same registry as the run that filled its cache: npm keys cached packuments by URL.
  if [ "$2" = offline ]; then cache="$WORK/npm-cache-warm"; extra=(--offline --registry "http://127.0.0.1:$TG2_PORT/"); else extra=(--registry "http://127.0.0.1:$2/"); fi
  # The clock starts inside the lock, so time spent waiting for other benchmarks is not counted.
  (cd "$d" && flock "$LOCK" bash -c 'dir=$1; shift; t0=$(date +%s.%N); npm ci --ignore-scripts --no-audit --no-fund \
     --cache "$0" "$@" >"$dir/npm.log" 2>&1 || exit 1; echo "$(date +%s.%N) - $t0" | bc >"$dir/seconds"' "$cache" "$d" "${extra[@]}") \
    || { echo "npm ci failed, see $d/npm.log" >&2; return 1; }
  cat "$d/seconds"; rm -rf "$d"; [ "$2" = offline ] || rm -rf "$cache"
}
# Warm-up: one unmeasured npm ci through each server fills both caches; one more fills the npm cache of the floor.
npmci tollgate "$TG2_PORT" >/dev/null; npmci verdaccio "$VD2_PORT" >/dev/null
d="$WORK/warm"; mkdir -p "$d"; cp "$PROJ/package.json" "$PROJ/package-lock.json" "$d/"
(cd "$d" && npm ci --ignore-scripts --no-audit --no-fund --cache "$WORK/npm-cache-warm" --registry "http://127.0.0.1:$TG2_PORT/" >"$WORK/warm.log" 2>&1)
echo "uptime: $(uptime)"
for i in $(seq "$RUNS"); do
  echo "npmci | tollgate | run $i | $(npmci tollgate "$TG2_PORT")"
  echo "npmci | verdaccio | run $i | $(npmci verdaccio "$VD2_PORT")"
  echo "npmci | warm npm cache, --offline | run $i | $(npmci floor offline)"
done
echo "uptime: $(uptime)"
