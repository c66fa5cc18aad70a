/*
 * test_sampler.c — the token sampler: greedy, repetition penalty, each filter
 * on hand-made distributions, the pipeline order, seeding and the frequency
 * of draws. Everything is seeded, so every run checks the same numbers.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sampler.h"

/* ------------------------------------------------------------- helpers */

/* Parameters with every filter off: plain softmax sampling at temperature 1. */
static slm_sampler_params plain_params(uint64_t seed)
{
    slm_sampler_params p = {
        .temperature = 1.0f,
        .top_k = 0,
        .top_p = 1.0f,
        .min_p = 0.0f,
        .repeat_penalty = 1.0f,
        .repeat_last_n = -1,
        .seed = seed,
    };
    return p;
}

static slm_sampler *new_sampler(const slm_sampler_params *p, int vocab)
{
    slm_sampler *s = NULL;
    slm_error err = {0};
    slm_status st = slm_sampler_new(p, vocab, &s, &err);
    if (st != SLM_OK)
        fail_msg("slm_sampler_new: %s", err.msg);
    assert_non_null(s);
    return s;
}

/* The test's own generator for logits, independent of the sampler's. */
static float test_rand_logit(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (float)((*state >> 40) % 20000) / 1000.0f - 10.0f; /* [-10, 10) */
}

static void fill_random(float *x, size_t n, uint64_t seed)
{
    uint64_t st = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++)
        x[i] = test_rand_logit(&st);
}

/* Candidates with the given probabilities, stored in a shuffled order so the
 * filters cannot rely on the input already being sorted. */
static slm_candidates hand_made(slm_candidate *buf, const float *probs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t id = (i * 3 + 1) % n; /* a permutation when gcd(3, n) == 1 */
        buf[i] = (slm_candidate){.id = (int32_t)id, .logit = logf(probs[id]), .p = probs[id]};
    }
    return (slm_candidates){.data = buf, .n = n, .sorted = false};
}

/* True when the candidate ids are exactly the set {want[0..n_want)}. */
static int same_id_set(const slm_candidates *c, const int32_t *want, size_t n_want)
{
    if (c->n != n_want)
        return 0;
    for (size_t i = 0; i < n_want; i++) {
        int found = 0;
        for (size_t j = 0; j < c->n; j++)
            found |= c->data[j].id == want[i];
        if (!found)
            return 0;
    }
    return 1;
}

static const slm_candidate *find_id(const slm_candidates *c, int32_t id)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->data[i].id == id)
            return &c->data[i];
    }
    return NULL;
}

