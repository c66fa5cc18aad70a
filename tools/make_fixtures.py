#!/usr/bin/env python3
"""Golden fixtures for the slm C tests: tiny random-weight models with the real configuration keys,
tensor names and tokenizers of TinyLlama, SmolLM2, Phi-3 (4k and 128k/longrope) and DistilBERT-SST-2,
plus reference outputs computed with Hugging Face transformers.

Run with the project venv (no network needed; reads the tokenizer files in --shared):
    .venv/bin/python tools/make_fixtures.py [--shared /work/shared/models]

Writes (rerunning overwrites them with identical bytes: fixed seeds, one CPU thread):
    tests/fixtures/models/<name>/            model folders (config, weights, tokenizer, generation config)
    tests/fixtures/models/phi3_longrope/     config.json + generation_config.json only (weights and
                                             tokenizer come from models/phi3/, see NOTES.md)
    tests/fixtures/reference/<name>.safetensors + <name>.json   reference tensors + their description
    tests/fixtures/chat/<name>.json          chat-template renderings (tinyllama, phi3, smollm2)
tests/fixtures/models/NOTES.md (hand-written) explains the fixtures and the transformers semantics.

Method: every weight is drawn from a seeded normal distribution, rounded to the stored dtype
(bfloat16 for the decoders, float16 for DistilBERT) FIRST; the references are then computed in
float32 from exactly those rounded values (eager attention, no_grad), and the rounded values are what
model.safetensors holds. A seed is accepted only if, at every greedy step, the gap between the two
largest logits exceeds 1e-3 x max|logit| (so an f32 implementation cannot flip an argmax) and every
greedy continuation holds at least 8 distinct ids (so it is not a 1-3 token loop). At the end
every folder is reloaded with from_pretrained and must reproduce the stored logits bit for bit.
"""
import argparse
import copy
import hashlib
import json
import os
import pathlib
import re
import shutil
import sys
import tempfile

import jinja2
import numpy as np
import safetensors
import safetensors.torch
import tokenizers
import torch
import transformers
from tokenizers import AddedToken
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers import (AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification,
                          DistilBertTokenizerFast, GenerationConfig, LlamaConfig,
                          PreTrainedTokenizerFast)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
MODELS = FIX / "models"
REF = FIX / "reference"
CHAT = FIX / "chat"

MAX_NEW = 32            # greedy continuation length
GAP_REL = 1e-3          # minimum (top1 - top2) / max|logit| at every greedy step
MIN_DISTINCT = 8        # a greedy continuation must hold this many distinct ids (no early 1-3 token loop)
MAX_SEED_TRIES = 500

VERSIONS = {
    "transformers": transformers.__version__, "torch": torch.__version__,
    "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__,
    "numpy": np.__version__, "jinja2": jinja2.__version__,
}

# TinyLlama-1.1B-Chat-v1.0 tokenizer.json as published (same as Llama-2's). The copy in the shared
# folder had every U+00A0 (no-break space) turned into an ASCII space: 4 vocab entries and 3 merges,
# which makes the merges unparsable ("Merges text file invalid"). Putting the U+00A0 back gives
# exactly the published file (1842767 bytes, sha256 below, as pinned by many public repos).
TINYLLAMA_TOKENIZER_SHA256 = "bcd04f0eadf90287bd26e1a183ac487d8a141b09b06aecb7725bbdd343640f2e"
NBSP = "\u00a0"
TINYLLAMA_NBSP_REPAIRS = [
    ('"  ": 8655,', f'"{NBSP}{NBSP}": 8655,'),
    ('"    ": 17891,', f'"{NBSP * 4}": 17891,'),
    ('"\u2581 ": 20246,', f'"\u2581{NBSP}": 20246,'),
    ('" ": 30081,', f'"{NBSP}": 30081,'),
    ('"   ",', f'"{NBSP} {NBSP}",'),
    ('"     ",', f'"{NBSP * 2} {NBSP * 2}",'),
    ('"\u2581  ",', f'"\u2581 {NBSP}",'),
]

# SmolLM2-135M/360M/1.7B-Instruct chat template (ChatML with a default system message).
SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# LongRoPE rescale factors for head_dim 16 (8 frequencies), shaped like Phi-3-mini-128k's: short
# factors close to 1, long factors growing towards the low frequencies. All >= 1; short[i] != long[i].
LONGROPE_SHORT = [1.0, 1.02, 1.05, 1.1, 1.19, 1.33, 1.55, 1.9]
LONGROPE_LONG = [1.08, 1.18, 1.6, 2.5, 4.1, 7.3, 13.9, 27.4]
LONGROPE_ORIGINAL_MAX = 32

# --------------------------------------------------------------------------------------- prompts

