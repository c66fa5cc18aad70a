/*
 * buffer.c — slm_tok_buf, the growable byte string every tokenizer stage writes into.
 * Growth doubles the capacity, so appending n bytes one call at a time costs O(n) overall
 * and a buffer reused across calls stops allocating once it is big enough.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

bool slm_tok_buf_reserve(slm_tok_buf *b, size_t extra)
{
    /* +1 keeps room for the NUL terminator. */
    if (extra > SIZE_MAX / 2 - b->len)
        return false;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool slm_tok_buf_append(slm_tok_buf *b, const void *p, size_t n)
{
    if (!slm_tok_buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool slm_tok_buf_append_str(slm_tok_buf *b, const char *s)
{
    return slm_tok_buf_append(b, s, strlen(s));
}

void slm_tok_buf_free(slm_tok_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
