/*
 * generate.c — generations: a prompt answered a step at a time. A step
 * evaluates the next prompt chunk (prefill) or the last sampled token; after
 * the prompt's last chunk and every decoded token the generation samples the
 * next id, streams its text through the callback and stops at an EOS id, the
 * token budget, the context end, the callback or a stop string.
 * slm_batch_step advances many generations in one forward pass (batch.c);
 * slm_generate runs one alone on its session's own passes. Both go through
 * gen_input / gen_after_eval below, so they produce the same tokens.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "profile.h"
#include "sampler.h"
#include "session.h"
#include "top_probs.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Stop strings: streamed text is held here while it could still be the
   start of a stop string, so a stop that spans tokens or streamed pieces is
   never printed. Invariant: no stop string occurs in the text already
   emitted plus the held text, except at the moment a push finds one. */
typedef struct {
    const char *const *stop;
    size_t n_stop;
    char *buf; /* held text, not yet passed to on_token */
    size_t len, cap;
    size_t hit_index; /* the stop string find_stop found last */
} stop_filter;

static slm_status check_stops(const slm_generate_params *p, slm_error *err)
{
    if (p->n_stop && !p->stop)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "stop: n_stop is %zu but the list is NULL",
                        p->n_stop);
    for (size_t i = 0; i < p->n_stop; i++)
        if (!p->stop[i] || !p->stop[i][0])
            return slm_fail(err, SLM_ERR_INVALID_ARG, "stop[%zu]: a stop string must not be %s",
                            i, p->stop[i] ? "empty" : "NULL");
    return SLM_OK;
}

/* Position of the earliest stop string in the held text, or SIZE_MAX;
   f->hit_index says which string it is. */
static size_t find_stop(stop_filter *f)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < f->n_stop; i++) {
        size_t sl = strlen(f->stop[i]);
        for (size_t at = 0; at + sl <= f->len && at < best; at++)
            if (memcmp(f->buf + at, f->stop[i], sl) == 0) {
                best = at;
                f->hit_index = i;
                break;
            }
    }
    return best;
}

/* Length of the longest tail of the held text that begins some stop string. */
static size_t ambiguous_tail(const stop_filter *f)
{
    for (size_t k = f->len; k > 0; k--)
        for (size_t i = 0; i < f->n_stop; i++)
            if (strlen(f->stop[i]) > k && memcmp(f->buf + f->len - k, f->stop[i], k) == 0)
                return k;
    return 0;
}

/* Appends text; *safe = how much of the held text may be passed on, *hit =
   a stop string starts right there (everything from *safe on is dropped). */
static slm_status stop_filter_push(stop_filter *f, const char *text, size_t len, size_t *safe,
                                   bool *hit, slm_error *err)
{
    if (f->len + len > f->cap) {
        size_t cap = f->cap ? f->cap : 64;
        while (cap < f->len + len)
            cap *= 2;
        char *buf = realloc(f->buf, cap);
        if (!buf)
            return slm_fail(err, SLM_ERR_NOMEM, "stop strings: out of memory holding %zu bytes",
                            f->len + len);
        f->buf = buf;
        f->cap = cap;
    }
    if (len)
        memcpy(f->buf + f->len, text, len);
    f->len += len;
    size_t at = find_stop(f);
    *hit = at != SIZE_MAX;
    *safe = *hit ? at : f->len - ambiguous_tail(f);
    return SLM_OK;
}

/* Forgets the first n held bytes (they were passed on). */
static void stop_filter_consume(stop_filter *f, size_t n)
{
    if (n == 0)
        return; /* also keeps a never-allocated buffer out of memmove */
    memmove(f->buf, f->buf + n, f->len - n);
    f->len -= n;
}

/* pf (may be NULL): the streaming decoder's time as the tokenizer's, the
   callback's as output. */