CHAT_SHORT = [{"role": "user", "content": "Hi!"}]
CHAT_SYSTEM = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]
CHAT_LONG = [  # 43 Phi-3 tokens: > original_max_position_embeddings (32), so prefill uses the long factors
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Summarize: the quick brown fox jumps over the lazy dog, then naps "
                                "in the sun \u2600\ufe0f near the barn."},
]
PLAIN = "The capital of France is"
MULTIBYTE = "na\u00efve caf\u00e9 \U0001f917 \u65e5\u672c"  # 2-byte, 4-byte (emoji) and 3-byte (CJK) UTF-8

DECODER_PROMPTS = {
    # (kind, text or messages)
    "tinyllama": [("plain", PLAIN), ("multibyte", MULTIBYTE), ("chat", CHAT_SHORT)],
    "smollm2": [("plain", PLAIN), ("multibyte", MULTIBYTE), ("chat", CHAT_SYSTEM)],
    "phi3": [("plain", PLAIN), ("multibyte", MULTIBYTE), ("chat", CHAT_SYSTEM)],
    "phi3_longrope": [("plain", PLAIN), ("chat_long", CHAT_LONG)],
}

CHAT_CONVERSATIONS = [
    ("single_user", [{"role": "user", "content": "Hello!"}]),
    ("system_user", [{"role": "system", "content": "You are a pirate."},
                     {"role": "user", "content": "Where is the treasure?"}]),
    ("multi_turn", [{"role": "user", "content": "What is 2+2?"},
                    {"role": "assistant", "content": "4."},
                    {"role": "user", "content": "And 3+3?"}]),
    ("system_multi_turn", [{"role": "system", "content": "Answer with one word."},
                           {"role": "user", "content": "Color of the sky?"},
                           {"role": "assistant", "content": "Blue."},
                           {"role": "user", "content": "And grass?"}]),
    ("special_chars", [{"role": "user", "content":
                        "Line 1\nLine \"2\" with 'quotes' & <tags> {{ braces }}\n\n  indented\ttab "
                        "\u2014 na\u00efve caf\u00e9 \u65e5\u672c\u8a9e \U0001f917"}]),
    ("ends_with_assistant", [{"role": "user", "content": "Hi"},
                             {"role": "assistant", "content": "Hello! How can I help?"}]),
    ("empty_content", [{"role": "user", "content": ""}]),
    ("whitespace_content", [{"role": "user", "content": "  spaced out  \n"}]),
    ("unknown_role", [{"role": "user", "content": "Run it."},
                      {"role": "tool", "content": "42"}]),
]

DISTILBERT_TEXTS = [
    "This product is amazing, I love it!",
    "This was the worst movie I have ever seen. Terrible acting and a boring plot.",
    "",
    "ok",
    "Caf\u00e9 NA\u00cfVE r\u00e9sum\u00e9 \u2014 \u00dcn\u00efc\u00f6d\u00e9 TEXT, emoji \U0001f917 and \u4e2d\u6587!",
    "Not bad at all, honestly.",
    None,  # the long text, built below
]
LONG_SENTENCES = [
    "The opening scenes are beautifully shot, but the story never finds its footing.",
    "Every actor seems to be in a different movie, and the dialogue is painfully flat.",
    "Still, the soundtrack is wonderful and a few moments are genuinely moving.",
    "By the third act I had stopped caring about the characters entirely.",
    "I would not recommend it, unless you enjoy long, slow and confusing films.",
]
DISTILBERT_TEXTS[-1] = " ".join(LONG_SENTENCES[i % len(LONG_SENTENCES)] for i in range(40))


# --------------------------------------------------------------------------------------- helpers

def log(msg):
    print(msg, flush=True)


def rel(path):
    return str(pathlib.Path(path).resolve().relative_to(ROOT))


_NUM_LIST = re.compile(r"\[\s+(-?[0-9][-+0-9.eE]*(?:,\s+-?[0-9][-+0-9.eE]*)*)\s+\]")


def write_json(path, obj):
    """indent=1 JSON with every list of plain numbers on one line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=1, ensure_ascii=False)
    text = _NUM_LIST.sub(lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    assert json.loads(text) == json.loads(json.dumps(obj))
    path.write_text(text + "\n", encoding="utf-8")


def fresh_dir(path):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def init_weights(model, seed, std, dtype):
    """Seeded normal weights, rounded to `dtype` and kept as float32 (exactly representable).

    Matrices / embeddings: N(0, std). Norm weights: N(1, 0.1) so that a missing norm scale shows.
    Biases (DistilBERT): N(0, 0.05)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if "norm" in name.lower() and name.endswith("weight"):
                v = 1.0 + 0.1 * torch.randn(p.shape, generator=gen)
            elif name.endswith("bias"):
                v = 0.05 * torch.randn(p.shape, generator=gen)
            else:
                v = std * torch.randn(p.shape, generator=gen)
            p.copy_(v.to(dtype).to(torch.float32))


