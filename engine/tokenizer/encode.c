/*
 * encode.c — text to ids: slm_tokenize, slm_tokenize_truncated and the internal pair encoder.
 *
 * Contract (see slm.h), equal to Hugging Face `tokenizers` on the same file:
 *   1. added tokens are matched whole in the raw text;
 *   2. every other stretch is normalized on its own and split again around the added tokens
 *      that match normalized text;
 *   3. each remaining stretch is pre-tokenized and every split encoded by the model;
 *   4. truncation (when asked) cuts the text's own ids to the budget the special tokens leave;
 *   5. add_special wraps the result with the post-processor's template.
 * Input must be valid UTF-8 (SLM_ERR_INVALID_ARG naming the byte offset otherwise). On failure
 * the caller's list is left as it was. All scratch lives in one encode_work per call, so a
 * const tokenizer may encode from several threads at once.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

/* Texts at least this long keep a per-call word cache (bpe_cache.c); below it, setting the cache
 * up costs more than the repeated words it saves. */
#define CACHE_MIN_TEXT 8192

/* Scratch of one encoding call. */
typedef struct {
    slm_tok_segment_list raw, norm;
    slm_tok_buf normalized;
    slm_tok_split_list splits, splits_tmp;
    slm_tok_scratch sc;
    slm_bpe_work bpe;
} encode_work;

static void encode_work_free(encode_work *w)
{
    slm_tok_segment_list_free(&w->raw);
    slm_tok_segment_list_free(&w->norm);
    slm_tok_buf_free(&w->normalized);
    slm_tok_split_list_free(&w->splits);
    slm_tok_split_list_free(&w->splits_tmp);
    slm_tok_scratch_free(&w->sc);
    slm_bpe_work_free(&w->bpe);
}

static slm_status push_ids(slm_tokens *out, const int32_t *ids, size_t n, slm_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (slm_tokens_push(out, ids[i]) != SLM_OK)
            return slm_fail_nomem(err, "token ids");
    return SLM_OK;
}

static slm_status model_word(const slm_tokenizer *tok, const char *s, size_t n, encode_work *w,
                             slm_tokens *out, slm_error *err)
{
    if (tok->model_kind == SLM_TOK_MODEL_WORDPIECE)
        return slm_wordpiece_tokenize(&tok->wordpiece, s, n, out, err);
    return slm_bpe_tokenize(&tok->bpe, s, n, tok->pretokenizer.byte_level, &w->bpe, out, err);
}

/* Pre-tokenizes one normalized stretch and runs the model on each word. */
static slm_status encode_words(const slm_tokenizer *tok, const char *s, size_t n, bool at_origin,
                               encode_work *w, slm_tokens *out, slm_error *err)
{
    if (tok->pretokenizer.n == 0)
        return model_word(tok, s, n, w, out, err);
    slm_tok_buf_clear(&w->splits.text);
    w->splits.n = 0;
    if (!slm_tok_buf_append(&w->splits.text, s, n) ||
        !slm_tok_split_list_push(&w->splits, 0, n, at_origin))
        return slm_fail_nomem(err, "pre-tokenized text");
    SLM_TRY(slm_pretokenizer_apply(&tok->pretokenizer, &w->splits, &w->splits_tmp, &w->sc, err));
    for (size_t i = 0; i < w->splits.n; i++) {
        const slm_tok_split *sp = &w->splits.v[i];
        SLM_TRY(model_word(tok, w->splits.text.data + sp->off, sp->len, w, out, err));
    }
    return SLM_OK;
}

/* Encodes one stretch of raw text between added tokens. */
static slm_status encode_stretch(const slm_tokenizer *tok, const char *s, size_t n,
                                 bool at_origin, encode_work *w, slm_tokens *out, slm_error *err)
{
    w->norm.n = 0;
    SLM_TRY(slm_normalizer_apply(&tok->normalizer, s, n, &w->normalized, &w->sc, err));
    if (!slm_added_split(&tok->added, true, w->normalized.data, w->normalized.len, &w->norm))
        return slm_fail_nomem(err, "normalized text");
    for (size_t i = 0; i < w->norm.n; i++) {
        const slm_tok_segment *seg = &w->norm.v[i];
        if (seg->id >= 0) {
            SLM_TRY(push_ids(out, &seg->id, 1, err));
            continue;
        }
        SLM_TRY(encode_words(tok, w->normalized.data + seg->start, seg->end - seg->start,
                             at_origin && seg->start == 0, w, out, err));
    }
    return SLM_OK;
}

