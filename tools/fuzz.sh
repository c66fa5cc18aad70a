#!/usr/bin/env bash
# Runs libFuzzer harnesses one after another (the machine has 2 cores).
#   tools/fuzz.sh BUILD_DIR SECONDS NAME...
# Each harness fuzz_NAME runs SECONDS with -rss_limit_mb=2048 -timeout=10, so
# a balloon or a hang is a finding like a crash. It starts from the committed
# seeds (tests/fuzz/corpus/NAME) plus what earlier runs found (BUILD_DIR/corpus/NAME,
# not committed); findings go to BUILD_DIR/artifacts/NAME/. One summary line
# per harness is appended to BUILD_DIR/fuzz-report.txt. Exit status 1 when any
# harness found something: copy the artifact into tests/fuzz/regressions/NAME/
# with a descriptive name, fix it, and `make test` replays it from then on.
set -uo pipefail
build=$1 seconds=$2
shift 2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
status=0
for name in "$@"; do
  bin=$build/fuzz_$name
  corpus=$build/corpus/$name
  artifacts=$build/artifacts/$name
  mkdir -p "$corpus" "$artifacts"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
  [ -f "tests/fuzz/$name.options" ] && read -r -a extra < "tests/fuzz/$name.options" && args+=("${extra[@]}")
  log=$build/fuzz-$name.log
  echo "fuzz $name: ${seconds}s, log $log" >&2
  "$bin" "${args[@]}" "$corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  found=$(find "$artifacts" -type f | wc -l)
  line="$(date -u +%F) fuzz_$name: ${seconds}s, ${execs:-?} executions, exit $rc, $found artifacts in $artifacts"
  echo "$line" | tee -a "$build/fuzz-report.txt"
  [ "$rc" -ne 0 ] || [ "$found" -ne 0 ] && status=1
done
exit $status