def save_weights(model, dtype, folder):
    """model.save_pretrained in `dtype` into a scratch folder; copy model.safetensors into `folder`."""
    with tempfile.TemporaryDirectory() as tmp:
        m = copy.deepcopy(model).to(dtype)
        m.save_pretrained(tmp)
        shutil.copy(os.path.join(tmp, "model.safetensors"), folder / "model.safetensors")
    with safetensors.safe_open(folder / "model.safetensors", "pt") as f:
        return {k: [str(f.get_slice(k).get_dtype()), list(f.get_slice(k).get_shape())] for k in f.keys()}


def top2_rel_gap(logits):
    top = torch.topk(logits, 2).values
    return float((top[0] - top[1]) / logits.abs().max())


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------- tokenizers

def tinyllama_tokenizer_json(shared):
    src = (shared / "tinyllama-1.1b-chat-v1.0" / "tokenizer.json").read_text(encoding="utf-8")
    if hashlib.sha256(src.encode()).hexdigest() != TINYLLAMA_TOKENIZER_SHA256:
        for old, new in TINYLLAMA_NBSP_REPAIRS:
            if src.count(old) != 1:
                raise SystemExit(f"tinyllama tokenizer.json: cannot repair {old!r}")
            src = src.replace(old, new)
    if hashlib.sha256(src.encode()).hexdigest() != TINYLLAMA_TOKENIZER_SHA256:
        raise SystemExit("tinyllama tokenizer.json: not the published file even after the U+00A0 repair")
    return src


def load_tok(folder):
    """How the references tokenize: tokenizer.json exactly as written (the `tokenizers` pipeline),
    which is what slm implements. (AutoTokenizer in transformers 5 would pick the tokenizer_class of
    tokenizer_config.json; for LlamaTokenizer it rebuilds the pipeline and can differ, see NOTES.md.)"""
    return PreTrainedTokenizerFast.from_pretrained(str(folder))


def build_tinyllama_folder(shared, folder):
    src = shared / "tinyllama-1.1b-chat-v1.0"
    (folder / "tokenizer.json").write_text(tinyllama_tokenizer_json(shared), encoding="utf-8")
    for name in ("tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
        shutil.copy(src / name, folder / name)
    cfg = json.loads((src / "config.json").read_text())
    cfg.update(hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2)
    write_json(folder / "config.json", cfg)


def build_smollm2_tokenizer(shared, folder):
    tok = PreTrainedTokenizerFast(tokenizer_file=str(shared / "gpt2" / "tokenizer.json"))
    tok.add_tokens([AddedToken("<|im_start|>", special=True, normalized=False),
                    AddedToken("<|im_end|>", special=True, normalized=False)], special_tokens=True)
    tok.bos_token = "<|im_start|>"
    tok.eos_token = "<|im_end|>"
    tok.pad_token = "<|im_end|>"
    tok.unk_token = "<|endoftext|>"
    tok.model_max_length = 8192
    tok.chat_template = SMOLLM2_CHAT_TEMPLATE
    tok.save_pretrained(str(folder), save_jinja_files=False)
    return len(tok)


def build_phi3_tokenizer(shared, folder):
    src = shared / "phi-3-mini-4k-instruct"
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(src / name, folder / name)


def build_distilbert_tokenizer(shared, folder):
    vocab_dir = shared / "distilbert-base-uncased-finetuned-sst-2-english"
    # transformers 5: DistilBertTokenizerFast(vocab_file=...) silently ignores the file (5-token
    # vocab); from_pretrained on the folder holding vocab.txt builds the real WordPiece tokenizer.
    tok = DistilBertTokenizerFast.from_pretrained(str(vocab_dir), do_lower_case=True, model_max_length=512)
    assert len(tok) == 30522, len(tok)
    tok.save_pretrained(str(folder))


# --------------------------------------------------------------------------------------- configs

def smollm2_config(vocab_size, bos, eos):
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=64, intermediate_size=172, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, hidden_act="silu", max_position_embeddings=8192,
        initializer_range=0.041666666666666664, rms_norm_eps=1e-5, rope_theta=100000.0,
        tie_word_embeddings=True, attention_bias=False, mlp_bias=False, pretraining_tp=1,
        bos_token_id=bos, eos_token_id=eos, pad_token_id=eos, architectures=["LlamaForCausalLM"])


