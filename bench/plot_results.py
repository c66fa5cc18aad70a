#!/usr/bin/env python3
"""Plots bench/compare.sh results: tok/s per weight format and phase, slm vs llama.cpp.

  .venv/bin/python bench/plot_results.py bench/out/<run>/results.jsonl [-o bench/results.png]

One column per test (pp128, pp512, tg64), one row per (OPENBLAS setting, thread count);
in each panel, bars per format for slm and llama.cpp with their stddev, and the
slm/llama.cpp ratio written above each pair.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FORMAT_ORDER = ["f32", "f16", "bf16", "q8_0", "q4_0"]
ENGINES = [("slm", "#1f77b4"), ("llama.cpp", "#ff7f0e")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="results.jsonl written by bench/compare.sh")
    ap.add_argument("-o", "--output", default=str(Path(__file__).resolve().parent / "results.png"))
    a = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(l) for l in Path(a.results).read_text().splitlines() if l.strip().startswith("{")]
    rows = [r for r in rows if "tok_s" in r]
    if not rows:
        raise SystemExit("plot_results: no tok/s rows in " + a.results)
    tests = sorted({r["test"] for r in rows}, key=lambda t: (t.startswith("tg"), int(t[2:])))
    groups = sorted({(r.get("openblas", "?"), r["threads"]) for r in rows})
    formats = [f for f in FORMAT_ORDER if any(r["format"] == f for r in rows)]
    formats += sorted({r["format"] for r in rows} - set(formats))
    idx = {(r.get("openblas", "?"), r["threads"], r["test"], r["format"], r["engine"]): r for r in rows}

    fig, axes = plt.subplots(len(groups), len(tests), figsize=(4.2 * len(tests), 3.2 * len(groups)),
                             squeeze=False)
    width = 0.38
    for gi, (env, threads) in enumerate(groups):
        for ti, test in enumerate(tests):
            ax = axes[gi][ti]
            for ei, (eng, color) in enumerate(ENGINES):
                xs, ys, es = [], [], []
                for fi, f in enumerate(formats):
                    r = idx.get((env, threads, test, f, eng))
                    if r:
                        xs.append(fi + (ei - 0.5) * width)
                        ys.append(r["tok_s"])
                        es.append(r.get("stddev", 0))
                ax.bar(xs, ys, width, yerr=es, color=color, label=eng, capsize=2)
            top = ax.get_ylim()[1]
            for fi, f in enumerate(formats):
                s, l = idx.get((env, threads, test, f, "slm")), idx.get((env, threads, test, f, "llama.cpp"))
                if s and l and l["tok_s"] > 0:
                    ax.text(fi, max(s["tok_s"], l["tok_s"]) + 0.03 * top, f"{s['tok_s'] / l['tok_s']:.2f}x",
                            ha="center", va="bottom", fontsize=8)
            ax.set_ylim(0, top * 1.15)
            ax.set_xticks(range(len(formats)), formats)
            ax.set_xlim(-0.6, len(formats) - 0.4)
            env_label = "OPENBLAS_CORETYPE=Haswell" if env == "haswell" else "OPENBLAS_CORETYPE unset" \
                if env == "unset" else env
            ax.set_title(f"{test}, {threads} thread{'s' if threads > 1 else ''}\n{env_label}", fontsize=9)
            if ti == 0:
                ax.set_ylabel("tok/s")
            ax.grid(axis="y", alpha=0.3)
            if gi == 0 and ti == 0:
                ax.legend(fontsize=8)
    fig.suptitle("TinyLlama-1.1B shape (random weights): slm vs llama.cpp, tok/s (ratio = slm/llama.cpp)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(a.output, dpi=110)
    print(f"plot_results: wrote {a.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
