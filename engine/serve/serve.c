/*
 * serve.c — the server's parts put together (see serve.h): metrics, the
 * scheduler thread, the handlers' state and the HTTP transport, started in
 * that order and stopped in reverse.
 */
#include "serve.h"

#include <stdlib.h>

#include "error.h"
#include "handlers.h"
#include "http_server.h"
#include "metrics.h"
#include "scheduler.h"

struct slm_server {
    slm_metrics *metrics;
    slm_sched *sched;
    slm_serve_app app;
    slm_http_server *http;
};

slm_serve_config slm_serve_config_default(void)
{
    slm_serve_config c = {0};
    c.load = slm_load_options_default();
    c.host = "127.0.0.1";
    c.port = 8080;
    c.n_parallel = 4;
    c.n_queue = 64;
    c.max_body = (size_t)1 << 20;
    return c;
}

slm_status slm_server_start(const slm_serve_config *cfg, slm_server **out, slm_error *err)
{
    *out = NULL;
    slm_server *s = calloc(1, sizeof *s);
    if (!s || !(s->metrics = slm_metrics_new())) {
        free(s);
        return slm_fail_nomem(err, "the server");
    }
    slm_sched_config sc = {
        .model_dir = cfg->model_dir,
        .load = cfg->load,
        .n_parallel = cfg->n_parallel,
        .n_queue = cfg->n_queue,
        .n_ctx = cfg->n_ctx,
        .timeout_s = cfg->timeout_s,
    };
    slm_status st = slm_sched_start(&sc, s->metrics, &s->sched, err);
    if (st != SLM_OK) {
        slm_server_free(s);
        return st;
    }
    slm_serve_app_init(&s->app, s->sched, s->metrics, cfg->api_key);
    s->app.router = cfg->router;
    slm_http_config hc = {
        .host = cfg->host,
        .port = cfg->port,
        .max_body = cfg->max_body,
        .max_connections = 256,
        .app = &s->app,
        .metrics = s->metrics,
        .log = cfg->log,
        .log_user = cfg->log_user,
    };
    st = slm_http_start(&hc, &s->http, err);
    if (st != SLM_OK) {
        slm_server_free(s);
        return st;
    }
    *out = s;
    return SLM_OK;
}

int slm_server_port(const slm_server *s)
{
    return slm_http_port(s->http);
}

int slm_server_state(slm_server *s, slm_error *err)
{
    switch (slm_sched_get_state(s->sched, err)) {
    case SLM_SCHED_READY: return 1;
    case SLM_SCHED_FAILED: return -1;
    default: return 0;
    }
}

void slm_server_shutdown(slm_server *s, double grace)
{
    if (!s)
        return;
    atomic_store(&s->app.stopping, true);
    slm_http_quiesce(s->http);
    slm_sched_stop(s->sched, grace);
    /* Every job has ended: what is left is sending the last bytes. */
    slm_http_drain(s->http, 5.0);
    slm_http_stop(s->http);
    s->http = NULL;
}

void slm_server_free(slm_server *s)
{
    if (!s)
        return;
    slm_server_shutdown(s, 0);
    slm_sched_free(s->sched);
    slm_metrics_free(s->metrics);
    free(s);
}
