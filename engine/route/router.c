/*
 * router.c — one query through policy, local or remote answer, fallback
 * and costs (see router.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "router.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"

struct slm_router {
    const slm_router_config *cfg;
    bool has_backend; /* local answers from `backend`, not `session` */
    slm_router_local_backend backend;
    pthread_mutex_t mu; /* the classifier (load and runs) and the remote's creation */
    slm_model *local;
    slm_session *session;
    slm_model *classifier;
    int label_index;
    slm_remote *remote;
    bool local_failed, classifier_failed, remote_failed;
    slm_error local_err, classifier_err, remote_err;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

slm_status slm_router_new(const slm_router_config *cfg, slm_router **out, slm_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return slm_fail_nomem(err, "router");
    if (pthread_mutex_init(&(*out)->mu, NULL) != 0) {
        free(*out);
        *out = NULL;
        return slm_fail_nomem(err, "router");
    }
    (*out)->cfg = cfg;
    (*out)->label_index = -1;
    return SLM_OK;
}

static bool ensure_classifier(slm_router *r);
static bool ensure_remote(slm_router *r);

slm_status slm_router_new_with(const slm_router_config *cfg, const slm_router_local_backend *local,
                               slm_router **out, slm_error *err)
{
    slm_status st = slm_router_new(cfg, out, err);
    if (st != SLM_OK)
        return st;
    slm_router *r = *out;
    r->has_backend = true;
    r->backend = *local;
    if (cfg->classifier.present && !ensure_classifier(r)) {
        *err = r->classifier_err;
        st = err->status ? err->status : SLM_ERR_INVALID_ARG;
    } else if (!ensure_remote(r)) {
        *err = r->remote_err;
        st = err->status ? err->status : SLM_ERR_INVALID_ARG;
    }
    if (st != SLM_OK) {
        slm_router_free(r);
        *out = NULL;
    }
    return st;
}