static slm_status emit(slm_stream_decoder *dec, stop_filter *f, const slm_generate_params *p,
                       int32_t id, slm_profile *pf, bool *keep_going, bool *hit, slm_error *err)
{
    const char *text;
    size_t len, safe;
    uint64_t t = slm_prof_start(pf);
    SLM_TRY(slm_stream_decoder_push(dec, id, &text, &len, err));
    t = slm_prof_lap(pf, SLM_PROF_TOKENIZER, t);
    SLM_TRY(stop_filter_push(f, text, len, &safe, hit, err));
    /* the callback always gets a string, empty before anything was held */
    const char *out = f->buf ? f->buf : "";
    if (p->on_token) {
        t = slm_prof_start(pf);
        *keep_going = p->on_token(p->user, id, out, safe);
        slm_prof_lap(pf, SLM_PROF_OUTPUT, t);
    } else {
        *keep_going = true;
    }
    stop_filter_consume(f, *hit ? f->len : safe);
    return SLM_OK;
}


/* ============================================================ a generation */

typedef enum { GEN_PREFILL, GEN_DECODE, GEN_DONE } gen_phase;

struct slm_generation {
    slm_session *s;
    slm_generate_params p;
    slm_tokens prompt;
    size_t prompt_done; /* ids of the prompt in the cache */
    slm_sampler *smp;
    slm_stream_decoder *dec;
    stop_filter f;
    slm_generate_stats st;
    gen_phase phase;
    int32_t next; /* the sampled id the next step evaluates */
    float *masked; /* ignore_eos: the logits with the EOS ids at -inf */
    slm_scored_id *probs_scratch; /* n_probs: vocab entries of selection scratch */
    slm_token_prob *probs_top;    /* n_probs: the step's min(n_probs, vocab) best */
    bool cancelled;
    bool profiled; /* its phases' wall times are in the session's profile */
    double t_start, t_prefilled; /* 0 until the first step / the prompt is in */
    slm_status status;
    slm_error err;
};

/* Number of leading ids shared by a and b. */
static size_t common_prefix(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    return i;
}

/* reuse_prefix: keep the cached ids the prompt starts with (never all of
   the prompt: its last id is evaluated for the first logits). */
static slm_status keep_cached_prefix(slm_generation *g, slm_error *err)
{
    slm_session *s = g->s;
    size_t keep = common_prefix(s->history.ids, s->history.n, g->prompt.ids, g->prompt.n);
    if (keep == g->prompt.n)
        keep--;
    SLM_TRY(slm_session_truncate(s, (int)keep, err));
    g->prompt_done = keep;
    g->st.n_prompt_cached = (int)keep;
    return SLM_OK;
}

static slm_status check_prompt(const slm_session *s, const int32_t *prompt, size_t n,
                               const slm_generate_params *p, slm_error *err)
{
    if (n == 0 || !prompt)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "empty prompt: at least one token is needed");
    if (p->max_new_tokens < 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "max_new_tokens %d is negative",
                        p->max_new_tokens);
    if (p->n_probs < 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "n_probs %d is negative", p->n_probs);
    SLM_TRY(check_stops(p, err));
    size_t room = (size_t)(s->n_ctx - (p->reuse_prefix ? 0 : s->n_past));
    if (n >= room)
        return slm_fail(err, SLM_ERR_RANGE,
                        "prompt of %zu tokens does not fit the context of %d positions "
                        "(%d in use)", n, s->n_ctx, p->reuse_prefix ? 0 : s->n_past);
    return slm_model_check_ids(s->model, prompt, n, err);
}

/* The buffers of the per-step report (params.n_probs). */
static slm_status alloc_probs(slm_generation *g, int n_probs)
{
    size_t vocab = (size_t)slm_model_vocab_size(g->s->model);
    size_t k = (size_t)n_probs < vocab ? (size_t)n_probs : vocab;
    g->probs_scratch = malloc(vocab * sizeof *g->probs_scratch);
    g->probs_top = malloc(k * sizeof *g->probs_top);
    return g->probs_scratch && g->probs_top ? SLM_OK : SLM_ERR_NOMEM;
}

