/*
 * test_top_probs.c — the most probable next tokens, slm_top_probs and a
 * generation's per-step report (slm_generate_params.n_probs / on_probs):
 *   - slm_top_probs equals a full sort (larger logit first, lower id on a
 *     tie) and a softmax done the slow way in double, for every k up to and
 *     beyond n, on logits with ties, -inf and NaN, and on inputs ordered to
 *     trouble a quickselect (sorted either way, all equal);
 *   - no overflow on huge logits; all -inf is uniform, +inf takes the mass;
 *   - a greedy generation on the bundled stories260K: one report per
 *     sampled token (the EOS included), steps 0, 1, ..., the chosen id the
 *     top-1 and its p the top-1's, the ids transformers' greedy ids
 *     (reference.json), the first step's probabilities softmax of
 *     transformers' logits of the prompt's last position (1e-5 absolute);
 *   - the probabilities do not depend on the sampling settings (sampled and
 *     greedy runs report the same first step); n_probs < 0 is refused.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fileio.h"
#include "slm.h"
#include "test_util.h"

#define STORIES "weights/stories260K"
#define REFERENCE "tests/fixtures/stories260K/reference.json"

/* ================================================== against a full sort */

typedef struct {
    int32_t id;
    float logit;
} entry;

static int by_logit(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    float la = isnan(a->logit) ? -INFINITY : a->logit, lb = isnan(b->logit) ? -INFINITY : b->logit;
    if (la != lb)
        return la > lb ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* slm_top_probs(logits, n, k) must be the first min(k, n) of a full sort,
   with p = softmax in double computed here from scratch. */
static void check_against_sort(const float *logits, size_t n, size_t k)
{
    entry *all = malloc(n * sizeof *all);
    slm_token_prob *top = malloc((k < n ? k : n) * sizeof *top + 1);
    assert_non_null(all);
    assert_non_null(top);
    double max = -INFINITY, sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        all[i] = (entry){(int32_t)i, logits[i]};
        if (logits[i] > max)
            max = logits[i];
    }
    for (size_t i = 0; i < n; i++)
        sum += isnan(logits[i]) ? 0.0 : exp((double)logits[i] - max);
    qsort(all, n, sizeof *all, by_logit);
    size_t n_top = 12345;
    slm_error err = {0};
    assert_int_equal(slm_top_probs(logits, n, k, top, &n_top, &err), SLM_OK);
    assert_int_equal(n_top, k < n ? k : n);
    for (size_t i = 0; i < n_top; i++) {
        if (top[i].id != all[i].id)
            fail_msg("n %zu k %zu: rank %zu is id %d, a full sort says %d", n, k, i, top[i].id,
                     all[i].id);
        double want = isnan(all[i].logit) ? 0.0 : exp((double)all[i].logit - max) / sum;
        if (fabs(top[i].p - want) > 1e-7 * want + 1e-30)
            fail_msg("n %zu k %zu: p of id %d is %.9g, want %.9g", n, k, top[i].id, top[i].p,
                     want);
    }
    free(all);
    free(top);
}

/* A fixed pseudo-random sequence (no global rand state). */
static uint32_t next_u32(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

static void test_matches_a_full_sort(void **state)
{
    enum { N = 1000 };
    float logits[N];
    uint64_t seed = 7;
    for (size_t i = 0; i < N; i++) {
        /* a coarse grid, so many logits tie */
        logits[i] = (float)((int)(next_u32(&seed) % 200) - 100) * 0.125f;
    }
    logits[3] = -INFINITY;
    logits[10] = NAN;
    logits[500] = 30.0f; /* one clear winner */
    const size_t ks[] = {0, 1, 2, 5, 40, 499, 999, 1000, 1500};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        check_against_sort(logits, N, ks[i]);
}

static void test_orders_that_trouble_quickselect(void **state)
{
    enum { N = 4096 };
    static float up[N], down[N], flat[N], organ[N];
    for (size_t i = 0; i < N; i++) {
        up[i] = (float)i * 0.01f;
        down[i] = (float)(N - i) * 0.01f;
        flat[i] = 1.5f;
        organ[i] = (float)(i < N / 2 ? i : N - i) * 0.01f; /* median-of-3 worst-ish */
    }
    const size_t ks[] = {1, 7, 100, N / 2, N - 1};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        check_against_sort(up, N, ks[i]);
        check_against_sort(down, N, ks[i]);
        check_against_sort(flat, N, ks[i]);
        check_against_sort(organ, N, ks[i]);
    }
}