void slm_router_free(slm_router *r)
{
    if (!r)
        return;
    slm_session_free(r->session);
    slm_model_free(r->local);
    slm_model_free(r->classifier);
    slm_remote_free(r->remote);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

const slm_router_config *slm_router_config_of(const slm_router *r)
{
    return r->cfg;
}

void slm_route_result_free(slm_route_result *r)
{
    if (r) {
        free(r->answer);
        memset(r, 0, sizeof *r);
    }
}

/* ------------------------------------------------------------ loading */

static bool ensure_local(slm_router *r)
{
    if (r->has_backend || r->session)
        return true;
    if (r->local_failed)
        return false;
    slm_load_options lo = slm_load_options_default();
    slm_error *e = &r->local_err;
    if (slm_model_load(r->cfg->local.model, &lo, &r->local, e) != SLM_OK ||
        slm_session_new(r->local, r->cfg->local.ctx, &r->session, e) != SLM_OK) {
        r->local_failed = true;
        return false;
    }
    return true;
}

static bool ensure_classifier(slm_router *r)
{
    if (r->classifier)
        return true;
    if (r->classifier_failed)
        return false;
    slm_load_options lo = slm_load_options_default();
    slm_error *e = &r->classifier_err;
    const slm_router_classifier *c = &r->cfg->classifier;
    r->classifier_failed = true;
    if (slm_model_load(c->model, &lo, &r->classifier, e) != SLM_OK)
        return false;
    int n = slm_model_n_labels(r->classifier);
    if (n <= 0) {
        slm_fail(e, SLM_ERR_UNSUPPORTED, "classifier.model: %s is not a sequence classifier (no id2label)",
                 c->model);
        goto fail;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(slm_model_label(r->classifier, i), c->label) == 0)
            r->label_index = i;
    if (r->label_index < 0) {
        char labels[512] = "";
        size_t used = 0;
        for (int i = 0; i < n && used < sizeof labels - 1; i++)
            used += (size_t)snprintf(labels + used, sizeof labels - used, "%s%s", i ? ", " : "",
                                     slm_model_label(r->classifier, i));
        slm_fail(e, SLM_ERR_INVALID_ARG, "classifier.label: %s is not a label of %s (%s)", c->label,
                 c->model, labels);
        goto fail;
    }
    r->classifier_failed = false;
    return true;
fail:
    slm_model_free(r->classifier);
    r->classifier = NULL;
    return false;
}

static bool ensure_remote(slm_router *r)
{
    pthread_mutex_lock(&r->mu);
    bool ok = r->remote != NULL;
    if (!ok && !r->remote_failed) {
        slm_remote_options o = r->cfg->remote.options;
        o.api_key = getenv(r->cfg->remote.api_key_env);
        ok = slm_remote_new(&o, &r->remote, &r->remote_err) == SLM_OK;
        r->remote_failed = !ok;
    }
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static slm_status classify_locked(slm_router *r, const char *prompt, slm_route_facts *f,
                                  slm_error *err)
{
    if (!ensure_classifier(r)) {
        *err = r->classifier_err;
        return err->status ? err->status : SLM_ERR_INVALID_ARG;
    }
    int n = slm_model_n_labels(r->classifier);
    float probs[256];
    if (n > 256)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "classifier.model: more than 256 labels");
    const char *texts[1] = {prompt};
    slm_status st = slm_classify(r->classifier, texts, 1, probs, NULL, NULL, err);
    if (st != SLM_OK)
        return st;
    int best = 0;
    for (int i = 1; i < n; i++)
        if (probs[i] > probs[best])
            best = i;
    f->classified = true;
    snprintf(f->top_label, sizeof f->top_label, "%s", slm_model_label(r->classifier, best));
    f->top_score = probs[best];
    f->label_score = probs[r->label_index];
    return SLM_OK;
}

slm_status slm_router_classify(slm_router *r, const char *prompt, slm_route_facts *f,
                               slm_error *err)
{
    pthread_mutex_lock(&r->mu);
    slm_status st = classify_locked(r, prompt, f, err);
    pthread_mutex_unlock(&r->mu);
    return st;
}

int slm_router_local_ctx(slm_router *r)
{
    if (r->has_backend) {
        int n_prompt, n_ctx;
        char why[8];
        slm_chat_message m = {.role = "user", .content = ""};
        return r->backend.count(r->backend.user, &m, 1, &n_prompt, &n_ctx, why, sizeof why) ? n_ctx
                                                                                             : 0;
    }
    if (!ensure_local(r))
        return 0;
    int n = slm_model_max_positions(r->local);
    return r->cfg->local.ctx > 0 && r->cfg->local.ctx < n ? r->cfg->local.ctx : n;
}

int slm_router_count_tokens(slm_router *r, const char *text)
{
    if (r->has_backend)
        return r->backend.count_text(r->backend.user, text);
    if (!ensure_local(r))
        return -1;
    slm_tokens t = {0};
    slm_error e;
    int n = slm_tokenize(slm_model_tokenizer(r->local), text, strlen(text), false, &t, &e) == SLM_OK
                ? (int)t.n
                : -1;
    slm_tokens_free(&t);
    return n;
}

/* ------------------------------------------------------------ answering */

typedef struct {
    char *buf;
    size_t n, cap;
    slm_route_text_fn on_text;
    slm_route_first_fn on_first;
    void *user;
    const slm_route_result *res; /* for on_first */
    bool oom, started;
} collector;

static bool collect(void *user, const char *text, size_t len)
{
    collector *c = user;
    if (!c->started) {
        c->started = true;
        if (c->on_first)
            c->on_first(c->user, c->res);
    }
    if (c->n + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        while (cap < c->n + len + 1)
            cap *= 2;
        char *b = realloc(c->buf, cap);
        if (!b) {
            c->oom = true;
            return false;
        }
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->n, text, len);
    c->n += len;
    c->buf[c->n] = '\0';
    return c->on_text ? c->on_text(c->user, text, len) : true;
}

static bool local_token(void *user, int32_t id, const char *text, size_t len)
{
    (void)id;
    return len == 0 || collect(user, text, len);
}

/* The local answer of msgs (rendered in *tokens unless a backend answers);
 * false with why. */
static bool answer_local(slm_router *r, const slm_chat_message *msgs, size_t n_msgs,
                         const slm_tokens *tokens, int max_tokens, collector *col,
                         slm_route_result *res, char *why, size_t cap)
{
    if (r->has_backend) {
        int n_prompt = 0, n_gen = 0;
        if (!r->backend.generate(r->backend.user, msgs, n_msgs, max_tokens, collect, col,
                                 &n_prompt, &n_gen, why, cap))
            return false;
        if (col->oom) {
            snprintf(why, cap, "out of memory collecting the local answer");
            return false;
        }
        res->prompt_tokens = n_prompt;
        res->completion_tokens = n_gen;
        return true;
    }
    if (!ensure_local(r)) {
        snprintf(why, cap, "%s", r->local_err.msg);
        return false;
    }
    int n_ctx = slm_model_max_positions(r->local);
    if (r->cfg->local.ctx > 0 && r->cfg->local.ctx < n_ctx)
        n_ctx = r->cfg->local.ctx;
    int room = n_ctx - (int)tokens->n;
    if (room < 1) {
        snprintf(why, cap, "the prompt's %zu tokens fill the local context of %d", tokens->n, n_ctx);
        return false;
    }
    slm_generate_params p = {0};
    p.max_new_tokens = max_tokens < room ? max_tokens : room;
    p.sampling = slm_sampler_params_default();
    p.sampling.temperature = (float)r->cfg->local.temperature;
    p.sampling.seed = (uint64_t)time(NULL);
    p.on_token = local_token;
    p.user = col;
    p.reuse_prefix = true;
    slm_generate_stats stats;
    slm_error e;
    if (slm_generate(r->session, tokens->ids, tokens->n, &p, &stats, &e) != SLM_OK) {
        snprintf(why, cap, "local generation failed: %.900s", e.msg);
        return false;
    }
    if (col->oom) {
        snprintf(why, cap, "out of memory collecting the local answer");
        return false;
    }
    res->prompt_tokens = stats.n_prompt;
    res->completion_tokens = stats.n_generated;
    return true;
}

static slm_remote_outcome answer_remote(slm_router *r, const slm_chat_message *msgs, size_t n,
                                        int max_tokens, collector *col, slm_route_result *res,
                                        char *why, size_t cap)
{
    if (!ensure_remote(r)) {
        snprintf(why, cap, "%s", r->remote_err.msg);
        return SLM_REMOTE_UNAVAILABLE;
    }
    slm_oai_request q = {0};
    q.kind = SLM_OAI_CHAT;
    q.messages = (slm_chat_message *)msgs;
    q.n_messages = n;
    q.max_tokens = max_tokens;
    q.sampling = slm_sampler_params_default();
    q.sampling.temperature = (float)r->cfg->remote.temperature;
    q.sampling.top_p = 1.0f;
    slm_remote_result rr;
    slm_remote_chat(r->remote, &q, collect, col, &rr);
    res->attempts += rr.attempts;
    snprintf(why, cap, "%s", rr.reason);
    if (rr.outcome == SLM_REMOTE_OK || rr.outcome == SLM_REMOTE_CUT) {
        if (rr.has_usage) {
            res->prompt_tokens = rr.usage.prompt_tokens;
            res->completion_tokens = rr.usage.completion_tokens;
        } else {
            res->usage_estimated = true;
        }
    }
    slm_remote_outcome out = rr.outcome;
    slm_remote_result_free(&rr);
    return out;
}

/* What the policy knows of msgs on the local side: the rendered prompt's
 * token count and the local context (the tokens themselves too without a
 * backend); false with why. */
static bool count_local(slm_router *r, const slm_chat_message *msgs, size_t n, slm_tokens *tokens,
                        slm_route_facts *f, char *why, size_t cap)
{
    if (r->has_backend) {
        f->counted = r->backend.count(r->backend.user, msgs, n, &f->n_prompt, &f->n_ctx, why, cap);
        return f->counted;
    }
    slm_error e;
    if (!ensure_local(r)) {
        snprintf(why, cap, "%s", r->local_err.msg);
        return false;
    }
    slm_tokens_free(tokens);
    if (slm_chat_render_tokens(r->local, msgs, n, SLM_CHAT_PLAIN_FALLBACK, tokens, NULL, &e) !=
        SLM_OK) {
        snprintf(why, cap, "%s", e.msg);
        return false;
    }
    f->counted = true;
    f->n_prompt = (int)tokens->n;
    f->n_ctx = slm_model_max_positions(r->local);
    if (r->cfg->local.ctx > 0 && r->cfg->local.ctx < f->n_ctx)
        f->n_ctx = r->cfg->local.ctx;
    return true;
}

/* Token counts the remote did not send, estimated with the local tokenizer
 * (the prompt rendered now if the policy did not need it). */
static void estimate_usage(slm_router *r, const slm_chat_message *msgs, size_t n_msgs,
                           slm_tokens *tokens, slm_route_facts *f, const collector *col,
                           slm_route_result *res)
{
    char why[256];
    if (!f->counted)
        count_local(r, msgs, n_msgs, tokens, f, why, sizeof why);
    res->prompt_tokens = f->counted ? f->n_prompt : 0;
    int n = slm_router_count_tokens(r, col->buf ? col->buf : "");
    res->completion_tokens = n > 0 ? n : 0;
}

static void append_reason(slm_route_result *res, const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(res->reason);
    if (n < sizeof res->reason)
        snprintf(res->reason + n, sizeof res->reason - n, fmt, a, b);
}

/* The last user message (the classifier's input); "" when none. */
static const char *last_user(const slm_chat_message *msgs, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(msgs[i].role, "user") == 0)
            return msgs[i].content;
    return n ? msgs[n - 1].content : "";
}

