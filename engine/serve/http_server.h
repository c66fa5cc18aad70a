/*
 * http_server.h — the HTTP transport of `slm serve` on libmicrohttpd (one
 * thread per connection): it reads a request (headers, a body bounded by
 * max_body: 413 beyond), hands it to slm_serve_handle, sends the response
 * (SSE streams chunked, as produced), and writes one access-log line per
 * request. No HTTP parsing of its own.
 */
#ifndef SLM_SERVE_HTTP_SERVER_H
#define SLM_SERVE_HTTP_SERVER_H

#include <stddef.h>

#include "handlers.h"
#include "slm.h"

typedef void (*slm_log_fn)(void *user, const char *line);

typedef struct {
    const char *host; /* numeric address or name; "127.0.0.1" by default */
    int port;         /* 0: any free port (slm_http_port tells which) */
    size_t max_body;  /* bytes */
    int max_connections;
    slm_serve_app *app;
    slm_metrics *metrics;
    slm_log_fn log; /* access-log lines (NULL: none) */
    void *log_user;
} slm_http_config;

typedef struct slm_http_server slm_http_server;

slm_status slm_http_start(const slm_http_config *cfg, slm_http_server **out, slm_error *err);
int slm_http_port(const slm_http_server *s);
/* Stops accepting new connections; open ones go on. */
void slm_http_quiesce(slm_http_server *s);
/* Waits up to `seconds` for every request begun to be answered completely
 * (streams sent to their end). */
void slm_http_drain(slm_http_server *s, double seconds);
/* Closes every connection, joins their threads and frees the server. */
void slm_http_stop(slm_http_server *s);

#endif /* SLM_SERVE_HTTP_SERVER_H */