static int cmp_by_p_desc(const void *a, const void *b)
{
    const slm_candidate *x = a, *y = b;
    if (x->p != y->p)
        return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_by_logit_desc(const void *a, const void *b)
{
    const slm_candidate *x = a, *y = b;
    if (x->logit != y->logit)
        return x->logit > y->logit ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* --------------------------------------------------- params, construction */

static void test_defaults_are_llama_cpp(void **state)
{
    (void)state;
    slm_sampler_params p = slm_sampler_params_default();
    assert_float_equal(p.temperature, 0.8f, 0.0f);
    assert_int_equal(p.top_k, 40);
    assert_float_equal(p.top_p, 0.95f, 0.0f);
    assert_float_equal(p.min_p, 0.05f, 0.0f);
    assert_float_equal(p.repeat_penalty, 1.0f, 0.0f);
    assert_int_equal(p.repeat_last_n, 64);
    assert_int_equal(p.seed, 0);
}

static void expect_invalid(const slm_sampler_params *p, int vocab)
{
    slm_sampler *s = (slm_sampler *)&s; /* must be overwritten with NULL */
    slm_error err = {0};
    assert_int_equal(slm_sampler_new(p, vocab, &s, &err), SLM_ERR_INVALID_ARG);
    assert_int_equal(err.status, SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "sampler"));
    assert_null(s);
}

static void test_new_rejects_bad_params(void **state)
{
    (void)state;
    slm_sampler_params ok = slm_sampler_params_default();
    slm_sampler_params p;
    expect_invalid(&ok, 0);
    p = ok, p.temperature = -0.1f, expect_invalid(&p, 10);
    p = ok, p.temperature = NAN, expect_invalid(&p, 10);
    p = ok, p.top_k = -1, expect_invalid(&p, 10);
    p = ok, p.top_p = 1.5f, expect_invalid(&p, 10);
    p = ok, p.min_p = -0.5f, expect_invalid(&p, 10);
    p = ok, p.repeat_penalty = 0.0f, expect_invalid(&p, 10);
    p = ok, p.repeat_penalty = INFINITY, expect_invalid(&p, 10);
    p = ok, p.repeat_last_n = -2, expect_invalid(&p, 10);

    slm_sampler *s = new_sampler(&ok, 10);
    slm_sampler_free(s);
    slm_sampler_free(NULL);
}

/* ----------------------------------------------------------------- greedy */

static void test_greedy_is_argmax_ties_lowest(void **state)
{
    (void)state;
    slm_sampler_params p = slm_sampler_params_default();
    p.temperature = 0.0f;
    /* The other filters must not matter for greedy. */
    p.top_k = 3, p.top_p = 0.01f, p.min_p = 1.0f;
    slm_sampler *s = new_sampler(&p, 6);
    const float a[6] = {1.0f, 3.0f, -2.0f, 3.0f, 2.9f, 0.0f};
    assert_int_equal(slm_sampler_sample(s, a, NULL, 0), 1);
    const float b[6] = {-5.0f, -5.0f, -5.0f, -5.0f, -5.0f, -4.0f};
    assert_int_equal(slm_sampler_sample(s, b, NULL, 0), 5);
    const float c[6] = {NAN, 0.5f, -INFINITY, 0.5f, NAN, 0.25f};
    assert_int_equal(slm_sampler_sample(s, c, NULL, 0), 1);

    const slm_candidates *cand = slm_sampler_prepare(s, a, NULL, 0);
    assert_int_equal(cand->n, 1);
    assert_int_equal(cand->data[0].id, 1);
    assert_float_equal(cand->data[0].p, 1.0f, 0.0f);
    slm_sampler_free(s);
}

static void test_greedy_with_repeat_penalty(void **state)
{
    (void)state;
    slm_sampler_params p = plain_params(0);
    p.temperature = 0.0f;
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 2;
    slm_sampler *s = new_sampler(&p, 4);

    /* Positive logit 2.0 halves to 1.0, below token 1's 1.5. */
    const float pos[4] = {2.0f, 1.5f, -1.0f, 0.5f};
    const int32_t h0[] = {0};
    assert_int_equal(slm_sampler_sample(s, pos, NULL, 0), 0);
    assert_int_equal(slm_sampler_sample(s, pos, h0, 1), 1);
    /* Outside the last 2 entries, id 0 goes unpunished. */
    const int32_t h_old[] = {0, 3, 3};
    assert_int_equal(slm_sampler_sample(s, pos, h_old, 3), 0);

    /* Negative logit -0.2 doubles to -0.4, below token 1's -0.3 (dividing
     * would have made it *more* likely, the bug HF's rule avoids). */
    const float neg[4] = {-0.2f, -0.3f, -1.0f, -0.9f};
    assert_int_equal(slm_sampler_sample(s, neg, NULL, 0), 0);
    assert_int_equal(slm_sampler_sample(s, neg, h0, 1), 1);

    /* The caller's logits are left untouched. */
    assert_float_equal(pos[0], 2.0f, 0.0f);
    assert_float_equal(neg[0], -0.2f, 0.0f);
    slm_sampler_free(s);
}

/* ----------------------------------------------------- repetition penalty */

static void test_repeat_penalty_hf_semantics(void **state)
{
    (void)state;
    uint8_t seen[5] = {0};
    const int32_t hist[] = {0, 1, 2, 0, -1, 99, 0};

    float x[5] = {2.0f, -2.0f, 0.0f, 1.0f, 4.0f};
    slm_sampler_apply_repeat_penalty(x, 5, hist, 7, -1, 2.0f, seen);
    /* Once per distinct id: 0 appears three times yet is halved once. */
    const float want_all[5] = {1.0f, -4.0f, 0.0f, 1.0f, 4.0f};
    for (int i = 0; i < 5; i++)
        assert_float_equal(x[i], want_all[i], 0.0f);
    for (int i = 0; i < 5; i++)
        assert_int_equal(seen[i], 0);

    /* Window of the last 4 entries {0, -1, 99, 0}: only id 0. */
    float y[5] = {2.0f, -2.0f, 0.0f, 1.0f, 4.0f};
    slm_sampler_apply_repeat_penalty(y, 5, hist, 7, 4, 2.0f, seen);
    const float want_window[5] = {1.0f, -2.0f, 0.0f, 1.0f, 4.0f};
    for (int i = 0; i < 5; i++)
        assert_float_equal(y[i], want_window[i], 0.0f);

    /* A penalty below 1 rewards instead: positive multiplied up, negative shrunk. */
    float z[5] = {2.0f, -2.0f, 0.0f, 1.0f, 4.0f};
    slm_sampler_apply_repeat_penalty(z, 5, hist, 7, -1, 0.5f, seen);
    assert_float_equal(z[0], 4.0f, 0.0f);
    assert_float_equal(z[1], -1.0f, 0.0f);

    /* repeat_last_n 0 turns it off. */
    float w[5] = {2.0f, -2.0f, 0.0f, 1.0f, 4.0f};
    slm_sampler_apply_repeat_penalty(w, 5, hist, 7, 0, 2.0f, seen);
    assert_float_equal(w[0], 2.0f, 0.0f);
}

static void test_sampler_applies_penalty_before_filters(void **state)
{
    (void)state;
    slm_sampler_params p = plain_params(7);
    p.repeat_penalty = 1.5f;
    slm_sampler *s = new_sampler(&p, 4);
    const float logits[4] = {3.0f, -3.0f, 1.0f, 0.0f};
    const int32_t hist[] = {1, 0, 1};
    const slm_candidates *c = slm_sampler_prepare(s, logits, hist, 3);
    assert_int_equal(c->n, 4);
    assert_float_equal(find_id(c, 0)->logit, 2.0f, 1e-6f);
    assert_float_equal(find_id(c, 1)->logit, -4.5f, 1e-6f);
    assert_float_equal(find_id(c, 2)->logit, 1.0f, 0.0f);
    /* The probabilities are the softmax of the penalised logits. */
    double z = exp(2.0) + exp(-4.5) + exp(1.0) + exp(0.0);
    assert_float_equal(find_id(c, 0)->p, (float)(exp(2.0) / z), 1e-6f);
    slm_sampler_free(s);
}

/* ---------------------------------------------------------------- filters */

static const float five_probs[5] = {0.5f, 0.2f, 0.15f, 0.1f, 0.05f};

static void check_top_p(float top_p, const int32_t *want, size_t n_want)
{
    slm_candidate buf[5];
    slm_candidates c = hand_made(buf, five_probs, 5);
    slm_sampler_apply_top_p(&c, top_p);
    if (!same_id_set(&c, want, n_want))
        fail_msg("top_p %g kept %zu ids, expected %zu", (double)top_p, c.n, n_want);
    /* Kept in descending order of probability. */
    for (size_t i = 0; i < c.n; i++)
        assert_int_equal(c.data[i].id, (int32_t)i);
}

static void test_top_p_hand_made(void **state)
{
    (void)state;
    const int32_t ids[5] = {0, 1, 2, 3, 4};
    check_top_p(0.0f, ids, 1);
    check_top_p(0.5f, ids, 1);
    check_top_p(0.5001f, ids, 2);
    check_top_p(0.7f, ids, 2);
    check_top_p(0.71f, ids, 3);
    check_top_p(0.85f, ids, 3);
    check_top_p(0.9f, ids, 4);
    check_top_p(0.96f, ids, 5);
    /* top_p 1 is off: nothing dropped, nothing reordered. */
    slm_candidate buf[5];
    slm_candidates c = hand_made(buf, five_probs, 5);
    slm_sampler_apply_top_p(&c, 1.0f);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.data[0].id, 1);
}

