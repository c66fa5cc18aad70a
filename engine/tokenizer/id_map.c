/*
 * id_map.c — token id -> int32 value, sized by how many ids there are, not by the largest one.
 *
 * Ids in tokenizer.json need not be dense: one piece with id 2^31-2 must not cost a table of 2^31
 * entries (Hugging Face keeps ids in hash maps too). This is an open-addressing table with
 * Fibonacci hashing, which spreads the usual run 0, 1, 2, ... evenly; the caller says up front how
 * many keys it will insert, so it never grows and inserting cannot fail.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

bool slm_id_map_init(slm_id_map *m, size_t n_max)
{
    memset(m, 0, sizeof *m);
    size_t size = 16;
    unsigned bits = 4;
    while (size < 2 * n_max) {
        size *= 2;
        bits++;
    }
    m->slots = malloc(size * sizeof *m->slots);
    if (!m->slots)
        return false;
    for (size_t i = 0; i < size; i++)
        m->slots[i].key = -1;
    m->mask = size - 1;
    m->shift = 32 - bits;
    m->cap = n_max;
    return true;
}

/* The slot of key, or the empty one where it goes. */
static size_t id_slot(const slm_id_map *m, int32_t key)
{
    size_t i = (size_t)(((uint32_t)key * 0x9E3779B9u) >> m->shift) & m->mask;
    while (m->slots[i].key >= 0 && m->slots[i].key != key)
        i = (i + 1) & m->mask;
    return i;
}

bool slm_id_map_put(slm_id_map *m, int32_t key, int32_t value)
{
    size_t i = id_slot(m, key);
    if (m->slots[i].key < 0) {
        if (m->n == m->cap)
            return false; /* more keys than the caller announced */
        m->slots[i].key = key;
        m->n++;
    }
    m->slots[i].value = value;
    return true;
}

int32_t slm_id_map_get(const slm_id_map *m, int32_t key)
{
    if (!m->slots || key < 0)
        return -1;
    const slm_id_map_slot *s = &m->slots[id_slot(m, key)];
    return s->key < 0 ? -1 : s->value;
}

void slm_id_map_free(slm_id_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}
