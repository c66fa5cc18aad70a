/*
 * fuzz_tokenizer_encode.c — libFuzzer harness: fuzzed text through the fixture tokenizers.
 *
 * Input: byte 0 picks the tokenizer (SentencePiece-style BPE: TinyLlama; byte-level BPE:
 * SmolLM2; WordPiece: DistilBERT), byte 1 the truncation length, the rest is the text. The text
 * is encoded (with and without special tokens, and truncated), the ids decoded both ways and
 * streamed (fuzz_tokenizer_check.h), and the text's bytes are also decoded as a sequence of ids.
 * Round trips that must hold exactly: byte-level BPE always, SentencePiece BPE when the text
 * holds neither "\u2581" nor an added token. The tokenizers are loaded once and never freed.
 * Seeds: tests/fuzz/corpus/tokenizer_encode/ (texts from the tokenizer fixtures).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_tokenizer_check.h"

enum { SPM_BPE, BYTE_LEVEL_BPE, WORDPIECE, N_TOKENIZERS };

static const char *const DIRS[N_TOKENIZERS] = {
    SLM_SOURCE_DIR "/tests/fixtures/models/tinyllama",
    SLM_SOURCE_DIR "/tests/fixtures/models/smollm2",
    SLM_SOURCE_DIR "/tests/fixtures/models/distilbert_sst2",
};

static const slm_tokenizer *fixture(int which)
{
    static slm_tokenizer *toks[N_TOKENIZERS];
    if (!toks[which]) {
        slm_error err = {0};
        if (slm_tokenizer_load(DIRS[which], &toks[which], &err) != SLM_OK) {
            fprintf(stderr, "fuzz_tokenizer_encode: %s\n", err.msg);
            abort();
        }
    }
    return toks[which];
}

/* True when decode(encode(text)) must give the text back. */
static bool lossless(int which, const char *text, size_t len)
{
    static const char *const spm_specials[] = {"\xE2\x96\x81", "<s>", "</s>", "<unk>"};
    if (which == BYTE_LEVEL_BPE)
        return true;
    if (which != SPM_BPE)
        return false;
    for (size_t i = 0; i < 4; i++) {
        size_t k = strlen(spm_specials[i]);
        for (size_t at = 0; at + k <= len; at++)
            if (memcmp(text + at, spm_specials[i], k) == 0)
                return false;
    }
    return true;
}

/* The text's bytes as ids (two bytes each), around the vocabulary's range. */
static void decode_bytes_as_ids(const slm_tokenizer *tok, const uint8_t *p, size_t n)
{
    size_t vocab = slm_tokenizer_vocab_size(tok), k = n / 2;
    int32_t *ids = malloc((k ? k : 1) * sizeof *ids);
    FUZZ_CHECK(ids != NULL);
    for (size_t i = 0; i < k; i++)
        ids[i] = (int32_t)(((size_t)p[2 * i] << 8 | p[2 * i + 1]) % (vocab + 16));
    size_t len;
    free(fuzz_check_decode(tok, ids, k, false, &len));
    free(fuzz_check_decode(tok, ids, k, true, &len));
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int which = data[0] % N_TOKENIZERS;
    size_t max_len = data[1];
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    const slm_tokenizer *tok = fixture(which);

    slm_tokens ids = fuzz_check_encode(tok, text, len, max_len, false);
    size_t bad;
    if (slm_tok_utf8_valid(text, len, &bad)) {
        size_t n;
        char *back = fuzz_check_decode(tok, ids.ids, ids.n, false, &n);
        if (lossless(which, text, len) && (n != len || memcmp(back, text, len) != 0)) {
            fprintf(stderr, "round trip of %zu bytes gave %zu bytes\n", len, n);
            abort();
        }
        free(back);
    }
    slm_tokens_free(&ids);
    decode_bytes_as_ids(tok, data + 2, len);
    return 0;
}
