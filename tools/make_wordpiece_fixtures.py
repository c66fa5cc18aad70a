#!/usr/bin/env python3
"""make_wordpiece_fixtures.py — BERT-family folders as the hub publishes them (vocab.txt +
tokenizer_config.json + special_tokens_map.json, no tokenizer.json), and what transformers makes
of them, for tests/test_tokenizer_vocab.c.

Run with the project venv (transformers 5.23.0, tokenizers 0.23.3, tools/requirements.txt):
    .venv/bin/python tools/make_wordpiece_fixtures.py
It reads nothing outside the repository. The committed cased vocabulary is kept as it is unless
--retrain-cased is given (tokenizers' WordPieceTrainer does not break ties the same way on every
run), so a rerun with the pinned versions writes the same files.

Writes tests/fixtures/wordpiece/<name>/{vocab.txt, tokenizer_config.json,
special_tokens_map.json} and tests/fixtures/wordpiece/<name>.jsonl: a header line (versions, the
tokenizer class transformers chose, its model_max_length), then one line per text with
AutoTokenizer.from_pretrained(folder)'s ids (add_special_tokens=True), decode(ids) and
decode(ids, skip_special_tokens=True), and "ids_truncated" (truncation=True, i.e. cut to
model_max_length) when that differs from ids. A field holding a NUL byte is written as
"<field>_hex" (its UTF-8 bytes in hex) instead. Every folder is checked to hold no tokenizer.json,
so transformers converts vocab.txt itself (the slow -> fast path under test).

Folders (each has its own copy of its vocab.txt: git stores one blob per content):
  uncased            the real distilbert-base-uncased-finetuned-sst-2-english vocab.txt (written
                     from the vocabulary of tests/fixtures/models/distilbert_sst2/tokenizer.json,
                     byte-identical to the published file, which all-MiniLM-L6-v2 shares),
                     DistilBertTokenizer, do_lower_case, strip_accents absent (null: stripped
                     because lowercased), model_max_length 512, special tokens as strings in
                     special_tokens_map.json
  uncased_accents    the same vocab, BertTokenizer, strip_accents false (accents kept), no
                     model_max_length (transformers' "no limit")
  uncased_no_chinese the same vocab, BertTokenizerFast, tokenize_chinese_chars false,
                     model_max_length 128
  cased              a cased vocabulary trained here (see train_cased_vocab), BertTokenizer,
                     do_lower_case false, strip_accents null (kept: not lowercased),
                     model_max_length 512, an added_tokens_decoder as save_pretrained writes it
                     with [MASK] lstrip (so special_tokens_map.json is not read)
  cased_strip        the cased vocab, DistilBertTokenizerFast, strip_accents true,
                     model_max_length 64, special tokens only in special_tokens_map.json, as
                     AddedToken objects ([MASK] lstrip)
No cased BERT vocabulary is available without a download, so the cased one is trained with
tokenizers' WordPieceTrainer (BERT normalizer without lowercasing, BERT pre-tokenizer, 6,000
pieces) on text that needs none: the docstrings of a fixed list of transformers 5.23.0 source
files plus the texts generated below.
"""
import argparse
import json
import os
import random
import shutil
import sys

from tokenizers import Tokenizer, normalizers, pre_tokenizers, trainers
from tokenizers.models import WordPiece
import tokenizers
import transformers
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "wordpiece")
N_TEXTS = 2200
SPECIALS = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
            "cls_token": "[CLS]", "mask_token": "[MASK]"}

WORDS = ("the quick brown fox jumps over lazy dog movie film was great terrible amazing worst "
         "best acting plot story I you we they it is not don't can't won't isn't really very "
         "good bad love hate boring fun funny sad happy running played unbelievable "
         "transformers tokenizer wordpiece unaffable internationalization New York Paris Zürich "
         "naïve café résumé coöperate façade jalapeño über Ångström Straße élève São Paulo "
         "Dvořák Łódź Ελληνικά русский язык العربية עברית हिन्दी ภาษาไทย "
         "hello world 2024 3.14 1,000 $5 100% e-mail U.S.A. Mr. Dr. o'clock rock'n'roll").split()
CJK = ["中文", "你好世界", "我喜欢这部电影", "日本語のテキスト", "こんにちは", "カタカナ",
       "한국어", "안녕하세요", "漢字かな交じり文", "北京大学", "𠀀𠀁", "龍", "〇一二三"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "❤️", "🎉", "✨", "🙂🙃", "🤖", "☃", "⚽️"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["…", "—", "–", "«", "»", "“", "”", "‘",
                                                       "’", "¡", "¿", "§", "¶", "•", "†", "‰",
                                                       "、", "。", "「", "」", "・", "€", "£",
                                                       "¥", "©", "®", "™", "°", "±", "×", "÷"]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u200b",
           "\u200c", "\u200d", "\u200e", "\u2028", "\u2029", "\u2060", "\ufeff", "\ufffd",
           "\ue000", "\U000f0000", "\u0301", "\u0308", "\u0327"]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u2003", "\u3000", "\u202f", "\u1680",
          " \t \n "]
