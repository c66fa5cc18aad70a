/*
 * split.c — cutting one pre-tokenizer split into pieces, as Hugging Face's
 * NormalizedString::split does for every pattern-based pre-tokenizer.
 *
 * A pattern (a regex, or a character predicate where each matching character is its own match)
 * divides the text into alternating stretches: matches and the gaps between them. The
 * SplitDelimiterBehavior then decides what becomes a split:
 *   Removed             the gaps only
 *   Isolated            every stretch
 *   MergedWithPrevious  a match joins the gap before it
 *   MergedWithNext      a match joins the gap after it
 *   Contiguous          consecutive matches become one
 * `invert` swaps the roles of matches and gaps first. Empty splits are dropped. Pre-tokenizers
 * built on this: Split (regex or literal string), ByteLevel's word regex, BertPreTokenizer
 * (whitespace removed, punctuation isolated), Whitespace (\w+|[^\w\s]+ kept), WhitespaceSplit,
 * Punctuation and Digits.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

static bool push_piece(slm_tok_scratch *sc, size_t *k, size_t start, size_t end, bool match)
{
    if (*k == sc->pieces_cap) {
        size_t cap = sc->pieces_cap ? 2 * sc->pieces_cap : 64;
        slm_tok_piece *p = realloc(sc->pieces, cap * sizeof *p);
        if (!p)
            return false;
        sc->pieces = p;
        sc->pieces_cap = cap;
    }
    sc->pieces[(*k)++] = (slm_tok_piece){start, end, match};
    return true;
}

static bool emit(const slm_tok_split *sp, size_t start, size_t end, slm_tok_split_list *out)
{
    if (end <= start)
        return true;
    return slm_tok_split_list_push(out, sp->off + start, end - start,
                                   sp->at_origin && start == 0);
}

/* Applies the behaviour to the k pieces of sc and emits the splits. */
static bool fold(const slm_pretok_step *st, const slm_tok_split *sp, slm_tok_scratch *sc,
                 size_t k, slm_tok_split_list *out)
{
    slm_tok_piece *p = sc->pieces;
    if (st->invert)
        for (size_t i = 0; i < k; i++)
            p[i].match = !p[i].match;
    size_t start = 0, end = 0; /* the split being assembled (forward folds) */
    bool open = false, prev = false;
    for (size_t i = 0; i < k; i++) {
        bool join = false;
        switch (st->behavior) {
        case SLM_SPLIT_REMOVED:
            if (!p[i].match && !emit(sp, p[i].start, p[i].end, out))
                return false;
            continue;
        case SLM_SPLIT_ISOLATED:
            if (!emit(sp, p[i].start, p[i].end, out))
                return false;
            continue;
        case SLM_SPLIT_MERGED_WITH_NEXT:
            /* a match absorbs the gap right after it */
            if (p[i].match && i + 1 < k && !p[i + 1].match) {
                if (!emit(sp, p[i].start, p[i + 1].end, out))
                    return false;
                i++;
            } else if (!emit(sp, p[i].start, p[i].end, out)) {
                return false;
            }
            continue;
        case SLM_SPLIT_MERGED_WITH_PREVIOUS:
            join = open && p[i].match && !prev;
            break;
        case SLM_SPLIT_CONTIGUOUS:
            join = open && p[i].match == prev;
            break;
        }
        prev = p[i].match;
        if (join) {
            end = p[i].end;
            continue;
        }
        if (open && !emit(sp, start, end, out))
            return false;
        start = p[i].start;
        end = p[i].end;
        open = true;
    }
    return !open || emit(sp, start, end, out);
}

slm_status slm_tok_split_regex(const slm_pretok_step *st, const slm_tok_split *sp,
                               const slm_tok_buf *text, slm_tok_split_list *out,
                               slm_tok_scratch *sc, slm_error *err)
{
    const char *s = text->data + sp->off;
    size_t n = sp->len, k = 0, prev = 0, a, b;
    slm_tok_regex_iter it = {0};
    int rc;
    while ((rc = slm_tok_regex_next(st->re, s, n, &it, sc, &a, &b)) == 1) {
        if ((prev != a && !push_piece(sc, &k, prev, a, false)) || !push_piece(sc, &k, a, b, true))
            return slm_fail_nomem(err, "pre-tokenized text");
        prev = b;
    }
    if (rc < 0)
        return slm_fail(err, SLM_ERR_RANGE, "%s: regex could not be matched on this input (out "
                        "of memory or PCRE2's match limit)", slm_tok_regex_origin(st->re));
    if (prev != n && !push_piece(sc, &k, prev, n, false))
        return slm_fail_nomem(err, "pre-tokenized text");
    return fold(st, sp, sc, k, out) ? SLM_OK : slm_fail_nomem(err, "pre-tokenized text");
}

