#!/usr/bin/env bash
# The feed's NuGet routes on loopback, with npm figures from the same feed process in the same run.
# See docs/benchmarks.md (section Package feed: NuGet routes). Usage: bench/feed/nuget.sh   (needs wrk, python3, dotnet, npm)
# The NuGet upstream is a static V3 source of the test packages (nuget_static_source.py): no public NuGet source is
# used. The npm upstream is whatever `npm config get registry` names, read at run time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
NPM_UPSTREAM=${NPM_UPSTREAM:-$(npm config get registry)}
TG_PORT=${TG_PORT:-48761}; SRC_PORT=${SRC_PORT:-48762}
WRK=${WRK:-"-t2 -c32 -d10s"}
LOCK=/tmp/tollgate-bench.lock
WORK=$(mktemp -d /tmp/tollgate-nuget-bench.XXXX)
cleanup() { kill "${TG_PID:-}" "${SRC_PID:-}" 2>/dev/null || true; }
trap cleanup EXIT

dotnet build -c Release "$ROOT/src/Tollgate.Cli" -v q -nologo >/dev/null
python3 "$HERE/nuget_static_source.py" "$SRC_PORT" >"$WORK/source.log" 2>&1 & SRC_PID=$!
TOLLGATE_HOME="$WORK/tg-home" "$ROOT/src/Tollgate.Cli/bin/Release/net10.0/Tollgate.Cli" feed serve \
  --listen "http://127.0.0.1:$TG_PORT" --upstream "npm=$NPM_UPSTREAM" --upstream "nuget=http://127.0.0.1:$SRC_PORT/v3/index.json" \
  --storage "$WORK/tg-storage" --dry-run --no-advisories >"$WORK/tollgate.log" 2>&1 & TG_PID=$!
B="http://127.0.0.1:$TG_PORT"
VERSIONS="nuget/v3/flatcontainer/tollgate.fixture.ok/index.json"
REGISTRATION="nuget/v3/registration/tollgate.fixture.ok/index.json"
NUPKG="nuget/v3/flatcontainer/tollgate.fixture.ok/1.0.0/tollgate.fixture.ok.1.0.0.nupkg"
for _ in $(seq 60); do curl -fs -o /dev/null "$B/$VERSIONS" && break; sleep 1; done
# Warm the caches: one request per URL.
for u in "$VERSIONS" "$REGISTRATION" "$NUPKG" lodash lodash/-/lodash-4.17.21.tgz; do curl -fs -o /dev/null "$B/$u"; done
echo "uptime: $(uptime)"
bench() { # label path
  local out before after
  out=$(flock "$LOCK" bash -c 'awk "{print \$14 + \$15}" /proc/$1/stat > "$2/cpu0"; wrk $3 --latency "$4"; awk "{print \$14 + \$15}" /proc/$1/stat > "$2/cpu1"' \
    _ "$TG_PID" "$WORK" "$WRK" "$B/$2")
  before=$(cat "$WORK/cpu0"); after=$(cat "$WORK/cpu1")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out"); non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "wrk | $1 | $rps | $p50 | $p99 | feed CPU $(( (after - before) / $(getconf CLK_TCK) )) s | non2xx=${non2xx:-0}"
}
bench "npm packument lodash (full)" "lodash"
bench "npm tarball lodash-4.17.21.tgz" "lodash/-/lodash-4.17.21.tgz"
bench "NuGet flat container versions" "$VERSIONS"
bench "NuGet registration index" "$REGISTRATION"
bench "NuGet .nupkg (2 KB)" "$NUPKG"
echo "uptime: $(uptime)"
