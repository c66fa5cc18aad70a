/*
 * test_quality.c — what reduced-precision weights and KV caches cost, measured
 * against f32 compute on the same model (issue: quality is tested, not assumed):
 *   - bundled stories260K: the 64-token greedy continuation with q8_0 weights
 *     and a q8 KV cache (and every other f16/bf16/q8 combination) equals f32's;
 *     perplexity on an evaluation text within 1% of f32; last-position logits
 *     within the stated bounds;
 *   - transformers fixtures (tinyllama, phi3): greedy with an f16 or q8 KV cache
 *     equals the f32 reference; logits with q8_0/q4_0 weights within bounds.
 *     (Greedy with q8_0 *weights* is not required on these random-weight
 *     fixtures: their top-2 logit gaps are as small as 1e-3 of the largest
 *     logit, below q8_0's rounding noise, so argmax flips are expected.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fileio.h"
#include "slm.h"
#include "test_util.h"

#define STORIES "weights/stories260K"

static slm_model *load(const char *rel, slm_weights_format w, slm_kv_format kv)
{
    slm_load_options o = slm_load_options_default();
    o.weights = w;
    o.kv = kv;
    slm_model *m = NULL;
    slm_error err = {0};
    if (slm_model_load(test_source_path(rel), &o, &m, &err) != SLM_OK)
        fail_msg("load %s: %s", rel, err.msg);
    return m;
}

/* max |a - b| / max |b| over the last-position logits of ids. */
static double logits_rel_diff(slm_model *a, slm_model *b, const int32_t *ids, size_t n)
{
    slm_session *sa, *sb;
    const float *la, *lb;
    slm_error err = {0};
    assert_int_equal(slm_session_new(a, 0, &sa, &err), SLM_OK);
    assert_int_equal(slm_session_new(b, 0, &sb, &err), SLM_OK);
    assert_int_equal(slm_session_eval(sa, ids, n, &la, &err), SLM_OK);
    assert_int_equal(slm_session_eval(sb, ids, n, &lb, &err), SLM_OK);
    double diff = 0, mag = 0;
    for (int i = 0; i < slm_model_vocab_size(a); i++) {
        diff = fmax(diff, fabs((double)la[i] - lb[i]));
        mag = fmax(mag, fabs((double)lb[i]));
    }
    slm_session_free(sa);
    slm_session_free(sb);
    return diff / mag;
}

/* ============================================================ bundled model */

static const slm_weights_format weight_formats[] = {SLM_WEIGHTS_F16, SLM_WEIGHTS_BF16,
                                                    SLM_WEIGHTS_Q8_0};
static const slm_kv_format kv_formats[] = {SLM_KV_F32, SLM_KV_F16, SLM_KV_Q8};

static void test_stories_greedy_64(void **state)
{
    const int32_t prompt[] = {1, 403, 407, 261, 378}; /* <s> Once upon a time */
    slm_model *ref = load(STORIES, SLM_WEIGHTS_F32, SLM_KV_F32);
    test_ids want;
    test_greedy(ref, prompt, 5, 64, &want);
    assert_int_equal(want.n, 64);
    for (size_t w = 0; w < 3; w++) {
        for (size_t k = 0; k < 3; k++) {
            slm_model *m = load(STORIES, weight_formats[w], kv_formats[k]);
            test_ids got;
            test_greedy(m, prompt, 5, 64, &got);
            print_message("weights %s, kv %s: greedy 64 compared\n",
                          slm_weights_format_name(weight_formats[w]),
                          slm_kv_format_name(kv_formats[k]));
            assert_int_equal(got.n, want.n);
            for (size_t i = 0; i < want.n; i++)
                if (got.ids[i] != want.ids[i])
                    fail_msg("weights %s kv %s: token %zu differs",
                             slm_weights_format_name(weight_formats[w]),
                             slm_kv_format_name(kv_formats[k]), i);
            slm_model_free(m);
        }
    }
    slm_model_free(ref);
}

static double perplexity(slm_model *m, const slm_tokens *ids)
{
    slm_session *s;
    slm_error err = {0};
    double nll;
    size_t n;
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_session_nll(s, ids->ids, ids->n, &nll, &n, &err), SLM_OK);
    slm_session_free(s);
    return exp(nll / n);
}

static void test_stories_perplexity_within_1_percent(void **state)
{
    char *text;
    size_t len;
    slm_error err = {0};
    assert_int_equal(slm_read_file(test_source_path("tests/fixtures/stories260K/eval.txt"), &text,
                                   &len, &err),
                     SLM_OK);
    slm_model *ref = load(STORIES, SLM_WEIGHTS_F32, SLM_KV_F32);
    slm_tokens ids = {0};
    assert_int_equal(slm_tokenize(slm_model_tokenizer(ref), text, len, true, &ids, &err), SLM_OK);
    assert_true(ids.n > 200);
    double base = perplexity(ref, &ids);
    assert_true(base > 1.0 && base < 20.0);
    const struct {
        slm_weights_format w;
        slm_kv_format kv;
        double max_rel; /* stated bound */
    } cases[] = {{SLM_WEIGHTS_Q8_0, SLM_KV_F32, 0.01}, {SLM_WEIGHTS_F32, SLM_KV_Q8, 0.01},
                 {SLM_WEIGHTS_Q8_0, SLM_KV_Q8, 0.01},  {SLM_WEIGHTS_F16, SLM_KV_F16, 0.001},
                 {SLM_WEIGHTS_Q4_0, SLM_KV_F32, 0.10}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        slm_model *m = load(STORIES, cases[i].w, cases[i].kv);
        double p = perplexity(m, &ids), rel = fabs(p - base) / base;
        print_message("perplexity f32 %.4f, weights %s kv %s %.4f (%.3f%%, bound %.1f%%)\n", base,
                      slm_weights_format_name(cases[i].w), slm_kv_format_name(cases[i].kv), p,
                      100 * rel, 100 * cases[i].max_rel);
        assert_true(rel < cases[i].max_rel);
        slm_model_free(m);
    }
    slm_tokens_free(&ids);
    slm_model_free(ref);
    free(text);
}

