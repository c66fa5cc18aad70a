/*
 * pre_tokenizer.c — tokenizer.json's "pre_tokenizer": cuts each normalized stretch of text
 * into the words the model encodes one at a time.
 *
 * Supported: Sequence (flattened) and Metaspace — spaces become the replacement character
 * (U+2581), which is prepended per prepend_scheme ("always"; "first": only to a split that
 * starts the original text; "never"), then with split=true the text is cut before every
 * replacement character (Hugging Face's MergedWithNext). This is the layout of non-legacy Llama
 * conversions. No pre_tokenizer at all leaves each stretch one word. Other types are
 * SLM_ERR_UNSUPPORTED; phase 2 adds ByteLevel, Split (PCRE2), Whitespace, BertPreTokenizer ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

bool slm_tok_split_list_push(slm_tok_split_list *l, size_t off, size_t len, bool at_origin)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        slm_tok_split *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (slm_tok_split){off, len, at_origin};
    return true;
}

void slm_tok_split_list_free(slm_tok_split_list *l)
{
    slm_tok_buf_free(&l->text);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------------------------ shared JSON helpers */

slm_status slm_tok_json_char(const cJSON *json, const char *key, const char *path,
                             const char *where, char out[5], size_t *len, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);
    size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    if (n == 0 || n > 4 || slm_tok_utf8_char_len(v->valuestring, n) != n)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.%s must be a single character", path, where,
                        key);
    memcpy(out, v->valuestring, n + 1);
    *len = n;
    return SLM_OK;
}

slm_status slm_tok_prepend_scheme(const cJSON *json, const char *path, const char *where,
                                  slm_prepend_scheme *out, slm_error *err)
{
    const cJSON *scheme = cJSON_GetObjectItemCaseSensitive(json, "prepend_scheme");
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(json, "add_prefix_space");
    *out = SLM_PREPEND_ALWAYS;
    if (cJSON_IsString(scheme)) {
        const char *s = scheme->valuestring;
        if (strcmp(s, "always") == 0)
            *out = SLM_PREPEND_ALWAYS;
        else if (strcmp(s, "first") == 0)
            *out = SLM_PREPEND_FIRST;
        else if (strcmp(s, "never") == 0)
            *out = SLM_PREPEND_NEVER;
        else
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.prepend_scheme '%s' is not one of "
                            "always, first, never", path, where, s);
    } else if (scheme && !cJSON_IsNull(scheme)) {
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.prepend_scheme must be a string", path,
                        where);
    }
    /* Older files say add_prefix_space instead; false means "never". */
    if (cJSON_IsFalse(add)) {
        if (cJSON_IsString(scheme) && *out != SLM_PREPEND_NEVER)
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: %s: add_prefix_space false contradicts prepend_scheme", path,
                            where);
        *out = SLM_PREPEND_NEVER;
    }
    return SLM_OK;
}

/* ------------------------------------------------------------------ loading */

static slm_status load_metaspace(slm_pretok_step *step, const cJSON *json, const char *path,
                                 const char *where, slm_error *err)
{
    step->kind = SLM_PRETOK_METASPACE;
    SLM_TRY(slm_tok_json_char(json, "replacement", path, where, step->repl, &step->repl_len,
                              err));
    SLM_TRY(slm_tok_prepend_scheme(json, path, where, &step->prepend, err));
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(json, "split");
    step->split = !cJSON_IsFalse(split); /* default true */
    return SLM_OK;
}

