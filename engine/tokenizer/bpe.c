/*
 * bpe.c — the BPE model of tokenizer.json ("type": "BPE"), as Hugging Face runs it.
 *
 * A word (one pre-tokenized split) starts as one symbol per character — the character's piece,
 * else its <0xAB> byte pieces (byte_fallback), else unk_token (fused with a neighbouring unk when
 * fuse_unk) — and adjacent symbols are then merged lowest merge rank first, leftmost first on
 * ties: in a short word by rescanning a small array of pair ranks, in a long one through a
 * min-heap whose stale entries are skipped when popped (symbols then form a linked list inside
 * one array, so a merge is O(log n)). Nothing is allocated per word: the arrays live in
 * slm_bpe_work and are reused, and with slm_bpe_work.use_cache repeated words come from a cache.
 *
 * Merges may be "a b" strings (exactly one space, as Hugging Face requires) or ["a", "b"]
 * pairs. dropout is ignored: inference is deterministic.
 *
 * Byte-level words (after a ByteLevel pre-tokenizer) arrive as raw text: each byte stands for
 * its byte-level character, whose id level_ids holds, so the initial symbols come from a table
 * instead of a spelled-out string and 256 hash lookups of characters.
 *
 * SentencePiece-style files have no pre-tokenizer, so a whole stretch of text is one word. When
 * no merge can join a piece to a following "▁" (true of every Llama-family file: their pieces
 * carry "▁" only at the front), such a word is cut before each "▁" that follows another
 * character: merges never cross the cuts, so the parts merge exactly as the whole would, each
 * in a short array instead of one huge heap, and repeated parts hit the word cache.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

struct slm_bpe_symbol {
    int32_t id;
    int32_t prev, next; /* neighbours in the word, -1 at the ends */
    uint32_t len;       /* bytes covered; 0 marks a symbol merged into its left neighbour */
};

struct slm_bpe_merge {
    uint32_t rank;
    uint32_t pos;
    int32_t new_id;
};

/* ------------------------------------------------------------------ merge table */

static const char METASPACE[] = "\xE2\x96\x81"; /* U+2581, SentencePiece's word start */

static bool starts_with_meta(const char *s, size_t n)
{
    return n >= 3 && memcmp(s, METASPACE, 3) == 0;
}

static bool ends_with_meta(const char *s, size_t n)
{
    return n >= 3 && memcmp(s + n - 3, METASPACE, 3) == 0;
}

static uint64_t pair_key(int32_t a, int32_t b)
{
    return (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
}

static size_t pair_slot(const slm_bpe *m, uint64_t key)
{
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> m->merge_shift);
    while (m->merges[i].key != UINT64_MAX && m->merges[i].key != key)
        i = (i + 1) & m->merge_mask;
    return i;
}

/* Looks up the merge of (a, b); false when there is none. */
static bool find_merge(const slm_bpe *m, int32_t a, int32_t b, uint32_t *rank, int32_t *new_id)
{
    if (!m->merges)
        return false;
    const slm_bpe_merge_slot *s = &m->merges[pair_slot(m, pair_key(a, b))];
    if (s->key == UINT64_MAX)
        return false;
    *rank = s->rank;
    *new_id = s->new_id;
    return true;
}

static bool alloc_merges(slm_bpe *m, size_t n)
{
    size_t size = 16;
    unsigned bits = 4;
    while (size < 2 * n) {
        size *= 2;
        bits++;
    }
    m->merge_mask = size - 1;
    m->merge_shift = 64 - bits;
    m->merges = malloc(size * sizeof *m->merges);
    if (!m->merges)
        return false;
    for (size_t i = 0; i < size; i++)
        m->merges[i].key = UINT64_MAX;
    return true;
}

/* ------------------------------------------------------------------ loading merges */

/* Finds the id of a + b (b without the continuing-subword prefix), as the merge produces. */
static int32_t merged_id(const slm_bpe *m, const char *a, size_t na, const char *b, size_t nb,
                         slm_tok_buf *tmp)
{
    size_t skip = m->subword_prefix ? strlen(m->subword_prefix) : 0;
    if (nb < skip)
        return -1;
    slm_tok_buf_clear(tmp);
    if (!slm_tok_buf_append(tmp, a, na) || !slm_tok_buf_append(tmp, b + skip, nb - skip))
        return -1;
    return slm_vocab_find(&m->vocab, tmp->data, tmp->len);
}

