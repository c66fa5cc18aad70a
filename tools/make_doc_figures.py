#!/usr/bin/env python3
"""make_doc_figures.py — the figures of docs/HOW-IT-WORKS.md, drawn from the code and real runs.

    .venv/bin/python tools/make_doc_figures.py [--slm build/release/slm]
        [--profile FILE --profile-label "what ran"]

Writes docs/figures/:
  attention_mask.png  the causal mask of the bundled model's prompt (pieces from `slm tokenize`)
                      and what one batched step attends to (engine/batch.c, decoder.c)
  q8_0_layout.png     a Q8_0 block and the x8 interleaved group, sizes parsed from
                      kernels/weight.h (SLM_QBLOCK, SLM_Q8_0_BYTES, ...) and checked against
                      the identity pack.c states (16 + 8 * 32 = 8 * 34)
  decode_profile.png  where a decode step spends its time, per operation, from the JSON of
                      `slm run --profile-json FILE` (--profile FILE; its "decode" phase);
                      without a profile file it is not drawn (the script says so): nothing
                      here makes numbers up.
Needs matplotlib (tools/requirements.txt, the project venv .venv).
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "figures"
DPI = 110


# ------------------------------------------------------------------ helpers

def c_defines(path, names):
    """#define NAME <int> values of a C header, every name required."""
    text = path.read_text()
    found = {}
    for name in names:
        m = re.search(rf"^#define\s+{name}\s+(\d+)\b", text, re.M)
        if not m:
            sys.exit(f"make_doc_figures: {path}: no '#define {name} <number>'")
        found[name] = int(m.group(1))
    return found


def prompt_pieces(slm, model, prompt):
    """The prompt's token pieces as the tokenizer spells them (slm tokenize --json)."""
    out = subprocess.run([slm, "tokenize", "-m", str(model), "--json", prompt],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["pieces"]


def greedy_next_piece(slm, model, prompt):
    """The piece greedy decoding adds first (slm run -n 1 --temp 0, re-tokenized)."""
    text = subprocess.run([slm, "run", "-m", str(model), "-p", prompt, "-n", "1", "--temp", "0"],
                          check=True, capture_output=True, text=True).stdout.rstrip("\n")
    before, after = prompt_pieces(slm, model, prompt), prompt_pieces(slm, model, text)
    if after[:len(before)] != before or len(after) != len(before) + 1:
        sys.exit(f"make_doc_figures: '{text}' does not re-tokenize as the prompt + one piece")
    return after[-1]


# ------------------------------------------------------------- (a) attention masks

def draw_mask(ax, n_rows, n_cols, visible, row_labels, col_labels, title):
    """visible(r, c) -> colour or None; a grid of query rows x key columns."""
    for r in range(n_rows):
        for c in range(n_cols):
            colour = visible(r, c)
            ax.add_patch(Rectangle((c, n_rows - 1 - r), 1, 1, facecolor=colour or "white",
                                   edgecolor="#999999", linewidth=0.6))
    ax.set_xlim(0, n_cols)
    ax.set_ylim(0, n_rows)
    ax.set_xticks([c + 0.5 for c in range(n_cols)])
    ax.set_xticklabels(col_labels, rotation=90, fontsize=7)
    ax.set_yticks([n_rows - 1 - r + 0.5 for r in range(n_rows)])
    ax.set_yticklabels(row_labels, fontsize=7)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.tick_params(length=0)


def figure_attention(slm):
    model, prompt = ROOT / "weights" / "stories260K", "Once upon a time"
    pieces = prompt_pieces(slm, model, prompt)
    nxt = greedy_next_piece(slm, model, prompt)
    n = len(pieces)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.5, 4.6), gridspec_kw={"width_ratios": [1, 1.7]})

    # left: the prompt's prefill (one chunk, positions 0..n-1) and the first decode step
    rows = [f"'{p}'  (pos {i})" for i, p in enumerate(pieces)] + [f"'{nxt}'  (pos {n}, sampled)"]
    cols = [f"{i}: '{p}'" for i, p in enumerate(pieces)] + [f"{n}: '{nxt}'"]

    def causal(r, c):
        if c > r:
            return None
        return "#4c72b0" if r < n else "#dd8452"
    draw_mask(a1, n + 1, n + 1, causal, rows, cols,
              f"stories260K, prompt '{prompt}' ({n} ids)\n"
              f"blue: prefill (one chunk of {n} rows); orange: the first decode step,\n"
              f"the greedy pick '{nxt}' at position {n} over the cache and itself")
    a1.set_xlabel("key / value position in the KV cache", fontsize=8)
    a1.set_ylabel("query token", fontsize=8)

    # right: one slm_batch_eval step of three sessions, rows = the step's tokens, columns =
    # each session's own cache positions (attention never crosses sessions)
    seqs = [("A", 3, 4, "#4c72b0"),  # (name, n_past before the step, ids this step, colour)
            ("B", 6, 1, "#dd8452"),
            ("C", 2, 1, "#55a868")]
    col_labels, col_owner = [], []
    for name, past, k, _ in seqs:
        for p in range(past + k):
            col_labels.append(f"{name}{p}")
            col_owner.append((name, p))
    row_labels, row_owner = [], []
    for name, past, k, _ in seqs:
        for t in range(k):
            row_labels.append(f"{name}: pos {past + t}" + ("  (prefill chunk)" if k > 1 else "  (decode)"))
            row_owner.append((name, past + t))
    colour = {name: c for name, _, _, c in seqs}

    def batched(r, c):
        rs, rp = row_owner[r]
        cs, cp = col_owner[c]
        return colour[rs] if rs == cs and cp <= rp else None
    draw_mask(a2, len(row_owner), len(col_owner), batched, row_labels, col_labels,
              "one batched step (slm_batch_eval): A prefills 4 ids after 3 cached,\n"
              "B and C decode one id each; products run on all 6 rows together,\n"
              "attention per session over its own cache")
    a2.set_xlabel("each session's KV cache positions", fontsize=8)
    fig.tight_layout()
    path = OUT / "attention_mask.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


