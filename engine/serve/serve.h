/*
 * serve.h — `slm serve` as a library: an OpenAI-compatible HTTP server over
 * one model (engine/serve/: oai.c the JSON mapping, scheduler.c the engine
 * thread, handlers.c the endpoints, http_mhd.c the transport).
 *
 * Contract:
 *   - slm_server_start listens at once and loads the model on the
 *     scheduler thread (/health: 503 while loading, 200 once ready; a load
 *     failure is reported by slm_server_state).
 *   - slm_server_shutdown stops accepting connections, answers new requests
 *     on open connections with 503, lets running and queued generations
 *     finish (ending those still running after `grace` seconds, streams
 *     closed with a finish_reason and [DONE]), then closes everything.
 *   - The library never prints: access-log lines go to config.log.
 *   - Signals are the caller's (the CLI blocks SIGINT/SIGTERM and waits).
 */
#ifndef SLM_SERVE_H
#define SLM_SERVE_H

#include <stddef.h>

#include "slm.h"

typedef struct {
    const char *model_dir;
    slm_load_options load;
    const char *host;       /* default "127.0.0.1" */
    int port;               /* 0: any free port */
    const char *api_key;    /* NULL: none required */
    int n_parallel;         /* slots decoded together */
    int n_queue;            /* waiting requests beyond the slots (then 429) */
    int n_ctx;              /* per slot; 0 = the model's positions */
    double timeout_s;       /* per request; 0 = none */
    size_t max_body;        /* bytes (413 beyond) */
    void (*log)(void *user, const char *line);
    void *log_user;
    const struct slm_serve_router *router; /* NULL, or handlers.h's router hook */
} slm_serve_config;

/* Defaults: loopback, port 8080, 4 slots, queue 64, no timeout, 1 MiB bodies. */
slm_serve_config slm_serve_config_default(void);

typedef struct slm_server slm_server;

slm_status slm_server_start(const slm_serve_config *cfg, slm_server **out, slm_error *err);
/* The port it listens on (the chosen one when config.port was 0). */
int slm_server_port(const slm_server *s);
/* 0 loading, 1 ready, -1 failed to load (*err says why). */
int slm_server_state(slm_server *s, slm_error *err);
void slm_server_shutdown(slm_server *s, double grace);
void slm_server_free(slm_server *s);

#endif /* SLM_SERVE_H */
