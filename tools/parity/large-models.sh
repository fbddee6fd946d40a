#!/usr/bin/env bash
# Generates the full-size random models with transformers and checks our forward against them.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PEFTJS_PYTHON:-.venv-py/bin/python}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
"$PY" tools/parity/make_large_models.py "$DIR"
PEFTJS_LARGE_MODEL_FIXTURES="$DIR" node --test dist/tests/models/large-models.test.js
