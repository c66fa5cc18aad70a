/*
 * test_batch.c — batched decode across sequences (issue 10): results must not
 * depend on who else is in the batch.
 *
 *  - slm_batch_eval: 8 prompts of mixed lengths join at different steps
 *    (their whole prompt in one step, as slm_session_eval takes it), then
 *    decode greedily one token per step and leave after different numbers
 *    of tokens. Every logit of every step must be bit-identical (memcmp) to
 *    the same sequence evaluated alone with slm_session_eval. Run for f32 and
 *    q8_0 weights (also q4_0) and f32/f16/q8 KV caches on the bundled
 *    stories260K, and on the tinyllama and phi3 fixtures (GQA, fused
 *    projections, sliding window).
 *  - slm_batch_step: 8 generations (greedy and seeded sampling, stop
 *    strings, different budgets) stepped together give exactly the ids,
 *    text and stop reasons of slm_generate run alone on each.
 *  - Bad steps (same session twice, too many ids, another model's session,
 *    ids outside the vocabulary) are refused before anything is evaluated.
 *
 * Bit-identity holds because every kernel a decoder pass uses computes a
 * row's value from that row alone (kernels/matmul_typed.c), and attention
 * runs per sequence over its own cache with the same chunking as alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slm.h"
#include "test_util.h"

#define N_SEQ 8
#define MAX_NEW 24

typedef struct {
    int32_t prompt[200];
    size_t n_prompt;
    int join; /* step at which the prompt goes in */
    int n_new; /* greedy tokens decoded after the prompt */
} seq_plan;

/* Prompts of 1..~150 ids from a fixed LCG (valid ids of the vocabulary). */
static void make_plans(seq_plan *p, int vocab)
{
    static const size_t lengths[N_SEQ] = {1, 7, 150, 3, 33, 64, 12, 90};
    uint32_t r = 12345u;
    for (int i = 0; i < N_SEQ; i++) {
        p[i].n_prompt = lengths[i];
        for (size_t j = 0; j < lengths[i]; j++) {
            r = r * 1664525u + 1013904223u;
            p[i].prompt[j] = (int32_t)(3 + (r >> 8) % (uint32_t)(vocab - 3));
        }
        p[i].join = (i * 3) % 7;        /* joins at steps 0..6 */
        p[i].n_new = 4 + (i * 5) % MAX_NEW; /* leaves after 4..23 tokens */
    }
}

