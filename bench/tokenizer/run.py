#!/usr/bin/env python3
"""run.py — single-thread encode throughput of slm vs Hugging Face `tokenizers`, per family.

    .venv/bin/python bench/tokenizer/run.py [--mb 2] [--repeat 5] [--binary PATH] [--no-write]

Generates a deterministic text (a fixed seed; ~60% English-like prose, ~25% code, ~15%
multilingual text and emoji, in paragraphs separated by blank lines), then for each tokenizer
family encodes it with slm (bench_tokenizer, a Release build made in build/bench-tokenizer unless
--binary is given) and with Hugging Face `tokenizers` (Tokenizer.encode, one thread:
RAYON_NUM_THREADS=1), in two modes: the whole text in one call, and one call per paragraph.
Each figure is the best of --repeat runs, timed in process CPU time on both sides (so other
load on a shared machine does not count). The ids must agree (same count and checksum), or the
script stops. Writes bench/tokenizer/RESULTS.md with the date and the machine.

Families: SentencePiece BPE (TinyLlama, tests/fixtures/models/tinyllama), byte-level BPE
(GPT-2, rebuilt from tests/fixtures/models/smollm2 as tests/fixtures/tokenizers/variants.json
says) and WordPiece (BERT uncased, tests/fixtures/models/distilbert_sst2).
"""

import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers starts its thread pool
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse
import datetime
import json
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_tokenizer_fixtures import apply_variant  # noqa: E402  (the fixtures' variant builder)

PROSE_WORDS = (
    "the of and to a in is it you that he was for on are with as I his they be at one have this "
    "from or had by hot word but what some we can out other were all there when up use your how "
    "said an each she which do their time if will way about many then them write would like so "
    "these her long make thing see him two has look more day could go come did number sound no "
    "most people my over know water than call first who may down side been now find any new "
    "work part take get place made live where after back little only round man year came show "
    "every good me give our under name very through just form sentence great think say help low "
    "line differ turn cause much mean before move right boy old too same tell does set three "
    "want air well also play small end put home read hand port large spell add even land here "
    "must big high such follow act why ask men change went light kind off need house picture "
    "try us again animal point mother world near build self earth father head stand own page "
    "should country found answer school grow study still learn plant cover food sun four "
    "between state keep eye never last let thought city tree cross farm hard start might story "
    "saw far sea draw left late run don't while press close night real life few north tokenizer "
    "inference engine model language attention transformer vocabulary throughput benchmark"
).split()
CODE_NAMES = ["i", "n", "count", "buf", "self", "x_max", "ptr", "tokenizer", "result", "items",
              "config", "path", "value", "key", "node", "left", "right", "offset", "len", "data"]
MULTILINGUAL = [
    "Le café est très bon, n'est-ce pas ? Déjà vu à la fenêtre.",
    "Über den Wolken muss die Freiheit wohl grenzenlos sein. Straße, Größe, schön.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "我们今天去公园散步，天气非常好。人工智能正在改变世界。",
    "今日は良い天気ですね。東京タワーに行きましょう。",
    "안녕하세요, 만나서 반갑습니다. 오늘 날씨가 좋네요.",
    "مرحبا بالعالم، كيف حالك اليوم؟",
    "नमस्ते दुनिया, आप कैसे हैं? यह एक परीक्षण है।",
    "Γειά σου Κόσμε, τι κάνεις σήμερα;",
    "Emoji time 😀🎉👍🏽 ❤️ 🚀✨ — done ✅",
    "Tiếng Việt có dấu: Xin chào thế giới!",
    "¿Dónde está la biblioteca? ¡Vamos ahora!",
]


def prose_paragraph(rng):
    sentences = []
    for _ in range(rng.randint(2, 7)):
        words = [rng.choice(PROSE_WORDS) for _ in range(rng.randint(5, 22))]
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words)), str(rng.randint(1, 2025)))
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] += ","
        s = " ".join(words)
        sentences.append(s[0].upper() + s[1:] + rng.choice([".", ".", ".", "!", "?"]))
    return " ".join(sentences)


def code_paragraph(rng):
    lines = []
    indent = ""
    for _ in range(rng.randint(3, 12)):
        a, b, c = (rng.choice(CODE_NAMES) for _ in range(3))
        line = rng.choice([
            f"{a} = {b}({c}, {rng.randint(0, 99)})",
            f"if {a} > {b}:", f"for {a} in range({b}):", f"return {a} + {b} * {c}",
            f"{a}.{b} = {c}[{rng.randint(0, 9)}]  # update the {b}",
            f"int {a} = {b}->{c} + {rng.randint(0, 255)};", f"while ({a} < {b}) {{ {a}++; }}",
            f"print(f\"{{{a}}}: {{{b}!r}}\")", f"// {a} holds the {b} of {c}",
        ])
        lines.append(indent + line)
        indent = "    " * rng.randint(0, 2)
    return "\n".join(lines)


def make_text(mb, seed=1234):
    rng = random.Random(seed)
    parts, size = [], 0
    while size < mb * 1_000_000:
        r = rng.random()
        if r < 0.6:
            p = prose_paragraph(rng)
        elif r < 0.85:
            p = code_paragraph(rng)
        else:
            p = " ".join(rng.choice(MULTILINGUAL) for _ in range(rng.randint(1, 4)))
        parts.append(p)
        size += len(p.encode("utf-8")) + 2
    return "\n\n".join(parts) + "\n"


