/*
 * added_tokens.c — tokenizer.json's "added_tokens": strings (special tokens such as <s>, chat
 * markers such as <|user|>) that are found in the text and encoded whole, before the model sees
 * anything, exactly as Hugging Face's AddedVocabulary does:
 *   - tokens with normalized:false are matched in the raw text; normalized:true ones in each
 *     normalized stretch, against their own normalized form;
 *   - leftmost match wins, the longest one among those starting at the same byte;
 *   - single_word drops a match touching a word character (regex \w) on either side;
 *     lstrip / rstrip widen the match over the whitespace (regex \s) before / after it.
 * Ids follow Hugging Face too: the model's id when the content is a vocabulary piece, otherwise
 * the next id after the model vocabulary, in file order (the ids written in the file are only
 * checked by Hugging Face, with a warning).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

void slm_tok_segment_list_free(slm_tok_segment_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

static bool push_segment(slm_tok_segment_list *l, size_t start, size_t end, int32_t id)
{
    if (id < 0 && start >= end)
        return true; /* empty stretches of text are dropped, as in Hugging Face */
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        slm_tok_segment *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (slm_tok_segment){start, end, id};
    return true;
}

/* ------------------------------------------------------------------ loading */

/* Both lookups are hash tables sized for every token of the file, so loading n tokens is
 * O(n) lookups, not O(n^2) scans. */

/* The content-table slot holding a token whose content is s, or the empty slot where it goes.
 * A token whose content was replaced (add_token) leaves its old entry behind; comparing with
 * the token's current content skips it. */
static size_t content_slot(const slm_added_vocab *av, const char *s, size_t n)
{
    size_t i = (size_t)slm_tok_hash_bytes(s, n) & av->content_mask;
    for (;;) {
        int32_t k = av->content_slots[i];
        if (k < 0)
            return i;
        const slm_added_token *t = &av->v[k];
        if (t->content_len == n && memcmp(t->content, s, n) == 0)
            return i;
        i = (i + 1) & av->content_mask;
    }
}

static const slm_added_token *by_content(const slm_added_vocab *av, const char *s, size_t n)
{
    if (!av->content_slots)
        return NULL;
    int32_t k = av->content_slots[content_slot(av, s, n)];
    return k < 0 ? NULL : &av->v[k];
}

const slm_added_token *slm_added_find(const slm_added_vocab *av, const char *s, size_t n)
{
    return by_content(av, s, n);
}

static slm_added_token *by_id(slm_added_vocab *av, int32_t id)
{
    int32_t k = slm_id_map_get(&av->by_id, id);
    return k < 0 ? NULL : &av->v[k];
}

/* Room for n tokens: the array and both tables never grow afterwards. */
static bool reserve_tokens(slm_added_vocab *av, size_t n)
{
    size_t size = 16;
    while (size < 2 * n)
        size *= 2;
    av->v = malloc((n ? n : 1) * sizeof *av->v);
    av->content_slots = malloc(size * sizeof *av->content_slots);
    if (!av->v || !av->content_slots || !slm_id_map_init(&av->by_id, n))
        return false;
    memset(av->content_slots, 0xff, size * sizeof *av->content_slots); /* all -1 */
    av->content_mask = size - 1;
    av->cap = n;
    return true;
}

static bool same_props(const slm_added_token *t, const slm_added_token *u)
{
    return t->single_word == u->single_word && t->lstrip == u->lstrip && t->rstrip == u->rstrip &&
           t->normalized == u->normalized && t->special == u->special;
}

/* The string matched for a token: its content, normalized when the token asks for it. */
static slm_status make_pattern(slm_added_token *t, const slm_normalizer *nz, slm_error *err)
{
    slm_tok_buf out = {0};
    slm_tok_scratch sc = {0};
    slm_status st = SLM_OK;
    if (t->normalized && nz->n)
        st = slm_normalizer_apply(nz, t->content, t->content_len, &out, &sc, err);
    else if (!slm_tok_buf_append(&out, t->content, t->content_len))
        st = slm_fail_nomem(err, "added tokens");
    slm_tok_scratch_free(&sc);
    if (st == SLM_OK && !out.data && !slm_tok_buf_append(&out, "", 0))
        st = slm_fail_nomem(err, "added tokens");
    free(t->pattern);
    t->pattern = out.data;
    t->pattern_len = out.len;
    return st;
}

