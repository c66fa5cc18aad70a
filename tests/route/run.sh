#!/usr/bin/env bash
# run.sh — runs the router's pytest suite (tests/route/) against the slm
# binary given as $1, with the venv's python (tools/setup-venv.sh makes it).
# ctest runs it as route_pytest; exit 77 (ctest: skipped) with the reason
# printed when the venv is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$(realpath "${1:?usage: run.sh SLM_BINARY [pytest args]}")"
shift
py="${SLM_VENV:-$root/build/venv}/bin/python"
if [ ! -x "$py" ] || ! "$py" -c 'import pytest' 2>/dev/null; then
  echo "SKIP: no Python venv with pytest at ${py%/bin/python} (run tools/setup-venv.sh)"
  exit 77
fi
cd "$here"
SLM_BIN="$bin" exec "$py" -m pytest -q -p no:cacheprovider "$@"
