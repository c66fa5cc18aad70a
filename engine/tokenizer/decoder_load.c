/*
 * decoder_load.c — reads tokenizer.json's "decoder" into the list of steps decoder.c runs.
 *
 * Supported (Sequence is flattened): Replace (String or Regex pattern), ByteFallback, Fuse,
 * Strip, Metaspace, ByteLevel, WordPiece (prefix, cleanup). No decoder at all becomes one
 * JOIN_SPACE step, since Hugging Face then joins the pieces with spaces. Other types (BPEDecoder,
 * CTC, ...) are SLM_ERR_UNSUPPORTED naming the type and its JSON path.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

static slm_status dup_string(const cJSON *obj, const char *key, const char *path,
                             const char *where, char **out, size_t *len, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.%s must be a string", path, where, key);
    *len = strlen(v->valuestring);
    if (!(*out = strdup(v->valuestring)))
        return slm_fail_nomem(err, "decoder");
    return SLM_OK;
}

static slm_status count_field(const cJSON *obj, const char *key, const char *path,
                              const char *where, size_t *out, slm_error *err)
{
    char what[300];
    snprintf(what, sizeof what, "%s.%s", where, key);
    int64_t x;
    /* Past 1e9 characters every count strips the same: the whole piece. */
    SLM_TRY(slm_tok_json_int_value(cJSON_GetObjectItemCaseSensitive(obj, key), 0, 1000000000,
                                   path, what, &x, err));
    *out = (size_t)x;
    return SLM_OK;
}

static slm_status load_replace(slm_detok_step *s, const cJSON *json, const char *path,
                               const char *where, slm_error *err)
{
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(json, "pattern");
    const cJSON *regex = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
    SLM_TRY(dup_string(json, "content", path, where, &s->content, &s->content_len, err));
    char sub[300];
    snprintf(sub, sizeof sub, "%s.pattern", where);
    if (regex) {
        if (!cJSON_IsString(regex))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.Regex must be a string", path, sub);
        s->kind = SLM_DETOK_REPLACE_REGEX;
        return slm_tok_regex_new(regex->valuestring, strlen(regex->valuestring), false, path,
                                 sub, &s->re, err);
    }
    s->kind = SLM_DETOK_REPLACE;
    SLM_TRY(dup_string(pat, "String", path, sub, &s->pattern, &s->pattern_len, err));
    if (s->pattern_len == 0) /* Hugging Face would insert content between all characters */
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: Replace with an empty pattern", path,
                        where);
    return SLM_OK;
}

static slm_status load_char(slm_detok_step *s, const cJSON *json, const char *key,
                            const char *path, const char *where, slm_error *err)
{
    char c[5];
    SLM_TRY(slm_tok_json_char(json, key, path, where, c, &s->content_len, err));
    if (!(s->content = strdup(c)))
        return slm_fail_nomem(err, "decoder");
    return SLM_OK;
}

static slm_status load_wordpiece(slm_detok_step *s, const cJSON *json, const char *path,
                                 const char *where, slm_error *err)
{
    s->kind = SLM_DETOK_WORDPIECE;
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(json, "prefix");
    if (prefix && !cJSON_IsString(prefix))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.prefix must be a string", path, where);
    s->pattern = strdup(prefix ? prefix->valuestring : "##");
    if (!s->pattern)
        return slm_fail_nomem(err, "decoder");
    s->pattern_len = strlen(s->pattern);
    return slm_tok_json_bool(json, "cleanup", true, path, where, &s->cleanup, err);
}

