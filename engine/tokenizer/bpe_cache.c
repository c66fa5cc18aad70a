/*
 * bpe_cache.c — a word -> ids cache for one encoding call. Natural text repeats its words, and
 * Hugging Face's BPE keeps such a cache too; here it lives in the caller's slm_bpe_work, so it
 * needs no lock and a const tokenizer stays shareable between threads. A call encodes with one
 * tokenizer, so a word always stands for the same ids.
 *
 * Open addressing over a power-of-two table; words and ids live in two growing arenas. Only
 * short words are kept (long ones rarely repeat) and the table stops taking new words at
 * MAX_ENTRIES, so memory stays bounded however long the text is.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

enum { MAX_WORD = 48, MAX_ENTRIES = 1 << 16 };

typedef struct {
    uint64_t hash;    /* 0 = empty slot */
    uint32_t word;    /* offset in words */
    uint32_t ids;     /* offset in ids */
    uint16_t len;     /* word bytes */
    uint16_t n;       /* number of ids */
} entry;

struct slm_bpe_cache {
    entry *slots;
    size_t mask, used;
    char *words;
    size_t words_len, words_cap;
    int32_t *ids;
    size_t ids_len, ids_cap;
};

static uint64_t hash_word(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h | 1; /* never 0, the empty marker */
}

static const entry *find(const struct slm_bpe_cache *c, uint64_t h, const char *s, size_t n)
{
    for (size_t i = (size_t)h & c->mask;; i = (i + 1) & c->mask) {
        const entry *e = &c->slots[i];
        if (e->hash == 0)
            return e;
        if (e->hash == h && e->len == n && memcmp(c->words + e->word, s, n) == 0)
            return e;
    }
}

const int32_t *slm_bpe_cache_get(const struct slm_bpe_cache *c, const char *word, size_t len,
                                 size_t *n)
{
    if (!c || len > MAX_WORD)
        return NULL;
    const entry *e = find(c, hash_word(word, len), word, len);
    if (e->hash == 0)
        return NULL;
    *n = e->n;
    return c->ids + e->ids;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* Doubles the table when it is half full. */
static bool rehash(struct slm_bpe_cache *c)
{
    size_t size = c->slots ? 2 * (c->mask + 1) : 64;
    entry *slots = calloc(size, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; c->slots && i <= c->mask; i++) {
        if (c->slots[i].hash == 0)
            continue;
        size_t j = (size_t)c->slots[i].hash & (size - 1);
        while (slots[j].hash != 0)
            j = (j + 1) & (size - 1);
        slots[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = slots;
    c->mask = size - 1;
    return true;
}

bool slm_bpe_cache_put(struct slm_bpe_cache **cp, const char *word, size_t len,
                       const int32_t *ids, size_t n)
{
    if (len > MAX_WORD || n > UINT16_MAX)
        return true;
    if (!*cp && !(*cp = calloc(1, sizeof **cp)))
        return false;
    struct slm_bpe_cache *c = *cp;
    if (c->used >= MAX_ENTRIES || c->words_len + len > UINT32_MAX || c->ids_len + n > UINT32_MAX)
        return true; /* full: later words are simply not cached */
    if ((2 * (c->used + 1) > (c->slots ? c->mask + 1 : 0) && !rehash(c)) ||
        !grow((void **)&c->words, &c->words_cap, c->words_len + len, 1) ||
        !grow((void **)&c->ids, &c->ids_cap, c->ids_len + n, sizeof *c->ids))
        return false;
    uint64_t h = hash_word(word, len);
    entry *e = (entry *)find(c, h, word, len);
    if (e->hash != 0)
        return true;
    memcpy(c->words + c->words_len, word, len);
    if (n) /* a word of unknown characters may have no ids at all */
        memcpy(c->ids + c->ids_len, ids, n * sizeof *ids);
    *e = (entry){h, (uint32_t)c->words_len, (uint32_t)c->ids_len, (uint16_t)len, (uint16_t)n};
    c->words_len += len;
    c->ids_len += n;
    c->used++;
    return true;
}

void slm_bpe_cache_free(struct slm_bpe_cache *c)
{
    if (!c)
        return;
    free(c->slots);
    free(c->words);
    free(c->ids);
    free(c);
}
