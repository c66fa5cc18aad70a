/*
 * sse_buffer.h — the bytes of a Server-Sent Events stream formatted but not
 * yet read by the transport: events are appended whole, the transport's pull
 * callback takes them out in pieces of whatever size it asks for. Used by the
 * server's streams (handlers.c) and the router's (engine/route/route_serve.c).
 */
#ifndef SLM_SSE_BUFFER_H
#define SLM_SSE_BUFFER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *bytes;
    size_t len, pos; /* bytes[pos, len) are still to be read */
} slm_sse_buffer;

/* Appends event (a NUL-terminated string, taking ownership; NULL: nothing);
   false when event is NULL or memory ran out (the event is dropped). */
bool slm_sse_buffer_append(slm_sse_buffer *b, char *event);
/* True when every byte has been read; the buffer is then emptied for reuse. */
bool slm_sse_buffer_drained(slm_sse_buffer *b);
/* Copies up to cap unread bytes into buf; returns how many. */
size_t slm_sse_buffer_take(slm_sse_buffer *b, char *buf, size_t cap);
void slm_sse_buffer_free(slm_sse_buffer *b);

#endif
