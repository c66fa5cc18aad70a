/*
 * route_serve.c — the router behind `slm serve --router` (see
 * route_serve.h). Each routed request is one slm_router_answer_messages
 * call on a thread of its own; the local side of that router is the
 * server's scheduler (a local backend), so local answers are batched with
 * the other slots. The request's thread hands text to the HTTP side through
 * a small locked buffer; the answer JSON and the SSE events are oai.c's,
 * with the "slm" object added.
 */
#define _POSIX_C_SOURCE 200809L
#include "route_serve.h"

#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "render.h"
#include "report.h"
#include "response_id.h"
#include "router.h"
#include "sse_buffer.h"

#define POLL_S 0.1

struct slm_route_service {
    const slm_router_config *cfg;
    slm_router *router;
    slm_serve_router hook;
    _Atomic(slm_sched *) sched; /* the server's, set by every request */
    slm_response_id_source ids; /* random key + counter: unique across replicas */
    char local_name[128];
    pthread_mutex_t mu; /* active and the counters */
    pthread_cond_t idle;
    int active;
    unsigned long long requests[2], fallbacks[2], failures;
    unsigned long long tokens_in[2], tokens_out[2];
    double cost[2], cost_if_remote;
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static void wait_s(pthread_cond_t *cv, pthread_mutex_t *mu, double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(s * 1e9);
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(cv, mu, &ts);
}

/* ------------------------------------------------------------ the local backend */

typedef struct {
    const slm_chat_message *msgs;
    size_t n;
    const char *text;
    slm_tokens tokens;
    slm_status status;
    slm_error err;
} model_call;

static void render_on_model(slm_model *model, void *user)
{
    model_call *c = user;
    slm_oai_request view = {.kind = SLM_OAI_CHAT,
                            .messages = (slm_chat_message *)c->msgs,
                            .n_messages = c->n};
    c->status = slm_serve_render_prompt(model, &view, &c->tokens, &c->err);
}

static void tokenize_on_model(slm_model *model, void *user)
{
    model_call *c = user;
    c->status = slm_tokenize(slm_model_tokenizer(model), c->text, strlen(c->text), false,
                             &c->tokens, &c->err);
}

static bool local_count(void *user, const slm_chat_message *msgs, size_t n, int *n_prompt,
                        int *n_ctx, char *why, size_t cap)
{
    slm_route_service *s = user;
    slm_sched *sched = atomic_load(&s->sched);
    model_call c = {.msgs = msgs, .n = n};
    bool ok = false;
    if (!sched || !slm_sched_call(sched, render_on_model, &c))
        snprintf(why, cap, "the local model is not available (loading or shutting down)");
    else if (c.status != SLM_OK)
        snprintf(why, cap, "%s", c.err.msg);
    else
        ok = true;
    if (ok) {
        *n_prompt = (int)c.tokens.n;
        *n_ctx = slm_sched_info(sched)->n_ctx;
    }
    slm_tokens_free(&c.tokens);
    return ok;
}

static int local_count_text(void *user, const char *text)
{
    slm_route_service *s = user;
    slm_sched *sched = atomic_load(&s->sched);
    model_call c = {.text = text};
    int n = sched && slm_sched_call(sched, tokenize_on_model, &c) && c.status == SLM_OK
                ? (int)c.tokens.n
                : -1;
    slm_tokens_free(&c.tokens);
    return n;
}

static char *dup_s(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* A scheduler job of its own for msgs (the scheduler owns what it is given). */
static slm_oai_request *local_request(const slm_router_config *cfg, const slm_chat_message *msgs,
                                      size_t n, int max_tokens)
{
    slm_oai_request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = SLM_OAI_CHAT;
    r->messages = calloc(n, sizeof *r->messages);
    bool ok = r->messages != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        r->messages[i].role = dup_s(msgs[i].role);
        r->messages[i].content = dup_s(msgs[i].content);
        r->n_messages = i + 1;
        ok = r->messages[i].role && r->messages[i].content;
    }
    r->max_tokens = max_tokens;
    r->sampling = slm_sampler_params_default();
    r->sampling.temperature = (float)cfg->local.temperature;
    if (!ok) {
        slm_oai_request_free(r);
        free(r);
        return NULL;
    }
    return r;
}

static bool local_generate(void *user, const slm_chat_message *msgs, size_t n, int max_tokens,
                           slm_route_text_fn on_text, void *text_user, int *n_prompt,
                           int *n_generated, char *why, size_t cap)
{
    slm_route_service *s = user;
    slm_sched *sched = atomic_load(&s->sched);
    slm_oai_error e;
    slm_oai_request *r = sched ? local_request(s->cfg, msgs, n, max_tokens) : NULL;
    if (!r) {
        snprintf(why, cap, "%s", sched ? "out of memory" : "the local model is not available");
        return false;
    }
    slm_job *job = slm_sched_submit(sched, r, &e); /* owns r now */
    if (!job) {
        snprintf(why, cap, "local model: %s", e.message);
        return false;
    }
    slm_job_state st;
    while ((st = slm_job_wait_accepted(job, POLL_S, &e)) == SLM_JOB_PENDING)
        ;
    bool stopped = false;
    slm_job_counts c = {0};
    while (st != SLM_JOB_FAILED) { /* accepted (perhaps done already): take it all */
        char *text = NULL;
        size_t len = 0;
        st = slm_job_take(job, POLL_S, &text, &len, &c, &e);
        if (len > 0 && !stopped && !on_text(text_user, text, len)) {
            stopped = true;
            slm_job_cancel(job);
        }
        free(text);
        if (st == SLM_JOB_DONE)
            break;
    }
    slm_job_release(job);
    if (st == SLM_JOB_FAILED) {
        snprintf(why, cap, "local model: %s", e.message);
        return false;
    }
    if (stopped) {
        snprintf(why, cap, "the client went away");
        return false;
    }
    *n_prompt = c.n_prompt;
    *n_generated = c.n_generated;
    return true;
}

/* ------------------------------------------------------------ one routed request */

typedef struct {
    slm_route_service *svc;
    slm_oai_request req; /* parsed, owned */
    slm_route_force force;
    int max_tokens; /* 0: the config's */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    bool cancelled, first_known, done;
    char *text; /* produced and not yet taken by a stream */
    size_t len, cap;
    bool oom;
    slm_route_result first; /* at the first byte (answer NULL) */
    slm_route_result res;   /* final, once done */
} routed;

static void routed_release(routed *q)
{
    pthread_mutex_lock(&q->mu);
    bool last = --q->refs == 0;
    pthread_mutex_unlock(&q->mu);
    if (!last)
        return;
    free(q->text);
    slm_route_result_free(&q->res);
    slm_oai_request_free(&q->req);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
}

static bool routed_text(void *user, const char *text, size_t len)
{
    routed *q = user;
    pthread_mutex_lock(&q->mu);
    bool ok = !q->cancelled;
    if (ok && q->len + len + 1 > q->cap) {
        size_t c = q->cap ? q->cap * 2 : 1024;
        while (c < q->len + len + 1)
            c *= 2;
        char *b = realloc(q->text, c);
        if (b) {
            q->text = b;
            q->cap = c;
        } else {
            q->oom = true;
            ok = false;
        }
    }
    if (ok) {
        memcpy(q->text + q->len, text, len);
        q->len += len;
        q->text[q->len] = '\0';
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

static void routed_first(void *user, const slm_route_result *so_far)
{
    routed *q = user;
    pthread_mutex_lock(&q->mu);
    q->first = *so_far;
    q->first.answer = NULL;
    q->first_known = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void count(slm_route_service *s, const slm_route_result *r)
{
    int k = r->route == SLM_ROUTE_LOCAL ? 0 : 1;
    pthread_mutex_lock(&s->mu);
    if (!r->answered) {
        s->failures++;
    } else {
        s->requests[k]++;
        s->fallbacks[k] += r->fallback;
        s->tokens_in[k] += (unsigned long long)r->prompt_tokens;
        s->tokens_out[k] += (unsigned long long)r->completion_tokens;
        s->cost[k] += r->cost_usd;
        s->cost_if_remote += r->cost_if_remote_usd;
    }
    pthread_mutex_unlock(&s->mu);
}

static void *routed_run(void *arg)
{
    routed *q = arg;
    slm_route_service *s = q->svc;
    slm_route_result res;
    slm_router_answer_messages(s->router, q->req.messages, q->req.n_messages, q->force,
                               q->max_tokens, routed_text, routed_first, q, &res);
    count(s, &res);
    pthread_mutex_lock(&q->mu);
    q->res = res;
    q->done = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    routed_release(q);
    pthread_mutex_lock(&s->mu);
    if (--s->active == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ------------------------------------------------------------ answers */

/* The "slm" object: the whole result, or (partial) the first chunk's with
 * costs null and no usage, latency or attempts yet. */
static cJSON *slm_object(const slm_route_result *r, bool partial)
{
    slm_route_result copy = *r;
    if (partial)
        copy.answered = true; /* no "error" member */
    cJSON *o = slm_route_result_json(&copy, false);
    if (o && partial) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, "usage");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "latency_ms");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "attempts"); /* counted at the end */
        cJSON_ReplaceItemInObjectCaseSensitive(o, "cost_usd", cJSON_CreateNull());
        cJSON_ReplaceItemInObjectCaseSensitive(o, "cost_if_remote_usd", cJSON_CreateNull());
    }
    return o;
}

/* json (malloc'd, freed) with "slm": slm added; NULL when out of memory. */
static char *with_slm(char *json, cJSON *slm)
{
    cJSON *o = json ? cJSON_Parse(json) : NULL;
    free(json);
    char *out = NULL;
    if (o && slm && cJSON_AddItemToObject(o, "slm", slm))
        slm = NULL;
    if (o && !slm)
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    cJSON_Delete(slm);
    return out;
}

/* An SSE event "data: {...}\n\n" with "slm" added. */
static char *sse_with_slm(char *event, cJSON *slm)
{
    if (!event) {
        cJSON_Delete(slm);
        return NULL;
    }
    size_t n = strlen(event);
    char *json = n > 8 ? malloc(n - 7) : NULL;
    if (json) {
        memcpy(json, event + 6, n - 8);
        json[n - 8] = '\0';
    }
    free(event);
    char *j = with_slm(json, slm);
    if (!j)
        return NULL;
    size_t m = strlen(j);
    char *out = malloc(m + 9);
    if (out)
        snprintf(out, m + 9, "data: %s\n\n", j);
    free(j);
    return out;
}

static void set_json(slm_http_response *resp, int status, char *body)
{
    resp->status = body ? status : 500;
    resp->content_type = "application/json";
    resp->body = body ? body : dup_s("{\"error\":{\"message\":\"out of memory\"}}");
    resp->body_len = resp->body ? strlen(resp->body) : 0;
}

static void error_reply(int status, const char *code, const char *msg, cJSON *slm,
                        slm_http_response *resp)
{
    slm_oai_error e;
    slm_oai_fail(&e, status, code, NULL, "%s", msg);
    e.type = "server_error";
    set_json(resp, status, with_slm(slm_oai_error_json(&e), slm));
}

static const char *finish_of(const slm_route_result *r, int max_tokens, const slm_router_config *c)
{
    int max = max_tokens > 0 ? max_tokens
              : r->route == SLM_ROUTE_LOCAL ? c->local.max_tokens
                                            : c->remote.max_tokens;
    return r->completion_tokens >= max ? "length" : "stop";
}

static void make_meta(slm_route_service *s, const slm_route_result *r, char *id, size_t cap,
                      slm_oai_meta *m)
{
    slm_response_id_make(&s->ids, "chatcmpl-route", id, cap);
    m->kind = SLM_OAI_CHAT;
    m->id = id;
    m->created = (long long)time(NULL);
    m->model = r->route == SLM_ROUTE_LOCAL ? s->local_name : s->cfg->remote.model;
}

static void answer_whole(routed *q, slm_http_response *resp)
{
    slm_route_service *s = q->svc;
    const slm_route_result *r = &q->res;
    resp->prompt_tokens = r->prompt_tokens;
    resp->completion_tokens = r->completion_tokens;
    if (!r->answered) {
        error_reply(502, "route_failed", r->error, slm_object(r, false), resp);
        return;
    }
    char id[64];
    slm_oai_meta m;
    make_meta(s, r, id, sizeof id, &m);
    slm_oai_usage u = {.prompt_tokens = r->prompt_tokens, .completion_tokens = r->completion_tokens};
    set_json(resp, 200,
             with_slm(slm_oai_completion_json(&m, r->answer, r->len,
                                              finish_of(r, q->max_tokens, s->cfg), &u),
                      slm_object(r, false)));
}

typedef struct {
    slm_http_stream base;
    routed *q;
    slm_oai_meta meta;
    char id[64];
    bool include_usage, started, finished;
    slm_sse_buffer out; /* formatted bytes not yet read */
} route_stream;

static void out_append(route_stream *st, char *event)
{
    (void)slm_sse_buffer_append(&st->out, event);
}

/* Formats what the request produced since the last read (q->mu held). */
static void stream_produce(route_stream *st)
{
    routed *q = st->q;
    if (!st->started) {
        st->started = true;
        const slm_route_result *r = q->first_known ? &q->first : &q->res;
        make_meta(q->svc, r, st->id, sizeof st->id, &st->meta);
        out_append(st, sse_with_slm(slm_oai_chunk_sse(&st->meta, "", 0, true, NULL,
                                                      st->include_usage),
                                    slm_object(r, true)));
        return;
    }
    if (q->len == 0 && !q->done)
        wait_s(&q->cv, &q->mu, POLL_S);
    if (q->len > 0) {
        out_append(st, slm_oai_chunk_sse(&st->meta, q->text, q->len, false, NULL,
                                         st->include_usage));
        q->len = 0;
        return;
    }
    if (!q->done)
        return;
    const slm_route_result *r = &q->res;
    st->base.prompt_tokens = r->prompt_tokens;
    st->base.completion_tokens = r->completion_tokens;
    if (r->answered) {
        out_append(st, sse_with_slm(slm_oai_chunk_sse(&st->meta, "", 0, false,
                                                      finish_of(r, q->max_tokens, q->svc->cfg),
                                                      st->include_usage),
                                    slm_object(r, false)));
        if (st->include_usage) {
            slm_oai_usage u = {.prompt_tokens = r->prompt_tokens,
                               .completion_tokens = r->completion_tokens};
            out_append(st, slm_oai_usage_sse(&st->meta, &u));
        }
    } else {
        slm_oai_error e;
        slm_oai_fail(&e, 502, "route_failed", NULL, "%s", r->error);
        e.type = "server_error";
        out_append(st, slm_oai_error_sse(&e));
    }
    out_append(st, slm_oai_done_sse());
    st->finished = true;
}

static long stream_read(slm_http_stream *base, char *buf, size_t cap)
{
    route_stream *st = (route_stream *)base;
    if (slm_sse_buffer_drained(&st->out)) {
        if (st->finished)
            return -1;
        pthread_mutex_lock(&st->q->mu);
        stream_produce(st);
        pthread_mutex_unlock(&st->q->mu);
        if (st->out.len == 0)
            return 0;
    }
    return (long)slm_sse_buffer_take(&st->out, buf, cap);
}

static void stream_close(slm_http_stream *base)
{
    route_stream *st = (route_stream *)base;
    pthread_mutex_lock(&st->q->mu);
    st->q->cancelled = true;
    pthread_mutex_unlock(&st->q->mu);
    routed_release(st->q);
    slm_sse_buffer_free(&st->out);
    free(st);
}

/* ------------------------------------------------------------ the hook */

/* "model": auto (or absent) routes; local / remote (or their names) force. */
static bool model_force(const slm_route_service *s, const char *body, size_t len,
                        slm_route_force *force)
{
    cJSON *o = cJSON_ParseWithLength(body, len);
    const cJSON *m = o ? cJSON_GetObjectItemCaseSensitive(o, "model") : NULL;
    const char *name = cJSON_IsString(m) ? m->valuestring : "auto";
    bool ok = true;
    if (slm_route_force_parse(name, force))
        ;
    else if (strcmp(name, s->local_name) == 0)
        *force = SLM_FORCE_LOCAL;
    else if (strcmp(name, s->cfg->remote.model) == 0)
        *force = SLM_FORCE_REMOTE;
    else
        ok = false;
    cJSON_Delete(o);
    return ok;
}

static bool client_gone(const slm_http_request *req)
{
    return req->client_gone && req->client_gone(req->client_ctx);
}

static void route_chat(void *user, slm_sched *sched, const slm_http_request *req,
                       slm_http_response *resp)
{
    slm_route_service *s = user;
    atomic_store(&s->sched, sched);
    routed *q = calloc(1, sizeof *q);
    slm_oai_error e;
    if (!q) {
        error_reply(500, NULL, "out of memory", NULL, resp);
        return;
    }
    if (!slm_oai_parse_chat(req->body, req->body_len, &q->req, &e)) {
        free(q);
        set_json(resp, e.status, slm_oai_error_json(&e));
        return;
    }
    if (!model_force(s, req->body, req->body_len, &q->force)) {
        slm_oai_request_free(&q->req);
        free(q);
        char msg[400];
        snprintf(msg, sizeof msg,
                 "model: in router mode one of auto, local, remote (or %.100s, %.100s)",
                 s->local_name, s->cfg->remote.model);
        slm_oai_fail(&e, 404, "model_not_found", "model", "%s", msg);
        set_json(resp, 404, slm_oai_error_json(&e));
        return;
    }
    q->svc = s;
    q->max_tokens = q->req.max_tokens > 0 ? q->req.max_tokens : 0;
    q->refs = 2; /* this handler (then the stream) and the request's thread */
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    pthread_attr_t attr;
    pthread_t tid;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&s->mu);
    s->active++;
    pthread_mutex_unlock(&s->mu);
    if (pthread_create(&tid, &attr, routed_run, q) != 0) {
        pthread_attr_destroy(&attr);
        pthread_mutex_lock(&s->mu);
        s->active--;
        pthread_mutex_unlock(&s->mu);
        q->refs = 1;
        routed_release(q);
        error_reply(500, NULL, "cannot start the request's thread", NULL, resp);
        return;
    }
    pthread_attr_destroy(&attr);
    bool stream = q->req.stream, include_usage = q->req.include_usage;
    /* the status is known once the answering side passed its first byte,
     * or the request ended */
    pthread_mutex_lock(&q->mu);
    while (!q->done && (!stream || !q->first_known)) {
        wait_s(&q->cv, &q->mu, POLL_S);
        if (!q->done && client_gone(req)) {
            q->cancelled = true;
            pthread_mutex_unlock(&q->mu);
            routed_release(q);
            error_reply(499, "client_closed", "the client closed the connection", NULL, resp);
            return;
        }
    }
    bool failed_whole = q->done && !q->res.answered && (!stream || q->res.len == 0);
    pthread_mutex_unlock(&q->mu);
    if (!stream || failed_whole) {
        answer_whole(q, resp);
        routed_release(q);
        return;
    }
    route_stream *st = calloc(1, sizeof *st);
    if (!st) {
        routed_release(q);
        error_reply(500, NULL, "out of memory", NULL, resp);
        return;
    }
    st->base.read = stream_read;
    st->base.close = stream_close;
    st->q = q;
    st->include_usage = include_usage;
    resp->status = 200;
    resp->content_type = "text/event-stream";
    resp->stream = &st->base;
}

static char *route_metrics(void *user)
{
    slm_route_service *s = user;
    pthread_mutex_lock(&s->mu);
    size_t cap = 4096;
    char *b = malloc(cap);
    if (b)
        snprintf(
            b, cap,
            "# HELP slm_router_requests_total Routed chat requests by the side that answered "
            "(failed: neither).\n"
            "# TYPE slm_router_requests_total counter\n"
            "slm_router_requests_total{route=\"local\"} %llu\n"
            "slm_router_requests_total{route=\"remote\"} %llu\n"
            "slm_router_requests_total{route=\"failed\"} %llu\n"
            "# HELP slm_router_fallbacks_total Requests answered by this side after the other "
            "failed.\n"
            "# TYPE slm_router_fallbacks_total counter\n"
            "slm_router_fallbacks_total{route=\"local\"} %llu\n"
            "slm_router_fallbacks_total{route=\"remote\"} %llu\n"
            "# HELP slm_router_tokens_total Tokens of routed answers by side and kind.\n"
            "# TYPE slm_router_tokens_total counter\n"
            "slm_router_tokens_total{route=\"local\",kind=\"prompt\"} %llu\n"
            "slm_router_tokens_total{route=\"local\",kind=\"completion\"} %llu\n"
            "slm_router_tokens_total{route=\"remote\",kind=\"prompt\"} %llu\n"
            "slm_router_tokens_total{route=\"remote\",kind=\"completion\"} %llu\n"
            "# HELP slm_router_cost_usd_total Estimated USD of routed answers by side "
            "(router.json prices).\n"
            "# TYPE slm_router_cost_usd_total counter\n"
            "slm_router_cost_usd_total{route=\"local\"} %.10g\n"
            "slm_router_cost_usd_total{route=\"remote\"} %.10g\n"
            "# HELP slm_router_cost_if_remote_usd_total USD the same answers would have cost "
            "remotely.\n"
            "# TYPE slm_router_cost_if_remote_usd_total counter\n"
            "slm_router_cost_if_remote_usd_total %.10g\n",
            s->requests[0], s->requests[1], s->failures, s->fallbacks[0], s->fallbacks[1],
            s->tokens_in[0], s->tokens_out[0], s->tokens_in[1], s->tokens_out[1], s->cost[0],
            s->cost[1], s->cost_if_remote);
    pthread_mutex_unlock(&s->mu);
    return b;
}

slm_status slm_route_service_new(const slm_router_config *cfg, slm_route_service **out,
                                 slm_error *err)
{
    *out = NULL;
    slm_route_service *s = calloc(1, sizeof *s);
    if (!s)
        return slm_fail_nomem(err, "router service");
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return slm_fail_nomem(err, "router service");
    }
    pthread_cond_init(&s->idle, NULL);
    s->cfg = cfg;
    slm_response_id_source_init(&s->ids);
    atomic_init(&s->sched, NULL);
    snprintf(s->local_name, sizeof s->local_name, "%s", base_name(cfg->local.model));
    slm_router_local_backend b = {.user = s,
                                  .count = local_count,
                                  .generate = local_generate,
                                  .count_text = local_count_text};
    slm_status st = slm_router_new_with(cfg, &b, &s->router, err);
    if (st != SLM_OK) {
        slm_route_service_free(s);
        return st;
    }
    s->hook = (slm_serve_router){.user = s, .chat = route_chat, .metrics = route_metrics};
    *out = s;
    return SLM_OK;
}

const slm_serve_router *slm_route_service_hook(slm_route_service *s)
{
    return &s->hook;
}

void slm_route_service_free(slm_route_service *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    while (s->active > 0)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
    slm_router_free(s->router);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
