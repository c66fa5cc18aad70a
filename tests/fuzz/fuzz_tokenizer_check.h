/*
 * fuzz_tokenizer_check.h — what both tokenizer harnesses assert about a loaded tokenizer (static
 * helpers, included by fuzz_tokenizer_json.c and fuzz_tokenizer_encode.c only).
 *
 * A failed check abort()s, which libFuzzer and replay_main report as a crash:
 *   - the streaming decoder, fed one id at a time, only ever returns whole UTF-8 characters, and
 *     what it returns in all equals slm_detokenize_len of the same ids;
 *   - slm_detokenize agrees with slm_detokenize_len, or refuses exactly when the text holds NUL;
 *   - slm_tokenize_truncated never returns more than max_len ids.
 */
#ifndef SLM_FUZZ_TOKENIZER_CHECK_H
#define SLM_FUZZ_TOKENIZER_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slm.h"
#include "tokenizer/tokenizer_internal.h"

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* A call that must succeed: on failure its message is printed first. */
#define FUZZ_CHECK_OK(call, err)                                                          \
    do {                                                                                  \
        slm_status fuzz_st_ = (call);                                                     \
        if (fuzz_st_ != SLM_OK) {                                                         \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,          \
                    (err).msg);                                                           \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* Decodes ids both ways and compares; returns the decoded text (malloc'd) and its length. */
static char *fuzz_check_decode(const slm_tokenizer *tok, const int32_t *ids, size_t n,
                               bool skip_special, size_t *len)
{
    slm_error err = {0};
    char *text = NULL;
    FUZZ_CHECK_OK(slm_detokenize_len(tok, ids, n, skip_special, &text, len, &err), err);
    FUZZ_CHECK(text != NULL);

    slm_stream_decoder *dec = NULL;
    FUZZ_CHECK_OK(slm_stream_decoder_new(tok, skip_special, &dec, &err), err);
    size_t used = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *chunk;
        size_t k, bad;
        slm_status st = i < n ? slm_stream_decoder_push(dec, ids[i], &chunk, &k, &err)
                              : slm_stream_decoder_finish(dec, &chunk, &k, &err);
        FUZZ_CHECK_OK(st, err);
        FUZZ_CHECK(slm_tok_utf8_valid(chunk, k, &bad));
        FUZZ_CHECK(used + k <= *len && memcmp(text + used, chunk, k) == 0);
        used += k;
    }
    FUZZ_CHECK(used == *len);
    slm_stream_decoder_free(dec);

    char *c_text = NULL;
    slm_status st = slm_detokenize(tok, ids, n, skip_special, &c_text, &err);
    if (memchr(text, '\0', *len)) {
        FUZZ_CHECK(st == SLM_ERR_INVALID_ARG && c_text == NULL);
    } else {
        FUZZ_CHECK(st == SLM_OK && strlen(c_text) == *len && memcmp(c_text, text, *len) == 0);
    }
    free(c_text);
    return text;
}

/* Encodes text with and without special tokens and truncated to max_len, checks the decodes of
 * the ids; returns the plain (no special tokens) ids, or an empty list when the text was refused:
 * invalid UTF-8 must be SLM_ERR_INVALID_ARG; with may_fail (a fuzzed tokenizer.json, whose model
 * may lack the unk_token a character needs) encoding may also fail cleanly, with a message and
 * the caller's list left as it was. */
static slm_tokens fuzz_check_encode(const slm_tokenizer *tok, const char *text, size_t len,
                                    size_t max_len, bool may_fail)
{
    slm_error err = {0};
    slm_tokens plain = {0}, special = {0}, cut = {0};
    size_t bad;
    bool valid = slm_tok_utf8_valid(text, len, &bad);
    slm_status st = slm_tokenize(tok, text, len, false, &plain, &err);
    if (!valid || (st != SLM_OK && may_fail)) {
        FUZZ_CHECK(valid ? st != SLM_ERR_INVALID_ARG : st == SLM_ERR_INVALID_ARG);
        FUZZ_CHECK(plain.n == 0 && err.msg[0] != '\0');
        slm_tokens_free(&plain);
        return plain;
    }
    FUZZ_CHECK_OK(st, err);
    FUZZ_CHECK_OK(slm_tokenize(tok, text, len, true, &special, &err), err);
    FUZZ_CHECK(special.n >= plain.n);
    bool truncated = false;
    st = slm_tokenize_truncated(tok, text, len, true, max_len, &cut, &truncated, &err);
    /* INVALID_ARG: max_len cannot hold the special tokens. */
    FUZZ_CHECK(st == SLM_OK || st == SLM_ERR_INVALID_ARG);
    FUZZ_CHECK(cut.n <= max_len);
    FUZZ_CHECK(st != SLM_OK || truncated == (cut.n < special.n));
    size_t n;
    free(fuzz_check_decode(tok, special.ids, special.n, true, &n));
    free(fuzz_check_decode(tok, special.ids, special.n, false, &n));
    slm_tokens_free(&special);
    slm_tokens_free(&cut);
    return plain;
}

#endif /* SLM_FUZZ_TOKENIZER_CHECK_H */
