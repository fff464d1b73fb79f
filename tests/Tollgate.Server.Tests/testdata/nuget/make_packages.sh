#!/usr/bin/env bash
# Packs the feed's NuGet test packages from src/Fixture.csproj into packages/ (see README.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A clean configuration: no package source is needed (no dependencies) and nothing is read from the user's.
cat > "$work/nuget.config" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /></packageSources></configuration>
XML
# Outside the repository's Directory.Build.props and Directory.Packages.props.
export NUGET_PACKAGES="$work/nuget-packages" DOTNET_CLI_HOME="$work/home" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
pack() { # id version [build-targets]
  mkdir "$work/$1.$2" && cp -r "$here/src/." "$work/$1.$2/"
  dotnet pack "$work/$1.$2/Fixture.csproj" -c Release -o "$here/packages" -p:PackageId="$1" -p:Version="$2" -p:WithBuildTargets="${3:-false}" | { grep -E "error|warn" || true; }
}
rm -f "$here/packages/"*.nupkg
pack Tollgate.Fixture.Ok 1.0.0
pack Tollgate.Fixture.Ok 1.1.0
pack Tollgate.Fixture.Ok 2.0.0-Beta.1
pack Tollgate.Fixture.Ok 1.10.0
pack Tollgate.Fixture.Evil 1.0.0
pack Tollgate.Fixture.Evil 1.0.1
pack Tollgate.Fixture.Build 1.0.0 true
pack Acme.Internal 1.0.0
pack Acme.Internal 9.9.9
ls -l "$here/packages"