static void check_min_p(float min_p, const int32_t *want, size_t n_want)
{
    slm_candidate buf[5];
    slm_candidates c = hand_made(buf, five_probs, 5);
    slm_sampler_apply_min_p(&c, min_p);
    if (!same_id_set(&c, want, n_want))
        fail_msg("min_p %g kept %zu ids, expected %zu", (double)min_p, c.n, n_want);
}

static void test_min_p_hand_made(void **state)
{
    (void)state;
    const int32_t ids[5] = {0, 1, 2, 3, 4};
    const int32_t ids_012[3] = {0, 1, 2};
    check_min_p(0.0f, ids, 5);
    check_min_p(0.1f, ids, 5);   /* threshold 0.05: 0.05 itself stays */
    check_min_p(0.25f, ids_012, 3); /* threshold 0.125 */
    check_min_p(0.4f, ids, 2);   /* threshold 0.2 */
    check_min_p(0.41f, ids, 1);
    check_min_p(1.0f, ids, 1);
}

static void test_top_k_hand_made(void **state)
{
    (void)state;
    slm_candidate buf[6];
    const float logits[6] = {0.1f, 5.0f, 3.0f, 5.0f, -1.0f, 2.0f};
    for (int i = 0; i < 6; i++)
        buf[i] = (slm_candidate){.id = i, .logit = logits[i]};
    slm_candidates c = {.data = buf, .n = 6, .sorted = false};
    slm_sampler_apply_top_k(&c, 0);
    assert_int_equal(c.n, 6);
    slm_sampler_apply_top_k(&c, 6);
    assert_int_equal(c.n, 6);
    slm_sampler_apply_top_k(&c, 3);
    assert_int_equal(c.n, 3);
    assert_true(c.sorted);
    /* Descending, the tie between ids 1 and 3 broken towards the lower id. */
    assert_int_equal(c.data[0].id, 1);
    assert_int_equal(c.data[1].id, 3);
    assert_int_equal(c.data[2].id, 2);
    slm_sampler_apply_top_k(&c, 1);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.data[0].id, 1);
}

