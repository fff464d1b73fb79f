#!/usr/bin/env bash
# Tollgate feed vs Verdaccio on loopback, same upstream, same machine. See docs/benchmarks.md (section Package feed).
# Usage: bench/feed/run.sh   (needs wrk, node/npm, dotnet; run `npm ci --ignore-scripts` here first)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
UPSTREAM=${UPSTREAM:-$(npm config get registry)}         # read at run time, never written down
TG_PORT=${TG_PORT:-48731}; VD_PORT=${VD_PORT:-48732}
WRK=${WRK:-"-t2 -c32 -d20s"}; RUNS=${RUNS:-3}
PKG=${PKG:-lodash}; TGZ=${TGZ:-lodash/-/lodash-4.17.21.tgz}
LARGE="$ROOT/tests/Tollgate.Tests/testdata/npm/large"
LOCK=/tmp/tollgate-bench.lock
WORK=$(mktemp -d /tmp/tollgate-feed-bench.XXXX)
cleanup() { kill "${TG_PID:-}" "${VD_PID:-}" 2>/dev/null || true; }
trap cleanup EXIT

dotnet build -c Release "$ROOT/src/Tollgate.Cli" -v q -nologo >/dev/null
# Dry-run: every decision is logged but every version is served, so the comparison is proxy against proxy.
TOLLGATE_HOME="$WORK/tg-home" "$ROOT/src/Tollgate.Cli/bin/Release/net10.0/Tollgate.Cli" feed serve \
  --listen "http://127.0.0.1:$TG_PORT" --upstream "$UPSTREAM" --storage "$WORK/tg-storage" --dry-run \
  >"$WORK/tollgate.log" 2>&1 & TG_PID=$!
sed "s|UPSTREAM_URL|$UPSTREAM|" "$HERE/verdaccio.yaml" >"$WORK/verdaccio.yaml"
sed -i "s|./storage|$WORK/vd-storage|" "$WORK/verdaccio.yaml"
"$HERE/node_modules/.bin/verdaccio" --config "$WORK/verdaccio.yaml" --listen "127.0.0.1:$VD_PORT" \
  >"$WORK/verdaccio.log" 2>&1 & VD_PID=$!
for p in $TG_PORT $VD_PORT; do
  for _ in $(seq 60); do curl -fs -o /dev/null "http://127.0.0.1:$p/$PKG" && break; sleep 1; done
done
echo "uptime: $(uptime)"
for name in tollgate:$TG_PORT verdaccio:$VD_PORT; do
  p=${name#*:}
  curl -fs -o /dev/null "http://127.0.0.1:$p/$PKG"
  curl -fs -o /dev/null -H 'Accept: application/vnd.npm.install-v1+json' "http://127.0.0.1:$p/$PKG"
  curl -fs -o /dev/null "http://127.0.0.1:$p/$TGZ"
done
bench() { # server port label url-path [header]
  local out; out=$(flock "$LOCK" wrk $WRK --latency ${5:+-H "$5"} "http://127.0.0.1:$2/$4")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out"); non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "wrk | $1 | $3 | $rps | $p50 | $p99 | non2xx=${non2xx:-0}"
}
for ep in ${ENDPOINTS-full abbrev tarball}; do
  for name in tollgate:$TG_PORT verdaccio:$VD_PORT; do
    s=${name%%:*}; p=${name#*:}
    case $ep in
      full) bench "$s" "$p" "packument $PKG (full)" "$PKG" ;;
      abbrev) bench "$s" "$p" "packument $PKG (abbreviated)" "$PKG" 'Accept: application/vnd.npm.install-v1+json' ;;
      tarball) bench "$s" "$p" "tarball $TGZ" "$TGZ" ;;
    esac
  done
done
# The fixture's lockfile holds only the Linux builds of platform-specific optional packages, which `npm ci`
# refuses as out of sync; complete it once (existing entries are kept) in a copy.
PROJ="$WORK/project"; mkdir -p "$PROJ"; cp "$LARGE/package.json" "$LARGE/package-lock.json" "$PROJ/"
(cd "$PROJ" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --cache "$WORK/lock-cache" >"$WORK/lock.log" 2>&1)
npmci() { # port -> seconds
  local d="$WORK/ci-$1-$RANDOM"; mkdir -p "$d"; cp "$PROJ/package.json" "$PROJ/package-lock.json" "$d/"
  # The clock starts inside the lock, so time spent waiting for other benchmarks is not counted.
  (cd "$d" && flock "$LOCK" bash -c 't0=$(date +%s.%N); npm ci --ignore-scripts --no-audit --no-fund \
     --cache "$1/.npm-cache" --registry "http://127.0.0.1:$2/" >"$1/npm.log" 2>&1 || exit 1
     echo "$(date +%s.%N) - $t0" | bc >"$1/seconds"' _ "$d" "$1") \
    || { echo "npm ci failed, see $d/npm.log" >&2; return 1; }
  cat "$d/seconds"; rm -rf "$d"
}
# Warm-up: one unmeasured npm ci through each fills both caches.
npmci "$TG_PORT" >/dev/null; npmci "$VD_PORT" >/dev/null
for i in $(seq "$RUNS"); do
  echo "npmci | tollgate | run $i | $(npmci "$TG_PORT")"
  echo "npmci | verdaccio | run $i | $(npmci "$VD_PORT")"
done
echo "uptime: $(uptime)"
