#!/usr/bin/env bash
# compare.sh — slm vs llama.cpp, side by side, on the same random-weight TinyLlama-1.1B
# shape and the same weight format; plus DistilBERT-base classification, slm vs PyTorch
# (and ONNX Runtime when it is installed). See bench/README.md.
#
#   bench/compare.sh                     # formats bf16,f16,q8_0,q4_0,f32 x threads 1,2, r=5
#   bench/compare.sh --quick             # smoke test: one format (q4_0), r=2
#   bench/compare.sh --formats bf16,q4_0 --threads 2 --reps 3
#
# Options:
#   --quick            one format (the first of --formats, default q4_0), -r 2
#   --formats LIST     subset of bf16,f16,q8_0,q4_0,f32
#   --threads LIST     default 1,2
#   --reps N           repetitions per test (default 5)
#   --envs LIST        OPENBLAS_CORETYPE settings to run: haswell,unset (default both)
#   --llama-only       run without slm, no build (for testing this script before `slm bench` exists)
#   --no-bert          skip the DistilBERT section
#   --out DIR          output folder (default bench/out/<date-time>)
#   --max-wait S       before each run, wait up to S seconds (default 60) for the machine to be
#                      idle (< 15% CPU busy over 1 s; other sessions share it); 0 = no waiting
#
# Outputs in DIR: results.jsonl (every JSON line of both engines, tagged with "openblas"),
# membw.json, bert.jsonl, report.md (the tables printed at the end), results.png.
# The last line printed is:  slm/llama.cpp: decode min X.XX, prefill min Y.YY
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
SLM=$ROOT/build/release/slm
MODEL_DIR=bench/models/tinyllama-1.1b
BERT_DIR=bench/models/distilbert-base-sst2

formats=bf16,f16,q8_0,q4_0,f32
threads=1,2
reps=5
envs=haswell,unset
quick=0
llama_only=0
bert=1
out=""
formats_given=0
max_wait=60
idle_max=15

die() { echo "compare.sh: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --formats) formats=$2; formats_given=1; shift ;;
    --threads) threads=$2; shift ;;
    --reps) reps=$2; shift ;;
    --envs) envs=$2; shift ;;
    --llama-only) llama_only=1 ;;
    --no-bert) bert=0 ;;
    --out) out=$2; shift ;;
    --max-wait) max_wait=$2; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  [ $formats_given = 1 ] && formats=${formats%%,*} || formats=q4_0
  reps=2
fi
for f in ${formats//,/ }; do
  case $f in bf16|f16|q8_0|q4_0|f32) ;; *) die "unknown format $f" ;; esac
done
for e in ${envs//,/ }; do
  case $e in haswell|unset) ;; *) die "unknown env $e (haswell or unset)" ;; esac
done
[ -x "$PY" ] || die "no Python at $PY (create the venv: python3 -m venv .venv && .venv/bin/pip install -r tools/requirements.txt)"
"$PY" -c "import llama_cpp" 2>/dev/null ||
  die "llama-cpp-python is not installed: CMAKE_ARGS=\"-DGGML_NATIVE=ON\" $PY -m pip install llama-cpp-python==0.3.36"