def phi3_config_dict(longrope):
    """Phi3Config() defaults (= Phi-3-mini-4k-instruct) in the published 4.x config.json layout
    (rope_theta / rope_scaling at top level), scaled down."""
    d = {
        "architectures": ["Phi3ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "embd_pdrop": 0.0,
        "eos_token_id": 32000,
        "hidden_act": "silu",
        "hidden_size": 64,
        "initializer_range": 0.02,
        "intermediate_size": 176,
        "max_position_embeddings": 4096,
        "model_type": "phi3",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 2,
        "original_max_position_embeddings": 4096,
        "pad_token_id": 32000,
        "resid_pdrop": 0.0,
        "rms_norm_eps": 1e-05,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "sliding_window": 2047,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": transformers.__version__,
        "use_cache": True,
        "vocab_size": 32064,
    }
    if longrope:
        d.update(max_position_embeddings=LONGROPE_ORIGINAL_MAX * 32,
                 original_max_position_embeddings=LONGROPE_ORIGINAL_MAX,
                 sliding_window=2 * LONGROPE_ORIGINAL_MAX * 32,
                 rope_scaling={"long_factor": LONGROPE_LONG, "short_factor": LONGROPE_SHORT,
                               "type": "longrope"})
    return d


PHI3_GENERATION = {"bos_token_id": 1, "eos_token_id": [32000, 32001, 32007], "pad_token_id": 32000}


def distilbert_config_dict():
    """The published distilbert-base-uncased-finetuned-sst-2-english config.json layout
    (= DistilBertConfig() defaults + the SST-2 head), scaled down."""
    return {
        "activation": "gelu",
        "architectures": ["DistilBertForSequenceClassification"],
        "attention_dropout": 0.1,
        "dim": 64,
        "dropout": 0.1,
        "finetuning_task": "sst-2",
        "hidden_dim": 128,
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "initializer_range": 0.02,
        "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "max_position_embeddings": 512,
        "model_type": "distilbert",
        "n_heads": 4,
        "n_layers": 2,
        "output_past": True,
        "pad_token_id": 0,
        "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2,
        "sinusoidal_pos_embds": False,
        "tie_weights_": True,
        "torch_dtype": "float16",
        "transformers_version": transformers.__version__,
        "vocab_size": 30522,
    }


def causal_lm_from_folder_config(folder):
    cfg = AutoConfig.from_pretrained(str(folder))
    return AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32).eval()


# --------------------------------------------------------------------------------------- decoders

def render_prompts(tok, prompts):
    out = []
    for kind, p in prompts:
        if isinstance(p, list):
            text = tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
            out.append({"kind": kind, "messages": p, "prompt": text})
        else:
            out.append({"kind": kind, "prompt": p})
        out[-1]["input_ids"] = tok(out[-1]["prompt"], add_special_tokens=True)["input_ids"]
    return out


def greedy_nocache(model, ids, gen_cfg):
    """Greedy decoding that recomputes the whole sequence at every step (no KV cache)."""
    eos = gen_cfg.eos_token_id
    eos = set(eos if isinstance(eos, list) else [eos])
    seq = list(ids)
    out = []
    with torch.no_grad():
        for _ in range(MAX_NEW):
            t = int(model(torch.tensor([seq]), use_cache=False).logits[0, -1].argmax())
            out.append(t)
            seq.append(t)
            if t in eos:
                break
    return out


def run_decoder(model, cases, gen_cfg, check_only=False):
    """Logits at every prompt position + greedy continuation. Returns (ok, results)."""
    results = []
    eos = gen_cfg.eos_token_id
    eos = set(eos if isinstance(eos, list) else [eos])
    for c in cases:
        x = torch.tensor([c["input_ids"]])
        with torch.no_grad():
            g = model.generate(x, attention_mask=torch.ones_like(x), generation_config=gen_cfg,
                               do_sample=False, max_new_tokens=MAX_NEW, output_logits=True,
                               return_dict_in_generate=True)
        new = g.sequences[0, x.shape[1]:].tolist()
        gaps = [top2_rel_gap(step[0]) for step in g.logits]
        if min(gaps) <= GAP_REL or len(set(new)) < MIN_DISTINCT:
            return False, None
        if check_only:
            continue
        with torch.no_grad():
            logits = model(x, use_cache=False).logits[0].to(torch.float32).contiguous()
        results.append({"logits": logits, "greedy": new, "min_gap": min(gaps),
                        "stopped": bool(new and new[-1] in eos)})
    return True, results


def decoder_case_json(name, c, r, tok, extra=None):
    d = {"name": name, "kind": c["kind"]}
    if "messages" in c:
        d["messages"] = c["messages"]
    d.update(prompt=c["prompt"], add_special_tokens=True, n_tokens=len(c["input_ids"]),
             input_ids=c["input_ids"], greedy=r["greedy"],
             greedy_text=tok.decode(r["greedy"], skip_special_tokens=False),
             greedy_stopped_at_eos=r["stopped"], greedy_min_top2_rel_gap=round(r["min_gap"], 6),
             greedy_matches_no_cache_recompute=r.get("nocache_equal"))
    if extra:
        d.update(extra)
    return d


LOGIT_TAIL = 4


