#!/usr/bin/env bash
# Tollgate's feed under a long mixed load on loopback (docs/benchmarks.md, "Package feed: soak"): many connections
# for a minute on cached packuments (full and abbreviated), cached tarballs and names the upstream does not have,
# with the RSS after warm-up and at the end, the CPU time, p50/p99 and a /-/ping probe every half second.
# Usage: bench/feed/soak.sh   (needs wrk, node, dotnet, curl, flock)
#   PKGS="express lodash typescript"  packages recorded from the configured npm registry into the loopback upstream
#   CONNECTIONS=200 DURATION=60s WARMUP=20s TIMEOUT=10s   (wrk counts an answer slower than TIMEOUT as an error)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
UPSTREAM=${UPSTREAM:-$(npm config get registry)}         # read at run time, never written down
UPSTREAM=${UPSTREAM%/}/
TG_PORT=${TG_PORT:-48741}; FX_PORT=${FX_PORT:-48743}
PKGS=${PKGS:-"express lodash typescript"}
CONNECTIONS=${CONNECTIONS:-200}; DURATION=${DURATION:-60s}; WARMUP=${WARMUP:-20s}; TIMEOUT=${TIMEOUT:-10s}
LOCK=/tmp/tollgate-bench.lock
WORK=$(mktemp -d /tmp/tollgate-feed-soak.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
TG="$ROOT/src/Tollgate.Cli/bin/Release/net10.0/Tollgate.Cli"
dotnet build -c Release "$ROOT/src/Tollgate.Cli" -v q -nologo >/dev/null

FX="$WORK/fixture"; mkdir -p "$FX/packuments" "$FX/tarballs"
paths=()
for p in $PKGS; do
  curl -fsS -H 'Accept: application/json' -o "$FX/packuments/$p.json" "$UPSTREAM$p"
  url=$(node -e 'const d=require(process.argv[1]);process.stdout.write(d.versions[d["dist-tags"].latest].dist.tarball)' "$FX/packuments/$p.json")
  curl -fsS -o "$FX/tarballs/${url##*/}" "$url"
  paths+=("/$p" "A:/$p" "/$p/-/${url##*/}")
done
paths+=("/tollgate-soak-missing-MISS")
node "$HERE/upstream.js" "$FX" "$FX_PORT" "$UPSTREAM" & PIDS+=($!)
TOLLGATE_HOME="$WORK/home" "$TG" feed serve --listen "http://127.0.0.1:$TG_PORT" --upstream "http://127.0.0.1:$FX_PORT/" \
  --storage "$WORK/storage" --dry-run --no-advisories >"$WORK/tollgate.log" 2>&1 & TG_PID=$!; PIDS+=($TG_PID)
for _ in $(seq 120); do curl -fs -o /dev/null "http://127.0.0.1:$TG_PORT/-/ping" && break; sleep 1; done
cpu_ms() { awk '{print ($14+$15)*10}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

flock "$LOCK" bash -c "
  echo \"uptime before: \$(uptime)\"
  wrk -t2 -c$CONNECTIONS -d$WARMUP --timeout $TIMEOUT -s '$HERE/soak.lua' 'http://127.0.0.1:$TG_PORT' -- ${paths[*]} >/dev/null
  echo \"rss after warm-up: \$(awk '/VmRSS/ {printf \"%.0f\", \$2/1024}' /proc/$TG_PID/status) MB\"
  before=\$(awk '{print (\$14+\$15)*10}' /proc/$TG_PID/stat)
  ( end=\$((SECONDS + \${DURATION%s})); while [ \$SECONDS -lt \$end ]; do curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:$TG_PORT/-/ping; sleep 0.5; done ) >'$WORK/ping.txt' &
  wrk -t2 -c$CONNECTIONS -d$DURATION --timeout $TIMEOUT --latency -s '$HERE/soak.lua' 'http://127.0.0.1:$TG_PORT' -- ${paths[*]} | tee '$WORK/wrk.txt'
  wait
  after=\$(awk '{print (\$14+\$15)*10}' /proc/$TG_PID/stat)
  requests=\$(awk '/requests in/ {print \$1}' '$WORK/wrk.txt')
  echo \"rss at the end: \$(awk '/VmRSS/ {printf \"%.0f\", \$2/1024}' /proc/$TG_PID/status) MB\"
  echo \"cpu: \$((after - before)) ms for \$requests requests = \$(awk -v c=\$((after - before)) -v n=\$requests 'BEGIN {printf \"%.3f\", c / n}') ms/request\"
  sort -n '$WORK/ping.txt' | awk '{a[NR]=\$1} END {printf \"ping: %d probes, median %.1f ms, p99 %.1f ms, max %.1f ms\n\", NR, a[int(NR/2)+1]*1000, a[int(NR*0.99)+1]*1000, a[NR]*1000}'
  echo \"uptime after: \$(uptime)\"
"
grep -ciE 'exception|fail' "$WORK/tollgate.log" | sed 's/^/feed log lines with exception or fail: /'
