/*
 * http.h — the small request/response types between the HTTP transport
 * (http_mhd.c) and the handlers (handlers.c), so every handler runs and is
 * tested without sockets.
 *
 * Contract: the transport fills a request with borrowed strings valid for
 * the handler call (the body has body_len bytes, any content); the handler
 * fills a response that the transport sends and then frees with
 * slm_http_response_free. A response either has a whole body or a stream
 * that the transport reads until it ends and then closes exactly once
 * (also when the client went away first).
 */
#ifndef SLM_SERVE_HTTP_H
#define SLM_SERVE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* without the query string */
    const char *authorization; /* header values, NULL when absent */
    const char *x_api_key;
    const char *body;
    size_t body_len;
    /* True once the client closed its connection (NULL: never known). */
    bool (*client_gone)(void *ctx);
    void *client_ctx;
} slm_http_request;

/* A body produced piece by piece (Server-Sent Events). */
typedef struct slm_http_stream slm_http_stream;
struct slm_http_stream {
    /* Writes up to cap bytes into buf: returns how many (> 0), 0 when none
     * is ready yet (after waiting a little), or -1 at the end. */
    long (*read)(slm_http_stream *st, char *buf, size_t cap);
    /* Ends the stream (cancelling its work if unfinished) and frees it. */
    void (*close)(slm_http_stream *st);
    /* Token counts so far, for the access log. */
    int prompt_tokens, completion_tokens;
};

typedef struct {
    int status;
    const char *content_type; /* static */
    char *body;               /* malloc'd, body_len bytes */
    size_t body_len;
    slm_http_stream *stream;  /* instead of body when non-NULL */
    int retry_after;          /* seconds; 0 = no Retry-After header */
    const char *allow;        /* Allow header of a 405, static */
    bool authenticate;        /* WWW-Authenticate: Bearer (a 401) */
    int prompt_tokens, completion_tokens; /* for the access log */
} slm_http_response;

void slm_http_response_free(slm_http_response *r);

/* Compares a presented API key with the expected one in time that depends
 * only on the expected key's length, never on where they differ. */
bool slm_http_key_equal(const char *given, const char *expected);

/* The access-log line "METHOD PATH STATUS prompt=P gen=G SECONDSs" into buf:
 * method and path cut to a bounded length, every byte outside printable
 * ASCII (newlines, escapes, UTF-8) written as \xHH, so a client can never
 * forge or split a log line. Never includes a header or body. */
void slm_http_log_line(char *buf, size_t cap, const char *method, const char *path, int status,
                       int prompt_tokens, int completion_tokens, double seconds);

#endif /* SLM_SERVE_HTTP_H */