slm_status slm_generation_new(slm_session *s, const int32_t *prompt, size_t n,
                              const slm_generate_params *p, slm_generation **out,
                              slm_error *err)
{
    *out = NULL;
    SLM_TRY(check_prompt(s, prompt, n, p, err));
    slm_generation *g = calloc(1, sizeof *g);
    if (!g)
        return slm_fail_nomem(err, "generation");
    g->s = s;
    g->p = *p;
    g->f = (stop_filter){.stop = p->stop, .n_stop = p->n_stop};
    g->st.n_prompt = (int)n;
    g->st.stop_index = -1;
    slm_status rc = SLM_OK;
    if (p->ignore_eos &&
        !(g->masked = malloc((size_t)slm_model_vocab_size(s->model) * sizeof *g->masked)))
        rc = SLM_ERR_NOMEM;
    if (rc == SLM_OK && p->n_probs > 0 && p->on_probs)
        rc = alloc_probs(g, p->n_probs);
    for (size_t i = 0; rc == SLM_OK && i < n; i++)
        rc = slm_tokens_push(&g->prompt, prompt[i]);
    if (rc == SLM_OK)
        rc = slm_sampler_new(&p->sampling, slm_model_vocab_size(s->model), &g->smp, err);
    if (rc == SLM_OK)
        rc = slm_stream_decoder_new(s->model->tok, true, &g->dec, err);
    for (size_t i = 0; rc == SLM_OK && p->continue_text && i < n; i++) {
        const char *ignored;
        size_t len;
        rc = slm_stream_decoder_push(g->dec, prompt[i], &ignored, &len, err);
    }
    if (rc == SLM_OK && p->reuse_prefix)
        rc = keep_cached_prefix(g, err);
    if (rc != SLM_OK) {
        if (rc == SLM_ERR_NOMEM && err && !err->msg[0])
            slm_fail_nomem(err, "generation");
        slm_generation_free(g);
        return rc;
    }
    *out = g;
    return SLM_OK;
}

void slm_generation_free(slm_generation *g)
{
    if (!g)
        return;
    slm_tokens_free(&g->prompt);
    slm_sampler_free(g->smp);
    slm_stream_decoder_free(g->dec);
    free(g->f.buf);
    free(g->masked);
    free(g->probs_scratch);
    free(g->probs_top);
    free(g);
}

bool slm_generation_done(const slm_generation *g) { return g->phase == GEN_DONE; }

void slm_generation_stats(const slm_generation *g, slm_generate_stats *out) { *out = g->st; }

slm_status slm_generation_status(const slm_generation *g, slm_error *err)
{
    if (g->status != SLM_OK && err)
        *err = g->err;
    return g->status;
}

void slm_generation_cancel(slm_generation *g) { g->cancelled = true; }

static void finish(slm_generation *g, slm_stop_reason why)
{
    g->st.stop_reason = why;
    if (why == SLM_STOP_STRING)
        g->st.stop_index = (int)g->f.hit_index;
    g->phase = GEN_DONE;
    double t = now_seconds();
    if (g->t_prefilled > 0)
        g->st.decode_seconds = t - g->t_prefilled;
    else if (g->t_start > 0)
        g->st.prefill_seconds = t - g->t_start;
    slm_profile *pf = g->s->profile;
    if (pf && !g->profiled) { /* the stats' own times: what the phases' rows add up to */
        g->profiled = true;
        slm_profile_add_phase(pf, SLM_PROFILE_PREFILL, g->st.prefill_seconds,
                              (uint64_t)(g->prompt.n - g->st.n_prompt_cached));
        slm_profile_add_phase(pf, SLM_PROFILE_DECODE, g->st.decode_seconds,
                              (uint64_t)g->st.n_generated);
    }
}

static void fail(slm_generation *g, slm_status st, const slm_error *why)
{
    g->status = st;
    if (why)
        g->err = *why;
    if (!g->err.msg[0])
        slm_fail(&g->err, st, "generation failed (%s)", slm_status_name(st));
    g->err.status = st;
    finish(g, g->st.stop_reason);
}

/* Prints what is still held: the stream decoder's unfinished UTF-8 tail and
   text that could have begun a stop string, cut before one if it does. */
