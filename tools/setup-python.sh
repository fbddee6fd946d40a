#!/usr/bin/env bash
# Creates .venv-py with the Python reference stack (PyTorch CPU, transformers, PEFT, safetensors)
# used to generate golden fixtures, run the live parity checks and the side-by-side benchmarks.
# Exit code 0 when the stack imports; non-zero (with a message) when it cannot be installed.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-py
check() { "$VENV/bin/python" -c "import torch, transformers, peft, safetensors" 2>/dev/null; }
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || { echo "setup-python: python3 -m venv failed" >&2; exit 1; }
if ! check; then
  "$VENV/bin/pip" install -q --retries 0 "torch==2.13.0+cpu" transformers peft safetensors numpy 2>&1 \
    | grep -v "^WARNING: Location" >&2
  check || { echo "setup-python: could not install torch/transformers/peft/safetensors into $VENV" >&2; exit 1; }
fi
"$VENV/bin/python" -c "import torch, transformers, peft; print(f'python reference: torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}')"