def write_decoder_reference(name, folder, cases, results, tok, gen_cfg, seed, std, meta):
    tensors = {}
    jcases = []
    for i, (c, r) in enumerate(zip(cases, results)):
        cn = f"case{i}"
        tensors[f"{cn}.input_ids"] = torch.tensor(c["input_ids"], dtype=torch.int32)
        # Size budget: case0 keeps every position, the others their last LOGIT_TAIL
        # positions (which attend to, and so check, every earlier position).
        keep = r["logits"] if i == 0 else r["logits"][-LOGIT_TAIL:]
        tensors[f"{cn}.logits"] = keep.contiguous()
        tensors[f"{cn}.greedy"] = torch.tensor(r["greedy"], dtype=torch.int32)
        jcases.append(decoder_case_json(cn, c, r, tok, r.get("extra")))
    REF.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file(tensors, str(REF / f"{name}.safetensors"), metadata={"format": "pt"})
    eos = gen_cfg.eos_token_id
    doc = {
        "model": name,
        "model_dir": rel(folder),
        "generator": "tools/make_fixtures.py",
        "versions": VERSIONS,
        "weights": {"seed": seed, "std": std, "stored_dtype": "bfloat16",
                    "norm_weights": "1 + N(0, 0.1)", "note": "references computed in float32 from the bf16-rounded weights"},
        "tokenizer": "PreTrainedTokenizerFast on tokenizer.json (add_special_tokens=True)",
        "attn_implementation": "eager",
        "max_new_tokens": MAX_NEW,
        "eos_token_ids": eos if isinstance(eos, list) else [eos],
        "greedy_note": "greedy = generate(do_sample=False, max_new_tokens=32) new ids, including the "
                       "eos id if generation stopped on one",
        "logits_note": f"caseN.logits [P, V] are the logits of the LAST P prompt positions: every "
                       f"position for case0, the last {LOGIT_TAIL} for the other cases (size budget)",
        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                    for k, v in tensors.items()},
        "cases": jcases,
    }
    doc.update(meta)
    write_json(REF / f"{name}.json", doc)


def search_seed(label, base_seed, build_and_check):
    for seed in range(base_seed, base_seed + MAX_SEED_TRIES):
        if build_and_check(seed):
            log(f"  {label}: seed {seed} accepted after {seed - base_seed + 1} tries")
            return seed
    raise SystemExit(f"{label}: no seed in {MAX_SEED_TRIES} tries passed the top-2 gap check")


def make_llama_like(name, folder, model, tok, gen_cfg, prompts, base_seed, std, meta):
    cases = render_prompts(tok, prompts)

    def check(seed):
        init_weights(model, seed, std, torch.bfloat16)
        return run_decoder(model, cases, gen_cfg, check_only=True)[0]

    seed = search_seed(name, base_seed, check)
    init_weights(model, seed, std, torch.bfloat16)
    ok, results = run_decoder(model, cases, gen_cfg)
    assert ok
    for c, r in zip(cases, results):
        r["nocache_equal"] = greedy_nocache(model, c["input_ids"], gen_cfg) == r["greedy"]
    tensor_index = save_weights(model, torch.bfloat16, folder)
    meta = dict(meta, weight_tensors=tensor_index)
    write_decoder_reference(name, folder, cases, results, tok, gen_cfg, seed, std, meta)
    return cases, results


# --------------------------------------------------------------------------------------- chat

def make_chat_fixture(name, folder, tok):
    convs = []
    for cname, msgs in CHAT_CONVERSATIONS:
        entry = {"name": cname, "messages": msgs}
        for key, agp in (("with_generation_prompt", True), ("without_generation_prompt", False)):
            try:
                text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=agp)
                entry[key] = {"text": text}
                if agp:
                    ids = tok.apply_chat_template(msgs, tokenize=True, add_generation_prompt=True,
                                                  return_dict=False)
                    assert ids == tok(text, add_special_tokens=False)["input_ids"]
                    entry[key]["ids"] = ids
            except Exception as e:  # noqa: BLE001 - record whatever the template raises
                entry[key] = {"error": f"{type(e).__name__}: {e}"}
        convs.append(entry)
    doc = {
        "model": name,
        "tokenizer_dir": rel(folder),
        "generator": "tools/make_fixtures.py",
        "versions": VERSIONS,
        "chat_template": tok.chat_template,
        "template_variables": {k: v for k, v in tok.special_tokens_map.items() if isinstance(v, str)},
        "jinja_environment": "jinja2 ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, "
                             "extensions=[loopcontrols]); messages with a None value drop that key",
        "ids_note": "ids = apply_chat_template(tokenize=True, add_generation_prompt=True), i.e. the "
                    "rendered text tokenized with add_special_tokens=False (no BOS is added by HF here)",
        "conversations": convs,
    }
    write_json(CHAT / f"{name}.json", doc)


# --------------------------------------------------------------------------------------- models

def make_tinyllama(shared):
    name = "tinyllama"
    folder = MODELS / name
    fresh_dir(folder)
    build_tinyllama_folder(shared, folder)
    tok = load_tok(folder)
    gen_cfg = GenerationConfig.from_pretrained(str(folder))
    model = causal_lm_from_folder_config(folder)
    make_llama_like(name, folder, model, tok, gen_cfg, DECODER_PROMPTS[name], 1000, 0.1, {
        "architecture": "LlamaForCausalLM",
        "config_note": "TinyLlama-1.1B-Chat-v1.0 config.json with hidden_size, intermediate_size, "
                       "num_hidden_layers, num_attention_heads, num_key_value_heads replaced",
        "tokenizer_files_note": "tokenizer.json = the published TinyLlama/Llama-2 file (sha256 "
                                + TINYLLAMA_TOKENIZER_SHA256 + "); tokenizer_config.json, "
                                "special_tokens_map.json, generation_config.json copied unchanged",
    })
    make_chat_fixture(name, folder, tok)


