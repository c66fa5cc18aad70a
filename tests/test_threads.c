/*
 * test_threads.c — sessions share one model read-only (issue 10): two
 * threads, each with its own session over ONE loaded model and its own
 * thread counts (1 and 2), generate greedily at the same time; each
 * continuation must equal the same generation run alone, and the model must
 * come out byte for byte as it went in. Run under ASan/UBSan in make test.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "session.h"
#include "slm.h"
#include "test_util.h"

#define N_NEW 24
#define ROUNDS 3

static const char *const prompts[2] = {
    "Once upon a time, there was a little girl named Lily who loved to play in the park with "
    "her friends and her dog.",
    "The big brown bear walked slowly through the dark forest, looking for honey and",
};

typedef struct {
    slm_model *model;
    const int32_t *prompt;
    size_t n_prompt;
    int threads; /* both n_threads and n_threads_batch */
    pthread_barrier_t *start;
    test_ids out;
    slm_status status;
    slm_error err;
} job;

static bool collect(void *user, int32_t id, const char *text, size_t len)
{
    (void)text, (void)len;
    test_ids *ids = user;
    if (id >= 0 && ids->n < TEST_MAX_GENERATED) /* id -1: held-back text, no token */
        ids->ids[ids->n++] = id;
    return true;
}

/* Greedy continuation in a fresh session with j->threads threads; no cmocka
   calls here (it runs in a worker thread): the status is checked after join. */
static void *run_job(void *arg)
{
    job *j = arg;
    slm_session *s = NULL;
    j->out.n = 0;
    j->status = slm_session_new(j->model, 0, &s, &j->err);
    if (j->status != SLM_OK)
        return NULL;
    slm_session_set_threads(s, j->threads, j->threads);
    slm_generate_params p = {.max_new_tokens = N_NEW,
                             .sampling = slm_sampler_params_default(),
                             .on_token = collect,
                             .user = &j->out};
    p.sampling.temperature = 0.0f;
    if (j->start)
        pthread_barrier_wait(j->start);
    j->status = slm_generate(s, j->prompt, j->n_prompt, &p, NULL, &j->err);
    slm_session_free(s);
    return NULL;
}

static void assert_same_ids(const test_ids *a, const test_ids *b, const char *what)
{
    if (a->n != b->n || memcmp(a->ids, b->ids, a->n * sizeof a->ids[0]) != 0)
        fail_msg("%s: concurrent continuation (%zu ids) differs from the one run alone (%zu ids)",
                 what, a->n, b->n);
}

static void two_sessions_at_once(const char *rel, slm_weights_format weights)
{
    slm_load_options lo = slm_load_options_default();
    lo.weights = weights;
    lo.n_threads = lo.n_threads_batch = 2;
    slm_model *m = NULL;
    slm_error err = {0};
    if (slm_model_load(test_source_path(rel), &lo, &m, &err) != SLM_OK)
        fail_msg("load %s: %s", rel, err.msg);
    slm_tokens toks[2] = {{0}, {0}};
    job alone[2], both[2];
    for (int i = 0; i < 2; i++) {
        if (slm_tokenize(slm_model_tokenizer(m), prompts[i], strlen(prompts[i]), true, &toks[i],
                         &err) != SLM_OK)
            fail_msg("tokenize: %s", err.msg);
        assert_true(toks[i].n > 8); /* long enough for the batched prompt path */
        alone[i] = (job){.model = m, .prompt = toks[i].ids, .n_prompt = toks[i].n,
                         .threads = i + 1};
        run_job(&alone[i]);
        if (alone[i].status != SLM_OK)
            fail_msg("%s alone: %s", rel, alone[i].err.msg);
        assert_true(alone[i].out.n > 0);
    }
    struct slm_model before;
    memcpy(&before, m, sizeof before); /* sessions must never write the model */
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    for (int round = 0; round < ROUNDS; round++) {
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            both[i] = alone[i];
            both[i].start = &start;
            assert_int_equal(pthread_create(&th[i], NULL, run_job, &both[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        for (int i = 0; i < 2; i++) {
            if (both[i].status != SLM_OK)
                fail_msg("%s concurrent: %s", rel, both[i].err.msg);
            assert_same_ids(&both[i].out, &alone[i].out, rel);
        }
    }
    pthread_barrier_destroy(&start);
    assert_memory_equal(&before, m, sizeof before);
    for (int i = 0; i < 2; i++)
        slm_tokens_free(&toks[i]);
    slm_model_free(m);
}

static void test_stories_two_sessions(void **state)
{
    (void)state;
    two_sessions_at_once("weights/stories260K", SLM_WEIGHTS_AUTO);
}

static void test_tinyllama_two_sessions(void **state)
{
    (void)state;
    two_sessions_at_once("tests/fixtures/models/tinyllama", SLM_WEIGHTS_AUTO);
}

static void test_tinyllama_q8_two_sessions(void **state)
{
    (void)state;
    two_sessions_at_once("tests/fixtures/models/tinyllama", SLM_WEIGHTS_Q8_0);
}

/* A session starts from the model's load-time counts; changing one session
   changes neither the model nor its sibling. */
static void test_session_threads_are_per_session(void **state)
{
    (void)state;
    slm_load_options lo = slm_load_options_default();
    lo.n_threads = 3;
    lo.n_threads_batch = 5;
    slm_model *m = NULL;
    slm_error err = {0};
    if (slm_model_load(test_source_path("weights/stories260K"), &lo, &m, &err) != SLM_OK)
        fail_msg("load: %s", err.msg);
    slm_session *a = NULL, *b = NULL;
    assert_int_equal(slm_session_new(m, 64, &a, &err), SLM_OK);
    assert_int_equal(slm_session_new(m, 64, &b, &err), SLM_OK);
    assert_int_equal(a->n_threads, 3);
    assert_int_equal(a->n_threads_batch, 5);
    slm_session_set_threads(b, 1, 2);
    assert_int_equal(b->n_threads, 1);
    assert_int_equal(b->n_threads_batch, 2);
    slm_session_set_threads(b, 0, 4); /* 0 keeps the current value */
    assert_int_equal(b->n_threads, 1);
    assert_int_equal(b->n_threads_batch, 4);
    assert_int_equal(a->n_threads, 3);
    assert_int_equal(a->n_threads_batch, 5);
    assert_int_equal(m->n_threads, 3);
    assert_int_equal(m->n_threads_batch, 5);
    slm_session_free(a);
    slm_session_free(b);
    slm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stories_two_sessions),
        cmocka_unit_test(test_tinyllama_two_sessions),
        cmocka_unit_test(test_tinyllama_q8_two_sessions),
        cmocka_unit_test(test_session_threads_are_per_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
