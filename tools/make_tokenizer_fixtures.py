#!/usr/bin/env python3
"""make_tokenizer_fixtures.py — reference token ids and decoded text from Hugging Face `tokenizers`.

Run from the repository root with the project venv (needs only the `tokenizers` package):

    .venv/bin/python tools/make_tokenizer_fixtures.py [--shared /work/shared]

It copies the tokenizer files the C tests need into tests/fixtures/ (the tests never read the shared
folder), builds a varied corpus (hand-written strings plus strings generated from a fixed seed), runs
every string through Hugging Face `tokenizers.Tokenizer` and writes what it returns.
stories260K and tinyllama get the whole corpus (about 2050 strings); the variants, which share
the Llama vocabulary, get the hand-written strings, the llama.cpp vectors and every third
generated string. Output is deterministic: rerunning rewrites identical files.

Tokenizers covered (tests/fixtures/tokenizers/variants.json says how each is built):
  stories260K                  weights/stories260K/ (512 pieces: most non-ASCII text is <0x..> bytes)
  tinyllama                    tests/fixtures/tokenizers/tinyllama/ (Llama-2 vocabulary and merges)
  tinyllama-metaspace-first    tinyllama with the non-legacy Llama layout: no normalizer,
                               Metaspace pre-tokenizer (prepend_scheme "first", split false)
  tinyllama-metaspace-split    tinyllama with Metaspace (prepend_scheme "always", split true) as
                               pre-tokenizer and as decoder
  tinyllama-added-flags        tinyllama plus added tokens using every flag (lstrip, rstrip,
                               single_word, normalized, special; a re-added </s>)
  phi-3                        microsoft/Phi-3-mini-4k-instruct, rebuilt from the tinyllama file plus a
                               small overlay (the script checks the rebuild equals the real file)

About the TinyLlama tokenizer.json in the shared folder: its four U+00A0 (no-break space) pieces
were turned into plain spaces somewhere upstream, so three of its "a b" merge strings have more
than one space (e.g. "   ") and Hugging Face refuses to load the file ("Merges text file
invalid"). slm resolves such a merge at the one space where both halves and their concatenation
are vocabulary pieces; the reference here is Hugging Face on the same file with the merges written
as unambiguous ["a", "b"] pairs the same way. Phi-3 ships the intact U+00A0 pieces.

Fixture format (tests/fixtures/tokenizers/<name>.jsonl, UTF-8, one JSON object per line):
  line 1: {"header": {...}} with "tokenizer", "hf_tokenizers" (version), "special_prefix" and
          "special_suffix" (the ids add_special_tokens=True puts around the text), "count".
  then one object per string:
    "text"        the input (or "text_hex": its UTF-8 bytes in hex when it contains U+0000,
                  which cJSON strings cannot hold; the same _hex rule applies to the decode fields)
    "ids"         encode(text, add_special_tokens=False).ids
    "ids_special" encode(text, add_special_tokens=True).ids, only when it is not
                  special_prefix + ids + special_suffix (never, for the tokenizers here)
    "decode"      decode(ids_special, skip_special_tokens=False)
    "decode_skip" decode(ids_special, skip_special_tokens=True)   omitted when equal to "text"
    "decode_plain" decode(ids, skip_special_tokens=False)         omitted when equal to "text"
  and decode-only objects for random id sequences (byte-token runs that are invalid UTF-8,
  special tokens anywhere, ...):
    {"random_ids": [...], "decode": ..., "decode_skip": ...}

tests/fixtures/tokenizer-vectors/ggml-vocab-llama-spm.gguf.{inp,out} are llama.cpp's vectors
(see FORMAT.md in the shared folder); ggml-vocab-llama-spm.exceptions.json lists the strings where
Hugging Face on our tinyllama file disagrees with them, with the reason (currently none).
"""

import argparse
import json
import os
import random
import shutil
import sys

from tokenizers import Tokenizer
import tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
TOKFIX = os.path.join(FIX, "tokenizers")
VECFIX = os.path.join(FIX, "tokenizer-vectors")
SEP = "\n__ggml_vocab_test__\n"


# ---------------------------------------------------------------- tokenizer files


