/*
 * test_router_classifier.c — the router's shipped classifier (weights/router,
 * trained by tools/train_router.py) run by slm's own forward pass:
 *   - accuracy on the committed test split (tools/data/router/test.jsonl,
 *     never used for training choices) >= 92%, classified with slm_classify
 *     in batches of 64;
 *   - probabilities on the queries of tests/fixtures/router/probs.json
 *     (written by tools/make_router_fixtures.py with transformers) within
 *     1e-5, as one batch and one query at a time;
 *   - the acceptance lines of `slm classify -m weights/router`:
 *     "SIMPLE (0.9x) -> What is Python?" and COMPLEX for a system design.
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

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fileio.h"
#include "slm.h"
#include "test_util.h"

#define ROUTER_DIR "weights/router"
#define TEST_SPLIT "tools/data/router/test.jsonl"
#define PROBS_FIXTURE "tests/fixtures/router/probs.json"
#define BATCH 64
/* Issue 13 asks for 0.92. The shipped model reaches 92.9% on the current
 * split (80/10/10 by template group; whole-request items and pasted texts
 * dealt per split too, so every test phrasing and request is unseen in
 * training; see weights/router/README.md): the floor is that result
 * rounded down, so a regression of the data, the training or slm's forward
 * pass fails it. */
#define MIN_ACCURACY 0.92
#define PROB_TOLERANCE 1e-5

typedef struct {
    char **texts;
    int *labels; /* 0 SIMPLE, 1 COMPLEX */
    size_t n;
} labelled_set;

static void set_free(labelled_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->texts[i]);
    free(s->texts);
    free(s->labels);
}

/* One {"text", "label"} object per line; fails the test on a malformed line. */
static labelled_set load_jsonl(const char *rel)
{
    char *data = NULL;
    size_t len = 0;
    slm_error err = {0};
    if (slm_read_file(test_source_path(rel), &data, &len, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    labelled_set s = {0};
    size_t cap = 0, line_no = 0;
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        line_no++;
        cJSON *o = cJSON_Parse(line);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "label");
        if (!cJSON_IsString(t) || !cJSON_IsString(l))
            fail_msg("%s:%zu: not a {\"text\", \"label\"} object", rel, line_no);
        if (s.n == cap) {
            cap = cap ? 2 * cap : 256;
            s.texts = realloc(s.texts, cap * sizeof *s.texts);
            s.labels = realloc(s.labels, cap * sizeof *s.labels);
            assert_non_null(s.texts);
            assert_non_null(s.labels);
        }
        s.texts[s.n] = strdup(t->valuestring);
        assert_non_null(s.texts[s.n]);
        s.labels[s.n++] = strcmp(l->valuestring, "COMPLEX") == 0;
        cJSON_Delete(o);
    }
    free(data);
    return s;
}

static slm_model *load_router(void)
{
    slm_model *m = test_load_model(test_source_path(ROUTER_DIR));
    assert_int_equal(slm_model_n_labels(m), 2);
    assert_string_equal(slm_model_label(m, 0), "SIMPLE");
    assert_string_equal(slm_model_label(m, 1), "COMPLEX");
    return m;
}

static void test_accuracy_on_test_split(void **state)
{
    (void)state;
    labelled_set s = load_jsonl(TEST_SPLIT);
    assert_true(s.n >= 400);
    slm_model *m = load_router();
    float probs[BATCH * 2];
    size_t correct = 0, wrong_by_label[2] = {0, 0};
    slm_error err = {0};
    for (size_t i = 0; i < s.n; i += BATCH) {
        size_t b = s.n - i < BATCH ? s.n - i : BATCH;
        if (slm_classify(m, (const char *const *)s.texts + i, b, probs, NULL, NULL, &err) != SLM_OK)
            fail_msg("slm_classify: %s", err.msg);
        for (size_t j = 0; j < b; j++) {
            int pred = probs[2 * j + 1] > probs[2 * j];
            if (pred == s.labels[i + j])
                correct++;
            else
                wrong_by_label[s.labels[i + j]]++;
        }
    }
    double acc = (double)correct / (double)s.n;
    printf("router test split: %zu/%zu correct (%.2f%%); wrong: %zu SIMPLE, %zu COMPLEX\n",
           correct, s.n, 100.0 * acc, wrong_by_label[0], wrong_by_label[1]);
    assert_true(acc >= MIN_ACCURACY);
    slm_model_free(m);
    set_free(&s);
}

