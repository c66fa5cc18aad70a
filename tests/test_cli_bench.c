/*
 * test_cli_bench.c — `slm bench` output: -o md|json|csv for LLM and
 * classifier runs, the resolved weights format, size and parameter count,
 * the build line, no GB/s on prompt rows, JSON that escapes paths, and a bad
 * -o value named as such.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "test_util.h"

#define LLM "weights/stories260K"
#define CLS "tests/fixtures/models/distilbert_sst2"
#define FAST "-r 1 -t 1"

/* Runs slm, which must succeed; *out receives its stdout. */
static void run_ok(const char *args, char **out)
{
    char *err;
    if (test_run_cli(args, out, &err) != 0)
        fail_msg("slm %s: %s", args, err);
    free(err);
}

/* `slm --version`'s first line: the build line bench prints. */
static char *build_line(void)
{
    char *v;
    run_ok("--version", &v);
    v[strcspn(v, "\n")] = '\0';
    return v;
}

/* The parameter count slm inspect prints for `dir`. */
static double inspect_params(const char *dir)
{
    char args[4200];
    snprintf(args, sizeof args, "inspect -m %s", dir);
    char *out;
    run_ok(args, &out);
    char *p = strstr(out, "parameters        ");
    assert_non_null(p);
    double n = strtod(p + strlen("parameters        "), NULL);
    free(out);
    return n;
}

static void test_json_rows(void **state)
{
    char args[4200], *build = build_line();
    snprintf(args, sizeof args, "bench -m %s -p 16 -n 8 " FAST " --weights auto,q8_0 -o json",
             test_source_path(LLM));
    char *out;
    run_ok(args, &out);
    double params = inspect_params(test_source_path(LLM));
    int rows = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        const char *test = cJSON_GetObjectItem(j, "test")->valuestring;
        const char *req = cJSON_GetObjectItem(j, "weights_requested")->valuestring;
        const char *fmt = cJSON_GetObjectItem(j, "format")->valuestring;
        /* stories260K is stored as F32: auto computes with f32 */
        assert_string_equal(fmt, strcmp(req, "auto") == 0 ? "f32" : req);
        assert_true(cJSON_GetObjectItem(j, "size_mb")->valuedouble > 0);
        assert_true(cJSON_GetObjectItem(j, "params")->valuedouble == params);
        assert_string_equal(cJSON_GetObjectItem(j, "build")->valuestring, build);
        const cJSON *gb = cJSON_GetObjectItem(j, "gb_s");
        assert_non_null(gb);
        if (strncmp(test, "pp", 2) == 0)
            assert_true(cJSON_IsNull(gb)); /* no bandwidth figure on prompt rows */
        else
            assert_true(cJSON_IsNumber(gb) && gb->valuedouble > 0);
        assert_true(cJSON_GetObjectItem(j, "tok_s")->valuedouble > 0);
        cJSON_Delete(j);
    }
    assert_int_equal(rows, 4);
    free(out);
    free(build);
}

/* A path with a quote and a backslash comes back intact from the JSON. */
static void test_json_escapes_paths(void **state)
{
    char *dir = test_make_tmpdir(), link[4400], args[9000];
    snprintf(link, sizeof link, "%s/we\"ird\\name", dir);
    assert_int_equal(symlink(test_source_path(LLM), link), 0);
    snprintf(args, sizeof args, "bench -m '%s' -p 8 -n 0 " FAST " -o json", link);
    char *out;
    run_ok(args, &out);
    cJSON *j = cJSON_Parse(out);
    if (!j)
        fail_msg("not JSON: %s", out);
    assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, link);
    cJSON_Delete(j);
    free(out);
    /* and CSV quotes it */
    snprintf(args, sizeof args, "bench -m '%s' -p 8 -n 0 " FAST " -o csv", link);
    run_ok(args, &out);
    assert_non_null(strstr(out, "we\"\"ird\\name\","));
    free(out);
    test_rmtree(dir);
    free(dir);
}

/* Fields of a CSV line (RFC 4180 quoting: commas inside quotes do not count). */
static int csv_fields(const char *s)
{
    int n = 1;
    bool quoted = false;
    for (; *s; s++) {
        if (*s == '"')
            quoted = !quoted; /* a doubled quote toggles twice */
        else if (*s == ',' && !quoted)
            n++;
    }
    return n;
}

static void test_csv_and_md(void **state)
{
    char args[4200], *build = build_line();
    snprintf(args, sizeof args, "bench -m %s -p 16 -n 8 " FAST " -o csv", test_source_path(LLM));
    char *out;
    run_ok(args, &out);
    char *header = strtok(out, "\n");
    assert_non_null(header);
    assert_non_null(strstr(header, "format,weights_requested,size_mb,params"));
    int cols = csv_fields(header);
    int rows = 0;
    for (char *line = strtok(NULL, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        assert_int_equal(csv_fields(line), cols);
        assert_non_null(strstr(line, build));
        if (strstr(line, ",pp16,"))
            assert_non_null(strstr(line, ",,")); /* an empty gb_s */
    }
    assert_int_equal(rows, 2);
    free(out);

    snprintf(args, sizeof args, "bench -m %s -p 16 -n 8 " FAST, test_source_path(LLM));
    run_ok(args, &out);
    assert_true(strncmp(out, build, strlen(build)) == 0); /* the build line first */
    assert_non_null(strstr(out, "| weights | size MB | params |"));
    char *pp = strstr(out, "| pp16 |");
    assert_non_null(pp);
    /* tok/s cell, then an empty GB/s cell: "| 123.45 ± 1.00 |  |" */
    char *after = strchr(pp + 8, '|');
    assert_non_null(after);
    assert_true(strncmp(after, "|  |", 4) == 0);
    free(out);
    free(build);
}

static void test_classifier_formats(void **state)
{
    char args[4200];
    snprintf(args, sizeof args, "bench -m %s -p 16 -b 1,2 " FAST " -o json",
             test_source_path(CLS));
    char *out;
    run_ok(args, &out);
    int rows = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "test")->valuestring, "cls16");
        assert_true(cJSON_GetObjectItem(j, "ms")->valuedouble > 0);
        assert_string_equal(cJSON_GetObjectItem(j, "format")->valuestring, "f16");
        assert_null(cJSON_GetObjectItem(j, "kv"));
        cJSON_Delete(j);
    }
    assert_int_equal(rows, 2);
    free(out);
    snprintf(args, sizeof args, "bench -m %s -p 16 -b 1 " FAST, test_source_path(CLS));
    run_ok(args, &out);
    assert_non_null(strstr(out, "| test | batch | ms |"));
    assert_non_null(strstr(out, "| cls16 | 1 |"));
    free(out);
    snprintf(args, sizeof args, "bench -m %s -p 16 -b 1 " FAST " -o csv", test_source_path(CLS));
    run_ok(args, &out);
    assert_non_null(strstr(out, ",batch,ms,stddev,"));
    assert_non_null(strstr(out, ",cls16,1,"));
    free(out);
}

static void test_bad_output_value(void **state)
{
    char *err;
    assert_int_equal(test_run_cli("bench -o x", NULL, &err), 2);
    assert_non_null(strstr(err, "slm bench: -o expects md|json|csv, got 'x'"));
    assert_null(strstr(err, "unknown option"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_rows),
        cmocka_unit_test(test_json_escapes_paths),
        cmocka_unit_test(test_csv_and_md),
        cmocka_unit_test(test_classifier_formats),
        cmocka_unit_test(test_bad_output_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
