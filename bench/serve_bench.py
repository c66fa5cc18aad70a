#!/usr/bin/env python3
"""serve_bench.py — `slm serve` against llama.cpp's llama-server: throughput and
latency of the OpenAI-compatible endpoint at several concurrencies, on the
same weights (bench/README.md, "Server benchmark").

    build/venv/bin/python bench/serve_bench.py --format q4_0 \\
        --llama-server /tmp/llbuild/bin/llama-server [--slm build/release/slm]

For each engine in turn (never both at once): start the server on a free
loopback port (2 threads, --parallel = the largest concurrency, f16 KV cache,
weights read in), wait for /health, send 2 warm-up requests, then for each
concurrency C send a fixed number of requests from C client tasks, each
taking the next request as soon as its previous one ended (closed loop), and
stop the server (SIGTERM). Every request is POST /v1/completions with a
prompt of its own (no request shares more than a few tokens with another, so
no prompt cache helps), the same list of prompts for both engines,
temperature 0, max_tokens fixed, "stream": true with
stream_options.include_usage.

Per (engine, concurrency):
  requests/s      requests / wall time (first send to last answer)
  gen tok/s       sum of usage.completion_tokens / wall time (aggregate)
  TTFT p50/p99    send -> first chunk with non-empty text, over the requests
                  (nearest-rank percentiles; with 4-16 requests p99 is the max)
  e2e p50         send -> end of stream
Writes OUT/results.json (every request's numbers too) and OUT/report.md (the
table), OUT default bench/out/serve-<format>-<date-time>/.

The slm side loads the bf16 folder and quantizes at load (--weights FORMAT);
llama.cpp loads the GGUF of that format (tools/make_random_model.py writes
both from the same values). Standard library + httpx (build/venv).
"""
import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "bench" / "models"
WORDS = ("the a little big old new red blue green quick slow happy sad bright dark "
         "cat dog bird fish tree river mountain city house garden road ship train "
         "runs jumps sings reads writes builds finds loses opens closes watches "
         "under over near behind across through before after because while and "
         "but so then again always never often sometimes today tomorrow yesterday "
         "music story letter window door table chair book paper stone cloud rain "
         "summer winter morning evening night light water fire wind earth").split()


def prompt_text(i, n_words):
    """Request i's prompt: its number first, then words drawn from a seed of its own."""
    rng = random.Random(1000 + i)
    return f"Request {i}: " + " ".join(rng.choice(WORDS) for _ in range(n_words))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_busy(seconds=1.0):
    """Whole-machine CPU use in percent over the next `seconds`."""
    def snap():
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(f), f[3] + f[4]
    t0, i0 = snap()
    time.sleep(seconds)
    t1, i1 = snap()
    return round(100.0 * (1 - (i1 - i0) / max(1, t1 - t0)))


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


class ServerProc:
    def __init__(self, name, cmd, port, log_path, env):
        self.name = name
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.log = open(log_path, "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        self.cmd = cmd
        deadline = t0 + 600
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.proc.returncode}; log {log_path}:\n"
                                   + Path(log_path).read_text(errors="replace")[-3000:])
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not healthy after 600 s; log {log_path}")
            time.sleep(0.2)
        self.load_s = time.monotonic() - t0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


async def one_request(client, base, prompt, max_tokens):
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "seed": 1,
            "stream": True, "stream_options": {"include_usage": True}}
    t0 = time.monotonic()
    ttft = None
    usage = None
    text = []
    finish = None
    async with client.stream("POST", base + "/v1/completions", json=body) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"status {resp.status_code}: {(await resp.aread())[:300]!r}")
        async for line in resp.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                continue   # read on to the end of the body: closing early is a 499
            chunk = json.loads(data)
            for ch in chunk.get("choices") or []:
                piece = ch.get("text") or ""
                if piece and ttft is None:
                    ttft = time.monotonic() - t0
                text.append(piece)
                finish = ch.get("finish_reason") or finish
            if chunk.get("usage"):
                usage = chunk["usage"]
    e2e = time.monotonic() - t0
    if usage is None:
        raise RuntimeError("the stream carried no usage")
    return {"ttft_s": ttft if ttft is not None else e2e, "e2e_s": e2e,
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"], "finish_reason": finish,
            "text": "".join(text)}


async def run_level(base, prompts, concurrency, max_tokens):
    queue = list(enumerate(prompts))
    results = [None] * len(prompts)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=httpx.Timeout(600.0), limits=limits) as client:
        async def worker():
            while queue:
                i, p = queue.pop(0)
                results[i] = await one_request(client, base, p, max_tokens)
        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.monotonic() - t0
    gen = sum(r["completion_tokens"] for r in results)
    ttft = [r["ttft_s"] for r in results]
    return {
        "concurrency": concurrency, "requests": len(prompts), "wall_s": round(wall, 3),
        "requests_per_s": round(len(prompts) / wall, 3),
        "gen_tokens": gen, "gen_tok_per_s": round(gen / wall, 2),
        "prompt_tokens_mean": round(statistics.mean(r["prompt_tokens"] for r in results), 1),
        "completion_tokens_mean": round(gen / len(results), 1),
        "ttft_p50_s": round(pct(ttft, 50), 3), "ttft_p99_s": round(pct(ttft, 99), 3),
        "e2e_p50_s": round(pct([r["e2e_s"] for r in results], 50), 3),
        "per_request": results,
    }


