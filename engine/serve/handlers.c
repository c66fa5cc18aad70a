/*
 * handlers.c — the endpoints (see handlers.h). Generation requests are
 * parsed by oai.c, run by the scheduler, and answered either whole or as an
 * SSE stream (sse_stream below: the role chunk, text chunks, the finish
 * chunk, the usage chunk when asked, then [DONE]).
 */
#define _POSIX_C_SOURCE 200809L
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "sse_buffer.h"

/* How long a handler waits between checks that its client is still there. */
#define POLL_S 0.1

void slm_serve_app_init(slm_serve_app *app, slm_sched *sched, slm_metrics *metrics,
                        const char *api_key)
{
    app->sched = sched;
    app->metrics = metrics;
    app->api_key = api_key && api_key[0] ? api_key : NULL;
    app->router = NULL;
    app->created = (long long)time(NULL);
    slm_response_id_source_init(&app->ids);
    atomic_init(&app->stopping, false);
}

static void set_body(slm_http_response *resp, int status, const char *type, char *body)
{
    resp->status = body ? status : 500;
    resp->content_type = type;
    resp->body = body;
    resp->body_len = body ? strlen(body) : 0;
}

void slm_serve_error_response(const slm_oai_error *e, slm_http_response *resp)
{
    set_body(resp, e->status, "application/json", slm_oai_error_json(e));
    if (e->status == 429)
        resp->retry_after = 1;
    if (e->status == 401)
        resp->authenticate = true;
}

static void fail(slm_http_response *resp, int status, const char *code, const char *fmt,
                 const char *arg)
{
    slm_oai_error e;
    slm_oai_fail(&e, status, code, NULL, fmt, arg);
    slm_serve_error_response(&e, resp);
}

static bool client_gone(const slm_http_request *req)
{
    return req->client_gone && req->client_gone(req->client_ctx);
}