/* The heap selection against qsort on a vocabulary-sized array. */
static void test_top_k_matches_full_sort(void **state)
{
    (void)state;
    enum { N = 50000 };
    const int ks[] = {1, 2, 40, 1000, N - 1};
    float *x = malloc(N * sizeof *x);
    slm_candidate *a = malloc(N * sizeof *a);
    slm_candidate *ref = malloc(N * sizeof *ref);
    assert_non_null(x), assert_non_null(a), assert_non_null(ref);
    fill_random(x, N, 3); /* 20000 distinct values: plenty of ties */
    for (size_t i = 0; i < N; i++)
        ref[i] = (slm_candidate){.id = (int32_t)i, .logit = x[i]};
    qsort(ref, N, sizeof *ref, cmp_by_logit_desc);
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        for (size_t i = 0; i < N; i++)
            a[i] = (slm_candidate){.id = (int32_t)i, .logit = x[i]};
        slm_candidates c = {.data = a, .n = N, .sorted = false};
        slm_sampler_apply_top_k(&c, ks[t]);
        assert_int_equal(c.n, ks[t]);
        for (int i = 0; i < ks[t]; i++)
            assert_int_equal(c.data[i].id, ref[i].id);
    }
    free(x), free(a), free(ref);
}

/* Top-p's growing partial sort against a full sort, on distributions whose
 * nucleus is small, larger than the first guess, and nearly everything. */
static void test_top_p_matches_full_sort(void **state)
{
    (void)state;
    enum { N = 32000 };
    const float scales[] = {3.0f, 0.5f, 0.05f};
    float *x = malloc(N * sizeof *x);
    slm_candidate *a = malloc(N * sizeof *a);
    slm_candidate *ref = malloc(N * sizeof *ref);
    assert_non_null(x), assert_non_null(a), assert_non_null(ref);
    fill_random(x, N, 11);
    for (size_t t = 0; t < sizeof scales / sizeof scales[0]; t++) {
        for (size_t i = 0; i < N; i++)
            a[i] = (slm_candidate){.id = (int32_t)i, .logit = x[i] * scales[t]};
        slm_candidates c = {.data = a, .n = N, .sorted = false};
        slm_sampler_softmax(&c);
        memcpy(ref, a, N * sizeof *a);
        qsort(ref, N, sizeof *ref, cmp_by_p_desc);
        size_t want = 0;
        double cum = 0.0;
        while (want < N && cum < (double)0.9f - 1e-6)
            cum += ref[want++].p;
        slm_sampler_apply_top_p(&c, 0.9f);
        assert_int_equal(c.n, want);
        for (size_t i = 0; i < want; i++)
            assert_int_equal(c.data[i].id, ref[i].id);
        if (t == 1)
            assert_true(want > 128); /* exercises the growth path */
    }
    free(x), free(a), free(ref);
}

