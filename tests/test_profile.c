/*
 * test_profile.c — slm_profile through the API:
 *   - attached to a session, slm_generate records per phase: the phases'
 *     wall times are the stats' own, every row fits inside its phase, the
 *     products ran once per pass (decode passes = tokens evaluated), their
 *     bytes per pass are the model's weight bytes and their flops
 *     2·rows·cols·tokens; sampling and streaming only in decode;
 *   - profiling changes no result (the same greedy ids, the same classifier
 *     logits), and a detached profile records nothing;
 *   - a batch's passes record into the batch's profile, with the phase the
 *     caller set; slm_classify(_ids)_profiled into the classify phase.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "slm.h"
#include "test_util.h"

#define STORIES "weights/stories260K"
#define TINYLLAMA "tests/fixtures/models/tinyllama" /* untied lm_head */
#define DISTILBERT "tests/fixtures/models/distilbert_sst2"

static const slm_profile_op products[] = {SLM_PROF_QKV, SLM_PROF_O, SLM_PROF_GATE_UP,
                                          SLM_PROF_DOWN, SLM_PROF_LM_HEAD};

static bool collect(void *user, int32_t id, const char *text, size_t len)
{
    test_ids *ids = user;
    if (id >= 0 && ids->n < TEST_MAX_GENERATED)
        ids->ids[ids->n++] = id;
    return true;
}

static void generate(slm_session *s, const int32_t *prompt, size_t n, int n_new, test_ids *out,
                     slm_generate_stats *st)
{
    slm_error err = {0};
    slm_generate_params p = {.max_new_tokens = n_new,
                             .sampling = slm_sampler_params_default(),
                             .on_token = collect,
                             .user = out};
    p.sampling.temperature = 0.0f;
    out->n = 0;
    if (slm_generate(s, prompt, n, &p, st, &err) != SLM_OK)
        fail_msg("generate: %s", err.msg);
}

static double rows_seconds(const slm_profile *pf, slm_profile_phase ph)
{
    double sum = 0;
    for (int op = 0; op < SLM_PROF_OPS; op++)
        sum += slm_profile_get(pf, ph, op).seconds;
    return sum;
}

/* The rows are disjoint intervals inside the phase: their sum cannot exceed
   its wall time (1 µs of rounding allowed). */
static void expect_rows_within(const slm_profile *pf, slm_profile_phase ph)
{
    double wall = slm_profile_phase_seconds(pf, ph), rows = rows_seconds(pf, ph);
    assert_true(wall > 0);
    if (rows > wall + 1e-6)
        fail_msg("%s: rows %.6f s exceed the phase's %.6f s", slm_profile_phase_name(ph), rows,
                 wall);
}

/* Σ product bytes per pass (plus one embedding row when lm_head is untied:
   weight_bytes counts one row of it) against slm_model_weight_bytes; the
   phase's passes embedded `tokens` rows in all. */
static void expect_bytes_per_pass(const slm_model *m, const slm_profile *pf, slm_profile_phase ph,
                                  uint64_t passes, uint64_t tokens, bool tied)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
        slm_profile_entry e = slm_profile_get(pf, ph, products[i]);
        assert_true(e.bytes > 0 && e.flops > 0 && e.seconds > 0);
        bytes += e.bytes;
    }
    assert_int_equal(bytes % passes, 0);
    bytes /= passes;
    if (!tied) {
        uint64_t rows = slm_profile_get(pf, ph, SLM_PROF_EMBEDDING).bytes;
        assert_int_equal(rows % tokens, 0);
        bytes += rows / tokens;
    }
    assert_int_equal(bytes, slm_model_weight_bytes(m));
}

