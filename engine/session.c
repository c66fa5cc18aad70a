/* session.c — session lifetime and evaluation of ids (see session.h). */
#include "session.h"

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
    if (n_ctx <= 0 || n_ctx > c->max_positions)
        n_ctx = c->max_positions;
    slm_session *s = calloc(1, sizeof *s);
    if (!s)
        return slm_fail_nomem(err, "session");
    s->model = model;
    s->n_ctx = n_ctx;
    slm_status st = slm_kv_cache_init(&s->kv, c->n_layers, n_ctx, c->n_kv_heads * c->head_dim, err);
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
    float *bufs[] = {s->x, s->xb, s->q, s->k, s->v, s->att, s->hb, s->hb2,
                     s->rope_cos, s->rope_sin, s->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(s);
}

void slm_session_reset(slm_session *s) { s->n_past = 0; }

slm_status slm_session_eval(slm_session *s, const int32_t *ids, size_t n, const float **logits,
                            slm_error *err)
{
    const slm_config *c = &s->model->cfg;
    if (n == 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "nothing to evaluate (0 tokens)");
    if (n > (size_t)(s->n_ctx - s->n_past))
        return slm_fail(err, SLM_ERR_RANGE,
                        "%zu tokens do not fit: %d of the context's %d positions are used", n,
                        s->n_past, s->n_ctx);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size)
            return slm_fail(err, SLM_ERR_INVALID_ARG, "token id %d at index %zu is outside the "
                            "vocabulary [0, %d)", ids[i], i, c->vocab_size);
    for (size_t done = 0; done < n;) {
        int chunk = (int)(n - done < SLM_MAX_BATCH ? n - done : SLM_MAX_BATCH);
        SLM_TRY(s->model->arch->forward(s, ids + done, chunk, s->logits, err));
        s->n_past += chunk;
        done += (size_t)chunk;
    }
    *logits = s->logits;
    return SLM_OK;
}