static void test_extreme_logits(void **state)
{
    slm_token_prob top[4];
    size_t n;
    slm_error err = {0};
    /* exp(1e4) overflows a double: only max-subtraction keeps this finite */
    const float huge[] = {1e4f, 1e4f - 1.0f, -1e4f};
    assert_int_equal(slm_top_probs(huge, 3, 3, top, &n, &err), SLM_OK);
    double e = exp(-1.0);
    assert_int_equal(top[0].id, 0);
    assert_true(fabs(top[0].p - 1.0 / (1.0 + e)) < 1e-7);
    assert_true(fabs(top[1].p - e / (1.0 + e)) < 1e-7);
    assert_true(top[2].p == 0.0f);

    const float none[] = {-INFINITY, NAN, -INFINITY, -INFINITY};
    assert_int_equal(slm_top_probs(none, 4, 4, top, &n, &err), SLM_OK);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(top[i].id, (int32_t)i); /* all tied: by id */
        assert_true(fabs(top[i].p - 0.25) < 1e-7);
    }
    const float inf[] = {0.0f, INFINITY, 3.0f, INFINITY};
    assert_int_equal(slm_top_probs(inf, 4, 3, top, &n, &err), SLM_OK);
    assert_int_equal(top[0].id, 1);
    assert_int_equal(top[1].id, 3);
    assert_true(top[0].p == 0.5f && top[1].p == 0.5f && top[2].p == 0.0f);
}

/* ============================================== a generation's report */

#define MAX_STEPS 512
typedef struct {
    int n_calls;
    int steps[MAX_STEPS];
    int32_t chosen[MAX_STEPS];
    int32_t top1[MAX_STEPS];
    slm_token_prob first[64]; /* step 0's list (its first 64) */
    size_t n_first;           /* its length */
    bool bad_order; /* a list not descending, or p outside (0, 1] */
    double max_sum;
} probs_log;

static void record(void *user, const slm_step_probs *sp)
{
    probs_log *l = user;
    assert_true(l->n_calls < MAX_STEPS);
    assert_true(sp->n_top > 0);
    l->steps[l->n_calls] = sp->step;
    l->chosen[l->n_calls] = sp->chosen.id;
    l->top1[l->n_calls] = sp->top[0].id;
    double sum = 0.0;
    for (size_t i = 0; i < sp->n_top; i++) {
        sum += sp->top[i].p;
        if (!(sp->top[i].p > 0.0f && sp->top[i].p <= 1.0f) ||
            (i > 0 && sp->top[i].p > sp->top[i - 1].p))
            l->bad_order = true;
    }
    l->max_sum = sum > l->max_sum ? sum : l->max_sum;
    if (sp->step == 0) {
        size_t keep = sp->n_top < 64 ? sp->n_top : 64;
        memcpy(l->first, sp->top, keep * sizeof *sp->top);
        l->n_first = sp->n_top;
    }
    /* the chosen id's p is the one listed for it, when it is listed */
    for (size_t i = 0; i < sp->n_top; i++)
        if (sp->top[i].id == sp->chosen.id)
            assert_true(sp->top[i].p == sp->chosen.p);
    l->n_calls++;
}

/* The "Once upon a time" case of reference.json. */
static const cJSON *reference_case(cJSON *ref, const char *prompt)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ref, "cases"))
        if (!strcmp(cJSON_GetObjectItem(c, "prompt")->valuestring, prompt))
            return c;
    fail_msg("reference.json has no case '%s'", prompt);
    return NULL;
}

static void generate_logged(slm_model *m, const char *prompt, slm_sampler_params sp, int n_new,
                            int n_probs, probs_log *log, slm_generate_stats *st)
{
    slm_error err = {0};
    slm_tokens ids = {0};
    slm_session *s;
    assert_int_equal(slm_tokenize(slm_model_tokenizer(m), prompt, strlen(prompt), true, &ids,
                                  &err), SLM_OK);
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    memset(log, 0, sizeof *log);
    slm_generate_params gp = {.max_new_tokens = n_new, .sampling = sp, .user = log,
                              .n_probs = n_probs, .on_probs = record};
    if (slm_generate(s, ids.ids, ids.n, &gp, st, &err) != SLM_OK)
        fail_msg("generate: %s", err.msg);
    slm_session_free(s);
    slm_tokens_free(&ids);
}

