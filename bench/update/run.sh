#!/usr/bin/env bash
# tollgate update on the 1,500-package project (tests/Tollgate.Tests/testdata/npm/large), cold and warm metadata
# cache, against a loopback registry serving bench/data/registry, next to `npm outdated` on the same project and
# registry. Prints a Markdown table for docs/benchmarks.md. Run from anywhere: bash bench/update/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
server=""
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

dotnet build -c Release "$root/src/Tollgate.Cli" -v q -nologo >/dev/null
tollgate=(dotnet "$root/src/Tollgate.Cli/bin/Release/net10.0/Tollgate.Cli.dll")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/"
mkdir -p "$work/registry"
for gz in "$root"/bench/data/registry/*.json.gz; do
  name="$(basename "$gz" .json.gz)"
  target="$work/registry/${name//__//}"          # @scope__name → @scope/name (the URL path npm asks for, decoded)
  mkdir -p "$(dirname "$target")"
  gunzip -c "$gz" | sed "s#{registry}#$url#g" > "$target"
done
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/registry" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "${url}express" >/dev/null && break; sleep 0.1; done

mkdir -p "$work/project"
cp "$root/tests/Tollgate.Tests/testdata/npm/large/package.json" "$root/tests/Tollgate.Tests/testdata/npm/large/package-lock.json" "$work/project/"
echo "registry=$url" > "$work/project/.npmrc"
bytes=$(find "$work/registry" -type f -exec cat {} + | wc -c)

run() { # label, env..., command
  local label="$1"; shift
  /usr/bin/time -o "$work/time.$label" -f "%e %U %S" env "$@" >/dev/null 2>"$work/err.$label" || true
  read -r wall user sys < <(tail -1 "$work/time.$label")
  cpu=$(python3 -c "print(round($user + $sys, 2))")
  echo "$wall $cpu"
}

cold=$(run cold TOLLGATE_HOME="$work/home" "${tollgate[@]}" update "$work/project" --registry "npm=$url" --no-advisories --min-age 0 --format json)
requests=$(grep -oE 'registries +[0-9]+ request' "$work/err.cold" | grep -oE '[0-9]+' || echo "?")
warm=$(run warm TOLLGATE_HOME="$work/home" "${tollgate[@]}" update "$work/project" --registry "npm=$url" --no-advisories --min-age 0 --format json)
offline=$(run offline TOLLGATE_HOME="$work/home" "${tollgate[@]}" update "$work/project" --registry "npm=$url" --no-advisories --min-age 0 --format json --offline)
npm_cold=$(cd "$work/project" && run npmcold npm_config_cache="$work/npm-cache" npm outdated --registry "$url" --json)
npm_warm=$(cd "$work/project" && run npmwarm npm_config_cache="$work/npm-cache" npm outdated --registry "$url" --json --prefer-offline)

read -r cold_wall cold_cpu <<<"$cold"
grep -q "error" "$work/err.cold" && { cat "$work/err.cold" >&2; exit 1; }
rate=$(python3 -c "print(round($requests / $cold_wall, 1))" 2>/dev/null || echo "?")
echo "| run | wall s | CPU s (user+sys) | notes |"
echo "|---|---|---|---|"
echo "| tollgate update, cold cache | $cold_wall | $cold_cpu | $requests requests ($rate/s), $((bytes / 1024)) KiB of packuments |"
echo "| tollgate update, warm cache | ${warm% *} | ${warm#* } | no request (cache younger than 10 min) |"
echo "| tollgate update --offline | ${offline% *} | ${offline#* } | cache only |"
echo "| npm outdated, cold npm cache | ${npm_cold% *} | ${npm_cold#* } | $(npm --version) |"
echo "| npm outdated, warm npm cache (--prefer-offline) | ${npm_warm% *} | ${npm_warm#* } | |"
