/*
 * scratch.h — the activations of one decoder forward pass, sized for a number
 * of tokens (all sequences of a step together), and the thread counts the
 * pass runs with. A session keeps one for its own evaluations (allocated on
 * first use), a batch one for its steps; nothing here is shared.
 */
#ifndef SLM_SCRATCH_H
#define SLM_SCRATCH_H

#include <stdbool.h>

#include "kernels.h"
#include "model.h"
#include "profile.h"

typedef struct slm_scratch_ {
    int cap; /* tokens per pass */
    float *x;        /* [cap][hidden]        residual stream */
    float *xb;       /* [cap][hidden]        normed input of a block */
    float *q;        /* [cap][heads*hd]      queries */
    float *k;        /* [cap][kv_dim] */
    float *v;        /* [cap][kv_dim] */
    float *att;      /* [cap][heads*hd]      attention output */
    float *hb;       /* [cap][intermediate]  gate */
    float *hb2;      /* [cap][intermediate]  up */
    float *rope_cos; /* [cap][rot/2] */
    float *rope_sin; /* [cap][rot/2] */
    float *logits;   /* [logit_rows][vocab]  output rows of a multi-sequence pass */
    int logit_rows;  /* rows allocated in logits (grown on demand) */
    slm_matmul_ctx mm;  /* activation scratch of the typed products */
    bool failed;        /* a product could not get scratch memory */
    slm_profile *profile; /* NULL: not profiled (the session's or batch's, profile.h) */
    int n_threads;       /* decode: a pass of one token */
    int n_threads_batch; /* any pass of more tokens */
} slm_scratch;

/* Buffers for cap tokens of model m (decoders). */
slm_status slm_scratch_init(slm_scratch *sc, const slm_model *m, int cap, slm_error *err);
void slm_scratch_free(slm_scratch *sc);

/* Room for rows x vocab output logits in sc->logits. */
slm_status slm_scratch_logits(slm_scratch *sc, int rows, int vocab, slm_error *err);

#endif
