#!/usr/bin/env bash
# Runs `tollgate scan` for a CI job and records its result without failing the step (gate.sh fails it, after the
# SARIF upload). Inputs (environment): TOLLGATE_BIN, TOLLGATE_HOME, INPUT_PATH, INPUT_POLICY, INPUT_FAIL_ON,
# INPUT_FORMAT, INPUT_REPORT_FILE, INPUT_VEX and INPUT_EXCLUDE (one per line, or separated by ';'), INPUT_ADVISORIES,
# CACHE_HIT. Writes tollgate.sarif,
# summary.md, tollgate.json and the report in INPUT_FORMAT to the job's temporary folder; outputs exit-code, verdict,
# sarif-file, report-file; appends the Markdown summary to the run's summary.
set -uo pipefail
. "$(dirname "$0")/common.sh"

out="$(tollgate_temp)"
tollgate="$TOLLGATE_BIN/tollgate"
export TOLLGATE_HOME
args=(scan "${INPUT_PATH:-.}")
if [ -n "${INPUT_POLICY:-}" ]; then args+=(--policy "$INPUT_POLICY"); fi
if [ -n "${INPUT_FAIL_ON:-}" ]; then args+=(--fail-on "$INPUT_FAIL_ON"); fi
while IFS= read -r vex; do
  vex="${vex%$'\r'}"
  if [ -n "$vex" ]; then args+=(--vex "$vex"); fi
done < <(printf '%s\n' "${INPUT_VEX:-}" | tr ';' '\n')
while IFS= read -r glob; do
  glob="${glob%$'\r'}"
  if [ -n "$glob" ]; then args+=(--exclude "$glob"); fi
done < <(printf '%s\n' "${INPUT_EXCLUDE:-}" | tr ';' '\n')
if [ -n "${INPUT_ADVISORIES:-}" ]; then
  args+=(--advisories "$INPUT_ADVISORIES")
elif [ "${CACHE_HIT:-}" != true ]; then
  # Today's database is not in the cache (only an older one, or none): update it once for the day. When the update
  # fails and no database was restored, the scan itself fails closed.
  "$tollgate" db update || warning "the advisory database could not be updated; scanning with the cached copy, if any"
fi

sarif="$out/tollgate.sarif"
"$tollgate" "${args[@]}" --format sarif -o "$sarif"
status=$?
"$tollgate" "${args[@]}" --format markdown -o "$out/summary.md" 2>/dev/null
"$tollgate" "${args[@]}" --format json -o "$out/tollgate.json" 2>/dev/null
if [ ! -f "$out/summary.md" ]; then
  printf '## Tollgate scan\n\nThe scan could not run (exit code %s): see the log of the scan step.\n' "$status" > "$out/summary.md"
fi
summary "$out/summary.md"

format="${INPUT_FORMAT:-sarif}"
case "$format" in
  sarif) ext=sarif ;; json) ext=json ;; markdown) ext=md ;; openvex) ext=openvex.json ;; *) ext=txt ;;
esac
report="${INPUT_REPORT_FILE:-$out/tollgate-report.$ext}"
case "$format" in
  sarif) if [ -f "$sarif" ]; then cp "$sarif" "$report"; fi ;;
  json) if [ -f "$out/tollgate.json" ]; then cp "$out/tollgate.json" "$report"; fi ;;
  markdown) cp "$out/summary.md" "$report" ;;
  *) "$tollgate" "${args[@]}" --format "$format" -o "$report" 2>/dev/null ;;
esac

verdict=unknown
if [ -f "$out/tollgate.json" ]; then
  verdict="$(sed -n 's/^  "verdict": "\([a-z]*\)",$/\1/p' "$out/tollgate.json" | head -n 1)"
fi
emit exit-code "$status"
emit verdict "${verdict:-unknown}"
if [ -f "$sarif" ]; then emit sarif-file "$sarif"; fi
if [ -f "$report" ]; then emit report-file "$report"; fi
echo "Tollgate scan: verdict ${verdict:-unknown}, exit code $status"
exit 0