/* Splits a "a b" merge string at its one space. */
static slm_status split_merge_string(const char *s, const char *path, size_t index, size_t *cut,
                                     slm_error *err)
{
    const char *space = strchr(s, ' ');
    if (space && !strchr(space + 1, ' ')) {
        *cut = (size_t)(space - s);
        return SLM_OK;
    }
    return slm_fail(err, SLM_ERR_FORMAT,
                    "%s: model.merges[%zu] \"%s\" is not two pieces separated by one space", path,
                    index, s);
}

/* Reads merge `index` into the piece strings a / b (pointers into the JSON). */
static slm_status merge_pieces(const cJSON *e, const char *path, size_t index, const char **a,
                               size_t *na, const char **b, size_t *nb, slm_error *err)
{
    if (cJSON_IsString(e)) {
        size_t cut = 0;
        SLM_TRY(split_merge_string(e->valuestring, path, index, &cut, err));
        *a = e->valuestring;
        *na = cut;
        *b = e->valuestring + cut + 1;
        *nb = strlen(*b);
        return SLM_OK;
    }
    const cJSON *x = cJSON_GetArrayItem(e, 0), *y = cJSON_GetArrayItem(e, 1);
    if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(x) || !cJSON_IsString(y))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: model.merges[%zu] is neither \"a b\" nor [\"a\", \"b\"]", path, index);
    *a = x->valuestring;
    *na = strlen(*a);
    *b = y->valuestring;
    *nb = strlen(*b);
    return SLM_OK;
}

static slm_status add_merge(slm_bpe *m, const cJSON *e, const char *path, size_t index,
                            uint32_t rank, slm_tok_buf *tmp, slm_error *err)
{
    const char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    SLM_TRY(merge_pieces(e, path, index, &a, &na, &b, &nb, err));
    int32_t ia = slm_vocab_find(&m->vocab, a, na), ib = slm_vocab_find(&m->vocab, b, nb);
    int32_t in = merged_id(m, a, na, b, nb, tmp);
    if (ia < 0 || ib < 0 || in < 0)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: model.merges[%zu]: '%.*s' + '%.*s' uses a piece missing from the "
                        "vocabulary", path, index, (int)na, a, (int)nb, b);
    /* A pair listed twice keeps its last rank, as the HashMap Hugging Face builds does. */
    m->merges[pair_slot(m, pair_key(ia, ib))] = (slm_bpe_merge_slot){pair_key(ia, ib), rank, in};
    if (starts_with_meta(b, nb) && !ends_with_meta(a, na))
        m->cut_at_meta = false; /* this merge would join across a cut */
    return SLM_OK;
}

static slm_status load_merges(slm_bpe *m, const cJSON *merges, const char *path, slm_error *err)
{
    if (!cJSON_IsArray(merges))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: model.merges must be a list", path);
    if (!alloc_merges(m, (size_t)cJSON_GetArraySize(merges)))
        return slm_fail_nomem(err, "BPE merges");
    slm_tok_buf tmp = {0};
    slm_status st = SLM_OK;
    size_t index = 0;
    uint32_t rank = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, merges)
    {
        /* "#version" lines of old merges.txt files are not merges and take no rank. */
        if (!(cJSON_IsString(e) && strncmp(e->valuestring, "#version", 8) == 0)) {
            st = add_merge(m, e, path, index, rank++, &tmp, err);
            if (st != SLM_OK)
                break;
        }
        index++;
    }
    slm_tok_buf_free(&tmp);
    return st;
}

/* ------------------------------------------------------------------ loading the model */

static slm_status opt_string(const cJSON *model, const char *key, const char *path, char **out,
                             slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return SLM_OK;
    if (!cJSON_IsString(v))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: model.%s must be a string or null", path, key);
    if (!(*out = strdup(v->valuestring)))
        return slm_fail_nomem(err, key);
    return SLM_OK;
}

/* An empty continuing_subword_prefix / end_of_word_suffix (GPT-2 has "") changes nothing. */
static void drop_if_empty(char **s)
{
    if (*s && !**s) {
        free(*s);
        *s = NULL;
    }
}

/* dropout is ignored (inference is deterministic), but like Hugging Face only null or a
 * probability is accepted. */
static slm_status check_dropout(const cJSON *model, const char *path, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (!v || cJSON_IsNull(v) ||
        (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1))
        return SLM_OK;
    return slm_fail(err, SLM_ERR_FORMAT, "%s: model.dropout must be null or a number in [0, 1]",
                    path);
}

