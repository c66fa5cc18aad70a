/*
 * normalizer.c — tokenizer.json's "normalizer": the text rewrite applied to each stretch of
 * input between added tokens, before pre-tokenization.
 *
 * Supported (Sequence is flattened into one list of steps):
 *   Prepend                 its text in front of a non-empty string
 *   Replace                 every non-overlapping match, left to right, by "content" (taken
 *                           literally); a String pattern is found with memcmp, a Regex one with
 *                           PCRE2 (regex.c)
 *   NFC NFD NFKC NFKD       utf8proc (unicode_norm.c)
 *   Lowercase StripAccents  unicode_norm.c
 *   Strip                   leading / trailing whitespace (strip_left / strip_right)
 *   BertNormalizer          clean_text, handle_chinese_chars, strip_accents (null: follow
 *                           lowercase), lowercase (unicode_norm.c)
 *   ByteLevel               every byte spelled as its GPT-2 byte-level character
 * Anything else (Precompiled, Nmt, ...) is SLM_ERR_UNSUPPORTED naming the type.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

/* ------------------------------------------------------------------ loading */

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

/* Reads a Replace step: {"String": "..."} or {"Regex": "..."} and its content. */
static slm_status load_replace(slm_norm_step *st, const cJSON *json, const char *path,
                               const char *where, slm_error *err)
{
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(json, "pattern");
    const cJSON *regex = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
    SLM_TRY(dup_field(json, "content", path, where, &st->b, &st->b_len, err));
    if (regex) {
        char sub[300];
        snprintf(sub, sizeof sub, "%s.pattern.Regex", where);
        if (!cJSON_IsString(regex))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s must be a string", path, sub);
        st->kind = SLM_NORM_REPLACE_REGEX;
        return slm_tok_regex_new(regex->valuestring, strlen(regex->valuestring), false, path,
                                 sub, &st->re, err);
    }
    st->kind = SLM_NORM_REPLACE;
    char sub[300];
    snprintf(sub, sizeof sub, "%s.pattern", where);
    SLM_TRY(dup_field(pat, "String", path, sub, &st->a, &st->a_len, err));
    if (st->a_len == 0) /* Hugging Face would insert content between all characters */
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: Replace with an empty pattern", path,
                        where);
    return SLM_OK;
}

static slm_status load_bert(slm_norm_step *st, const cJSON *json, const char *path,
                            const char *where, slm_error *err)
{
    st->kind = SLM_NORM_BERT;
    SLM_TRY(slm_tok_json_bool(json, "clean_text", true, path, where, &st->clean, err));
    SLM_TRY(slm_tok_json_bool(json, "handle_chinese_chars", true, path, where, &st->chinese,
                              err));
    SLM_TRY(slm_tok_json_bool(json, "lowercase", true, path, where, &st->lowercase, err));
    /* strip_accents: null (or absent) means "whatever lowercase is" */
    return slm_tok_json_bool(json, "strip_accents", st->lowercase, path, where,
                             &st->strip_accents, err);
}

static const struct {
    const char *name;
    slm_norm_kind kind;
} SIMPLE[] = {
    {"NFC", SLM_NORM_NFC},           {"NFD", SLM_NORM_NFD},
    {"NFKC", SLM_NORM_NFKC},         {"NFKD", SLM_NORM_NFKD},
    {"Lowercase", SLM_NORM_LOWERCASE}, {"StripAccents", SLM_NORM_STRIP_ACCENTS},
    {"ByteLevel", SLM_NORM_BYTE_LEVEL},
};

static slm_status load_step(slm_norm_step *st, const char *t, const cJSON *json,
                            const char *path, const char *where, slm_error *err)
{
    for (size_t i = 0; i < sizeof SIMPLE / sizeof SIMPLE[0]; i++)
        if (strcmp(t, SIMPLE[i].name) == 0) {
            st->kind = SIMPLE[i].kind;
            return SLM_OK;
        }
    if (strcmp(t, "Prepend") == 0) {
        st->kind = SLM_NORM_PREPEND;
        return dup_field(json, "prepend", path, where, &st->a, &st->a_len, err);
    }
    if (strcmp(t, "Replace") == 0)
        return load_replace(st, json, path, where, err);
    if (strcmp(t, "BertNormalizer") == 0)
        return load_bert(st, json, path, where, err);
    if (strcmp(t, "Strip") == 0) {
        st->kind = SLM_NORM_STRIP;
        SLM_TRY(slm_tok_json_bool(json, "strip_left", true, path, where, &st->left, err));
        return slm_tok_json_bool(json, "strip_right", true, path, where, &st->right, err);
    }
    return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: normalizer type '%s' is not supported",
                    path, where, t);
}

