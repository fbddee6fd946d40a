#!/usr/bin/env bash
# Live parity against Python PEFT (`npm run parity`). PEFT → peft.js is covered by the test suite (fixtures
# made by tools/fixtures/peft_adapters.py); this checks peft.js → PEFT live: for every fixture case peft.js
# builds and perturbs an adapter with the same config, saves it with its outputs
# (tools/parity/make-ts-adapters.ts), and the installed PEFT loads it without warnings and reproduces the
# outputs within 1e-4 (tools/parity/check_ts_adapters.py), PiSSA / OLoRA adapters converted on save included;
# `peftjs merge` output loads in transformers and reproduces the unmerged PeftModel's logits
# (tools/parity/make-ts-merges.ts, check_ts_merges.py); then full-size models are checked against
# transformers' logits (tools/parity/large-models.sh).
# Last line: SUMMARY parity_cases=<n> parity_failures=<k>.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PEFTJS_PYTHON:-.venv-py/bin/python}

if ! "$PY" -c "import torch, transformers, peft, safetensors" 2>/dev/null; then
  echo "parity: cannot import torch, transformers, peft and safetensors with $PY (run tools/setup-python.sh); live parity checks not run"
  echo "SUMMARY parity_cases=0 parity_failures=1"
  exit 1
fi

npx tsc -p . && npx tsc -p tools/parity || { echo "parity: the TypeScript build failed"; echo "SUMMARY parity_cases=0 parity_failures=1"; exit 1; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/peftjs-parity-XXXXXX")
trap 'rm -rf "$OUT"' EXIT

node dist/tools/parity/make-ts-adapters.js "$OUT" | tee "$OUT/ts.log"
ts_status=${PIPESTATUS[0]}
"$PY" tools/parity/check_ts_adapters.py "$OUT" | tee "$OUT/py.log"
py_status=${PIPESTATUS[0]}
node dist/tools/parity/make-ts-merges.js "$OUT/merges" | tee "$OUT/merge-ts.log"
merge_ts_status=${PIPESTATUS[0]}
"$PY" tools/parity/check_ts_merges.py "$OUT/merges" | tee "$OUT/merge-py.log"
merge_py_status=${PIPESTATUS[0]}

# Each stage ends with `RESULT cases=<n> failures=<k>`; a stage that died without one counts as failed.
field() { sed -n "s/^RESULT cases=\([0-9]*\) failures=\([0-9]*\)$/\\$2/p" "$1" | tail -1; }
cases=0
failures=0
# A TS stage that writes cases and the Python stage that checks them: <ts log> <python log>.
count_pair() {
  local ts_cases ts_failures py_cases py_failures written
  ts_cases=$(field "$1" 1); ts_failures=$(field "$1" 2)
  py_cases=$(field "$2" 1); py_failures=$(field "$2" 2)
  cases=$(( cases + ${ts_cases:-0} ))
  failures=$(( failures + ${ts_failures:-1} + ${py_failures:-1} ))
  # Cases TS wrote but Python did not check.
  written=$(( ${ts_cases:-0} - ${ts_failures:-0} ))
  [ "${py_cases:-0}" -lt "$written" ] && failures=$(( failures + written - ${py_cases:-0} ))
}
count_pair "$OUT/ts.log" "$OUT/py.log"
count_pair "$OUT/merge-ts.log" "$OUT/merge-py.log"
# Full-size forward parity (GPT-2-small and SmolLM-135M shapes), two more cases.
cases=$(( cases + 2 ))
if bash tools/parity/large-models.sh > "$OUT/large.log" 2>&1; then
  echo "parity: full-size models match transformers (GPT-2-small, SmolLM-135M)"
else
  tail -30 "$OUT/large.log"
  failures=$(( failures + 1 ))
fi
if [ $(( ts_status + py_status + merge_ts_status + merge_py_status )) -ne 0 ] && [ "$failures" -eq 0 ]; then failures=1; fi
echo "SUMMARY parity_cases=$cases parity_failures=$failures"
[ "$failures" -eq 0 ]