out=${out:-bench/out/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
: > "$out/results.jsonl"
: > "$out/bert.jsonl"
log() { echo "== $*" >&2; }

# Runs a command with OPENBLAS_CORETYPE=Haswell or with it (and OPENBLAS_L2_SIZE) unset.
with_env() {
  local e=$1; shift
  if [ "$e" = haswell ]; then
    env OPENBLAS_CORETYPE=Haswell "$@"
  else
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"
  fi
}

# CPU % used on the whole machine over the last second (other sessions share it: a high
# value means the measurement that follows may be noisy). Recorded in every row.
busy_pct() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

# Waits (at most max_wait s) until the machine is nearly idle; echoes the last busy %.
wait_idle() {
  local waited=0 b
  while :; do
    b=$(busy_pct)
    if [ "$b" -le "$idle_max" ] || [ "$waited" -ge "$max_wait" ]; then
      [ "$b" -gt "$idle_max" ] && echo "   warning: machine still ${b}% busy after ${waited}s; measuring anyway" >&2
      echo "$b"; return
    fi
    waited=$((waited + 1))
  done
}

# Appends the JSON lines of stdin to file $3, tagged with env and machine load.
tag() { sed -u -n "s/^{/{\"openblas\":\"$1\",\"pre_busy_pct\":$2,/p" | tee -a "$3"; }

# ------------------------------------------------------------------ 1. build slm
if [ $llama_only = 0 ]; then
  log "building slm (make build)"
  make build >"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; die "make build failed (log: $out/build.log)"; }
fi

# ------------------------------------------------------------------ 2. models
log "models (tools/make_random_model.py; skips files that exist)"
"$PY" tools/make_random_model.py --models tinyllama,distilbert --formats "$formats" | grep -v '^  exists' >&2

# ------------------------------------------------------------------ 3. memory bandwidth
log "memory read bandwidth (bench/membw.c)"
gcc -O3 -march=native -fopenmp bench/membw.c -o "$out/membw" || die "cannot build bench/membw.c"
"$out/membw" ${threads//,/ } | tee "$out/membw.json" >&2

# ------------------------------------------------------------------ 4. slm bench available?
if [ $llama_only = 0 ]; then
  if ! "$SLM" bench --help >/dev/null 2>&1; then
    die "'$SLM bench' is not available (the slm bench command is missing or failed to build);
       run with --llama-only to measure llama.cpp alone"
  fi
fi

# ------------------------------------------------------------------ 5. LLM: alternate engines
for e in ${envs//,/ }; do
  for f in ${formats//,/ }; do
    for t in ${threads//,/ }; do
      if [ $llama_only = 0 ]; then
        log "[OPENBLAS_CORETYPE=$e] slm $f t=$t"
        b=$(wait_idle)
        with_env "$e" "$SLM" bench -m "$MODEL_DIR" -p 128,512 -n 64 -t "$t" --weights "$f" -r "$reps" -o json \
          | tag "$e" "$b" "$out/results.jsonl" >&2 || die "slm bench failed ($f, t=$t)"
      fi
      log "[OPENBLAS_CORETYPE=$e] llama.cpp $f t=$t"
      b=$(wait_idle)
      with_env "$e" "$PY" bench/llama_cpp_bench.py -m "bench/models/tinyllama-1.1b-$f.gguf" -p 128,512 -n 64 \
        -t "$t" -r "$reps" | tag "$e" "$b" "$out/results.jsonl" >&2 || die "llama_cpp_bench.py failed ($f, t=$t)"
    done
  done
done

# ------------------------------------------------------------------ 6. DistilBERT classification
if [ $bert = 1 ]; then
  bert_reps=$([ $quick = 1 ] && echo 3 || echo 10)
  for e in ${envs//,/ }; do
    for t in ${threads//,/ }; do
      if [ $llama_only = 0 ]; then
        # slm side: `slm bench` on a sequence-classification folder, if that mode exists
        # (expected rows: "test":"cls128", "batch":B, "ms":X per batch).
        log "[OPENBLAS_CORETYPE=$e] slm DistilBERT t=$t"
        b=$(wait_idle)
        if ! with_env "$e" "$SLM" bench -m "$BERT_DIR" -p 128 -b 1,8 -t "$t" -r "$bert_reps" -o json \
             2>"$out/slm_bert.err" | tag "$e" "$b" "$out/bert.jsonl" >&2; then
          echo "   skipped: slm bench has no DistilBERT classification mode yet ($(head -c 200 "$out/slm_bert.err"))" >&2
        fi
      fi
      log "[OPENBLAS_CORETYPE=$e] PyTorch / ONNX Runtime DistilBERT t=$t"
      b=$(wait_idle)
      with_env "$e" "$PY" - "$BERT_DIR" "$t" "$bert_reps" <<'PYEOF' | tag "$e" "$b" "$out/bert.jsonl" >&2
import json, os, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
import torch
from transformers import AutoModelForSequenceClassification
from transformers.utils import logging as hf_logging
hf_logging.disable_progress_bar()
hf_logging.set_verbosity_error()

folder, T, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(T)
L = 128
model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32).eval()
rng = np.random.default_rng(0)

def inputs(B):
    ids = rng.integers(1000, 30000, size=(B, L))
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
    return torch.tensor(ids), torch.ones((B, L), dtype=torch.long)

def timeit(fn):
    fn()  # warm-up
    xs = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); xs.append((time.perf_counter() - t0) * 1e3)
    return float(np.mean(xs)), float(np.std(xs, ddof=1)) if len(xs) > 1 else 0.0

rows = []
for B in (1, 8):
    ids, mask = inputs(B)
    with torch.inference_mode():
        m, s = timeit(lambda: model(input_ids=ids, attention_mask=mask).logits)
    rows.append({"engine": "pytorch", "model": "distilbert-base-sst2", "format": "f32", "threads": T,
                 "test": f"cls{L}", "batch": B, "ms": round(m, 3), "stddev": round(s, 3),
                 "torch": torch.__version__})
try:
    import onnxruntime as ort
    onnx_path = folder.rstrip("/") + ".onnx"  # next to the folder, not in it
    if not os.path.exists(onnx_path):
        ids, mask = inputs(1)
        tmp = onnx_path + ".tmp"
        with torch.inference_mode():
            torch.onnx.export(model, (ids, mask), tmp, input_names=["input_ids", "attention_mask"],
                              output_names=["logits"], dynamo=False, opset_version=17,
                              dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"},
                                            "logits": {0: "b"}})
        os.replace(tmp, onnx_path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = T
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    for B in (1, 8):
        ids, mask = inputs(B)
        feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        ref = model(input_ids=ids, attention_mask=mask).logits.detach().numpy()
        got = sess.run(None, feed)[0]
        m, s = timeit(lambda: sess.run(None, feed))
        rows.append({"engine": "onnxruntime", "model": "distilbert-base-sst2", "format": "f32", "threads": T,
                     "test": f"cls{L}", "batch": B, "ms": round(m, 3), "stddev": round(s, 3),
                     "max_abs_diff_vs_torch": float(np.abs(ref - got).max()), "ort": ort.__version__})
except ImportError:
    print("onnxruntime not installed: skipping it", file=sys.stderr)
except Exception as ex:  # export or session failure: report, keep the PyTorch rows
    print(f"onnxruntime skipped: {type(ex).__name__}: {ex}", file=sys.stderr)
for r in rows:
    print(json.dumps(r))
PYEOF
    done
  done
fi

# ------------------------------------------------------------------ 7. plot and report
log "plot ($out/results.png, copied to bench/results.png)"
if [ -s "$out/results.jsonl" ]; then
  "$PY" bench/plot_results.py "$out/results.jsonl" -o "$out/results.png" >&2 && cp "$out/results.png" bench/results.png ||
    echo "compare.sh: plotting failed (see above)" >&2
fi
log "report ($out/report.md)"
"$PY" - "$out" "$formats" <<'PYEOF' | tee "$out/report.md"
import json, sys
from pathlib import Path

out, formats = Path(sys.argv[1]), sys.argv[2].split(",")
rows = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines() if l.strip()]
bert = [json.loads(l) for l in (out / "bert.jsonl").read_text().splitlines() if l.strip()]
bw = {}
for l in (out / "membw.json").read_text().splitlines():
    if l.strip():
        d = json.loads(l); bw[d["threads"]] = d["gb_s"]

# bytes read per decoded token: every tensor of the GGUF except the embedding table
# (one row of it is read per token); the same matrices in the same format for both engines.
def bytes_per_token(fmt):
    p = Path(f"bench/models/tinyllama-1.1b-{fmt}.gguf")
    if not p.exists():
        return None
    from gguf import GGUFReader
    r = GGUFReader(str(p))
    return sum(int(t.n_bytes) for t in r.tensors if t.name != "token_embd.weight")

bpt = {f: bytes_per_token(f) for f in formats}
idx = {}
for r in rows:
    idx[(r["openblas"], r["format"], r["threads"], r["test"], r["engine"])] = r

def fmt_tps(r):
    return f"{r['tok_s']:.2f} ± {r['stddev']:.2f}" if r else "—"

print("# slm vs llama.cpp — TinyLlama-1.1B shape, random weights\n")
print("Memory read bandwidth (bench/membw.c, best of 5): " +
      ", ".join(f"{t} thread{'s' if t > 1 else ''} {g:.1f} GB/s" for t, g in sorted(bw.items())) + "\n")
envs = []
for r in rows:
    if r["openblas"] not in envs:
        envs.append(r["openblas"])
tests = ["pp128", "pp512", "tg64"]
ratios = []  # (env, fmt, threads, test, ratio)
for e in envs:
    label = "OPENBLAS_CORETYPE=Haswell" if e == "haswell" else "OPENBLAS_CORETYPE unset"
    print(f"## {label}\n")
    print("| format | threads | test | slm tok/s | llama.cpp tok/s | slm/llama.cpp | slm % of BW bound | llama.cpp % of BW bound | busy % before (slm/llama) |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for f in formats:
        for t in sorted({r["threads"] for r in rows}):
            for test in tests:
                s = idx.get((e, f, t, test, "slm"))
                l = idx.get((e, f, t, test, "llama.cpp"))
                if not s and not l:
                    continue
                ratio = s["tok_s"] / l["tok_s"] if s and l and l["tok_s"] > 0 else None
                if ratio is not None:
                    ratios.append((e, f, t, test, ratio))
                fs = fl = ""
                if test.startswith("tg") and bpt.get(f) and t in bw:
                    bound = bw[t] * 1e9 / bpt[f]
                    fs = f"{100 * s['tok_s'] / bound:.0f}%" if s else ""
                    fl = f"{100 * l['tok_s'] / bound:.0f}%" if l else ""
                busy = f"{s['pre_busy_pct'] if s else '—'}/{l['pre_busy_pct'] if l else '—'}"
                print(f"| {f} | {t} | {test} | {fmt_tps(s)} | {fmt_tps(l)} | "
                      f"{f'{ratio:.2f}' if ratio is not None else '—'} | {fs} | {fl} | {busy} |")
    print()
print("BW bound = measured GB/s at that thread count / bytes of all weights except the embedding table "
      "(" + ", ".join(f"{f} {b / 1e9:.2f} GB" for f, b in bpt.items() if b) + "). "
      "'busy % before' is the machine's CPU use in the second before the run (other sessions share it; the script waits up to --max-wait s for < 15%).\n")

if bert:
    print("## DistilBERT-base SST-2 classification (128 tokens), ms per batch\n")
    print("| OPENBLAS | threads | batch | slm ms | PyTorch ms | ONNX Runtime ms | slm/PyTorch speed | slm/ORT speed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    bi = {(r["openblas"], r["engine"], r["threads"], r.get("batch")): r for r in bert}
    keys = sorted({(r["openblas"], r["threads"], r.get("batch")) for r in bert})
    for e, t, b in keys:
        s, p, o = (bi.get((e, eng, t, b)) for eng in ("slm", "pytorch", "onnxruntime"))
        ms = lambda r: f"{r['ms']:.2f} ± {r['stddev']:.2f}" if r else "—"
        sp = lambda a, c: f"{c['ms'] / a['ms']:.2f}" if a and c and a.get("ms") else "—"
        print(f"| {e} | {t} | {b} | {ms(s)} | {ms(p)} | {ms(o)} | {sp(s, p)} | {sp(s, o)} |")
    print("\n(speed ratio > 1: slm is faster)\n")

sel = [x for x in ratios if x[1] in ("bf16", "q8_0", "q4_0") and x[2] == 2]
dec = [x[4] for x in sel if x[3].startswith("tg")]
pre = [x[4] for x in sel if x[3].startswith("pp")]
d = f"{min(dec):.2f}" if dec else "n/a"
p = f"{min(pre):.2f}" if pre else "n/a"
print(f"slm/llama.cpp: decode min {d}, prefill min {p}")
PYEOF

# the report ends with the summary line, so it is the last line printed
