#!/usr/bin/env python3
"""Random-weight models at real shapes, for benchmarking slm against llama.cpp.

Writes Hugging Face folders (config, tokenizer, model.safetensors) under
bench/models/ and, for the two decoders, GGUF files holding the SAME weights
for llama.cpp:

  tinyllama-1.1b/    LlamaForCausalLM, TinyLlama-1.1B-Chat-v1.0 config (real file),
                     hidden 2048, inter 5632, 22 layers, 32/4 heads, vocab 32000, bf16
  phi-3-mini-4k/     Phi3ForCausalLM, Phi3Config() sizes (hidden 3072, inter 8192,
                     32 layers, 32 heads, vocab 32064), bf16, two safetensors shards
  distilbert-base-sst2/  DistilBertForSequenceClassification, DistilBertConfig() sizes,
                     labels NEGATIVE/POSITIVE, f32
  <model>-<fmt>.gguf for fmt in f32, f16, bf16, q8_0, q4_0 (decoders only)

Weights: every tensor comes from its own generator seeded with (seed, crc32(name)),
so any tensor can be regenerated alone. Matrices and embeddings are N(0, 0.02)
(HF's initializer_range), norm weights 1 + N(0, 0.02), biases N(0, 0.02) (DistilBERT
only); DistilBERT's [PAD] embedding row is zero as in HF init. Values are rounded to
the folder's dtype (bf16 for the decoders) before they are stored.

GGUF files are converted FROM the safetensors just written (read back tensor by tensor),
like llama.cpp's convert_hf_to_gguf.py, so both engines see the same values:
  * llama: q_proj/k_proj rows permuted to llama.cpp's RoPE layout (LlamaModel.permute);
  * phi3: qkv_proj -> attn_qkv and gate_up_proj -> ffn_up kept fused, no permutation;
  * every 2-D matrix (embeddings and lm head too) is stored in the requested format,
    1-D norm weights stay F32 (as convert_hf_to_gguf does). F16 is the bf16 value
    rounded to f16; BF16 is bit-identical; Q8_0/Q4_0 use gguf.quants, which is
    bit-exact with ggml's reference quantizers (quantize_row_q8_0_ref/q4_0_ref);
  * vocab: tokens from tokenizer.json, scores/types from the Llama-2 SentencePiece
    model (TinyLlama's tokenizer.model; Phi-3 shares its first 32000 pieces),
    added tokens CONTROL, padding [PADn] UNUSED. This is a SentencePiece ("llama")
    vocab, so there are no BPE merges to write.

Everything is resumable: a file that exists is skipped; files are written to a
temporary name and renamed when complete. Memory stays below ~6 GB (one safetensors
shard at a time; GGUF tensors are streamed one by one).

Usage:
  .venv/bin/python tools/make_random_model.py                       # tinyllama + distilbert, all GGUF formats
  .venv/bin/python tools/make_random_model.py --models tinyllama --formats bf16,q4_0
  .venv/bin/python tools/make_random_model.py --models phi3 --formats q4_0   # ~8 GB folder + GGUFs
  .venv/bin/python tools/make_random_model.py --models all --formats all      # ~60 GB in total
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path("/work/shared/models")
FIXTURES = ROOT / "tests" / "fixtures" / "models"
SPM_MODEL = SHARED / "tinyllama-1.1b-chat-v1.0" / "tokenizer.model"  # Llama-2 SentencePiece model
SHARD_BYTES = 5 * 10**9  # HF's 5GB shard size
STD = 0.02
GGUF_FORMATS = ["f32", "f16", "bf16", "q8_0", "q4_0"]


def log(*a):
    print(*a, flush=True)


def human(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


# ---------------------------------------------------------------- model specs


def tinyllama_spec():
    src = SHARED / "tinyllama-1.1b-chat-v1.0"
    cfg = json.loads((src / "config.json").read_text())
    files = {
        "config.json": src / "config.json",  # the real published file, unchanged
        "generation_config.json": src / "generation_config.json",
        "special_tokens_map.json": src / "special_tokens_map.json",
        "tokenizer_config.json": src / "tokenizer_config.json",
        # the shared tokenizer.json is corrupted (see tests/fixtures/models/NOTES.md)
        "tokenizer.json": FIXTURES / "tinyllama" / "tokenizer.json",
    }
    return dict(name="tinyllama-1.1b", arch="llama", cfg=cfg, files=files, dtype="bf16",
                tensors=decoder_tensors(cfg, fused=False))


def phi3_spec():
    from transformers import Phi3Config

    d = Phi3Config()
    # Template: the published (transformers 4.x) Phi-3 config layout used by the test fixture,
    # with every size taken from Phi3Config() defaults (= Phi-3-mini-4k-instruct).
    cfg = json.loads((FIXTURES / "phi3" / "config.json").read_text())
    for k in ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
              "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
              "original_max_position_embeddings", "rms_norm_eps", "bos_token_id",
              "eos_token_id", "pad_token_id", "tie_word_embeddings", "initializer_range"]:
        cfg[k] = getattr(d, k)
    cfg["rope_theta"] = d.rope_parameters["rope_theta"]
    cfg["torch_dtype"] = "bfloat16"
    src = SHARED / "phi-3-mini-4k-instruct"
    files = {
        "generation_config.json": FIXTURES / "phi3" / "generation_config.json",
        "tokenizer.json": src / "tokenizer.json",
        "tokenizer_config.json": src / "tokenizer_config.json",
    }
    return dict(name="phi-3-mini-4k", arch="phi3", cfg=cfg, files=files, dtype="bf16",
                tensors=decoder_tensors(cfg, fused=True))


def distilbert_spec():
    from transformers import DistilBertConfig

    d = DistilBertConfig()
    cfg = json.loads((FIXTURES / "distilbert_sst2" / "config.json").read_text())
    for k in ["vocab_size", "max_position_embeddings", "n_layers", "n_heads", "dim",
              "hidden_dim", "activation", "sinusoidal_pos_embds", "pad_token_id"]:
        cfg[k] = getattr(d, k)
    cfg["torch_dtype"] = "float32"
    src = FIXTURES / "distilbert_sst2"
    files = {"tokenizer.json": src / "tokenizer.json",
             "tokenizer_config.json": src / "tokenizer_config.json"}
    dim, hid, V, P = cfg["dim"], cfg["hidden_dim"], cfg["vocab_size"], cfg["max_position_embeddings"]
    t = [("distilbert.embeddings.word_embeddings.weight", (V, dim), "emb"),
         ("distilbert.embeddings.position_embeddings.weight", (P, dim), "mat"),
         ("distilbert.embeddings.LayerNorm.weight", (dim,), "norm"),
         ("distilbert.embeddings.LayerNorm.bias", (dim,), "bias")]
    for i in range(cfg["n_layers"]):
        p = f"distilbert.transformer.layer.{i}."
        for lin in ["q_lin", "k_lin", "v_lin", "out_lin"]:
            t += [(p + f"attention.{lin}.weight", (dim, dim), "mat"), (p + f"attention.{lin}.bias", (dim,), "bias")]
        t += [(p + "sa_layer_norm.weight", (dim,), "norm"), (p + "sa_layer_norm.bias", (dim,), "bias"),
              (p + "ffn.lin1.weight", (hid, dim), "mat"), (p + "ffn.lin1.bias", (hid,), "bias"),
              (p + "ffn.lin2.weight", (dim, hid), "mat"), (p + "ffn.lin2.bias", (dim,), "bias"),
              (p + "output_layer_norm.weight", (dim,), "norm"), (p + "output_layer_norm.bias", (dim,), "bias")]
    t += [("pre_classifier.weight", (dim, dim), "mat"), ("pre_classifier.bias", (dim,), "bias"),
          ("classifier.weight", (2, dim), "mat"), ("classifier.bias", (2,), "bias")]
    return dict(name="distilbert-base-sst2", arch=None, cfg=cfg, files=files, dtype="f32", tensors=t)


def decoder_tensors(cfg, fused: bool):
    H, I, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = H // nh
    t = [("model.embed_tokens.weight", (V, H), "emb")]
    for i in range(L):
        p = f"model.layers.{i}."
        t.append((p + "input_layernorm.weight", (H,), "norm"))
        if fused:
            t.append((p + "self_attn.qkv_proj.weight", ((nh + 2 * nkv) * hd, H), "mat"))
        else:
            t += [(p + "self_attn.q_proj.weight", (nh * hd, H), "mat"),
                  (p + "self_attn.k_proj.weight", (nkv * hd, H), "mat"),
                  (p + "self_attn.v_proj.weight", (nkv * hd, H), "mat")]
        t.append((p + "self_attn.o_proj.weight", (H, nh * hd), "mat"))
        t.append((p + "post_attention_layernorm.weight", (H,), "norm"))
        if fused:
            t.append((p + "mlp.gate_up_proj.weight", (2 * I, H), "mat"))
        else:
            t += [(p + "mlp.gate_proj.weight", (I, H), "mat"), (p + "mlp.up_proj.weight", (I, H), "mat")]
        t.append((p + "mlp.down_proj.weight", (H, I), "mat"))
    t += [("model.norm.weight", (H,), "norm"), ("lm_head.weight", (V, H), "mat")]
    return t


SPECS = {"tinyllama": tinyllama_spec, "phi3": phi3_spec, "distilbert": distilbert_spec}


# ---------------------------------------------------------------- safetensors folder


def gen_tensor(name: str, shape, kind: str, seed: int, pad_row: int | None = None) -> np.ndarray:
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    x = rng.standard_normal(shape, dtype=np.float32)
    x *= np.float32(STD)
    if kind == "norm":
        x += np.float32(1.0)
    if kind == "emb" and pad_row is not None:
        x[pad_row] = 0
    return x


def write_folder(spec, out_root: Path, seed: int) -> Path:
    import torch
    from safetensors.torch import save_file

    out = out_root / spec["name"]
    out.mkdir(parents=True, exist_ok=True)
    for dst, src in spec["files"].items():
        if not (out / dst).exists():
            shutil.copyfile(src, out / dst)
    if not (out / "config.json").exists():
        (out / "config.json").write_text(json.dumps(spec["cfg"], indent=2) + "\n")

    tdtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[spec["dtype"]]
    esize = torch.finfo(tdtype).bits // 8
    # plan the shards from the shapes
    shards, cur, cur_bytes = [], [], 0
    for name, shape, kind in spec["tensors"]:
        nbytes = int(np.prod(shape)) * esize
        if cur and cur_bytes + nbytes > SHARD_BYTES:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append((name, shape, kind))
        cur_bytes += nbytes
    shards.append(cur)
    n = len(shards)
    names = ["model.safetensors"] if n == 1 else [f"model-{i + 1:05d}-of-{n:05d}.safetensors" for i in range(n)]
    pad = spec["cfg"].get("pad_token_id") if spec["arch"] is None else None

    for fname, tensors in zip(names, shards):
        path = out / fname
        if path.exists():
            log(f"  exists  {path.relative_to(ROOT)} ({human(path.stat().st_size)})")
            continue
        t0 = time.time()
        d = {}
        for name, shape, kind in tensors:
            d[name] = torch.from_numpy(gen_tensor(name, shape, kind, seed, pad)).to(tdtype)
        tmp = path.with_suffix(".tmp")
        save_file(d, str(tmp), metadata={"format": "pt"})
        del d
        os.replace(tmp, path)
        log(f"  wrote   {path.relative_to(ROOT)} ({human(path.stat().st_size)}, {time.time() - t0:.0f} s)")
    if n > 1:
        idx = out / "model.safetensors.index.json"
        if not idx.exists():
            total = sum(int(np.prod(s)) * esize for _, s, _ in spec["tensors"])
            wmap = {name: fname for fname, ts in zip(names, shards) for name, _, _ in ts}
            idx.write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": wmap}, indent=2) + "\n")
    return out


# ---------------------------------------------------------------- GGUF


class FolderReader:
    """Reads tensors of an HF folder one at a time (single file or sharded)."""

    def __init__(self, folder: Path):
        from safetensors import safe_open

        idx = folder / "model.safetensors.index.json"
        files = sorted(set(json.loads(idx.read_text())["weight_map"].values())) if idx.exists() else ["model.safetensors"]
        self.handles = {}
        for f in files:
            h = safe_open(str(folder / f), framework="pt")
            for k in h.keys():
                self.handles[k] = h

    def shape(self, name):
        return tuple(self.handles[name].get_slice(name).get_shape())

    def get(self, name):
        return self.handles[name].get_tensor(name)  # torch tensor in the stored dtype


def llama_permute(w: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """convert_hf_to_gguf.py LlamaModel.permute: HF rotate-half layout -> GGML interleaved RoPE."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def gguf_name_map(spec):
    cfg = spec["cfg"]
    m = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
         "lm_head.weight": "output.weight"}
    sub = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
           "self_attn.v_proj": "attn_v", "self_attn.qkv_proj": "attn_qkv", "self_attn.o_proj": "attn_output",
           "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
           "mlp.gate_up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    for name, _, _ in spec["tensors"]:
        if name.startswith("model.layers."):
            i, rest = name[len("model.layers."):].split(".", 1)
            m[name] = f"blk.{i}.{sub[rest[:-len('.weight')]]}.weight"
    return m


