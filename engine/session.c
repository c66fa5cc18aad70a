/* session.c — session lifetime and evaluation of ids (see session.h). */
#include "session.h"

#include <inttypes.h>
#include <stdlib.h>

#include "error.h"

slm_status slm_session_new(slm_model *model, int n_ctx, slm_session **out, slm_error *err)
{
    *out = NULL;
    const slm_config *c = &model->cfg;
    if (!model->arch->forward)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: %s is not a text-generation model (try slm classify)", model->dir,
                        model->arch->architecture);
    if (c->head_dim > 512) /* before anything is allocated: nothing to free */
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: config.json: head_dim %d (at most 512)",
                        model->dir, c->head_dim);
    if (n_ctx <= 0 || n_ctx > c->max_positions)
        n_ctx = c->max_positions;
    slm_session *s = calloc(1, sizeof *s);
    if (!s)
        return slm_fail_nomem(err, "session");
    s->model = model;
    s->n_ctx = n_ctx;
    s->n_threads = model->n_threads;
    s->n_threads_batch = model->n_threads_batch;
    slm_status st = slm_kv_cache_init(&s->kv, model->opts.kv, c->n_layers, n_ctx, c->n_kv_heads,
                                      c->head_dim, err);
    if (st == SLM_OK && !(s->logits = malloc((size_t)c->vocab_size * sizeof(float))))
        st = slm_fail_nomem(err, "session logits");
    if (st != SLM_OK) {
        slm_session_free(s);
        return st;
    }
    *out = s;
    return SLM_OK;
}

void slm_session_free(slm_session *s)
{
    if (!s)
        return;
    slm_kv_cache_free(&s->kv);
    slm_tokens_free(&s->history);
    if (s->scratch)
        slm_scratch_free(s->scratch);
    free(s->scratch);
    free(s->logits);
    free(s);
}

void slm_session_set_threads(slm_session *s, int n_threads, int n_threads_batch)
{
    if (n_threads > 0)
        s->n_threads = n_threads;
    if (n_threads_batch > 0)
        s->n_threads_batch = n_threads_batch;
}

void slm_session_set_profile(slm_session *s, slm_profile *profile) { s->profile = profile; }

void slm_session_reset(slm_session *s)
{
    s->n_past = 0;
    s->history.n = 0;
    s->rope_long = false;
    s->has_logits = false;
}

int slm_session_n_past(const slm_session *s) { return s->n_past; }

const float *slm_session_logits(const slm_session *s) { return s->has_logits ? s->logits : NULL; }

slm_status slm_session_truncate(slm_session *s, int n, slm_error *err)
{
    if (n < 0 || n > s->n_past)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "cannot truncate %d cached positions to %d",
                        s->n_past, n);
    if (n < s->n_past)
        s->has_logits = false; /* they were the logits of a forgotten position */
    s->n_past = n; /* later positions are simply overwritten */
    s->history.n = (size_t)n;
    if (n == 0)
        s->rope_long = false;
    return SLM_OK;
}

slm_status slm_model_check_ids(const slm_model *m, const int32_t *ids, size_t n, slm_error *err)
{
    int vocab = m->cfg.vocab_size;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= vocab)
            return slm_fail(err, SLM_ERR_INVALID_ARG,
                            "token id %" PRId32 " (at index %zu) is outside the model's "
                            "vocabulary: %s/config.json has vocab_size %d",
                            ids[i], i, m->dir, vocab);
    return SLM_OK;
}

slm_status slm_session_check_ids(const slm_session *s, const int32_t *ids, size_t n,
                                 slm_error *err)
{
    if (n == 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "nothing to evaluate (0 tokens)");
    if (n > (size_t)(s->n_ctx - s->n_past))
        return slm_fail(err, SLM_ERR_RANGE,
                        "%zu tokens do not fit: %d of the context's %d positions are used", n,
                        s->n_past, s->n_ctx);
    return slm_model_check_ids(s->model, ids, n, err);
}