def make_smollm2(shared):
    name = "smollm2"
    folder = MODELS / name
    fresh_dir(folder)
    vocab = build_smollm2_tokenizer(shared, folder)
    tok = load_tok(folder)
    bos, eos = tok.convert_tokens_to_ids("<|im_start|>"), tok.convert_tokens_to_ids("<|im_end|>")
    cfg = smollm2_config(vocab, bos, eos)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32).eval()
    gen_cfg = GenerationConfig(bos_token_id=bos, eos_token_id=eos, pad_token_id=eos)
    model.generation_config = copy.deepcopy(gen_cfg)
    cases, results = make_llama_like(name, folder, model, tok, gen_cfg, DECODER_PROMPTS[name], 2000, 0.1, {
        "architecture": "LlamaForCausalLM (tied embeddings)",
        "config_note": "config.json and generation_config.json exactly as transformers "
                       + transformers.__version__ + " save_pretrained writes them (rope_parameters "
                       "dict, head_dim, dtype keys)",
        "tokenizer_files_note": "GPT-2 byte-level BPE tokenizer.json + <|im_start|> (bos) and "
                                "<|im_end|> (eos/pad) added as special tokens, SmolLM2-Instruct "
                                "chat_template in tokenizer_config.json; written by save_pretrained",
    })
    # model.safetensors came from save_weights; now let save_pretrained write config + generation config
    with tempfile.TemporaryDirectory() as tmp:
        m = copy.deepcopy(model).to(torch.bfloat16)
        m.save_pretrained(tmp)
        for f in ("config.json", "generation_config.json"):
            shutil.copy(os.path.join(tmp, f), folder / f)
        assert sha256(os.path.join(tmp, "model.safetensors")) == sha256(folder / "model.safetensors")
    make_chat_fixture(name, folder, tok)


def make_phi3(shared):
    folder = MODELS / "phi3"
    lr_folder = MODELS / "phi3_longrope"
    fresh_dir(folder)
    fresh_dir(lr_folder)
    build_phi3_tokenizer(shared, folder)
    write_json(folder / "config.json", phi3_config_dict(longrope=False))
    write_json(lr_folder / "config.json", phi3_config_dict(longrope=True))
    gen_cfg = GenerationConfig(**PHI3_GENERATION)
    gen_cfg.save_pretrained(str(folder))
    gen_cfg.save_pretrained(str(lr_folder))
    tok = load_tok(folder)
    model = causal_lm_from_folder_config(folder)
    lr_model = causal_lm_from_folder_config(lr_folder)
    cases = render_prompts(tok, DECODER_PROMPTS["phi3"])
    lr_cases = render_prompts(tok, DECODER_PROMPTS["phi3_longrope"])
    assert any(len(c["input_ids"]) >= 40 for c in lr_cases)
    std = 0.1

    def load_both(seed):
        init_weights(model, seed, std, torch.bfloat16)
        lr_model.load_state_dict(model.state_dict())

    def check(seed):
        load_both(seed)
        return (run_decoder(model, cases, gen_cfg, check_only=True)[0]
                and run_decoder(lr_model, lr_cases, gen_cfg, check_only=True)[0])

    seed = search_seed("phi3 + phi3_longrope", 3000, check)
    load_both(seed)
    tensor_index = save_weights(model, torch.bfloat16, folder)
    omp = LONGROPE_ORIGINAL_MAX
    for label, m, cs, fold in (("phi3", model, cases, folder), ("phi3_longrope", lr_model, lr_cases, lr_folder)):
        ok, results = run_decoder(m, cs, gen_cfg)
        assert ok
        for c, r in zip(cs, results):
            r["nocache_equal"] = greedy_nocache(m, c["input_ids"], gen_cfg) == r["greedy"]
            if label == "phi3_longrope":
                t = len(c["input_ids"])
                # generated token k (0-based) is predicted by a forward whose longest position is t+k-1
                first_long = 0 if t > omp else omp - t + 1
                r["extra"] = {
                    "prefill_rope_factors": "long" if t > omp else "short",
                    "first_greedy_step_with_long_factors": first_long if first_long < len(r["greedy"]) else None,
                }
        meta = {
            "architecture": "Phi3ForCausalLM",
            "weight_tensors": tensor_index,
        }
        if label == "phi3":
            meta["config_note"] = ("Phi3Config() defaults (= Phi-3-mini-4k-instruct) scaled down, in the "
                                   "published config.json layout (rope_theta, rope_scaling: null, "
                                   "sliding_window 2047); GQA 4 heads / 2 kv heads")
            meta["tokenizer_files_note"] = ("tokenizer.json and tokenizer_config.json of "
                                            "Phi-3-mini-4k-instruct copied unchanged")
        else:
            meta["config_note"] = ("phi3 config with the 128k variant's rope: rope_scaling {type: longrope, "
                                   "short_factor, long_factor}, original_max_position_embeddings "
                                   f"{omp}, max_position_embeddings {omp * 32}")
            meta["assemble"] = {
                "note": "models/phi3_longrope holds only config.json and generation_config.json; "
                        "a loadable folder = every other file of models/phi3 + these two",
                "weights_and_tokenizer_from": rel(folder),
                "config_from": rel(lr_folder),
            }
            meta["longrope"] = {
                "original_max_position_embeddings": omp,
                "max_position_embeddings": omp * 32,
                "short_factor": LONGROPE_SHORT, "long_factor": LONGROPE_LONG,
                "attention_scaling": float(lr_model.model.rotary_emb.attention_scaling),
                "short_inv_freq": lr_model.model.rotary_emb.original_inv_freq.tolist(),
                "long_inv_freq": ROPE_INIT_FUNCTIONS["longrope"](lr_model.config, None, seq_len=omp + 1)[0].tolist(),
                "selection": "per forward call: long factors iff max(position_ids)+1 > "
                             "original_max_position_embeddings; generate() drops the KV cache and "
                             "recomputes the whole sequence the first time the length reaches "
                             "original_max_position_embeddings+1",
            }
        write_decoder_reference(label, fold, cs, results, tok, gen_cfg, seed, std, meta)
    make_chat_fixture("phi3", folder, tok)


