#!/usr/bin/env python3
"""
train_router.py — trains the router's SIMPLE/COMPLEX classifier from scratch
and writes it as a standard Hugging Face folder (weights/router/).

  1. a WordPiece vocabulary (BERT-style: lowercase, BertNormalizer,
     BertPreTokenizer, [CLS] A [SEP]) built from the train split only,
     deterministically (build_vocab);
  2. DistilBertForSequenceClassification with a small config, trained on
     CPU with fixed seeds, label smoothing, token dropout and
     length-bucketed batches; the model kept is the running mean of the
     weights of the last epochs (SWA), whatever validation says (optional
     masked-LM pre-training of the encoder on the training texts first,
     mlm_epochs);
  3. temperature scaling: the T minimising the validation negative
     log-likelihood, folded into the classifier head (weight and bias / T),
     so the folder's own output is calibrated and transformers and slm
     both give it; the test split is never used for any choice;
  4. model.safetensors (f32), config.json, tokenizer.json,
     tokenizer_config.json, vocab.txt, training.json;
  5. with --slm PATH, the test split classified by slm's own forward pass
     (`slm classify --json`) beside transformers', and README.md written
     with both accuracies, a confusion matrix, per-category accuracy, the
     cross-validation table (cv.json in the folder) and the calibration
     table of tools/calibrate_router.py.

--cv K: the choices. Grouped K-fold cross-validation over train +
validation (the test split is not read): the corpus's own folds (template
groups and whole-request / pasted-text pool items dealt by
make_router_data.py, validation the last fold), one vocabulary and model per
fold trained on the others; prints and writes (--cv-out) the mean, the
spread and per-category accuracy, and (--cv-errors) the out-of-fold errors.

Usage: .venv/bin/python tools/train_router.py [--out weights/router]
         [--slm build/release/slm] [--report-only] [--hp KEY=VALUE]
       .venv/bin/python tools/train_router.py --cv 5 [--cv-out FILE] [--data DIR]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
from collections import Counter

from tokenizers import BertWordPieceTokenizer, normalizers, pre_tokenizers
from transformers import (DistilBertConfig, DistilBertForSequenceClassification,
                          DistilBertTokenizerFast)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data", "router")
EXPERIMENT = False  # --data: a candidate corpus, validation only
LABELS = ["SIMPLE", "COMPLEX"]
SEED = 13
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
N_SPECIAL = len(SPECIALS)  # ids 0..4
HP = dict(vocab_size=4096, dim=128, hidden_dim=512, n_layers=3, n_heads=4, max_positions=256,
          epochs=6, batch=32, lr=3e-4, warmup=0.1, weight_decay=0.01, dropout=0.3,
          label_smoothing=0.1, token_dropout=0.25, swa_from=3, mlm_epochs=0, mlm_lr=5e-4)
sys.path.insert(0, HERE)
import calibrate_router  # noqa: E402  (the calibration table in README.md)


def load(split):
    assert split != "test" or not EXPERIMENT, "experiments (--data) never read the test split"
    with open(os.path.join(DATA, f"{split}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_vocab(texts, size):
    """A WordPiece vocabulary built deterministically (the `tokenizers`
    trainer breaks ties in hash-map order, so its vocabulary changes from
    run to run): [PAD] [UNK] [CLS] [SEP] [MASK], the 200 most frequent
    characters and their ## forms, then word-initial pieces (whole words and
    prefixes) and ## continuations ranked by count x (length - 1), the
    characters a piece saves over spelling it out; ties by the piece."""
    norm = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                      strip_accents=None, lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    words = Counter(w for t in texts for w, _ in pre.pre_tokenize_str(norm.normalize_str(t)))
    chars = Counter()
    for w, c in words.items():
        for ch in w:
            chars[ch] += c
    alphabet = sorted(chars, key=lambda ch: (-chars[ch], ch))[:200]
    vocab = SPECIALS + alphabet + ["##" + ch for ch in alphabet]
    pieces = Counter()
    for w, c in words.items():
        if c < 2 or len(w) < 2 or len(w) > 24:
            continue
        for k in range(2, len(w) + 1):
            pieces[w[:k]] += c * (k - 1)
        for k in range(1, len(w) - 1):
            pieces["##" + w[k:]] += c * (len(w) - k - 1)
    have = set(vocab)
    ranked = sorted((p for p in pieces if p not in have), key=lambda p: (-pieces[p], p))
    return vocab + ranked[:size - len(vocab)]


def train_tokenizer(texts, out):
    vocab = build_vocab(texts, HP["vocab_size"])
    wp = BertWordPieceTokenizer({t: i for i, t in enumerate(vocab)}, clean_text=True,
                                handle_chinese_chars=True, strip_accents=None, lowercase=True,
                                wordpieces_prefix="##")
    tok = DistilBertTokenizerFast(tokenizer_object=wp._tokenizer, do_lower_case=True,
                                  unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                                  cls_token="[CLS]", mask_token="[MASK]",
                                  model_max_length=HP["max_positions"])
    tok.save_pretrained(out)
    # vocab.txt beside tokenizer.json (for BertTokenizer-style loaders)
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        for t in vocab:
            f.write(t + "\n")
    return DistilBertTokenizerFast.from_pretrained(out)


def encode(tok, rows):
    enc = tok([r["text"] for r in rows], truncation=True, max_length=HP["max_positions"])
    y = [LABELS.index(r["label"]) for r in rows]
    return enc["input_ids"], y


def batches(ids, y, bs, rng=None):
    """Padded batches; with rng, shuffled and bucketed by length (batches of
    similar lengths, in random order) so little time goes to padding."""
    order = list(range(len(ids)))
    groups = [order[i:i + bs] for i in range(0, len(order), bs)]
    if rng:
        rng.shuffle(order)
        pool = 8 * bs   # sort within windows of 8 batches, then shuffle batches
        order = [j for i in range(0, len(order), pool)
                 for j in sorted(order[i:i + pool], key=lambda j: len(ids[j]))]
        groups = [order[i:i + bs] for i in range(0, len(order), bs)]
        rng.shuffle(groups)
    for idx in groups:
        T = max(len(ids[j]) for j in idx)
        x = torch.zeros(len(idx), T, dtype=torch.long)
        m = torch.zeros(len(idx), T, dtype=torch.long)
        for k, j in enumerate(idx):
            x[k, :len(ids[j])] = torch.tensor(ids[j])
            m[k, :len(ids[j])] = 1
        yield x, m, torch.tensor([y[j] for j in idx])


@torch.no_grad()
def logits_of(model, ids, bs=64):
    model.eval()
    out = []
    for x, m, _ in batches(ids, [0] * len(ids), bs):
        out.append(model(input_ids=x, attention_mask=m).logits.double())
    return torch.cat(out)


def probs_of(model, ids, bs=64):
    return torch.softmax(logits_of(model, ids, bs), -1).numpy()


def fit_temperature(logits, y):
    """T in [0.25, 10] minimising the NLL of softmax(logits / T) (grid, then
    a finer grid around the best)."""
    y = torch.tensor(y)
    nll = lambda t: float(torch.nn.functional.cross_entropy(logits / t, y))
    grid = [0.25 * 1.05 ** k for k in range(76)]
    best = min(grid, key=nll)
    best = min([best * (1 + 0.002 * k) for k in range(-25, 26)], key=nll)
    return best, nll(1.0), nll(best)


def new_model(tok):
    cfg = DistilBertConfig(vocab_size=len(tok), dim=HP["dim"], hidden_dim=HP["hidden_dim"],
                           n_layers=HP["n_layers"], n_heads=HP["n_heads"],
                           max_position_embeddings=HP["max_positions"], dropout=HP["dropout"],
                           attention_dropout=HP["dropout"], seq_classif_dropout=HP["dropout"],
                           sinusoidal_pos_embds=False, activation="gelu", pad_token_id=0,
                           id2label={i: l for i, l in enumerate(LABELS)},
                           label2id={l: i for i, l in enumerate(LABELS)})
    return DistilBertForSequenceClassification(cfg)


def evaluate(model, ids, y):
    logits = logits_of(model, ids)
    acc = float((logits.argmax(1).numpy() == np.array(y)).mean())
    return acc, float(torch.nn.functional.cross_entropy(logits, torch.tensor(y))), logits


def pretrain_mlm(tok, model, texts, tag=""):
    """Masked-LM pre-training of the classifier's encoder on the training
    texts (no labels; BERT's 15% of pieces, 80/10/10 [MASK]/random/kept), so
    that fine-tuning starts from an encoder that has seen how the corpus's
    words go together; mlm_epochs 0 skips it."""
    if HP["mlm_epochs"] <= 0:
        return
    from transformers import DistilBertForMaskedLM
    mlm = DistilBertForMaskedLM(model.config)
    mlm.distilbert.load_state_dict(model.distilbert.state_dict())
    ids, _ = encode(tok, [dict(text=t, label="SIMPLE") for t in texts])
    opt = torch.optim.AdamW(mlm.parameters(), lr=HP["mlm_lr"], weight_decay=HP["weight_decay"])
    steps = HP["mlm_epochs"] * -(-len(ids) // HP["batch"])
    warm = int(steps * HP["warmup"])
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / max(1, warm), max(0.0, (steps - s) / max(1, steps - warm))))
    rng, t0 = random.Random(SEED + 1), time.time()
    for ep in range(HP["mlm_epochs"]):
        mlm.train()
        total, n = 0.0, 0
        for x, m, _ in batches(ids, [0] * len(ids), HP["batch"], rng):
            cand = (x >= N_SPECIAL) & (m == 1)
            pick = (torch.rand(x.shape) < 0.15) & cand
            labels = x.masked_fill(~pick, -100)
            u = torch.rand(x.shape)
            x = x.masked_fill(pick & (u < 0.8), tok.mask_token_id)
            rnd = pick & (u >= 0.8) & (u < 0.9)
            x = torch.where(rnd, torch.randint(N_SPECIAL, len(tok), x.shape), x)
            loss = mlm(input_ids=x, attention_mask=m, labels=labels).loss
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(mlm.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item()
            n += 1
        print(f"{tag}mlm epoch {ep + 1}: loss {total / n:.4f} ({time.time() - t0:.0f}s)",
              flush=True)
    model.distilbert.load_state_dict(mlm.distilbert.state_dict())


def fit(tok, tr_rows, ev_rows, tag=""):
    """Trains a new model on tr_rows (seeded); prints ev_rows' accuracy after
    every epoch (information only: nothing is chosen by it) and returns the
    model holding the running mean of the weights of epochs swa_from..epochs
    (SWA) and the per-epoch [(acc, nll)] on ev_rows."""
    seed_all(SEED)
    model = new_model(tok)
    pretrain_mlm(tok, model, [r["text"] for r in tr_rows], tag)
    tr_ids, tr_y = encode(tok, tr_rows)
    ev_ids, ev_y = encode(tok, ev_rows)
    opt = torch.optim.AdamW(model.parameters(), lr=HP["lr"], weight_decay=HP["weight_decay"])
    steps = HP["epochs"] * -(-len(tr_ids) // HP["batch"])
    warm = int(steps * HP["warmup"])
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / max(1, warm), max(0.0, (steps - s) / max(1, steps - warm))))
    rng = random.Random(SEED)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=HP["label_smoothing"])
    history, t0 = [], time.time()
    for ep in range(HP["epochs"]):
        model.train()
        total = 0.0
        for x, m, y in batches(tr_ids, tr_y, HP["batch"], rng):
            # token dropout: some word pieces become [MASK], so that no single
            # cue word decides the label
            drop = (torch.rand(x.shape) < HP["token_dropout"]) & (x >= N_SPECIAL) & (m == 1)
            x = x.masked_fill(drop, tok.mask_token_id)
            loss = loss_fn(model(input_ids=x, attention_mask=m).logits, y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(y)
        acc, nll, _ = evaluate(model, ev_ids, ev_y)
        history.append((acc, nll))
        print(f"{tag}epoch {ep + 1}: loss {total / len(tr_ids):.4f} held-out acc {acc:.4f} "
              f"nll {nll:.4f} ({time.time() - t0:.0f}s)", flush=True)
        if ep + 1 >= HP["swa_from"]:   # running mean of the weights (SWA)
            k = ep + 2 - HP["swa_from"]
            cur = model.state_dict()
            swa = ({n: v.detach().clone().double() for n, v in cur.items()} if k == 1 else
                   {n: swa[n] + (cur[n].double() - swa[n]) / k for n in swa})
    dtypes = {n: v.dtype for n, v in model.state_dict().items()}
    model.load_state_dict({n: v.to(dtypes[n]) for n, v in swa.items()})
    return model, history


def train(out):
    """The shipped model: trained on the train split with the defaults (the
    configuration chosen by --cv), weight average of the last epochs kept
    whatever validation says; validation only fits the temperature."""
    rows = {s: load(s) for s in ("train", "validation")}
    tok = train_tokenizer([r["text"] for r in rows["train"]], out)
    t0 = time.time()
    model, history = fit(tok, rows["train"], rows["validation"])
    va_ids, va_y = encode(tok, rows["validation"])
    va_acc, va_nll, va_logits = evaluate(model, va_ids, va_y)
    print(f"weight average of epochs {HP['swa_from']}..{HP['epochs']}: val acc {va_acc:.4f} "
          f"val nll {va_nll:.4f}")
    # temperature scaling on the validation split, folded into the head
    temp, nll_before, nll_after = fit_temperature(va_logits, va_y)
    with torch.no_grad():
        model.classifier.weight.div_(temp)
        model.classifier.bias.div_(temp)
    print(f"temperature {temp:.4f}: val nll {nll_before:.4f} -> {nll_after:.4f}")
    model.save_pretrained(out, safe_serialization=True)
    train_info = dict(hyperparameters=HP, seed=SEED,
                      best_epoch=f"average of {HP['swa_from']}..{HP['epochs']}",
                      val_accuracy=va_acc, val_per_epoch=[a for a, _ in history],
                      temperature=temp, val_nll_before=nll_before,
                      val_nll_after=nll_after, train_seconds=round(time.time() - t0, 1),
                      torch=torch.__version__, threads=torch.get_num_threads())
    with open(os.path.join(out, "training.json"), "w") as f:
        json.dump(train_info, f, indent=1)


# ============================================================ cross-validation


def cv_folds(rows, k):
    """Fold index per row. The corpus's own folds when it has them (the
    "fold" make_router_data.py writes: train template groups and pool items
    dealt to k - 1 folds, validation the last one, so a held-out fold's
    phrasings and whole requests are all unseen by its training folds, as
    the test split's are). Otherwise, within each category the template
    groups are shuffled with a fixed seed and dealt round-robin to k folds
    (whole-request pool items then cross folds: optimistic)."""
    if all("fold" in r for r in rows):
        assert k == 1 + max(r["fold"] for r in rows), "--cv K must match the corpus's folds"
        return [r["fold"] for r in rows]
    fold_of = {}
    for cat in sorted({r["category"] for r in rows}):
        groups = sorted({r.get("group", r["template"]) for r in rows if r["category"] == cat})
        random.Random(f"{SEED}/cv/{cat}").shuffle(groups)
        for i, g in enumerate(groups):
            fold_of[g] = i % k
    return [fold_of[r.get("group", r["template"])] for r in rows]


def cross_validate(k, out_json, errors_out=None):
    """Grouped k-fold cross-validation over train + validation (never test):
    for each fold a vocabulary and a model trained on the other folds, the
    weight-averaged model's accuracy on the fold. Prints and writes the mean,
    the spread, per-category accuracy and the out-of-fold errors."""
    import tempfile
    rows = load("train") + load("validation")
    folds = cv_folds(rows, k)
    results, errors, t0 = [], [], time.time()
    cat_ok = {}
    for f in range(k):
        tr = [r for r, g in zip(rows, folds) if g != f]
        ev = [r for r, g in zip(rows, folds) if g == f]
        with tempfile.TemporaryDirectory() as tmp:
            tok = train_tokenizer([r["text"] for r in tr], tmp)
            model, history = fit(tok, tr, ev, tag=f"fold {f + 1}/{k} ")
        ids, y = encode(tok, ev)
        acc, nll, logits = evaluate(model, ids, y)
        p = torch.softmax(logits, -1).numpy()
        for r, yy, pp in zip(ev, y, p):
            c = cat_ok.setdefault(r["category"], [r["label"], 0, 0])
            c[1] += int(pp.argmax() == yy)
            c[2] += 1
            if pp.argmax() != yy:
                errors.append({**r, "p_complex": round(float(pp[1]), 3)})
        results.append(dict(fold=f, n=len(ev), accuracy=acc, nll=nll,
                            per_epoch=[a for a, _ in history]))
        print(f"fold {f + 1}/{k}: n {len(ev)} acc {acc:.4f} nll {nll:.4f} "
              f"({time.time() - t0:.0f}s)", flush=True)
    accs = np.array([r["accuracy"] for r in results])
    per_epoch = np.mean([r["per_epoch"] for r in results], axis=0)
    pooled = sum(r["accuracy"] * r["n"] for r in results) / sum(r["n"] for r in results)
    summary = dict(k=k, hyperparameters=HP, seed=SEED, mean=float(accs.mean()),
                   std=float(accs.std(ddof=1)), min=float(accs.min()), max=float(accs.max()),
                   pooled=float(pooled), per_epoch_mean=[float(a) for a in per_epoch],
                   folds=results, per_category={c: v[1] / v[2] for c, v in cat_ok.items()},
                   seconds=round(time.time() - t0, 1), train_rows=len(rows))
    print(f"cv {k} folds: mean {summary['mean']:.4f} std {summary['std']:.4f} "
          f"(min {summary['min']:.4f}, max {summary['max']:.4f}, pooled {pooled:.4f}); "
          "per-epoch mean " + " ".join(f"{a:.3f}" for a in per_epoch))
    for c, (lab, ok, n) in sorted(cat_ok.items(), key=lambda kv: kv[1][1] / kv[1][2]):
        print(f"  {lab:7s} {c:17s} {ok / n:.3f} ({n})")
    if out_json:
        with open(out_json, "w") as fh:
            json.dump(summary, fh, indent=1)
    if errors_out:
        with open(errors_out, "w", encoding="utf-8") as fh:
            for e in errors:
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    return summary


# ============================================================ report


def slm_probs(slm, folder, texts, chunk=200):
    """P(label) per text from `slm classify --json` (texts as arguments)."""
    out = []
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    for i in range(0, len(texts), chunk):
        r = subprocess.run([slm, "classify", "-m", folder, "--json", "-t", "2", "--"]
                           + texts[i:i + chunk], capture_output=True, text=True, env=env,
                           check=True)
        for line in r.stdout.splitlines():
            o = json.loads(line)
            out.append([o["scores"][l] for l in LABELS])
    assert len(out) == len(texts)
    return np.array(out)


def confusion(y, pred):
    c = np.zeros((2, 2), dtype=int)
    for a, b in zip(y, pred):
        c[a, b] += 1
    return c


def per_category(rows, pred):
    acc = {}
    for r, p in zip(rows, pred):
        a = acc.setdefault(r["category"], [r["label"], 0, 0])
        a[1] += int(LABELS[p] == r["label"])
        a[2] += 1
    return acc


def length_baseline(train_rows, test_rows):
    """Best single threshold on character length (either side), fitted on train."""
    best = (0.0, 0, 1)
    for t in range(1, 1000):
        for d in (1, -1):
            acc = np.mean([(d * (len(r["text"]) - t) > 0) == (r["label"] == "COMPLEX")
                           for r in train_rows])
            if acc > best[0]:
                best = (acc, t, d)
    _, t, d = best
    test = np.mean([(d * (len(r["text"]) - t) > 0) == (r["label"] == "COMPLEX")
                    for r in test_rows])
    return float(test), t, d


def report(out, slm):
    rows = {s: load(s) for s in ("train", "validation", "test")}
    tok = DistilBertTokenizerFast.from_pretrained(out)
    model = DistilBertForSequenceClassification.from_pretrained(out).float()
    te_ids, te_y = encode(tok, rows["test"])
    hf = probs_of(model, te_ids)
    va_ids, _ = encode(tok, rows["validation"])
    hf_val = probs_of(model, va_ids)
    texts = [r["text"] for r in rows["test"]]
    sl = slm_probs(slm, out, texts)
    y = np.array(te_y)
    m = dict(n_test=len(texts),
             hf_accuracy=float((hf.argmax(1) == y).mean()),
             slm_accuracy=float((sl.argmax(1) == y).mean()),
             max_abs_prob_diff=float(np.abs(hf - sl).max()),
             length_baseline=length_baseline(rows["train"], rows["test"]),
             max_tokens=int(max(len(i) for i in te_ids)))
    conf = confusion(te_y, sl.argmax(1))
    cats = per_category(rows["test"], sl.argmax(1))
    with open(os.path.join(out, "training.json")) as f:
        info = json.load(f)
    cal = calibrate_router.table(hf_val[:, 0], [0.3, 0.5, 0.7, 0.8])
    m["confusion_slm"] = conf.tolist()
    m["per_category_slm"] = {k: v[1] / v[2] for k, v in cats.items()}
    m["training"] = info
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(m, f, indent=1)
    write_readme(out, rows, m, conf, cats, info, cal)
    print(json.dumps({k: m[k] for k in ("hf_accuracy", "slm_accuracy", "max_abs_prob_diff",
                                        "length_baseline")}, indent=1))


def counts(rows):
    c = {}
    for r in rows:
        c.setdefault((r["label"], r["category"]), 0)
        c[(r["label"], r["category"])] += 1
    return c


def write_readme(out, rows, m, conf, cats, info, cal):
    hp = info["hyperparameters"]
    size = os.path.getsize(os.path.join(out, "model.safetensors"))
    n_params = sum(p.numel() for p in DistilBertForSequenceClassification.from_pretrained(out)
                   .parameters())
    all_rows = rows["train"] + rows["validation"] + rows["test"]
    n_templates = len({r["template"] for r in all_rows})
    c_all = counts(all_rows)
    c_split = {s: counts(rows[s]) for s in rows}
    L = []
    L.append("# router — SIMPLE / COMPLEX query classifier\n")
    L.append("Trained from scratch by the project (no pretrained weights) for the router: "
             "`SIMPLE` queries are answered by the local model, `COMPLEX` ones go to the "
             "large remote model. `id2label` {0: SIMPLE, 1: COMPLEX}.\n")
    L.append("```sh\n./build/release/slm classify -m weights/router \"What is Python?\"\n"
             "./build/release/slm classify -m weights/router \"Design a distributed RAG system "
             "with fault tolerance\"\n```\n")
    L.append("## Model\n")
    L.append(f"`DistilBertForSequenceClassification`: {hp['n_layers']} layers, dim {hp['dim']}, "
             f"FFN {hp['hidden_dim']}, {hp['n_heads']} heads, GELU, learned positions "
             f"(max {hp['max_positions']} tokens), {n_params:,} parameters, f32 safetensors "
             f"({size / 1e6:.1f} MB). WordPiece vocabulary of {len(open(os.path.join(out, 'vocab.txt')).read().splitlines())} "
             "tokens trained on the train split with `tokenizers` (BertNormalizer lowercase, "
             "BertPreTokenizer, `[CLS] A [SEP]`); `tokenizer.json`, `tokenizer_config.json` and "
             "`vocab.txt` hold the same vocabulary.\n")
    L.append("## Data\n")
    L.append("`tools/data/router/{train,validation,test}.jsonl`, written by "
             "`tools/make_router_data.py` with `tools/router_data_more.py` and "
             "`tools/router_data_fresh.py` (deterministic): "
             f"{n_templates} hand-written templates in 21 categories (short fixed queries of "
             "both labels among them) filled from hand-written pools (entities, topics, pasted "
             "reviews, emails, news paragraphs, documents for RAG questions, code snippets, "
             "error messages, symptoms), then seeded surface transforms (greetings, politeness, "
             "typos, lower/upper case, dropped punctuation) and, for some queries, a long chatty "
             "or constraint-laden background in front (chatty backgrounds precede both labels). "
             "**Split by template group**: within each category the templates are grouped (one "
             "wording inside another stays together), shuffled with seed 13 and dealt ~80/10/10 "
             "to train/validation/test, so every test phrasing is unseen in training; "
             "whole-request items (word problems, agent tasks, systems, cases, symptoms...) and "
             "pasted documents and news paragraphs are dealt to one split each as well, and "
             "held-out queries within word-set Jaccard 0.8 of a train query are dropped. "
             "Choices (data, hyper-parameters) were made by cross-validation over train + "
             "validation (below), never on test.\n")
    L.append("| label | category | train | validation | test |\n|---|---|---|---|---|")
    for (lab, cat) in sorted(c_all, key=lambda k: (LABELS.index(k[0]), k[1])):
        L.append(f"| {lab} | {cat} | " + " | ".join(str(c_split[s].get((lab, cat), 0))
                                                 for s in ("train", "validation", "test")) + " |")
    tot = {s: len(rows[s]) for s in rows}
    L.append(f"| | **total** | {tot['train']} | {tot['validation']} | {tot['test']} |\n")
    acc_len, t, d = m["length_baseline"]
    L.append(f"Length-only baseline (best character-length threshold fitted on train: "
             f"COMPLEX when length {'>' if d > 0 else '<'} {t}): **{acc_len:.1%}** on test.\n")
    L.append("## Training\n")
    L.append("```sh\n.venv/bin/python tools/make_router_data.py\n"
             ".venv/bin/python tools/train_router.py --cv 5 --cv-out weights/router/cv.json\n"
             ".venv/bin/python tools/train_router.py --slm build/release/slm\n```\n")
    L.append(f"AdamW lr {hp['lr']}, weight decay {hp['weight_decay']}, batch {hp['batch']}, "
             f"{hp['epochs']} epochs with linear warm-up/decay, dropout {hp['dropout']}, seed "
             f"{info['seed']}, torch {info['torch']} on CPU with {info['threads']} threads: "
             f"{info['train_seconds']:.0f} s. Kept: the {info['best_epoch']} "
             f"(validation accuracy {info['val_accuracy']:.1%}; no epoch is picked on "
             "validation, which only fits the temperature).\n")
    cv_path = os.path.join(out, "cv.json")
    if os.path.exists(cv_path):
        with open(cv_path) as f:
            cv = json.load(f)
        chp = cv["hyperparameters"]
        L.append("### Cross-validation (the choices)\n")
        L.append(f"Choices (data, hyper-parameters) were made by grouped {cv['k']}-fold "
                 "cross-validation over train + validation, never test: make_router_data.py "
                 f"deals the train split's template groups and whole-request / pasted-text "
                 f"pool items to {cv['k'] - 1} folds (each train query draws its fold's "
                 "items) and validation is the last fold, so each held-out fold's phrasings "
                 "and requests are unseen by the model trained on the other folds, as the "
                 "test split's are. With the configuration shipped "
                 f"({chp['epochs']} epochs, average from {chp['swa_from']}, "
                 f"mlm_epochs {chp.get('mlm_epochs', 0)}), {cv['seconds']:.0f} s:\n")
        L.append("| fold | n | accuracy |\n|---|---|---|")
        for r in cv["folds"]:
            L.append(f"| {r['fold'] + 1} | {r['n']} | {r['accuracy']:.1%} |")
        L.append(f"| **mean ± sd** | | **{cv['mean']:.1%} ± {cv['std']:.1%}** |\n")
        L.append("Per category (cross-validation, all folds pooled): " + ", ".join(
            f"{c} {a:.0%}" for c, a in sorted(cv["per_category"].items(), key=lambda kv: kv[1]))
            + ".\n")
    L.append("## Metrics (test split, never used for choices)\n")
    L.append(f"| forward pass | accuracy |\n|---|---|\n| slm (`slm classify`) | "
             f"**{m['slm_accuracy']:.2%}** |\n| transformers | {m['hf_accuracy']:.2%} |\n")
    L.append(f"Largest |P_slm - P_transformers| over the {m['n_test']} test queries: "
             f"{m['max_abs_prob_diff']:.2e}.\n")
    L.append("Confusion matrix (slm; rows true, columns predicted):\n")
    L.append("| | SIMPLE | COMPLEX |\n|---|---|---|")
    for i, lab in enumerate(LABELS):
        L.append(f"| **{lab}** | {conf[i, 0]} | {conf[i, 1]} |")
    L.append("\nPer category (slm):\n")
    L.append("| label | category | accuracy | n |\n|---|---|---|---|")
    for cat, (lab, ok, n) in sorted(cats.items(), key=lambda kv: (LABELS.index(kv[1][0]), kv[0])):
        L.append(f"| {lab} | {cat} | {ok / n:.1%} | {n} |")
    L.append("\n## Calibration\n")
    L.append("`tools/calibrate_router.py` (RouteLLM-style): the threshold on P(SIMPLE) that keeps "
             "a chosen share of the validation queries local (query local when P(SIMPLE) >= "
             "threshold), and the expected cost per 1,000 queries with the default prices "
             f"(remote gpt-4o ${calibrate_router.REMOTE_IN:.2f}/${calibrate_router.REMOTE_OUT:.2f} "
             f"per 1M input/output tokens, local ${calibrate_router.LOCAL_IN:.2f}/"
             f"${calibrate_router.LOCAL_OUT:.2f}; {calibrate_router.IN_TOKENS} input and "
             f"{calibrate_router.OUT_TOKENS} output tokens per query):\n")
    L.append("| local share | threshold P(SIMPLE) | cost / 1k queries | all remote |\n|---|---|---|---|")
    for row in cal:
        L.append(f"| {row['share']:.0%} | {row['threshold']:.4f} | ${row['cost_per_1k']:.4f} | "
                 f"${row['remote_cost_per_1k']:.4f} |")
    L.append("\n```sh\n.venv/bin/python tools/calibrate_router.py --local-share 0.5\n```\n")
    L.append("## Speed\n")
    L.append("`slm bench -m weights/router -p 32 -b 1,64 -t 2`: see bench/RESULTS.md.\n")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    global DATA, EXPERIMENT
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "weights", "router"))
    ap.add_argument("--slm", help="slm binary: also evaluate and write README.md")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE",
                    help="override a hyperparameter (experiments; the shipped model uses the defaults)")
    ap.add_argument("--data", help="corpus folder for experiments (default tools/data/router); "
                    "training and validation only, the test split is not read")
    ap.add_argument("--cv", type=int, metavar="K",
                    help="grouped K-fold cross-validation over train + validation (the test "
                    "split is not read); no model is written")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--cv-out", help="with --cv: write the summary (json) here")
    ap.add_argument("--cv-errors", help="with --cv: write the out-of-fold errors (jsonl) here")
    a = ap.parse_args()
    if a.data:
        DATA, EXPERIMENT = a.data, True
        if a.slm:
            ap.error("--data is for experiments: no test-split report (--slm)")
    for kv in a.hp:
        k, v = kv.split("=", 1)
        if k not in HP:
            ap.error(f"--hp: unknown hyperparameter {k}")
        HP[k] = type(HP[k])(v)
    torch.set_num_threads(a.threads)
    if a.cv:
        EXPERIMENT = True   # load() refuses the test split
        cross_validate(a.cv, a.cv_out, a.cv_errors)
        return
    os.makedirs(a.out, exist_ok=True)
    if not a.report_only:
        train(a.out)
    if a.slm:
        report(a.out, a.slm)


if __name__ == "__main__":
    main()
