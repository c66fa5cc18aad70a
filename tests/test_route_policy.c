/*
 * test_route_policy.c — the router's pure rules (engine/route/): the
 * policy, costs, the retry schedule (which statuses, capped exponential
 * backoff with jitter, Retry-After seconds and HTTP dates, retry-after-ms,
 * the cap), eval's agreement and judge grade, percentiles and the --json
 * object. No sockets, no model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "judge.h"
#include "policy.h"
#include "report.h"
#include "retry.h"

/* |a - b| <= eps, with both values in the message when not */
#define assert_near(a, b, eps)                                                                  \
    do {                                                                                        \
        double a_ = (a), b_ = (b);                                                              \
        if (!(fabs(a_ - b_) <= (eps)))                                                          \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                                 \
    } while (0)

static slm_router_config base_config(void)
{
    slm_router_config c = {0};
    c.local.max_tokens = 100;
    c.classifier.present = true;
    c.classifier.label = "SIMPLE";
    c.classifier.threshold = 0.85;
    c.fallback = true;
    return c;
}

static slm_route_facts facts(double label_score, int n_prompt)
{
    slm_route_facts f = {0};
    f.counted = true;
    f.n_prompt = n_prompt;
    f.n_ctx = 512;
    f.classified = true;
    snprintf(f.top_label, sizeof f.top_label, label_score >= 0.5 ? "SIMPLE" : "COMPLEX");
    f.top_score = label_score >= 0.5 ? label_score : 1 - label_score;
    f.label_score = label_score;
    return f;
}

static void test_policy(void **state)
{
    (void)state;
    slm_router_config c = base_config();
    char why[256];
    slm_route_facts f = facts(0.93, 10);
    assert_int_equal(slm_route_decide(&c, SLM_FORCE_NONE, &f, why, sizeof why), SLM_ROUTE_LOCAL);
    assert_string_equal(why, "classifier: SIMPLE 0.930 > threshold 0.85");
    f = facts(0.85, 10); /* "above" the threshold: equal is not enough */
    assert_int_equal(slm_route_decide(&c, SLM_FORCE_NONE, &f, why, sizeof why), SLM_ROUTE_REMOTE);
    f = facts(0.2, 10);
    assert_int_equal(slm_route_decide(&c, SLM_FORCE_NONE, &f, why, sizeof why), SLM_ROUTE_REMOTE);
    assert_non_null(strstr(why, "top label COMPLEX 0.800"));
    /* the prompt plus the answer's room must fit the local context */
    f = facts(0.99, 412);
    assert_int_equal(slm_route_decide(&c, SLM_FORCE_NONE, &f, why, sizeof why), SLM_ROUTE_LOCAL);
    f = facts(0.99, 413);
    assert_int_equal(slm_route_decide(&c, SLM_FORCE_NONE, &f, why, sizeof why), SLM_ROUTE_REMOTE);
    assert_non_null(strstr(why, "context: the prompt's 413 tokens + max_tokens 100"));
    /* --force wins over both */
    assert_int_equal(slm_route_decide(&c, SLM_FORCE_LOCAL, &f, why, sizeof why), SLM_ROUTE_LOCAL);
    assert_string_equal(why, "forced local");
    f = facts(0.99, 10);
    assert_int_equal(slm_route_decide(&c, SLM_FORCE_REMOTE, &f, why, sizeof why), SLM_ROUTE_REMOTE);
    assert_string_equal(why, "forced remote");
    /* no classifier: remote */
    c.classifier.present = false;
    f = facts(0.99, 10);
    assert_int_equal(slm_route_decide(&c, SLM_FORCE_NONE, &f, why, sizeof why), SLM_ROUTE_REMOTE);
    slm_route_force force;
    assert_true(slm_route_force_parse("local", &force) && force == SLM_FORCE_LOCAL);
    assert_true(slm_route_force_parse("remote", &force) && force == SLM_FORCE_REMOTE);
    assert_false(slm_route_force_parse("cloud", &force));
}

static void test_costs(void **state)
{
    (void)state;
    /* gpt-4o: 1000 in + 500 out = $0.0025 + $0.005 */
    assert_near(slm_cost_usd(1000, 500, 2.50, 10.00), 0.0075, 1e-15);
    /* gpt-4o-mini */
    assert_near(slm_cost_usd(1000000, 1000000, 0.15, 0.60), 0.75, 1e-12);
    /* the self-hosted small model */
    assert_near(slm_cost_usd(12, 200, 0.02, 0.05), 0.00001024, 1e-15);
    assert_near(slm_cost_usd(0, 0, 2.5, 10), 0, 0);
}