static slm_status flush(slm_generation *g, slm_error *err)
{
    const char *text;
    size_t len = 0, safe;
    bool hit;
    if (g->st.stop_reason == SLM_STOP_STRING)
        return SLM_OK;
    SLM_TRY(slm_stream_decoder_finish(g->dec, &text, &len, err));
    SLM_TRY(stop_filter_push(&g->f, text, len, &safe, &hit, err));
    if (hit)
        g->st.stop_reason = SLM_STOP_STRING;
    else
        safe = g->f.len; /* nothing follows: an ambiguous tail is plain text */
    if (safe && g->p.on_token)
        g->p.on_token(g->p.user, -1, g->f.buf, safe);
    return SLM_OK;
}

static void finish_flushed(slm_generation *g, slm_stop_reason why)
{
    slm_error err = {0};
    g->st.stop_reason = why;
    slm_status st = flush(g, &err);
    finish(g, g->st.stop_reason);
    if (st != SLM_OK)
        fail(g, st, &err);
}

/* Cancellation ends a generation before its next step; nothing more is
   streamed to a caller that has gone. */
static bool gen_active(slm_generation *g)
{
    if (g->phase != GEN_DONE && g->cancelled)
        finish(g, SLM_STOP_CALLBACK);
    return g->phase != GEN_DONE;
}

/* What the next step evaluates: the next prompt chunk, or the sampled id. */
static size_t gen_input(slm_generation *g, const int32_t **ids)
{
    if (g->t_start == 0)
        g->t_start = now_seconds();
    if (g->s->profile)
        slm_profile_set_phase(g->s->profile,
                              g->phase == GEN_DECODE ? SLM_PROFILE_DECODE : SLM_PROFILE_PREFILL);
    if (g->phase == GEN_DECODE) {
        *ids = &g->next;
        return 1;
    }
    size_t left = g->prompt.n - g->prompt_done;
    *ids = g->prompt.ids + g->prompt_done;
    return left < SLM_MAX_BATCH ? left : SLM_MAX_BATCH;
}

/* The logits sampled from: the session's, or with ignore_eos a copy whose
   EOS ids can never win (the session's own logits stay as evaluated). */
static const float *gen_logits(slm_generation *g)
{
    const slm_session *s = g->s;
    if (!g->masked)
        return s->logits;
    const slm_config *c = &s->model->cfg;
    memcpy(g->masked, s->logits, (size_t)c->vocab_size * sizeof *g->masked);
    for (int i = 0; i < c->n_eos; i++)
        g->masked[c->eos_ids[i]] = -INFINITY;
    return g->masked;
}

/* params.on_probs for the id just sampled: the model's own distribution
   (the session's logits as evaluated, whatever the sampler or ignore_eos
   did with its copy). */
static void report_probs(slm_generation *g, int32_t id)
{
    if (!g->probs_top)
        return;
    const float *logits = g->s->logits;
    size_t vocab = (size_t)slm_model_vocab_size(g->s->model);
    slm_softmax_norm z = slm_softmax_norm_of(logits, vocab);
    slm_step_probs sp = {.step = g->st.n_generated,
                         .chosen = {id, slm_softmax_prob(&z, logits[id])},
                         .top = g->probs_top};
    sp.n_top = slm_top_probs_into(logits, vocab, (size_t)g->p.n_probs, &z, g->probs_scratch,
                                  g->probs_top);
    g->p.on_probs(g->p.user, &sp);
}

/* Samples from the session's last logits and streams the token. */
static void gen_sample(slm_generation *g)
{
    slm_session *s = g->s;
    if (g->st.n_generated >= g->p.max_new_tokens) {
        finish_flushed(g, SLM_STOP_LENGTH);
        return;
    }
    /* the repetition penalty looks at every id in the cache (the prompt,
       earlier turns and what was generated), as HF does over input_ids */
    slm_profile *pf = s->profile;
    uint64_t t = slm_prof_start(pf);
    int32_t id = slm_sampler_sample(g->smp, gen_logits(g), s->history.ids, s->history.n);
    slm_prof_lap(pf, SLM_PROF_SAMPLING, t);
    report_probs(g, id);
    g->st.n_generated++;
    if (slm_model_is_eos(s->model, id)) {
        finish_flushed(g, SLM_STOP_EOS);
        return;
    }
    bool keep_going, hit;
    slm_error err = {0};
    slm_status st = emit(g->dec, &g->f, &g->p, id, pf, &keep_going, &hit, &err);
    if (st != SLM_OK)
        fail(g, st, &err);
    else if (hit)
        finish(g, SLM_STOP_STRING);
    else if (!keep_going)
        finish_flushed(g, SLM_STOP_CALLBACK);
    else if (s->n_past >= s->n_ctx)
        finish_flushed(g, SLM_STOP_CONTEXT);
    else
        g->next = id;
}

