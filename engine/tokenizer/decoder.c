/*
 * decoder.c — runs the decoder chain of tokenizer.json (loaded by decoder_load.c): turns the
 * pieces of ids back into text, as a stream, so the same code serves slm_detokenize and the
 * streaming decoder.
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
 *   whole-element steps — Replace (Regex pattern), WordPiece, ByteLevel — the current element,
 *                 until the next element starts (at once when the step is the first of the
 *                 chain, whose elements are single pieces)
 *   ByteLevel     also an unfinished UTF-8 character: its output is one element of bytes, made
 *                 text like Rust's from_utf8_lossy
 * Elements are delimited by `start` flags: every element a step outputs begins with a piece
 * whose start flag is set (possibly empty), so per-element steps (Strip, Metaspace, WordPiece)
 * see the same elements as in Hugging Face. The concatenation of everything emitted therefore
 * equals Hugging Face's decode of the whole list, however it was chopped into pushes.
 * No decoder at all joins the pieces with spaces, as Hugging Face does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

/* ------------------------------------------------------------------ running */

enum { BF_IDLE, BF_BUFFER, BF_PASS }; /* ByteFallback: what the current element is doing */

typedef struct {
    slm_tok_buf held;  /* Replace: possible pattern start; ByteFallback and whole-element
                          steps: the element so far */
    slm_tok_buf run;   /* ByteFallback: bytes of the pending <0x..> run; ByteLevel: bytes
                          ending in an unfinished character */
    slm_tok_buf out;   /* output being assembled */
    int mode;          /* ByteFallback */
    bool pending;      /* whole-element steps: held has an element */
    size_t count;      /* Strip: held trailing characters; Metaspace, JoinSpace, WordPiece:
                          elements; Fuse, ByteLevel: whether anything was emitted */
    size_t lead;       /* Strip: leading characters that may still be cut */
} stage;

struct slm_detok_run {
    const slm_detok *d;
    stage *st;
    slm_tok_buf *sink; /* where the last step's output goes during a call */
    slm_tok_scratch sc; /* regex matching */
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

/* -- whole-element steps: Replace (Regex), WordPiece, ByteLevel */

static bool replace_regex_element(slm_detok_run *r, size_t k, const char *p, size_t n)
{
    const slm_detok_step *c = &r->d->steps[k];
    stage *s = &r->st[k];
    slm_tok_regex_iter it = {0};
    size_t a, b, last = 0;
    int rc;
    slm_tok_buf_clear(&s->out);
    while ((rc = slm_tok_regex_next(c->re, p, n, &it, &r->sc, &a, &b)) == 1) {
        if (!slm_tok_buf_append(&s->out, p + last, a - last) ||
            !slm_tok_buf_append(&s->out, c->content, c->content_len))
            return false;
        last = b;
    }
    return rc == 0 && slm_tok_buf_append(&s->out, p + last, n - last) &&
           emit(r, k + 1, s->out.data ? s->out.data : "", s->out.len, true);
}

/* The first occurrence of pat (np > 0 bytes) in s[0..n), or NULL. */
static const char *find_bytes(const char *s, size_t n, const char *pat, size_t np)
{
    for (size_t i = 0; np <= n && i <= n - np; i++)
        if (s[i] == pat[0] && memcmp(s + i, pat, np) == 0)
            return s + i;
    return NULL;
}

/* WordPiece's cleanup: Hugging Face's chain of str.replace calls, in its order. */
static bool wordpiece_cleanup(slm_tok_buf *text, slm_tok_buf *tmp)
{
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " do not",
                                       " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", " don't",
                                     "'s", "'ve", "'re"};
    for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
        size_t np = strlen(from[i]);
        if (!find_bytes(text->data, text->len, from[i], np))
            continue;
        slm_tok_buf_clear(tmp);
        size_t last = 0;
        for (const char *hit; (hit = find_bytes(text->data + last, text->len - last, from[i], np));) {
            size_t at = (size_t)(hit - text->data);
            if (!slm_tok_buf_append(tmp, text->data + last, at - last) ||
                !slm_tok_buf_append_str(tmp, to[i]))
                return false;
            last = at + np;
        }
        if (!slm_tok_buf_append(tmp, text->data + last, text->len - last))
            return false;
        slm_tok_buf swap = *text;
        *text = *tmp;
        *tmp = swap;
    }
    return true;
}

