/*
 * pre_tokenizer.c — tokenizer.json's "pre_tokenizer": cuts each normalized stretch of text
 * into the words the model encodes one at a time.
 *
 * Supported (Sequence is flattened; each step cuts every split of the previous one):
 *   Metaspace         spaces become the replacement character (U+2581), which is prepended per
 *                     prepend_scheme ("always"; "first": only to a split that starts the
 *                     original text; "never"); with split=true the text is cut before every
 *                     replacement character (MergedWithNext)
 *   ByteLevel         " " prepended to a split not starting with one (add_prefix_space), then
 *                     GPT-2's word regex (use_regex, default true); the bytes are spelled as
 *                     byte-level characters — lazily by the model when ByteLevel is the last
 *                     step (pt->byte_level), here when later steps need to see them
 *   Split             a Regex or String pattern with a behaviour and invert (split.c)
 *   BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits   (split.c)
 * No pre_tokenizer at all leaves each stretch one word. Other types are SLM_ERR_UNSUPPORTED.
 * Steps that only cut keep the text and replace the split list; steps that rewrite text
 * (Metaspace, ByteLevel's prefix and mapping) write a new text buffer.
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
    bool add_prefix;
    SLM_TRY(slm_tok_json_bool(json, "add_prefix_space", true, path, where, &add_prefix, err));
    if (cJSON_IsBool(add) && !add_prefix) {
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
    SLM_TRY(slm_tok_json_char(json, "replacement", path, where, step->repl, &step->repl_len,
                              err));
    SLM_TRY(slm_tok_prepend_scheme(json, path, where, &step->prepend, err));
    return slm_tok_json_bool(json, "split", true, path, where, &step->split, err);
}

static slm_status load_split(slm_pretok_step *step, const cJSON *json, const char *path,
                             const char *where, slm_error *err)
{
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(json, "pattern");
    const cJSON *regex = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
    const cJSON *string = cJSON_GetObjectItemCaseSensitive(pat, "String");
    const cJSON *p = regex ? regex : string;
    if (!cJSON_IsString(p))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: %s.pattern must be {\"Regex\": string} or {\"String\": string}",
                        path, where);
    char sub[300];
    snprintf(sub, sizeof sub, "%s.pattern", where);
    SLM_TRY(slm_tok_regex_new(p->valuestring, strlen(p->valuestring), p == string, path, sub,
                              &step->re, err));
    SLM_TRY(slm_tok_parse_behavior(json, path, where, &step->behavior, err));
    return slm_tok_json_bool(json, "invert", false, path, where, &step->invert, err);
}

static slm_status load_step(slm_pretok_step *step, const char *t, const cJSON *json,
                            const char *path, const char *where, slm_error *err)
{
    if (strcmp(t, "Metaspace") == 0) {
        step->kind = SLM_PRETOK_METASPACE;
        return load_metaspace(step, json, path, where, err);
    }
    if (strcmp(t, "ByteLevel") == 0) {
        step->kind = SLM_PRETOK_BYTE_LEVEL;
        SLM_TRY(slm_tok_json_bool(json, "add_prefix_space", true, path, where,
                                  &step->add_prefix_space, err));
        SLM_TRY(slm_tok_json_bool(json, "use_regex", true, path, where, &step->use_regex, err));
        step->behavior = SLM_SPLIT_ISOLATED;
        return step->use_regex ? slm_tok_byte_level_regex(path, where, &step->re, err) : SLM_OK;
    }
    if (strcmp(t, "Split") == 0) {
        step->kind = SLM_PRETOK_SPLIT;
        return load_split(step, json, path, where, err);
    }
    if (strcmp(t, "Punctuation") == 0) {
        step->kind = SLM_PRETOK_PUNCTUATION;
        step->behavior = SLM_SPLIT_ISOLATED;
        return cJSON_GetObjectItemCaseSensitive(json, "behavior")
                   ? slm_tok_parse_behavior(json, path, where, &step->behavior, err)
                   : SLM_OK;
    }
    if (strcmp(t, "Digits") == 0) {
        step->kind = SLM_PRETOK_DIGITS;
        SLM_TRY(slm_tok_json_bool(json, "individual_digits", false, path, where, &step->split,
                                  err));
        step->behavior = step->split ? SLM_SPLIT_ISOLATED : SLM_SPLIT_CONTIGUOUS;
        return SLM_OK;
    }
    static const struct {
        const char *name;
        slm_pretok_kind kind;
    } plain[] = {{"BertPreTokenizer", SLM_PRETOK_BERT},
                 {"Whitespace", SLM_PRETOK_WHITESPACE},
                 {"WhitespaceSplit", SLM_PRETOK_WHITESPACE_SPLIT}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(t, plain[i].name) == 0) {
            step->kind = plain[i].kind;
            step->behavior = SLM_SPLIT_REMOVED;
            return SLM_OK;
        }
    return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: pre_tokenizer type '%s' is not supported",
                    path, where, t);
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
    if (pt->n == SLM_TOK_MAX_STEPS)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: more than %d pre-tokenizers in all",
                        path, where, SLM_TOK_MAX_STEPS);
    slm_pretok_step *v = realloc(pt->steps, (pt->n + 1) * sizeof *v);
    if (!v)
        return slm_fail_nomem(err, "pre_tokenizer");
    pt->steps = v;
    slm_pretok_step *step = &pt->steps[pt->n++]; /* counted now so a failure frees it */
    memset(step, 0, sizeof *step);
    return load_step(step, t, json, path, where, err);
}