def make_distilbert(shared):
    name = "distilbert_sst2"
    folder = MODELS / name
    fresh_dir(folder)
    build_distilbert_tokenizer(shared, folder)
    write_json(folder / "config.json", distilbert_config_dict())
    tok = load_tok(folder)
    tok_db = DistilBertTokenizerFast.from_pretrained(str(folder))
    cfg = AutoConfig.from_pretrained(str(folder))
    model = AutoModelForSequenceClassification.from_config(cfg, attn_implementation="eager",
                                                           dtype=torch.float32).eval()
    texts = DISTILBERT_TEXTS
    enc = tok(texts, padding=True, truncation=True, return_tensors="pt")
    enc_db = tok_db(texts, padding=True, truncation=True, return_tensors="pt")
    assert torch.equal(enc["input_ids"], enc_db["input_ids"])
    untruncated = [len(tok(t)["input_ids"]) for t in texts]
    assert max(untruncated) > 512 and enc["input_ids"].shape[1] == 512
    std = 0.1

    def forward(seed):
        init_weights(model, seed, std, torch.float16)
        with torch.no_grad():
            return model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits

    def check(seed):
        lg = forward(seed)
        labels = lg.argmax(-1).tolist()
        margins = (lg[:, 0] - lg[:, 1]).abs() / lg.abs().max()
        # cosmetic (the weights are random): the two obvious texts get their intuitive label
        return labels[0] == 1 and labels[1] == 0 and float(margins.min()) > GAP_REL

    seed = search_seed(name, 4000, check)
    logits = forward(seed).to(torch.float32).contiguous()
    probs = torch.softmax(logits, dim=-1)
    tensors = {
        "batch.input_ids": enc["input_ids"].to(torch.int32),
        "batch.attention_mask": enc["attention_mask"].to(torch.int32),
        "batch.logits": logits,
        "batch.probs": probs.contiguous(),
    }
    singles = []
    for i, t in enumerate(texts):
        e = tok(t, truncation=True, return_tensors="pt")
        with torch.no_grad():
            lg = model(**e).logits[0].to(torch.float32)
        n = int(enc["attention_mask"][i].sum())
        assert torch.equal(e["input_ids"][0], enc["input_ids"][i, :n])
        tensors[f"single{i}.input_ids"] = e["input_ids"][0].to(torch.int32)
        tensors[f"single{i}.logits"] = lg.contiguous()
        singles.append({
            "index": i, "text": t, "n_tokens": n, "untruncated_n_tokens": untruncated[i],
            "truncated": untruncated[i] > n,
            "label": cfg.id2label[int(lg.argmax())],
            "max_abs_diff_single_vs_batch": float((lg - logits[i]).abs().max()),
        })
    tensor_index = save_weights(model, torch.float16, folder)
    REF.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file(tensors, str(REF / f"{name}.safetensors"), metadata={"format": "pt"})
    doc = {
        "model": name,
        "model_dir": rel(folder),
        "generator": "tools/make_fixtures.py",
        "versions": VERSIONS,
        "architecture": "DistilBertForSequenceClassification",
        "config_note": "published distilbert-base-uncased-finetuned-sst-2-english config.json layout "
                       "(= DistilBertConfig() defaults + SST-2 head) with dim 64, 2 layers, 4 heads, "
                       "hidden_dim 128",
        "weights": {"seed": seed, "std": std, "stored_dtype": "float16", "norm_weights": "1 + N(0, 0.1)",
                    "biases": "N(0, 0.05)", "note": "references computed in float32 from the fp16-rounded weights"},
        "weight_tensors": tensor_index,
        "attn_implementation": "eager",
        "tokenizer": "tokenizer.json (BERT uncased WordPiece from the SST-2 vocab.txt) via "
                     "PreTrainedTokenizerFast; identical ids from DistilBertTokenizerFast",
        "tokenize_call": "tokenizer(texts, padding=True, truncation=True) -> max_length = "
                         "model_max_length 512, padding_side right, pad id 0, truncation_side right",
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "texts": texts,
        "batch_labels": [cfg.id2label[int(i)] for i in logits.argmax(-1)],
        "singles": singles,
        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                    for k, v in tensors.items()},
    }
    write_json(REF / f"{name}.json", doc)


