/*
 * fuzz_vocab_txt.c — libFuzzer harness: a BERT-family folder without tokenizer.json, from memory
 * (slm_tokenizer_load_vocab, engine/tokenizer/from_vocab.c). The input is vocab.txt; a NUL byte
 * ends it, and what follows is tokenizer_config.json, then after a second NUL
 * special_tokens_map.json (an empty part: that file is absent).
 * Whatever loads has one id per line of vocab.txt, finds every plain ASCII line under its line
 * number, must encode a fixed text (a WordPiece tokenizer always can: unknown words are the
 * unk_token, which must be a line) and decode it and runs of ids, agreeing with itself
 * (fuzz_tokenizer_check.h). A refusal must leave a message and no tokenizer.
 * Seeds: tests/fuzz/corpus/vocab_txt/ (the wordpiece fixtures cut to a few hundred lines, with
 * their configs, and small hand-made folders).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_tokenizer_check.h"

static const char TEXT[] = "Hello, World! [CLS] [MASK]x [SEP][PAD] na\xC3\xAFve CAF\xC3\x89 "
                           "\xE4\xB8\xAD\xE6\x96\x87 unaffable ##ing don't \xF0\x9F\x98\x80 "
                           "a\tb\r\nc \xE2\x80\x8B d\x01 [UNK]";

/* The next NUL-terminated part of [*p, end); NULL (and *len 0) when it is empty. */
static const char *next_part(const char **p, const char *end, size_t *len)
{
    const char *start = *p;
    const char *nul = start < end ? memchr(start, '\0', (size_t)(end - start)) : NULL;
    const char *stop = nul ? nul : end;
    *len = (size_t)(stop - start);
    *p = nul ? nul + 1 : end;
    return *len ? start : NULL;
}

static bool plain_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return n > 0;
}

/* One id per line, and plain lines found under their number. */
static void check_lines(const slm_tokenizer *tok, const char *vocab, size_t len)
{
    size_t lines = 0, checked = 0;
    for (size_t i = 0; i < len; lines++) {
        const char *nl = memchr(vocab + i, '\n', len - i);
        size_t stop = nl ? (size_t)(nl - vocab) : len;
        if (checked < 64 && plain_ascii(vocab + i, stop - i)) {
            char piece[128];
            size_t n = stop - i;
            if (n < sizeof piece) {
                memcpy(piece, vocab + i, n);
                piece[n] = '\0';
                FUZZ_CHECK(slm_tokenizer_token_id(tok, piece) == (int32_t)lines);
                checked++;
            }
        }
        i = nl ? stop + 1 : len;
    }
    FUZZ_CHECK(slm_tokenizer_vocab_size(tok) == lines);
}

static void exercise(const slm_tokenizer *tok, const char *vocab, size_t vocab_len)
{
    check_lines(tok, vocab, vocab_len);
    slm_tokens ids = fuzz_check_encode(tok, TEXT, sizeof TEXT - 1, 6, false);
    FUZZ_CHECK(ids.n > 0);
    size_t n;
    free(fuzz_check_decode(tok, ids.ids, ids.n, false, &n));
    slm_tokens_free(&ids);
    /* the vocabulary's own pieces as text */
    size_t piece_len = vocab_len < 2000 ? vocab_len : 2000;
    size_t bad;
    if (slm_tok_utf8_valid(vocab, piece_len, &bad)) {
        ids = fuzz_check_encode(tok, vocab, piece_len, 16, false);
        slm_tokens_free(&ids);
    }
    size_t size = slm_tokenizer_vocab_size(tok);
    int32_t run[200 + 4];
    for (int32_t i = 0; i < 200; i++)
        run[i] = i;
    int32_t extra[4] = {-1, (int32_t)(size - 1), (int32_t)size, INT32_MAX};
    memcpy(run + 200, extra, sizeof extra);
    free(fuzz_check_decode(tok, run, 204, false, &n));
    free(fuzz_check_decode(tok, run, 204, true, &n));
    (void)slm_tokenizer_model_max_length(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    size_t vocab_len, config_len, map_len;
    const char *vocab = next_part(&p, end, &vocab_len);
    const char *config = next_part(&p, end, &config_len);
    const char *map = next_part(&p, end, &map_len);
    slm_tokenizer *tok = (slm_tokenizer *)0x1;
    slm_error err = {0};
    slm_status st = slm_tokenizer_load_vocab(vocab ? vocab : "", vocab_len, config, config_len,
                                             map, map_len, NULL, &tok, &err);
    if (st != SLM_OK) {
        FUZZ_CHECK(tok == NULL && err.msg[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(tok != NULL);
    exercise(tok, vocab, vocab_len);
    slm_tokenizer_free(tok);
    return 0;
}
