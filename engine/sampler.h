/*
 * sampler.h — picks the next token from a vector of logits.
 *
 * Contract:
 *   - A sampler is created for one vocabulary size and owns every buffer it
 *     needs, so slm_sampler_sample() never allocates and never modifies the
 *     caller's logits.
 *   - temperature == 0 is greedy: argmax after the repetition penalty, ties
 *     going to the lowest id (as torch.argmax). Every other filter is ignored.
 *   - Otherwise the pipeline runs in this fixed order (Hugging Face's
 *     `generate` order for these processors):
 *       1. repetition penalty over the distinct ids among the last
 *          repeat_last_n history entries (-1 = all, 0 = off); HF/CTRL rule:
 *          a positive logit is divided by the penalty, any other multiplied;
 *       2. temperature (logit / T, computed as (logit - max) / T so a tiny
 *          or denormal T tends to greedy instead of overflowing to inf/NaN);
 *       3. top-k (keep the k largest logits);
 *       4. softmax over the survivors;
 *       5. top-p (keep the smallest most-probable set whose cumulative
 *          probability reaches p; never fewer than one token);
 *       6. min-p (drop tokens with p < min_p * p_max);
 *       7. renormalise and draw with the sampler's own PRNG.
 *   - NaN logits count as -inf, and -inf means probability 0. When every
 *     logit is -inf the result is id 0 (the argmax of an all-equal vector).
 *   - The PRNG (SplitMix64) is seeded from params.seed; any seed, 0 included,
 *     gives the same stream on every machine. It advances exactly once per
 *     non-greedy slm_sampler_sample() call.
 *   - No global state: separate samplers may be used from separate threads.
 *
 * The filter steps are exposed on a plain candidate array so that tests (and
 * other callers) can run them on hand-made distributions.
 */
#ifndef SLM_SAMPLER_H
#define SLM_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm.h"

/* One token still in the running. */
typedef struct {
    int32_t id;
    float logit;
    float p; /* meaningful only after slm_sampler_softmax() */
} slm_candidate;

/* A candidate list. `sorted` means data[0..n) is in descending order
 * (by logit, hence also by probability; ties by ascending id). */
typedef struct {
    slm_candidate *data;
    size_t n;
    bool sorted;
} slm_candidates;

typedef struct slm_sampler slm_sampler;

/* Validates `p` and allocates the scratch buffers for `vocab_size` logits. */
slm_status slm_sampler_new(const slm_sampler_params *p, int vocab_size, slm_sampler **out,
                           slm_error *err);
void slm_sampler_free(slm_sampler *s);

/* Restarts the PRNG stream as if the sampler had been created with `seed`. */
void slm_sampler_reset(slm_sampler *s, uint64_t seed);

/* Runs steps 1–6 (and the renormalisation of 7) on vocab_size `logits` and
 * returns the surviving candidates, probabilities summing to 1. The list is
 * owned by the sampler and valid until its next call. Greedy (temperature 0)
 * and all -inf logits yield one candidate with p = 1. `history` may be NULL
 * when n_history is 0; ids outside the vocabulary are ignored. */
const slm_candidates *slm_sampler_prepare(slm_sampler *s, const float *logits,
                                          const int32_t *history, size_t n_history);

/* slm_sampler_prepare() followed by a draw: the id of the next token. */
int32_t slm_sampler_sample(slm_sampler *s, const float *logits, const int32_t *history,
                           size_t n_history);

/* ------------------------------------------------------- filter steps */

/* Step 1 on a full logits array: every distinct id among the last `last_n`
 * entries of `history` (-1 = all) has its logit divided by `penalty` when
 * positive, multiplied otherwise. `seen` is n_vocab zeroed bytes of scratch,
 * zeroed again on return. */
void slm_sampler_apply_repeat_penalty(float *logits, size_t n_vocab, const int32_t *history,
                                      size_t n_history, int last_n, float penalty,
                                      uint8_t *seen);

/* Step 2: logit = (logit - max logit) / temperature (temperature > 0): the
 * softmax of logit / T, shifted so that no T, however small, overflows (the
 * top logit becomes 0, the others <= 0). With a +inf logit nothing changes. */
void slm_sampler_apply_temperature(slm_candidates *c, float temperature);

/* Step 3: keeps the k highest logits, sorted; k <= 0 or k >= n is a no-op.
 * O(n log k) by a bounded heap, no full sort. */
void slm_sampler_apply_top_k(slm_candidates *c, int k);

/* Step 4: p = softmax(logit) over the candidates. */
void slm_sampler_softmax(slm_candidates *c);

/* Step 5: needs probabilities (not necessarily sorted). Keeps the most
 * probable prefix whose cumulative p reaches top_p; top_p >= 1 is a no-op. */
void slm_sampler_apply_top_p(slm_candidates *c, float top_p);

/* Step 6: needs probabilities; keeps p >= min_p * max p, preserving order.
 * min_p <= 0 is a no-op. */
void slm_sampler_apply_min_p(slm_candidates *c, float min_p);

/* Step 7a: scales p to sum to 1. */
void slm_sampler_normalize(slm_candidates *c);

#endif /* SLM_SAMPLER_H */
