/*
 * arena.c — bump allocation for a template's tokens texts and syntax tree.
 * Everything is freed at once with the template, which keeps the parser
 * free of ownership bookkeeping.
 */
#include <stdlib.h>
#include <string.h>

#include "ast.h"

struct slm_jarena_chunk {
    slm_jarena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK (32u * 1024u)

void *slm_jarena_alloc(slm_jarena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    slm_jarena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *slm_jarena_strdup(slm_jarena *a, const char *s, size_t n)
{
    char *p = slm_jarena_alloc(a, n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void slm_jarena_free(slm_jarena *a)
{
    while (a->head) {
        slm_jarena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