static void test_greedy_report_matches_transformers(void **state)
{
    cJSON *ref;
    slm_error err = {0};
    assert_int_equal(slm_json_load(test_source_path(REFERENCE), &ref, &err), SLM_OK);
    const cJSON *c = reference_case(ref, "Once upon a time");
    const cJSON *greedy = cJSON_GetObjectItem(c, "greedy");
    const cJSON *logits = cJSON_GetObjectItem(c, "logits_last");
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_sampler_params sp = slm_sampler_params_default();
    sp.temperature = 0.0f;
    probs_log log;
    slm_generate_stats st;
    /* on to the EOS that ends the story (past the reference's 64 ids), so
       that step is reported too */
    generate_logged(m, "Once upon a time", sp, MAX_STEPS, 8, &log, &st);
    assert_int_equal(st.stop_reason, SLM_STOP_EOS);
    assert_int_equal(log.n_calls, st.n_generated);
    assert_true(slm_model_is_eos(m, log.chosen[log.n_calls - 1]));
    assert_false(log.bad_order);
    assert_true(log.max_sum <= 1.0 + 1e-6);
    int n_ref = cJSON_GetArraySize(greedy);
    assert_true(n_ref > 0 && n_ref < log.n_calls);
    for (int i = 0; i < log.n_calls; i++) {
        assert_int_equal(log.steps[i], i);
        assert_int_equal(log.chosen[i], log.top1[i]); /* greedy: the top-1 */
        if (i < n_ref)
            assert_int_equal(log.chosen[i], cJSON_GetArrayItem(greedy, i)->valueint);
    }
    /* step 0 against softmax of transformers' logits, in double */
    int vocab = slm_model_vocab_size(m);
    assert_int_equal(cJSON_GetArraySize(logits), vocab);
    double max = -INFINITY, sum = 0.0;
    for (int i = 0; i < vocab; i++)
        max = fmax(max, cJSON_GetArrayItem(logits, i)->valuedouble);
    for (int i = 0; i < vocab; i++)
        sum += exp(cJSON_GetArrayItem(logits, i)->valuedouble - max);
    assert_int_equal(log.n_first, 8);
    double worst = 0.0;
    for (size_t i = 0; i < log.n_first; i++) {
        double want = exp(cJSON_GetArrayItem(logits, log.first[i].id)->valuedouble - max) / sum;
        worst = fmax(worst, fabs(log.first[i].p - want));
        if (i > 0) /* transformers agrees on the order too */
            assert_true(want <= exp(cJSON_GetArrayItem(logits, log.first[i - 1].id)->valuedouble
                                    - max) / sum + 1e-6);
    }
    if (worst > 1e-5)
        fail_msg("step 0 probabilities differ from transformers' softmax by %g", worst);
    assert_int_equal(log.first[0].id, log.chosen[0]);
    slm_model_free(m);
    cJSON_Delete(ref);
}

/* Greedy picks the top-1 at every step, with one entry per step or the
   whole vocabulary (n_probs above it: clamped, the probabilities sum to 1). */
static void test_greedy_chooses_the_top_one(void **state)
{
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_sampler_params sp = slm_sampler_params_default();
    sp.temperature = 0.0f;
    sp.repeat_penalty = 1.0f;
    const int ks[] = {1, 100000};
    for (int k = 0; k < 2; k++) {
        probs_log log;
        slm_generate_stats st;
        generate_logged(m, "Lily and Tom went to the park", sp, 40, ks[k], &log, &st);
        assert_int_equal(log.n_calls, 40);
        assert_false(log.bad_order);
        for (int i = 0; i < log.n_calls; i++)
            assert_int_equal(log.chosen[i], log.top1[i]);
        if (ks[k] > 1)
            assert_true(fabs(log.max_sum - 1.0) < 1e-5);
    }
    slm_model_free(m);
}

/* Sampling settings change what is drawn, not the reported distribution. */
static void test_probs_do_not_depend_on_sampling(void **state)
{
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_sampler_params greedy = slm_sampler_params_default(), hot = greedy;
    greedy.temperature = 0.0f;
    hot.temperature = 1.7f;
    hot.top_k = 3;
    hot.repeat_penalty = 1.3f;
    hot.seed = 11;
    probs_log a, b;
    slm_generate_stats st;
    generate_logged(m, "The little dog was sad because", greedy, 3, 20, &a, &st);
    generate_logged(m, "The little dog was sad because", hot, 3, 20, &b, &st);
    assert_int_equal(a.n_first, 20);
    assert_int_equal(b.n_first, 20);
    for (size_t i = 0; i < 20; i++) {
        assert_int_equal(a.first[i].id, b.first[i].id);
        assert_true(a.first[i].p == b.first[i].p);
    }
    slm_model_free(m);
}

static void test_negative_n_probs_is_refused(void **state)
{
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_session *s;
    slm_error err = {0};
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    probs_log log = {0};
    int32_t ids[] = {1, 403};
    slm_generate_params gp = {.max_new_tokens = 4, .sampling = slm_sampler_params_default(),
                              .user = &log, .n_probs = -1, .on_probs = record};
    assert_int_equal(slm_generate(s, ids, 2, &gp, NULL, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "n_probs"));
    assert_int_equal(log.n_calls, 0);
    slm_session_free(s);
    slm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_a_full_sort),
        cmocka_unit_test(test_orders_that_trouble_quickselect),
        cmocka_unit_test(test_extreme_logits),
        cmocka_unit_test(test_greedy_report_matches_transformers),
        cmocka_unit_test(test_greedy_chooses_the_top_one),
        cmocka_unit_test(test_probs_do_not_depend_on_sampling),
        cmocka_unit_test(test_negative_n_probs_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
