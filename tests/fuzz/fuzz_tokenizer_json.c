/*
 * fuzz_tokenizer_json.c — libFuzzer harness: the input is a tokenizer.json, loaded from memory
 * (slm_tokenizer_load_json). Whatever loads must then encode and decode a fixed text, a run of
 * ids and a few sparse ones without crashing, and agree with itself (fuzz_tokenizer_check.h).
 * An input holding a NUL byte is split there: what follows is its tokenizer_config.json.
 * Seeds: tests/fuzz/corpus/tokenizer_json/ (fixture tokenizers cut down to a few hundred pieces).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_tokenizer_check.h"

static const char TEXT[] = "Hello, world! <s> [CLS] <|endoftext|> 123 4567 caf\xC3\xA9 "
                           "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xE2\x96\x81x  \t\n"
                           "don't ##ing \xF0\x9F\x98\x80 a\0b";

static void exercise(const slm_tokenizer *tok)
{
    slm_tokens ids = fuzz_check_encode(tok, TEXT, sizeof TEXT - 1, 8, true);
    size_t n;
    free(fuzz_check_decode(tok, ids.ids, ids.n, false, &n));
    slm_tokens_free(&ids);

    /* Every id up to 300, then ids the file may not have. */
    int32_t run[300 + 6];
    for (int32_t i = 0; i < 300; i++)
        run[i] = i;
    size_t vocab = slm_tokenizer_vocab_size(tok);
    int32_t extra[6] = {-1, (int32_t)(vocab > 0 ? vocab - 1 : 0), (int32_t)(vocab & 0x7fffffff),
                        INT32_MAX, slm_tokenizer_bos_id(tok), slm_tokenizer_eos_id(tok)};
    memcpy(run + 300, extra, sizeof extra);
    free(fuzz_check_decode(tok, run, 306, false, &n));
    free(fuzz_check_decode(tok, run, 306, true, &n));
    (void)slm_tokenizer_token_id(tok, "<s>");
    (void)slm_tokenizer_token_id(tok, "");
    (void)slm_tokenizer_model_max_length(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    const char *nul = memchr(json, '\0', size);
    size_t json_len = nul ? (size_t)(nul - json) : size;
    const char *config = nul ? nul + 1 : NULL;
    size_t config_len = nul ? size - json_len - 1 : 0;
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    slm_status st = slm_tokenizer_load_json(json, json_len, config, config_len, NULL, &tok, &err);
    if (st != SLM_OK) {
        /* A refusal is fine, as long as it says why and leaves nothing behind. */
        FUZZ_CHECK(tok == NULL && err.msg[0] != '\0');
        return 0;
    }
    exercise(tok);
    slm_tokenizer_free(tok);
    return 0;
}
