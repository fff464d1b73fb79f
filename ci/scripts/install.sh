#!/usr/bin/env bash
# Installs Tollgate for a CI job: the release archive TOLLGATE_VERSION for this runner, checked against the release's
# SHA256SUMS and against TOLLGATE_SHA256 when given; or, without TOLLGATE_VERSION, a build of the checkout at
# TOLLGATE_SOURCE (the .NET SDK must be installed). Outputs: bin (folder holding `tollgate`), home (TOLLGATE_HOME for
# the advisory database), day (UTC date, the advisory cache key).
set -euo pipefail
. "$(dirname "$0")/common.sh"

dir="$(tollgate_temp)"
mkdir -p "$dir/bin" "$dir/home"
if [ -n "${TOLLGATE_VERSION:-}" ]; then
  os="${RUNNER_OS:-${AGENT_OS:-$(uname -s)}}"
  arch="${RUNNER_ARCH:-${AGENT_OSARCHITECTURE:-$(uname -m)}}"
  case "$os-$arch" in
    Linux-X64|Linux-x86_64) rid=linux-x64; exe=tollgate ;;
    Linux-ARM64|Linux-aarch64) rid=linux-arm64; exe=tollgate ;;
    Windows-X64|Windows_NT-X64) rid=win-x64; exe=tollgate.exe ;;
    macOS-ARM64|Darwin-ARM64|Darwin-arm64) rid=osx-arm64; exe=tollgate ;;
    *) error "no Tollgate release binary for $os $arch; leave the version empty to build from source"; exit 2 ;;
  esac
  base="${TOLLGATE_RELEASE_URL:-}"
  if [ -z "$base" ]; then
    base="https://github.com/${TOLLGATE_REPOSITORY:-tollgate/tollgate}/releases/download"
  fi
  base="${base%/}/v$TOLLGATE_VERSION"
  name="tollgate-$TOLLGATE_VERSION-$rid.tar.gz"
  curl --fail --silent --show-error --location -o "$dir/$name" "$base/$name"
  curl --fail --silent --show-error --location -o "$dir/SHA256SUMS" "$base/SHA256SUMS"
  actual="$(sha256sum "$dir/$name" | cut -d' ' -f1)"
  listed="$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$dir/SHA256SUMS")"
  if [ -z "$listed" ] || [ "$actual" != "$listed" ]; then
    rm -f "$dir/$name"
    error "$name does not match its SHA-256 in the release's SHA256SUMS (got $actual, listed '${listed:-none}'): not running it"
    exit 2
  fi
  if [ -n "${TOLLGATE_SHA256:-}" ] && [ "$actual" != "$TOLLGATE_SHA256" ]; then
    rm -f "$dir/$name"
    error "$name has SHA-256 $actual, but the pipeline pins $TOLLGATE_SHA256: not running it"
    exit 2
  fi
  # The archive holds the binary and the SQLite library it loads from its own folder.
  tar -xzf "$dir/$name" -C "$dir/bin"
  rm -f "$dir/$name"
  chmod +x "$dir/bin/$exe"
  echo "Tollgate $TOLLGATE_VERSION ($rid), SHA-256 $actual"
else
  source="${TOLLGATE_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}"
  dotnet publish "$source/src/Tollgate.Cli" -c Release --nologo -v quiet -o "$dir/build"
  exe=tollgate
  if [ -f "$dir/build/Tollgate.Cli.exe" ]; then exe=tollgate.exe; fi
  cp "$dir/build/Tollgate.Cli${exe#tollgate}" "$dir/build/$exe"
  # The build is framework-dependent: run it from its folder, through a link in bin/.
  ln -sf "$dir/build/$exe" "$dir/bin/$exe" 2>/dev/null || cp "$dir/build/$exe" "$dir/bin/$exe"
fi
add_path "$dir/bin"
emit bin "$dir/bin"
emit home "$dir/home"
emit day "$(date -u +%Y-%m-%d)"
"$dir/bin/$exe" version
