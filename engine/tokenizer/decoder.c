/*
 * decoder.c — tokenizer.json's "decoder": turns the pieces of ids back into text, run as a
 * stream so the same code serves slm_detokenize and the streaming decoder.
 *
 * Hugging Face decodes a whole list at once: each step maps the list of piece strings to a new
 * list and the result is concatenated. Here the list flows through the steps one piece at a
 * time; a step passes on what can no longer change and holds back the rest:
 *   Replace       (String pattern) a tail that could be the start of the pattern
 *   ByteFallback  a run of <0xAB> pieces until a piece that is not one ends it — the run becomes
 *                 its UTF-8 text, or one U+FFFD per byte when the whole run is not valid UTF-8
 *   Fuse          nothing: it only makes everything after it one element
 *   Strip         trailing content characters an element's end may cut
 *   Metaspace     nothing (the first element loses its replacement characters)
 * Elements are delimited by `start` flags: every element a step outputs begins with a piece
 * whose start flag is set (possibly empty), so per-element steps (Strip, Metaspace) see the
 * same elements as in Hugging Face. The concatenation of everything emitted therefore equals
 * Hugging Face's decode of the whole list, however it was chopped into pushes.
 * No decoder at all joins the pieces with spaces, as Hugging Face does.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

/* ------------------------------------------------------------------ loading */

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
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s.%s must be a non-negative integer", path,
                        where, key);
    *out = (size_t)v->valuedouble;
    return SLM_OK;
}

static slm_status load_replace(slm_detok_step *s, const cJSON *json, const char *path,
                               const char *where, slm_error *err)
{
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(json, "pattern");
    if (cJSON_GetObjectItemCaseSensitive(pat, "Regex"))
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: %s: Replace with a Regex pattern is not supported", path, where);
    SLM_TRY(dup_string(pat, "String", path, where, &s->pattern, &s->pattern_len, err));
    if (s->pattern_len == 0)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s: Replace with an empty pattern", path,
                        where);
    return dup_string(json, "content", path, where, &s->content, &s->content_len, err);
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

static slm_status load_step(slm_detok_step *s, const char *type, const cJSON *json,
                            const char *path, const char *where, slm_error *err)
{
    if (strcmp(type, "Replace") == 0) {
        s->kind = SLM_DETOK_REPLACE;
        return load_replace(s, json, path, where, err);
    }
    if (strcmp(type, "ByteFallback") == 0) {
        s->kind = SLM_DETOK_BYTE_FALLBACK;
        return SLM_OK;
    }
    if (strcmp(type, "Fuse") == 0) {
        s->kind = SLM_DETOK_FUSE;
        return SLM_OK;
    }
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
    slm_detok_step *s;
    SLM_TRY(add_step(d, &s, err));
    return load_step(s, type->valuestring, json, path, where, err);
}