static void test_softmax_and_infinities(void **state)
{
    (void)state;
    slm_candidate buf[4] = {
        {.id = 0, .logit = 0.0f},
        {.id = 1, .logit = logf(3.0f)},
        {.id = 2, .logit = -INFINITY},
        {.id = 3, .logit = 0.0f},
    };
    slm_candidates c = {.data = buf, .n = 4};
    slm_sampler_softmax(&c);
    assert_float_equal(buf[0].p, 0.2f, 1e-6f);
    assert_float_equal(buf[1].p, 0.6f, 1e-6f);
    assert_float_equal(buf[2].p, 0.0f, 0.0f);
    assert_float_equal(buf[3].p, 0.2f, 1e-6f);

    /* +inf takes all the mass, shared between the tokens that have it. */
    buf[0].logit = INFINITY, buf[3].logit = INFINITY;
    slm_sampler_softmax(&c);
    assert_float_equal(buf[0].p, 0.5f, 0.0f);
    assert_float_equal(buf[1].p, 0.0f, 0.0f);
    assert_float_equal(buf[3].p, 0.5f, 0.0f);
}

static void test_non_finite_logits_through_sampler(void **state)
{
    (void)state;
    slm_sampler_params p = slm_sampler_params_default();
    slm_sampler *s = new_sampler(&p, 5);
    const float all_neg_inf[5] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    const float all_nan[5] = {NAN, NAN, NAN, NAN, NAN};
    const float one_finite[5] = {NAN, -INFINITY, NAN, -3.0f, -INFINITY};
    const float one_pos_inf[5] = {1.0f, 2.0f, INFINITY, NAN, 100.0f};
    for (int i = 0; i < 50; i++) {
        assert_int_equal(slm_sampler_sample(s, all_neg_inf, NULL, 0), 0);
        assert_int_equal(slm_sampler_sample(s, all_nan, NULL, 0), 0);
        assert_int_equal(slm_sampler_sample(s, one_finite, NULL, 0), 3);
        assert_int_equal(slm_sampler_sample(s, one_pos_inf, NULL, 0), 2);
    }
    slm_sampler_free(s);

    /* Same under greedy, and out-of-range history ids are ignored. */
    p.temperature = 0.0f;
    p.repeat_penalty = 1.3f;
    s = new_sampler(&p, 5);
    const int32_t hist[] = {-7, 5, 1 << 30, 2};
    assert_int_equal(slm_sampler_sample(s, all_neg_inf, hist, 4), 0);
    assert_int_equal(slm_sampler_sample(s, one_pos_inf, hist, 4), 2);
    slm_sampler_free(s);
}

/* --------------------------------------------------------------- pipeline */

static void test_top_k_1_equals_greedy(void **state)
{
    (void)state;
    enum { V = 3000 };
    slm_sampler_params gp = plain_params(0);
    gp.temperature = 0.0f;
    slm_sampler_params kp = slm_sampler_params_default();
    kp.top_k = 1;
    kp.seed = 99;
    slm_sampler *greedy = new_sampler(&gp, V);
    slm_sampler *top1 = new_sampler(&kp, V);
    float x[V];
    for (uint64_t t = 0; t < 200; t++) {
        fill_random(x, V, t + 100);
        assert_int_equal(slm_sampler_sample(top1, x, NULL, 0),
                         slm_sampler_sample(greedy, x, NULL, 0));
    }
    slm_sampler_free(greedy);
    slm_sampler_free(top1);
}

