/*
 * router.c — one query through policy, local or remote answer, fallback
 * and costs (see router.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"

struct slm_router {
    const slm_router_config *cfg;
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
    (*out)->cfg = cfg;
    (*out)->label_index = -1;
    return SLM_OK;
}

void slm_router_free(slm_router *r)
{
    if (!r)
        return;
    slm_session_free(r->session);
    slm_model_free(r->local);
    slm_model_free(r->classifier);
    slm_remote_free(r->remote);
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
    if (r->session)
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
    if (r->remote)
        return true;
    if (r->remote_failed)
        return false;
    slm_remote_options o = r->cfg->remote.options;
    o.api_key = getenv(r->cfg->remote.api_key_env);
    if (slm_remote_new(&o, &r->remote, &r->remote_err) != SLM_OK) {
        r->remote_failed = true;
        return false;
    }
    return true;
}

slm_status slm_router_classify(slm_router *r, const char *prompt, slm_route_facts *f,
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

int slm_router_local_ctx(slm_router *r)
{
    if (!ensure_local(r))
        return 0;
    int n = slm_model_max_positions(r->local);
    return r->cfg->local.ctx > 0 && r->cfg->local.ctx < n ? r->cfg->local.ctx : n;
}

int slm_router_count_tokens(slm_router *r, const char *text)
{
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
    void *user;
    bool oom;
} collector;

static bool collect(void *user, const char *text, size_t len)
{
    collector *c = user;
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

/* The local answer of the rendered prompt in *tokens; false with why. */
static bool answer_local(slm_router *r, const slm_tokens *tokens, int max_tokens, collector *col,
                         slm_route_result *res, char *why, size_t cap)
{
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

/* Token counts the remote did not send, estimated with the local tokenizer. */
static void estimate_usage(slm_router *r, const slm_tokens *prompt, const collector *col,
                           slm_route_result *res)
{
    res->prompt_tokens = (int)prompt->n;
    int n = slm_router_count_tokens(r, col->buf ? col->buf : "");
    res->completion_tokens = n > 0 ? n : 0;
}

static void append_reason(slm_route_result *res, const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(res->reason);
    if (n < sizeof res->reason)
        snprintf(res->reason + n, sizeof res->reason - n, fmt, a, b);
}

void slm_router_answer(slm_router *r, const char *system, const char *prompt,
                       slm_route_force force, int max_tokens, slm_route_text_fn on_text,
                       void *user, slm_route_result *res)
{
    const slm_router_config *c = r->cfg;
    /* one-time loads are not this query's latency */
    if (force != SLM_FORCE_REMOTE)
        ensure_local(r);
    if (force == SLM_FORCE_NONE && c->classifier.present)
        ensure_classifier(r);
    double t0 = now_ms();
    memset(res, 0, sizeof *res);
    slm_chat_message msgs[2];
    size_t n = 0;
    if (system && system[0])
        msgs[n++] = (slm_chat_message){.role = "system", .content = system};
    msgs[n++] = (slm_chat_message){.role = "user", .content = prompt};
    int local_max = max_tokens > 0 ? max_tokens : c->local.max_tokens;
    int remote_max = max_tokens > 0 ? max_tokens : c->remote.max_tokens;

    /* what the policy needs: the prompt's local token count, the classifier */
    slm_route_facts f = {0};
    slm_tokens tokens = {0};
    slm_error e;
    if (force != SLM_FORCE_REMOTE && ensure_local(r) &&
        slm_chat_render_tokens(r->local, msgs, n, SLM_CHAT_PLAIN_FALLBACK, &tokens, NULL, &e) ==
            SLM_OK) {
        f.counted = true;
        f.n_prompt = (int)tokens.n;
        f.n_ctx = slm_model_max_positions(r->local);
        if (c->local.ctx > 0 && c->local.ctx < f.n_ctx)
            f.n_ctx = c->local.ctx;
    }
    bool needs_classifier = force == SLM_FORCE_NONE && c->classifier.present &&
                            !(f.counted && (long long)f.n_prompt + c->local.max_tokens > f.n_ctx);
    if (needs_classifier && slm_router_classify(r, prompt, &f, &e) != SLM_OK) {
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

    collector col = {.on_text = on_text, .user = user};
    char why[1024] = "";
    if (res->route == SLM_ROUTE_LOCAL) {
        if (!f.counted) /* the local model failed to load or render */
            snprintf(why, sizeof why, "%s", r->local_failed ? r->local_err.msg : e.msg);
        else if (answer_local(r, &tokens, local_max, &col, res, why, sizeof why))
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
            if (!f.counted && ensure_local(r) &&
                slm_chat_render_tokens(r->local, msgs, n, SLM_CHAT_PLAIN_FALLBACK, &tokens, NULL,
                                       &e) == SLM_OK)
                f.counted = true;
            if (!f.counted)
                snprintf(why, sizeof why, "%s", r->local_failed ? r->local_err.msg : e.msg);
            if (f.counted && answer_local(r, &tokens, local_max, &col, res, why, sizeof why))
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
            estimate_usage(r, &tokens, &col, res);
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
