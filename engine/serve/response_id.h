/*
 * response_id.h — the ids of responses ("chatcmpl-…", "cmpl-…") that are
 * unique across processes, as OpenAI's are: every id is a per-source random
 * key (from the kernel's random source, drawn once when the source is made)
 * followed by a per-source counter. Replicas started in the same second
 * behind one load balancer therefore never hand out the same id, and ids of
 * one process never repeat.
 *
 * A source lives in its owner's context (the server's app, the router
 * service); slm_response_id_make is thread-safe.
 */
#ifndef SLM_SERVE_RESPONSE_ID_H
#define SLM_SERVE_RESPONSE_ID_H

#include <stdatomic.h>
#include <stddef.h>

/* Random key length in base-62 characters (~131 bits). */
#define SLM_RESPONSE_ID_KEY_LEN 22
/* Minimum counter width in base-62 digits: 22 + 7 = OpenAI's 29 characters. */
#define SLM_RESPONSE_ID_COUNTER_LEN 7

typedef struct {
    char key[SLM_RESPONSE_ID_KEY_LEN + 1];
    atomic_ullong next;
} slm_response_id_source;

/* Draws a fresh random key (getrandom(2), then /dev/urandom; if neither can
 * be read, a hash of the time, the process id and the source's address, so
 * that a server still starts) and resets the counter. */
void slm_response_id_source_init(slm_response_id_source *src);

/* Writes "<prefix>-<key><counter>" into out (cap >= strlen(prefix) + 32
 * holds every id) and returns out. */
char *slm_response_id_make(slm_response_id_source *src, const char *prefix, char *out, size_t cap);

#endif /* SLM_SERVE_RESPONSE_ID_H */
