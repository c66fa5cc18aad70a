#!/usr/bin/env bash
# run.sh — runs the pytest suite of `slm serve` (tests/serve/) against the
# slm binary given as $1, with the venv's python (tools/setup-venv.sh makes
# it). ctest runs it as serve_pytest; exit 77 (ctest: skipped) with the
# reason printed when the venv is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:?usage: run.sh SLM_BINARY [pytest args]}"
shift
py="${SLM_VENV:-$root/build/venv}/bin/python"
if [ ! -x "$py" ] || ! "$py" -c 'import openai, pytest' 2>/dev/null; then
  echo "SKIP: no Python venv with openai and pytest at ${py%/bin/python} (run tools/setup-venv.sh)"
  exit 77
fi
cd "$here"
SLM_BIN="$bin" exec "$py" -m pytest -q -s -p no:cacheprovider "$@"