static void check_generation(const char *dir, bool tied)
{
    slm_model *m = test_load_model(test_source_path(dir));
    const slm_config *c = &m->cfg;
    int32_t prompt[] = {1, 403, 407, 261, 378}; /* 5 ids in both vocabularies */
    test_ids plain, profiled;
    test_greedy(m, prompt, 5, 24, &plain);

    slm_session *s;
    slm_profile *pf;
    slm_error err = {0};
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_profile_new(&pf, &err), SLM_OK);
    slm_session_set_profile(s, pf);
    slm_generate_stats st;
    generate(s, prompt, 5, 24, &profiled, &st);
    assert_int_equal(profiled.n, plain.n);
    assert_memory_equal(profiled.ids, plain.ids, plain.n * sizeof plain.ids[0]);

    /* the phases' wall times are the stats' (to the nanosecond they are kept in) */
    assert_true(fabs(slm_profile_phase_seconds(pf, SLM_PROFILE_PREFILL) - st.prefill_seconds) < 2e-9);
    assert_true(fabs(slm_profile_phase_seconds(pf, SLM_PROFILE_DECODE) - st.decode_seconds) < 2e-9);
    assert_int_equal(slm_profile_phase_tokens(pf, SLM_PROFILE_PREFILL), 5);
    assert_int_equal(slm_profile_phase_tokens(pf, SLM_PROFILE_DECODE), st.n_generated);
    expect_rows_within(pf, SLM_PROFILE_PREFILL);
    expect_rows_within(pf, SLM_PROFILE_DECODE);

    /* prefill: one pass of 5 tokens; decode: every sampled token but an EOS is evaluated */
    uint64_t decode_passes = (uint64_t)st.n_generated - (st.stop_reason == SLM_STOP_EOS);
    slm_profile_entry qkv = slm_profile_get(pf, SLM_PROFILE_PREFILL, SLM_PROF_QKV);
    assert_int_equal(qkv.calls, c->n_layers);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_PREFILL, SLM_PROF_LM_HEAD).calls, 1);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_LM_HEAD).calls,
                     decode_passes);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_DOWN).calls,
                     decode_passes * c->n_layers);
    uint64_t D = c->hidden_size, qkv_rows = (uint64_t)(c->n_heads + 2 * c->n_kv_heads) * c->head_dim;
    assert_int_equal(qkv.flops, 2 * qkv_rows * D * 5 * c->n_layers);
    expect_bytes_per_pass(m, pf, SLM_PROFILE_PREFILL, 1, 5, tied);
    expect_bytes_per_pass(m, pf, SLM_PROFILE_DECODE, decode_passes, decode_passes, tied);

    /* the session's first pass made its scratch, once */
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_PREFILL, SLM_PROF_SCRATCH).calls, 1);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_SCRATCH).calls, 0);
    /* sampling and streaming happen after the prompt: all in decode */
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_PREFILL, SLM_PROF_SAMPLING).calls, 0);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_SAMPLING).calls,
                     st.n_generated);
    assert_true(slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_OUTPUT).calls > 0);
    assert_true(slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_ATTENTION).seconds > 0);
    assert_true(slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_NORM).calls ==
                decode_passes * (2 * c->n_layers + 1));

    /* detached: nothing more is recorded; reset empties it */
    slm_profile_entry before = slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_QKV);
    slm_session_set_profile(s, NULL);
    slm_session_reset(s);
    generate(s, prompt, 5, 8, &profiled, &st);
    slm_profile_entry after = slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_QKV);
    assert_int_equal(after.calls, before.calls);
    assert_true(after.seconds == before.seconds);
    slm_profile_reset(pf);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_QKV).calls, 0);
    assert_true(slm_profile_phase_seconds(pf, SLM_PROFILE_DECODE) == 0);

    slm_profile_free(pf);
    slm_session_free(s);
    slm_model_free(m);
}

static void test_generate_tied(void **state) { check_generation(STORIES, true); }

static void test_generate_untied(void **state) { check_generation(TINYLLAMA, false); }

/* Two sessions decoding in one batch pass: the batch's profile gets the
   pass, as the phase the caller set, with both tokens in its flops. */
