/*
 * sse_buffer.c — formatted SSE bytes waiting for the transport (sse_buffer.h).
 */
#include "sse_buffer.h"

#include <stdlib.h>
#include <string.h>

bool slm_sse_buffer_append(slm_sse_buffer *b, char *event)
{
    if (!event)
        return false;
    size_t n = strlen(event);
    char *o = realloc(b->bytes, b->len + n + 1);
    if (o) {
        memcpy(o + b->len, event, n + 1);
        b->bytes = o;
        b->len += n;
    }
    free(event);
    return o != NULL;
}

bool slm_sse_buffer_drained(slm_sse_buffer *b)
{
    if (b->pos != b->len)
        return false;
    slm_sse_buffer_free(b);
    return true;
}

size_t slm_sse_buffer_take(slm_sse_buffer *b, char *buf, size_t cap)
{
    size_t n = b->len - b->pos;
    if (n > cap)
        n = cap;
    memcpy(buf, b->bytes + b->pos, n);
    b->pos += n;
    return n;
}

void slm_sse_buffer_free(slm_sse_buffer *b)
{
    free(b->bytes);
    b->bytes = NULL;
    b->len = b->pos = 0;
}