static slm_status load_step(slm_detok_step *s, const char *type, const cJSON *json,
                            const char *path, const char *where, slm_error *err)
{
    if (strcmp(type, "Replace") == 0)
        return load_replace(s, json, path, where, err);
    if (strcmp(type, "ByteFallback") == 0) {
        s->kind = SLM_DETOK_BYTE_FALLBACK;
        return SLM_OK;
    }
    if (strcmp(type, "Fuse") == 0) {
        s->kind = SLM_DETOK_FUSE;
        return SLM_OK;
    }
    if (strcmp(type, "ByteLevel") == 0) {
        s->kind = SLM_DETOK_BYTE_LEVEL;
        return SLM_OK;
    }
    if (strcmp(type, "WordPiece") == 0)
        return load_wordpiece(s, json, path, where, err);
    if (strcmp(type, "Strip") == 0) {
        s->kind = SLM_DETOK_STRIP;
        SLM_TRY(load_char(s, json, "content", path, where, err));
        SLM_TRY(count_field(json, "start", path, where, &s->start, err));
        return count_field(json, "stop", path, where, &s->stop, err);
    }
    if (strcmp(type, "Metaspace") == 0) {
        slm_prepend_scheme scheme;
        s->kind = SLM_DETOK_METASPACE;
        SLM_TRY(load_char(s, json, "replacement", path, where, err));
        SLM_TRY(slm_tok_prepend_scheme(json, path, where, &scheme, err));
        s->strip_first = scheme != SLM_PREPEND_NEVER;
        return SLM_OK;
    }
    return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: decoder type '%s' is not supported", path,
                    where, type);
}

static slm_status add_step(slm_detok *d, slm_detok_step **out, slm_error *err)
{
    slm_detok_step *v = realloc(d->steps, (d->n + 1) * sizeof *v);
    if (!v)
        return slm_fail_nomem(err, "decoder");
    d->steps = v;
    *out = &d->steps[d->n++];
    memset(*out, 0, sizeof **out);
    return SLM_OK;
}

static slm_status load_one(slm_detok *d, const cJSON *json, const char *path, const char *where,
                           slm_error *err)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(json, "type");
    if (!cJSON_IsString(type))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s has no \"type\"", path, where);
    if (strcmp(type->valuestring, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "decoders");
        if (!cJSON_IsArray(list))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.decoders must be a list", path, where);
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, list)
        {
            char sub[256];
            snprintf(sub, sizeof sub, "%s.decoders[%d]", where, i++);
            SLM_TRY(load_one(d, e, path, sub, err));
        }
        return SLM_OK;
    }
    if (d->n == SLM_TOK_MAX_STEPS)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: more than %d decoders in all", path,
                        where, SLM_TOK_MAX_STEPS);
    slm_detok_step *s = NULL;
    SLM_TRY(add_step(d, &s, err));
    return load_step(s, type->valuestring, json, path, where, err);
}

slm_status slm_detok_load(slm_detok *d, const cJSON *json, const char *path, slm_error *err)
{
    memset(d, 0, sizeof *d);
    slm_status st;
    if (!json || cJSON_IsNull(json)) {
        slm_detok_step *s = NULL;
        st = add_step(d, &s, err);
        if (st == SLM_OK)
            s->kind = SLM_DETOK_JOIN_SPACE;
    } else {
        st = load_one(d, json, path, "decoder", err);
    }
    if (st != SLM_OK)
        slm_detok_free(d);
    return st;
}

slm_status slm_detok_add_cleanup(slm_detok *d, slm_error *err)
{
    /* transformers' clean_up_tokenization: str.replace calls in this order on the whole text */
    static const char *const pairs[][2] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
    };
    slm_detok_step *s = NULL;
    SLM_TRY(add_step(d, &s, err));
    s->kind = SLM_DETOK_FUSE; /* the whole text is one element */
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        SLM_TRY(add_step(d, &s, err));
        s->kind = SLM_DETOK_REPLACE;
        if (!(s->pattern = strdup(pairs[i][0])) || !(s->content = strdup(pairs[i][1])))
            return slm_fail_nomem(err, "decoder");
        s->pattern_len = strlen(s->pattern);
        s->content_len = strlen(s->content);
    }
    return SLM_OK;
}

void slm_detok_free(slm_detok *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->steps[i].pattern);
        free(d->steps[i].content);
        slm_tok_regex_free(d->steps[i].re);
    }
    free(d->steps);
    memset(d, 0, sizeof *d);
}
