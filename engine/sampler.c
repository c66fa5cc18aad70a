/*
 * sampler.c — token sampling (see sampler.h for the pipeline and contract).
 *
 * Cost per call on a vocabulary of n: O(n) to copy and scale the logits,
 * O(n log k) for top-k, and for top-p without top-k a bounded partial sort
 * that grows geometrically until the nucleus fits (a full sort only when the
 * distribution is nearly flat). Nothing is allocated after slm_sampler_new().
 */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct slm_sampler {
    slm_sampler_params params;
    size_t n_vocab;
    float *logits;         /* scratch copy of the caller's logits, penalised */
    slm_candidate *cands;  /* n_vocab slots for the candidate list */
    slm_candidates list;   /* the current view into cands */
    uint8_t *seen;         /* n_vocab zero bytes for the penalty's dedup */
    uint64_t rng;
};

/* Top-p's first guess at the nucleus size; doubled until it fits. */
enum { SLM_TOP_P_FIRST_GUESS = 128 };

/* Cumulative sums are done in double but the inputs are float: this slack
 * keeps 0.5 + 0.2 "reaching" 0.7 rather than taking one more token. */
static const double SLM_TOP_P_SLACK = 1e-6;

slm_sampler_params slm_sampler_params_default(void)
{
    /* llama.cpp's defaults (common_params_sampling), except the seed: llama.cpp
     * picks a random one, slm uses 0 so runs are reproducible by default. */
    slm_sampler_params p = {
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .repeat_last_n = 64,
        .seed = 0,
    };
    return p;
}

/* ----------------------------------------------------------------- PRNG */

/* SplitMix64 (Steele, Lea, Flood 2014): one add and a mixer, passes BigCrush,
 * and has no bad seeds, so seed 0 needs no special case. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* ------------------------------------------------------------- ordering */

/* The total order every selection uses: larger key first, then lower id, so
 * results never depend on the input order or the selection algorithm. */
static bool cand_before(const slm_candidate *a, const slm_candidate *b, bool by_p)
{
    float ka = by_p ? a->p : a->logit;
    float kb = by_p ? b->p : b->logit;
    if (ka != kb)
        return ka > kb;
    return a->id < b->id;
}

static void cand_swap(slm_candidate *a, slm_candidate *b)
{
    slm_candidate t = *a;
    *a = *b;
    *b = t;
}

/* Sift-down in a heap whose root is the candidate that comes *last* in the
 * order, so the root is the one to evict when a better candidate shows up. */
static void heap_sift_down(slm_candidate *h, size_t n, size_t i, bool by_p)
{
    for (;;) {
        size_t last = i, l = 2 * i + 1, r = l + 1;
        if (l < n && cand_before(&h[last], &h[l], by_p))
            last = l;
        if (r < n && cand_before(&h[last], &h[r], by_p))
            last = r;
        if (last == i)
            return;
        cand_swap(&h[i], &h[last]);
        i = last;
    }
}

/* Moves the k best of d[0..n) to d[0..k) in descending order; the rest stay
 * in d[k..n) in no particular order. O(n log k), in place. */
static void partial_sort(slm_candidate *d, size_t n, size_t k, bool by_p)
{
    if (k > n)
        k = n;
    if (k == 0)
        return;
    for (size_t i = k / 2; i-- > 0;)
        heap_sift_down(d, k, i, by_p);
    for (size_t i = k; i < n; i++) {
        if (cand_before(&d[i], &d[0], by_p)) {
            cand_swap(&d[i], &d[0]);
            heap_sift_down(d, k, 0, by_p);
        }
    }
    /* Heap-sort the kept k: each step parks the current worst at the end. */
    for (size_t end = k - 1; end > 0; end--) {
        cand_swap(&d[0], &d[end]);
        heap_sift_down(d, end, 0, by_p);
    }
}

/* --------------------------------------------------------- filter steps */

void slm_sampler_apply_repeat_penalty(float *logits, size_t n_vocab, const int32_t *history,
                                      size_t n_history, int last_n, float penalty,
                                      uint8_t *seen)
{
    if (penalty == 1.0f || last_n == 0 || n_history == 0)
        return;
    size_t window = last_n < 0 || (size_t)last_n > n_history ? n_history : (size_t)last_n;
    const int32_t *h = history + (n_history - window);
    /* An id repeated in the window is penalised once, as in HF (a scatter of
     * the same value) and llama.cpp (a count map). */
    for (size_t i = 0; i < window; i++) {
        int32_t id = h[i];
        if (id < 0 || (size_t)id >= n_vocab || seen[id])
            continue;
        seen[id] = 1;
        float x = logits[id];
        logits[id] = x > 0.0f ? x / penalty : x * penalty;
    }
    for (size_t i = 0; i < window; i++) {
        if (h[i] >= 0 && (size_t)h[i] < n_vocab)
            seen[h[i]] = 0;
    }
}