static int32_t argmax(const float *x, int n)
{
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* Every step's logits of one sequence alone: [1 + n_new][vocab]. */
static float *run_alone(slm_model *m, const seq_plan *p, int V)
{
    slm_error err = {0};
    slm_session *s = NULL;
    assert_int_equal(slm_session_new(m, 512, &s, &err), SLM_OK);
    float *all = malloc((size_t)(p->n_new + 1) * V * sizeof(float));
    assert_non_null(all);
    const float *logits;
    assert_int_equal(slm_session_eval(s, p->prompt, p->n_prompt, &logits, &err), SLM_OK);
    memcpy(all, logits, V * sizeof(float));
    for (int t = 0; t < p->n_new; t++) {
        int32_t id = argmax(logits, V);
        assert_int_equal(slm_session_eval(s, &id, 1, &logits, &err), SLM_OK);
        memcpy(all + (size_t)(t + 1) * V, logits, V * sizeof(float));
    }
    slm_session_free(s);
    return all;
}

/* Rows must be bit-identical; the message names the first logit that is not. */
static void check_row(const float *got, const float *want, int V, int seq, int row, int step,
                      size_t count)
{
    if (memcmp(got, want, V * sizeof(float)) == 0)
        return;
    int j = 0;
    while (got[j] == want[j])
        j++;
    fail_msg("seq %d, row %d (step %d, %zu in the step): logit %d is %.9g, alone %.9g", seq,
             row, step, count, j, got[j], want[j]);
}

/* The plans run together through slm_batch_eval; each step's logits are
   compared with the solo run's. Returns the number of steps that held more
   than one sequence (the test must really batch). */
static int run_together(slm_model *m, const seq_plan *p, float *const *alone, int V)
{
    slm_error err = {0};
    slm_batch *b = NULL;
    assert_int_equal(slm_batch_new(m, 0, &b, &err), SLM_OK);
    slm_session *s[N_SEQ];
    int done[N_SEQ] = {0}; /* logit rows checked so far */
    int32_t next[N_SEQ];
    for (int i = 0; i < N_SEQ; i++)
        assert_int_equal(slm_session_new(m, 512, &s[i], &err), SLM_OK);
    int shared_steps = 0;
    for (int step = 0;; step++) {
        slm_session *in[N_SEQ];
        const int32_t *ids[N_SEQ];
        size_t n_ids[N_SEQ], count = 0;
        int who[N_SEQ];
        for (int i = 0; i < N_SEQ; i++) {
            if (step < p[i].join || done[i] > p[i].n_new)
                continue;
            in[count] = s[i];
            ids[count] = done[i] == 0 ? p[i].prompt : &next[i];
            n_ids[count] = done[i] == 0 ? p[i].n_prompt : 1;
            who[count++] = i;
        }
        if (count == 0 && step > N_SEQ)
            break;
        if (count == 0)
            continue;
        shared_steps += count > 1;
        slm_status st = slm_batch_eval(b, in, ids, n_ids, count, &err);
        if (st != SLM_OK)
            fail_msg("step %d: %s", step, err.msg);
        for (size_t c = 0; c < count; c++) {
            int i = who[c];
            const float *got = slm_session_logits(s[i]);
            const float *want = alone[i] + (size_t)done[i] * V;
            check_row(got, want, V, i, done[i], step, count);
            next[i] = argmax(got, V);
            done[i]++;
        }
    }
    for (int i = 0; i < N_SEQ; i++)
        slm_session_free(s[i]);
    slm_batch_free(b);
    return shared_steps;
}

static void check_invariance(const char *dir, slm_weights_format w, slm_kv_format kv)
{
    slm_load_options o = slm_load_options_default();
    o.weights = w;
    o.kv = kv;
    o.n_threads = 2;
    slm_error err = {0};
    slm_model *m = NULL;
    if (slm_model_load(test_source_path(dir), &o, &m, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    int V = slm_model_vocab_size(m);
    seq_plan p[N_SEQ];
    make_plans(p, V);
    float *alone[N_SEQ];
    for (int i = 0; i < N_SEQ; i++)
        alone[i] = run_alone(m, &p[i], V);
    int shared = run_together(m, p, alone, V);
    assert_true(shared >= 10);
    for (int i = 0; i < N_SEQ; i++)
        free(alone[i]);
    slm_model_free(m);
}

#define STORIES "weights/stories260K"
#define TINYLLAMA "tests/fixtures/models/tinyllama"
#define PHI3 "tests/fixtures/models/phi3"

static void stories_f32_kv_f32(void **state) { (void)state; check_invariance(STORIES, SLM_WEIGHTS_F32, SLM_KV_F32); }
static void stories_f32_kv_f16(void **state) { (void)state; check_invariance(STORIES, SLM_WEIGHTS_F32, SLM_KV_F16); }
static void stories_f32_kv_q8(void **state) { (void)state; check_invariance(STORIES, SLM_WEIGHTS_F32, SLM_KV_Q8); }
static void stories_q8_kv_f32(void **state) { (void)state; check_invariance(STORIES, SLM_WEIGHTS_Q8_0, SLM_KV_F32); }
static void stories_q8_kv_f16(void **state) { (void)state; check_invariance(STORIES, SLM_WEIGHTS_Q8_0, SLM_KV_F16); }
static void stories_q8_kv_q8(void **state) { (void)state; check_invariance(STORIES, SLM_WEIGHTS_Q8_0, SLM_KV_Q8); }
static void stories_q4_kv_f32(void **state) { (void)state; check_invariance(STORIES, SLM_WEIGHTS_Q4_0, SLM_KV_F32); }
static void stories_bf16_kv_f16(void **state) { (void)state; check_invariance(STORIES, SLM_WEIGHTS_BF16, SLM_KV_F16); }
static void tinyllama_f32(void **state) { (void)state; check_invariance(TINYLLAMA, SLM_WEIGHTS_F32, SLM_KV_F32); }
static void tinyllama_q8_kv_q8(void **state) { (void)state; check_invariance(TINYLLAMA, SLM_WEIGHTS_Q8_0, SLM_KV_Q8); }
static void phi3_f32_kv_f16(void **state) { (void)state; check_invariance(PHI3, SLM_WEIGHTS_F32, SLM_KV_F16); }
static void phi3_q8(void **state) { (void)state; check_invariance(PHI3, SLM_WEIGHTS_Q8_0, SLM_KV_F32); }

/* ------------------------------------------------ generations together */

typedef struct {
    test_ids ids;
    char text[4096];
    size_t len;
} collected;

static bool collect(void *user, int32_t id, const char *text, size_t len)
{
    collected *c = user;
    if (id >= 0 && c->ids.n < TEST_MAX_GENERATED)
        c->ids.ids[c->ids.n++] = id;
    if (c->len + len < sizeof c->text) {
        memcpy(c->text + c->len, text, len);
        c->len += len;
    }
    return true;
}

static const char *const stops[] = {"\n", " the"};

static slm_generate_params gen_params(int i, collected *out)
{
    slm_generate_params gp = {.max_new_tokens = 5 + 3 * i, .on_token = collect, .user = out};
    gp.sampling = slm_sampler_params_default();
    if (i % 2) { /* odd ones sample */
        gp.sampling.temperature = 0.8f;
        gp.sampling.top_p = 0.9f;
        gp.sampling.seed = 100 + (uint64_t)i;
    }
    if (i % 3 == 0) {
        gp.stop = stops;
        gp.n_stop = 2;
    }
    return gp;
}

static void generations_match_generate(void **state)
{
    (void)state;
    slm_model *m = test_load_model(test_source_path(STORIES));
    int V = slm_model_vocab_size(m);
    seq_plan p[N_SEQ];
    make_plans(p, V);
    slm_error err = {0};
    collected *alone = calloc(N_SEQ, sizeof *alone), *together = calloc(N_SEQ, sizeof *together);
    slm_generate_stats st_alone[N_SEQ];
    for (int i = 0; i < N_SEQ; i++) {
        slm_session *s = NULL;
        assert_int_equal(slm_session_new(m, 512, &s, &err), SLM_OK);
        slm_generate_params gp = gen_params(i, &alone[i]);
        assert_int_equal(slm_generate(s, p[i].prompt, p[i].n_prompt, &gp, &st_alone[i], &err),
                         SLM_OK);
        slm_session_free(s);
    }
    slm_batch *b = NULL;
    assert_int_equal(slm_batch_new(m, 256, &b, &err), SLM_OK); /* small: chunks wait */
    slm_session *s[N_SEQ];
    slm_generation *g[N_SEQ] = {0};
    for (int i = 0; i < N_SEQ; i++)
        assert_int_equal(slm_session_new(m, 512, &s[i], &err), SLM_OK);
    int steps = 0;
    for (bool busy = true; busy; steps++) {
        for (int i = 0; i < N_SEQ; i++)
            if (!g[i] && steps >= p[i].join) {
                slm_generate_params gp = gen_params(i, &together[i]);
                assert_int_equal(slm_generation_new(s[i], p[i].prompt, p[i].n_prompt, &gp,
                                                    &g[i], &err),
                                 SLM_OK);
            }
        if (slm_batch_step(b, g, N_SEQ, &err) != SLM_OK)
            fail_msg("step %d: %s", steps, err.msg);
        busy = false;
        for (int i = 0; i < N_SEQ; i++)
            busy |= !g[i] || !slm_generation_done(g[i]);
        assert_true(steps < 1000);
    }
    for (int i = 0; i < N_SEQ; i++) {
        slm_generate_stats st;
        slm_generation_stats(g[i], &st);
        assert_int_equal(slm_generation_status(g[i], &err), SLM_OK);
        assert_int_equal(st.stop_reason, st_alone[i].stop_reason);
        assert_int_equal(st.n_generated, st_alone[i].n_generated);
        assert_int_equal(st.n_prompt, (int)p[i].n_prompt);
        assert_int_equal(together[i].ids.n, alone[i].ids.n);
        assert_memory_equal(together[i].ids.ids, alone[i].ids.ids,
                            alone[i].ids.n * sizeof(int32_t));
        assert_int_equal(together[i].len, alone[i].len);
        assert_memory_equal(together[i].text, alone[i].text, alone[i].len);
        slm_generation_free(g[i]);
        slm_session_free(s[i]);
    }
    slm_batch_free(b);
    free(alone);
    free(together);
    slm_model_free(m);
}

/* A cancelled generation ends before its next step, the others go on. */
static void cancel_ends_one(void **state)
{
    (void)state;
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_error err = {0};
    slm_batch *b = NULL;
    assert_int_equal(slm_batch_new(m, 0, &b, &err), SLM_OK);
    slm_session *s[2];
    slm_generation *g[2];
    collected c[2] = {0};
    const int32_t prompt[] = {1, 403, 407};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(slm_session_new(m, 0, &s[i], &err), SLM_OK);
        slm_generate_params gp = {.max_new_tokens = 20, .on_token = collect, .user = &c[i],
                                  .sampling = slm_sampler_params_default()};
        assert_int_equal(slm_generation_new(s[i], prompt, 3, &gp, &g[i], &err), SLM_OK);
    }
    for (int k = 0; k < 3; k++)
        assert_int_equal(slm_batch_step(b, g, 2, &err), SLM_OK);
    slm_generation_cancel(g[0]);
    size_t before = c[0].ids.n;
    while (!slm_generation_done(g[1]))
        assert_int_equal(slm_batch_step(b, g, 2, &err), SLM_OK);
    assert_true(slm_generation_done(g[0]));
    assert_int_equal(c[0].ids.n, before);
    slm_generate_stats st;
    slm_generation_stats(g[0], &st);
    assert_int_equal(st.stop_reason, SLM_STOP_CALLBACK);
    slm_generation_stats(g[1], &st);
    assert_true(st.n_generated > (int)before);
    for (int i = 0; i < 2; i++) {
        slm_generation_free(g[i]);
        slm_session_free(s[i]);
    }
    slm_batch_free(b);
    slm_model_free(m);
}

/* reuse_prefix keeps the cached ids a re-sent prompt starts with. */
static void reuse_prefix_counts_cached(void **state)
{
    (void)state;
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_error err = {0};
    slm_session *s = NULL, *fresh = NULL;
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_session_new(m, 0, &fresh, &err), SLM_OK);
    int32_t turn[40];
    for (int i = 0; i < 40; i++)
        turn[i] = 5 + 7 * i;
    collected a = {0}, b = {0};
    slm_generate_params gp = {.max_new_tokens = 6, .sampling = slm_sampler_params_default(),
                              .reuse_prefix = true, .on_token = collect, .user = &a};
    slm_generate_stats st;
    assert_int_equal(slm_generate(s, turn, 25, &gp, &st, &err), SLM_OK);
    assert_int_equal(st.n_prompt_cached, 0);
    assert_int_equal(st.n_prompt, 25);
    /* the second prompt shares 25 ids (the reply's ids are not in it) */
    a = (collected){0};
    assert_int_equal(slm_generate(s, turn, 40, &gp, &st, &err), SLM_OK);
    assert_int_equal(st.n_prompt_cached, 25);
    assert_int_equal(st.n_prompt, 40);
    gp.reuse_prefix = false;
    gp.user = &b;
    assert_int_equal(slm_generate(fresh, turn, 40, &gp, NULL, &err), SLM_OK);
    assert_int_equal(a.ids.n, b.ids.n);
    assert_memory_equal(a.ids.ids, b.ids.ids, a.ids.n * sizeof(int32_t));
    /* the same prompt again: all but the last id come from the cache */
    gp.reuse_prefix = true;
    gp.user = &a;
    assert_int_equal(slm_generate(s, turn, 40, &gp, &st, &err), SLM_OK);
    assert_int_equal(st.n_prompt_cached, 39);
    slm_session_free(s);
    slm_session_free(fresh);
    slm_model_free(m);
}

static void bad_steps_refused(void **state)
{
    (void)state;
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_model *other = test_load_model(test_source_path(STORIES));
    slm_error err = {0};
    slm_batch *b = NULL;
    assert_int_equal(slm_batch_new(m, 100, &b, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "max_tokens"));
    assert_int_equal(slm_batch_new(m, 256, &b, &err), SLM_OK);
    slm_session *s = NULL, *t = NULL, *o = NULL;
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_session_new(m, 0, &t, &err), SLM_OK);
    assert_int_equal(slm_session_new(other, 0, &o, &err), SLM_OK);
    int32_t ids[300];
    for (int i = 0; i < 300; i++)
        ids[i] = 10 + i;
    const int32_t *x[2] = {ids, ids};
    size_t n[2] = {3, 3};
    slm_session *same[2] = {s, s}, *mixed[2] = {s, o}, *two[2] = {s, t};
    assert_int_equal(slm_batch_eval(b, same, x, n, 2, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(slm_batch_eval(b, mixed, x, n, 2, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "another model"));
    size_t big[2] = {200, 100};
    assert_int_equal(slm_batch_eval(b, two, x, big, 2, &err), SLM_ERR_RANGE);
    assert_non_null(strstr(err.msg, "holds 256"));
    int32_t bad[2] = {5, 100000};
    const int32_t *xb[2] = {ids, bad};
    size_t nb[2] = {3, 2};
    assert_int_equal(slm_batch_eval(b, two, xb, nb, 2, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "session 1"));
    assert_non_null(strstr(err.msg, "100000"));
    /* nothing was evaluated by the refused steps */
    assert_int_equal(slm_session_n_past(s), 0);
    assert_int_equal(slm_session_n_past(t), 0);
    assert_null(slm_session_logits(s));
    assert_int_equal(slm_batch_eval(b, two, x, n, 2, &err), SLM_OK);
    assert_int_equal(slm_session_n_past(s), 3);
    assert_non_null(slm_session_logits(t));
    slm_session_free(s);
    slm_session_free(t);
    slm_session_free(o);
    slm_batch_free(b);
    slm_model_free(other);
    slm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stories_f32_kv_f32),   cmocka_unit_test(stories_f32_kv_f16),
        cmocka_unit_test(stories_f32_kv_q8),    cmocka_unit_test(stories_q8_kv_f32),
        cmocka_unit_test(stories_q8_kv_f16),    cmocka_unit_test(stories_q8_kv_q8),
        cmocka_unit_test(stories_q4_kv_f32),    cmocka_unit_test(stories_bf16_kv_f16),
        cmocka_unit_test(tinyllama_f32),        cmocka_unit_test(tinyllama_q8_kv_q8),
        cmocka_unit_test(phi3_f32_kv_f16),      cmocka_unit_test(phi3_q8),
        cmocka_unit_test(generations_match_generate),
        cmocka_unit_test(cancel_ends_one),
        cmocka_unit_test(reuse_prefix_counts_cached),
        cmocka_unit_test(bad_steps_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
