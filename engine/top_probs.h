/*
 * top_probs.h — the most probable tokens of a softmax over logits, for
 * slm_top_probs and the per-step report of a generation (params.n_probs).
 *
 * Contract:
 *   - The softmax is numerically stable: exp(logit - max) summed in double,
 *     so no logit, however large, overflows. NaN counts as -inf (as in the
 *     sampler); when the largest logit is infinite (+inf, or every logit
 *     -inf) the tokens sharing it split the mass equally.
 *   - Selection is a partial one: O(n) expected to find the k best (a
 *     quickselect that falls back to sorting the part left if it degrades),
 *     then O(k log k) to order them. Ties in probability go to the lower id,
 *     so the result never depends on the algorithm.
 *   - Nothing is allocated: the caller passes n entries of scratch.
 */
#ifndef SLM_TOP_PROBS_H
#define SLM_TOP_PROBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm.h"

/* A token id and its logit (NaN already turned into -inf), selection scratch. */
typedef struct {
    int32_t id;
    float logit;
} slm_scored_id;

/* What turns a logit into a probability: p = exp(logit - max) / sum. */
typedef struct {
    float max;
    double sum;      /* Σ exp(logit - max), >= 1 when max is finite */
    size_t n_at_max; /* with an infinite max: the tokens that share it */
} slm_softmax_norm;

slm_softmax_norm slm_softmax_norm_of(const float *logits, size_t n);
float slm_softmax_prob(const slm_softmax_norm *z, float logit);

/* Writes the min(k, n) most probable tokens of softmax(logits[0..n)) to top,
 * most probable first, and returns that count; scratch holds n entries. */
size_t slm_top_probs_into(const float *logits, size_t n, size_t k, const slm_softmax_norm *z,
                          slm_scored_id *scratch, slm_token_prob *top);

#endif /* SLM_TOP_PROBS_H */