/* Adds or updates one entry (Hugging Face's AddedVocabulary::add_tokens for one token). */
static slm_status add_token(slm_added_vocab *av, const slm_added_token *tok, const slm_vocab *vocab,
                            const slm_normalizer *nz, int32_t *next_id, slm_error *err)
{
    const slm_added_token *known = by_content(av, tok->content, tok->content_len);
    if (known && same_props(known, tok))
        return SLM_OK;
    int32_t id = known ? known->id : slm_vocab_find(vocab, tok->content, tok->content_len);
    if (id < 0)
        id = (*next_id)++;
    slm_added_token *slot = by_id(av, id);
    if (!slot) {
        if (av->n == av->cap) /* cannot happen: one token per entry of the list at most */
            return slm_fail_nomem(err, "added tokens");
        slot = &av->v[av->n];
        memset(slot, 0, sizeof *slot);
        slm_id_map_put(&av->by_id, id, (int32_t)av->n++);
    }
    bool was_special = slot->special;
    char *content = strdup(tok->content);
    if (!content)
        return slm_fail_nomem(err, "added tokens");
    free(slot->content);
    *slot = (slm_added_token){.id = id, .content = content, .content_len = tok->content_len,
                              .pattern = slot->pattern, .single_word = tok->single_word,
                              .lstrip = tok->lstrip, .rstrip = tok->rstrip,
                              .normalized = tok->normalized,
                              /* the special set only grows */
                              .special = tok->special || was_special};
    av->content_slots[content_slot(av, content, tok->content_len)] = (int32_t)(slot - av->v);
    return make_pattern(slot, nz, err);
}

/* One entry of the list. Its "id" only has to be a valid id: Hugging Face checks it against the
 * id it assigns, with a warning. */
static slm_status read_token(const cJSON *e, const char *path, size_t i, slm_added_token *t,
                             slm_error *err)
{
    char where[64];
    snprintf(where, sizeof where, "added_tokens[%zu]", i);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
    if (!cJSON_IsString(content))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s has no string \"content\"", path, where);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    if (id) {
        char what[80];
        int32_t unused;
        snprintf(what, sizeof what, "%s.id", where);
        SLM_TRY(slm_tok_json_id(id, path, what, &unused, err));
    }
    *t = (slm_added_token){.content = content->valuestring,
                           .content_len = strlen(content->valuestring)};
    SLM_TRY(slm_tok_json_bool(e, "single_word", false, path, where, &t->single_word, err));
    SLM_TRY(slm_tok_json_bool(e, "lstrip", false, path, where, &t->lstrip, err));
    SLM_TRY(slm_tok_json_bool(e, "rstrip", false, path, where, &t->rstrip, err));
    SLM_TRY(slm_tok_json_bool(e, "normalized", true, path, where, &t->normalized, err));
    return slm_tok_json_bool(e, "special", false, path, where, &t->special, err);
}

/* A token's place in a matching index: by first byte, longest pattern first, then file order. */
typedef struct {
    size_t len;
    uint32_t index;
    unsigned char first;
} index_key;