def spm_vocab(folder: Path, vocab_size: int):
    """tokens/scores/types like convert_hf_to_gguf.py _create_vocab_sentencepiece."""
    import gguf
    import sentencepiece as spm

    T = gguf.TokenType
    sp = spm.SentencePieceProcessor(model_file=str(SPM_MODEL))
    tj = json.loads((folder / "tokenizer.json").read_text())
    inv = {i: t for t, i in tj["model"]["vocab"].items()}
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        piece = sp.id_to_piece(i)
        if inv.get(i) != piece:
            raise SystemExit(f"tokenizer.json id {i} is {inv.get(i)!r}, SentencePiece model has {piece!r}")
        t = T.NORMAL
        if sp.is_unknown(i):
            t = T.UNKNOWN
        elif sp.is_control(i):
            t = T.CONTROL
        elif sp.is_unused(i):
            t = T.UNUSED
        elif sp.is_byte(i):
            t = T.BYTE
        tokens.append(piece)
        scores.append(sp.get_score(i))
        types.append(t)
    added = {a["id"]: a for a in tj.get("added_tokens", [])}
    for i in range(sp.vocab_size(), vocab_size):
        if i in added:
            tokens.append(added[i]["content"])
            types.append(T.CONTROL if added[i].get("special") else T.USER_DEFINED)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(T.UNUSED)
        scores.append(-1000.0)
    return tokens, scores, types