typedef struct {
    char **texts;
    double *probs; /* n x 2 */
    size_t n;
} golden;

static golden load_golden(void)
{
    cJSON *j = NULL;
    slm_error err = {0};
    if (slm_json_load(test_source_path(PROBS_FIXTURE), &j, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(j, "queries");
    golden g = {0};
    g.n = (size_t)cJSON_GetArraySize(qs);
    assert_true(g.n >= 32);
    g.texts = calloc(g.n, sizeof *g.texts);
    g.probs = calloc(g.n * 2, sizeof *g.probs);
    assert_non_null(g.texts);
    assert_non_null(g.probs);
    size_t i = 0;
    const cJSON *q;
    cJSON_ArrayForEach(q, qs) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(q, "text");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(q, "probs");
        if (!cJSON_IsString(t) || cJSON_GetArraySize(p) != 2)
            fail_msg("%s: query %zu needs text and two probs", PROBS_FIXTURE, i);
        g.texts[i] = strdup(t->valuestring);
        g.probs[2 * i] = cJSON_GetArrayItem(p, 0)->valuedouble;
        g.probs[2 * i + 1] = cJSON_GetArrayItem(p, 1)->valuedouble;
        i++;
    }
    cJSON_Delete(j);
    return g;
}

static double max_diff(const float *got, const double *want, size_t n, size_t *worst)
{
    double d = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)got[i] - want[i]) > d) {
            d = fabs((double)got[i] - want[i]);
            *worst = i / 2;
        }
    return d;
}

static void test_probs_equal_transformers(void **state)
{
    (void)state;
    golden g = load_golden();
    slm_model *m = load_router();
    float *probs = malloc(g.n * 2 * sizeof *probs);
    assert_non_null(probs);
    slm_error err = {0};
    size_t worst = 0;
    if (slm_classify(m, (const char *const *)g.texts, g.n, probs, NULL, NULL, &err) != SLM_OK)
        fail_msg("slm_classify: %s", err.msg);
    double d = max_diff(probs, g.probs, g.n * 2, &worst);
    printf("router probs, %zu queries in one batch: max |slm - transformers| = %.3g\n", g.n, d);
    if (d > PROB_TOLERANCE)
        fail_msg("query %zu '%s': |diff| %.3g > %g", worst, g.texts[worst], d, PROB_TOLERANCE);
    /* each query alone: the same probabilities as in the batch */
    for (size_t i = 0; i < g.n; i++) {
        float one[2];
        if (slm_classify(m, (const char *const *)g.texts + i, 1, one, NULL, NULL, &err) != SLM_OK)
            fail_msg("slm_classify: %s", err.msg);
        size_t w = 0;
        double di = max_diff(one, g.probs + 2 * i, 2, &w);
        if (di > PROB_TOLERANCE)
            fail_msg("query %zu alone '%s': |diff| %.3g > %g", i, g.texts[i], di, PROB_TOLERANCE);
    }
    free(probs);
    slm_model_free(m);
    for (size_t i = 0; i < g.n; i++)
        free(g.texts[i]);
    free(g.texts);
    free(g.probs);
}

/* `slm classify -m weights/router TEXT` prints "LABEL (0.dd) -> TEXT". */
static void expect_cli(const char *text, const char *label, const char *score_prefix)
{
    char args[512], *out = NULL, *err_text = NULL;
    snprintf(args, sizeof args, "classify -m '%s' '%s'", test_source_path(ROUTER_DIR), text);
    int rc = test_run_cli(args, &out, &err_text);
    if (rc != 0)
        fail_msg("slm %s: exit %d: %s", args, rc, err_text);
    char want_head[64], want_tail[512];
    snprintf(want_head, sizeof want_head, "%s (%s", label, score_prefix);
    snprintf(want_tail, sizeof want_tail, ") -> %s\n", text);
    size_t n = strlen(out), nt = strlen(want_tail);
    if (strncmp(out, want_head, strlen(want_head)) != 0 || n < nt ||
        strcmp(out + n - nt, want_tail) != 0)
        fail_msg("slm classify printed '%s', expected '%s..%s'", out, want_head, want_tail);
    free(out);
    free(err_text);
}

static void test_cli_acceptance(void **state)
{
    (void)state;
    expect_cli("What is Python?", "SIMPLE", "0.9");
    expect_cli("Design a distributed RAG system with fault tolerance", "COMPLEX", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy_on_test_split),
        cmocka_unit_test(test_probs_equal_transformers),
        cmocka_unit_test(test_cli_acceptance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
