# Shared by the CI scripts (sourced): where to put files and how to hand values to later steps, on GitHub Actions
# (GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY) and on Azure Pipelines (##vso logging commands).

tollgate_temp() {
  local base="${RUNNER_TEMP:-${AGENT_TEMPDIRECTORY:-${TMPDIR:-/tmp}}}"
  mkdir -p "$base/tollgate"
  printf '%s\n' "$base/tollgate"
}

# emit NAME VALUE: a step output (GitHub: exit-code) or an output variable (Azure Pipelines, where variable names
# take no hyphen: $(step.exit_code)).
emit() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"
  fi
  if [ -n "${TF_BUILD:-}" ]; then
    echo "##vso[task.setvariable variable=${1//-/_};isOutput=true]$2"
  fi
}

# error TEXT: an annotation on the run.
error() {
  if [ -n "${TF_BUILD:-}" ]; then echo "##vso[task.logissue type=error]$1"; else echo "::error::$1"; fi
}

warning() {
  if [ -n "${TF_BUILD:-}" ]; then echo "##vso[task.logissue type=warning]$1"; else echo "::warning::$1"; fi
}

add_path() {
  if [ -n "${GITHUB_PATH:-}" ]; then printf '%s\n' "$1" >> "$GITHUB_PATH"; fi
  if [ -n "${TF_BUILD:-}" ]; then echo "##vso[task.prependpath]$1"; fi
}

# summary FILE: the Markdown shown on the run's summary page.
summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$1" >> "$GITHUB_STEP_SUMMARY"; fi
  if [ -n "${TF_BUILD:-}" ]; then echo "##vso[task.uploadsummary]$1"; fi
}
