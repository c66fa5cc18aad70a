/*
 * normalizer.c — tokenizer.json's "normalizer": the text rewrite applied to each stretch of
 * input between added tokens, before pre-tokenization.
 *
 * Supported: Sequence (flattened into one list of steps), Prepend (adds its text in front of a
 * non-empty string) and Replace with a String pattern (every non-overlapping occurrence, left to
 * right). Together they are the SentencePiece "metaspace" normalizer of Llama-2 style files:
 * Sequence[Prepend "▁", Replace " " -> "▁"]. Any other type is SLM_ERR_UNSUPPORTED naming it;
 * phase 2 adds NFC/NFKC/Lowercase/BertNormalizer here (utf8proc is linked for them).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

static slm_status dup_field(const cJSON *obj, const char *key, const char *path,
                            const char *where, char **out, size_t *len, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.%s must be a string", path, where, key);
    *len = strlen(v->valuestring);
    if (!(*out = strdup(v->valuestring)))
        return slm_fail_nomem(err, "normalizer");
    return SLM_OK;
}

/* Reads a Replace pattern {"String": "..."}; {"Regex": ...} waits for phase 2. */
static slm_status replace_pattern(const cJSON *obj, const char *path, const char *where,
                                  char **out, size_t *len, slm_error *err)
{
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(obj, "pattern");
    if (cJSON_GetObjectItemCaseSensitive(pat, "Regex"))
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: %s: Replace with a Regex pattern is not supported", path, where);
    SLM_TRY(dup_field(pat, "String", path, where, out, len, err));
    if (*len == 0)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: Replace with an empty pattern", path,
                        where);
    return SLM_OK;
}

static slm_status add_step(slm_normalizer *nz, slm_norm_step step, slm_error *err)
{
    slm_norm_step *v = realloc(nz->steps, (nz->n + 1) * sizeof *v);
    if (!v) {
        free(step.a);
        free(step.b);
        return slm_fail_nomem(err, "normalizer");
    }
    nz->steps = v;
    nz->steps[nz->n++] = step;
    return SLM_OK;
}

static slm_status load_one(slm_normalizer *nz, const cJSON *json, const char *path,
                           const char *where, slm_error *err);

static slm_status load_sequence(slm_normalizer *nz, const cJSON *json, const char *path,
                                const char *where, slm_error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "normalizers");
    if (!cJSON_IsArray(list))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.normalizers must be a list", path, where);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        char sub[256];
        snprintf(sub, sizeof sub, "%s.normalizers[%d]", where, i++);
        SLM_TRY(load_one(nz, e, path, sub, err));
    }
    return SLM_OK;
}

static slm_status load_one(slm_normalizer *nz, const cJSON *json, const char *path,
                           const char *where, slm_error *err)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(json, "type");
    if (!cJSON_IsString(type))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s has no \"type\"", path, where);
    const char *t = type->valuestring;
    slm_norm_step step = {0};
    slm_status st;
    if (strcmp(t, "Sequence") == 0)
        return load_sequence(nz, json, path, where, err);
    if (strcmp(t, "Prepend") == 0) {
        step.kind = SLM_NORM_PREPEND;
        st = dup_field(json, "prepend", path, where, &step.a, &step.a_len, err);
    } else if (strcmp(t, "Replace") == 0) {
        step.kind = SLM_NORM_REPLACE;
        st = replace_pattern(json, path, where, &step.a, &step.a_len, err);
        if (st == SLM_OK)
            st = dup_field(json, "content", path, where, &step.b, &step.b_len, err);
    } else {
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: normalizer type '%s' is not supported",
                        path, where, t);
    }
    if (st != SLM_OK) {
        free(step.a);
        free(step.b);
        return st;
    }
    return add_step(nz, step, err);
}

slm_status slm_normalizer_load(slm_normalizer *nz, const cJSON *json, const char *path,
                               slm_error *err)
{
    memset(nz, 0, sizeof *nz);
    if (!json || cJSON_IsNull(json))
        return SLM_OK;
    slm_status st = load_one(nz, json, path, "normalizer", err);
    if (st != SLM_OK)
        slm_normalizer_free(nz);
    return st;
}

void slm_normalizer_free(slm_normalizer *nz)
{
    for (size_t i = 0; i < nz->n; i++) {
        free(nz->steps[i].a);
        free(nz->steps[i].b);
    }
    free(nz->steps);
    memset(nz, 0, sizeof *nz);
}

/* Replaces every non-overlapping occurrence of pat, scanning left to right. */
static bool replace_all(const char *s, size_t n, const char *pat, size_t np, const char *with,
                        size_t nw, slm_tok_buf *out)
{
    size_t i = 0, last = 0;
    while (np <= n && i <= n - np) {
        if (s[i] == pat[0] && memcmp(s + i, pat, np) == 0) {
            if (!slm_tok_buf_append(out, s + last, i - last) || !slm_tok_buf_append(out, with, nw))
                return false;
            i += np;
            last = i;
        } else {
            i++;
        }
    }
    return slm_tok_buf_append(out, s + last, n - last);
}

static bool apply_step(const slm_norm_step *st, const char *s, size_t n, slm_tok_buf *out)
{
    slm_tok_buf_clear(out);
    switch (st->kind) {
    case SLM_NORM_PREPEND:
        if (n > 0 && !slm_tok_buf_append(out, st->a, st->a_len))
            return false;
        return slm_tok_buf_append(out, s, n);
    case SLM_NORM_REPLACE:
        return replace_all(s, n, st->a, st->a_len, st->b, st->b_len, out);
    }
    return false;
}

bool slm_normalizer_apply(const slm_normalizer *nz, const char *s, size_t n, slm_tok_buf *out,
                          slm_tok_buf *tmp)
{
    slm_tok_buf_clear(out);
    if (!slm_tok_buf_append(out, s, n))
        return false;
    for (size_t i = 0; i < nz->n; i++) {
        if (!apply_step(&nz->steps[i], out->data, out->len, tmp))
            return false;
        slm_tok_buf swap = *out; /* the result becomes the next step's input */
        *out = *tmp;
        *tmp = swap;
    }
    return true;
}