/* The ids of the text itself (no special tokens), appended to out. */
static slm_status encode_text(const slm_tokenizer *tok, const char *text, size_t len,
                              encode_work *w, slm_tokens *out, slm_error *err)
{
    w->raw.n = 0;
    w->bpe.use_cache = len >= CACHE_MIN_TEXT;
    if (!slm_added_split(&tok->added, false, text, len, &w->raw))
        return slm_fail_nomem(err, "token segments");
    for (size_t i = 0; i < w->raw.n; i++) {
        const slm_tok_segment *seg = &w->raw.v[i];
        if (seg->id >= 0)
            SLM_TRY(push_ids(out, &seg->id, 1, err));
        else
            SLM_TRY(encode_stretch(tok, text + seg->start, seg->end - seg->start,
                                   seg->start == 0, w, out, err));
    }
    return SLM_OK;
}

static slm_status check_input(const slm_tokenizer *tok, const char *text, size_t len,
                              const slm_tokens *out, const char *fn, slm_error *err)
{
    if (!tok || !out || (!text && len))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "%s: NULL argument", fn);
    size_t bad;
    if (len && !slm_tok_utf8_valid(text, len, &bad))
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "%s: input is not valid UTF-8 (byte offset %zu, byte 0x%02X)", fn, bad,
                        (unsigned char)text[bad]);
    return SLM_OK;
}

/* The text's ids in a fresh list (validated input). */
static slm_status encode_alone(const slm_tokenizer *tok, const char *text, size_t len,
                               slm_tokens *ids, slm_error *err)
{
    encode_work w = {0};
    slm_status st = encode_text(tok, len ? text : "", len, &w, ids, err);
    encode_work_free(&w);
    return st;
}

slm_status slm_tokenize(const slm_tokenizer *tok, const char *text, size_t len,
                        bool add_special, slm_tokens *out, slm_error *err)
{
    SLM_TRY(check_input(tok, text, len, out, "slm_tokenize", err));
    size_t n0 = out->n;
    encode_work w = {0};
    slm_status st = SLM_OK;
    if (add_special)
        st = push_ids(out, tok->post.prefix.ids, tok->post.prefix.n, err);
    if (st == SLM_OK)
        st = encode_text(tok, len ? text : "", len, &w, out, err);
    if (st == SLM_OK && add_special)
        st = push_ids(out, tok->post.suffix.ids, tok->post.suffix.n, err);
    encode_work_free(&w);
    if (st != SLM_OK)
        out->n = n0; /* leave the caller's list as it was */
    return st;
}

/* The `keep` ids of t that survive truncation on the tokenizer's side. */
static const int32_t *kept(const slm_tokenizer *tok, const slm_tokens *t, size_t keep)
{
    if (!t->ids) /* nothing encoded: no pointer arithmetic on NULL */
        return NULL;
    return t->ids + (tok->truncate_left ? t->n - keep : 0);
}

slm_status slm_tokenize_truncated(const slm_tokenizer *tok, const char *text, size_t len,
                                  bool add_special, size_t max_len, slm_tokens *out,
                                  bool *truncated, slm_error *err)
{
    SLM_TRY(check_input(tok, text, len, out, "slm_tokenize_truncated", err));
    const slm_postproc *pp = &tok->post;
    size_t n_added = add_special ? pp->prefix.n + pp->suffix.n : 0;
    if (max_len < n_added)
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "slm_tokenize_truncated: max_len %zu cannot hold the %zu special tokens",
                        max_len, n_added);
    slm_tokens ids = {0};
    SLM_TRY(encode_alone(tok, text, len, &ids, err));
    size_t keep = ids.n < max_len - n_added ? ids.n : max_len - n_added;
    if (truncated)
        *truncated = keep < ids.n;
    size_t n0 = out->n;
    slm_status st = add_special ? push_ids(out, pp->prefix.ids, pp->prefix.n, err) : SLM_OK;
    if (st == SLM_OK)
        st = push_ids(out, kept(tok, &ids, keep), keep, err);
    if (st == SLM_OK && add_special)
        st = push_ids(out, pp->suffix.ids, pp->suffix.n, err);
    slm_tokens_free(&ids);
    if (st != SLM_OK)
        out->n = n0;
    return st;
}