SPECIAL_STRINGS = ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "[cls]", "[Mask]", "[unused0]",
                   "[unused99]", "##ing", "##", "[CLS][SEP]", "a[SEP]b", "x [MASK] y",
                   "[MASK]abc", "[ MASK ]", "[[CLS]]", "<s>", "</s>"]

HAND = ["", " ", "Hello, world!", "HELLO WORLD", "hello   world", "This movie was amazing!",
        "This is the worst movie ever.", "unaffable", "UNAFFABLE", "Unaffable",
        "naïve café", "NAÏVE CAFÉ", "e\u0301", "E\u0301", "\u00c5ngstr\u00f6m", "A\u030angstro\u0308m",
        "ﬁnance", "Ⅻ", "①②③", "ｆｕｌｌｗｉｄｔｈ", "İstanbul", "ǅ", "ß", "ẞ", "ΣΑΣ", "Ǆ",
        "中文", "a中b", "中 文", "日本語", "ｶﾀｶﾅ", "한국어", "𠀀", "😀", "a😀b",
        "[CLS] hello [SEP]", "[MASK]", "[mask]", "hello[MASK]world", "[UNK]", "[PAD][PAD]",
        "don't", "can't", "I'm", "you're", "it's", "rock'n'roll", "U.S.A.", "3.14", "1,000,000",
        "x" * 100, "x" * 101, "a" * 150, "é" * 100, "é" * 101, "中" * 120,
        "supercalifragilisticexpialidocious" * 4, "\t\n\r", "\x00", "a\x00b", "a\x7fb",
        "\u200b", "a\u200bb", "\ufeffhello", "a\u00a0b", "a\u3000b", "a\u2028b", "\x85",
        "... !!! ???", "(parenthesis)", "hello--world", "e-mail", "#hashtag @mention",
        "https://example.com/path?q=1&r=2", "user@example.com", "C++ / C# / F#",
        "$100.00", "50%", "½ ¼", "²³", "∑∫√", "→←↑↓", "♠♣♥♦", "✓✗",
        "This movie was great, I loved it. " * 40, "The worst film, truly awful! " * 25,
        "中文字符" * 80, "Ünïcödé wörds äre fün. " * 30, "[MASK] " * 70, "a " * 600,
        "supercalifragilistic " * 45]


def rand_word(rng):
    r = rng.random()
    if r < 0.55:
        w = rng.choice(WORDS)
    elif r < 0.65:
        w = rng.choice(CJK)
    elif r < 0.72:
        w = rng.choice(EMOJI)
    elif r < 0.80:
        w = "".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 3)))
    elif r < 0.84:
        w = rng.choice(SPECIAL_STRINGS)
    elif r < 0.855:
        w = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzé") for _ in range(rng.randint(95, 110)))
    elif r < 0.92:
        w = "".join(chr(rng.choice([rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x24f),
                                    rng.randint(0x370, 0x4ff), rng.randint(0x3040, 0x30ff),
                                    rng.randint(0x4e00, 0x9fff), rng.randint(0xac00, 0xd7a3),
                                    rng.randint(0x1f300, 0x1f6ff), rng.randint(0x300, 0x36f)]))
                    for _ in range(rng.randint(1, 6)))
    else:
        w = rng.choice(WORDS) + rng.choice(CONTROL) + rng.choice(WORDS)
    r = rng.random()
    if r < 0.15:
        w = w.upper()
    elif r < 0.3:
        w = w.capitalize()
    return w


def rand_text(rng):
    n = rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8, 12])
    parts = []
    for i in range(n):
        if i:
            parts.append(" " if rng.random() < 0.75 else rng.choice(SPACES + CONTROL))
        parts.append(rand_word(rng))
    text = "".join(parts)
    if rng.random() < 0.1:
        text = rng.choice(SPACES) + text + rng.choice(SPACES)
    return text


def build_texts():
    rng = random.Random(1313)
    texts, seen = [], set()
    for t in HAND + SPECIAL_STRINGS + CJK + EMOJI + PUNCT + CONTROL + SPACES:
        if t not in seen:
            seen.add(t)
            texts.append(t)
    while len(texts) < N_TEXTS:
        t = rand_text(rng)
        if t not in seen:
            seen.add(t)
            texts.append(t)
    return texts


CORPUS_FILES = ["tokenization_utils_base.py", "tokenization_utils_tokenizers.py",
                "modeling_utils.py", "configuration_utils.py", "trainer.py",
                "training_args.py", "generation/utils.py", "models/bert/modeling_bert.py"]


def train_cased_vocab(texts, path):
    src = os.path.dirname(transformers.__file__)
    lines = []
    for f in CORPUS_FILES:
        with open(os.path.join(src, f), encoding="utf-8") as fh:
            lines.extend(fh.read().splitlines())
    lines.extend(texts)
    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=6000, min_frequency=1, limit_alphabet=1500, show_progress=False,
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(lines, trainer)
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for piece, _ in vocab:
            fh.write(piece + "\n")


