#!/usr/bin/env bash
# setup-venv.sh — the Python venv of the server tests (tests/serve/): creates
# build/venv (ignored by git) with the packages of tests/serve/requirements.txt,
# quietly. Does nothing when the venv already has exactly those requirements
# (a copy of the file is kept in the venv as the stamp).
#   usage: tools/setup-venv.sh [VENV_DIR]    (default build/venv)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/build/venv}"
req="$root/tests/serve/requirements.txt"
stamp="$venv/.slm-requirements.txt"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
python="$(command -v python3 || true)"
if [ -z "$python" ]; then
  echo "setup-venv: python3 not found: apt-get install python3 python3-venv" >&2
  exit 1
fi
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "setup-venv: the venv module is missing: apt-get install python3-venv" >&2
  exit 1
fi
echo "setup-venv: creating $venv (tests/serve/requirements.txt)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