/* Hugging Face's LongestFirst for a pair: how many ids of each text fit in `budget`. */
static void longest_first(size_t len1, size_t len2, size_t budget, size_t *k1, size_t *k2)
{
    *k1 = len1;
    *k2 = len2;
    if (budget == 0) {
        *k1 = *k2 = 0;
        return;
    }
    if (len1 + len2 <= budget)
        return;
    bool swap = len1 > len2;
    size_t n1 = swap ? len2 : len1, n2;
    n2 = n1 > budget ? n1 : (n1 > budget - n1 ? n1 : budget - n1);
    if (n1 + n2 > budget) {
        n1 = budget / 2;
        n2 = n1 + budget % 2;
    }
    size_t a = swap ? n2 : n1, b = swap ? n1 : n2;
    *k1 = a < len1 ? a : len1;
    *k2 = b < len2 ? b : len2;
}

static slm_status assemble_pair(const slm_tokenizer *tok, const slm_tokens *a, size_t ka,
                                const slm_tokens *b, size_t kb, bool add_special,
                                slm_tokens *out, slm_error *err)
{
    const slm_postproc *pp = &tok->post;
    if (add_special)
        SLM_TRY(push_ids(out, pp->pair_prefix.ids, pp->pair_prefix.n, err));
    SLM_TRY(push_ids(out, kept(tok, a, ka), ka, err));
    if (add_special)
        SLM_TRY(push_ids(out, pp->pair_middle.ids, pp->pair_middle.n, err));
    SLM_TRY(push_ids(out, kept(tok, b, kb), kb, err));
    if (add_special)
        SLM_TRY(push_ids(out, pp->pair_suffix.ids, pp->pair_suffix.n, err));
    return SLM_OK;
}

slm_status slm_tokenize_pair(const slm_tokenizer *tok, const char *a, size_t a_len,
                             const char *b, size_t b_len, bool add_special, size_t max_len,
                             slm_tokens *out, bool *truncated, slm_error *err)
{
    SLM_TRY(check_input(tok, a, a_len, out, "slm_tokenize_pair", err));
    SLM_TRY(check_input(tok, b, b_len, out, "slm_tokenize_pair", err));
    const slm_postproc *pp = &tok->post;
    if (add_special && pp->pair_problem)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: post_processor: %s", tok->path,
                        pp->pair_problem);
    size_t n_added = add_special ? pp->pair_prefix.n + pp->pair_middle.n + pp->pair_suffix.n : 0;
    if (max_len < n_added)
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "slm_tokenize_pair: max_len %zu cannot hold the %zu special tokens",
                        max_len, n_added);
    slm_tokens ia = {0}, ib = {0};
    slm_status st = encode_alone(tok, a, a_len, &ia, err);
    if (st == SLM_OK)
        st = encode_alone(tok, b, b_len, &ib, err);
    size_t ka = ia.n, kb = ib.n, n0 = out->n;
    if (max_len != SIZE_MAX)
        longest_first(ia.n, ib.n, max_len - n_added, &ka, &kb);
    if (truncated)
        *truncated = ka < ia.n || kb < ib.n;
    if (st == SLM_OK)
        st = assemble_pair(tok, &ia, ka, &ib, kb, add_special, out, err);
    slm_tokens_free(&ia);
    slm_tokens_free(&ib);
    if (st != SLM_OK)
        out->n = n0;
    return st;
}
