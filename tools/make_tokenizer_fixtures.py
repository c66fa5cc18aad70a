#!/usr/bin/env python3
"""make_tokenizer_fixtures.py — reference token ids and decoded text from Hugging Face `tokenizers`.

Run from the repository root with the project venv (needs only the `tokenizers` package):

    .venv/bin/python tools/make_tokenizer_fixtures.py [--shared /work/shared]
    .venv/bin/python tools/make_tokenizer_fixtures.py --unicode-tables   # C tables of unicode.c

It builds a varied corpus per tokenizer family (hand-written strings plus strings generated from a
fixed seed), runs every string through Hugging Face `tokenizers.Tokenizer` and writes what it
returns. Output is deterministic: rerunning rewrites identical files. The C tests never read the
shared folder: every tokenizer file they use is under tests/fixtures/ or weights/, and files that
already exist under tests/fixtures/models/ are used in place, never copied.

Tokenizers covered (tests/fixtures/tokenizers/variants.json says how each variant is built from
a base folder; the C test rebuilds it the same way in a scratch directory):
  stories260K                weights/stories260K/ (512 pieces: most non-ASCII text is <0x..> bytes)
  tinyllama                  tests/fixtures/models/tinyllama/ — the genuine published TinyLlama
                             tokenizer.json (the shared copy has its U+00A0 pieces flattened to
                             spaces, which Hugging Face refuses to load; see models/NOTES.md)
  tinyllama-metaspace-first  tinyllama with the non-legacy Llama layout: no normalizer,
                             Metaspace pre-tokenizer (prepend_scheme "first", split false)
  tinyllama-metaspace-split  tinyllama with Metaspace (prepend_scheme "always", split true) as
                             pre-tokenizer and as decoder
  tinyllama-added-flags      tinyllama plus added tokens using every flag (lstrip, rstrip,
                             single_word, normalized, special; a re-added </s>)
  phi-3                      tests/fixtures/models/phi3/ (microsoft/Phi-3-mini-4k-instruct)
  gpt2                       openai-community/gpt2, rebuilt from the smollm2 folder (same vocabulary
                             and merges) by dropping its two ChatML tokens and writing the file the
                             old way (no model "type", "a b" string merges); the script checks the
                             rebuild equals /work/shared/models/gpt2/tokenizer.json
  smollm2                    tests/fixtures/models/smollm2/ (GPT-2 + ChatML tokens, transformers-5
                             serialization with [a, b] merges)
  all-minilm                 sentence-transformers/all-MiniLM-L6-v2 (BERT uncased WordPiece), rebuilt
                             from the distilbert_sst2 folder (same vocabulary and pipeline) by adding
                             its truncation / padding blocks; checked against the shared file
  distilbert_sst2            tests/fixtures/models/distilbert_sst2/
The references disable tokenizer.json's own truncation and padding (all-MiniLM has max_length 128
and Fixed(128) padding there), as transformers does unless asked, and as slm does.

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
    "decode_plain" decode(ids, skip_special_tokens=False)         omitted when equal to
                  decode_skip (that is, to "text" when decode_skip is omitted)
  and decode-only objects for random id sequences (byte-token runs that are invalid UTF-8,
  special tokens anywhere, ...):
    {"random_ids": [...], "decode": ..., "decode_skip": ...}

tests/fixtures/tokenizers/truncation.jsonl: HF's truncation=True, max_length (LongestFirst, right)
on single texts and pairs of tinyllama, gpt2, all-minilm and distilbert_sst2:
    {"tokenizer", "max_length", "add_special", "text" or "pair": [a, b], "ids"}
tests/fixtures/tokenizers/components.jsonl: every supported normalizer, pre-tokenizer and decoder
on its own, one line each: {"kind", "json" (its tokenizer.json form), "cases": [[input, output]]}
where output is HF's normalize_str / pre_tokenize_str strings / decode of a piece list.

tests/fixtures/tokenizer-vectors/ggml-vocab-NAME.gguf.{inp,out} are llama.cpp's vectors (see
FORMAT.md in the shared folder). ggml-vocab-NAME.exceptions.json lists, for the sets the C test
runs (llama-spm, phi-3, gpt-2, bert-bge), the strings where Hugging Face on our file disagrees with
the vector, with the reason (currently none: all agree). llama-bpe and qwen2 are copied but not
run: their tokenizer.json files (Llama 3, Qwen2) are not in the repository.
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
MODELS = os.path.join(FIX, "models")
SEP = "\n__ggml_vocab_test__\n"
VECTOR_SETS = ["llama-spm", "phi-3", "gpt-2", "bert-bge", "llama-bpe", "qwen2"]


# ---------------------------------------------------------------- tokenizer files


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rel(path):
    return os.path.relpath(path, ROOT)


def apply_variant(base_json, variant):
    """Mirrors apply_variant() in tests/test_tokenizer.c."""
    j = json.loads(json.dumps(base_json))
    for key, value in variant.get("replace", {}).items():
        j[key] = value
    for key in variant.get("model_delete", []):
        del j["model"][key]
    if variant.get("merges_as_strings"):
        j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]
    return j


def metaspace(scheme, split):
    return {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": split}


def build_variants(shared):
    tinyllama = read_json(os.path.join(MODELS, "tinyllama", "tokenizer.json"))
    base = rel(os.path.join(MODELS, "tinyllama"))
    variants = {
        "tinyllama-metaspace-first": {
            "base": base,
            "replace": {"normalizer": None, "pre_tokenizer": metaspace("first", False)},
        },
        "tinyllama-metaspace-split": {
            "base": base,
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
        "base": base, "replace": {"added_tokens": tinyllama["added_tokens"] + extra}}

    # GPT-2 from the smollm2 folder (see the docstring); checked against the real file.
    gpt2 = read_json(os.path.join(shared, "gpt2", "tokenizer.json"))
    smollm2 = read_json(os.path.join(MODELS, "smollm2", "tokenizer.json"))
    variants["gpt2"] = {
        "base": rel(os.path.join(MODELS, "smollm2")), "config": "gpt2/tokenizer_config.json",
        "replace": {k: gpt2[k] for k in ("added_tokens", "pre_tokenizer", "post_processor",
                                         "decoder")},
        "model_delete": ["type", "byte_fallback", "ignore_merges"], "merges_as_strings": True}
    if apply_variant(smollm2, variants["gpt2"]) != gpt2:
        raise SystemExit("the gpt2 variant does not rebuild the real GPT-2 tokenizer.json")

    minilm = read_json(os.path.join(shared, "all-minilm-l6-v2", "tokenizer.json"))
    distil = read_json(os.path.join(MODELS, "distilbert_sst2", "tokenizer.json"))
    variants["all-minilm"] = {
        "base": rel(os.path.join(MODELS, "distilbert_sst2")),
        "config": "all-minilm/tokenizer_config.json",
        "replace": {k: minilm[k] for k in ("truncation", "padding")}}
    if apply_variant(distil, variants["all-minilm"]) != minilm:
        raise SystemExit("the all-minilm variant does not rebuild the real all-MiniLM tokenizer.json")
    return variants


def hf_tokenizer(json_obj):
    tok = Tokenizer.from_str(json.dumps(json_obj, ensure_ascii=False))
    tok.no_truncation()
    tok.no_padding()
    return tok


def hf_from_dir(path):
    return hf_tokenizer(read_json(os.path.join(path, "tokenizer.json")))


def hf_variant(variants, name):
    v = variants[name]
    return hf_tokenizer(apply_variant(read_json(os.path.join(ROOT, v["base"], "tokenizer.json")), v))


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

# Strings aimed at byte-level BPE: the GPT-2 regex (contractions, letter / digit / other runs with
# one leading space, whitespace before a non-space), byte-level characters typed in the text,
# the ChatML and GPT-2 special tokens, whitespace that only some engines count as \s.
HAND_BYTE_LEVEL = [
    "I'm", "I'M", "you're", "YOU'RE", "we've", "they'll", "he'd", "it's", "IT'S", "'s", "'", "''",
    "don't", "can't", "won't", "o'clock", "rock 'n' roll", "'tis", "x'll'd're", "'sss", "' s",
    "a  b", "a   b", "a \n b", "a\n\nb", "  a", "a  ", "\n ", " \n", "a \t b", "x\u00a0 y",
    "x \u00a0y", "x\u3000\u3000y", "1 2  3   4", "12345", "1,234.5", "3.14159e-10", "x2y3",
    "\u0120", "\u0120\u0120", "\u0120the", "\u010a", "\u00c4\u0142", "\u0100\u0101\u0143",
    "\u0085", "a\u0085b", "\u0085\u0085b", "a\u180eb", "\u180e\u180e", "a\u200bb", "\u2028x",
    "\u00ad", "soft\u00adhyphen", "\x7f\x80", "\ufeff", "tab\tand\vvertical\fform",
    "<|endoftext|>", "a<|endoftext|>b", " <|endoftext|> ", "<|endoftext|><|endoftext|>",
    "<|endoftext", "endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>user\nHi<|im_end|>\n",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|>", "<|im_start|> <|im_end|>", "<|IM_START|>", "< |im_start|>",
    "if (x == 1) {\n    return y;\n}", "def __init__(self):\n\tpass", "    indented\n        more",
    "x = a->b; y = c::d; z = e?.f ?? g", "#!/bin/sh\necho \"$HOME\" | tr a-z A-Z",
    "\u1c89\u1c8a", "\ua7cb\ua7cc", "\U00010d40\U00010d4a\U00010d50\U00010d70", "\U00016d40\U00016d70",
    "\U0001e5d0\U0001e5f1", "\U0002ebf0\U00031350", "Garay \U00010d4a\U00010d4b \U00010d40\U00010d41",
]

# Strings aimed at BERT: its special tokens, case and accents, CJK padding, punctuation and
# control characters, words longer than max_input_chars_per_word, WordPiece continuations.
HAND_BERT = [
    "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[CLS] hello [SEP] world [SEP]", "[cls]", "[Mask]",
    "[ MASK ]", "[MASK][MASK]", "a[MASK]b", "the [MASK] sat", "[unused0]", "[UNK]x", "##ing", "##",
    "unaffable", "unbelievably", "antidisestablishmentarianism", "pneumonoultramicroscopic",
    "Hello, World!", "HELLO WORLD", "\u00c9COLE \u00e9cole", "\u0130stanbul", "\u0130I\u0131i",
    "\u00c5NGSTR\u00d6M", "Stra\u00dfe STRASSE", "\u1e9e", "\u03a3\u0399\u03a3\u03a5\u03a6\u039f\u03a3",
    "d\u00e9j\u00e0 vu", "e\u0301 a\u0300 o\u0302", "\u0301\u0300", "\u0915\u094d\u0937",
    "\u4e2d\u6587\u5b57", "a\u4e2db", "\u3400\u4dbf", "\U00020000x\U0002a6df", "\uf900\ufaff",
    "\u3042\u30a2\uac00", "co-operate", "e.g.", "U.S.A.", "$100", "50%", "a/b\\c", "x@y.com",
    "\u2014\u2013\u2026", "\u00bfQu\u00e9?", "\u00a1Hola!", "\u00ab\u00bb\u201c\u201d", "\u055d\u0589",
    "\x00a\x00", "a\x01b\x1fc", "\ufffd\ufffd", "a\ufffdb", "\u200b\u200c\u200d", "\u00ad",
    "a\u0085b", "\ue000\uf8ff", "\U000f0000", "x\u180ey", "\u0600\u0601", "\u061c", "\U000110bd",
    "\U00013430\U0001343f", "\u0890\u08e2", "\U000110cd", "\u166d", "\U000111c9", "\u1734",
    "\U00011c41\U00011c70", "\U00016fe2", "\u2e43\u2e52", "\u061d", "\u0c77", "\U00010ead",
    "x" * 99, "x" * 100, "x" * 101, "\u00e9" * 100, "\u00e9" * 101, "\U0001f600" * 3,
    "a" * 100 + " b", "supercalifragilisticexpialidocious" * 3, "1234567890" * 11,
]

FAMILIES = {
    "spm": {
        "hand": [],
        "specials": ["<s>", "</s>", "<unk>", "<|user|>", "<|end|>", "<|assistant|>", "<|system|>",
                     "<|endoftext|>", "<|placeholder3|>"],
        "words": ["\u2581", "<0x41>"],
    },
    "byte_level": {
        "hand": HAND_BYTE_LEVEL,
        "specials": ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>user\n", "<s>"],
        "words": ["'s", "'S", "'ll", "'ve", "\u0120", "\u0085", "\u180e", "a'b"],
    },
    "bert": {
        "hand": HAND_BERT,
        "specials": ["[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[cls]", "[ SEP ]"],
        "words": ["unaffable", "##ing", "\u00c9t\u00e9", "\u0130", "e\u0301", "\u4e2d\u6587",
                  "x" * 120],
    },
}

WORDS = ["the", "a", "little", "girl", "boy", "dog", "cat", "happy", "sad", "big", "small",
         "ran", "jumped", "said", "Lily", "Tim", "ball", "park", "tree", "sun", "because",
         "they", "played", "together", "friend", "Once", "upon", "time", "very", "wanted",
         "caf\u00e9", "na\u00efve", "\u00fcber", "\u4f60\u597d", "\u4e16\u754c", "\u65e5\u672c",
         "\u3053\u3093\u306b\u3061\u306f", "\uc548\ub155", "\u043c\u0438\u0440", "\u03b1\u03b2\u03b3",
         "\u0645\u0631\u062d\u0628\u0627", "\u0928\u092e\u0938\u094d\u0924\u0947", "\U0001f600",
         "\U0001f44d\U0001f3fd", "123", "3.14", "x_1", "foo()", "a[i]", "{}", "==", "->", "//",
         "don't", "it's", "e-mail", "http://x.y", "\u00a0"]


def random_text(rng, family):
    """One random string mixing words, scripts, whitespace runs and special tokens."""
    words = WORDS + family["words"]
    seps = [" ", " ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", " \n", ", ", ". ", "! ", "? ",
            "", "-", "\u00a0", "\u3000", "\r\n"]
    parts = []
    if rng.random() < 0.2:
        parts.append(rng.choice(seps))
    for _ in range(rng.randint(1, 14)):
        r = rng.random()
        if r < 0.08:
            parts.append(rng.choice(family["specials"]))
        elif r < 0.18:
            parts.append(random_codepoints(rng, rng.randint(1, 4)))
        else:
            w = rng.choice(words)
            parts.append(w.capitalize() if rng.random() < 0.15 else w)
        parts.append(rng.choice(seps))
    if rng.random() < 0.5:
        parts.pop()
    return "".join(parts)


def random_code(rng):
    """A few lines of C- or Python-like code with indentation and operators."""
    names = ["i", "n", "count", "buf", "self", "x_max", "ptr", "tokenizer", "HTTPServer", "_x2"]
    ops = [" = ", " += ", " == ", " != ", " <= ", " -> ", "::", ".", " && ", " || ", " ** ", "%"]
    lines = []
    for _ in range(rng.randint(1, 6)):
        indent = rng.choice(["", "    ", "        ", "\t", "\t\t"])
        expr = rng.choice(names) + rng.choice(ops) + rng.choice(names + ["0", "1", "42", "0x1F",
                                                                         "'a'", "\"s\"", "None"])
        form = rng.choice(["{}{};", "{}if ({}) {{", "{}return {};", "{}def f({}):", "{}# {}",
                           "{}// {}", "{}}}", "{}print(f\"{{{}}}\")"])
        lines.append(form.format(indent, expr) if form.count("{}") == 2 else form.format(indent))
    return rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n"])


RANGES = [(0x20, 0x7e), (0xa0, 0xff), (0x100, 0x24f), (0x300, 0x36f), (0x370, 0x3ff),
          (0x400, 0x4ff), (0x590, 0x5ff), (0x600, 0x6ff), (0x900, 0x97f), (0xe00, 0xe7f),
          (0x1780, 0x17ff), (0x2000, 0x206f), (0x2100, 0x22ff), (0x2500, 0x257f),
          (0x3040, 0x30ff), (0x4e00, 0x9fff), (0xac00, 0xd7a3), (0xe000, 0xe0ff),
          (0xfe00, 0xfe0f), (0xff00, 0xffef), (0x1d400, 0x1d4ff), (0x1f300, 0x1faff),
          (0x20000, 0x2a6df), (0x1, 0x1f), (0x10fff0, 0x10ffff), (0x80, 0x9f), (0x1800, 0x18af),
          (0x1c80, 0x1c8f), (0xa7c0, 0xa7df), (0x10d40, 0x10d8f), (0x16d40, 0x16d7f),
          (0x2e00, 0x2e5f), (0x11000, 0x1107f)]


def random_codepoints(rng, n):
    out = []
    for _ in range(n):
        lo, hi = rng.choice(RANGES)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def random_whitespace(rng):
    alphabet = [" ", " ", "\t", "\n", "\u00a0", "\u2581", "a", "b", "\r", "\u3000", "\u0085",
                "\u180e", "\u2028", "\x0b"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))


def build_corpus(family, vectors):
    rng = random.Random(20240611)
    corpus = list(HAND) + family["hand"] + list(vectors)
    for _ in range(1000):
        corpus.append(random_text(rng, family))
    for _ in range(150):
        corpus.append(random_code(rng))
    for _ in range(450):
        corpus.append(random_codepoints(rng, rng.randint(1, 24)))
    for _ in range(250):
        corpus.append(random_whitespace(rng))
    for _ in range(4):  # long inputs: the model sees them as one word when there is no pre-tokenizer
        corpus.append("".join(random_text(rng, family) + " " for _ in range(rng.randint(10, 30))))
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


def random_ids(rng, vocab_size, specials, byte_ids):
    """Random id sequences; byte_ids = (first, count) of the single-byte pieces, which decode to
    invalid UTF-8 when mixed at random."""
    ids = []
    for _ in range(rng.randint(1, 40)):
        r = rng.random()
        if r < 0.45 and byte_ids:
            ids.append(byte_ids[0] + rng.randrange(byte_ids[1]))
        elif r < 0.55:
            ids.append(rng.choice(specials))
        else:
            ids.append(rng.randrange(vocab_size))
    return ids


def write_fixture(name, tok, corpus, n_random, byte_ids):
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
        skip = tok.decode(ids_special, skip_special_tokens=True)
        plain = tok.decode(ids, skip_special_tokens=False)
        if skip != text:
            put_text(rec, "decode_skip", skip)
        if plain != skip:
            put_text(rec, "decode_plain", plain)
        lines.append(rec)
    rng = random.Random(777)
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    for _ in range(n_random):
        ids = random_ids(rng, vocab_size, specials, byte_ids)
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
    print(f"{rel(path)}: {len(lines)} records, {os.path.getsize(path)} bytes")


def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)


def vector_texts(name):
    with open(os.path.join(VECFIX, f"ggml-vocab-{name}.gguf.inp"), encoding="utf-8") as f:
        return f.read().split(SEP)[:-1]


def check_vectors(name, tok, tok_path):
    """Compares llama.cpp's vectors with HF on our file and writes the exceptions file."""
    texts = vector_texts(name)
    with open(os.path.join(VECFIX, f"ggml-vocab-{name}.gguf.out"), encoding="utf-8") as f:
        outs = f.read().split("\n")
    exceptions = []
    for i, text in enumerate(texts):
        want = [int(x) for x in outs[i].split()]
        got = tok.encode(text, add_special_tokens=False).ids
        if got != want:
            # Each disagreement needs a reason written here after looking at it; none so far.
            exceptions.append({"index": i, "hf_ids": got, "vector_ids": want,
                               "reason": "UNEXPLAINED: investigate before accepting"})
    with open(os.path.join(VECFIX, f"ggml-vocab-{name}.exceptions.json"), "w",
              encoding="utf-8") as f:
        json.dump({"tokenizer": tok_path,
                   "note": "strings where Hugging Face tokenizers on this file disagrees with the "
                           "vector; hf_ids is the truth",
                   "exceptions": exceptions}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{name} vectors: {len(texts)} strings, {len(exceptions)} disagree with HF")
    if exceptions:
        raise SystemExit(f"{name}: vectors disagree with Hugging Face; explain them first")


def truncation_records(name, tok, corpus, rng, n_single, n_pair):
    """HF's truncation=True, max_length=m (LongestFirst, right side) on single texts and pairs,
    with m between the number of special tokens and a little more than the full length."""
    recs = []
    texts = [t for t in corpus if "\x00" not in t]
    for i in range(n_single + n_pair):
        special = rng.random() < 0.75
        inputs = [rng.choice(texts)] + ([rng.choice(texts)] if i >= n_single else [])
        full = tok.encode(*inputs, add_special_tokens=special).ids
        n_added = (tok.post_processor.num_special_tokens_to_add(len(inputs) == 2)
                   if tok.post_processor and special else 0)
        max_length = n_added + rng.randint(0, len(full) - n_added + 2)
        tok.enable_truncation(max_length)
        ids = tok.encode(*inputs, add_special_tokens=special).ids
        tok.no_truncation()
        rec = {"tokenizer": name, "max_length": max_length, "add_special": special, "ids": ids}
        if len(inputs) == 2:
            rec["pair"] = inputs
        else:
            rec["text"] = inputs[0]
        recs.append(rec)
    return recs


# ---------------------------------------------------------------- components

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+"
                r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+"
               r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
BEHAVIORS = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]