def resolve_merge(merge, vocab):
    """Splits an "a b" merge string at the one space where both halves and the merge are pieces."""
    cuts = [i for i, ch in enumerate(merge)
            if ch == " " and merge[:i] in vocab and merge[i + 1:] in vocab
            and merge[:i] + merge[i + 1:] in vocab]
    if len(cuts) != 1:
        raise SystemExit(f"merge {merge!r}: {len(cuts)} possible splits")
    return [merge[:cuts[0]], merge[cuts[0] + 1:]]


def hf_loadable(tok_json):
    """The same tokenizer with every string merge as an explicit pair (see the docstring)."""
    j = json.loads(json.dumps(tok_json))
    model = j["model"]
    if model.get("merges") and isinstance(model["merges"][0], str):
        model["merges"] = [resolve_merge(m, model["vocab"]) for m in model["merges"]]
    return Tokenizer.from_str(json.dumps(j, ensure_ascii=False))


def apply_variant(base_json, variant):
    """Mirrors apply_variant() in tests/test_tokenizer.c."""
    j = json.loads(json.dumps(base_json))
    for key, value in variant.get("replace", {}).items():
        j[key] = value
    vocab = j["model"]["vocab"]
    for old, new in variant.get("vocab_rename", {}).items():
        vocab[new] = vocab.pop(old)
    for index, merge in variant.get("merges_set", {}).items():
        j["model"]["merges"][int(index)] = merge
    return j


