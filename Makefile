# Thin wrapper over CMake. `make run` and `make test` work from a clean clone:
# both install missing Debian packages first (tools/setup-deps.sh).
BUILD      ?= build/release
ASAN_BUILD ?= build/asan
TSAN_BUILD ?= build/tsan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
PREFIX     ?= /usr/local
# CMake's generated Makefiles run make recursively; without this every level
# prints "Entering/Leaving directory" and CMake's progress lines drown.
MAKEFLAGS  += --no-print-directory
# Older OpenBLAS builds misbehave on this CPU family; tests and CI keep this set.
export OPENBLAS_CORETYPE ?= Haswell

FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 180
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps venv configure build build-asan run install test test-release test-asan test-tsan fuzz clean

all: build

deps:
	@bash tools/setup-deps.sh

# The Python venv of the server and router tests (build/venv, from PyPI; a
# no-op when it already holds tests/serve/requirements.txt).
venv: deps
	@bash tools/setup-venv.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLM_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# The main job: a story from the bundled model, streamed to stdout. Only the
# slm binary is built (not the tests and benchmarks).
run: configure
	@cmake --build $(BUILD) -j $(JOBS) --target slm
	$(BUILD)/slm run -p "Once upon a time" -n 256 --temp 0.8 --seed 42

# The binary, the engine libraries and the public headers under PREFIX
# (bin/, lib/, include/slm/); DESTDIR stages them for packaging.
install: configure
	@cmake --build $(BUILD) -j $(JOBS) --target slm
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

test: test-release test-asan test-tsan

test-release: build venv
	@cd $(BUILD) && ctest --output-on-failure

test-asan: build-asan venv
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure

# Runs every libFuzzer harness (or FUZZ_TARGETS) for FUZZ_SECONDS each under
# ASan/UBSan with per-input memory and time limits; not part of `make test`,
# which replays the committed corpus and reproducers instead (tests/fuzz/README.md).
fuzz:
	@bash tools/setup-deps.sh fuzz
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
		-DSLM_SANITIZE=ON -DSLM_FUZZ=ON -DSLM_BUILD_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@bash tools/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The thread team, sessions sharing one model from two threads, and the
# server's handlers and scheduler threads, under ThreadSanitizer (the team is
# the engine's own code, so TSan sees every access its workers make; OpenBLAS
# is kept single-threaded by the engine).
test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DSLM_TSAN=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target test_team test_threads test_serve_handlers
	@cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1 ctest -R '^(test_team|test_threads|test_serve_handlers)$$' --output-on-failure

clean:
	rm -rf build