static void test_stories_logit_bounds(void **state)
{
    const int32_t ids[] = {1, 317, 269, 274, 287, 263, 377, 267, 265, 282, 295, 433};
    slm_model *ref = load(STORIES, SLM_WEIGHTS_F32, SLM_KV_F32);
    const struct {
        slm_weights_format w;
        slm_kv_format kv;
        double bound; /* of max |diff| / max |logit| */
    } cases[] = {{SLM_WEIGHTS_F16, SLM_KV_F32, 2e-3},  {SLM_WEIGHTS_BF16, SLM_KV_F32, 2e-2},
                 {SLM_WEIGHTS_Q8_0, SLM_KV_F32, 2e-2}, {SLM_WEIGHTS_Q4_0, SLM_KV_F32, 3e-1},
                 {SLM_WEIGHTS_F32, SLM_KV_F16, 2e-3},  {SLM_WEIGHTS_F32, SLM_KV_Q8, 5e-2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        slm_model *m = load(STORIES, cases[i].w, cases[i].kv);
        double rel = logits_rel_diff(m, ref, ids, sizeof ids / sizeof ids[0]);
        print_message("weights %s kv %s: max |logit diff| = %.2e of max |logit| (bound %.0e)\n",
                      slm_weights_format_name(cases[i].w), slm_kv_format_name(cases[i].kv), rel,
                      cases[i].bound);
        assert_true(rel < cases[i].bound);
        slm_model_free(m);
    }
    slm_model_free(ref);
}

/* slm quantize writes a folder that loads with no re-quantization and
   computes exactly what --weights does at load time. */
static void test_quantized_folder_round_trip(void **state)
{
    const slm_weights_format fmts[] = {SLM_WEIGHTS_Q8_0, SLM_WEIGHTS_Q4_0, SLM_WEIGHTS_BF16};
    const int32_t ids[] = {1, 403, 407, 261, 378};
    for (size_t i = 0; i < 3; i++) {
        char *dir = test_make_tmpdir();
        slm_error err = {0};
        if (slm_quantize_folder(test_source_path(STORIES), dir, fmts[i], NULL, NULL, &err) != SLM_OK)
            fail_msg("quantize: %s", err.msg);
        slm_load_options o = slm_load_options_default();
        slm_model *q = NULL, *live = load(STORIES, fmts[i], SLM_KV_F32);
        assert_int_equal(slm_model_load(dir, &o, &q, &err), SLM_OK);
        print_message("%s folder vs --weights %s\n", slm_weights_format_name(fmts[i]),
                      slm_weights_format_name(fmts[i]));
        assert_true(logits_rel_diff(q, live, ids, 5) == 0.0);
        assert_true(slm_model_weight_bytes(q) == slm_model_weight_bytes(live));
        slm_model_free(q);
        slm_model_free(live);
        test_rmtree(dir);
        free(dir);
    }
}

/* ============================================================ fixtures */

static void check_fixture_kv(const char *name)
{
    char dir[128];
    snprintf(dir, sizeof dir, "tests/fixtures/models/%s", name);
    slm_model *ref = load(dir, SLM_WEIGHTS_AUTO, SLM_KV_F32);
    const slm_tokenizer *tok = slm_model_tokenizer(ref);
    slm_tokens ids = {0};
    slm_error err = {0};
    const char *prompt = "The capital of France is";
    assert_int_equal(slm_tokenize(tok, prompt, strlen(prompt), true, &ids, &err), SLM_OK);
    test_ids want;
    test_greedy(ref, ids.ids, ids.n, 32, &want);
    for (int k = 1; k < 3; k++) {
        slm_model *m = load(dir, SLM_WEIGHTS_AUTO, kv_formats[k]);
        test_ids got;
        test_greedy(m, ids.ids, ids.n, 32, &got);
        print_message("%s kv %s: greedy 32 compared\n", name, slm_kv_format_name(kv_formats[k]));
        assert_int_equal(got.n, want.n);
        assert_memory_equal(got.ids, want.ids, want.n * sizeof(int32_t));
        slm_model_free(m);
    }
    const struct {
        slm_weights_format w;
        double bound;
    } wcases[] = {{SLM_WEIGHTS_Q8_0, 4e-2}, {SLM_WEIGHTS_Q4_0, 4e-1}};
    for (size_t i = 0; i < 2; i++) {
        slm_model *m = load(dir, wcases[i].w, SLM_KV_F32);
        double rel = logits_rel_diff(m, ref, ids.ids, ids.n);
        print_message("%s weights %s: max |logit diff| = %.2e of max |logit| (bound %.0e)\n", name,
                      slm_weights_format_name(wcases[i].w), rel, wcases[i].bound);
        assert_true(rel < wcases[i].bound);
        slm_model_free(m);
    }
    slm_tokens_free(&ids);
    slm_model_free(ref);
}

static void test_fixture_tinyllama(void **state) { check_fixture_kv("tinyllama"); }
static void test_fixture_phi3(void **state) { check_fixture_kv("phi3"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stories_greedy_64),
        cmocka_unit_test(test_stories_perplexity_within_1_percent),
        cmocka_unit_test(test_stories_logit_bounds),
        cmocka_unit_test(test_quantized_folder_round_trip),
        cmocka_unit_test(test_fixture_tinyllama),
        cmocka_unit_test(test_fixture_phi3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