static bool find_char_pieces(slm_bpe *m)
{
    m->char_ids = malloc(SLM_BPE_CHAR_TABLE * sizeof *m->char_ids);
    if (!m->char_ids)
        return false;
    for (uint32_t cp = 0; cp < SLM_BPE_CHAR_TABLE; cp++) {
        char c[4];
        size_t n = slm_tok_utf8_encode(cp, c);
        m->char_ids[cp] = slm_vocab_find(&m->vocab, c, n);
    }
    return true;
}

static void find_byte_pieces(slm_bpe *m)
{
    m->all_level_ids = true;
    for (int b = 0; b < 256; b++) {
        char piece[8];
        snprintf(piece, sizeof piece, "<0x%02X>", b);
        m->byte_ids[b] = slm_vocab_find(&m->vocab, piece, 6);
        size_t n = slm_tok_utf8_encode(slm_tok_byte_to_char((uint8_t)b), piece);
        m->level_ids[b] = slm_vocab_find(&m->vocab, piece, n);
        m->all_level_ids &= m->level_ids[b] >= 0;
    }
}

slm_status slm_bpe_load(slm_bpe *m, const cJSON *model, const char *path, slm_error *err)
{
    memset(m, 0, sizeof *m);
    m->path = path;
    char what[4200];
    snprintf(what, sizeof what, "%s: model.vocab", path);
    SLM_TRY(slm_vocab_from_json(&m->vocab, cJSON_GetObjectItemCaseSensitive(model, "vocab"), what,
                                err));
    m->cut_at_meta = true; /* until a merge says otherwise (add_merge) */
    SLM_TRY(opt_string(model, "unk_token", path, &m->unk_token, err));
    SLM_TRY(opt_string(model, "continuing_subword_prefix", path, &m->subword_prefix, err));
    SLM_TRY(opt_string(model, "end_of_word_suffix", path, &m->word_suffix, err));
    drop_if_empty(&m->subword_prefix);
    drop_if_empty(&m->word_suffix);
    SLM_TRY(slm_tok_json_bool(model, "fuse_unk", false, path, "model", &m->fuse_unk, err));
    SLM_TRY(slm_tok_json_bool(model, "byte_fallback", false, path, "model", &m->byte_fallback,
                              err));
    SLM_TRY(slm_tok_json_bool(model, "ignore_merges", false, path, "model", &m->ignore_merges,
                              err));
    SLM_TRY(check_dropout(model, path, err));
    SLM_TRY(load_merges(m, cJSON_GetObjectItemCaseSensitive(model, "merges"), path, err));
    m->unk_id = m->unk_token ? slm_vocab_find(&m->vocab, m->unk_token, strlen(m->unk_token)) : -1;
    /* Cutting also needs "▁" to be a piece of its own and words without position-dependent
     * spelling or whole-word lookups. */
    m->cut_at_meta = m->cut_at_meta && slm_vocab_find(&m->vocab, METASPACE, 3) >= 0 &&
                     !m->subword_prefix && !m->word_suffix && !m->ignore_merges;
    find_byte_pieces(m);
    return find_char_pieces(m) ? SLM_OK : slm_fail_nomem(err, "BPE character table");
}

void slm_bpe_free(slm_bpe *m)
{
    slm_vocab_free(&m->vocab);
    free(m->merges);
    free(m->char_ids);
    free(m->unk_token);
    free(m->subword_prefix);
    free(m->word_suffix);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ the heap */

static bool merge_before(const struct slm_bpe_merge *x, const struct slm_bpe_merge *y)
{
    return x->rank != y->rank ? x->rank < y->rank : x->pos < y->pos;
}

/* Capacity is reserved up front (see reserve_work), so pushing cannot fail. */
static void heap_push(slm_bpe_work *w, struct slm_bpe_merge item)
{
    size_t i = w->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!merge_before(&item, &w->heap[parent]))
            break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = item;
}