/* ------------------------------------------------------------------ character classes */

/* Whitespace's classes: 0 = \s, 1 = \w, 2 = anything else. */
static int whitespace_class(uint32_t cp)
{
    if (slm_tok_unicode_is_space(cp))
        return 0;
    return slm_tok_unicode_is_word(cp) ? 1 : 2;
}

/* Whitespace keeps each maximal run of \w or of [^\w\s] and drops the whitespace. */
static bool split_whitespace_runs(const slm_tok_split *sp, const char *s,
                                  slm_tok_split_list *out)
{
    size_t n = sp->len, start = 0, len;
    int run = -1;
    for (size_t i = 0; i < n; i += len) {
        int c = whitespace_class(slm_tok_utf8_decode(s + i, &len));
        if (c == run)
            continue;
        if (run > 0 && !emit(sp, start, i, out))
            return false;
        run = c;
        start = i;
    }
    return run <= 0 || emit(sp, start, n, out);
}

/* Whether cp is a match of the step's character pattern. */
static bool char_matches(const slm_pretok_step *st, uint32_t cp)
{
    switch (st->kind) {
    case SLM_PRETOK_WHITESPACE_SPLIT:
        return slm_tok_unicode_is_space(cp);
    case SLM_PRETOK_PUNCTUATION:
        return slm_tok_bert_is_punct(cp);
    case SLM_PRETOK_DIGITS:
        return slm_tok_unicode_is_numeric(cp);
    default:
        return false;
    }
}

/* BertPreTokenizer: whitespace removed, punctuation characters isolated, the rest in runs —
 * its two splits (whitespace Removed, then punctuation Isolated) in one pass. */
static bool split_bert(const slm_tok_split *sp, const char *s, slm_tok_split_list *out)
{
    size_t n = sp->len, start = 0, len;
    for (size_t i = 0; i < n; i += len) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp = c < 0x80 ? (len = 1, c) : slm_tok_utf8_decode(s + i, &len);
        bool space = c < 0x80 ? (c == ' ' || (c >= '\t' && c <= '\r')) : slm_tok_unicode_is_space(cp);
        bool punct = !space && (c < 0x80 ? (c >= 33 && c <= 126 && !(c >= '0' && c <= '9') &&
                                            !((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
                                         : slm_tok_bert_is_punct(cp));
        if (!space && !punct)
            continue;
        if (!emit(sp, start, i, out) || (punct && !emit(sp, i, i + len, out)))
            return false;
        start = i + len;
    }
    return emit(sp, start, n, out);
}

bool slm_tok_split_chars(const slm_pretok_step *st, const slm_tok_split *sp,
                         const slm_tok_buf *text, slm_tok_split_list *out, slm_tok_scratch *sc)
{
    const char *s = text->data + sp->off;
    if (st->kind == SLM_PRETOK_BERT)
        return split_bert(sp, s, out);
    if (st->kind == SLM_PRETOK_WHITESPACE)
        return split_whitespace_runs(sp, s, out);
    size_t n = sp->len, k = 0, prev = 0, len;
    for (size_t i = 0; i < n; i += len) {
        if (!char_matches(st, slm_tok_utf8_decode(s + i, &len)))
            continue;
        if ((prev != i && !push_piece(sc, &k, prev, i, false)) ||
            !push_piece(sc, &k, i, i + len, true))
            return false;
        prev = i + len;
    }
    if (prev != n && !push_piece(sc, &k, prev, n, false))
        return false;
    return fold(st, sp, sc, k, out);
}

slm_status slm_tok_parse_behavior(const cJSON *json, const char *path, const char *where,
                                  slm_split_behavior *out, slm_error *err)
{
    static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious",
                                        "MergedWithNext", "Contiguous"};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "behavior");
    for (int i = 0; i < 5 && cJSON_IsString(v); i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = (slm_split_behavior)i;
            return SLM_OK;
        }
    return slm_fail(err, SLM_ERR_FORMAT,
                    "%s: %s.behavior must be one of Removed, Isolated, MergedWithPrevious, "
                    "MergedWithNext, Contiguous",
                    path, where);
}
