/*
 * handlers.h — the endpoints of `slm serve` as functions from an
 * slm_http_request to an slm_http_response: routing (404, 405), the API key
 * (401; /health and /metrics stay open), the OpenAI endpoints, /tokenize,
 * /detokenize, /v1/classify, /health and /metrics.
 *
 * Contract: a handler never calls the engine: generation goes to the
 * scheduler as a job, tokenize / classify as a scheduler call. Every error
 * is OpenAI's error JSON with its status. A handler blocks while its
 * (non-streamed) generation runs, checking request->client_gone so a client
 * that hung up frees its slot; a streamed one returns at once with a stream
 * whose reads wait for the next piece.
 */
#ifndef SLM_SERVE_HANDLERS_H
#define SLM_SERVE_HANDLERS_H

#include <stdatomic.h>

#include "http.h"
#include "metrics.h"
#include "response_id.h"
#include "scheduler.h"

/* A router in front of the model (`slm serve --router`,
 * engine/route/route_serve.c): it answers POST /v1/chat/completions in place
 * of the plain scheduler path, with the same contract as a handler (it may
 * submit jobs to sched), and adds lines to /metrics. The server library
 * itself never links the router. */
typedef struct slm_serve_router {
    void *user;
    void (*chat)(void *user, slm_sched *sched, const slm_http_request *req,
                 slm_http_response *resp);
    /* Prometheus lines appended to /metrics (malloc'd; NULL: none). */
    char *(*metrics)(void *user);
} slm_serve_router;

typedef struct {
    slm_sched *sched;
    slm_metrics *metrics;
    const slm_serve_router *router; /* NULL: none */
    const char *api_key; /* NULL or "": no key required */
    long long created;   /* Unix time of the start, the models' "created" */
    slm_response_id_source ids; /* random key + counter: unique across replicas */
    atomic_bool stopping; /* set on SIGTERM: new requests get 503 */
} slm_serve_app;

void slm_serve_app_init(slm_serve_app *app, slm_sched *sched, slm_metrics *metrics,
                        const char *api_key);

void slm_serve_handle(slm_serve_app *app, const slm_http_request *req, slm_http_response *resp);

/* Fills resp with the error JSON of e (and Retry-After for a 429). */
void slm_serve_error_response(const slm_oai_error *e, slm_http_response *resp);

#endif /* SLM_SERVE_HANDLERS_H */