static struct slm_bpe_merge heap_pop(slm_bpe_work *w)
{
    struct slm_bpe_merge top = w->heap[0], last = w->heap[--w->heap_len];
    size_t i = 0, n = w->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && merge_before(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!merge_before(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n)
        w->heap[i] = last;
    return top;
}

/* ------------------------------------------------------------------ tokenizing a word */

/* The most symbols a word of n bytes can start with: one per byte, plus the bytes of the
 * prefix / suffix when a decorated character falls back to bytes. */
static size_t max_symbols(const slm_bpe *m, size_t n)
{
    size_t pre = m->subword_prefix ? strlen(m->subword_prefix) : 0;
    size_t suf = m->word_suffix ? strlen(m->word_suffix) : 0;
    if (n > (SIZE_MAX / 8 - suf) / (1 + pre))
        return 0;
    return n * (1 + pre) + suf;
}

static bool reserve_work(slm_bpe_work *w, size_t n_sym)
{
    if (n_sym == 0)
        return false;
    if (n_sym > w->sym_cap) {
        struct slm_bpe_symbol *s = realloc(w->sym, n_sym * sizeof *s);
        if (!s)
            return false;
        w->sym = s;
        w->sym_cap = n_sym;
    }
    /* Initial pairs plus at most two new pairs per merge. */
    size_t heap_need = 3 * n_sym + 1;
    if (heap_need > w->heap_cap) {
        struct slm_bpe_merge *h = realloc(w->heap, heap_need * sizeof *h);
        if (!h)
            return false;
        w->heap = h;
        w->heap_cap = heap_need;
    }
    return true;
}

static void add_symbol(slm_bpe_work *w, size_t *n, int32_t id, uint32_t len)
{
    struct slm_bpe_symbol *s = &w->sym[*n];
    s->id = id;
    s->len = len;
    s->prev = *n ? (int32_t)*n - 1 : -1;
    s->next = -1;
    if (*n)
        w->sym[*n - 1].next = (int32_t)*n;
    (*n)++;
}

/* The vocabulary lookup of one character, with the prefix / suffix the model asks for. */
static int32_t char_id(const slm_bpe *m, const char *c, size_t len, bool first, bool last,
                       slm_bpe_work *w)
{
    bool pre = !first && m->subword_prefix, suf = last && m->word_suffix;
    if (!pre && !suf) {
        size_t n;
        uint32_t cp = slm_tok_utf8_decode(c, &n);
        return cp < SLM_BPE_CHAR_TABLE ? m->char_ids[cp] : slm_vocab_find(&m->vocab, c, len);
    }
    slm_tok_buf_clear(&w->piece);
    if ((pre && !slm_tok_buf_append_str(&w->piece, m->subword_prefix)) ||
        !slm_tok_buf_append(&w->piece, c, len) ||
        (suf && !slm_tok_buf_append_str(&w->piece, m->word_suffix)))
        return -2;
    return slm_vocab_find(&m->vocab, w->piece.data, w->piece.len);
}

/* True when every byte of the (prefixed) character has a <0x..> piece. */
static bool bytes_known(const slm_bpe *m, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m->byte_ids[(unsigned char)p[i]] < 0)
            return false;
    return true;
}

/* Builds the initial symbols (merge_word's first loop in Hugging Face). */
static slm_status initial_symbols(const slm_bpe *m, const char *word, size_t n, slm_bpe_work *w,
                                  size_t *n_sym, slm_error *err)
{
    int32_t unk = -1;   /* pending unk symbol: id and byte length */
    uint32_t unk_len = 0;
    *n_sym = 0;
    for (size_t i = 0; i < n;) {
        size_t len = slm_tok_utf8_char_len(word + i, n - i);
        len = len ? len : 1; /* input was validated; stay safe anyway */
        int32_t id = char_id(m, word + i, len, i == 0, i + len == n, w);
        if (id == -2)
            return slm_fail_nomem(err, "BPE piece");
        if (id >= 0) {
            if (unk >= 0)
                add_symbol(w, n_sym, unk, unk_len);
            unk = -1;
            add_symbol(w, n_sym, id, (uint32_t)len);
        } else {
            /* The prefixed / suffixed form (in w->piece) is what falls back to bytes. */
            bool decorated = (i != 0 && m->subword_prefix) || (i + len == n && m->word_suffix);
            const char *p = decorated ? w->piece.data : word + i;
            size_t plen = decorated ? w->piece.len : len;
            if (m->byte_fallback && bytes_known(m, p, plen)) {
                /* As in Hugging Face, a pending unk stays pending across these bytes. */
                for (size_t k = 0; k < plen; k++)
                    add_symbol(w, n_sym, m->byte_ids[(unsigned char)p[k]], 1);
            } else if (m->unk_token) {
                if (m->unk_id < 0)
                    return slm_fail(err, SLM_ERR_FORMAT,
                                    "%s: model.unk_token '%s' is not in model.vocab (needed "
                                    "for a character the vocabulary lacks)",
                                    m->path, m->unk_token);
                if (unk >= 0 && m->fuse_unk) {
                    unk_len += (uint32_t)len;
                } else {
                    if (unk >= 0)
                        add_symbol(w, n_sym, unk, unk_len);
                    unk = m->unk_id;
                    unk_len = (uint32_t)len;
                }
            }
        }
        i += len;
    }
    if (unk >= 0)
        add_symbol(w, n_sym, unk, unk_len);
    return SLM_OK;
}