def server_cmd(engine, args, port):
    par = str(max(args.concurrency))
    t = str(args.threads)
    if engine == "slm":
        return [args.slm, "serve", "-m", str(MODELS / "tinyllama-1.1b"), "--weights", args.format,
                "--kv", "f16", "-t", t, "--threads-batch", t, "--parallel", par,
                "--queue", "256", "--ctx", str(args.ctx), "--port", str(port), "--no-mmap"]
    return [args.llama_server, "-m", str(MODELS / f"tinyllama-1.1b-{args.format}.gguf"),
            "-t", t, "-tb", t, "-np", par, "-c", str(args.ctx * max(args.concurrency)),
            "--host", "127.0.0.1", "--port", str(port), "-lm", "none", "--no-webui",
            "-ctk", "f16", "-ctv", "f16"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--format", default="q4_0", choices=["q4_0", "q8_0", "bf16", "f16", "f32"])
    ap.add_argument("--engines", default="slm,llama")
    ap.add_argument("--concurrency", default="1,4,8")
    ap.add_argument("--requests", default="4,8,16", help="requests per concurrency, same order")
    ap.add_argument("--prompt-words", type=int, default=72, help="words per prompt (~100 tokens)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=512, help="context per slot")
    ap.add_argument("--slm", default=str(ROOT / "build" / "release" / "slm"))
    ap.add_argument("--llama-server", default="llama-server")
    ap.add_argument("--out")
    ap.add_argument("--note", default="", help="free text stored in results.json")
    args = ap.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    counts = [int(c) for c in args.requests.split(",")]
    if len(counts) != len(args.concurrency):
        ap.error("--requests needs one count per --concurrency")
    engines = args.engines.split(",")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or ROOT / "bench" / "out" / f"serve-{args.format}-{stamp}")
    out.mkdir(parents=True, exist_ok=True)

    # the same prompts for both engines: 2 warm-up, then each level's own
    n_total = 2 + sum(counts)
    prompts = [prompt_text(i, args.prompt_words) for i in range(n_total)]
    warm, levels, k = prompts[:2], [], 2
    for c in counts:
        levels.append(prompts[k:k + c])
        k += c

    env = dict(os.environ)
    report = {
        "date_utc": stamp, "format": args.format, "threads": args.threads,
        "max_tokens": args.max_tokens, "prompt_words": args.prompt_words,
        "concurrency": args.concurrency, "requests": counts,
        "OPENBLAS_CORETYPE": env.get("OPENBLAS_CORETYPE"), "note": args.note,
        "cpu": next((l.split(":", 1)[1].strip() for l in
                     subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                     if l.startswith("Model name")), "?"),
        "engines": {},
    }
    for engine in engines:
        port = free_port()
        cmd = server_cmd(engine, args, port)
        busy = cpu_busy()
        print(f"serve_bench: {engine}: starting ({' '.join(cmd)}); machine busy {busy}% before",
              file=sys.stderr)
        srv = ServerProc(engine, cmd, port, out / f"{engine}.log", env)
        print(f"serve_bench: {engine}: ready in {srv.load_s:.1f} s", file=sys.stderr)
        rows = []
        try:
            for p in warm:
                asyncio.run(run_level(srv.base, [p], 1, args.max_tokens))
            for c, ps in zip(args.concurrency, levels):
                row = asyncio.run(run_level(srv.base, ps, c, args.max_tokens))
                rows.append(row)
                print(f"serve_bench: {engine} c={c}: {row['requests_per_s']} req/s, "
                      f"{row['gen_tok_per_s']} gen tok/s, TTFT p50 {row['ttft_p50_s']} s "
                      f"p99 {row['ttft_p99_s']} s, e2e p50 {row['e2e_p50_s']} s "
                      f"({row['completion_tokens_mean']} tokens/request)", file=sys.stderr)
        finally:
            srv.stop()
        report["engines"][engine] = {"cmd": cmd, "load_s": round(srv.load_s, 1),
                                     "busy_before_pct": busy, "levels": rows}

    (out / "results.json").write_text(json.dumps(report, indent=1))
    md = [f"TinyLlama-1.1B shape, {args.format}, {args.threads} threads, prompts ~"
          f"{report['engines'][engines[0]]['levels'][0]['prompt_tokens_mean']:.0f} tokens, "
          f"max_tokens {args.max_tokens}, temperature 0, streamed; "
          f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE') or 'unset'}", "",
          "| engine | concurrency | requests | req/s | gen tok/s | TTFT p50 s | TTFT p99 s "
          "| e2e p50 s | tokens/req |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for engine in engines:
        for r in report["engines"][engine]["levels"]:
            md.append(f"| {'slm serve' if engine == 'slm' else 'llama-server'} | "
                      f"{r['concurrency']} | {r['requests']} | {r['requests_per_s']:.2f} | "
                      f"{r['gen_tok_per_s']:.1f} | {r['ttft_p50_s']:.2f} | {r['ttft_p99_s']:.2f} "
                      f"| {r['e2e_p50_s']:.2f} | {r['completion_tokens_mean']:.0f} |")
    if set(engines) == {"slm", "llama"}:
        md += ["", "| concurrency | slm/llama gen tok/s | slm/llama TTFT p50 (< 1: slm faster) |",
               "|---:|---:|---:|"]
        for a, b in zip(report["engines"]["slm"]["levels"], report["engines"]["llama"]["levels"]):
            md.append(f"| {a['concurrency']} | {a['gen_tok_per_s'] / b['gen_tok_per_s']:.2f} | "
                      f"{a['ttft_p50_s'] / b['ttft_p50_s']:.2f} |")
    (out / "report.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    print(f"serve_bench: wrote {out}/results.json and report.md", file=sys.stderr)


if __name__ == "__main__":
    main()