def metaspace(scheme, split):
    return {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": split}


def build_variants(tinyllama_json, phi3_json):
    variants = {
        "tinyllama-metaspace-first": {
            "base": "tinyllama",
            "replace": {"normalizer": None, "pre_tokenizer": metaspace("first", False)},
        },
        "tinyllama-metaspace-split": {
            "base": "tinyllama",
            "replace": {"normalizer": None, "pre_tokenizer": metaspace("always", True),
                        "decoder": metaspace("always", True)},
        },
    }
    # Added tokens with every flag, matched in raw and in normalized text.
    flags = lambda content, **kw: dict({"id": 0, "content": content, "single_word": False,
                                        "lstrip": False, "rstrip": False, "normalized": False,
                                        "special": False}, **kw)
    extra = [flags("<tool>", lstrip=True, rstrip=True, special=True),
             flags("<tool_call>", special=True),
             flags("hello", single_word=True, normalized=True),
             flags("world", single_word=True),
             flags(" sep ", normalized=True),
             flags("caf\u00e9", lstrip=True, single_word=True),
             flags("</s>", rstrip=True, special=True),
             flags("\u2581\u2581", normalized=True, special=True)]
    for i, tok in enumerate(extra):
        tok["id"] = 32000 + i if tok["content"] != "</s>" else 2
    variants["tinyllama-added-flags"] = {
        "base": "tinyllama",
        "replace": {"added_tokens": tinyllama_json["added_tokens"] + extra},
    }
    # Phi-3 = tinyllama + its own added tokens / post-processor + the intact U+00A0 pieces.
    tv, pv = tinyllama_json["model"]["vocab"], phi3_json["model"]["vocab"]
    by_id = {i: p for p, i in pv.items()}
    rename = {p: by_id[i] for p, i in tv.items() if by_id[i] != p}
    merges_set = {str(i): m for i, (a, m) in
                  enumerate(zip(tinyllama_json["model"]["merges"], phi3_json["model"]["merges"]))
                  if a != m}
    replace = {k: phi3_json[k] for k in phi3_json
               if k != "model" and phi3_json[k] != tinyllama_json.get(k)}
    variants["phi-3"] = {"base": "tinyllama", "config": "phi-3/tokenizer_config.json",
                         "replace": replace, "vocab_rename": rename, "merges_set": merges_set}
    rebuilt = apply_variant(tinyllama_json, variants["phi-3"])
    if rebuilt != phi3_json:
        raise SystemExit("phi-3 overlay does not rebuild the real Phi-3 tokenizer.json")
    return variants


# ---------------------------------------------------------------- corpus

HAND = [
    "", " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", " \t\n ",
    "a", "A", "I", ".", "!", "?", "-", "0", "1", "42", "x", " x", "x ", " x ",
    "Hello world", " Hello world", "Hello world ", "  Hello  world  ", "Hello World!",
    "Hello, world!", "hello\nworld", "hello\n\nworld", "hello\tworld", "hello \t world",
    "Once upon a time, there was a little girl named Lily. She loved to play outside.",
    "One day, Tim saw a big red ball in the park. He ran to get it and said, \"Look, Mom!\"",
    "The cat sat on the mat. The dog barked. They were happy and played all day long.",
    "It's a beautiful day, isn't it? Yes -- it is; and we're all going to the beach!",
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX. tHe QuIcK.",
    "Mr. Smith paid $1,234.56 on 2024-03-15 at 10:30am (approx. 15% off).",
    "e-mail: someone@example.com, web: https://example.org/path?q=1&r=2#frag",
    "   leading spaces", "trailing spaces   ", "   both   ", "many          spaces",
    "tabs\t\t\tand\t spaces", "new\nlines\n\n\nand\r\nCRLF", "\n\nstarts with newlines",
    "ends with newlines\n\n", " \n \n ", "\t\n\t\n", "    \n    indented",
    "int main(void) { return 0; }",
    "#include <stdio.h>\n\nint main(int argc, char **argv)\n{\n    printf(\"%d\\n\", argc);\n    return 0;\n}\n",
    "def f(x):\n    if x > 0:\n        return x * 2\n    return -x\n",
    "for (int i = 0; i < n; i++) {\n\tsum += a[i] * b[i];\n}",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
    "<html><body><p class=\"x\">Hi &amp; bye</p></body></html>",
    "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
    "x = [i**2 for i in range(10) if i % 2 == 0]  # squares",
    "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
    "$ ls -la | grep '^d' | wc -l && echo done",
    "a+b=c; a-b=d; a*b=e; a/b=f; a%b=g; a^b; a&&b || !c",
    "// comment\n/* block\n   comment */",
    "3.14159", "1,000,000", "12345678901234567890", "0x1F", "1e-10", "-0.5", "+7", "100%",
    "2024", "1 2 3 4 5 6 7 8 9 10", "3rd 21st 42nd", "v1.2.3-beta+build.5",
    "caf\u00e9", "cafe\u0301", "na\u00efve", "r\u00e9sum\u00e9", "\u00c5ngstr\u00f6m", "A\u030angstro\u0308m",
    "\u00fcber", "Stra\u00dfe", "\u0130stanbul", "\u0131", "\u00f1and\u00fa", "n\u0303",
    "Cr\u00e8me br\u00fbl\u00e9e", "fa\u00e7ade", "\u00e0 la carte", "\u0152uvre", "\u00e6\u00f8\u00e5",
    "\ufb01nance \ufb02ow", "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48", "\u2460\u2461\u2462",
    "\u4f60\u597d\u4e16\u754c", "\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002", "\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8",
    "\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3067\u3059\u3002", "\u3053\u3093\u306b\u3061\u306f", "\u30ab\u30bf\u30ab\u30ca",
    "\ud55c\uad6d\uc5b4 \ubb38\uc7a5\uc785\ub2c8\ub2e4.", "\uc548\ub155\ud558\uc138\uc694",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645", "\u0627\u0644\u0633\u0644\u0627\u0645 \u0639\u0644\u064a\u0643\u0645",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u092e\u0947\u0902 \u0932\u093f\u0916\u093e \u0939\u0948",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!",
    "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439\u0442\u0435", "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5",
    "\u1780\u17b6\u179a\u1794\u1784\u17d2\u17a0\u17b6\u1789", "\u10d2\u10d0\u10db\u10d0\u10e0\u10ef\u10dd\u10d1\u10d0",
    "\u0532\u0561\u0580\u0565\u0582", "\u0bb5\u0ba3\u0b95\u0bcd\u0b95\u0bae\u0bcd", "\u0cb9\u0cb2\u0ccb",
    "\u1200\u120e", "\u13a3\u13cd\u13a9", "\u0f56\u0f7c\u0f51\u0f0b", "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u",
    "\U0001f600", "\U0001f600\U0001f601\U0001f602", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f1fa\U0001f1f8\U0001f1eb\U0001f1f7", "\U0001f44d\U0001f3fd", "\u2764\ufe0f", "I \u2764\ufe0f NY",
    "\U0001f680 launch!", "\U0001f923\U0001f923 so funny", "\u2603\u2600\u2601", "\u2705 done \u274c failed",
    "\U0001d400\U0001d401\U0001d402", "\U00020000\U0002a6d6", "\U0010fffd", "\ue000\uf8ff",
    "\u200b", "a\u200bb", "a\u200cb\u200dc", "\ufeffBOM at start", "\ufffd", "x\ufffdy",
    "\x01\x02\x03", "\x7f", "\x1b[31mred\x1b[0m", "\x0b\x0c", "\x85", "\u2028\u2029",
    "a\u00a0b", "\u00a0", "\u00a0\u00a0", "x\u00a0\u00a0\u00a0\u00a0y", "\u00a0 \u00a0", "\u3000full width space",
    "\u2002\u2003\u2009thin", "\u202f\u205f", "\u1680",
    "\u2581", "\u2581\u2581", "\u2581hello", "\u2581 \u2581", "a\u2581b", "\u2581\u2581\u2581 x",
    "<0x41>", "<0xE4><0xBD><0xA0>", "<0x>", "<0xZZ>", "<0x0A>\n",
    "<s>", "</s>", "<unk>", "<s>Hello", "Hello</s>", "a <s> b", "<s><s></s>", " <s> ", "<<s>>",
    "</s</s>>", "<s", "s>", "< s>", "<S>", "x<unk>y", "<unk><unk>", " </s> ", "\n<s>\n",
    "<s> <s>  <s>   <s>", "Hello <s> world </s> again <unk> end",
    "<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n", "<|endoftext|>", "<|user|>   spaced",
    "x</s>   y", "<|system|>\nYou are helpful.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>",
    "<|user|> \t\n x", "<|placeholder1|><|placeholder6|>", "<|user|", "|user|>", "<|USER|>",
    "<|end|><|end|>", "a<|end|>b", "</s>\n\n", " <|endoftext|> ",
    "hello world", "helloworld", "say hello, world!", "hello_world", "hello1 world2", "Hello hello",
    "<tool>  x  <tool>", "a<tool>b", "a <tool_call> b <tool >", "\t<tool>\n", "x sep y", " sep ",
    "xsep y", "caf\u00e9 au lait", "un caf\u00e9", "caf\u00e9s", "\u24b6caf\u00e9", "\u00e9caf\u00e9",
    "a  b   c", "\u2581\u2581x", "x</s>  y", "world\u0301", "\u00a0world\u00a0",
    "Hello\u00a0<s>\u00a0world", "\u00a0</s>\u00a0",
]


def random_text(rng):
    """One random string mixing words, scripts, whitespace runs and special tokens."""
    words = ["the", "a", "little", "girl", "boy", "dog", "cat", "happy", "sad", "big", "small",
             "ran", "jumped", "said", "Lily", "Tim", "ball", "park", "tree", "sun", "because",
             "they", "played", "together", "friend", "Once", "upon", "time", "very", "wanted",
             "caf\u00e9", "na\u00efve", "\u00fcber", "\u4f60\u597d", "\u4e16\u754c", "\u65e5\u672c",
             "\u3053\u3093\u306b\u3061\u306f", "\uc548\ub155", "\u043c\u0438\u0440", "\u03b1\u03b2\u03b3",
             "\u0645\u0631\u062d\u0628\u0627", "\u0928\u092e\u0938\u094d\u0924\u0947", "\U0001f600",
             "\U0001f44d\U0001f3fd", "123", "3.14", "x_1", "foo()", "a[i]", "{}", "==", "->", "//",
             "don't", "it's", "e-mail", "http://x.y", "\u00a0", "\u2581", "<0x41>"]
    specials = ["<s>", "</s>", "<unk>", "<|user|>", "<|end|>", "<|assistant|>", "<|system|>",
                "<|endoftext|>", "<|placeholder3|>"]
    seps = [" ", " ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", " \n", ", ", ". ", "! ", "? ",
            "", "-", "\u00a0", "\u3000", "\r\n"]
    parts = []
    if rng.random() < 0.2:
        parts.append(rng.choice(seps))
    for _ in range(rng.randint(1, 14)):
        r = rng.random()
        if r < 0.08:
            parts.append(rng.choice(specials))
        elif r < 0.18:
            parts.append(random_codepoints(rng, rng.randint(1, 4)))
        else:
            w = rng.choice(words)
            parts.append(w.capitalize() if rng.random() < 0.15 else w)
        parts.append(rng.choice(seps))
    if rng.random() < 0.5:
        parts.pop()
    return "".join(parts)


RANGES = [(0x20, 0x7e), (0xa0, 0xff), (0x100, 0x24f), (0x300, 0x36f), (0x370, 0x3ff),
          (0x400, 0x4ff), (0x590, 0x5ff), (0x600, 0x6ff), (0x900, 0x97f), (0xe00, 0xe7f),
          (0x1780, 0x17ff), (0x2000, 0x206f), (0x2100, 0x22ff), (0x2500, 0x257f),
          (0x3040, 0x30ff), (0x4e00, 0x9fff), (0xac00, 0xd7a3), (0xe000, 0xe0ff),
          (0xfe00, 0xfe0f), (0xff00, 0xffef), (0x1d400, 0x1d4ff), (0x1f300, 0x1faff),
          (0x20000, 0x2a6df), (0x1, 0x1f), (0x10fff0, 0x10ffff)]


def random_codepoints(rng, n):
    out = []
    for _ in range(n):
        lo, hi = rng.choice(RANGES)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def random_whitespace(rng):
    alphabet = [" ", " ", "\t", "\n", "\u00a0", "\u2581", "a", "b", "\r", "\u3000"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))


