#!/usr/bin/env bash
# Builds a Tollgate release into OUT (default artifacts/release):
#   tollgate-VERSION-RID.tar.gz  NativeAOT binaries for linux-x64, linux-arm64, win-x64, osx-arm64 (those this machine
#                                can build: NativeAOT links with the target's own toolchain): `tollgate[.exe]` and the
#                                SQLite library it loads from its own folder (e_sqlite3)
#   SHA256SUMS                   sha256sum of every archive
#   Tollgate.Cli.VERSION.nupkg   the .NET tool package (`dotnet tool install -g Tollgate.Cli --add-source OUT`)
#   tollgate-VERSION.cdx.json    CycloneDX SBOM of the release's dependencies, reproducible (SOURCE_DATE_EPOCH)
# Trimming and AOT warnings are errors. TOLLGATE_RIDS="linux-x64" builds fewer binaries.
# Usage: build/release.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

out="${1:-artifacts/release}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' src/Tollgate.Cli/Tollgate.Cli.csproj | head -n 1)"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
read -r -a rids <<< "${TOLLGATE_RIDS:-linux-x64 linux-arm64 win-x64 osx-arm64}"
host_os="$(uname -s)"
host_arch="$(uname -m)"

# The C compiler/linker NativeAOT needs: clang (or a versioned clang) on Linux and macOS.
linker=""
for candidate in clang clang-20 clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
  if command -v "$candidate" >/dev/null 2>&1; then linker="$candidate"; break; fi
done

# Why this machine cannot build RID, or nothing when it can.
cannot_build() {
  case "$1" in
    linux-x64|linux-arm64)
      if [ "$host_os" != Linux ]; then echo "NativeAOT for Linux links on Linux (this is $host_os)"; return; fi
      if [ -z "$linker" ]; then echo "no clang on PATH (install clang and zlib1g-dev)"; return; fi
      if [ "$1" = linux-arm64 ] && [ "$host_arch" != aarch64 ] && [ ! -d /usr/aarch64-linux-gnu ]; then
        echo "cross-compiling to arm64 needs an arm64 sysroot (Debian: gcc-aarch64-linux-gnu, binutils-aarch64-linux-gnu, and arm64 zlib); build it on an arm64 machine"
        return
      fi
      if [ "$1" = linux-x64 ] && [ "$host_arch" != x86_64 ] && [ ! -d /usr/x86_64-linux-gnu ]; then
        echo "cross-compiling to x64 needs an x64 sysroot; build it on an x64 machine"
      fi ;;
    win-x64)
      case "$host_os" in MINGW*|MSYS*|CYGWIN*|Windows_NT) ;; *) echo "NativeAOT for Windows links with the MSVC toolchain on Windows (this is $host_os)" ;; esac ;;
    osx-arm64)
      if [ "$host_os" != Darwin ]; then echo "NativeAOT for macOS links with Xcode's toolchain on macOS (this is $host_os)"; fi ;;
    *) echo "not a release target" ;;
  esac
}

built=()
skipped=()
for rid in "${rids[@]}"; do
  reason="$(cannot_build "$rid")"
  if [ -n "$reason" ]; then
    echo "not built: $rid: $reason" >&2
    skipped+=("$rid")
    continue
  fi
  echo "building $rid (NativeAOT)" >&2
  extra=()
  if [ -n "$linker" ] && [ "$linker" != clang ]; then extra+=("-p:CppCompilerAndLinker=$linker"); fi
  stage="$(mktemp -d)"
  # A NativeAOT publish adds the ILCompiler packages for the RID, which the committed lock files (written for the
  # portable build) do not list: that restore gets its own lock file in the staging folder, so the repository's
  # files are not rewritten and locked mode stays on for every other build.
  dotnet publish src/Tollgate.Cli -c Release -r "$rid" --nologo -v quiet -o "$stage" \
    -p:RestoreLockedMode=false -p:NuGetLockFilePath="$stage/packages.lock.json" \
    -p:PublishAot=true -p:StripSymbols=true -p:TreatWarningsAsErrors=true \
    -p:ILLinkTreatWarningsAsErrors=true -p:IlcTreatWarningsAsErrors=true -p:TrimmerSingleWarn=false \
    -p:SuppressTrimAnalysisWarnings=false "${extra[@]}"
  name="tollgate-$version-$rid"
  pack_dir="$(mktemp -d)"
  if [ -f "$stage/Tollgate.Cli.exe" ]; then
    cp "$stage/Tollgate.Cli.exe" "$pack_dir/tollgate.exe"
  else
    cp "$stage/Tollgate.Cli" "$pack_dir/tollgate"
  fi
  # The native SQLite library is loaded from the binary's folder, so it ships beside it.
  find "$stage" -maxdepth 1 \( -name '*.so' -o -name '*.dylib' -o -name '*.dll' \) -exec cp {} "$pack_dir/" \;
  # A reproducible archive: fixed order, owner and time.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -C "$pack_dir" -cf - . | gzip -n > "$out/$name.tar.gz"
  rm -rf "$stage" "$pack_dir"
  built+=("$rid")
done

(cd "$out" && rm -f SHA256SUMS && for f in tollgate-"$version"-*.tar.gz; do if [ -f "$f" ]; then sha256sum "$f"; fi; done > SHA256SUMS)

dotnet pack src/Tollgate.Cli -c Release --nologo -v quiet -o "$out"

# The SBOM of what the release contains: the CLI's locked dependency graph (packages.lock.json of the CLI and the
# projects it references), with the time taken from SOURCE_DATE_EPOCH so that two builds give identical bytes.
dotnet run --project src/Tollgate.Cli -c Release --no-build -- sbom src/Tollgate.Cli src/Tollgate src/Tollgate.Server \
  -o "$out/tollgate-$version.cdx.json"

echo "built: ${built[*]:-none}; not built here: ${skipped[*]:-none}; output in $out" >&2
if [ "${#built[@]}" -eq 0 ] && [ "${#rids[@]}" -gt 0 ]; then
  echo "error: no binary could be built on this machine (see above)" >&2
  exit 1
fi