slm_status slm_session_advance(slm_session *s, const int32_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        SLM_TRY(slm_tokens_push(&s->history, ids[i]));
    s->n_past += n;
    return SLM_OK;
}

/* The session's own scratch, made on first use with its current threads. */
static slm_status own_scratch(slm_session *s, slm_error *err)
{
    if (!s->scratch) {
        slm_scratch *sc = malloc(sizeof *sc);
        if (!sc)
            return slm_fail_nomem(err, "session scratch");
        slm_status st = slm_scratch_init(sc, s->model, SLM_MAX_BATCH, err);
        if (st != SLM_OK) {
            free(sc);
            return st;
        }
        s->scratch = sc;
    }
    s->scratch->n_threads = s->n_threads;
    s->scratch->n_threads_batch = s->n_threads_batch;
    s->scratch->profile = s->profile;
    return SLM_OK;
}

/* Runs ids through the model in chunks of SLM_MAX_BATCH; the last chunk
   writes logits for its last min(n_logits, chunk) positions. */
static slm_status run_batches(slm_session *s, const int32_t *ids, size_t n, float *logits,
                              int n_logits, slm_error *err)
{
    /* a first pass allocates the scratch: a row of its own when profiled */
    uint64_t t = s->scratch ? 0 : slm_prof_start(s->profile);
    SLM_TRY(own_scratch(s, err));
    if (t)
        slm_profile_lap(s->profile, SLM_PROF_SCRATCH, t, 0, 0);
    for (size_t done = 0; done < n;) {
        int chunk = (int)(n - done < SLM_MAX_BATCH ? n - done : SLM_MAX_BATCH);
        bool last = done + (size_t)chunk == n;
        slm_seq_step step = {.s = s, .ids = ids + done, .n = chunk,
                             .n_logits = last ? (n_logits < chunk ? n_logits : chunk) : 1,
                             .logits = logits};
        SLM_TRY(s->model->arch->forward(s->scratch, &step, 1, err));
        SLM_TRY(slm_session_advance(s, ids + done, chunk));
        done += (size_t)chunk;
    }
    s->has_logits = logits == s->logits;
    return SLM_OK;
}

/* LongRoPE (Phi-3 128k) rotates every position of a forward with the long
   factors once the sequence exceeds original_max_position_embeddings. When a
   cache built with the short factors crosses that line, transformers drops
   it and recomputes everything; so do we, so cached keys never mix factors. */
slm_status slm_session_prepare_rope(slm_session *s, size_t n, slm_error *err)
{
    const slm_rope *r = &s->model->rope;
    bool want_long = r->inv_freq_long && (size_t)s->n_past + n > (size_t)r->original_max;
    if (want_long == s->rope_long)
        return SLM_OK;
    s->rope_long = want_long;
    if (s->n_past == 0)
        return SLM_OK;
    slm_tokens old = s->history;
    s->history = (slm_tokens){0};
    s->n_past = 0;
    slm_status st = run_batches(s, old.ids, old.n, s->logits, 1, err);
    slm_tokens_free(&old);
    return st;
}

slm_status slm_session_eval(slm_session *s, const int32_t *ids, size_t n, const float **logits,
                            slm_error *err)
{
    SLM_TRY(slm_session_check_ids(s, ids, n, err));
    SLM_TRY(slm_session_prepare_rope(s, n, err));
    SLM_TRY(run_batches(s, ids, n, s->logits, 1, err));
    *logits = s->logits;
    return SLM_OK;
}

slm_status slm_session_eval_all(slm_session *s, const int32_t *ids, size_t n, float *logits,
                                slm_error *err)
{
    SLM_TRY(slm_session_check_ids(s, ids, n, err));
    if (n > SLM_MAX_BATCH)
        return slm_fail(err, SLM_ERR_RANGE, "all-position logits take at most %d tokens per call",
                        SLM_MAX_BATCH);
    SLM_TRY(slm_session_prepare_rope(s, n, err));
    return run_batches(s, ids, n, logits, (int)n, err);
}