static int cmp_index_key(const void *pa, const void *pb)
{
    const index_key *a = pa, *b = pb;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Groups bigger than this are searched by length (see slm_added_index). */
#define SCAN_MAX 16

/* The pattern-table slot holding a token whose pattern is s, or the empty slot where it goes. */
static size_t pattern_slot(const slm_added_vocab *av, const slm_added_index *ix, const char *s,
                           size_t n)
{
    size_t i = (size_t)slm_tok_hash_bytes(s, n) & ix->mask;
    for (;;) {
        int32_t k = ix->slots[i];
        if (k < 0)
            return i;
        const slm_added_token *t = &av->v[k];
        if (t->pattern_len == n && memcmp(t->pattern, s, n) == 0)
            return i;
        i = (i + 1) & ix->mask;
    }
}

/* The length lists and the pattern table, from the sorted order. */
static bool build_length_search(const slm_added_vocab *av, slm_added_index *ix)
{
    size_t n = ix->start[256], size = 16;
    while (size < 2 * n)
        size *= 2;
    ix->lens = malloc((n ? n : 1) * sizeof *ix->lens);
    ix->slots = malloc(size * sizeof *ix->slots);
    if (!ix->lens || !ix->slots)
        return false;
    memset(ix->slots, 0xff, size * sizeof *ix->slots); /* all -1 */
    ix->mask = size - 1;
    uint32_t used = 0;
    for (int b = 0; b < 256; b++) {
        ix->len_start[b] = used;
        for (uint32_t k = ix->start[b]; k < ix->start[b + 1]; k++) {
            const slm_added_token *t = &av->v[ix->order[k]];
            if (k == ix->start[b] || t->pattern_len != av->v[ix->order[k - 1]].pattern_len)
                ix->lens[used++] = (uint32_t)t->pattern_len;
            /* Equal patterns sort by file order: the first one inserted is the one that wins. */
            size_t slot = pattern_slot(av, ix, t->pattern, t->pattern_len);
            if (ix->slots[slot] < 0)
                ix->slots[slot] = (int32_t)ix->order[k];
        }
    }
    ix->len_start[256] = used;
    return true;
}

/* Groups the tokens of one kind by first byte, longest pattern first (a sort: a file may hold
 * 100k tokens that all start with '<'). */
static bool build_index(slm_added_vocab *av, bool normalized, slm_added_index *ix)
{
    size_t n = 0;
    index_key *keys = malloc((av->n ? av->n : 1) * sizeof *keys);
    ix->order = malloc((av->n ? av->n : 1) * sizeof *ix->order);
    if (!keys || !ix->order) {
        free(keys);
        return false;
    }
    for (size_t i = 0; i < av->n; i++)
        if (av->v[i].normalized == normalized && av->v[i].pattern_len > 0)
            keys[n++] = (index_key){av->v[i].pattern_len, (uint32_t)i,
                                    (unsigned char)av->v[i].pattern[0]};
    qsort(keys, n, sizeof *keys, cmp_index_key);
    memset(ix->start, 0, sizeof ix->start);
    for (size_t k = 0; k < n; k++) {
        ix->order[k] = keys[k].index;
        ix->start[keys[k].first + 1]++;
    }
    for (int b = 0; b < 256; b++)
        ix->start[b + 1] += ix->start[b];
    free(keys);
    return build_length_search(av, ix);
}

slm_status slm_added_load(slm_added_vocab *av, const cJSON *list, const slm_vocab *vocab,
                          const slm_normalizer *nz, const char *path, slm_error *err)
{
    memset(av, 0, sizeof *av);
    if (list && !cJSON_IsNull(list) && !cJSON_IsArray(list))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: added_tokens must be a list", path);
    if (!reserve_tokens(av, cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : 0))
        return slm_fail_nomem(err, "added tokens");
    int32_t next_id = (int32_t)vocab->n_pieces;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        slm_added_token t = {0};
        SLM_TRY(read_token(e, path, i++, &t, err));
        if (t.content_len > 0)
            SLM_TRY(add_token(av, &t, vocab, nz, &next_id, err));
    }
    if (!build_index(av, false, &av->raw) || !build_index(av, true, &av->norm))
        return slm_fail_nomem(err, "added tokens");
    return SLM_OK;
}