# ------------------------------------------------------------- (b) q8_0 and x8 layouts

def figure_q8_layout():
    d = c_defines(ROOT / "kernels" / "weight.h",
                  ["SLM_QBLOCK", "SLM_Q8_0_BYTES", "SLM_Q4_0_BYTES", "SLM_ACT_Q8_BYTES"])
    qblock, q8_bytes = d["SLM_QBLOCK"], d["SLM_Q8_0_BYTES"]
    scale_bytes = q8_bytes - qblock  # the f16 scale in front of 32 int8 quants
    rows_x8, chunk = 8, 4            # pack.c: X8 rows, 4-byte chunks
    chunks = qblock // chunk
    group_bytes = rows_x8 * scale_bytes + chunks * rows_x8 * chunk
    if group_bytes != rows_x8 * q8_bytes:
        sys.exit(f"make_doc_figures: x8 group of {group_bytes} bytes != 8 x {q8_bytes}: "
                 "pack.c's layout changed, update this figure")

    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(11, 6.4),
                                        gridspec_kw={"height_ratios": [1, 2.6, 1.3]})
    row_colours = plt.cm.tab10.colors

    # one block
    ax1.add_patch(Rectangle((0, 0), scale_bytes, 1, facecolor="#f0c05a", edgecolor="k"))
    ax1.text(scale_bytes / 2, 0.5, "d\nf16", ha="center", va="center", fontsize=7)
    for i in range(qblock):
        ax1.add_patch(Rectangle((scale_bytes + i, 0), 1, 1, facecolor="#9ecae1", edgecolor="k",
                                linewidth=0.5))
        if i % 4 == 0:
            ax1.text(scale_bytes + i + 0.5, 1.15, f"q{i}", ha="center", fontsize=6)
    ax1.set_xlim(-0.5, q8_bytes + 0.5)
    ax1.set_ylim(-0.3, 1.6)
    ax1.axis("off")
    ax1.set_title(f"one Q8_0 block (kernels/weight.h): {qblock} weights in {q8_bytes} bytes = "
                  f"{scale_bytes}-byte f16 scale d + {qblock} int8 q;  w[i] = d * q[i]  "
                  f"({8 * q8_bytes / qblock:.1f} bits/weight)", fontsize=9)

    # row-major rows: 8 rows x 2 blocks
    nb = 2
    for r in range(rows_x8):
        y = rows_x8 - 1 - r
        for b in range(nb):
            x0 = b * (q8_bytes + 1)
            ax2.add_patch(Rectangle((x0, y), scale_bytes, 0.8, facecolor="#f0c05a",
                                    edgecolor=row_colours[r], linewidth=1.2))
            ax2.add_patch(Rectangle((x0 + scale_bytes, y), qblock, 0.8,
                                    facecolor=row_colours[r], alpha=0.35, edgecolor=row_colours[r]))
            for c in range(chunks):
                ax2.plot([x0 + scale_bytes + c * chunk] * 2, [y, y + 0.8], color="white", lw=0.8)
            ax2.text(x0 + scale_bytes + qblock / 2, y + 0.4, f"row {r}, block {b}",
                     ha="center", va="center", fontsize=6)
    ax2.set_xlim(-0.5, nb * (q8_bytes + 1))
    ax2.set_ylim(-0.2, rows_x8)
    ax2.axis("off")
    ax2.set_title("as stored in the file: row-major, each row its blocks in order "
                  "(white ticks: the 4-byte chunks pack.c moves)", fontsize=9)

    # one x8 block group: d[8], then chunk c of rows 0..7
    x = 0.0
    for r in range(rows_x8):
        ax3.add_patch(Rectangle((x, 0), scale_bytes, 1, facecolor="#f0c05a",
                                edgecolor=row_colours[r], linewidth=1.2))
        x += scale_bytes
    ax3.text(rows_x8 * scale_bytes / 2, 1.2, f"d[8]\n{rows_x8 * scale_bytes} B",
             ha="center", fontsize=6)
    for c in range(chunks):
        x0 = x
        for r in range(rows_x8):
            ax3.add_patch(Rectangle((x, 0), chunk, 1, facecolor=row_colours[r], alpha=0.55,
                                    edgecolor="k", linewidth=0.3))
            x += chunk
        ax3.text((x0 + x) / 2, 1.2, f"chunk {c}\nq{chunk * c}-{chunk * c + chunk - 1}",
                 ha="center", fontsize=6)
    ax3.set_xlim(-1, group_bytes + 1)
    ax3.set_ylim(-0.3, 1.9)
    ax3.axis("off")
    ax3.set_title(f"x8 interleaved (kernels/pack.c), block group 0 of rows 0-7 (colours as above): "
                  f"{rows_x8}x{scale_bytes} + {chunks}x{rows_x8}x{chunk} = {group_bytes} bytes "
                  f"= 8 x {q8_bytes}; one 32-byte load = 4 quants of each of the 8 rows",
                  fontsize=9)
    fig.tight_layout()
    path = OUT / "q8_0_layout.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


