#!/usr/bin/env python3
"""llama.cpp prompt-processing / generation speed, measured like `llama-bench`.

Uses llama.cpp through llama-cpp-python's low-level C API (ctypes bindings to the
libllama it builds from its bundled llama.cpp source; install it with
CMAKE_ARGS="-DGGML_NATIVE=ON" so ggml is compiled for this CPU). The high-level
`Llama` object is not used: every measured step is a direct `llama_decode` call.

  ppN  clear the KV cache, then ONE llama_decode of N prompt tokens
       (n_batch = max(2048, N), n_ubatch = max(512, N), so N <= 512 is one ubatch) -> N / seconds
  tgN  clear the KV cache, decode 1 token (not timed), then N single-token llama_decode
       calls -> N / seconds. (llama-bench starts tg from an empty cache and times the first
       token too; this follows `slm bench`, so both engines time the same positions 1..N.)

Each test runs once as warm-up, then r times; reported as mean and sample stddev of the
per-run tok/s (llama-bench's definition). Token ids are the same xorshift ids
`slm bench` uses (seed 12345, ids in [1, vocab)), so both engines see identical inputs.
Like `llama-bench -mmp 0` the model is loaded with use_mmap=False (read into memory).
Flash attention defaults to llama.cpp's AUTO and the KV cache to F16, llama-bench's
defaults; both are reported in the JSON. A ggml CPU threadpool is created and attached
per thread count (as llama-bench does, poll=50) when libggml exports the functions;
otherwise ggml creates a short-lived one per graph (reported as "threadpool": false).

Python overhead: the timed region holds only ctypes calls (llama_batch_get_one,
llama_decode, llama_synchronize) around C work of >= ~20 ms per decoded token for the
1.1B model. `--overhead` measures the cost of the same Python/ctypes calls with a trivial C
function in place of llama_decode: a few microseconds per token, i.e. < 0.05% of a
decode step and far below run-to-run noise (stddev is typically 0.5-2%), so it is
negligible; the number is printed in the JSON as "py_overhead_us" when requested.

Output: one JSON object per line (stdout), e.g.
  {"engine":"llama.cpp","model":"tinyllama-1.1b","format":"q4_0","threads":2,"test":"tg64",
   "tok_s":43.1,"stddev":0.2,"gb_s":26.8,"load_s":0.9,"peak_rss_mb":720.0,"kv":"f16",
   "flash_attn":"auto","threadpool":true}
gb_s = tok/s x llama_model_size (all tensor bytes) / 1e9, the same definition as slm's.

Usage:
  .venv/bin/python bench/llama_cpp_bench.py -m bench/models/tinyllama-1.1b-q4_0.gguf -t 2 -p 128 -n 64 -r 5
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

KNOWN_FORMATS = ("f32", "f16", "bf16", "q8_0", "q4_0")


def xorshift_ids(n: int, vocab: int) -> list[int]:
    """The ids slm bench feeds (tools/slm/bench.c fill_ids): xorshift32 from 12345."""
    s, out = 12345, []
    for _ in range(n):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out.append(1 + s % (vocab - 1))
    return out


def mean_std(xs: list[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, 0.0
    return m, math.sqrt(max(0.0, sum((x - m) ** 2 for x in xs) / (len(xs) - 1)))


class Threadpool:
    """ggml CPU threadpool via ctypes (llama-cpp-python does not bind these)."""

    def __init__(self, llama_cpp):
        self.ok = False
        libdir = Path(llama_cpp.__file__).parent / "lib"
        try:
            self.ggml_cpu = ctypes.CDLL(str(next(libdir.glob("libggml-cpu.so*"))))
            self.ggml_cpu.ggml_threadpool_new.restype = ctypes.c_void_p
            self.ggml_cpu.ggml_threadpool_new.argtypes = [ctypes.c_void_p]
            self.ggml_cpu.ggml_threadpool_free.argtypes = [ctypes.c_void_p]
            # struct ggml_threadpool_params { bool cpumask[512]; int n_threads; int prio;
            #                                 uint32_t poll; bool strict_cpu; bool paused; }
            class Params(ctypes.Structure):
                _fields_ = [("cpumask", ctypes.c_bool * 512), ("n_threads", ctypes.c_int),
                            ("prio", ctypes.c_int), ("poll", ctypes.c_uint32),
                            ("strict_cpu", ctypes.c_bool), ("paused", ctypes.c_bool)]

            self.Params = Params
            base = ctypes.CDLL(str(next(libdir.glob("libggml-base.so*"))))
            base.ggml_threadpool_params_default.restype = Params
            base.ggml_threadpool_params_default.argtypes = [ctypes.c_int]
            self.params_default = base.ggml_threadpool_params_default
            self.llama = ctypes.CDLL(str(next(libdir.glob("libllama.so*"))))
            self.llama.llama_attach_threadpool.argtypes = [ctypes.c_void_p] * 3
            self.llama.llama_detach_threadpool.argtypes = [ctypes.c_void_p]
            self.ok = True
        except (StopIteration, OSError, AttributeError):
            self.ok = False
        self.tp = None

    def attach(self, ctx, n_threads: int) -> bool:
        if not self.ok:
            return False
        self.detach(ctx)
        p = self.params_default(n_threads)
        p.poll = 50  # llama-bench default
        self.tp = self.ggml_cpu.ggml_threadpool_new(ctypes.byref(p))
        if not self.tp:
            return False
        self.llama.llama_attach_threadpool(ctx, self.tp, self.tp)
        return True

    def detach(self, ctx):
        if self.tp:
            self.llama.llama_detach_threadpool(ctx)
            self.ggml_cpu.ggml_threadpool_free(self.tp)
            self.tp = None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", required=True, help="GGUF file")
    ap.add_argument("-t", "--threads", default=str(os.cpu_count() or 1), help="comma list (default: all cores)")
    ap.add_argument("-p", "--prompt", default="128,512", help="comma list of prompt lengths (0 skips)")
    ap.add_argument("-n", "--gen", type=int, default=64, help="generated tokens (0 skips)")
    ap.add_argument("-r", "--reps", type=int, default=5)
    ap.add_argument("--format", help="label for the JSON (default: from the file name, e.g. x-q4_0.gguf)")
    ap.add_argument("--name", help="model label (default: the file name without format and .gguf)")
    ap.add_argument("--fa", choices=["auto", "on", "off"], default="auto", help="flash attention (llama-bench default: auto)")
    ap.add_argument("--no-threadpool", action="store_true", help="do not attach an explicit ggml threadpool")
    ap.add_argument("--overhead", action="store_true", help="also measure the Python per-call overhead")
    ap.add_argument("-v", "--verbose", action="store_true", help="show llama.cpp's log")
    a = ap.parse_args()

    import llama_cpp as L

    if not a.verbose:
        @L.llama_log_callback
        def _quiet(level, text, user_data):  # noqa: ARG001
            pass

        L.llama_log_set(_quiet, ctypes.c_void_p(0))
        main._keep = _quiet  # keep the callback alive

    path = Path(a.model)
    stem = path.name[:-5] if path.name.endswith(".gguf") else path.stem
    fmt = a.format
    name = a.name
    for f in KNOWN_FORMATS:
        if stem.lower().endswith("-" + f):
            fmt = fmt or f
            name = name or stem[: -len(f) - 1]
    fmt, name = fmt or "?", name or stem
    threads = [int(x) for x in a.threads.split(",")]
    prompts = [int(x) for x in a.prompt.split(",") if int(x) > 0]

    L.llama_backend_init()
    mp = L.llama_model_default_params()
    mp.load_mode = L.LLAMA_LOAD_MODE_NONE  # read into memory, no mmap (llama-bench -mmp 0)
    mp.lazy_mode = L.LLAMA_LAZY_MODE_OFF
    mp.n_gpu_layers = 0
    t0 = time.perf_counter()
    model = L.llama_model_load_from_file(str(path).encode(), mp)
    load_s = time.perf_counter() - t0
    if not model:
        print(f"llama_cpp_bench: cannot load {path}", file=sys.stderr)
        return 1
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    size = L.llama_model_size(model)
    max_p = max(prompts, default=1)
    n_ctx = max(max_p, a.gen + 1) + 1
    ids = xorshift_ids(max(max_p, a.gen + 1) + 2, n_vocab)
    tok_arr = (L.llama_token * len(ids))(*ids)
    tok_ptr = ctypes.POINTER(L.llama_token)
    base = ctypes.addressof(tok_arr)
    ptrs = [ctypes.cast(base + i * ctypes.sizeof(L.llama_token), tok_ptr) for i in range(len(ids))]
    fa = {"auto": L.LLAMA_FLASH_ATTN_TYPE_AUTO, "on": L.LLAMA_FLASH_ATTN_TYPE_ENABLED,
          "off": L.LLAMA_FLASH_ATTN_TYPE_DISABLED}[a.fa]
    tp = Threadpool(L) if not a.no_threadpool else None

    def emit(test, t, xs, extra=None):
        m, sd = mean_std(xs)
        row = {"engine": "llama.cpp", "model": name, "format": fmt, "threads": t, "test": test,
               "tok_s": round(m, 3), "stddev": round(sd, 3), "tok_s_max": round(max(xs), 3)}
        if test.startswith("tg"):
            row["gb_s"] = round(m * size / 1e9, 3)
        row.update({"load_s": round(load_s, 3),
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                    "kv": "f16", "flash_attn": a.fa, "threadpool": bool(tp and tp.tp)})
        if extra:
            row.update(extra)
        print(json.dumps(row), flush=True)

    for t in threads:
        cp = L.llama_context_default_params()
        cp.n_ctx = n_ctx
        cp.n_batch = max(2048, max_p)
        cp.n_ubatch = max(512, max_p)
        cp.n_threads = t
        cp.n_threads_batch = t
        cp.flash_attn_type = fa
        cp.type_k = L.GGML_TYPE_F16
        cp.type_v = L.GGML_TYPE_F16
        cp.no_perf = True
        ctx = L.llama_init_from_model(model, cp)
        if not ctx:
            print("llama_cpp_bench: cannot create a context", file=sys.stderr)
            return 1
        if tp:
            tp.attach(ctx, t)
        mem = L.llama_get_memory(ctx)

        def decode(offset, n):
            batch = L.llama_batch_get_one(ptrs[offset], n)
            rc = L.llama_decode(ctx, batch)
            if rc != 0:
                raise RuntimeError(f"llama_decode returned {rc}")

        def run_pp(n):
            L.llama_memory_clear(mem, False)
            t0 = time.perf_counter()
            decode(0, n)
            L.llama_synchronize(ctx)
            return n / (time.perf_counter() - t0)

        def run_tg(n):
            L.llama_memory_clear(mem, False)
            decode(0, 1)
            L.llama_synchronize(ctx)
            t0 = time.perf_counter()
            for i in range(1, n + 1):
                decode(i, 1)
                L.llama_synchronize(ctx)
            return n / (time.perf_counter() - t0)

        for p in prompts:
            run_pp(p)  # warm-up
            emit(f"pp{p}", t, [run_pp(p) for _ in range(a.reps)])
        if a.gen > 0:
            run_tg(a.gen)  # warm-up
            xs = [run_tg(a.gen) for _ in range(a.reps)]
            extra = None
            if a.overhead:
                # same Python/ctypes work per token, with a trivial C call instead of llama_decode
                k = 20000
                t0 = time.perf_counter()
                for i in range(k):
                    L.llama_batch_get_one(ptrs[i % 8], 1)
                    L.llama_n_ctx(ctx)
                    L.llama_synchronize(ctx)
                us = (time.perf_counter() - t0) / k * 1e6
                per_tok_us = 1e6 / (sum(xs) / len(xs))
                extra = {"py_overhead_us": round(us, 2), "py_overhead_pct": round(100 * us / per_tok_us, 4)}
            emit(f"tg{a.gen}", t, xs, extra)
        if tp:
            tp.detach(ctx)
        L.llama_free(ctx)
    L.llama_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