def bert_norm(clean, chinese, strip, lower):
    return {"type": "BertNormalizer", "clean_text": clean, "handle_chinese_chars": chinese,
            "strip_accents": strip, "lowercase": lower}


def split(kind, pattern, behavior, invert=False):
    return {"type": "Split", "pattern": {kind: pattern}, "behavior": behavior, "invert": invert}


def component_configs():
    """Every supported normalizer, pre-tokenizer and decoder, in the forms files use."""
    norms = [{"type": t} for t in ("NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents",
                                   "ByteLevel")]
    norms += [{"type": "Strip", "strip_left": a, "strip_right": b}
              for a, b in ((True, True), (True, False), (False, True))]
    norms += [bert_norm(c, h, s, l) for c, h, s, l in
              ((True, True, None, True), (True, True, None, False), (False, False, True, False),
               (True, False, False, True), (False, True, True, True))]
    norms += [{"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": "_"},
              {"type": "Replace", "pattern": {"Regex": r"[\p{L}]{3}"}, "content": "#"},
              {"type": "Replace", "pattern": {"String": "  "}, "content": " "},
              {"type": "Prepend", "prepend": "\u2581"},
              {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"},
                                                   {"type": "Lowercase"}]}]
    pretoks = [{"type": "ByteLevel", "add_prefix_space": a, "trim_offsets": True, "use_regex": r}
               for a, r in ((False, True), (True, True), (True, False))]
    pretoks += [{"type": "BertPreTokenizer"}, {"type": "Whitespace"}, {"type": "WhitespaceSplit"},
                {"type": "Digits", "individual_digits": True},
                {"type": "Digits", "individual_digits": False},
                {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                 "split": True}]
    pretoks += [{"type": "Punctuation", "behavior": b} for b in BEHAVIORS]
    pretoks += [split("String", " ", b, inv) for b in BEHAVIORS for inv in (False, True)]
    pretoks += [split("Regex", r"\d+|\s", b) for b in BEHAVIORS]
    pretoks += [split("Regex", LLAMA3_SPLIT, "Isolated"), split("Regex", QWEN2_SPLIT, "Isolated"),
                split("Regex", r"\p{N}{1,3}", "Isolated", True),
                {"type": "Sequence", "pretokenizers": [
                    split("Regex", LLAMA3_SPLIT, "Isolated"),
                    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                     "use_regex": False}]},
                {"type": "Sequence", "pretokenizers": [
                    {"type": "ByteLevel", "add_prefix_space": True, "use_regex": False,
                     "trim_offsets": True}, {"type": "Digits", "individual_digits": True}]}]
    decs = [{"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            {"type": "WordPiece", "prefix": "##", "cleanup": True},
            {"type": "WordPiece", "prefix": "##", "cleanup": False},
            {"type": "Replace", "pattern": {"Regex": "\u2581+"}, "content": " "},
            {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
            {"type": "Sequence", "decoders": [
                {"type": "ByteFallback"}, {"type": "Fuse"},
                {"type": "Replace", "pattern": {"Regex": "[ \u2581]{2,}"}, "content": "_"},
                {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                 "split": True}]}]
    return norms, pretoks, decs


def bare_tokenizer(**parts):
    j = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
         "normalizer": None, "pre_tokenizer": None, "post_processor": None, "decoder": None,
         "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}
    j.update(parts)
    return Tokenizer.from_str(json.dumps(j))


def random_pieces(rng, vocabs):
    vocab = rng.choice(vocabs)
    return [rng.choice(vocab) for _ in range(rng.randint(0, 12))]


def write_components(texts, vocabs):
    """components.jsonl: {"kind", "json", "cases": [[input, HF's output], ...]} per component."""
    rng = random.Random(4242)
    norms, pretoks, decs = component_configs()
    texts = [t for t in texts if "\x00" not in t]
    lines = []
    for j in norms:
        n = bare_tokenizer(normalizer=j).normalizer
        lines.append({"kind": "normalizer", "json": j,
                      "cases": [[t, n.normalize_str(t)] for t in texts]})
    for j in pretoks:
        p = bare_tokenizer(pre_tokenizer=j).pre_tokenizer
        lines.append({"kind": "pre_tokenizer", "json": j,
                      "cases": [[t, [w for w, _ in p.pre_tokenize_str(t)]] for t in texts]})
    hand = [["##a", "b", " .", "##c", "do", " not", " 's", "x"], ["<0xE4>", "<0xBD>", "<0xA0>"],
            ["\u2581\u2581a", "\u2581", "b\u2581\u2581c"], ["\u0120", "\u00e4\u00bd", "\u0142"], []]
    for j in decs:
        d = bare_tokenizer(decoder=j).decoder
        cases = hand + [random_pieces(rng, vocabs) for _ in range(40)]
        lines.append({"kind": "decoder", "json": j, "cases": [[c, d.decode(c)] for c in cases]})
    path = os.path.join(TOKFIX, "components.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for rec in lines:
            f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{rel(path)}: {len(lines)} components, {os.path.getsize(path)} bytes")


# ---------------------------------------------------------------- unicode.c tables


def probe_bert_classes():
    """Probes Hugging Face's BERT components for the unicode_categories classes they use."""
    from tokenizers import normalizers, pre_tokenizers
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and c != 0x7C]

    def batch(fn):
        out = {}
        for i in range(0, len(cps), 4096):
            chunk = cps[i:i + 4096]
            res = fn("|".join(chr(c) for c in chunk)).split("|")
            assert len(res) == len(chunk)
            out.update(zip(chunk, res))
        return out

    clean = batch(normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False,
                                             strip_accents=False, lowercase=False).normalize_str)
    strip = batch(normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False,
                                             strip_accents=True, lowercase=False).normalize_str)
    bert = pre_tokenizers.BertPreTokenizer()
    control = {c for c, v in clean.items() if v == ""} | {9, 10, 13}
    control.discard(0xFFFD)  # dropped by clean_text, but as itself, not as a control
    punct = {0x7C} | {c for c in cps if len(bert.pre_tokenize_str("a" + chr(c) + "a")) == 3}
    nonspacing = {c for c, v in strip.items() if v == ""}
    return {"CONTROL": control, "PUNCT": punct, "NONSPACING": nonspacing}