static void free_step(slm_norm_step *st)
{
    free(st->a);
    free(st->b);
    slm_tok_regex_free(st->re);
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
    if (strcmp(type->valuestring, "Sequence") == 0)
        return load_sequence(nz, json, path, where, err);
    if (nz->n == SLM_TOK_MAX_STEPS)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: more than %d normalizers in all",
                        path, where, SLM_TOK_MAX_STEPS);
    slm_norm_step *v = realloc(nz->steps, (nz->n + 1) * sizeof *v);
    if (!v)
        return slm_fail_nomem(err, "normalizer");
    nz->steps = v;
    slm_norm_step *st = &nz->steps[nz->n++]; /* counted now so a failure frees it */
    memset(st, 0, sizeof *st);
    return load_step(st, type->valuestring, json, path, where, err);
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
    for (size_t i = 0; i < nz->n; i++)
        free_step(&nz->steps[i]);
    free(nz->steps);
    memset(nz, 0, sizeof *nz);
}

/* ------------------------------------------------------------------ applying */

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

static slm_status replace_regex(const slm_norm_step *st, const char *s, size_t n,
                                slm_tok_buf *out, slm_tok_scratch *sc, slm_error *err)
{
    slm_tok_regex_iter it = {0};
    size_t a, b, last = 0;
    int rc;
    while ((rc = slm_tok_regex_next(st->re, s, n, &it, sc, &a, &b)) == 1) {
        if (!slm_tok_buf_append(out, s + last, a - last) ||
            !slm_tok_buf_append(out, st->b, st->b_len))
            return slm_fail_nomem(err, "normalized text");
        last = b;
    }
    if (rc < 0)
        return slm_fail(err, SLM_ERR_RANGE, "%s: regex could not be matched on this input (out "
                        "of memory or PCRE2's match limit)", slm_tok_regex_origin(st->re));
    if (!slm_tok_buf_append(out, s + last, n - last))
        return slm_fail_nomem(err, "normalized text");
    return SLM_OK;
}

/* Strip: Rust's trim_start / trim_end (White_Space). */
static bool strip(const slm_norm_step *st, const char *s, size_t n, slm_tok_buf *out)
{
    size_t a = 0, b = n, len;
    while (st->left && a < b && slm_tok_unicode_is_space(slm_tok_utf8_decode(s + a, &len)))
        a += len;
    while (st->right && b > a) {
        size_t p = b - 1;
        while (p > a && ((unsigned char)s[p] & 0xC0) == 0x80)
            p--;
        if (!slm_tok_unicode_is_space(slm_tok_utf8_decode(s + p, &len)))
            break;
        b = p;
    }
    return slm_tok_buf_append(out, s + a, b - a);
}

static slm_status apply_step(const slm_norm_step *st, const char *s, size_t n, slm_tok_buf *out,
                             slm_tok_scratch *sc, slm_error *err)
{
    slm_tok_buf_clear(out);
    bool ok = false;
    switch (st->kind) {
    case SLM_NORM_PREPEND:
        ok = (n == 0 || slm_tok_buf_append(out, st->a, st->a_len)) &&
             slm_tok_buf_append(out, s, n);
        break;
    case SLM_NORM_REPLACE:
        ok = replace_all(s, n, st->a, st->a_len, st->b, st->b_len, out);
        break;
    case SLM_NORM_REPLACE_REGEX:
        return replace_regex(st, s, n, out, sc, err);
    case SLM_NORM_NFC:
    case SLM_NORM_NFD:
    case SLM_NORM_NFKC:
    case SLM_NORM_NFKD:
        ok = slm_tok_nf(st->kind, s, n, out, sc);
        break;
    case SLM_NORM_LOWERCASE:
        ok = slm_tok_lowercase(s, n, out);
        break;
    case SLM_NORM_STRIP:
        ok = strip(st, s, n, out);
        break;
    case SLM_NORM_STRIP_ACCENTS:
        ok = slm_tok_strip_accents(s, n, out);
        break;
    case SLM_NORM_BERT:
        ok = slm_tok_bert_normalize(st, s, n, out, sc);
        break;
    case SLM_NORM_BYTE_LEVEL:
        ok = slm_tok_byte_level_map(s, n, out);
        break;
    }
    return ok ? SLM_OK : slm_fail_nomem(err, "normalized text");
}

slm_status slm_normalizer_apply(const slm_normalizer *nz, const char *s, size_t n,
                                slm_tok_buf *out, slm_tok_scratch *sc, slm_error *err)
{
    slm_tok_buf_clear(out);
    if (nz->n == 1) /* the common case: straight into out */
        return apply_step(&nz->steps[0], s, n, out, sc, err);
    if (!slm_tok_buf_append(out, s, n))
        return slm_fail_nomem(err, "normalized text");
    for (size_t i = 0; i < nz->n; i++) {
        SLM_TRY(apply_step(&nz->steps[i], out->data, out->len, &sc->chain, sc, err));
        slm_tok_buf swap = *out; /* the result becomes the next step's input */
        *out = sc->chain;
        sc->chain = swap;
    }
    return SLM_OK;
}
