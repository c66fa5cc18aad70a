/*
 * test_cli_input.c — the CLI on careless and hostile input: every failure is
 * one clear line and the right exit status (2 usage, 1 runtime), nothing is
 * silently truncated or ignored:
 *   - a NUL byte in a stdin line (classify -, chat) is an error naming the line;
 *   - an option-like argument ("-x") is a usage error, "--" ends the options;
 *   - option values are whole numbers in range (" 5", "+5", "-1" for a seed),
 *     and a -c above the model's positions is clamped with a warning;
 *   - bench reports every failure with a message (never "error: ok");
 *   - an unknown SLM_ISA is an error naming the valid values;
 *   - token-id lists (detokenize, logits --ids) name the bad id and the range.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"

#include "slm.h"
#include "test_util.h"

#define DISTILBERT "tests/fixtures/models/distilbert_sst2"
#define PHI3 "tests/fixtures/models/phi3"

/* Runs `args` (with `input` on stdin when non-NULL) and checks the exit
   status and that stderr contains every one of the NULL-terminated needles. */
static void expect(const char *args, const char *input, int want_rc, ...)
{
    char *out, *err_text;
    int rc = input ? test_run_cli_stdin(args, input, &out, &err_text)
                   : test_run_cli(args, &out, &err_text);
    if (rc != want_rc)
        fail_msg("slm %s: exit %d (want %d), stderr: %s", args, rc, want_rc, err_text);
    va_list ap;
    va_start(ap, want_rc);
    for (const char *needle; (needle = va_arg(ap, const char *));)
        if (!strstr(err_text, needle))
            fail_msg("slm %s: stderr lacks '%s': %s", args, needle, err_text);
    va_end(ap);
    if (strstr(err_text, "error: ok"))
        fail_msg("slm %s printed 'error: ok'", args);
    free(out);
    free(err_text);
}

/* ============================================================ stdin lines */

/* test_run_cli_stdin takes a C string, so the NUL goes through a file and
   the command is run here. */
static void expect_nul_line(const char *verb_args, const char *verb)
{
    char *dir = test_make_tmpdir(), cmd[8192];
    static const char text[] = "good\nfine\nba\0d\n";
    char *file = test_write_file(dir, "in.txt", text, sizeof text - 1);
    snprintf(cmd, sizeof cmd, "%s %s <%s >%s/out 2>%s/err", SLM_CLI_PATH, verb_args, file, dir,
             dir);
    int rc = system(cmd);
    char want[64], *err_text, *path = malloc(strlen(dir) + 8);
    sprintf(path, "%s/err", dir);
    size_t len;
    slm_error err = {0};
    assert_int_equal(slm_read_file(path, &err_text, &len, &err), SLM_OK);
    snprintf(want, sizeof want, "slm %s: stdin line 3 contains a NUL byte", verb);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 1 || !strstr(err_text, want))
        fail_msg("slm %s: status %d, stderr: %s", verb_args, rc, err_text);
    free(err_text);
    free(path);
    free(file);
    test_rmtree(dir);
    free(dir);
}

static void test_nul_in_stdin_lines_is_an_error(void **state)
{
    char args[1024];
    snprintf(args, sizeof args, "classify -m %s -", test_source_path(DISTILBERT));
    expect_nul_line(args, "classify");
    snprintf(args, sizeof args, "chat -m %s -n 1 --temp 0", test_source_path(PHI3));
    expect_nul_line(args, "chat");
}

/* ============================================================ options */

static void test_classify_dash_argument_is_usage_error(void **state)
{
    char args[1024];
    snprintf(args, sizeof args, "classify -m %s -x", test_source_path(DISTILBERT));
    expect(args, NULL, 2, "unknown option '-x'", NULL);
    /* after "--" it is a text */
    char *out;
    snprintf(args, sizeof args, "classify -m %s -- -x", test_source_path(DISTILBERT));
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_non_null(strstr(out, "-> -x\n"));
    free(out);
}