void slm_router_answer_messages(slm_router *r, const slm_chat_message *msgs, size_t n,
                                slm_route_force force, int max_tokens, slm_route_text_fn on_text,
                                slm_route_first_fn on_first, void *user, slm_route_result *res)
{
    const slm_router_config *c = r->cfg;
    /* one-time loads are not this query's latency */
    if (force != SLM_FORCE_REMOTE)
        ensure_local(r);
    if (force == SLM_FORCE_NONE && c->classifier.present) {
        pthread_mutex_lock(&r->mu);
        ensure_classifier(r);
        pthread_mutex_unlock(&r->mu);
    }
    double t0 = now_ms();
    memset(res, 0, sizeof *res);
    int local_max = max_tokens > 0 ? max_tokens : c->local.max_tokens;
    int remote_max = max_tokens > 0 ? max_tokens : c->remote.max_tokens;

    /* what the policy needs: the prompt's local token count, the classifier */
    slm_route_facts f = {0};
    slm_tokens tokens = {0};
    slm_error e;
    char local_why[1024] = "";
    if (force != SLM_FORCE_REMOTE)
        count_local(r, msgs, n, &tokens, &f, local_why, sizeof local_why);
    bool needs_classifier = force == SLM_FORCE_NONE && c->classifier.present &&
                            !(f.counted && (long long)f.n_prompt + c->local.max_tokens > f.n_ctx);
    if (needs_classifier && slm_router_classify(r, last_user(msgs, n), &f, &e) != SLM_OK) {
        snprintf(res->error, sizeof res->error, "%s", e.msg);
        res->answer = calloc(1, 1);
        res->latency_ms = now_ms() - t0;
        slm_tokens_free(&tokens);
        return;
    }
    res->classified = f.classified;
    snprintf(res->label, sizeof res->label, "%s", f.top_label);
    res->score = f.top_score;
    res->decided = slm_route_decide(c, force, &f, res->reason, sizeof res->reason);
    res->route = res->decided;

    collector col = {.on_text = on_text, .on_first = on_first, .user = user, .res = res};
    char why[1024] = "";
    if (res->route == SLM_ROUTE_LOCAL) {
        if (!f.counted) /* the local model failed to load or render */
            snprintf(why, sizeof why, "%s", local_why);
        else if (answer_local(r, msgs, n, &tokens, local_max, &col, res, why, sizeof why))
            res->answered = true;
        if (!res->answered && col.n == 0 && c->fallback) {
            append_reason(res, "; local failed (%.500s) -> answered remotely%s", why, "");
            res->fallback = true;
            res->route = SLM_ROUTE_REMOTE;
        } else if (!res->answered) {
            snprintf(res->error, sizeof res->error, "local model failed: %.900s", why);
        }
    }
    if (res->route == SLM_ROUTE_REMOTE) {
        slm_remote_outcome o = answer_remote(r, msgs, n, remote_max, &col, res, why, sizeof why);
        if (o == SLM_REMOTE_OK) {
            res->answered = true;
        } else if (o == SLM_REMOTE_CUT) {
            res->cut = true;
            snprintf(res->error, sizeof res->error,
                     "remote answer cut after its first bytes (no retry, no fallback): %.900s", why);
        } else if (c->fallback && !res->fallback) {
            append_reason(res, "; remote unavailable (%.500s) -> answered locally%s", why, "");
            res->fallback = true;
            res->route = SLM_ROUTE_LOCAL;
            if (!f.counted)
                count_local(r, msgs, n, &tokens, &f, local_why, sizeof local_why);
            if (!f.counted)
                snprintf(why, sizeof why, "%s", local_why);
            if (f.counted && answer_local(r, msgs, n, &tokens, local_max, &col, res, why, sizeof why))
                res->answered = true;
            else
                snprintf(res->error, sizeof res->error,
                         "neither side answered: remote unavailable, then local failed: %.900s", why);
        } else {
            snprintf(res->error, sizeof res->error, "%s: %.900s",
                     res->fallback ? "neither side answered: local failed, then remote"
                                   : "remote unavailable",
                     why);
        }
        if (res->route == SLM_ROUTE_REMOTE && res->usage_estimated)
            estimate_usage(r, msgs, n, &tokens, &f, &col, res);
    }
    res->answer = col.buf ? col.buf : calloc(1, 1);
    res->len = col.n;
    const slm_router_local *lo = &c->local;
    const slm_router_remote *re = &c->remote;
    double remote_cost = slm_cost_usd(res->prompt_tokens, res->completion_tokens, re->price_in,
                                      re->price_out);
    res->cost_usd = res->route == SLM_ROUTE_LOCAL
                        ? slm_cost_usd(res->prompt_tokens, res->completion_tokens, lo->price_in,
                                       lo->price_out)
                        : remote_cost;
    res->cost_if_remote_usd = remote_cost;
    res->latency_ms = now_ms() - t0;
    slm_tokens_free(&tokens);
}

void slm_router_answer(slm_router *r, const char *system, const char *prompt,
                       slm_route_force force, int max_tokens, slm_route_text_fn on_text,
                       void *user, slm_route_result *res)
{
    slm_chat_message msgs[2];
    size_t n = 0;
    if (system && system[0])
        msgs[n++] = (slm_chat_message){.role = "system", .content = system};
    msgs[n++] = (slm_chat_message){.role = "user", .content = prompt};
    slm_router_answer_messages(r, msgs, n, force, max_tokens, on_text, NULL, user, res);
}
