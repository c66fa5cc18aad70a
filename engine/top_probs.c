/*
 * top_probs.c — the k most probable tokens of softmax(logits) (see
 * top_probs.h): a quickselect on the logits (softmax is monotone, so the
 * most probable are the largest logits), then only the k winners are sorted
 * and turned into probabilities.
 */
#include "top_probs.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"

slm_softmax_norm slm_softmax_norm_of(const float *logits, size_t n)
{
    slm_softmax_norm z = {.max = -INFINITY};
    for (size_t i = 0; i < n; i++)
        if (logits[i] > z.max) /* false for NaN */
            z.max = logits[i];
    if (isinf(z.max)) {
        for (size_t i = 0; i < n; i++)
            z.n_at_max += logits[i] == z.max || (isnan(logits[i]) && z.max < 0);
        return z;
    }
    for (size_t i = 0; i < n; i++)
        if (!isnan(logits[i]))
            z.sum += exp((double)logits[i] - z.max); /* -inf -> 0 */
    return z;
}

float slm_softmax_prob(const slm_softmax_norm *z, float logit)
{
    if (isnan(logit))
        logit = -INFINITY;
    if (isinf(z->max))
        return logit == z->max ? (float)(1.0 / (double)z->n_at_max) : 0.0f;
    return (float)(exp((double)logit - z->max) / z->sum);
}

/* The order of the result: larger logit first, then lower id. */
static bool before(const slm_scored_id *a, const slm_scored_id *b)
{
    return a->logit != b->logit ? a->logit > b->logit : a->id < b->id;
}

static int compare(const void *pa, const void *pb)
{
    const slm_scored_id *a = pa, *b = pb;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

static void swap(slm_scored_id *a, slm_scored_id *b)
{
    slm_scored_id t = *a;
    *a = *b;
    *b = t;
}

/* The index among lo, mid, hi whose entry is the median of the three. */
static size_t median3(const slm_scored_id *d, size_t lo, size_t mid, size_t hi)
{
    if (before(&d[lo], &d[mid]))
        return before(&d[mid], &d[hi]) ? mid : before(&d[lo], &d[hi]) ? hi : lo;
    return before(&d[lo], &d[hi]) ? lo : before(&d[mid], &d[hi]) ? hi : mid;
}

/* Rearranges d[0..n) so that d[0..t] are the t+1 best (d[t] the worst of
   them), d[t+1..n) the rest, both unordered. Keys are distinct (ids are), so
   a two-way partition never degrades on equal logits; median-of-three
   pivots make it O(n) expected, and a range that keeps not shrinking is
   sorted instead, bounding it at O(n log n). */
static void select_best(slm_scored_id *d, size_t n, size_t t)
{
    size_t lo = 0, hi = n - 1; /* inclusive; t is inside */
    for (int rounds = 0; lo < hi; rounds++) {
        if (rounds == 64) {
            qsort(d + lo, hi - lo + 1, sizeof *d, compare);
            return;
        }
        swap(&d[median3(d, lo, lo + (hi - lo) / 2, hi)], &d[hi]);
        size_t store = lo;
        for (size_t i = lo; i < hi; i++)
            if (before(&d[i], &d[hi]))
                swap(&d[i], &d[store++]);
        swap(&d[store], &d[hi]);
        if (store == t)
            return;
        if (store > t)
            hi = store - 1;
        else
            lo = store + 1;
    }
}

size_t slm_top_probs_into(const float *logits, size_t n, size_t k, const slm_softmax_norm *z,
                          slm_scored_id *scratch, slm_token_prob *top)
{
    if (k > n)
        k = n;
    if (k == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        scratch[i] = (slm_scored_id){(int32_t)i, isnan(logits[i]) ? -INFINITY : logits[i]};
    if (k < n)
        select_best(scratch, n, k - 1);
    qsort(scratch, k, sizeof *scratch, compare);
    for (size_t i = 0; i < k; i++)
        top[i] = (slm_token_prob){scratch[i].id, slm_softmax_prob(z, scratch[i].logit)};
    return k;
}

slm_status slm_top_probs(const float *logits, size_t n, size_t k, slm_token_prob *top,
                         size_t *n_top, slm_error *err)
{
    *n_top = 0;
    if (n > (size_t)INT32_MAX)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "top probs: %zu logits is more than ids hold",
                        n);
    if (k == 0 || n == 0)
        return SLM_OK;
    slm_scored_id *scratch = malloc(n * sizeof *scratch);
    if (!scratch)
        return slm_fail_nomem(err, "top probs");
    slm_softmax_norm z = slm_softmax_norm_of(logits, n);
    *n_top = slm_top_probs_into(logits, n, k, &z, scratch, top);
    free(scratch);
    return SLM_OK;
}