GGML_TYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16", "q8_0": "Q8_0", "q4_0": "Q4_0"}
FILE_TYPE = {"f32": "ALL_F32", "f16": "MOSTLY_F16", "bf16": "MOSTLY_BF16", "q8_0": "MOSTLY_Q8_0",
             "q4_0": "MOSTLY_Q4_0"}


def encode(x32: np.ndarray, bf16_bits: np.ndarray | None, fmt: str):
    """-> (array to write, raw ggml type or None)."""
    import gguf
    from gguf import GGMLQuantizationType as Q

    if fmt == "f32":
        return x32, None
    if fmt == "f16":
        return x32.astype(np.float16), None
    if fmt == "bf16":
        if bf16_bits is not None:
            return bf16_bits.view(np.uint8), Q.BF16  # byte shape; rows x 2*cols
        return gguf.quants.quantize(x32, Q.BF16), Q.BF16
    q = Q.Q8_0 if fmt == "q8_0" else Q.Q4_0
    return gguf.quants.quantize(x32, q), q


def write_gguf(spec, folder: Path, fmt: str, out_path: Path):
    import gguf
    import torch

    cfg = spec["cfg"]
    arch = spec["arch"]
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    V = cfg["vocab_size"]
    rd = FolderReader(folder)
    names = gguf_name_map(spec)
    tmp = out_path.with_name(out_path.name + ".tmp")
    w = gguf.GGUFWriter(str(tmp), arch)

    # ---- metadata (what convert_hf_to_gguf.py writes for these archs)
    w.add_name(spec["name"] + " (random weights)")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(H)
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(nh)
    w.add_head_count_kv(nkv)
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
    w.add_rope_dimension_count(H // nh)
    if arch == "phi3":
        w.add_rope_scaling_orig_ctx_len(cfg["original_max_position_embeddings"])
    else:
        w.add_vocab_size(V)
    w.add_file_type(getattr(gguf.LlamaFileType, FILE_TYPE[fmt]))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    tokens, scores, types = spm_vocab(folder, V)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    tc = json.loads((folder / "tokenizer_config.json").read_text())
    tok_id = {t: i for i, t in enumerate(tokens)}

    def tok(v):
        return v if isinstance(v, str) or v is None else v.get("content")

    for key, fn in [("bos_token", w.add_bos_token_id), ("eos_token", w.add_eos_token_id),
                    ("unk_token", w.add_unk_token_id), ("pad_token", w.add_pad_token_id)]:
        t = tok(tc.get(key))
        if t in tok_id:
            fn(tok_id[t])
    w.add_add_bos_token(bool(tc.get("add_bos_token", True)))
    w.add_add_eos_token(bool(tc.get("add_eos_token", False)))
    if tc.get("chat_template"):
        w.add_chat_template(tc["chat_template"])

    # ---- tensor infos (shapes only), then stream the data tensor by tensor
    from gguf import GGMLQuantizationType as Q

    plan = []
    for hf_name, _, kind in spec["tensors"]:
        shape = rd.shape(hf_name)
        tfmt = "f32" if len(shape) == 1 else fmt
        qt = getattr(Q, GGML_TYPE[tfmt])
        bs, ts = gguf.GGML_QUANT_SIZES[qt]
        nbytes = int(np.prod(shape)) // bs * ts
        np_dtype = {"f32": np.float32, "f16": np.float16}.get(tfmt, np.uint8)
        byte_shape = shape if np_dtype is not np.uint8 else gguf.quant_shape_to_byte_shape(shape, qt)
        raw = None if np_dtype is not np.uint8 else qt
        w.add_tensor_info(names[hf_name], byte_shape, np.dtype(np_dtype), nbytes, raw_dtype=raw)
        plan.append((hf_name, tfmt, nbytes))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for hf_name, tfmt, nbytes in plan:
        t = rd.get(hf_name)
        perm = None
        if arch == "llama" and hf_name.endswith("q_proj.weight"):
            perm = (nh, nh)
        elif arch == "llama" and hf_name.endswith("k_proj.weight"):
            perm = (nh, nkv)
        bits = None
        if t.dtype == torch.bfloat16 and tfmt == "bf16":
            bits = t.view(torch.int16).numpy()
            if perm:
                bits = llama_permute(bits, *perm)
            bits = np.ascontiguousarray(bits)
        x32 = t.float().numpy()
        if perm:
            x32 = np.ascontiguousarray(llama_permute(x32, *perm))
        data, _ = encode(x32, bits, tfmt)
        assert data.nbytes == nbytes, (hf_name, data.nbytes, nbytes)
        w.write_tensor_data(np.ascontiguousarray(data))
    w.close()
    os.replace(tmp, out_path)


# ---------------------------------------------------------------- verification


def verify(spec, folder: Path, gguf_path: Path, prompt: str, n_gen: int = 8) -> bool:
    """Runs the HF folder in transformers (float32, eager) and the GGUF in llama.cpp
    (llama-cpp-python, f32 KV cache, no flash attention) on one prompt; compares the
    tokenization, the logits at every prompt position and a greedy continuation."""
    import torch
    from llama_cpp import Llama
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(os.cpu_count() or 1)
    tok = AutoTokenizer.from_pretrained(folder)
    ids = tok(prompt)["input_ids"]
    if spec["arch"] == "phi3" or ids[0] != spec["cfg"].get("bos_token_id", 1):
        ids = [spec["cfg"].get("bos_token_id", 1)] + ids  # same input for both engines
    with torch.inference_mode():
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
        model.eval()
        hf = model(torch.tensor([ids])).logits[0].float().numpy()
        out = model.generate(torch.tensor([ids]), max_new_tokens=n_gen, min_new_tokens=n_gen, do_sample=False,
                             max_length=None)[0, len(ids):].tolist()
    del model
    llm = Llama(model_path=str(gguf_path), n_ctx=256, n_batch=256, n_ubatch=256, logits_all=True,
                type_k=0, type_v=0, flash_attn=False, use_mmap=True, verbose=False,
                n_threads=os.cpu_count() or 1)
    lt = llm.tokenize(prompt.encode(), add_bos=True, special=False)
    lt = lt if lt[0] == ids[0] else [ids[0]] + lt
    tok_ok = lt == ids
    llm.eval(ids)
    lc = np.array(llm.scores[: len(ids)], dtype=np.float32)
    diff = np.abs(lc - hf)
    scale = np.abs(hf).max()
    argmax_ok = bool((lc.argmax(-1) == hf.argmax(-1)).all())
    gen = []
    for _ in range(n_gen):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        gen.append(nxt)
        llm.eval([nxt])
    log(f"verify {gguf_path.name} vs {folder.name} (transformers f32): prompt {prompt!r}, {len(ids)} tokens")
    log(f"  tokenization identical: {tok_ok}" + ("" if tok_ok else f" (HF {ids} llama.cpp {lt})"))
    log(f"  logits over {len(ids)} positions: max|diff| {diff.max():.3g}, mean|diff| {diff.mean():.3g}, "
        f"max|logit| {scale:.3g}, rel {diff.max() / scale:.3g}; argmax equal at every position: {argmax_ok}")
    log(f"  greedy {n_gen}: HF {out}")
    log(f"             llama.cpp {gen}  equal: {out == gen}")
    return tok_ok and argmax_ok and out == gen


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="tinyllama,distilbert",
                    help="comma list of tinyllama, phi3, distilbert, or 'all' (default tinyllama,distilbert)")
    ap.add_argument("--formats", default="all",
                    help="GGUF formats: comma list of f32,f16,bf16,q8_0,q4_0, 'all', or 'none'")
    ap.add_argument("--out", default=str(ROOT / "bench" / "models"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--verify", metavar="FMT", help="after generating, compare <model>-FMT.gguf in llama.cpp with "
                    "the HF folder in transformers (float32); use f32 for a near-exact check")
    ap.add_argument("--prompt", default="The quick brown fox jumps over the lazy dog. Once upon a time")
    a = ap.parse_args()
    models = list(SPECS) if a.models == "all" else [m for m in a.models.split(",") if m]
    fmts = GGUF_FORMATS if a.formats == "all" else [] if a.formats == "none" else a.formats.split(",")
    for m in models:
        if m not in SPECS:
            ap.error(f"unknown model {m}")
    for f in fmts:
        if f not in GGUF_FORMATS:
            ap.error(f"unknown format {f}")
    out_root = Path(a.out)
    out_root.mkdir(parents=True, exist_ok=True)
    for m in models:
        spec = SPECS[m]()
        n_params = sum(int(np.prod(s)) for _, s, _ in spec["tensors"])
        log(f"{spec['name']}: {n_params / 1e9:.3f} B parameters, {spec['dtype']}")
        folder = write_folder(spec, out_root, a.seed)
        if spec["arch"] is None:
            continue
        for f in fmts:
            p = out_root / f"{spec['name']}-{f}.gguf"
            if p.exists():
                log(f"  exists  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p} ({human(p.stat().st_size)})")
                continue
            t0 = time.time()
            write_gguf(spec, folder, f, p)
            log(f"  wrote   {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p} "
                f"({human(p.stat().st_size)}, {time.time() - t0:.0f} s)")
    ok = True
    if a.verify:
        for m in models:
            spec = SPECS[m]()
            if spec["arch"]:
                ok &= verify(spec, out_root / spec["name"], out_root / f"{spec['name']}-{a.verify}.gguf", a.prompt)
    log("sizes:")
    for p in sorted(out_root.iterdir()):
        size = sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size
        log(f"  {human(size):>10}  {p.name}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