void slm_sampler_apply_temperature(slm_candidates *c, float temperature)
{
    if (!(temperature > 0.0f) || temperature == 1.0f || c->n == 0)
        return;
    float max = -INFINITY;
    for (size_t i = 0; i < c->n; i++)
        max = c->data[i].logit > max ? c->data[i].logit : max;
    /* All -inf, or some +inf: scaling by a positive factor changes nothing
     * the softmax sees (it keeps only the extreme tokens), while a finite
     * logit divided by a tiny T could overflow into one more +inf. */
    if (!isfinite(max))
        return;
    /* Shifted by the max first, every logit is <= 0 before the division, so
     * a tiny (even denormal) T can only push the others to -inf, never a
     * logit to +inf or NaN: the limit T -> 0 is greedy, as it should be. */
    for (size_t i = 0; i < c->n; i++)
        c->data[i].logit = (c->data[i].logit - max) / temperature;
}

void slm_sampler_apply_top_k(slm_candidates *c, int k)
{
    if (k <= 0 || (size_t)k >= c->n)
        return;
    partial_sort(c->data, c->n, (size_t)k, false);
    c->n = (size_t)k;
    c->sorted = true;
}

void slm_sampler_softmax(slm_candidates *c)
{
    if (c->n == 0)
        return;
    float max = -INFINITY;
    for (size_t i = 0; i < c->n; i++)
        max = c->data[i].logit > max ? c->data[i].logit : max;
    if (isinf(max)) {
        /* All -inf, or some +inf: the limit puts equal mass on the tokens
         * sharing the extreme value (exp(x - max) would be NaN there). */
        for (size_t i = 0; i < c->n; i++)
            c->data[i].p = c->data[i].logit == max ? 1.0f : 0.0f;
        slm_sampler_normalize(c);
        return;
    }
    double sum = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        c->data[i].p = expf(c->data[i].logit - max); /* -inf -> 0 */
        sum += c->data[i].p;
    }
    /* sum >= 1: the max term is exp(0). */
    for (size_t i = 0; i < c->n; i++)
        c->data[i].p = (float)(c->data[i].p / sum);
}

/* Length of the shortest prefix of d[0..n) (sorted) whose mass reaches
 * top_p, or 0 when even all n do not. */
static size_t nucleus_length(const slm_candidate *d, size_t n, float top_p)
{
    double cum = 0.0;
    for (size_t i = 0; i < n; i++) {
        cum += d[i].p;
        if (cum >= (double)top_p - SLM_TOP_P_SLACK)
            return i + 1;
    }
    return 0;
}

void slm_sampler_apply_top_p(slm_candidates *c, float top_p)
{
    if (top_p >= 1.0f || c->n <= 1)
        return;
    if (c->sorted) {
        size_t keep = nucleus_length(c->data, c->n, top_p);
        c->n = keep ? keep : c->n;
        return;
    }
    /* Sort only a prefix large enough to hold the nucleus: try a guess,
     * double it while the mass falls short; the last try is a full sort. */
    size_t k = SLM_TOP_P_FIRST_GUESS;
    for (;;) {
        if (k > c->n)
            k = c->n;
        partial_sort(c->data, c->n, k, true);
        size_t keep = nucleus_length(c->data, k, top_p);
        if (keep || k == c->n) {
            c->n = keep ? keep : c->n; /* rounding short of p: keep everything */
            c->sorted = true;
            return;
        }
        k *= 2;
    }
}

void slm_sampler_apply_min_p(slm_candidates *c, float min_p)
{
    if (!(min_p > 0.0f) || c->n <= 1)
        return;
    float p_max = 0.0f;
    for (size_t i = 0; i < c->n; i++)
        p_max = c->data[i].p > p_max ? c->data[i].p : p_max;
    float threshold = min_p * p_max;
    size_t kept = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->data[i].p >= threshold)
            c->data[kept++] = c->data[i];
    }
    c->n = kept; /* >= 1: p_max itself passes since min_p <= 1 */
}

void slm_sampler_normalize(slm_candidates *c)
{
    double sum = 0.0;
    for (size_t i = 0; i < c->n; i++)
        sum += c->data[i].p;
    if (!(sum > 0.0)) {
        /* Nothing to scale (all zero): fall back to uniform, never NaN. */
        for (size_t i = 0; i < c->n; i++)
            c->data[i].p = 1.0f / (float)c->n;
        return;
    }
    for (size_t i = 0; i < c->n; i++)
        c->data[i].p = (float)(c->data[i].p / sum);
}

/* --------------------------------------------------------------- sampler */

