/*
 * vocab.c — the model vocabulary: piece -> id through an open-addressing hash table of
 * entries, id -> piece through a per-id index into the same entries; piece bytes live in one
 * arena.
 *
 * Built once — from tokenizer.json's model.vocab object (slm_vocab_from_json), or piece by piece
 * (slm_vocab_init + slm_vocab_add, as WordPiece's continuation table is) — and read-only
 * afterwards. As in Hugging Face (a serde map), a piece listed twice keeps its last id, and when
 * two pieces share an id the later one is what the id decodes to while both still encode to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

/* Eight bytes at a time with a multiply-xorshift mix: pieces are short, so a lookup costs a few
 * multiplications, and the final shift folds the well-mixed high bits into the low bits the
 * table index uses. */
uint64_t slm_tok_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, s, 8);
        h = (h ^ k) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    uint64_t k = 0;
    memcpy(&k, s, n);
    h = (h ^ k) * 0x94D049BB133111EBull;
    return h ^ (h >> 29);
}

/* The slot holding piece s, or the empty slot where it would go. */
static size_t find_slot(const slm_vocab *v, const char *s, size_t n)
{
    size_t i = (size_t)slm_tok_hash_bytes(s, n) & v->mask;
    for (;;) {
        int32_t k = v->slots[i];
        if (k < 0)
            return i;
        const slm_vocab_entry *e = &v->entries[k];
        if (e->length == n && memcmp(v->arena.data + e->offset, s, n) == 0)
            return i;
        i = (i + 1) & v->mask;
    }
}

int32_t slm_vocab_find(const slm_vocab *v, const char *s, size_t n)
{
    if (!v->slots)
        return -1;
    int32_t k = v->slots[find_slot(v, s, n)];
    return k < 0 ? -1 : v->entries[k].id;
}

const char *slm_vocab_piece(const slm_vocab *v, int32_t id, size_t *len)
{
    int32_t k = slm_id_map_get(&v->by_id, id);
    if (k < 0)
        return NULL;
    const slm_vocab_entry *e = &v->entries[k];
    *len = e->length;
    return v->arena.data + e->offset;
}

/* Validates the entries; returns their count and the bytes the arena needs. */
static slm_status scan_entries(const cJSON *obj, const char *what, size_t *n, size_t *bytes,
                               slm_error *err)
{
    *n = *bytes = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, obj)
    {
        char entry[300];
        snprintf(entry, sizeof entry, "entry '%.200s'", e->string ? e->string : "?");
        int32_t id;
        SLM_TRY(slm_tok_json_id(e, what, entry, &id, err));
        *bytes += strlen(e->string) + 1;
        (*n)++;
    }
    return SLM_OK;
}

bool slm_vocab_init(slm_vocab *v, size_t n, size_t bytes)
{
    memset(v, 0, sizeof *v);
    size_t size = 16;
    while (size < 2 * n)
        size *= 2;
    v->mask = size - 1;
    v->slots = malloc(size * sizeof *v->slots);
    v->entries = malloc((n ? n : 1) * sizeof *v->entries);
    if (!v->slots || !v->entries || !slm_id_map_init(&v->by_id, n) ||
        !slm_tok_buf_reserve(&v->arena, bytes))
        return false;
    memset(v->slots, 0xff, size * sizeof *v->slots); /* all -1 */
    return true;
}

/* The caller sized the tables (slm_vocab_init) for every piece it adds. */
void slm_vocab_add(slm_vocab *v, const char *piece, size_t n, int32_t id)
{
    size_t slot = find_slot(v, piece, n);
    int32_t k = v->slots[slot];
    if (k < 0) {
        k = (int32_t)v->n_pieces++;
        v->entries[k].offset = v->arena.len;
        v->entries[k].length = (uint32_t)n;
        slm_tok_buf_append(&v->arena, piece, n);
        slm_tok_buf_append(&v->arena, "", 1); /* each piece NUL-terminated */
        v->slots[slot] = k;
        if (n > v->max_len)
            v->max_len = n;
    } else if (slm_id_map_get(&v->by_id, v->entries[k].id) == k) {
        /* the piece moved to a new id: the old one decodes to nothing (an existing key, so
         * this put cannot fail) */
        slm_id_map_put(&v->by_id, v->entries[k].id, -1);
    }
    v->entries[k].id = id;
    /* At most one new key per addition, and init announced every addition. */
    slm_id_map_put(&v->by_id, id, k);
    if ((size_t)id + 1 > v->n_ids)
        v->n_ids = (size_t)id + 1;
}

slm_status slm_vocab_from_json(slm_vocab *v, const cJSON *obj, const char *what, slm_error *err)
{
    memset(v, 0, sizeof *v);
    if (!cJSON_IsObject(obj))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: expected an object of piece: id", what);
    size_t n, bytes;
    SLM_TRY(scan_entries(obj, what, &n, &bytes, err));
    if (!slm_vocab_init(v, n, bytes))
        return slm_fail_nomem(err, "vocabulary");
    const cJSON *e;
    cJSON_ArrayForEach(e, obj)
        slm_vocab_add(v, e->string, strlen(e->string), (int32_t)e->valuedouble);
    return SLM_OK;
}

void slm_vocab_free(slm_vocab *v)
{
    free(v->slots);
    free(v->entries);
    slm_id_map_free(&v->by_id);
    slm_tok_buf_free(&v->arena);
    memset(v, 0, sizeof *v);
}
