/*
 * test_cli_profile.c — `--profile` and `--profile-json FILE` of run,
 * classify, bench and chat (tools/slm/profile_output.c), on the bundled
 * stories260K and the fixture models:
 *   - the table follows the stats line: per phase, the rows (without
 *     "other") add up to the phase's measured time within 10%, the rows with
 *     "other" to the phase's time, every product row has GB/s and GFLOP/s
 *     above 0 and no other row has them; the decode and prefill times are
 *     the stats line's;
 *   - the JSON parses (cJSON) and holds the table's numbers;
 *   - the generated text (greedy) and the classifier's output are the same
 *     with and without --profile;
 *   - bench: a table and a JSON line per row, labelled with the row's test;
 *     chat: one table when the chat ends, with the tokenize phase;
 *   - a missing or empty FILE is a usage error, an unwritable one fails
 *     before any work, naming it.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fileio.h"
#include "test_util.h"

#define DISTILBERT "tests/fixtures/models/distilbert_sst2"
#define TINYLLAMA "tests/fixtures/models/tinyllama"
#define RUN_ARGS "run -p 'Once upon a time' -n 96 --temp 0"

/* ============================================================ the table */

typedef struct {
    char name[24];
    long calls; /* -1: "-" (the other row) */
    double ms, pct, gb_s, gflop_s;
    int cols; /* numbers after the name: 3, or 5 with GB/s and GFLOP/s */
} trow;

typedef struct {
    char name[16];
    long tokens;
    double ms;
    trow rows[32];
    int n;
} tphase;

typedef struct {
    tphase ph[8];
    int n;
} ttable;

static bool is_product(const char *op)
{
    static const char *const names[] = {"q",  "k",    "v",       "qkv",       "o",
                                        "gate_up", "up", "down", "lm_head", "classifier"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(op, names[i]))
            return true;
    return false;
}

static void parse_row(const char *line, trow *r)
{
    char calls[24];
    int n = sscanf(line, " %23s %23s %lf %lf %lf %lf", r->name, calls, &r->ms, &r->pct, &r->gb_s,
                   &r->gflop_s);
    if (n != 4 && n != 6)
        fail_msg("a profile row that does not parse: '%s'", line);
    r->cols = n - 1;
    r->calls = strcmp(calls, "-") ? strtol(calls, NULL, 10) : -1;
}

/* The table after "[slm] profile" in stderr (`label`: bench's "of TEST"
   line before it, else NULL). */
static void parse_table(const char *err, const char *label, ttable *t)
{
    const char *at = err;
    if (label) {
        char want[64];
        snprintf(want, sizeof want, "[slm] profile of %s\n", label);
        if (!(at = strstr(err, want)))
            fail_msg("no '%s' in: %s", want, err);
    }
    at = strstr(at, "[slm] profile  ");
    if (!at)
        fail_msg("no profile table in: %s", err);
    memset(t, 0, sizeof *t);
    at = strchr(at, '\n') + 1;
    char line[256];
    while (*at) {
        const char *eol = strchr(at, '\n');
        size_t len = eol ? (size_t)(eol - at) : strlen(at);
        assert_true(len < sizeof line);
        memcpy(line, at, len);
        line[len] = '\0';
        at += len + (eol != NULL);
        tphase *ph = t->n ? &t->ph[t->n - 1] : NULL;
        if (line[0] == ' ' && line[1] == ' ' && ph) {
            assert_true(ph->n < 32);
            parse_row(line, &ph->rows[ph->n++]);
        } else if (strstr(line, " tokens, ") && t->n < 8 && line[0] != '[') {
            ph = &t->ph[t->n++];
            if (sscanf(line, "%15[^:]: %ld tokens, %lf ms", ph->name, &ph->tokens, &ph->ms) != 3)
                fail_msg("a phase line that does not parse: '%s'", line);
        } else {
            break; /* the table ended */
        }
    }
    assert_true(t->n > 0);
}

static const tphase *phase(const ttable *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->ph[i].name, name))
            return &t->ph[i];
    fail_msg("no phase '%s' in the profile", name);
    return NULL;
}

static const trow *row(const tphase *ph, const char *name)
{
    for (int i = 0; i < ph->n; i++)
        if (!strcmp(ph->rows[i].name, name))
            return &ph->rows[i];
    return NULL;
}

/* Rows without "other" within 10% of the phase's time; with it, the phase's
   time (to the table's rounding); GB/s and GFLOP/s exactly on products. */
