/*
 * fuzz_config.c — libFuzzer harness for config.json and
 * generation_config.json (engine/config.c) through slm_config_parse, which
 * runs every type, range and cross-check.
 *
 * Input: the config.json text, then optionally a NUL and the
 * generation_config.json text. A failure must name one of the two files; a
 * success must satisfy the invariants the architectures size buffers by.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* What llama.c, phi3.c, distilbert.c and the session rely on. */
static void check_invariants(const slm_config *c)
{
    if (c->hidden_size <= 0 || c->intermediate_size <= 0 || c->n_layers <= 0 ||
        c->n_heads <= 0 || c->n_kv_heads <= 0 || c->head_dim <= 0 || c->vocab_size <= 0 ||
        c->max_positions <= 0 || c->sliding_window < 0)
        abort();
    if (c->n_heads % c->n_kv_heads != 0)
        abort();
    int64_t q_rows = (int64_t)c->n_heads * c->head_dim;
    int64_t kv_rows = (int64_t)c->n_kv_heads * c->head_dim;
    if (q_rows + 2 * kv_rows > INT32_MAX || 2 * (int64_t)c->intermediate_size > INT32_MAX)
        abort();
    if (strstr(c->model_type, "bert") && q_rows != c->hidden_size)
        abort(); /* the encoder attention splits dim exactly */
    if (c->bos_id >= c->vocab_size || c->n_eos < 0 || c->n_eos > SLM_MAX_EOS)
        abort();
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] < 0 || c->eos_ids[i] >= c->vocab_size)
            abort();
    if (c->n_labels < 0 || c->n_labels > SLM_MAX_LABELS ||
        c->rope.n_factors > SLM_MAX_ROPE_FACTORS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *gen = NULL;
    size_t len = size, gen_len = 0;
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        len = (size_t)(nul - data);
        gen = (const char *)nul + 1;
        gen_len = size - len - 1;
    }
    slm_config cfg;
    slm_error err;
    err.msg[0] = '\0';
    if (slm_config_parse(text, len, gen, gen_len, "fuzz", &cfg, &err) != SLM_OK) {
        if (strncmp(err.msg, "fuzz/config.json: ", 18) != 0 &&
            strncmp(err.msg, "fuzz/generation_config.json: ", 29) != 0)
            abort();
        return 0;
    }
    check_invariants(&cfg);
    return 0;
}
