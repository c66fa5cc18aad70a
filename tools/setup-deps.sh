#!/usr/bin/env bash
# Installs the Debian packages slm builds against, and nothing when all are present.
# Called by `make run` and `make test`; safe to run repeatedly. Uses sudo only when not root.
# `setup-deps.sh fuzz` (from `make fuzz`) also installs clang with libFuzzer and libomp.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-dev        # sgemm for large f32 products
  libcmocka-dev          # unit tests
  libcjson-dev           # config.json, tokenizer.json, safetensors headers
  libcurl4-openssl-dev   # router: remote OpenAI-compatible client
  libutf8proc-dev        # Unicode normalization (tokenizers)
  libpcre2-dev           # pre-tokenizer regexes (tokenizers)
  libmicrohttpd-dev      # OpenAI-compatible server
  libedit-dev            # slm chat: line editing and history on a terminal
  libsimde-dev           # tests: AVX-512 kernels checked under emulation on CPUs without it
  python3-venv           # tests: the venv of the server/router suites (tools/setup-venv.sh)
  nginx                  # tests and tools/deploy/: slm serve replicas behind nginx
)
if [ "${1:-}" = fuzz ]; then
  packages+=(clang libclang-rt-dev libomp-dev)   # libFuzzer harnesses (make fuzz)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