def build_corpus(extra):
    rng = random.Random(20240611)
    corpus = list(HAND) + list(extra)
    for _ in range(1100):
        corpus.append(random_text(rng))
    for _ in range(450):
        corpus.append(random_codepoints(rng, rng.randint(1, 24)))
    for _ in range(250):
        corpus.append(random_whitespace(rng))
    for _ in range(4):  # long inputs: the model sees them as one word when there is no pre-tokenizer
        corpus.append("".join(random_text(rng) + " " for _ in range(rng.randint(10, 30))))
    corpus.append("a" * 1000)
    corpus.append(" " * 300)
    corpus.append("\u4f60" * 200)
    corpus.append("x\x00y")
    corpus.append("\x00")
    corpus.append("\x00<s>\x00")
    seen, unique = set(), []
    for s in corpus:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


# ---------------------------------------------------------------- writing


def put_text(rec, key, value):
    if "\x00" in value:
        rec[key + "_hex"] = value.encode("utf-8").hex()
    else:
        rec[key] = value


def special_frame(tok):
    """The ids add_special_tokens=True adds before and after the text's own ids."""
    probe = tok.encode("x", add_special_tokens=False).ids
    full = tok.encode("x", add_special_tokens=True).ids
    n = len(probe)
    for i in range(len(full) - n + 1):
        if full[i:i + n] == probe:
            return full[:i], full[i + n:]
    raise SystemExit("cannot find the text inside the special-token template")


