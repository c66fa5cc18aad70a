/* scratch.c — allocation of a forward pass's activations (see scratch.h). */
#include "scratch.h"

#include <stdlib.h>

#include "error.h"

slm_status slm_scratch_init(slm_scratch *sc, const slm_model *m, int cap, slm_error *err)
{
    const slm_config *c = &m->cfg;
    *sc = (slm_scratch){.cap = cap, .n_threads = m->n_threads, .mm.team = m->team,
                        .n_threads_batch = m->n_threads_batch};
    size_t b = (size_t)cap;
    size_t q_dim = (size_t)c->n_heads * c->head_dim;
    size_t kv_dim = (size_t)c->n_kv_heads * c->head_dim;
    size_t half = (size_t)m->rope.rot_dim / 2 + 1;
    float **bufs[] = {&sc->x, &sc->xb, &sc->q, &sc->k, &sc->v, &sc->att,
                      &sc->hb, &sc->hb2, &sc->rope_cos, &sc->rope_sin};
    size_t sizes[] = {b * c->hidden_size, b * c->hidden_size, b * q_dim, b * kv_dim,
                      b * kv_dim, b * q_dim, b * c->intermediate_size,
                      b * c->intermediate_size, b * half, b * half};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        *bufs[i] = malloc(sizes[i] * sizeof(float));
        if (!*bufs[i]) {
            slm_scratch_free(sc);
            return slm_fail_nomem(err, "forward-pass scratch");
        }
    }
    return SLM_OK;
}

void slm_scratch_free(slm_scratch *sc)
{
    float *bufs[] = {sc->x,   sc->xb,  sc->q,        sc->k,        sc->v,     sc->att,
                     sc->hb,  sc->hb2, sc->rope_cos, sc->rope_sin, sc->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    slm_matmul_ctx_free(&sc->mm);
    *sc = (slm_scratch){0};
}

slm_status slm_scratch_logits(slm_scratch *sc, int rows, int vocab, slm_error *err)
{
    if (rows <= sc->logit_rows)
        return SLM_OK;
    float *p = realloc(sc->logits, (size_t)rows * (size_t)vocab * sizeof(float));
    if (!p)
        return slm_fail_nomem(err, "batch logits");
    sc->logits = p;
    sc->logit_rows = rows;
    return SLM_OK;
}
