#!/usr/bin/env bash
# The feed's PyPI routes on loopback, with npm figures from the same feed process in the same run.
# See docs/benchmarks.md (section Package feed: PyPI). Usage: bench/feed/pypi.sh   (needs wrk, python3, dotnet, npm)
# The PyPI upstream is a static PEP 503 index of the test distributions (pypi_static_index.py): no PyPI index is
# reachable here. The npm upstream is whatever `npm config get registry` names, read at run time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
NPM_UPSTREAM=${NPM_UPSTREAM:-$(npm config get registry)}
TG_PORT=${TG_PORT:-48751}; IX_PORT=${IX_PORT:-48752}
WRK=${WRK:-"-t2 -c32 -d10s"}
LOCK=/tmp/tollgate-bench.lock
WORK=$(mktemp -d /tmp/tollgate-pypi-bench.XXXX)
cleanup() { kill "${TG_PID:-}" "${IX_PID:-}" 2>/dev/null || true; }
trap cleanup EXIT

dotnet build -c Release "$ROOT/src/Tollgate.Cli" -v q -nologo >/dev/null
python3 "$HERE/pypi_static_index.py" "$IX_PORT" >"$WORK/index.log" 2>&1 & IX_PID=$!
TOLLGATE_HOME="$WORK/tg-home" "$ROOT/src/Tollgate.Cli/bin/Release/net10.0/Tollgate.Cli" feed serve \
  --listen "http://127.0.0.1:$TG_PORT" --upstream "npm=$NPM_UPSTREAM" --upstream "pypi=http://127.0.0.1:$IX_PORT/simple/" \
  --storage "$WORK/tg-storage" --dry-run --no-advisories >"$WORK/tollgate.log" 2>&1 & TG_PID=$!
B="http://127.0.0.1:$TG_PORT"
PAGE="pypi/simple/tollgate-fixture-ok/"
FILE="pypi/files/tollgate-fixture-ok/tollgate_fixture_ok-1.0.0-py3-none-any.whl"
JSON='Accept: application/vnd.pypi.simple.v1+json'
for _ in $(seq 60); do curl -fs -o /dev/null "$B/$PAGE" && break; sleep 1; done
# Warm the caches: one request per URL.
curl -fs -o /dev/null "$B/$PAGE"; curl -fs -o /dev/null -H "$JSON" "$B/$PAGE"; curl -fs -o /dev/null "$B/$FILE"
curl -fs -o /dev/null "$B/lodash"; curl -fs -o /dev/null "$B/lodash/-/lodash-4.17.21.tgz"
echo "uptime: $(uptime)"
cpu() { awk '{print $14 + $15}' "/proc/$TG_PID/stat"; }   # user + system ticks of the feed process
bench() { # label path [header]
  local out before after
  out=$(flock "$LOCK" bash -c 'awk "{print \$14 + \$15}" /proc/$1/stat > "$2/cpu0"; wrk $3 --latency ${4:+-H "$4"} "$5"; awk "{print \$14 + \$15}" /proc/$1/stat > "$2/cpu1"' \
    _ "$TG_PID" "$WORK" "$WRK" "${3:-}" "$B/$2")
  before=$(cat "$WORK/cpu0"); after=$(cat "$WORK/cpu1")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out"); non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "wrk | $1 | $rps | $p50 | $p99 | feed CPU $(( (after - before) / $(getconf CLK_TCK) )) s | non2xx=${non2xx:-0}"
}
bench "npm packument lodash (full)" "lodash"
bench "npm tarball lodash-4.17.21.tgz" "lodash/-/lodash-4.17.21.tgz"
bench "PyPI project page, HTML" "$PAGE"
bench "PyPI project page, JSON" "$PAGE" "$JSON"
bench "PyPI wheel (1 KB)" "$FILE"
echo "uptime: $(uptime)"