static void test_numeric_options_are_whole_numbers(void **state)
{
    expect("run -n ' 5'", NULL, 2, "-n expects an integer", NULL);
    expect("run -n +5", NULL, 2, "-n expects an integer", NULL);
    expect("run -n -2", NULL, 2, "-n expects an integer in [0,", NULL); /* -1: no limit */
    expect("run -c 99999999999999999999", NULL, 2, "-c expects an integer", NULL);
    expect("run --seed ' -1'", NULL, 2, "--seed expects a non-negative integer", NULL);
    expect("run --seed -2", NULL, 2, "--seed expects a non-negative integer",
           "--seed -1 picks a random seed", NULL);
    expect("run --temp nan", NULL, 2, "--temp expects a number", NULL);
    expect("run --temp -0.5", NULL, 2, "--temp expects a number", NULL);
    expect("tokenize --max-length ' 3' hi", NULL, 2, "--max-length expects an integer", NULL);
    expect("perplexity -f x -c 1", NULL, 2, "-c expects an integer in [2,", NULL);
    /* a context above the model's is clamped, and says so */
    expect("run -c 100000 -n 1 -p hi", NULL, 0, "-c 100000 is above the model's 512 positions",
           NULL);
    /* a denormal temperature is a valid (near-greedy) value */
    char *a, *b;
    assert_int_equal(test_run_cli("run -p 'Once upon' -n 12 --temp 1e-44 --seed 5", &a, NULL), 0);
    assert_int_equal(test_run_cli("run -p 'Once upon' -n 12 --temp 0", &b, NULL), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* ============================================================ bench */

static void test_bench_failures_have_messages(void **state)
{
    expect("bench -p ,", NULL, 2, "-p expects a comma-separated list", NULL);
    expect("bench -t 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", NULL, 2, "at most 16", NULL);
    expect("bench -o xml", NULL, 2, "-o expects md|json|csv, got 'xml'", NULL);
    expect("bench --foo", NULL, 2, "unknown option '--foo'", NULL);
    expect("bench --weights ,", NULL, 2, "--weights expects", NULL);
    expect("bench --kv f8", NULL, 2, "'f8' is not one of", NULL);
    /* the classifier batch too large for the prepared ids: was "error: ok" */
    char args[1024];
    snprintf(args, sizeof args, "bench -m %s -b 4096 -p 128 -r 1", test_source_path(DISTILBERT));
    expect(args, NULL, 1, "tokens per batch", NULL);
    expect("bench -p 600 -n 0 -r 1", NULL, 1, "need 601 positions, the model has 512", NULL);
}

/* ============================================================ environment */

static void test_unknown_isa_is_an_error(void **state)
{
    setenv("SLM_ISA", "avx9000", 1);
    expect("tokenize hi", NULL, 2, "SLM_ISA='avx9000'", "scalar", "avx2", "avx512", "neon", NULL);
    setenv("SLM_ISA", "scalar", 1);
    expect("tokenize hi", NULL, 0, NULL);
    unsetenv("SLM_ISA");
}

/* ============================================================ id lists */

static void test_id_lists_name_the_bad_id(void **state)
{
    expect("detokenize 1 600", NULL, 2, "token id 600", "[0, 512)", NULL);
    expect("detokenize '1,2 0x5'", NULL, 2, "'0x5' is not a token id", NULL);
    expect("detokenize -- -3", NULL, 2, "token id -3", NULL);
    expect("detokenize ' , '", NULL, 2, "no token ids", NULL);
    expect("logits --ids '1 99999999999999999999999'", NULL, 2, "token id 999", NULL);
    expect("logits --ids '1 2 x'", NULL, 2, "'x' is not a token id", NULL);
    expect("logits --ids '1 600'", NULL, 1, "token id 600", "vocab_size 512", NULL);
    char *out;
    assert_int_equal(test_run_cli("detokenize '1, 403 407'", &out, NULL), 0);
    assert_string_equal(out, "<s> Once upon\n");
    free(out);
    /* id 3 is the byte-fallback token <0x00>: the NUL is printed, then the newline */
    assert_int_equal(test_run_cli("detokenize 3", &out, NULL), 0);
    assert_int_equal(out[0], '\0');
    assert_int_equal(out[1], '\n');
    free(out);
}

/* The truncation warning names the limit applied: here the tokenizer's
   model_max_length (8), smaller than the model's 512 positions. */
static void test_classify_truncation_names_the_limit(void **state)
{
    char *dir = test_make_tmpdir(), args[4096];
    static const char *const files[] = {"config.json", "model.safetensors", "tokenizer.json"};
    for (size_t i = 0; i < 3; i++) {
        char *src = strdup(test_source_path(DISTILBERT)), link[1024];
        snprintf(args, sizeof args, "%s/%s", src, files[i]);
        snprintf(link, sizeof link, "%s/%s", dir, files[i]);
        assert_int_equal(symlink(args, link), 0);
        free(src);
    }
    const char *cfg = "{\"model_max_length\": 8, \"do_lower_case\": true}";
    free(test_write_file(dir, "tokenizer_config.json", cfg, strlen(cfg)));
    snprintf(args, sizeof args, "classify -m %s 'one two three four five six seven eight nine ten'",
             dir);
    expect(args, NULL, 0, "1 text(s) longer than 8 tokens were truncated", NULL);
    test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_in_stdin_lines_is_an_error),
        cmocka_unit_test(test_classify_dash_argument_is_usage_error),
        cmocka_unit_test(test_numeric_options_are_whole_numbers),
        cmocka_unit_test(test_bench_failures_have_messages),
        cmocka_unit_test(test_unknown_isa_is_an_error),
        cmocka_unit_test(test_id_lists_name_the_bad_id),
        cmocka_unit_test(test_classify_truncation_names_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