static void check_phase(const tphase *ph)
{
    double rows = 0, other = 0;
    bool has_other = false;
    int products = 0;
    for (int i = 0; i < ph->n; i++) {
        const trow *r = &ph->rows[i];
        if (!strcmp(r->name, "other")) {
            has_other = true;
            other = r->ms;
            assert_int_equal(r->cols, 3);
            continue;
        }
        assert_true(r->calls > 0);
        rows += r->ms;
        if (is_product(r->name)) {
            products++;
            if (r->cols != 5 || !(r->gb_s > 0) || !(r->gflop_s > 0))
                fail_msg("%s: product row %s has no GB/s or GFLOP/s", ph->name, r->name);
        } else if (r->cols != 3) {
            fail_msg("%s: row %s is not a product but has GB/s", ph->name, r->name);
        }
    }
    assert_true(has_other);
    double slack = 0.0006 * (ph->n + 1);
    if (fabs(rows + other - ph->ms) > slack)
        fail_msg("%s: rows + other = %.3f ms, phase %.3f ms", ph->name, rows + other, ph->ms);
    if (strcmp(ph->name, "tokenize") != 0 && products == 0)
        fail_msg("%s: no product rows", ph->name);
}

static void check_table(const ttable *t)
{
    for (int i = 0; i < t->n; i++)
        check_phase(&t->ph[i]);
}

/* The rows (without "other") add up to each phase's measured time within
 * 10%; false with why filled when not. */
static bool table_adds_up(const ttable *t, char *why, size_t cap)
{
    for (int i = 0; i < t->n; i++) {
        const tphase *ph = &t->ph[i];
        double rows = 0;
        for (int k = 0; k < ph->n; k++)
            rows += strcmp(ph->rows[k].name, "other") ? ph->rows[k].ms : 0;
        if (fabs(rows - ph->ms) > 0.10 * ph->ms) {
            snprintf(why, cap, "%s: rows add up to %.3f ms, the phase took %.3f ms (more than 10%% apart)",
                     ph->name, rows, ph->ms);
            return false;
        }
    }
    return true;
}

/* ============================================================ helpers */

static void run_ok(const char *args, const char *input, int want, char **out, char **err)
{
    int rc = input ? test_run_cli_stdin(args, input, out, err) : test_run_cli(args, out, err);
    if (rc != want)
        fail_msg("slm %s: exit %d (want %d), stderr: %s", args, rc, want, err ? *err : "");
}

/* Runs a profiled command and parses the table of each label (NULL: the
 * only one) until every table adds up (table_adds_up), at most 3 runs. The
 * phases are wall time: on a loaded machine (ctest -j2 on 2 cores) the
 * process can be descheduled between two rows, and a 3 ms slice lost in a
 * 1 ms phase is time no operation took; a profile that does not account for
 * the time fails all three runs. */
static void run_profiled(const char *args, const char *input, char **out, char **err,
                         const char *const *labels, ttable *tables, int n)
{
    char why[256] = "";
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) {
            fprintf(stderr, "(%s; measuring again)\n", why);
            free(*out);
            free(*err);
        }
        run_ok(args, input, 0, out, err);
        bool ok = true;
        for (int i = 0; i < n; i++) {
            parse_table(*err, labels ? labels[i] : NULL, &tables[i]);
            check_table(&tables[i]);
            ok = ok && table_adds_up(&tables[i], why, sizeof why);
        }
        if (ok)
            return;
    }
    fail_msg("slm %s, 3 runs: %s", args, why);
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' not in: %s", needle, text);
}

/* The number after `key` in the stats line. */
static double stat_number(const char *err, const char *key)
{
    const char *line = strstr(err, "[slm] prompt ");
    assert_non_null(line);
    const char *at = strstr(line, key);
    if (!at)
        fail_msg("the stats line lacks '%s': %s", key, line);
    return strtod(at + strlen(key), NULL);
}