def chunks(text):
    """Paragraphs with their separators, as bench_tokenizer --chunks cuts them."""
    out, at = [], 0
    while at < len(text):
        end = text.find("\n\n", at)
        end = len(text) if end < 0 else end + 2
        out.append(text[at:end])
        at = end
    return out


def checksum(ids):
    return sum(i * (k % 1000 + 1) for k, i in enumerate(ids))


def hf_bench(tok_dir, text, chunked, repeat):
    tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    pieces = chunks(text) if chunked else [text]
    best, ids = 1e30, []
    for _ in range(repeat):
        t0 = time.process_time()
        encs = [tok.encode(p, add_special_tokens=False) for p in pieces]
        best = min(best, time.process_time() - t0)
    for e in encs:
        ids.extend(e.ids)
    return len(text.encode("utf-8")) / best / 1e6, len(ids), checksum(ids)


def slm_bench(binary, tok_dir, text_path, chunked, repeat):
    cmd = [binary, tok_dir, text_path, "--repeat", str(repeat)] + (["--chunks"] if chunked else [])
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return r["mb_per_s"], r["tokens"], r["checksum"]


def build_binary():
    build = os.path.join(ROOT, "build", "bench-tokenizer")
    subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                    "-DSLM_BUILD_TESTS=OFF"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", build, "--target", "bench_tokenizer", "-j2"], check=True,
                    capture_output=True)
    return os.path.join(build, "bench_tokenizer")


def gpt2_dir(tmp):
    """GPT-2's tokenizer.json, rebuilt from the smollm2 folder as the fixtures do."""
    with open(os.path.join(ROOT, "tests", "fixtures", "tokenizers", "variants.json")) as f:
        v = json.load(f)["gpt2"]
    with open(os.path.join(ROOT, v["base"], "tokenizer.json"), encoding="utf-8") as f:
        j = apply_variant(json.load(f), v)
    d = os.path.join(tmp, "gpt2")
    os.makedirs(d)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    shutil.copy(os.path.join(ROOT, "tests", "fixtures", "tokenizers", v["config"]), d)
    return d


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=2.0, help="size of the generated text")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--binary", help="bench_tokenizer to use (default: build a Release one)")
    ap.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = ap.parse_args()
    binary = args.binary or build_binary()
    text = make_text(args.mb)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        text_path = os.path.join(tmp, "bench.txt")
        with open(text_path, "w", encoding="utf-8") as f:
            f.write(text)
        families = [("SentencePiece BPE", "TinyLlama",
                     os.path.join(ROOT, "tests", "fixtures", "models", "tinyllama")),
                    ("byte-level BPE", "GPT-2", gpt2_dir(tmp)),
                    ("WordPiece", "BERT uncased (DistilBERT SST-2)",
                     os.path.join(ROOT, "tests", "fixtures", "models", "distilbert_sst2"))]
        for family, name, d in families:
            for chunked in (False, True):
                s = slm_bench(binary, d, text_path, chunked, args.repeat)
                h = hf_bench(d, text, chunked, args.repeat)
                if s[1:] != h[1:]:
                    raise SystemExit(f"{name}: slm and Hugging Face ids differ "
                                     f"({s[1]} vs {h[1]} tokens)")
                mode = "per paragraph" if chunked else "whole text"
                rows.append((family, name, mode, s[0], h[0], s[1]))
                print(f"{family:18} {name:32} {mode:14} slm {s[0]:7.2f} MB/s  "
                      f"HF {h[0]:6.2f} MB/s  x{s[0] / h[0]:.2f}  ({s[1]} tokens, ids identical)")
    if args.no_write:
        return 0
    size = len(text.encode("utf-8"))
    lines = ["# Tokenizer encode throughput: slm vs Hugging Face `tokenizers`", "",
             f"- Date: {datetime.date.today().isoformat()}",
             f"- Machine: {machine()}",
             f"- Hugging Face tokenizers {tokenizers.__version__} (Python {platform.python_version()},"
             " `Tokenizer.encode`, RAYON_NUM_THREADS=1); slm: Release build of bench_tokenizer",
             f"- Text: {size / 1e6:.2f} MB generated by bench/tokenizer/run.py (seed 1234): ~60% "
             "English-like prose, ~25% code, ~15% multilingual text and emoji",
             f"- Single thread, no special tokens, best of {args.repeat} runs in process CPU time; "
             "\"per paragraph\" "
             "encodes each blank-line-separated paragraph with its own call",
             "- In every row slm's ids equal Hugging Face's (same count and checksum)", "",
             "| family | tokenizer | mode | slm MB/s | HF MB/s | slm / HF | tokens |",
             "|---|---|---|---:|---:|---:|---:|"]
    for family, name, mode, s, h, n in rows:
        lines.append(f"| {family} | {name} | {mode} | {s:.2f} | {h:.2f} | {s / h:.2f}x | {n} |")
    with open(os.path.join(HERE, "RESULTS.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n\n_Regenerate with `.venv/bin/python bench/tokenizer/run.py`._\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