/* Applies one popped merge if it is still current; queues the pairs it creates. */
static void apply_merge(const slm_bpe *m, slm_bpe_work *w, struct slm_bpe_merge top)
{
    struct slm_bpe_symbol *s = w->sym;
    struct slm_bpe_symbol *left = &s[top.pos];
    if (left->len == 0 || left->next < 0)
        return;
    struct slm_bpe_symbol right = s[left->next];
    uint32_t rank;
    int32_t new_id;
    /* An entry is stale when either side changed since it was queued. */
    if (!find_merge(m, left->id, right.id, &rank, &new_id) || new_id != top.new_id)
        return;
    s[left->next].len = 0;
    left->id = top.new_id;
    left->len += right.len;
    left->next = right.next;
    if (right.next >= 0)
        s[right.next].prev = (int32_t)top.pos;
    if (left->prev >= 0 && find_merge(m, s[left->prev].id, left->id, &rank, &new_id))
        heap_push(w, (struct slm_bpe_merge){rank, (uint32_t)left->prev, new_id});
    if (left->next >= 0 && find_merge(m, left->id, s[left->next].id, &rank, &new_id))
        heap_push(w, (struct slm_bpe_merge){rank, top.pos, new_id});
}

/* Short words (most pre-tokenized words) skip the heap: the lowest-ranked pair, leftmost on
 * ties, is found by scanning a small array of pair ranks, and only the two pairs a merge touches
 * are looked up again. This is the heap's order exactly, at a fraction of its cost. */
enum { SMALL_WORD = 48 };

static void pair_rank(const slm_bpe *m, const struct slm_bpe_symbol *s, size_t i, uint32_t *rank,
                      int32_t *new_id)
{
    if (!find_merge(m, s[i].id, s[i + 1].id, &rank[i], &new_id[i]))
        rank[i] = UINT32_MAX;
}

/* Merges the n symbols of w->sym as one flat array; returns how many are left. */
static size_t merge_small(const slm_bpe *m, slm_bpe_work *w, size_t n)
{
    struct slm_bpe_symbol *s = w->sym;
    uint32_t rank[SMALL_WORD];
    int32_t new_id[SMALL_WORD];
    for (size_t i = 0; i + 1 < n; i++)
        pair_rank(m, s, i, rank, new_id);
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (rank[i] < rank[best])
                best = i;
        if (rank[best] == UINT32_MAX)
            break;
        s[best].id = new_id[best];
        s[best].len += s[best + 1].len;
        /* symbol best+1 goes; pair j > best+1 becomes pair j-1 */
        memmove(&s[best + 1], &s[best + 2], (n - best - 2) * sizeof *s);
        if (n - best > 3) {
            memmove(&rank[best + 1], &rank[best + 2], (n - best - 3) * sizeof *rank);
            memmove(&new_id[best + 1], &new_id[best + 2], (n - best - 3) * sizeof *new_id);
        }
        n--;
        if (best > 0)
            pair_rank(m, s, best - 1, rank, new_id);
        if (best + 1 < n)
            pair_rank(m, s, best, rank, new_id);
    }
    return n;
}

/* Merges the n_sym initial symbols; returns how many entries of w->sym to read (entries with
 * len 0 were merged away). */
static size_t merge_all(const slm_bpe *m, slm_bpe_work *w, size_t n_sym)
{
    if (n_sym <= SMALL_WORD)
        return merge_small(m, w, n_sym);
    w->heap_len = 0;
    for (size_t i = 0; i + 1 < n_sym; i++) {
        uint32_t rank;
        int32_t new_id;
        if (find_merge(m, w->sym[i].id, w->sym[i + 1].id, &rank, &new_id))
            heap_push(w, (struct slm_bpe_merge){rank, (uint32_t)i, new_id});
    }
    while (w->heap_len > 0)
        apply_merge(m, w, heap_pop(w));
    return n_sym;
}

