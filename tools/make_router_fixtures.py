#!/usr/bin/env python3
"""
make_router_fixtures.py — writes tests/fixtures/router/probs.json, the golden
probabilities tests/test_router_classifier.c compares slm's forward pass
with: transformers' softmax (float64 of the float32 logits) of
weights/router on the first N queries of the test split (default 96),
each query encoded alone with truncation=True (no padding).

Usage: .venv/bin/python tools/make_router_fixtures.py [--n 96]
"""
import argparse
import json
import os

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=96)
    ap.add_argument("--model", default=os.path.join(ROOT, "weights", "router"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "router",
                                                  "probs.json"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    with open(os.path.join(HERE, "data", "router", "test.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][:a.n]
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForSequenceClassification.from_pretrained(a.model).float().eval()
    queries = []
    with torch.no_grad():
        for r in rows:
            enc = tok(r["text"], truncation=True, return_tensors="pt")
            logits = model(**enc).logits[0]
            p = torch.softmax(logits.double(), -1).tolist()
            queries.append(dict(text=r["text"], label=r["label"], ids=enc["input_ids"][0].tolist(),
                                logits=logits.tolist(), probs=p))
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(dict(model="weights/router", source="tools/data/router/test.jsonl",
                       transformers=transformers.__version__, torch=torch.__version__,
                       labels=[model.config.id2label[i] for i in range(2)], queries=queries),
                  f, ensure_ascii=False, indent=1)
    print(f"wrote {a.out}: {len(queries)} queries")


if __name__ == "__main__":
    main()