slm_status slm_pretokenizer_load(slm_pretokenizer *pt, const cJSON *json, const char *path,
                                 slm_error *err)
{
    memset(pt, 0, sizeof *pt);
    if (!json || cJSON_IsNull(json))
        return SLM_OK;
    slm_status st = load_one(pt, json, path, "pre_tokenizer", err);
    if (st != SLM_OK) {
        slm_pretokenizer_free(pt);
        return st;
    }
    for (size_t i = 0; i < pt->n; i++)
        pt->steps[i].map_bytes = pt->steps[i].kind == SLM_PRETOK_BYTE_LEVEL && i + 1 < pt->n;
    pt->byte_level = pt->n > 0 && pt->steps[pt->n - 1].kind == SLM_PRETOK_BYTE_LEVEL;
    return SLM_OK;
}

void slm_pretokenizer_free(slm_pretokenizer *pt)
{
    for (size_t i = 0; i < pt->n; i++)
        slm_tok_regex_free(pt->steps[i].re);
    free(pt->steps);
    memset(pt, 0, sizeof *pt);
}

/* ------------------------------------------------------------------ Metaspace */

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

/* ------------------------------------------------------------------ passes */

/* A pass that rewrites the text of every split into tmp, then swaps tmp into io. */
static bool rewrite_pass(const slm_pretok_step *st, bool prefix, slm_tok_split_list *io,
                         slm_tok_split_list *tmp)
{
    slm_tok_buf_clear(&tmp->text);
    tmp->n = 0;
    for (size_t i = 0; i < io->n; i++) {
        const slm_tok_split *sp = &io->v[i];
        const char *s = io->text.data + sp->off;
        size_t from = tmp->text.len;
        bool ok;
        if (st->kind == SLM_PRETOK_METASPACE)
            ok = metaspace(st, s, sp->len, sp->at_origin, tmp);
        else if (prefix) /* ByteLevel add_prefix_space */
            ok = (s[0] == ' ' || slm_tok_buf_append(&tmp->text, " ", 1)) &&
                 slm_tok_buf_append(&tmp->text, s, sp->len) &&
                 slm_tok_split_list_push(tmp, from, tmp->text.len - from, sp->at_origin);
        else /* ByteLevel spelling the bytes */
            ok = slm_tok_byte_level_map(s, sp->len, &tmp->text) &&
                 slm_tok_split_list_push(tmp, from, tmp->text.len - from, sp->at_origin);
        if (!ok)
            return false;
    }
    slm_tok_split_list swap = *io;
    *io = *tmp;
    *tmp = swap;
    return true;
}

/* A pass that only cuts: the new splits index the same text. */
static slm_status cut_pass(const slm_pretok_step *st, slm_tok_split_list *io,
                           slm_tok_split_list *tmp, slm_tok_scratch *sc, slm_error *err)
{
    tmp->n = 0;
    for (size_t i = 0; i < io->n; i++) {
        if (st->re)
            SLM_TRY(slm_tok_split_regex(st, &io->v[i], &io->text, tmp, sc, err));
        else if (!slm_tok_split_chars(st, &io->v[i], &io->text, tmp, sc))
            return slm_fail_nomem(err, "pre-tokenized text");
    }
    slm_tok_split *v = io->v; /* swap the split arrays, keep the text */
    size_t cap = io->cap;
    io->v = tmp->v;
    io->n = tmp->n;
    io->cap = tmp->cap;
    tmp->v = v;
    tmp->cap = cap;
    tmp->n = 0;
    return SLM_OK;
}

static slm_status apply_step(const slm_pretok_step *st, slm_tok_split_list *io,
                             slm_tok_split_list *tmp, slm_tok_scratch *sc, slm_error *err)
{
    if (st->kind == SLM_PRETOK_METASPACE)
        return rewrite_pass(st, false, io, tmp) ? SLM_OK : slm_fail_nomem(err, "pre-tokenized");
    if (st->kind != SLM_PRETOK_BYTE_LEVEL)
        return cut_pass(st, io, tmp, sc, err);
    if (st->add_prefix_space && !rewrite_pass(st, true, io, tmp))
        return slm_fail_nomem(err, "pre-tokenized text");
    if (st->use_regex)
        SLM_TRY(cut_pass(st, io, tmp, sc, err));
    if (st->map_bytes && !rewrite_pass(st, false, io, tmp))
        return slm_fail_nomem(err, "pre-tokenized text");
    return SLM_OK;
}

slm_status slm_pretokenizer_apply(const slm_pretokenizer *pt, slm_tok_split_list *io,
                                  slm_tok_split_list *tmp, slm_tok_scratch *sc, slm_error *err)
{
    for (size_t k = 0; k < pt->n; k++)
        SLM_TRY(apply_step(&pt->steps[k], io, tmp, sc, err));
    return SLM_OK;
}