# --------------------------------------------------------------------------------------- verify

def verify_decoder(name, folder, scratch=None):
    src = folder
    if scratch is not None:  # assemble phi3_longrope
        src = pathlib.Path(scratch) / name
        shutil.copytree(MODELS / "phi3", src)
        for f in ("config.json", "generation_config.json"):
            shutil.copy(folder / f, src / f)
    model = AutoModelForCausalLM.from_pretrained(str(src), dtype=torch.float32, attn_implementation="eager").eval()
    tok = load_tok(src)
    raw = tokenizers.Tokenizer.from_file(str(src / "tokenizer.json"))
    doc = json.loads((REF / f"{name}.json").read_text(encoding="utf-8"))
    ref = safetensors.torch.load_file(str(REF / f"{name}.safetensors"))
    worst = 0.0
    for c in doc["cases"]:
        ids = ref[f"{c['name']}.input_ids"].tolist()
        assert ids == c["input_ids"] == tok(c["prompt"])["input_ids"] == raw.encode(c["prompt"]).ids, name
        x = torch.tensor([ids])
        with torch.no_grad():
            lg = model(x, use_cache=False).logits[0]
            g = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=MAX_NEW)
        stored = ref[f"{c['name']}.logits"]
        diff = float((lg[-stored.shape[0]:] - stored).abs().max())
        worst = max(worst, diff)
        assert diff <= 1e-6, (name, c["name"], diff)
        assert g[0, len(ids):].tolist() == ref[f"{c['name']}.greedy"].tolist(), (name, c["name"])
    log(f"  verify {name}: reloaded from_pretrained, logits max |diff| = {worst:.3g}, greedy identical")


def verify_distilbert():
    name = "distilbert_sst2"
    folder = MODELS / name
    model = AutoModelForSequenceClassification.from_pretrained(str(folder), dtype=torch.float32,
                                                               attn_implementation="eager").eval()
    tok = load_tok(folder)
    doc = json.loads((REF / f"{name}.json").read_text(encoding="utf-8"))
    ref = safetensors.torch.load_file(str(REF / f"{name}.safetensors"))
    enc = tok(doc["texts"], padding=True, truncation=True, return_tensors="pt")
    assert torch.equal(enc["input_ids"].to(torch.int32), ref["batch.input_ids"])
    assert torch.equal(enc["attention_mask"].to(torch.int32), ref["batch.attention_mask"])
    with torch.no_grad():
        lg = model(**enc).logits
    diff = float((lg - ref["batch.logits"]).abs().max())
    assert diff <= 1e-6, diff
    sd = max(s["max_abs_diff_single_vs_batch"] for s in doc["singles"])
    log(f"  verify {name}: reloaded from_pretrained, batch logits max |diff| = {diff:.3g}; "
        f"single-vs-batch max |diff| = {sd:.3g}")


# --------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default="/work/shared/models", type=pathlib.Path,
                    help="folder with the real tokenizer/config files (default: %(default)s)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    log(f"transformers {transformers.__version__}, torch {torch.__version__}, tokenizers {tokenizers.__version__}")
    make_tinyllama(args.shared)
    make_smollm2(args.shared)
    make_phi3(args.shared)
    make_distilbert(args.shared)
    log("verifying")
    with tempfile.TemporaryDirectory() as scratch:
        for name in ("tinyllama", "smollm2", "phi3"):
            verify_decoder(name, MODELS / name)
        verify_decoder("phi3_longrope", MODELS / "phi3_longrope", scratch)
    verify_distilbert()
    total = 0
    for d in (MODELS, REF, CHAT):
        for p in sorted(d.rglob("*")):
            if p.is_file():
                total += p.stat().st_size
                log(f"  {p.stat().st_size:>10}  {rel(p)}")
    log(f"  {total:>10}  total ({total / 1e6:.1f} MB)")


if __name__ == "__main__":
    sys.exit(main())
