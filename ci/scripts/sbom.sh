#!/usr/bin/env bash
# Writes a CycloneDX SBOM of INPUT_PATH for a CI job, reproducibly (SOURCE_DATE_EPOCH: the commit's time unless set).
# Output: sbom-file.
set -euo pipefail
. "$(dirname "$0")/common.sh"

file="$(tollgate_temp)/sbom.cdx.json"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
"$TOLLGATE_BIN/tollgate" sbom "${INPUT_PATH:-.}" -o "$file"
emit sbom-file "$file"
