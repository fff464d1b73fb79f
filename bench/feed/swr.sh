#!/usr/bin/env bash
# npm ci of the 1,500-package project past packumentTtl (30 s here) through two feeds, one with the default
# packumentStaleWhileRevalidate and one with it off, against a warm npm cache with --offline (the floor).
# Usage: bench/feed/swr.sh   (needs node/npm, dotnet, curl, bc; the upstream is `npm config get registry`)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd); LARGE=$ROOT/tests/Tollgate.Tests/testdata/npm/large
UP=$(npm config get registry); UP=${UP%/}/
W=$(mktemp -d /tmp/swr.XXXX); TG=$ROOT/src/Tollgate.Cli/bin/Release/net10.0/Tollgate.Cli
printf 'packumentTtl: PT30S\n' > $W/on.yaml; printf 'packumentTtl: PT30S\npackumentStaleWhileRevalidate: 0\n' > $W/off.yaml
dotnet build -c Release "$ROOT/src/Tollgate.Cli" -v q -nologo >/dev/null
PIDS=(); trap 'kill ${PIDS[@]} 2>/dev/null' EXIT
for v in on:48741 off:48742; do n=${v%%:*}; p=${v##*:}
  TOLLGATE_HOME=$W/h-$n $TG feed serve --config $W/$n.yaml --listen http://127.0.0.1:$p --upstream $UP --storage $W/s-$n --dry-run --no-advisories > $W/$n.log 2>&1 & PIDS+=($!)
done
for p in 48741 48742; do for _ in $(seq 60); do curl -fs -o /dev/null http://127.0.0.1:$p/-/ping && break; sleep 1; done; done
PROJ=$W/project; mkdir -p $PROJ; cp $LARGE/package.json $LARGE/package-lock.json $PROJ/
(cd $PROJ && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --cache $W/lock-cache > $W/lock.log 2>&1)
ci() { local d=$W/ci-$RANDOM cache=$W/c-$RANDOM; mkdir -p $d; cp $PROJ/package.json $PROJ/package-lock.json $d/
  if [ "$1" = offline ]; then cache=$W/warm; extra=(--offline --registry http://127.0.0.1:48741/); else extra=(--registry http://127.0.0.1:$1/); fi
  t0=$(date +%s.%N); (cd $d && npm ci --ignore-scripts --no-audit --no-fund --cache $cache "${extra[@]}" > $d/npm.log 2>&1) || { echo failed $d; return 1; }
  echo "$(date +%s.%N) - $t0" | bc; rm -rf $d; [ "$1" = offline ] || rm -rf $cache; }
ci 48741 >/dev/null; ci 48742 >/dev/null
d=$W/warmrun; mkdir -p $d; cp $PROJ/package.json $PROJ/package-lock.json $d/; (cd $d && npm ci --ignore-scripts --no-audit --no-fund --cache $W/warm --registry http://127.0.0.1:48741/ > $W/warm.log 2>&1); rm -rf $d
sleep 31
echo "uptime: $(uptime)"
for i in 1 2 3; do
  echo "run $i | feed, stale-while-revalidate 1h | $(ci 48741)"
  echo "run $i | feed, stale-while-revalidate 0 | $(ci 48742)"
  echo "run $i | warm npm cache, --offline | $(ci offline)"
done
echo "uptime: $(uptime)"