# ------------------------------------------------------------- (c) decode profile

def figure_profile(profile_path, label):
    """Per-operation time of the decode phase of `slm run --profile-json FILE`."""
    phase = load_decode_phase(profile_path)
    tokens, ops = phase["tokens"], phase["ops"]
    names = [o["op"] for o in ops]
    ms = [o["ms"] / tokens for o in ops]
    fig, ax = plt.subplots(figsize=(8.5, 0.32 * len(ops) + 1.6))
    colours = ["#4c72b0" if "bytes" in o else "#999999" for o in ops]
    ax.barh(range(len(ops)), ms, color=colours)
    for i, o in enumerate(ops):
        note = f"  {ms[i]:.3f} ms  {o['percent']:.1f}%"
        if "bytes" in o and o["ms"] > 0:
            note += f"  {o['gb_s']:.1f} GB/s"
        ax.text(ms[i], i, note, va="center", fontsize=7)
    ax.set_yticks(range(len(ops)))
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(ms) * 1.5)
    ax.set_xlabel("ms per decoded token (blue: matrix products, with the weight bytes they read)",
                  fontsize=8)
    ax.set_title(f"{label}\ndecode: {tokens} tokens, {phase['ms'] / tokens:.2f} ms per token "
                 f"(slm run --profile-json)", fontsize=9)
    fig.tight_layout()
    path = OUT / "decode_profile.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def load_decode_phase(path):
    """The "decode" phase of the last profile in the file (one JSON object per line:
    {"phases": [{"phase", "tokens", "ms", "ops": [{"op", "ms", "percent", ...}]}]}),
    checked, not guessed: another format is an error naming what is missing."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
    if not lines:
        sys.exit(f"make_doc_figures: {path}: empty")
    data = json.loads(lines[-1])
    phases = data.get("phases") if isinstance(data, dict) else None
    if not isinstance(phases, list):
        sys.exit(f"make_doc_figures: {path}: no 'phases' list (has {sorted(data)})")
    decode = [ph for ph in phases if isinstance(ph, dict) and ph.get("phase") == "decode"]
    if not decode:
        sys.exit(f"make_doc_figures: {path}: no 'decode' phase")
    ph = decode[0]
    for key in ("tokens", "ms", "ops"):
        if key not in ph:
            sys.exit(f"make_doc_figures: {path}: decode phase has no '{key}'")
    if not ph["tokens"]:
        sys.exit(f"make_doc_figures: {path}: decode phase has 0 tokens")
    for op in ph["ops"]:
        for key in ("op", "ms", "percent"):
            if key not in op:
                sys.exit(f"make_doc_figures: {path}: an op entry has no '{key}': {op}")
    return ph


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--slm", default=str(ROOT / "build" / "release" / "slm"))
    ap.add_argument("--profile", help="JSON written by slm run --profile-json")
    ap.add_argument("--profile-label", default="decode profile",
                    help="what was run (model, weights, threads), for the figure's title")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(figure_attention(args.slm))
    print(figure_q8_layout())
    if args.profile:
        print(figure_profile(args.profile, args.profile_label))
    else:
        print("decode_profile.png: not drawn (no --profile FILE from slm run --profile-json)")


if __name__ == "__main__":
    main()