def write_folder(name, vocab_src, config, special_map=SPECIALS):
    """A folder holding a copy of vocab_src, config as tokenizer_config.json and special_map as
    special_tokens_map.json (no symlinks: not every checkout keeps them)."""
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, "vocab.txt")
    if os.path.lexists(dst) and os.path.abspath(vocab_src) != os.path.abspath(dst):
        os.remove(dst)
    if os.path.abspath(vocab_src) != os.path.abspath(dst):
        shutil.copyfile(vocab_src, dst)
    assert not os.path.exists(os.path.join(d, "tokenizer.json")), d
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    with open(os.path.join(d, "special_tokens_map.json"), "w", encoding="utf-8") as fh:
        json.dump(special_map, fh, indent=2)
        fh.write("\n")
    return d


def added_token(content, lstrip=False):
    return {"content": content, "lstrip": lstrip, "normalized": False, "rstrip": False,
            "single_word": False, "special": True}


def sst2_vocab(path):
    """vocab.txt of the real SST-2 vocabulary, from the fixture model's tokenizer.json."""
    src = os.path.join(ROOT, "tests", "fixtures", "models", "distilbert_sst2", "tokenizer.json")
    with open(src, encoding="utf-8") as fh:
        vocab = json.load(fh)["model"]["vocab"]
    pieces = sorted(vocab, key=vocab.get)
    assert [vocab[p] for p in pieces] == list(range(len(pieces))) and len(pieces) == 30522
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(p + "\n" for p in pieces))


def write_jsonl(name, folder, texts):
    assert not os.path.exists(os.path.join(folder, "tokenizer.json")), folder
    tok = AutoTokenizer.from_pretrained(folder)
    assert "WordPiece" in tok.backend_tokenizer.to_str(), name
    max_len = tok.model_max_length
    path = os.path.join(OUT, name + ".jsonl")
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        head = {"folder": name, "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__, "class": type(tok).__name__,
                "count": len(texts), "model_max_length": max_len}
        fh.write(json.dumps({"header": head}) + "\n")
        n_cut = 0
        for t in texts:
            ids = tok(t, add_special_tokens=True)["input_ids"]
            rec = {"text": t, "ids": ids, "decode": tok.decode(ids),
                   "decode_skip": tok.decode(ids, skip_special_tokens=True)}
            for key in ("text", "decode", "decode_skip"):
                if "\x00" in rec[key]:  # a C JSON string ends at NUL: such texts go as hex
                    rec[key + "_hex"] = rec.pop(key).encode("utf-8").hex()
            cut = tok(t, add_special_tokens=True, truncation=True)["input_ids"]
            if cut != ids:
                rec["ids_truncated"] = cut
                n_cut += 1
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{name}: {len(texts)} texts, {type(tok).__name__}, vocab {tok.vocab_size}, "
          f"model_max_length {max_len}, {n_cut} truncated")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--retrain-cased", action="store_true",
                    help="train the cased vocabulary again instead of keeping the committed one")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    texts = build_texts()
    os.makedirs(os.path.join(OUT, "uncased"), exist_ok=True)
    uvocab = os.path.join(OUT, "uncased", "vocab.txt")
    sst2_vocab(uvocab)
    folders = {}
    folders["uncased"] = write_folder(
        "uncased", uvocab, {"tokenizer_class": "DistilBertTokenizer", "do_lower_case": True,
                            "model_max_length": 512})
    folders["uncased_accents"] = write_folder(
        "uncased_accents", uvocab, {"tokenizer_class": "BertTokenizer", "do_lower_case": True,
                                    "strip_accents": False})
    folders["uncased_no_chinese"] = write_folder(
        "uncased_no_chinese", uvocab, {"tokenizer_class": "BertTokenizerFast",
                                       "do_lower_case": True, "tokenize_chinese_chars": False,
                                       "strip_accents": None, "model_max_length": 128})
    os.makedirs(os.path.join(OUT, "cased"), exist_ok=True)
    cvocab = os.path.join(OUT, "cased", "vocab.txt")
    if args.retrain_cased or not os.path.exists(cvocab):
        train_cased_vocab(texts, cvocab)
    decoder = {str(i): added_token(t, lstrip=(t == "[MASK]"))
               for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])}
    folders["cased"] = write_folder(
        "cased", cvocab, {"added_tokens_decoder": decoder, "clean_up_tokenization_spaces": True,
                          "cls_token": "[CLS]", "do_lower_case": False, "mask_token": "[MASK]",
                          "model_max_length": 512, "pad_token": "[PAD]", "sep_token": "[SEP]",
                          "strip_accents": None, "tokenize_chinese_chars": True,
                          "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]"})
    object_map = {k: {"content": v, "lstrip": v == "[MASK]", "normalized": False,
                      "rstrip": False, "single_word": False} for k, v in SPECIALS.items()}
    folders["cased_strip"] = write_folder(
        "cased_strip", cvocab, {"tokenizer_class": "DistilBertTokenizerFast",
                                "do_lower_case": False, "strip_accents": True,
                                "model_max_length": 64}, special_map=object_map)
    for name, folder in folders.items():
        write_jsonl(name, folder, texts)


if __name__ == "__main__":
    sys.exit(main())