def random_ids(rng, vocab_size, specials):
    n = rng.randint(1, 40)
    ids = []
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            ids.append(3 + rng.randint(0, 255))  # <0x..> byte pieces (ids 3..258 in these vocabularies)
        elif r < 0.55:
            ids.append(rng.choice(specials))
        else:
            ids.append(rng.randrange(vocab_size))
    return ids


def write_fixture(name, tok, corpus, vocab_size, n_random):
    prefix, suffix = special_frame(tok)
    specials = sorted(tok.get_added_tokens_decoder().keys())
    lines = []
    for text in corpus:
        ids = tok.encode(text, add_special_tokens=False).ids
        ids_special = tok.encode(text, add_special_tokens=True).ids
        rec = {}
        put_text(rec, "text", text)
        rec["ids"] = ids
        if ids_special != prefix + ids + suffix:
            rec["ids_special"] = ids_special
        put_text(rec, "decode", tok.decode(ids_special, skip_special_tokens=False))
        for key, value in (("decode_skip", tok.decode(ids_special, skip_special_tokens=True)),
                           ("decode_plain", tok.decode(ids, skip_special_tokens=False))):
            if value != text:
                put_text(rec, key, value)
        lines.append(rec)
    rng = random.Random(777)
    for _ in range(n_random):
        ids = random_ids(rng, vocab_size, specials)
        rec = {"random_ids": ids}
        put_text(rec, "decode", tok.decode(ids, skip_special_tokens=False))
        put_text(rec, "decode_skip", tok.decode(ids, skip_special_tokens=True))
        lines.append(rec)
    header = {"header": {"tokenizer": name, "hf_tokenizers": tokenizers.__version__,
                         "special_prefix": prefix, "special_suffix": suffix,
                         "count": len(lines)}}
    path = os.path.join(TOKFIX, name + ".jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for rec in [header] + lines:
            f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{path}: {len(lines)} records, {os.path.getsize(path)} bytes")


def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)