static slm_status load_one(slm_pretokenizer *pt, const cJSON *json, const char *path,
                           const char *where, slm_error *err)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(json, "type");
    if (!cJSON_IsString(type))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s has no \"type\"", path, where);
    const char *t = type->valuestring;
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "pretokenizers");
        if (!cJSON_IsArray(list))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.pretokenizers must be a list", path,
                            where);
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, list)
        {
            char sub[256];
            snprintf(sub, sizeof sub, "%s.pretokenizers[%d]", where, i++);
            SLM_TRY(load_one(pt, e, path, sub, err));
        }
        return SLM_OK;
    }
    if (strcmp(t, "Metaspace") != 0)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: %s: pre_tokenizer type '%s' is not supported", path, where, t);
    slm_pretok_step *v = realloc(pt->steps, (pt->n + 1) * sizeof *v);
    if (!v)
        return slm_fail_nomem(err, "pre_tokenizer");
    pt->steps = v;
    memset(&pt->steps[pt->n], 0, sizeof *v);
    SLM_TRY(load_metaspace(&pt->steps[pt->n], json, path, where, err));
    pt->n++;
    return SLM_OK;
}

slm_status slm_pretokenizer_load(slm_pretokenizer *pt, const cJSON *json, const char *path,
                                 slm_error *err)
{
    memset(pt, 0, sizeof *pt);
    if (!json || cJSON_IsNull(json))
        return SLM_OK;
    slm_status st = load_one(pt, json, path, "pre_tokenizer", err);
    if (st != SLM_OK)
        slm_pretokenizer_free(pt);
    return st;
}

void slm_pretokenizer_free(slm_pretokenizer *pt)
{
    free(pt->steps);
    memset(pt, 0, sizeof *pt);
}

/* ------------------------------------------------------------------ applying */

/* Cuts out->text[from..) before each replacement character, keeping it with what follows:
 * "a▁▁b" -> "a", "▁", "▁b". */
static bool split_merged_with_next(const slm_pretok_step *st, size_t from, bool at_origin,
                                   slm_tok_split_list *out)
{
    const char *t = out->text.data;
    size_t end = out->text.len, piece = from;
    for (size_t i = from; i < end;) {
        bool hit = i + st->repl_len <= end && memcmp(t + i, st->repl, st->repl_len) == 0;
        if (hit && i > piece) {
            if (!slm_tok_split_list_push(out, piece, i - piece, at_origin && piece == from))
                return false;
            piece = i;
        }
        i += hit ? st->repl_len : 1;
    }
    return slm_tok_split_list_push(out, piece, end - piece, at_origin && piece == from);
}

static bool metaspace(const slm_pretok_step *st, const char *s, size_t n, bool at_origin,
                      slm_tok_split_list *out)
{
    size_t from = out->text.len;
    bool starts = n >= st->repl_len && memcmp(s, st->repl, st->repl_len) == 0;
    bool spaced = n > 0 && s[0] == ' '; /* becomes the replacement below */
    bool prepend = !starts && !spaced &&
                   (st->prepend == SLM_PREPEND_ALWAYS ||
                    (st->prepend == SLM_PREPEND_FIRST && at_origin));
    if (prepend && !slm_tok_buf_append(&out->text, st->repl, st->repl_len))
        return false;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ')
            continue;
        if (!slm_tok_buf_append(&out->text, s + last, i - last) ||
            !slm_tok_buf_append(&out->text, st->repl, st->repl_len))
            return false;
        last = i + 1;
    }
    if (!slm_tok_buf_append(&out->text, s + last, n - last))
        return false;
    if (out->text.len == from)
        return true; /* empty splits are dropped */
    if (!st->split)
        return slm_tok_split_list_push(out, from, out->text.len - from, at_origin);
    return split_merged_with_next(st, from, at_origin, out);
}

bool slm_pretokenizer_apply(const slm_pretokenizer *pt, slm_tok_split_list *io,
                            slm_tok_split_list *tmp)
{
    for (size_t k = 0; k < pt->n; k++) {
        slm_tok_buf_clear(&tmp->text);
        tmp->n = 0;
        for (size_t i = 0; i < io->n; i++) {
            const slm_tok_split *sp = &io->v[i];
            if (!metaspace(&pt->steps[k], io->text.data + sp->off, sp->len, sp->at_origin, tmp))
                return false;
        }
        slm_tok_split_list swap = *io; /* the result feeds the next step */
        *io = *tmp;
        *tmp = swap;
    }
    return true;
}
