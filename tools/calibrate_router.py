#!/usr/bin/env python3
"""
calibrate_router.py — RouteLLM-style calibration of the router classifier:
the threshold on P(SIMPLE) that keeps a chosen share of queries local (a
query stays local when P(SIMPLE) >= threshold), found on the VALIDATION
split, and the expected cost per 1,000 queries at that share.

Costs use the default prices (remote gpt-4o $2.50 / $10.00 per 1M input /
output tokens, local $0.02 / $0.05) and a fixed token budget per query
(--in-tokens 50, --out-tokens 200), or with --measure-input the mean input
token count of the validation queries under the classifier's tokenizer.

Usage: .venv/bin/python tools/calibrate_router.py [--local-share 0.5]
         [--model weights/router] [--slm build/release/slm]
P(SIMPLE) comes from transformers, or from `slm classify --json` with --slm.
"""
import argparse
import json
import math
import os
import subprocess

REMOTE_IN, REMOTE_OUT = 2.50, 10.00   # $ per 1M tokens (gpt-4o)
LOCAL_IN, LOCAL_OUT = 0.02, 0.05
IN_TOKENS, OUT_TOKENS = 50, 200
HERE = os.path.dirname(os.path.abspath(__file__))


def cost_per_query(remote, n_in=IN_TOKENS, n_out=OUT_TOKENS):
    pin, pout = (REMOTE_IN, REMOTE_OUT) if remote else (LOCAL_IN, LOCAL_OUT)
    return (n_in * pin + n_out * pout) / 1e6


def threshold_for_share(p_simple, share):
    """Smallest threshold keeping ceil(share * n) queries local (P >= threshold)."""
    s = sorted(p_simple, reverse=True)
    k = max(1, min(len(s), math.ceil(share * len(s))))
    return float(s[k - 1])


def calibrate(p_simple, share, n_in=IN_TOKENS, n_out=OUT_TOKENS):
    t = threshold_for_share(p_simple, share)
    local = sum(1 for p in p_simple if p >= t) / len(p_simple)
    cost = 1000 * (local * cost_per_query(False, n_in, n_out)
                   + (1 - local) * cost_per_query(True, n_in, n_out))
    return dict(share=share, threshold=t, actual_local_share=local, cost_per_1k=cost,
                remote_cost_per_1k=1000 * cost_per_query(True, n_in, n_out))


def table(p_simple, shares, n_in=IN_TOKENS, n_out=OUT_TOKENS):
    return [calibrate(p_simple, s, n_in, n_out) for s in shares]


def validation_rows():
    with open(os.path.join(HERE, "data", "router", "validation.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def p_simple_transformers(model_dir, texts):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    simple = model.config.label2id["SIMPLE"]
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), 64):
            enc = tok(texts[i:i + 64], truncation=True, padding=True, return_tensors="pt")
            out += torch.softmax(model(**enc).logits.double(), -1)[:, simple].tolist()
    return out


def p_simple_slm(slm, model_dir, texts):
    out = []
    for i in range(0, len(texts), 200):
        r = subprocess.run([slm, "classify", "-m", model_dir, "--json", "--"] + texts[i:i + 200],
                           capture_output=True, text=True, check=True)
        out += [json.loads(line)["scores"]["SIMPLE"] for line in r.stdout.splitlines()]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--local-share", type=float, default=0.5,
                    help="share of queries kept local (0..1)")
    ap.add_argument("--model", default=os.path.join(os.path.dirname(HERE), "weights", "router"))
    ap.add_argument("--slm", help="use `slm classify` for P(SIMPLE) instead of transformers")
    ap.add_argument("--in-tokens", type=int, default=IN_TOKENS)
    ap.add_argument("--out-tokens", type=int, default=OUT_TOKENS)
    ap.add_argument("--measure-input", action="store_true",
                    help="input tokens per query = mean tokenized length of the validation split")
    a = ap.parse_args()
    if not 0 < a.local_share <= 1:
        ap.error("--local-share must be in (0, 1]")
    rows = validation_rows()
    texts = [r["text"] for r in rows]
    p = p_simple_slm(a.slm, a.model, texts) if a.slm else p_simple_transformers(a.model, texts)
    n_in = a.in_tokens
    if a.measure_input:
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(a.model)
        n_in = sum(len(tok(t)["input_ids"]) for t in texts) / len(texts)
    c = calibrate(p, a.local_share, n_in, a.out_tokens)
    simple_kept = sum(1 for r, q in zip(rows, p) if q >= c["threshold"] and r["label"] == "SIMPLE")
    n_simple = sum(1 for r in rows if r["label"] == "SIMPLE")
    complex_kept = sum(1 for r, q in zip(rows, p) if q >= c["threshold"] and r["label"] == "COMPLEX")
    print(f"validation queries: {len(rows)} ({n_simple} SIMPLE)")
    print(f"local share {a.local_share:.0%}: threshold P(SIMPLE) >= {c['threshold']:.6f} "
          f"(actual local share {c['actual_local_share']:.1%})")
    print(f"  SIMPLE kept local: {simple_kept}/{n_simple}; COMPLEX kept local: "
          f"{complex_kept}/{len(rows) - n_simple}")
    print(f"expected cost per 1k queries ({n_in:.0f} in / {a.out_tokens} out tokens): "
          f"${c['cost_per_1k']:.4f} vs all remote ${c['remote_cost_per_1k']:.4f} "
          f"({1 - c['cost_per_1k'] / c['remote_cost_per_1k']:.1%} saved)")


if __name__ == "__main__":
    main()