def c_ranges(name, cps):
    ranges = []
    for c in sorted(cps):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    cells = ["{0x%04X, 0x%04X}," % (a, b) for a, b in ranges]
    lines = ["static const slm_cp_range %s[] = {" % name]
    for i in range(0, len(cells), 4):
        lines.append("    " + " ".join(cells[i:i + 4]))
    lines.append("};")
    return "\n".join(lines)


def print_unicode_tables():
    for name, cps in probe_bert_classes().items():
        print(c_ranges(name, cps))
        print()


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default="/work/shared")
    ap.add_argument("--unicode-tables", action="store_true",
                    help="print the C tables of engine/tokenizer/unicode.c and exit")
    args = ap.parse_args()
    if args.unicode_tables:
        print_unicode_tables()
        return 0
    shared_models = os.path.join(args.shared, "models")

    copy(os.path.join(shared_models, "gpt2", "tokenizer_config.json"),
         os.path.join(TOKFIX, "gpt2", "tokenizer_config.json"))
    copy(os.path.join(shared_models, "all-minilm-l6-v2", "tokenizer_config.json"),
         os.path.join(TOKFIX, "all-minilm", "tokenizer_config.json"))
    for name in VECTOR_SETS:
        for ext in ("inp", "out"):
            copy(os.path.join(args.shared, "tokenizer-vectors", f"ggml-vocab-{name}.gguf.{ext}"),
                 os.path.join(VECFIX, f"ggml-vocab-{name}.gguf.{ext}"))

    variants = build_variants(shared_models)
    with open(os.path.join(TOKFIX, "variants.json"), "w", encoding="utf-8") as f:
        json.dump(variants, f, ensure_ascii=False, indent=1)
        f.write("\n")

    tinyllama = hf_from_dir(os.path.join(MODELS, "tinyllama"))
    phi3 = hf_from_dir(os.path.join(MODELS, "phi3"))
    gpt2, minilm = hf_variant(variants, "gpt2"), hf_variant(variants, "all-minilm")
    check_vectors("llama-spm", tinyllama, rel(os.path.join(MODELS, "tinyllama")))
    check_vectors("phi-3", phi3, rel(os.path.join(MODELS, "phi3")))
    check_vectors("gpt-2", gpt2, "variants.json gpt2")
    check_vectors("bert-bge", minilm, "variants.json all-minilm")

    spm = build_corpus(FAMILIES["spm"], vector_texts("llama-spm"))
    # The Llama variants share one vocabulary: the hand-written strings, the vectors and every
    # third generated string keep their fixtures small.
    n_fixed = len(HAND) + len(vector_texts("llama-spm"))
    subset = spm[:n_fixed] + spm[n_fixed::3]
    byte_level = build_corpus(FAMILIES["byte_level"], vector_texts("gpt-2"))
    bert = build_corpus(FAMILIES["bert"], vector_texts("bert-bge"))
    llama_bytes = (3, 256)  # <0x00>..<0xFF> are ids 3..258 in these vocabularies
    write_fixture("stories260K", hf_from_dir(os.path.join(ROOT, "weights", "stories260K")), spm,
                  300, llama_bytes)
    write_fixture("tinyllama", tinyllama, spm, 300, llama_bytes)
    for name in ("tinyllama-metaspace-first", "tinyllama-metaspace-split", "tinyllama-added-flags"):
        write_fixture(name, hf_variant(variants, name), subset, 100, llama_bytes)
    write_fixture("phi-3", phi3, subset, 150, llama_bytes)
    write_fixture("gpt2", gpt2, byte_level, 300, (0, 256))  # ids 0..255 are the single bytes
    write_fixture("smollm2", hf_from_dir(os.path.join(MODELS, "smollm2")), byte_level, 200,
                  (0, 256))
    write_fixture("all-minilm", minilm, bert, 300, None)
    distil = hf_from_dir(os.path.join(MODELS, "distilbert_sst2"))
    write_fixture("distilbert_sst2", distil, bert, 200, None)

    # slm_tokenize_truncated and the pair encoder against HF's truncation.
    rng = random.Random(31337)
    recs = (truncation_records("tinyllama", tinyllama, spm, rng, 60, 40) +
            truncation_records("gpt2", gpt2, byte_level, rng, 60, 40) +
            truncation_records("all-minilm", minilm, bert, rng, 60, 40) +
            truncation_records("distilbert_sst2", distil, bert, rng, 100, 100))
    path = os.path.join(TOKFIX, "truncation.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for rec in recs:
            f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{rel(path)}: {len(recs)} records, {os.path.getsize(path)} bytes")

    # Every component on its own: a sample of the three corpora, pieces of the three vocabularies.
    sample = [t for t in HAND[::7] + HAND_BYTE_LEVEL[::3] + HAND_BERT[::3] + byte_level[-2300::90] +
              bert[-2300::90] if len(t) <= 120]
    vocabs = [sorted(t.get_vocab()) for t in (tinyllama, gpt2, minilm)]
    write_components(sample, vocabs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