void slm_added_free(slm_added_vocab *av)
{
    for (size_t i = 0; i < av->n; i++) {
        free(av->v[i].content);
        free(av->v[i].pattern);
    }
    free(av->v);
    free(av->content_slots);
    slm_id_map_free(&av->by_id);
    slm_added_index *ix[2] = {&av->raw, &av->norm};
    for (int k = 0; k < 2; k++) {
        free(ix[k]->order);
        free(ix[k]->lens);
        free(ix[k]->slots);
    }
    memset(av, 0, sizeof *av);
}

/* ------------------------------------------------------------------ matching */

/* The longest token of the index matching at s[i..n), or NULL. */
static const slm_added_token *match_at(const slm_added_vocab *av, const slm_added_index *ix,
                                       const char *s, size_t n, size_t i)
{
    unsigned char b = (unsigned char)s[i];
    if (ix->start[b + 1] - ix->start[b] <= SCAN_MAX) {
        for (uint32_t k = ix->start[b]; k < ix->start[b + 1]; k++) {
            const slm_added_token *t = &av->v[ix->order[k]];
            if (t->pattern_len <= n - i && memcmp(s + i, t->pattern, t->pattern_len) == 0)
                return t;
        }
        return NULL;
    }
    /* One lookup per distinct length instead of a comparison per token. */
    for (uint32_t k = ix->len_start[b]; k < ix->len_start[b + 1]; k++) {
        size_t len = ix->lens[k];
        if (len > n - i)
            continue;
        int32_t t = ix->slots[pattern_slot(av, ix, s + i, len)];
        if (t >= 0)
            return &av->v[t];
    }
    return NULL;
}

/* Start of the character ending just before `end`. */
static size_t prev_char(const char *s, size_t end)
{
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

static uint32_t char_at(const char *s, size_t i)
{
    size_t len;
    return slm_tok_utf8_decode(s + i, &len);
}

/* Where the whitespace run that ends at `end` starts (regex \s*$). */
static size_t space_run_before(const char *s, size_t end)
{
    while (end > 0) {
        size_t p = prev_char(s, end);
        if (!slm_tok_unicode_is_space(char_at(s, p)))
            break;
        end = p;
    }
    return end;
}

/* Length of the whitespace run starting at `from` (regex ^\s*). */
static size_t space_run_after(const char *s, size_t n, size_t from)
{
    size_t i = from;
    while (i < n) {
        size_t len;
        uint32_t cp = slm_tok_utf8_decode(s + i, &len);
        if (!slm_tok_unicode_is_space(cp))
            break;
        i += len;
    }
    return i - from;
}

static bool is_single_word(const char *s, size_t n, size_t start, size_t stop)
{
    bool left_ok = start == 0 || !slm_tok_unicode_is_word(char_at(s, prev_char(s, start)));
    bool right_ok = stop == n || !slm_tok_unicode_is_word(char_at(s, stop));
    return left_ok && right_ok;
}

bool slm_added_split(const slm_added_vocab *av, bool normalized, const char *s, size_t n,
                     slm_tok_segment_list *out)
{
    const slm_added_index *ix = normalized ? &av->norm : &av->raw;
    size_t done = 0; /* end of what has been emitted (Hugging Face's start_offset) */
    size_t pos = 0;  /* where the next search starts: the end of the previous raw match */
    while (ix->start[256] > 0 && pos < n) {
        const slm_added_token *t = NULL;
        size_t at = pos;
        for (; at < n && !(t = match_at(av, ix, s, n, at)); at++)
            ;
        if (!t)
            break;
        size_t start = at, stop = at + t->pattern_len;
        pos = stop;
        if (t->single_word && !is_single_word(s, n, start, stop))
            continue;
        if (t->lstrip) {
            size_t ws = space_run_before(s, start);
            start = ws > done ? ws : done;
        }
        if (t->rstrip)
            stop += space_run_after(s, n, stop);
        if ((done < start && !push_segment(out, done, start, -1)) ||
            !push_segment(out, start, stop, t->id))
            return false;
        done = stop;
    }
    return done >= n || push_segment(out, done, n, -1);
}
