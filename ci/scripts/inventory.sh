#!/usr/bin/env bash
# Uploads the SBOM (INPUT_SBOM, from sbom.sh) to a `tollgate serve` inventory (INPUT_SERVER) as the deployment
# INPUT_DEPLOYMENT, with INPUT_ENVIRONMENT and INPUT_VERSION when given. The token comes from TOLLGATE_TOKEN: an API
# token from `tollgate serve new-token NAME --scope write`, or an Entra ID access token for the server's app
# registration (docs/dashboard.md). Never printed.
set -euo pipefail
. "$(dirname "$0")/common.sh"

if [ -z "${INPUT_SERVER:-}" ]; then exit 0; fi
if [ -z "${INPUT_DEPLOYMENT:-}" ]; then
  error "Tollgate: an inventory server is set but no deployment name: set the deployment input"
  exit 2
fi
if [ -z "${TOLLGATE_TOKEN:-}" ]; then
  error "Tollgate: no token for the inventory server: pass a write token (or an Entra ID access token) as TOLLGATE_TOKEN"
  exit 2
fi
args=(inventory add "$INPUT_SBOM" --deployment "$INPUT_DEPLOYMENT" --server "$INPUT_SERVER")
if [ -n "${INPUT_ENVIRONMENT:-}" ]; then args+=(--environment "$INPUT_ENVIRONMENT"); fi
if [ -n "${INPUT_VERSION:-}" ]; then args+=(--version "$INPUT_VERSION"); fi
if ! "$TOLLGATE_BIN/tollgate" "${args[@]}"; then
  error "Tollgate: the SBOM could not be uploaded to the inventory at $INPUT_SERVER (see the message above)"
  exit 2
fi