static char *read_text(const char *path)
{
    char *text;
    size_t len;
    slm_error err = {0};
    if (slm_read_file(path, &text, &len, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    return text;
}

/* The JSON's phases and ops hold the table's numbers (to its rounding). */
static void check_json_matches(const cJSON *j, const ttable *t)
{
    const cJSON *phases = cJSON_GetObjectItem(j, "phases");
    assert_true(cJSON_IsArray(phases));
    assert_int_equal(cJSON_GetArraySize(phases), t->n);
    for (int i = 0; i < t->n; i++) {
        const cJSON *p = cJSON_GetArrayItem(phases, i);
        const tphase *ph = &t->ph[i];
        assert_string_equal(cJSON_GetObjectItem(p, "phase")->valuestring, ph->name);
        assert_int_equal((long)cJSON_GetObjectItem(p, "tokens")->valuedouble, ph->tokens);
        assert_true(fabs(cJSON_GetObjectItem(p, "ms")->valuedouble - ph->ms) <= 0.0006);
        const cJSON *ops = cJSON_GetObjectItem(p, "ops");
        assert_int_equal(cJSON_GetArraySize(ops), ph->n);
        for (int k = 0; k < ph->n; k++) {
            const cJSON *o = cJSON_GetArrayItem(ops, k);
            const trow *r = &ph->rows[k];
            assert_string_equal(cJSON_GetObjectItem(o, "op")->valuestring, r->name);
            const cJSON *calls = cJSON_GetObjectItem(o, "calls");
            assert_int_equal(calls ? (long)calls->valuedouble : -1, r->calls);
            assert_true(fabs(cJSON_GetObjectItem(o, "ms")->valuedouble - r->ms) <= 0.0006);
            assert_true(fabs(cJSON_GetObjectItem(o, "percent")->valuedouble - r->pct) <= 0.06);
            const cJSON *gb = cJSON_GetObjectItem(o, "gb_s");
            assert_int_equal(gb != NULL, r->cols == 5);
            if (gb) {
                /* the table keeps 3 significant digits (at least 2 decimals below 10) */
                assert_true(fabs(gb->valuedouble - r->gb_s) <= 0.006 * (1 + r->gb_s));
                assert_true(cJSON_GetObjectItem(o, "bytes")->valuedouble > 0);
                assert_true(cJSON_GetObjectItem(o, "flops")->valuedouble > 0);
            }
        }
    }
}

/* ============================================================ run */

static void test_run_table_and_json(void **state)
{
    char *dir = test_make_tmpdir(), args[4400], *plain, *out, *err, *ignored;
    run_ok(RUN_ARGS, NULL, 0, &plain, &ignored);
    snprintf(args, sizeof args, RUN_ARGS " --profile --profile-json %s/p.json", dir);
    ttable t;
    run_profiled(args, NULL, &out, &err, NULL, &t, 1);
    assert_string_equal(out, plain); /* profiling changes nothing generated */

    /* the table comes after the stats line */
    const char *stats = strstr(err, "[slm] prompt "), *table = strstr(err, "[slm] profile ");
    assert_non_null(stats);
    assert_true(table && table > stats);
    const tphase *pre = phase(&t, "prefill"), *dec = phase(&t, "decode");
    assert_non_null(row(pre, "qkv"));
    assert_non_null(row(dec, "lm_head"));
    assert_non_null(row(dec, "sampling"));
    assert_null(row(pre, "sampling"));
    assert_int_equal(row(phase(&t, "tokenize"), "tokenizer")->calls, 1);
    assert_int_equal(phase(&t, "tokenize")->tokens, pre->tokens);

    /* its phase times are the stats line's: tokens / tok/s */
    double gen = stat_number(err, "generated "), tps = stat_number(err, "tokens, ");
    double want_dec = 1e3 * gen / strtod(strstr(strstr(err, "generated "), ", ") + 2, NULL);
    if (fabs(dec->ms - want_dec) > 0.01 * want_dec)
        fail_msg("decode %.3f ms, the stats line says %.3f ms", dec->ms, want_dec);
    double want_pre = 1e3 * stat_number(err, "[slm] prompt ") / tps;
    if (fabs(pre->ms - want_pre) > 0.01 * want_pre)
        fail_msg("prefill %.3f ms, the stats line says %.3f ms", pre->ms, want_pre);

    char path[4200];
    snprintf(path, sizeof path, "%s/p.json", dir);
    char *text = read_text(path);
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    check_json_matches(j, &t);
    cJSON_Delete(j);
    free(text);
    free(plain);
    free(ignored);
    free(out);
    free(err);
    test_rmtree(dir);
    free(dir);
}

/* --profile-json - writes the JSON line to stderr, after the stats line. */
static void test_run_json_to_stderr(void **state)
{
    char *out, *err;
    run_ok("run -p Once -n 8 --temp 0 --profile-json -", NULL, 0, &out, &err);
    assert_null(strstr(err, "[slm] profile "));
    const char *line = strstr(err, "{\"phases\":");
    assert_non_null(line);
    assert_true(line > strstr(err, "[slm] prompt "));
    cJSON *j = cJSON_Parse(line);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "phases")), 3);
    cJSON_Delete(j);
    assert_null(strstr(out, "phases")); /* stdout stays the text */
    free(out);
    free(err);
}