/* After a step evaluated the n ids gen_input gave. */
static void gen_after_eval(slm_generation *g, size_t n)
{
    if (g->phase == GEN_PREFILL) {
        g->prompt_done += n;
        if (g->prompt_done < g->prompt.n)
            return;
        g->t_prefilled = now_seconds();
        g->st.prefill_seconds = g->t_prefilled - g->t_start;
        g->phase = GEN_DECODE;
        if (g->s->profile) /* decode's time starts here, with the first sampling */
            slm_profile_set_phase(g->s->profile, SLM_PROFILE_DECODE);
    }
    gen_sample(g);
}

/* ============================================================ driving them */

slm_status slm_generate(slm_session *s, const int32_t *prompt, size_t n_prompt,
                        const slm_generate_params *p, slm_generate_stats *stats, slm_error *err)
{
    slm_generation *g = NULL;
    if (stats)
        *stats = (slm_generate_stats){.n_prompt = (int)n_prompt};
    SLM_TRY(slm_generation_new(s, prompt, n_prompt, p, &g, err));
    slm_status rc = SLM_OK;
    while (rc == SLM_OK && gen_active(g)) {
        const int32_t *ids;
        size_t n = gen_input(g, &ids);
        const float *logits;
        rc = slm_session_eval(s, ids, n, &logits, err);
        if (rc == SLM_OK)
            gen_after_eval(g, n);
    }
    if (rc == SLM_OK)
        rc = slm_generation_status(g, err);
    if (stats)
        slm_generation_stats(g, stats);
    slm_generation_free(g);
    return rc;
}

/* The generations that go into this step, at most one per session: every
   decoding one (one id each), then prompt chunks that fit the room left. */
static size_t plan_step(slm_batch *b, slm_generation *const *gens, size_t n,
                        slm_generation **in, slm_session **ss, const int32_t **ids,
                        size_t *n_ids)
{
    size_t count = 0, room = (size_t)slm_batch_max_tokens(b);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            slm_generation *g = gens[i];
            if (!g || (g->phase == GEN_DECODE) != (pass == 0) || !gen_active(g))
                continue;
            const int32_t *x;
            size_t k = gen_input(g, &x);
            if (k > room)
                continue; /* a chunk that does not fit waits for the next step */
            in[count] = g;
            ss[count] = g->s;
            ids[count] = x;
            n_ids[count++] = k;
            room -= k;
        }
    return count;
}

slm_status slm_batch_step(slm_batch *b, slm_generation *const *gens, size_t n, slm_error *err)
{
    if (n == 0)
        return SLM_OK;
    slm_generation **in = malloc(n * sizeof *in);
    slm_session **ss = malloc(n * sizeof *ss);
    const int32_t **ids = malloc(n * sizeof *ids);
    size_t *n_ids = malloc(n * sizeof *n_ids);
    slm_status rc = SLM_OK;
    if (!in || !ss || !ids || !n_ids) {
        rc = slm_fail_nomem(err, "batch step");
    } else {
        size_t count = plan_step(b, gens, n, in, ss, ids, n_ids);
        if (count > 0)
            rc = slm_batch_eval(b, ss, ids, n_ids, count, err);
        for (size_t i = 0; rc == SLM_OK && i < count; i++)
            gen_after_eval(in[i], n_ids[i]);
    }
    free(in);
    free(ss);
    free(ids);
    free(n_ids);
    return rc;
}
