/* session.c — session lifetime and evaluation of ids (see session.h). */
#include "session.h"

#include <inttypes.h>
#include <stdlib.h>

#include "error.h"

static slm_status alloc_scratch(slm_session *s, slm_error *err)
{
    const slm_config *c = &s->model->cfg;
    size_t b = SLM_MAX_BATCH;
    size_t q_dim = (size_t)c->n_heads * c->head_dim;
    size_t kv_dim = (size_t)c->n_kv_heads * c->head_dim;
    float **bufs[] = {&s->x, &s->xb, &s->q, &s->k, &s->v, &s->att, &s->hb, &s->hb2,
                      &s->rope_cos, &s->rope_sin, &s->logits};
    size_t sizes[] = {b * c->hidden_size, b * c->hidden_size, b * q_dim, b * kv_dim, b * kv_dim,
                      b * q_dim, b * c->intermediate_size, b * c->intermediate_size,
                      b * c->head_dim / 2, b * c->head_dim / 2, (size_t)c->vocab_size};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        *bufs[i] = malloc(sizes[i] * sizeof(float));
        if (!*bufs[i])
            return slm_fail_nomem(err, "session scratch");
    }
    return SLM_OK;
}

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
    if (st == SLM_OK)
        st = alloc_scratch(s, err);
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
    slm_matmul_ctx_free(&s->mm);
    float *bufs[] = {s->x, s->xb, s->q, s->k, s->v, s->att, s->hb, s->hb2,
                     s->rope_cos, s->rope_sin, s->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(s);
}

void slm_session_set_threads(slm_session *s, int n_threads, int n_threads_batch)
{
    if (n_threads > 0)
        s->n_threads = n_threads;
    if (n_threads_batch > 0)
        s->n_threads_batch = n_threads_batch;
}

void slm_session_reset(slm_session *s)
{
    s->n_past = 0;
    s->history.n = 0;
    s->rope_long = false;
}

int slm_session_n_past(const slm_session *s) { return s->n_past; }

slm_status slm_session_truncate(slm_session *s, int n, slm_error *err)
{
    if (n < 0 || n > s->n_past)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "cannot truncate %d cached positions to %d",
                        s->n_past, n);
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

static slm_status check_ids(const slm_session *s, const int32_t *ids, size_t n, slm_error *err)
{
    if (n == 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "nothing to evaluate (0 tokens)");
    if (n > (size_t)(s->n_ctx - s->n_past))
        return slm_fail(err, SLM_ERR_RANGE,
                        "%zu tokens do not fit: %d of the context's %d positions are used", n,
                        s->n_past, s->n_ctx);
    return slm_model_check_ids(s->model, ids, n, err);
}

/* Runs ids through the model in batches of SLM_MAX_BATCH; the last batch
   writes logits for its last min(n_logits, batch) positions. */
static slm_status run_batches(slm_session *s, const int32_t *ids, size_t n, float *logits,
                              int n_logits, slm_error *err)
{
    for (size_t done = 0; done < n;) {
        int chunk = (int)(n - done < SLM_MAX_BATCH ? n - done : SLM_MAX_BATCH);
        bool last = done + (size_t)chunk == n;
        int nl = last ? (n_logits < chunk ? n_logits : chunk) : 1;
        SLM_TRY(s->model->arch->forward(s, ids + done, chunk, nl, logits, err));
        for (int i = 0; i < chunk; i++)
            SLM_TRY(slm_tokens_push(&s->history, ids[done + (size_t)i]));
        s->n_past += chunk;
        done += (size_t)chunk;
    }
    return SLM_OK;
}

/* LongRoPE (Phi-3 128k) rotates every position of a forward with the long
   factors once the sequence exceeds original_max_position_embeddings. When a
   cache built with the short factors crosses that line, transformers drops
   it and recomputes everything; so do we, so cached keys never mix factors. */
static slm_status switch_rope_if_needed(slm_session *s, size_t n, slm_error *err)
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
    SLM_TRY(check_ids(s, ids, n, err));
    SLM_TRY(switch_rope_if_needed(s, n, err));
    SLM_TRY(run_batches(s, ids, n, s->logits, 1, err));
    *logits = s->logits;
    return SLM_OK;
}

slm_status slm_session_eval_all(slm_session *s, const int32_t *ids, size_t n, float *logits,
                                slm_error *err)
{
    SLM_TRY(check_ids(s, ids, n, err));
    if (n > SLM_MAX_BATCH)
        return slm_fail(err, SLM_ERR_RANGE, "all-position logits take at most %d tokens per call",
                        SLM_MAX_BATCH);
    SLM_TRY(switch_rope_if_needed(s, n, err));
    return run_batches(s, ids, n, logits, (int)n, err);
}