def check_vectors(tok):
    """Compares llama.cpp's llama-spm vectors with HF on our tinyllama file; returns disagreements."""
    inp = open(os.path.join(VECFIX, "ggml-vocab-llama-spm.gguf.inp"), encoding="utf-8").read()
    texts = inp.split(SEP)[:-1]
    outs = open(os.path.join(VECFIX, "ggml-vocab-llama-spm.gguf.out"), encoding="utf-8").read().split("\n")
    exceptions = []
    for i, text in enumerate(texts):
        want = [int(x) for x in outs[i].split()]
        got = tok.encode(text, add_special_tokens=False).ids
        if got != want:
            reason = ("contains U+00A0, whose pieces are plain spaces in this tokenizer.json"
                      if "\u00a0" in text else "merge order of whitespace runs differs from Llama-2's")
            exceptions.append({"index": i, "hf_ids": got, "vector_ids": want, "reason": reason})
    return texts, exceptions


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default="/work/shared")
    args = ap.parse_args()
    models = os.path.join(args.shared, "models")

    copy(os.path.join(models, "tinyllama-1.1b-chat-v1.0", "tokenizer.json"),
         os.path.join(TOKFIX, "tinyllama", "tokenizer.json"))
    copy(os.path.join(models, "tinyllama-1.1b-chat-v1.0", "tokenizer_config.json"),
         os.path.join(TOKFIX, "tinyllama", "tokenizer_config.json"))
    copy(os.path.join(models, "phi-3-mini-4k-instruct", "tokenizer_config.json"),
         os.path.join(TOKFIX, "phi-3", "tokenizer_config.json"))
    for ext in ("inp", "out"):
        copy(os.path.join(args.shared, "tokenizer-vectors", "ggml-vocab-llama-spm.gguf." + ext),
             os.path.join(VECFIX, "ggml-vocab-llama-spm.gguf." + ext))

    with open(os.path.join(TOKFIX, "tinyllama", "tokenizer.json"), encoding="utf-8") as f:
        tinyllama = json.load(f)
    phi3_path = os.path.join(models, "phi-3-mini-4k-instruct", "tokenizer.json")
    with open(phi3_path, encoding="utf-8") as f:
        phi3 = json.load(f)
    variants = build_variants(tinyllama, phi3)
    with open(os.path.join(TOKFIX, "variants.json"), "w", encoding="utf-8") as f:
        json.dump(variants, f, ensure_ascii=False, indent=1)
        f.write("\n")

    tiny_tok = hf_loadable(tinyllama)
    texts, exceptions = check_vectors(tiny_tok)
    with open(os.path.join(VECFIX, "ggml-vocab-llama-spm.exceptions.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizer": "tests/fixtures/tokenizers/tinyllama",
                   "note": "strings where Hugging Face tokenizers on this file disagrees with the "
                           "vector; hf_ids is the truth",
                   "exceptions": exceptions}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"llama-spm vectors: {len(texts)} strings, {len(exceptions)} disagree with HF")

    corpus = build_corpus(texts)
    # The variants share the Llama vocabulary: the hand-written strings, the vectors and every
    # third generated string keep their fixtures small.
    n_fixed = len(HAND) + len(texts)
    subset = corpus[:n_fixed] + corpus[n_fixed::3]
    stories = Tokenizer.from_file(os.path.join(ROOT, "weights", "stories260K", "tokenizer.json"))
    write_fixture("stories260K", stories, corpus, 512, 300)
    write_fixture("tinyllama", tiny_tok, corpus, 32000, 300)
    for name in ("tinyllama-metaspace-first", "tinyllama-metaspace-split", "tinyllama-added-flags"):
        write_fixture(name, hf_loadable(apply_variant(tinyllama, variants[name])), subset, 32000, 100)
    write_fixture("phi-3", Tokenizer.from_file(phi3_path), subset, 32011, 150)
    return 0


if __name__ == "__main__":
    sys.exit(main())
