#!/usr/bin/env bash
# Fails the job as the scan decided (SCAN_EXIT, SCAN_VERDICT from scan.sh): run last, after the reports are uploaded.
set -uo pipefail
. "$(dirname "$0")/common.sh"

case "${SCAN_EXIT:-}" in
  0) echo "Tollgate: ${SCAN_VERDICT:-pass}" ;;
  1) error "Tollgate: the policy failed (verdict ${SCAN_VERDICT:-fail}); see the summary and the code-scanning results"; exit 1 ;;
  *) error "Tollgate: the scan could not check everything (exit code ${SCAN_EXIT:-none}, verdict ${SCAN_VERDICT:-unknown}): not a pass"; exit "${SCAN_EXIT:-2}" ;;
esac
