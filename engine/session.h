/*
 * session.h — one conversation's state: the KV cache, the number of cached
 * positions, and the scratch buffers of a forward pass (allocated once, so
 * the per-token path allocates nothing).
 */
#ifndef SLM_SESSION_H
#define SLM_SESSION_H

#include "kv_cache.h"
#include "model.h"

/* Prompt tokens are processed in chunks of at most this many (matrix-matrix). */
#define SLM_MAX_BATCH 256

struct slm_session {
    slm_model *model;
    int n_ctx;
    int n_past; /* positions already in the KV cache */
    slm_tokens history; /* the ids at positions 0..n_past-1 */
    bool rope_long;     /* longrope: the cache was built with the long factors */
    slm_kv_cache kv;
    /* this session's thread counts (the shared model is never written) */
    int n_threads;       /* decode */
    int n_threads_batch; /* prompt processing */
    /* scratch, sized for SLM_MAX_BATCH tokens */
    float *x;      /* [batch][hidden]      residual stream */
    float *xb;     /* [batch][hidden]      normed input of a block */
    float *q;      /* [batch][heads*hd]    queries, then attention output */
    float *k;      /* [batch][kv_dim] */
    float *v;      /* [batch][kv_dim] */
    float *att;    /* [batch][heads*hd]    attention output */
    float *hb;     /* [batch][intermediate] gate */
    float *hb2;    /* [batch][intermediate] up */
    float *rope_cos; /* [batch][hd/2] */
    float *rope_sin; /* [batch][hd/2] */
    float *logits; /* [vocab] */
    slm_matmul_ctx mm;  /* activation scratch of the typed products */
    bool matmul_failed; /* a product could not get scratch memory */
};

/* The one range check of token ids against a model: every id in
 * [0, vocab_size), else SLM_ERR_INVALID_ARG naming the id, its index and the
 * vocab_size. slm_session_eval(_all), slm_session_nll and slm_generate run it
 * on their input before using any id (a perplexity target id indexes the
 * logits, a prompt id the embeddings and the stream decoder). */
slm_status slm_model_check_ids(const slm_model *m, const int32_t *ids, size_t n, slm_error *err);

#endif