/* The model is loaded and can do `what` (generate or classify). */
static bool model_ready(slm_serve_app *app, bool generate, bool classify,
                        slm_http_response *resp)
{
    if (atomic_load(&app->stopping)) {
        fail(resp, 503, "unavailable", "the server is %s", "shutting down");
        return false;
    }
    slm_sched_state st = slm_sched_get_state(app->sched, NULL);
    if (st != SLM_SCHED_READY) {
        fail(resp, 503, "unavailable", "the model is %s",
             st == SLM_SCHED_LOADING ? "still loading" : "not available (it failed to load)");
        return false;
    }
    const slm_sched_model_info *info = slm_sched_info(app->sched);
    if (generate && info->n_labels > 0) {
        fail(resp, 400, "model_not_supported", "%s",
             "the loaded model is a sequence classifier: it cannot generate text (use /v1/classify)");
        return false;
    }
    if (classify && info->n_labels == 0) {
        fail(resp, 400, "model_not_supported", "%s",
             "the loaded model is not a sequence classifier (use /v1/completions)");
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ generation */

typedef struct {
    slm_http_stream base;
    slm_job *job;
    slm_oai_meta meta;
    char id[48];
    bool include_usage;
    bool started, finished;
    slm_sse_buffer out; /* formatted bytes not yet read */
} sse_stream;

static void usage_of(const slm_job_counts *c, slm_oai_usage *u)
{
    u->prompt_tokens = c->n_prompt;
    u->cached_tokens = c->n_prompt_cached;
    u->completion_tokens = c->n_generated;
}

/* Appends an SSE event (taking ownership); false when out of memory. */
static bool sse_append(sse_stream *st, char *event)
{
    return slm_sse_buffer_append(&st->out, event);
}

/* Formats what the job produced since the last read. */
static void sse_produce(sse_stream *st)
{
    bool first = !st->started;
    st->started = true;
    if (first && st->meta.kind == SLM_OAI_CHAT) {
        sse_append(st, slm_oai_chunk_sse(&st->meta, "", 0, true, NULL, st->include_usage));
        return;
    }
    char *text = NULL;
    size_t len = 0;
    slm_job_counts c = {0};
    slm_oai_error e;
    slm_job_state state = slm_job_take(st->job, POLL_S, &text, &len, &c, &e);
    st->base.prompt_tokens = c.n_prompt;
    st->base.completion_tokens = c.n_generated;
    if (len > 0)
        sse_append(st, slm_oai_chunk_sse(&st->meta, text, len, false, NULL, st->include_usage));
    free(text);
    if (state == SLM_JOB_DONE) {
        sse_append(st, slm_oai_chunk_sse(&st->meta, "", 0, false,
                                         slm_oai_finish_reason(c.stop_reason),
                                         st->include_usage));
        if (st->include_usage) {
            slm_oai_usage u;
            usage_of(&c, &u);
            sse_append(st, slm_oai_usage_sse(&st->meta, &u));
        }
    } else if (state == SLM_JOB_FAILED) {
        sse_append(st, slm_oai_error_sse(&e));
    }
    if (state == SLM_JOB_DONE || state == SLM_JOB_FAILED) {
        sse_append(st, slm_oai_done_sse());
        st->finished = true;
    }
}

static long sse_read(slm_http_stream *base, char *buf, size_t cap)
{
    sse_stream *st = (sse_stream *)base;
    if (slm_sse_buffer_drained(&st->out)) {
        if (st->finished)
            return -1;
        sse_produce(st);
        if (st->out.len == 0)
            return 0;
    }
    return (long)slm_sse_buffer_take(&st->out, buf, cap);
}

static void sse_close(slm_http_stream *base)
{
    sse_stream *st = (sse_stream *)base;
    slm_job_release(st->job);
    slm_sse_buffer_free(&st->out);
    free(st);
}

static void make_meta(slm_serve_app *app, slm_oai_kind kind, char *id, size_t cap,
                      slm_oai_meta *m)
{
    slm_response_id_make(&app->ids, kind == SLM_OAI_CHAT ? "chatcmpl" : "cmpl", id, cap);
    m->kind = kind;
    m->id = id;
    m->created = (long long)time(NULL);
    m->model = slm_sched_info(app->sched)->name;
}

/* Waits for the scheduler to tokenize the prompt; false with resp filled
 * when it was refused or the client left. */
static bool wait_accepted(slm_job *job, const slm_http_request *req, slm_http_response *resp)
{
    for (;;) {
        slm_oai_error e;
        slm_job_state st = slm_job_wait_accepted(job, POLL_S, &e);
        if (st == SLM_JOB_FAILED) {
            slm_serve_error_response(&e, resp);
            return false;
        }
        if (st != SLM_JOB_PENDING)
            return true;
        if (client_gone(req)) {
            fail(resp, 499, "client_closed", "%s", "the client closed the connection");
            return false;
        }
    }
}

/* Collects the whole reply of a non-streamed request. */
static void answer_whole(slm_serve_app *app, slm_job *job, slm_oai_kind kind,
                         const slm_http_request *req, slm_http_response *resp)
{
    char *all = NULL;
    size_t all_len = 0;
    slm_job_counts c = {0};
    slm_oai_error e;
    slm_job_state st;
    do {
        char *text = NULL;
        size_t len = 0;
        st = slm_job_take(job, POLL_S, &text, &len, &c, &e);
        if (len > 0) {
            char *a = realloc(all, all_len + len + 1);
            if (a) {
                memcpy(a + all_len, text, len);
                all = a;
                all_len += len;
            }
        }
        free(text);
        if (st != SLM_JOB_DONE && st != SLM_JOB_FAILED && client_gone(req)) {
            slm_job_cancel(job);
        }
    } while (st != SLM_JOB_DONE && st != SLM_JOB_FAILED);
    resp->prompt_tokens = c.n_prompt;
    resp->completion_tokens = c.n_generated;
    if (st == SLM_JOB_FAILED) {
        slm_serve_error_response(&e, resp);
    } else {
        char id[48];
        slm_oai_meta m;
        make_meta(app, kind, id, sizeof id, &m);
        slm_oai_usage u;
        usage_of(&c, &u);
        set_body(resp, 200, "application/json",
                 slm_oai_completion_json(&m, all ? all : "", all_len,
                                         slm_oai_finish_reason(c.stop_reason), &u));
    }
    free(all);
}

static void handle_generation(slm_serve_app *app, const slm_http_request *req,
                              slm_http_response *resp, slm_oai_kind kind)
{
    if (!model_ready(app, true, false, resp))
        return;
    slm_oai_request *r = calloc(1, sizeof *r);
    slm_oai_error e;
    if (!r) {
        fail(resp, 500, NULL, "%s", "out of memory");
        return;
    }
    bool ok = kind == SLM_OAI_CHAT ? slm_oai_parse_chat(req->body, req->body_len, r, &e)
                                   : slm_oai_parse_completion(req->body, req->body_len, r, &e);
    if (!ok) {
        free(r);
        slm_serve_error_response(&e, resp);
        return;
    }
    bool stream = r->stream, include_usage = r->include_usage;
    slm_job *job = slm_sched_submit(app->sched, r, &e); /* owns r now */
    if (!job) {
        slm_serve_error_response(&e, resp);
        return;
    }
    if (!wait_accepted(job, req, resp)) {
        slm_job_release(job);
        return;
    }
    if (!stream) {
        answer_whole(app, job, kind, req, resp);
        slm_job_release(job);
        return;
    }
    sse_stream *st = calloc(1, sizeof *st);
    if (!st) {
        slm_job_release(job);
        fail(resp, 500, NULL, "%s", "out of memory");
        return;
    }
    st->base.read = sse_read;
    st->base.close = sse_close;
    st->job = job;
    st->include_usage = include_usage;
    make_meta(app, kind, st->id, sizeof st->id, &st->meta);
    resp->status = 200;
    resp->content_type = "text/event-stream";
    resp->stream = &st->base;
}

/* ------------------------------------------------------------ model calls */

typedef struct {
    const slm_oai_tokens_request *in;
    slm_tokens ids;
    char *text;
    size_t len;
    slm_status status;
    slm_error err;
} tokens_call;

static void tokenize_on_model(slm_model *model, void *user)
{
    tokens_call *c = user;
    c->status = slm_tokenize(slm_model_tokenizer(model), c->in->content,
                             strlen(c->in->content), c->in->add_special, &c->ids, &c->err);
}

static void detokenize_on_model(slm_model *model, void *user)
{
    tokens_call *c = user;
    const slm_tokenizer *tok = slm_model_tokenizer(model);
    size_t vocab = (size_t)slm_model_vocab_size(model);
    for (size_t i = 0; i < c->in->n_ids; i++) {
        if ((size_t)c->in->ids[i] >= vocab) {
            c->status = slm_fail(&c->err, SLM_ERR_INVALID_ARG,
                                 "tokens[%zu]: id %d is not below the vocabulary size %zu", i,
                                 c->in->ids[i], vocab);
            return;
        }
    }
    c->status = slm_detokenize_len(tok, c->in->ids, c->in->n_ids, false, &c->text, &c->len,
                                   &c->err);
}

static void answer_tokens_call(tokens_call *c, bool ran, bool detok, slm_http_response *resp)
{
    if (!ran)
        fail(resp, 503, "unavailable", "%s", "the server is shutting down");
    else if (c->status != SLM_OK)
        fail(resp, c->status == SLM_ERR_NOMEM ? 500 : 400, NULL, "%s", c->err.msg);
    else if (detok)
        set_body(resp, 200, "application/json", slm_oai_content_json(c->text, c->len));
    else
        set_body(resp, 200, "application/json", slm_oai_tokens_json(c->ids.ids, c->ids.n));
}

static void handle_tokens(slm_serve_app *app, const slm_http_request *req,
                          slm_http_response *resp, bool detok)
{
    if (!model_ready(app, false, false, resp))
        return;
    slm_oai_tokens_request in;
    slm_oai_error e;
    bool ok = detok ? slm_oai_parse_detokenize(req->body, req->body_len, &in, &e)
                    : slm_oai_parse_tokenize(req->body, req->body_len, &in, &e);
    if (!ok) {
        slm_serve_error_response(&e, resp);
        return;
    }
    tokens_call c = {.in = &in};
    bool ran = slm_sched_call(app->sched, detok ? detokenize_on_model : tokenize_on_model, &c);
    answer_tokens_call(&c, ran, detok, resp);
    slm_tokens_free(&c.ids);
    free(c.text);
    slm_oai_tokens_request_free(&in);
}

typedef struct {
    const slm_oai_classify_request *in;
    float *probs;
    slm_status status;
    slm_error err;
} classify_call;

static void classify_on_model(slm_model *model, void *user)
{
    classify_call *c = user;
    c->status = slm_classify(model, (const char *const *)c->in->texts, c->in->n, c->probs, NULL,
                             NULL, &c->err);
}

static void handle_classify(slm_serve_app *app, const slm_http_request *req,
                            slm_http_response *resp)
{
    if (!model_ready(app, false, true, resp))
        return;
    slm_oai_classify_request in;
    slm_oai_error e;
    if (!slm_oai_parse_classify(req->body, req->body_len, &in, &e)) {
        slm_serve_error_response(&e, resp);
        return;
    }
    const slm_sched_model_info *info = slm_sched_info(app->sched);
    classify_call c = {.in = &in};
    c.probs = malloc(in.n * (size_t)info->n_labels * sizeof *c.probs);
    if (!c.probs)
        fail(resp, 500, NULL, "%s", "out of memory");
    else if (!slm_sched_call(app->sched, classify_on_model, &c))
        fail(resp, 503, "unavailable", "%s", "the server is shutting down");
    else if (c.status != SLM_OK)
        fail(resp, c.status == SLM_ERR_NOMEM ? 500 : 400, NULL, "%s", c.err.msg);
    else
        set_body(resp, 200, "application/json",
                 slm_oai_classify_json(info->name, c.probs, in.n, info->n_labels,
                                       info->labels));
    free(c.probs);
    slm_oai_classify_request_free(&in);
}

/* ------------------------------------------------------------ small endpoints */

static void handle_health(slm_serve_app *app, slm_http_response *resp)
{
    slm_sched_state st = slm_sched_get_state(app->sched, NULL);
    if (st == SLM_SCHED_READY && !atomic_load(&app->stopping))
        set_body(resp, 200, "application/json", strdup("{\"status\":\"ok\"}"));
    else
        fail(resp, 503, "unavailable", "%s",
             st == SLM_SCHED_LOADING ? "loading the model"
             : st == SLM_SCHED_FAILED ? "the model failed to load"
                                      : "shutting down");
}

static void handle_metrics(slm_serve_app *app, slm_http_response *resp)
{
    char *text = slm_metrics_render(app->metrics);
    char *extra = text && app->router && app->router->metrics
                      ? app->router->metrics(app->router->user)
                      : NULL;
    if (extra) {
        size_t a = strlen(text), b = strlen(extra);
        char *both = realloc(text, a + b + 1);
        if (both) {
            memcpy(both + a, extra, b + 1);
            text = both;
        }
        free(extra);
    }
    set_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}

static void handle_models(slm_serve_app *app, const char *name, slm_http_response *resp)
{
    if (!model_ready(app, false, false, resp))
        return;
    const char *model = slm_sched_info(app->sched)->name;
    if (!name)
        set_body(resp, 200, "application/json", slm_oai_models_json(model, app->created));
    else if (strcmp(name, model) == 0)
        set_body(resp, 200, "application/json", slm_oai_model_json(model, app->created));
    else
        fail(resp, 404, "model_not_found", "%s", "no such model (GET /v1/models lists it)");
}

/* ------------------------------------------------------------ routing */

typedef enum {
    R_HEALTH, R_METRICS, R_MODELS, R_MODEL, R_CHAT, R_COMPLETIONS,
    R_TOKENIZE, R_DETOKENIZE, R_CLASSIFY, R_NONE
} route_id;

static const struct {
    const char *path;
    const char *method;
    route_id id;
    bool open; /* no API key needed */
} routes[] = {
    {"/health", "GET", R_HEALTH, true},
    {"/metrics", "GET", R_METRICS, true},
    {"/v1/models", "GET", R_MODELS, false},
    {"/v1/chat/completions", "POST", R_CHAT, false},
    {"/v1/completions", "POST", R_COMPLETIONS, false},
    {"/tokenize", "POST", R_TOKENIZE, false},
    {"/detokenize", "POST", R_DETOKENIZE, false},
    {"/v1/classify", "POST", R_CLASSIFY, false},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])
#define MODEL_PREFIX "/v1/models/"

static bool authorized(const slm_serve_app *app, const slm_http_request *req)
{
    if (!app->api_key)
        return true;
    const char *key = NULL;
    if (req->authorization && strncasecmp(req->authorization, "Bearer ", 7) == 0) {
        key = req->authorization + 7;
        while (*key == ' ')
            key++;
    } else if (req->x_api_key) {
        key = req->x_api_key;
    }
    return key && slm_http_key_equal(key, app->api_key);
}

void slm_serve_handle(slm_serve_app *app, const slm_http_request *req, slm_http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    const char *path = req->path ? req->path : "";
    const char *method = req->method ? req->method : "";
    route_id id = R_NONE;
    const char *allow = NULL;
    bool open = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (strcmp(path, routes[i].path) != 0)
            continue;
        allow = routes[i].method;
        if (strcmp(method, routes[i].method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            id = routes[i].id;
            open = routes[i].open;
        }
    }
    const char *model_name = NULL;
    if (!allow && strncmp(path, MODEL_PREFIX, strlen(MODEL_PREFIX)) == 0 &&
        path[strlen(MODEL_PREFIX)] != '\0') {
        allow = "GET";
        model_name = path + strlen(MODEL_PREFIX);
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
            id = R_MODEL;
    }
    if (!allow) {
        fail(resp, 404, "not_found", "%s", "no such endpoint");
        return;
    }
    if (id == R_NONE) {
        fail(resp, 405, "method_not_allowed", "this endpoint takes %s", allow);
        resp->allow = allow;
        return;
    }
    if (!open && !authorized(app, req)) {
        fail(resp, 401, "invalid_api_key", "%s",
             "missing or wrong API key (Authorization: Bearer KEY or X-Api-Key: KEY)");
        return;
    }
    switch (id) {
    case R_HEALTH: handle_health(app, resp); break;
    case R_METRICS: handle_metrics(app, resp); break;
    case R_MODELS: handle_models(app, NULL, resp); break;
    case R_MODEL: handle_models(app, model_name, resp); break;
    case R_CHAT:
        if (!app->router)
            handle_generation(app, req, resp, SLM_OAI_CHAT);
        else if (model_ready(app, true, false, resp))
            app->router->chat(app->router->user, app->sched, req, resp);
        break;
    case R_COMPLETIONS: handle_generation(app, req, resp, SLM_OAI_COMPLETION); break;
    case R_TOKENIZE: handle_tokens(app, req, resp, false); break;
    case R_DETOKENIZE: handle_tokens(app, req, resp, true); break;
    case R_CLASSIFY: handle_classify(app, req, resp); break;
    case R_NONE: break;
    }
}