/* top-k, then softmax over the survivors, then top-p, then min-p. */
static void test_pipeline_order(void **state)
{
    (void)state;
    const float logits[4] = {logf(0.4f), logf(0.3f), logf(0.2f), logf(0.1f)};
    slm_sampler_params p = plain_params(1);
    p.top_k = 3;
    p.top_p = 0.75f;
    slm_sampler *s = new_sampler(&p, 4);
    /* Over the top-3 renormalised {4/9, 3/9, 2/9}, two tokens reach 0.75;
     * over the full vocabulary 0.4 + 0.3 would not. */
    const slm_candidates *c = slm_sampler_prepare(s, logits, NULL, 0);
    assert_int_equal(c->n, 2);
    assert_int_equal(c->data[0].id, 0);
    assert_int_equal(c->data[1].id, 1);
    assert_float_equal(c->data[0].p, 4.0f / 7.0f, 1e-6f);
    assert_float_equal(c->data[1].p, 3.0f / 7.0f, 1e-6f);
    slm_sampler_free(s);

    /* min-p after top-p: 3/7 < 0.8 * 4/7, so one token is left. */
    p.min_p = 0.8f;
    s = new_sampler(&p, 4);
    c = slm_sampler_prepare(s, logits, NULL, 0);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->data[0].id, 0);
    assert_float_equal(c->data[0].p, 1.0f, 0.0f);
    slm_sampler_free(s);

    /* Temperature comes before top-p: at T = 0.5 the top token alone
     * (0.25 / 0.38 = 0.66) reaches 0.6; at T = 1 it (0.5) does not. */
    const float three[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
    p = plain_params(1);
    p.top_p = 0.6f;
    s = new_sampler(&p, 3);
    assert_int_equal(slm_sampler_prepare(s, three, NULL, 0)->n, 2);
    slm_sampler_free(s);
    p.temperature = 0.5f;
    s = new_sampler(&p, 3);
    assert_int_equal(slm_sampler_prepare(s, three, NULL, 0)->n, 1);
    slm_sampler_free(s);
}

static void test_temperature_concentrates_mass(void **state)
{
    (void)state;
    const float logits[4] = {2.0f, 1.0f, 0.0f, -1.0f};
    const float temps[4] = {2.0f, 1.0f, 0.5f, 0.25f};
    float prev_top = 0.0f, prev_low = 1.0f;
    for (int t = 0; t < 4; t++) {
        slm_sampler_params p = plain_params(0);
        p.temperature = temps[t];
        slm_sampler *s = new_sampler(&p, 4);
        const slm_candidates *c = slm_sampler_prepare(s, logits, NULL, 0);
        assert_int_equal(c->n, 4);
        double z = 0.0, sum = 0.0;
        for (int i = 0; i < 4; i++)
            z += exp(logits[i] / temps[t]);
        for (int i = 0; i < 4; i++) {
            float want = (float)(exp(logits[i] / temps[t]) / z);
            assert_float_equal(find_id(c, i)->p, want, 1e-6f);
            sum += find_id(c, i)->p;
        }
        assert_float_equal(sum, 1.0f, 1e-6f);
        float top = find_id(c, 0)->p, low = find_id(c, 3)->p;
        assert_true(top > prev_top);
        assert_true(low < prev_low);
        prev_top = top, prev_low = low;
        slm_sampler_free(s);
    }
}

/* A tiny or denormal temperature is the limit T -> 0: greedy. Dividing the
 * raw logits by it overflowed them to +inf (every positive logit then tied,
 * a random one drawn) or to NaN. With all filters off the draw is then the
 * argmax every time; ties at the top still share the mass. */