static void test_batch(void **state)
{
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_session *s[2];
    slm_batch *b;
    slm_profile *pf;
    slm_error err = {0};
    for (int i = 0; i < 2; i++)
        assert_int_equal(slm_session_new(m, 64, &s[i], &err), SLM_OK);
    assert_int_equal(slm_batch_new(m, 0, &b, &err), SLM_OK);
    assert_int_equal(slm_profile_new(&pf, &err), SLM_OK);
    slm_batch_set_profile(b, pf);
    slm_profile_set_phase(pf, SLM_PROFILE_DECODE);
    int32_t a = 1, c = 403;
    const int32_t *ids[2] = {&a, &c};
    size_t n[2] = {1, 1};
    assert_int_equal(slm_batch_eval(b, s, ids, n, 2, &err), SLM_OK);
    slm_profile_entry head = slm_profile_get(pf, SLM_PROFILE_DECODE, SLM_PROF_LM_HEAD);
    assert_int_equal(head.calls, 1);
    assert_int_equal(head.flops, 2ull * m->cfg.vocab_size * m->cfg.hidden_size * 2);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_PREFILL, SLM_PROF_LM_HEAD).calls, 0);
    slm_profile_free(pf);
    slm_batch_free(b);
    for (int i = 0; i < 2; i++)
        slm_session_free(s[i]);
    slm_model_free(m);
}

static void test_classify(void **state)
{
    slm_model *m = test_load_model(test_source_path(DISTILBERT));
    const char *texts[] = {"a wonderful film", "dull and far too long"};
    float p0[4], l0[4], p1[4], l1[4];
    slm_profile *pf;
    slm_error err = {0};
    assert_int_equal(slm_profile_new(&pf, &err), SLM_OK);
    assert_int_equal(slm_classify(m, texts, 2, p0, l0, NULL, &err), SLM_OK);
    assert_int_equal(slm_classify_profiled(m, texts, 2, p1, l1, NULL, pf, &err), SLM_OK);
    assert_memory_equal(l0, l1, sizeof l0);
    int layers = m->cfg.n_layers;
    slm_profile_op ops[] = {SLM_PROF_Q, SLM_PROF_K, SLM_PROF_V, SLM_PROF_O, SLM_PROF_UP,
                            SLM_PROF_DOWN};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        slm_profile_entry e = slm_profile_get(pf, SLM_PROFILE_CLASSIFY, ops[i]);
        assert_int_equal(e.calls, layers);
        assert_true(e.bytes > 0 && e.flops > 0);
    }
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_CLASSIFY, SLM_PROF_TOKENIZER).calls, 2);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_CLASSIFY, SLM_PROF_CLASSIFIER).calls, 2);
    expect_rows_within(pf, SLM_PROFILE_CLASSIFY);
    uint64_t tokens = slm_profile_phase_tokens(pf, SLM_PROFILE_CLASSIFY);
    assert_true(tokens >= 6); /* [CLS] ... [SEP] around each text */
    /* the ids entry point adds its own call, with the ids' count */
    int32_t ids[] = {101, 2023, 102};
    int len = 3;
    float lg[2];
    assert_int_equal(slm_classify_ids_profiled(m, ids, &len, 1, lg, pf, &err), SLM_OK);
    assert_int_equal(slm_profile_phase_tokens(pf, SLM_PROFILE_CLASSIFY), tokens + 3);
    assert_int_equal(slm_profile_get(pf, SLM_PROFILE_CLASSIFY, SLM_PROF_Q).calls, 2 * layers);
    slm_profile_free(pf);
    slm_model_free(m);
}

static void test_names(void **state)
{
    assert_string_equal(slm_profile_phase_name(SLM_PROFILE_DECODE), "decode");
    assert_string_equal(slm_profile_op_name(SLM_PROF_QKV), "qkv");
    assert_string_equal(slm_profile_op_name(SLM_PROF_OUTPUT), "output");
    assert_string_equal(slm_profile_op_name(SLM_PROF_SCRATCH), "scratch");
    assert_true(slm_profile_op_is_product(SLM_PROF_LM_HEAD));
    assert_true(slm_profile_op_is_product(SLM_PROF_Q));
    assert_false(slm_profile_op_is_product(SLM_PROF_ATTENTION));
    assert_false(slm_profile_op_is_product(SLM_PROF_EMBEDDING));
    for (int op = 0; op < SLM_PROF_OPS; op++)
        assert_string_not_equal(slm_profile_op_name(op), "?");
    assert_string_equal(slm_profile_op_name(SLM_PROF_OPS), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_tied),
        cmocka_unit_test(test_generate_untied),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