slm_status slm_detok_load(slm_detok *d, const cJSON *json, const char *path, slm_error *err)
{
    memset(d, 0, sizeof *d);
    slm_status st;
    if (!json || cJSON_IsNull(json)) {
        slm_detok_step *s;
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

void slm_detok_free(slm_detok *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->steps[i].pattern);
        free(d->steps[i].content);
    }
    free(d->steps);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------ running */

enum { BF_IDLE, BF_BUFFER, BF_PASS }; /* ByteFallback: what the current element is doing */

typedef struct {
    slm_tok_buf held;  /* Replace: possible pattern start; ByteFallback: the element so far */
    slm_tok_buf run;   /* ByteFallback: bytes of the pending <0x..> run */
    slm_tok_buf out;   /* output being assembled */
    int mode;          /* ByteFallback */
    size_t count;      /* Strip: held trailing characters; Metaspace, JoinSpace: elements;
                          Fuse: whether anything was emitted */
    size_t lead;       /* Strip: leading characters that may still be cut */
} stage;

struct slm_detok_run {
    const slm_detok *d;
    stage *st;
    slm_tok_buf *sink; /* where the last step's output goes during a call */
};

static bool emit(slm_detok_run *r, size_t k, const char *p, size_t n, bool start);

static const char FFFD[] = "\xEF\xBF\xBD";

/* -- Replace */

/* Length of the longest proper prefix of pat that s[0..n) ends with. */
static size_t partial_match(const char *s, size_t n, const char *pat, size_t np)
{
    for (size_t h = np - 1 < n ? np - 1 : n; h > 0; h--)
        if (memcmp(s + n - h, pat, h) == 0)
            return h;
    return 0;
}

static bool replace_flush(slm_detok_run *r, size_t k)
{
    stage *s = &r->st[k];
    bool ok = s->held.len == 0 || emit(r, k + 1, s->held.data, s->held.len, false);
    slm_tok_buf_clear(&s->held);
    return ok;
}

static bool replace_push(slm_detok_run *r, size_t k, const char *p, size_t n, bool start)
{
    const slm_detok_step *c = &r->d->steps[k];
    stage *s = &r->st[k];
    if (start && (!replace_flush(r, k) || !emit(r, k + 1, "", 0, true)))
        return false;
    if (!slm_tok_buf_append(&s->held, p, n))
        return false;
    const char *t = s->held.data;
    size_t len = s->held.len, last = 0, i = 0;
    slm_tok_buf_clear(&s->out);
    while (c->pattern_len <= len && i <= len - c->pattern_len) {
        if (memcmp(t + i, c->pattern, c->pattern_len) != 0) {
            i++;
            continue;
        }
        if (!slm_tok_buf_append(&s->out, t + last, i - last) ||
            !slm_tok_buf_append(&s->out, c->content, c->content_len))
            return false;
        i += c->pattern_len;
        last = i;
    }
    size_t keep = partial_match(t + last, len - last, c->pattern, c->pattern_len);
    if (!slm_tok_buf_append(&s->out, t + last, len - keep - last))
        return false;
    memmove(s->held.data, t + len - keep, keep);
    s->held.len = keep;
    return s->out.len == 0 || emit(r, k + 1, s->out.data, s->out.len, false);
}

/* -- ByteFallback */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hugging Face's test: 6 bytes, "<0x", '>', and u8::from_str_radix of the two in between
 * (which also takes "+F"). */
static int byte_piece(const char *p, size_t n)
{
    if (n != 6 || memcmp(p, "<0x", 3) != 0 || p[5] != '>')
        return -1;
    int hi = hex_digit(p[3]), lo = hex_digit(p[4]);
    if (p[3] == '+' && lo >= 0)
        return lo;
    return hi >= 0 && lo >= 0 ? hi * 16 + lo : -1;
}

static bool could_be_byte_piece(const char *p, size_t n)
{
    return n == 0 || (n <= 6 && memcmp(p, "<0x", n < 3 ? n : 3) == 0);
}

static bool bf_flush_run(slm_detok_run *r, size_t k)
{
    stage *s = &r->st[k];
    bool ok = true;
    if (s->run.len > 0 && slm_tok_utf8_valid(s->run.data, s->run.len, NULL))
        ok = emit(r, k + 1, s->run.data, s->run.len, true);
    else
        for (size_t i = 0; ok && i < s->run.len; i++)
            ok = emit(r, k + 1, FFFD, 3, true);
    slm_tok_buf_clear(&s->run);
    return ok;
}

static bool bf_end_element(slm_detok_run *r, size_t k)
{
    stage *s = &r->st[k];
    int mode = s->mode;
    s->mode = BF_IDLE;
    if (mode != BF_BUFFER)
        return true;
    int b = byte_piece(s->held.data, s->held.len);
    if (b >= 0) {
        char byte = (char)b;
        return slm_tok_buf_append(&s->run, &byte, 1);
    }
    return bf_flush_run(r, k) && emit(r, k + 1, s->held.data, s->held.len, true);
}

static bool bf_push(slm_detok_run *r, size_t k, const char *p, size_t n, bool start)
{
    stage *s = &r->st[k];
    if (start) {
        if (!bf_end_element(r, k))
            return false;
        s->mode = BF_BUFFER;
        slm_tok_buf_clear(&s->held);
    }
    if (s->mode != BF_BUFFER)
        return n == 0 || emit(r, k + 1, p, n, false);
    if (!slm_tok_buf_append(&s->held, p, n))
        return false;
    if (could_be_byte_piece(s->held.data, s->held.len))
        return true;
    /* Not a byte piece: the run before it is complete, and the element can flow. */
    s->mode = BF_PASS;
    return bf_flush_run(r, k) && emit(r, k + 1, s->held.data, s->held.len, true);
}

static bool bf_finish(slm_detok_run *r, size_t k)
{
    return bf_end_element(r, k) && bf_flush_run(r, k);
}

/* -- Fuse */

static bool fuse_push(slm_detok_run *r, size_t k, const char *p, size_t n)
{
    stage *s = &r->st[k];
    if (s->count == 0) {
        s->count = 1;
        return emit(r, k + 1, p, n, true);
    }
    return n == 0 || emit(r, k + 1, p, n, false);
}

static bool fuse_finish(slm_detok_run *r, size_t k)
{
    /* Fusing an empty list still yields one (empty) element. */
    return r->st[k].count != 0 || fuse_push(r, k, "", 0);
}

/* -- Strip */

static bool append_copies(slm_tok_buf *b, const char *c, size_t len, size_t times)
{
    for (size_t i = 0; i < times; i++)
        if (!slm_tok_buf_append(b, c, len))
            return false;
    return true;
}

static bool strip_end_element(slm_detok_run *r, size_t k)
{
    const slm_detok_step *c = &r->d->steps[k];
    stage *s = &r->st[k];
    size_t keep = s->count > c->stop ? s->count - c->stop : 0;
    s->count = 0;
    slm_tok_buf_clear(&s->out);
    if (!append_copies(&s->out, c->content, c->content_len, keep))
        return false;
    return s->out.len == 0 || emit(r, k + 1, s->out.data, s->out.len, false);
}

static bool strip_push(slm_detok_run *r, size_t k, const char *p, size_t n, bool start)
{
    const slm_detok_step *c = &r->d->steps[k];
    stage *s = &r->st[k];
    if (start) {
        if (!strip_end_element(r, k) || !emit(r, k + 1, "", 0, true))
            return false;
        s->lead = c->start;
    }
    slm_tok_buf_clear(&s->out);
    for (size_t i = 0; i < n;) {
        size_t len = slm_tok_utf8_char_len(p + i, n - i);
        len = len ? len : 1;
        bool is_c = len == c->content_len && memcmp(p + i, c->content, len) == 0;
        if (s->lead > 0 && is_c) {
            s->lead--; /* a leading content character: cut */
        } else if (is_c && c->stop > 0) {
            s->lead = 0;
            s->count++; /* held until the element's end decides */
        } else {
            s->lead = 0;
            if (!append_copies(&s->out, c->content, c->content_len, s->count) ||
                !slm_tok_buf_append(&s->out, p + i, len))
                return false;
            s->count = 0;
        }
        i += len;
    }
    return s->out.len == 0 || emit(r, k + 1, s->out.data, s->out.len, false);
}

/* -- Metaspace */

static bool metaspace_push(slm_detok_run *r, size_t k, const char *p, size_t n, bool start)
{
    const slm_detok_step *c = &r->d->steps[k];
    stage *s = &r->st[k];
    if (start) {
        s->count++;
        if (!emit(r, k + 1, "", 0, true))
            return false;
    }
    bool drop = s->count == 1 && c->strip_first;
    slm_tok_buf_clear(&s->out);
    for (size_t i = 0; i < n;) {
        size_t len = slm_tok_utf8_char_len(p + i, n - i);
        len = len ? len : 1;
        bool is_r = len == c->content_len && memcmp(p + i, c->content, len) == 0;
        if (is_r ? !drop && !slm_tok_buf_append(&s->out, " ", 1)
                 : !slm_tok_buf_append(&s->out, p + i, len))
            return false;
        i += len;
    }
    return s->out.len == 0 || emit(r, k + 1, s->out.data, s->out.len, false);
}

/* -- no decoder */

static bool join_push(slm_detok_run *r, size_t k, const char *p, size_t n, bool start)
{
    stage *s = &r->st[k];
    if (start && s->count++ > 0 && !emit(r, k + 1, " ", 1, false))
        return false;
    return n == 0 || emit(r, k + 1, p, n, false);
}

/* ------------------------------------------------------------------ the chain */

static bool emit(slm_detok_run *r, size_t k, const char *p, size_t n, bool start)
{
    if (k == r->d->n)
        return slm_tok_buf_append(r->sink, p, n);
    switch (r->d->steps[k].kind) {
    case SLM_DETOK_REPLACE: return replace_push(r, k, p, n, start);
    case SLM_DETOK_BYTE_FALLBACK: return bf_push(r, k, p, n, start);
    case SLM_DETOK_FUSE: return fuse_push(r, k, p, n);
    case SLM_DETOK_STRIP: return strip_push(r, k, p, n, start);
    case SLM_DETOK_METASPACE: return metaspace_push(r, k, p, n, start);
    case SLM_DETOK_JOIN_SPACE: return join_push(r, k, p, n, start);
    }
    return false;
}

static bool finish_step(slm_detok_run *r, size_t k)
{
    switch (r->d->steps[k].kind) {
    case SLM_DETOK_REPLACE: return replace_flush(r, k);
    case SLM_DETOK_BYTE_FALLBACK: return bf_finish(r, k);
    case SLM_DETOK_FUSE: return fuse_finish(r, k);
    case SLM_DETOK_STRIP: return strip_end_element(r, k);
    case SLM_DETOK_METASPACE:
    case SLM_DETOK_JOIN_SPACE: return true;
    }
    return false;
}

slm_detok_run *slm_detok_run_new(const slm_detok *d)
{
    slm_detok_run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->d = d;
    r->st = calloc(d->n ? d->n : 1, sizeof *r->st);
    if (!r->st) {
        free(r);
        return NULL;
    }
    return r;
}

void slm_detok_run_free(slm_detok_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->d->n; i++) {
        slm_tok_buf_free(&r->st[i].held);
        slm_tok_buf_free(&r->st[i].run);
        slm_tok_buf_free(&r->st[i].out);
    }
    free(r->st);
    free(r);
}

bool slm_detok_run_push(slm_detok_run *r, const char *piece, size_t len, slm_tok_buf *out)
{
    r->sink = out;
    return emit(r, 0, piece, len, true);
}

bool slm_detok_run_finish(slm_detok_run *r, slm_tok_buf *out)
{
    r->sink = out;
    for (size_t k = 0; k < r->d->n; k++)
        if (!finish_step(r, k))
            return false;
    return true;
}