static void test_tiny_temperature_is_greedy(void **state)
{
    (void)state;
    enum { V = 64 };
    const float temps[] = {1e-45f, 1e-40f, 1e-30f, 1e-12f};
    float x[V];
    for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
        slm_sampler_params p = plain_params(7 + t);
        p.temperature = temps[t];
        slm_sampler *s = new_sampler(&p, V);
        for (uint64_t r = 0; r < 50; r++) {
            fill_random(x, V, r + 1);
            x[(r * 7) % V] = 3e38f; /* a logit near FLT_MAX: x / T would be inf */
            size_t best = (r * 7) % V;
            const slm_candidates *c = slm_sampler_prepare(s, x, NULL, 0);
            const slm_candidate *top = find_id(c, (int32_t)best);
            assert_non_null(top);
            if (top->p != 1.0f)
                fail_msg("T = %g: the argmax has p = %g, not 1", (double)temps[t],
                         (double)top->p);
            for (size_t i = 0; i < c->n; i++)
                assert_false(isnan(c->data[i].p));
            assert_int_equal(slm_sampler_sample(s, x, NULL, 0), (int32_t)best);
        }
        slm_sampler_free(s);
    }
    /* two tied maxima keep half the mass each at any temperature */
    slm_sampler_params p = plain_params(3);
    p.temperature = 1e-40f;
    slm_sampler *s = new_sampler(&p, 4);
    const float tie[4] = {5.0f, 9.0f, -2.0f, 9.0f};
    const slm_candidates *c = slm_sampler_prepare(s, tie, NULL, 0);
    assert_float_equal(find_id(c, 1)->p, 0.5f, 1e-6f);
    assert_float_equal(find_id(c, 3)->p, 0.5f, 1e-6f);
    slm_sampler_free(s);
}

/* ------------------------------------------------------------ seeding, RNG */

static void draw_sequence(uint64_t seed, int32_t *out, size_t n)
{
    enum { V = 1000 };
    float x[V];
    fill_random(x, V, 5);
    for (size_t i = 0; i < V; i++)
        x[i] *= 0.3f; /* a flat-ish distribution: many live candidates */
    slm_sampler_params p = plain_params(seed);
    slm_sampler *s = new_sampler(&p, V);
    for (size_t i = 0; i < n; i++)
        out[i] = slm_sampler_sample(s, x, NULL, 0);
    slm_sampler_free(s);
}

static void test_same_seed_same_sequence(void **state)
{
    (void)state;
    enum { N = 1000 };
    int32_t a[N], b[N], c[N], z[N];
    draw_sequence(42, a, N);
    draw_sequence(42, b, N);
    draw_sequence(43, c, N);
    draw_sequence(0, z, N);
    assert_memory_equal(a, b, sizeof a);
    size_t differ = 0, distinct_z = 0;
    for (size_t i = 0; i < N; i++) {
        differ += a[i] != c[i];
        distinct_z += i > 0 && z[i] != z[i - 1];
    }
    assert_true(differ > N / 2);
    assert_true(distinct_z > N / 2); /* seed 0 is a working seed */
}

static void test_reset_restarts_stream(void **state)
{
    (void)state;
    enum { V = 64, N = 100 };
    float x[V] = {0};
    slm_sampler_params p = plain_params(1234);
    slm_sampler *s = new_sampler(&p, V);
    int32_t first[N], again[N];
    for (int i = 0; i < N; i++)
        first[i] = slm_sampler_sample(s, x, NULL, 0);
    slm_sampler_reset(s, 1234);
    for (int i = 0; i < N; i++)
        again[i] = slm_sampler_sample(s, x, NULL, 0);
    assert_memory_equal(first, again, sizeof first);
    slm_sampler_free(s);
}

/* Pins the generator: SplitMix64 from seed 0 yields u = 0.8833, 0.4315,
 * 0.0264, 0.9709, 0.1063, so a uniform 1000-token draw is fixed on every
 * machine. A change here breaks everyone's --seed reproducibility. */
static void test_seed_0_golden_draws(void **state)
{
    (void)state;
    enum { V = 1000 };
    float x[V] = {0};
    slm_sampler_params p = plain_params(0);
    slm_sampler *s = new_sampler(&p, V);
    const int32_t want[5] = {883, 431, 26, 970, 106};
    for (int i = 0; i < 5; i++)
        assert_int_equal(slm_sampler_sample(s, x, NULL, 0), want[i]);
    slm_sampler_free(s);
}

/* ------------------------------------------------------------- statistics */