static slm_status check_params(const slm_sampler_params *p, int vocab_size, slm_error *err)
{
    if (vocab_size <= 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "sampler: vocab_size must be > 0 (got %d)",
                        vocab_size);
    if (!(p->temperature >= 0.0f) || isinf(p->temperature))
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "sampler: temperature must be finite and >= 0 (got %g)",
                        (double)p->temperature);
    if (p->top_k < 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "sampler: top_k must be >= 0 (got %d)",
                        p->top_k);
    if (!(p->top_p >= 0.0f && p->top_p <= 1.0f))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "sampler: top_p must be in [0, 1] (got %g)",
                        (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "sampler: min_p must be in [0, 1] (got %g)",
                        (double)p->min_p);
    if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty))
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "sampler: repeat_penalty must be finite and > 0 (got %g)",
                        (double)p->repeat_penalty);
    if (p->repeat_last_n < -1)
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "sampler: repeat_last_n must be >= -1 (got %d)", p->repeat_last_n);
    return SLM_OK;
}

slm_status slm_sampler_new(const slm_sampler_params *p, int vocab_size, slm_sampler **out,
                           slm_error *err)
{
    *out = NULL;
    if (!p)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "sampler: params must not be NULL");
    SLM_TRY(check_params(p, vocab_size, err));
    slm_sampler *s = calloc(1, sizeof *s);
    if (!s)
        return slm_fail_nomem(err, "sampler");
    s->params = *p;
    s->n_vocab = (size_t)vocab_size;
    s->logits = malloc(s->n_vocab * sizeof *s->logits);
    s->cands = malloc(s->n_vocab * sizeof *s->cands);
    s->seen = calloc(s->n_vocab, 1);
    if (!s->logits || !s->cands || !s->seen) {
        slm_sampler_free(s);
        return slm_fail_nomem(err, "sampler buffers");
    }
    s->rng = p->seed;
    *out = s;
    return SLM_OK;
}

void slm_sampler_free(slm_sampler *s)
{
    if (!s)
        return;
    free(s->logits);
    free(s->cands);
    free(s->seen);
    free(s);
}

void slm_sampler_reset(slm_sampler *s, uint64_t seed)
{
    s->rng = seed;
}

/* Copies the logits (NaN -> -inf) and applies the repetition penalty. */
static void load_logits(slm_sampler *s, const float *logits, const int32_t *history,
                        size_t n_history)
{
    for (size_t i = 0; i < s->n_vocab; i++)
        s->logits[i] = isnan(logits[i]) ? -INFINITY : logits[i];
    if (history)
        slm_sampler_apply_repeat_penalty(s->logits, s->n_vocab, history, n_history,
                                         s->params.repeat_last_n, s->params.repeat_penalty,
                                         s->seen);
}

/* First index of the largest value (0 when all are -inf). */
static size_t argmax(const float *x, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        if (x[i] > x[best])
            best = i;
    }
    return best;
}

static const slm_candidates *single_candidate(slm_sampler *s, size_t id)
{
    s->cands[0] = (slm_candidate){.id = (int32_t)id, .logit = s->logits[id], .p = 1.0f};
    s->list = (slm_candidates){.data = s->cands, .n = 1, .sorted = true};
    return &s->list;
}

const slm_candidates *slm_sampler_prepare(slm_sampler *s, const float *logits,
                                          const int32_t *history, size_t n_history)
{
    const slm_sampler_params *p = &s->params;
    load_logits(s, logits, history, n_history);
    size_t best = argmax(s->logits, s->n_vocab);
    if (p->temperature == 0.0f || s->logits[best] == -INFINITY)
        return single_candidate(s, best);

    for (size_t i = 0; i < s->n_vocab; i++)
        s->cands[i] = (slm_candidate){.id = (int32_t)i, .logit = s->logits[i], .p = 0.0f};
    s->list = (slm_candidates){.data = s->cands, .n = s->n_vocab, .sorted = false};
    slm_candidates *c = &s->list;
    slm_sampler_apply_temperature(c, p->temperature);
    slm_sampler_apply_top_k(c, p->top_k);
    slm_sampler_softmax(c);
    slm_sampler_apply_top_p(c, p->top_p);
    slm_sampler_apply_min_p(c, p->min_p);
    slm_sampler_normalize(c);
    return c;
}

/* Inverse-CDF draw; a u beyond the rounded total lands on the last token
 * that has any mass. */
static int32_t draw(const slm_candidates *c, uint64_t *rng)
{
    double u = rng_uniform(rng);
    double cum = 0.0;
    size_t last_live = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->data[i].p <= 0.0f)
            continue;
        cum += c->data[i].p;
        last_live = i;
        if (u < cum)
            return c->data[i].id;
    }
    return c->data[last_live].id;
}

int32_t slm_sampler_sample(slm_sampler *s, const float *logits, const int32_t *history,
                           size_t n_history)
{
    const slm_candidates *c = slm_sampler_prepare(s, logits, history, n_history);
    if (s->params.temperature == 0.0f)
        return c->data[0].id;
    return draw(c, &s->rng);
}