static void test_retry_statuses(void **state)
{
    (void)state;
    int yes[] = {408, 409, 429, 500, 502, 503, 504, 599};
    int no[] = {200, 400, 401, 403, 404, 413, 422, 600};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        assert_true(slm_retry_status(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_false(slm_retry_status(no[i]));
}

static void test_backoff_schedule(void **state)
{
    (void)state;
    /* 0.5 s doubling to 8 s; with u = 0 half of it, with u -> 1 all of it */
    const double full[] = {0.5, 1, 2, 4, 8, 8, 8};
    for (int i = 0; i < 7; i++) {
        assert_near(slm_backoff_seconds(i, 0.5, 8, 0), full[i] / 2, 1e-12);
        assert_near(slm_backoff_seconds(i, 0.5, 8, 0.5), full[i] * 0.75, 1e-12);
        assert_true(slm_backoff_seconds(i, 0.5, 8, 0.9999999) <= full[i]);
    }
    assert_near(slm_backoff_seconds(1000, 0.5, 8, 0), 4, 1e-12); /* no overflow */
    assert_near(slm_backoff_seconds(-1, 0.5, 8, 0), 0.25, 1e-12);
    assert_near(slm_backoff_seconds(0, 0.5, 8, 7), slm_backoff_seconds(0, 0.5, 8, 0.999999), 1e-12);
}

static void test_retry_after(void **state)
{
    (void)state;
    double s;
    assert_true(slm_parse_retry_after("120", 0, &s) && s == 120);
    assert_true(slm_parse_retry_after(" 1.5 ", 0, &s) && s == 1.5);
    assert_true(slm_parse_retry_after("0", 0, &s) && s == 0);
    /* 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example) */
    time_t t = 784111777;
    assert_true(slm_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30, &s));
    assert_near(s, 30, 0);
    assert_true(slm_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", t - 5, &s));
    assert_near(s, 5, 0);
    assert_true(slm_parse_retry_after("Sun Nov  6 08:49:37 1994", t - 1, &s));
    assert_near(s, 1, 0);
    assert_true(slm_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 100, &s));
    assert_near(s, 0, 0); /* in the past */
    assert_true(slm_parse_retry_after("Wed, 02 Dec 2026 05:00:00 GMT", 1796187600 - 60, &s));
    assert_near(s, 60, 0);
    const char *bad[] = {"", "soon", "-1", "1x", "Sun, 06 Foo 1994 08:49:37 GMT",
                         "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 1994 25:00:00 GMT"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(slm_parse_retry_after(bad[i], t, &s));
    assert_false(slm_parse_retry_after(NULL, t, &s));
    assert_true(slm_parse_retry_after_ms("300", &s) && s == 0.3);
    assert_true(slm_parse_retry_after_ms("12.5", &s) && s == 0.0125);
    assert_false(slm_parse_retry_after_ms("x", &s));
    /* the hint wins over the backoff, up to its cap */
    assert_near(slm_retry_wait(-1, 30, 0.7), 0.7, 0);
    assert_near(slm_retry_wait(2, 30, 0.7), 2, 0);
    assert_near(slm_retry_wait(300, 30, 0.7), 30, 0);
}

static void test_agreement(void **state)
{
    (void)state;
    bool exact;
    assert_near(slm_agreement("Positive.", " positive", &exact), 1, 0);
    assert_true(exact);
    assert_near(slm_agreement("Positive", "Negative", &exact), 0, 0);
    assert_true(exact);
    /* token F1: 3 common words of 4 and 6: p 3/4, r 3/6 -> 0.6 */
    assert_near(slm_agreement("the cat sat down", "the cat sat on a mat", &exact), 0.6, 1e-12);
    assert_false(exact);
    assert_near(slm_agreement("", "a b c d", &exact), 0, 0);
}

static void test_judge(void **state)
{
    (void)state;
    assert_int_equal(slm_judge_parse_grade("Grade: 7"), 7);
    assert_int_equal(slm_judge_parse_grade("I'd say\nGrade: 10\n"), 10);
    assert_int_equal(slm_judge_parse_grade("Grade: 11"), -1);
    assert_int_equal(slm_judge_parse_grade("It deserves 15 points... no, 4"), 4);
    assert_int_equal(slm_judge_parse_grade("no idea"), -1);
    char *p = slm_judge_prompt("Q?", "REF", "CAND");
    assert_non_null(strstr(p, "Q?"));
    assert_non_null(strstr(p, "REF"));
    assert_non_null(strstr(p, "CAND"));
    assert_non_null(strstr(p, "Grade: N"));
    free(p);
}

static void test_percentile(void **state)
{
    (void)state;
    double v[] = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    assert_near(slm_percentile(v, 10, 50), 5, 0);
    assert_near(slm_percentile(v, 10, 95), 10, 0);
    assert_near(slm_percentile(v, 10, 0), 1, 0);
    assert_near(slm_percentile(v, 0, 50), 0, 0);
    double one = 42;
    assert_near(slm_percentile(&one, 1, 95), 42, 0);
}

static void test_result_json(void **state)
{
    (void)state;
    slm_route_result r = {0};
    r.answered = true;
    r.route = SLM_ROUTE_LOCAL;
    r.fallback = true;
    snprintf(r.reason, sizeof r.reason, "why");
    r.classified = true;
    snprintf(r.label, sizeof r.label, "SIMPLE");
    r.score = 0.5;
    r.answer = "hi";
    r.prompt_tokens = 3;
    r.completion_tokens = 4;
    r.attempts = 2;
    r.latency_ms = 12.34;
    r.cost_usd = 0.25;
    r.cost_if_remote_usd = 1.5;
    cJSON *o = slm_route_result_json(&r, true);
    char *s = cJSON_PrintUnformatted(o);
    assert_string_equal(s, "{\"route\":\"local\",\"fallback\":true,\"reason\":\"why\","
                           "\"classifier\":{\"label\":\"SIMPLE\",\"score\":0.5},\"answer\":\"hi\","
                           "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4},\"attempts\":2,"
                           "\"latency_ms\":12.3,\"cost_usd\":0.25,\"cost_if_remote_usd\":1.5}");
    free(s);
    cJSON_Delete(o);
    r.answered = false;
    r.classified = false;
    snprintf(r.error, sizeof r.error, "cut");
    r.cut = true;
    o = slm_route_result_json(&r, false);
    s = cJSON_PrintUnformatted(o);
    assert_non_null(strstr(s, "\"classifier\":null"));
    assert_null(strstr(s, "\"answer\""));
    assert_non_null(strstr(s, "\"error\":\"cut\",\"cut\":true"));
    free(s);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),         cmocka_unit_test(test_costs),
        cmocka_unit_test(test_retry_statuses), cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_retry_after),    cmocka_unit_test(test_agreement),
        cmocka_unit_test(test_judge),          cmocka_unit_test(test_percentile),
        cmocka_unit_test(test_result_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