static void check_frequencies(const slm_sampler_params *p, const float *probs, size_t v,
                              const float *want)
{
    enum { DRAWS = 20000 };
    float logits[8];
    for (size_t i = 0; i < v; i++)
        logits[i] = logf(probs[i]);
    slm_sampler *s = new_sampler(p, (int)v);
    int counts[8] = {0};
    for (int i = 0; i < DRAWS; i++) {
        int32_t id = slm_sampler_sample(s, logits, NULL, 0);
        assert_in_range(id, 0, v - 1);
        counts[id]++;
    }
    for (size_t i = 0; i < v; i++) {
        if (want[i] == 0.0f)
            assert_int_equal(counts[i], 0);
        double freq = (double)counts[i] / DRAWS;
        if (fabs(freq - want[i]) > 0.02)
            fail_msg("token %zu: frequency %.4f, expected %.4f", i, freq, (double)want[i]);
    }
    slm_sampler_free(s);
}

static void test_draw_frequencies(void **state)
{
    (void)state;
    const float probs[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    slm_sampler_params p = plain_params(2024);
    check_frequencies(&p, probs, 4, probs);

    /* With top-k 2 the two rarest never appear; the rest share 3 : 4. */
    p.top_k = 2;
    const float want[4] = {0.0f, 0.0f, 3.0f / 7.0f, 4.0f / 7.0f};
    check_frequencies(&p, probs, 4, want);
}

/* ---------------------------------------------------------- large vocab */

/* Default parameters on a 128k vocabulary: every draw must be one of the
 * 40 best penalised logits, and the recent history must be penalised. */
static void test_large_vocab_defaults(void **state)
{
    (void)state;
    enum { V = 128000, K = 40 };
    float *x = malloc(V * sizeof *x);
    slm_candidate *ref = malloc(V * sizeof *ref);
    assert_non_null(x), assert_non_null(ref);
    fill_random(x, V, 77);
    slm_sampler_params p = slm_sampler_params_default();
    slm_sampler *s = new_sampler(&p, V);
    for (size_t i = 0; i < V; i++)
        ref[i] = (slm_candidate){.id = (int32_t)i, .logit = x[i]};
    qsort(ref, V, sizeof *ref, cmp_by_logit_desc);
    for (int i = 0; i < 50; i++) {
        int32_t id = slm_sampler_sample(s, x, NULL, 0);
        int in_top = 0;
        for (int j = 0; j < K; j++)
            in_top |= ref[j].id == id;
        assert_true(in_top);
    }
    /* A huge penalty on the 40 best pushes every draw outside them. */
    p.repeat_penalty = 1000.0f;
    p.repeat_last_n = -1;
    slm_sampler_free(s);
    s = new_sampler(&p, V);
    int32_t hist[K];
    for (int j = 0; j < K; j++)
        hist[j] = ref[j].id;
    for (int i = 0; i < 50; i++) {
        int32_t id = slm_sampler_sample(s, x, hist, K);
        for (int j = 0; j < K; j++)
            assert_int_not_equal(id, hist[j]);
    }
    slm_sampler_free(s);
    free(x), free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_llama_cpp),
        cmocka_unit_test(test_new_rejects_bad_params),
        cmocka_unit_test(test_greedy_is_argmax_ties_lowest),
        cmocka_unit_test(test_greedy_with_repeat_penalty),
        cmocka_unit_test(test_repeat_penalty_hf_semantics),
        cmocka_unit_test(test_sampler_applies_penalty_before_filters),
        cmocka_unit_test(test_top_p_hand_made),
        cmocka_unit_test(test_min_p_hand_made),
        cmocka_unit_test(test_top_k_hand_made),
        cmocka_unit_test(test_top_k_matches_full_sort),
        cmocka_unit_test(test_top_p_matches_full_sort),
        cmocka_unit_test(test_softmax_and_infinities),
        cmocka_unit_test(test_non_finite_logits_through_sampler),
        cmocka_unit_test(test_top_k_1_equals_greedy),
        cmocka_unit_test(test_pipeline_order),
        cmocka_unit_test(test_temperature_concentrates_mass),
        cmocka_unit_test(test_tiny_temperature_is_greedy),
        cmocka_unit_test(test_same_seed_same_sequence),
        cmocka_unit_test(test_reset_restarts_stream),
        cmocka_unit_test(test_seed_0_golden_draws),
        cmocka_unit_test(test_draw_frequencies),
        cmocka_unit_test(test_large_vocab_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
