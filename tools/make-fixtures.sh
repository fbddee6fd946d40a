#!/usr/bin/env bash
# Regenerates every committed golden fixture from the Python reference implementations.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PEFTJS_PYTHON:-.venv-py/bin/python}
for script in tools/fixtures/*.py; do
  case "$(basename "$script")" in _*) continue ;; esac
  echo "fixtures: $script"
  "$PY" "$script"
done