/* Every piece but the first loses its prefix, or gets a space when it has none. */
static bool wordpiece_element(slm_detok_run *r, size_t k, const char *p, size_t n)
{
    const slm_detok_step *c = &r->d->steps[k];
    stage *s = &r->st[k];
    slm_tok_buf_clear(&s->out);
    bool later = s->count++ > 0;
    bool prefixed = later && n >= c->pattern_len && memcmp(p, c->pattern, c->pattern_len) == 0;
    if (later && !prefixed && !slm_tok_buf_append(&s->out, " ", 1))
        return false;
    size_t skip = prefixed ? c->pattern_len : 0;
    if (!slm_tok_buf_append(&s->out, p + skip, n - skip) ||
        (c->cleanup && !wordpiece_cleanup(&s->out, &s->run)))
        return false;
    return emit(r, k + 1, s->out.data, s->out.len, true);
}

/* A piece's bytes: each character's byte when all are byte-level characters, else the piece
 * as it is (an added token such as " sep "). */
static bool byte_level_bytes(const char *p, size_t n, slm_tok_buf *out)
{
    size_t from = out->len, len;
    for (size_t i = 0; i < n; i += len) {
        int b = slm_tok_char_to_byte(slm_tok_utf8_decode(p + i, &len));
        if (b < 0) {
            out->len = from;
            return slm_tok_buf_append(out, p, n);
        }
        char c = (char)b;
        if (!slm_tok_buf_append(out, &c, 1))
            return false;
    }
    return true;
}

/* Passes on the bytes gathered so far as text, holding an unfinished last character back
 * unless `all`; the step's whole output is one element. */
static bool byte_level_release(slm_detok_run *r, size_t k, bool all)
{
    stage *s = &r->st[k];
    size_t keep = all ? 0 : slm_tok_utf8_incomplete_tail(s->run.data, s->run.len);
    slm_tok_buf_clear(&s->out);
    if (!slm_tok_utf8_append_lossy(&s->out, s->run.data, s->run.len - keep))
        return false;
    if (keep)
        memmove(s->run.data, s->run.data + s->run.len - keep, keep);
    s->run.len = keep;
    bool first = s->count == 0;
    s->count = 1;
    return (!first && s->out.len == 0) ||
           emit(r, k + 1, s->out.data ? s->out.data : "", s->out.len, first);
}

static bool byte_level_element(slm_detok_run *r, size_t k, const char *p, size_t n)
{
    return byte_level_bytes(p, n, &r->st[k].run) && byte_level_release(r, k, false);
}

/* Processes the held element of a whole-element step. */
static bool whole_end(slm_detok_run *r, size_t k)
{
    stage *s = &r->st[k];
    if (!s->pending)
        return true;
    s->pending = false;
    const char *p = s->held.data ? s->held.data : "";
    switch (r->d->steps[k].kind) {
    case SLM_DETOK_REPLACE_REGEX: return replace_regex_element(r, k, p, s->held.len);
    case SLM_DETOK_WORDPIECE: return wordpiece_element(r, k, p, s->held.len);
    case SLM_DETOK_BYTE_LEVEL: return byte_level_element(r, k, p, s->held.len);
    default: return false;
    }
}

static bool whole_push(slm_detok_run *r, size_t k, const char *p, size_t n, bool start)
{
    stage *s = &r->st[k];
    if (start || !s->pending) {
        if (!whole_end(r, k))
            return false;
        s->pending = true;
        slm_tok_buf_clear(&s->held);
    }
    return slm_tok_buf_append(&s->held, p, n);
}

static bool whole_finish(slm_detok_run *r, size_t k)
{
    if (!whole_end(r, k))
        return false;
    return r->d->steps[k].kind != SLM_DETOK_BYTE_LEVEL || byte_level_release(r, k, true);
}

static bool is_whole_step(slm_detok_kind kind)
{
    return kind == SLM_DETOK_REPLACE_REGEX || kind == SLM_DETOK_WORDPIECE ||
           kind == SLM_DETOK_BYTE_LEVEL;
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
    case SLM_DETOK_REPLACE_REGEX:
    case SLM_DETOK_WORDPIECE:
    case SLM_DETOK_BYTE_LEVEL: return whole_push(r, k, p, n, start);
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
    case SLM_DETOK_REPLACE_REGEX:
    case SLM_DETOK_WORDPIECE:
    case SLM_DETOK_BYTE_LEVEL: return whole_finish(r, k);
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
    slm_tok_scratch_free(&r->sc);
    free(r);
}

bool slm_detok_run_push(slm_detok_run *r, const char *piece, size_t len, slm_tok_buf *out)
{
    r->sink = out;
    if (!emit(r, 0, piece, len, true))
        return false;
    /* The first step's elements are single pieces: a whole-element step can go on now. */
    return r->d->n == 0 || !is_whole_step(r->d->steps[0].kind) || whole_end(r, 0);
}

bool slm_detok_run_finish(slm_detok_run *r, slm_tok_buf *out)
{
    r->sink = out;
    for (size_t k = 0; k < r->d->n; k++)
        if (!finish_step(r, k))
            return false;
    return true;
}
