#!/usr/bin/env bash
# A long reader fuzzing campaign: ReaderFuzzTests with many more mutants than the test suite's default run.
# Usage: bench/fuzz/run.sh [inputs] [seed]    (defaults: 200000 inputs, about 6 minutes here; a seed from the clock)
# Failing inputs are saved under $TOLLGATE_FUZZ_KEEP (default: a new folder under /tmp), and the input being read as
# reading-* (what ended the process, if it died of a stack overflow or out of memory); a failure names its seed
# and mutant index, which reproduce it: TOLLGATE_FUZZ_SEED=<seed> with at least <index>+1 inputs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export TOLLGATE_FUZZ_INPUTS=${1:-200000}
export TOLLGATE_FUZZ_SEED=${2:-$(date +%s)}
export TOLLGATE_FUZZ_KEEP=${TOLLGATE_FUZZ_KEEP:-$(mktemp -d /tmp/tollgate-fuzz-failures.XXXX)}
echo "fuzzing: $TOLLGATE_FUZZ_INPUTS inputs, seed $TOLLGATE_FUZZ_SEED; failing inputs go to $TOLLGATE_FUZZ_KEEP"
dotnet test "$ROOT/tests/Tollgate.Tests" -v q --nologo \
  --filter "FullyQualifiedName~Tollgate.Tests.Fuzz.ReaderFuzzTests" \
  --logger "console;verbosity=detailed"
