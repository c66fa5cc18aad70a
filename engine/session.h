/*
 * session.h — one sequence's state: the KV cache, the ids it holds, the
 * logits of its last evaluated position, its thread counts, and the scratch
 * of its own forward passes (allocated on first use: a session that is only
 * ever evaluated in batches never needs one).
 */
#ifndef SLM_SESSION_H
#define SLM_SESSION_H

#include "kv_cache.h"
#include "model.h"
#include "scratch.h"

/* Prompt tokens are processed in chunks of at most this many (matrix-matrix). */
#define SLM_MAX_BATCH 256

struct slm_session {
    slm_model *model;
    int n_ctx;
    int n_past;         /* positions already in the KV cache */
    slm_tokens history; /* the ids at positions 0..n_past-1 */
    bool rope_long;     /* longrope: the cache was built with the long factors */
    slm_kv_cache kv;
    /* this session's thread counts (the shared model is never written) */
    int n_threads;       /* decode */
    int n_threads_batch; /* prompt processing */
    float *logits;       /* [vocab] of the last evaluated position */
    bool has_logits;
    slm_scratch *scratch; /* own passes; NULL until the first */
    slm_profile *profile; /* the caller's, or NULL (slm_session_set_profile) */
};

/* One sequence's part of a forward pass: n ids at positions s->n_past.., the
 * logits of the last n_logits (1..n) written to logits[n_logits][vocab]. */
typedef struct slm_seq_step_ {
    slm_session *s;
    const int32_t *ids;
    int n;
    int n_logits;
    float *logits;
} slm_seq_step;

/* The one range check of token ids against a model: every id in
 * [0, vocab_size), else SLM_ERR_INVALID_ARG naming the id, its index and the
 * vocab_size. slm_session_eval(_all), slm_session_nll, slm_batch_eval and the
 * generations run it on their input before using any id (a perplexity target
 * id indexes the logits, a prompt id the embeddings and the stream decoder). */
slm_status slm_model_check_ids(const slm_model *m, const int32_t *ids, size_t n, slm_error *err);

/* Checks that n ids (n >= 1) fit the session's context and are in the vocabulary. */
slm_status slm_session_check_ids(const slm_session *s, const int32_t *ids, size_t n,
                                 slm_error *err);

/* LongRoPE: before n more ids are evaluated, re-evaluates the cache with the
 * long factors when the sequence crosses original_max (see session.c). */
slm_status slm_session_prepare_rope(slm_session *s, size_t n, slm_error *err);

/* Records that a forward pass stored n more positions (ids) in the cache. */
slm_status slm_session_advance(slm_session *s, const int32_t *ids, int n);

#endif