/* Appends the ids of the merged symbols. */
static slm_status emit_symbols(const slm_bpe_work *w, size_t n_sym, slm_tokens *out,
                               slm_error *err)
{
    for (size_t i = 0; i < n_sym; i++)
        if (w->sym[i].len != 0 && slm_tokens_push(out, w->sym[i].id) != SLM_OK)
            return slm_fail_nomem(err, "token ids");
    return SLM_OK;
}

/* A byte-level word whose every byte has a piece: one symbol per byte, no text. */
static slm_status tokenize_level_bytes(const slm_bpe *m, const char *word, size_t n,
                                       slm_bpe_work *w, slm_tokens *out, slm_error *err)
{
    if (n > UINT32_MAX / 4 || !reserve_work(w, n))
        return slm_fail_nomem(err, "BPE work space");
    size_t n_sym = 0;
    for (size_t i = 0; i < n; i++)
        add_symbol(w, &n_sym, m->level_ids[(unsigned char)word[i]], 1);
    return emit_symbols(w, merge_all(m, w, n_sym), out, err);
}

static slm_status tokenize_word(const slm_bpe *m, const char *word, size_t n, bool byte_level,
                                slm_bpe_work *w, slm_tokens *out, slm_error *err)
{
    if (byte_level) {
        if (m->all_level_ids && !m->ignore_merges && !m->subword_prefix && !m->word_suffix)
            return tokenize_level_bytes(m, word, n, w, out, err);
        /* Anything unusual takes the general path over the spelled-out characters. */
        slm_tok_buf_clear(&w->mapped);
        if (!slm_tok_byte_level_map(word, n, &w->mapped))
            return slm_fail_nomem(err, "BPE work space");
        word = w->mapped.data;
        n = w->mapped.len;
    }
    if (m->ignore_merges) {
        int32_t id = slm_vocab_find(&m->vocab, word, n);
        if (id >= 0)
            return slm_tokens_push(out, id) == SLM_OK ? SLM_OK : slm_fail_nomem(err, "token ids");
    }
    if (n > UINT32_MAX / 4 || !reserve_work(w, max_symbols(m, n)))
        return slm_fail_nomem(err, "BPE work space");
    size_t n_sym;
    SLM_TRY(initial_symbols(m, word, n, w, &n_sym, err));
    return emit_symbols(w, merge_all(m, w, n_sym), out, err);
}

/* One word through the per-call cache. */
static slm_status cached_word(const slm_bpe *m, const char *word, size_t n, bool byte_level,
                              slm_bpe_work *w, slm_tokens *out, slm_error *err)
{
    size_t k, n0 = out->n;
    const int32_t *hit = w->use_cache ? slm_bpe_cache_get(w->cache, word, n, &k) : NULL;
    if (hit) {
        for (size_t i = 0; i < k; i++)
            if (slm_tokens_push(out, hit[i]) != SLM_OK)
                return slm_fail_nomem(err, "token ids");
        return SLM_OK;
    }
    SLM_TRY(tokenize_word(m, word, n, byte_level, w, out, err));
    if (w->use_cache && !slm_bpe_cache_put(&w->cache, word, n, out->ids + n0, out->n - n0))
        return slm_fail_nomem(err, "BPE word cache");
    return SLM_OK;
}

slm_status slm_bpe_tokenize(const slm_bpe *m, const char *word, size_t n, bool byte_level,
                            slm_bpe_work *w, slm_tokens *out, slm_error *err)
{
    if (n == 0)
        return SLM_OK;
    if (byte_level || !m->cut_at_meta)
        return cached_word(m, word, n, byte_level, w, out, err);
    size_t start = 0;
    for (size_t i = 1; i + 3 <= n; i++)
        if (starts_with_meta(word + i, n - i) && !ends_with_meta(word, i)) {
            SLM_TRY(cached_word(m, word + start, i - start, false, w, out, err));
            start = i;
        }
    return cached_word(m, word + start, n - start, false, w, out, err);
}

void slm_bpe_work_free(slm_bpe_work *w)
{
    free(w->sym);
    free(w->heap);
    slm_tok_buf_free(&w->piece);
    slm_tok_buf_free(&w->mapped);
    slm_bpe_cache_free(w->cache);
    memset(w, 0, sizeof *w);
}