static void test_usage_errors(void **state)
{
    char *out, *err;
    run_ok("run -n 4 --profile-json", NULL, 2, NULL, &err);
    expect_in(err, "--profile-json");
    free(err);
    run_ok("run -n 4 --profile-json ''", NULL, 2, NULL, &err);
    expect_in(err, "--profile-json needs a file name");
    free(err);
    run_ok("classify --profile-json", NULL, 2, NULL, &err);
    expect_in(err, "--profile-json");
    free(err);
    run_ok("bench --profile-json ''", NULL, 2, NULL, &err);
    expect_in(err, "--profile-json needs a file name");
    free(err);
    run_ok("run -n 4 --profile=yes", NULL, 2, NULL, &err);
    expect_in(err, "--profile=yes");
    free(err);
    /* an unwritable file fails before anything is generated */
    run_ok("run -p Once -n 4 --profile-json /nonexistent-dir/p.json", NULL, 1, &out, &err);
    expect_in(err, "/nonexistent-dir/p.json");
    assert_string_equal(out, "");
    free(out);
    free(err);
}

/* ============================================================ classify */

/* A batch of 24 reviews (~1,000 tokens): on the 2-layer fixture two short
   texts take ~0.2 ms, of which tens of microseconds go to per-call work no
   row is for (buffers, the batch's bookkeeping), too large a share for the
   10% check to say anything about the rows. */
static char *review_batch(void)
{
    static const char *const reviews[] = {
        "a wonderful film with a moving story, fine acting and a score that stays with you long "
        "after the lights come up",
        "dull and far too long, with a plot that goes nowhere and jokes that fall flat one after "
        "another until the very end",
    };
    size_t cap = 16384, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < 24; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s (%d)\n", reviews[i % 2], i);
    return text;
}

static void test_classify(void **state)
{
    char args[4400], *plain, *out, *err, *ignored;
    const char *dir = test_source_path(DISTILBERT);
    char *batch = review_batch();
    snprintf(args, sizeof args, "classify -m %s -", dir);
    run_ok(args, batch, 0, &plain, &ignored);
    snprintf(args, sizeof args, "classify -m %s --profile -", dir);
    ttable t;
    run_profiled(args, batch, &out, &err, NULL, &t, 1);
    free(batch);
    assert_string_equal(out, plain);
    assert_int_equal(t.n, 1);
    const tphase *c = phase(&t, "classify");
    const char *ops[] = {"q", "k", "v", "o", "up", "down", "classifier", "attention", "norm",
                         "embedding", "tokenizer"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!row(c, ops[i]))
            fail_msg("classify: no '%s' row", ops[i]);
    assert_int_equal(row(c, "tokenizer")->calls, 24);
    free(plain);
    free(ignored);
    free(out);
    free(err);
}

/* ============================================================ bench, chat */

static void test_bench(void **state)
{
    char *dir = test_make_tmpdir(), args[4400], path[4200], *out, *err;
    snprintf(path, sizeof path, "%s/p.jsonl", dir);
    snprintf(args, sizeof args, "bench -p 16 -n 8 -r 2 -o json --profile --profile-json %s", path);
    const char *labels[] = {"pp16", "tg8"};
    ttable both[2];
    run_profiled(args, NULL, &out, &err, labels, both, 2);
    /* stdout: the bench rows as before, one JSON object each */
    int rows = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        assert_non_null(cJSON_GetObjectItem(j, "tok_s"));
        cJSON_Delete(j);
    }
    assert_int_equal(rows, 2);
    const ttable pp = both[0], tg = both[1];
    assert_int_equal(pp.n, 1);
    assert_int_equal(phase(&pp, "prefill")->tokens, 32); /* the 2 measured repetitions */
    assert_int_equal(tg.n, 1);
    assert_int_equal(phase(&tg, "decode")->tokens, 16);
    char *text = read_text(path), *save = NULL;
    const char *tests[] = {"pp16", "tg8"};
    const ttable *tables[] = {&pp, &tg};
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        assert_true(n < 2);
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "test")->valuestring, tests[n]);
        check_json_matches(j, tables[n]);
        cJSON_Delete(j);
    }
    assert_int_equal(n, 2);
    free(text);
    free(out);
    free(err);
    test_rmtree(dir);
    free(dir);
}

static void test_chat(void **state)
{
    char args[4400], *out, *err;
    snprintf(args, sizeof args, "chat -m %s -n 6 --temp 0 --profile",
             test_source_path(TINYLLAMA));
    ttable t;
    run_profiled(args, "hello\nhow are you\n", &out, &err, NULL, &t, 1);
    /* two replies: two renders, both prompts' prefill */
    assert_int_equal(row(phase(&t, "tokenize"), "tokenizer")->calls, 2);
    assert_non_null(row(phase(&t, "prefill"), "qkv"));
    assert_true(phase(&t, "decode")->tokens > 0);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_table_and_json),
        cmocka_unit_test(test_run_json_to_stderr),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_bench),
        cmocka_unit_test(test_chat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
