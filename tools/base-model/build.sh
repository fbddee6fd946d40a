#!/usr/bin/env bash
# Rebuilds the shipped base model from scratch: corpus → tokenizer → pretraining with peft.js.
# Needs the Debian `fortunes` package, the npm devDependencies and the Python reference venv
# (tools/setup-python.sh) for the tokenizer trainer. Usage: tools/base-model/build.sh <out-dir> [steps]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: build.sh <out-dir> [steps]}
STEPS=${2:-1500}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY=${PEFTJS_PYTHON:-.venv-py/bin/python}
"$PY" tools/base-model/prepare_corpus.py "$WORK/corpus.txt"
"$PY" tools/base-model/train_tokenizer.py "$WORK/corpus.txt" "$WORK/tokenizer"
npx tsc -p tools/base-model
node dist/tools/base-model/pretrain.js "$WORK/corpus.txt" "$WORK/tokenizer" "$OUT" "$STEPS"
