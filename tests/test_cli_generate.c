/*
 * test_cli_generate.c — `slm run` and `slm chat` (stdin piped) as llama-cli
 * users drive them:
 *   - prompts from -p TEXT, -f FILE and -p - (stdin) are the same prompt;
 *     `tokenize -` reads stdin;
 *   - the stats line: ms per token, time to first token, why generation
 *     stopped, generated tokens without the EOS (-n of that count gives the
 *     same text, stopped by length), the seed when sampling (and reusing it
 *     gives the same text); stdout is flushed before it;
 *   - -n -1, --ignore-eos, -r/--reverse-prompt (printed) vs --stop (not);
 *     --system without --chat is a usage error;
 *   - generation_config.json's sampling settings are the defaults, the
 *     options given win, a malformed one names the file and the field;
 *   - chat: a trailing backslash continues the message, /clear, /exit, and a
 *     context that fills drops the oldest turns instead of ending the chat.
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

#define STORIES "weights/stories260K"
#define PHI3 "tests/fixtures/models/phi3"

/* Runs `args` (stdin `input` when non-NULL), expecting exit status `want`. */
static void run_ok(const char *args, const char *input, int want, char **out, char **err)
{
    int rc = input ? test_run_cli_stdin(args, input, out, err) : test_run_cli(args, out, err);
    if (rc != want)
        fail_msg("slm %s: exit %d (want %d), stderr: %s", args, rc, want, err ? *err : "");
}

/* The number after `key` in the stats line, e.g. "generated " -> 336. */
static long stat_number(const char *err_text, const char *key)
{
    const char *line = strstr(err_text, "[slm] prompt ");
    assert_non_null(line);
    const char *at = strstr(line, key);
    if (!at)
        fail_msg("the stats line lacks '%s': %s", key, line);
    return strtol(at + strlen(key), NULL, 10);
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' not in: %s", needle, text);
}

/* `slm run -m dir -p 'Once' -n 40 opts` prints exactly `want`. */
static void expect_story(const char *dir, const char *opts, const char *want)
{
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "run -m %s -p 'Once' -n 40 %s", dir, opts);
    run_ok(args, NULL, 0, &out, &err);
    assert_string_equal(out, want);
    free(out);
    free(err);
}

/* ============================================================ prompts */

static void test_prompt_from_file_and_stdin(void **state)
{
    char *dir = test_make_tmpdir(), args[1024], *want, *out, *err;
    char *file = test_write_file(dir, "prompt.txt", "Once upon a time\n", 17);
    run_ok("run -p 'Once upon a time' -n 12 --temp 0", NULL, 0, &want, &err);
    free(err);
    snprintf(args, sizeof args, "run -f %s -n 12 --temp 0", file);
    run_ok(args, NULL, 0, &out, &err);
    assert_string_equal(out, want); /* one trailing newline dropped, as llama-cli's -f */
    free(out);
    free(err);
    run_ok("run -p - -n 12 --temp 0", "Once upon a time\n", 0, &out, &err);
    assert_string_equal(out, want);
    free(out);
    free(err);
    run_ok("tokenize -", "Once upon a time\n", 0, &out, &err);
    free(err);
    char *direct;
    run_ok("tokenize 'Once upon a time'", NULL, 0, &direct, &err);
    assert_string_equal(out, direct);
    free(direct);
    free(out);
    free(err);
    /* errors: a missing file names it; -p with -f is ambiguous */
    snprintf(args, sizeof args, "run -f %s/none.txt -n 1", dir);
    run_ok(args, NULL, 1, NULL, &err);
    expect_in(err, "none.txt");
    free(err);
    snprintf(args, sizeof args, "run -f %s -p hi -n 1", file);
    run_ok(args, NULL, 2, NULL, &err);
    expect_in(err, "not both");
    free(err);
    free(want);
    free(file);
    test_rmtree(dir);
    free(dir);
}

/* ============================================================ stats line */

/* Greedy from "Once upon a time" runs to an EOS; the count excludes it, so
   -n of that count gives the same text and stops by length (counted with
   the EOS, the last sample would be the EOS again). --ignore-eos goes on. */
static void test_stats_line_and_limits(void **state)
{
    char args[512], *full, *out, *err;
    run_ok("run -p 'Once upon a time' -n -1 --temp 0", NULL, 0, &full, &err);
    expect_in(err, "stop: eos");
    expect_in(err, " ms/token");
    expect_in(err, "| first token ");
    assert_null(strstr(err, "seed")); /* greedy: no seed matters */
    long n = stat_number(err, "generated ");
    assert_true(n > 20);
    free(err);
    snprintf(args, sizeof args, "run -p 'Once upon a time' -n %ld --temp 0", n);
    run_ok(args, NULL, 0, &out, &err);
    assert_string_equal(out, full);
    expect_in(err, "stop: length (-n)");
    assert_int_equal(stat_number(err, "generated "), n);
    free(out);
    free(err);
    snprintf(args, sizeof args, "run -p 'Once upon a time' -n %ld --temp 0 --ignore-eos", n + 20);
    run_ok(args, NULL, 0, &out, &err);
    assert_int_equal(stat_number(err, "generated "), n + 20);
    expect_in(err, "stop: length (-n)");
    assert_true(strlen(out) > strlen(full));
    assert_memory_equal(out, full, strlen(full) - 1); /* the same text, then more */
    free(out);
    free(err);
    /* up to the context end */
    run_ok("run -p 'Once' -n -1 --temp 0 --ignore-eos -c 64", NULL, 0, &out, &err);
    expect_in(err, "stop: context full");
    free(out);
    free(err);
    free(full);
}

/* A sampled run prints its seed; --seed with it gives the same text; -1 is
   random too. */
static void test_seed_is_printed_and_reusable(void **state)
{
    char args[512], *a, *b, *err;
    for (int explicit_random = 0; explicit_random < 2; explicit_random++) {
        run_ok(explicit_random ? "run -p 'Once' -n 24 --temp 1 --seed -1"
                               : "run -p 'Once' -n 24 --temp 1",
               NULL, 0, &a, &err);
        const char *s = strstr(err, "| seed ");
        assert_non_null(s);
        unsigned long long seed = strtoull(s + 7, NULL, 10);
        free(err);
        snprintf(args, sizeof args, "run -p 'Once' -n 24 --temp 1 --seed %llu", seed);
        run_ok(args, NULL, 0, &b, &err);
        assert_string_equal(a, b);
        snprintf(args, sizeof args, "| seed %llu\n", seed);
        expect_in(err, args);
        free(a);
        free(b);
        free(err);
    }
}

/* stdout and stderr into one file: the text and its final newline come
   before the stats line, which is the last thing written. */
static void test_stdout_flushed_before_stats(void **state)
{
    char *dir = test_make_tmpdir(), cmd[8192], path[4096];
    snprintf(path, sizeof path, "%s/both", dir);
    snprintf(cmd, sizeof cmd, "%s run -p 'Once upon' -n 6 --temp 0 >%s 2>&1 </dev/null",
             SLM_CLI_PATH, path);
    assert_int_equal(system(cmd), 0);
    char *both;
    size_t len;
    slm_error err = {0};
    assert_int_equal(slm_read_file(path, &both, &len, &err), SLM_OK);
    const char *stats = strstr(both, "[slm] prompt ");
    assert_non_null(stats);
    assert_true(stats > both && stats[-1] == '\n' && strncmp(both, "Once upon", 9) == 0);
    const char *end = strchr(stats, '\n');
    assert_non_null(end);
    if (end[1] != '\0')
        fail_msg("output after the stats line: '%s'", end + 1);
    free(both);
    test_rmtree(dir);
    free(dir);
}

/* ============================================================ stop strings */

static void test_reverse_prompt_is_printed(void **state)
{
    char *out, *err;
    const char *base = "run -p 'Once upon a time' -n 48 --temp 0";
    char args[512];
    snprintf(args, sizeof args, "%s -r girl", base);
    run_ok(args, NULL, 0, &out, &err);
    size_t n = strlen(out);
    assert_true(n > 5 && strcmp(out + n - 5, "girl\n") == 0);
    assert_int_equal((int)(strstr(out, "girl") - out), (int)(n - 5)); /* its first occurrence */
    expect_in(err, "stop: stop string");
    free(out);
    free(err);
    snprintf(args, sizeof args, "%s --reverse-prompt girl --stop there", base);
    run_ok(args, NULL, 0, &out, &err); /* "there" comes first and is not printed */
    assert_null(strstr(out, "there"));
    assert_null(strstr(out, "girl"));
    free(out);
    free(err);
    run_ok("run -r ''", NULL, 2, NULL, &err);
    expect_in(err, "-r needs a non-empty text");
    free(err);
    run_ok("run --system 'Be brief.' -p hi", NULL, 2, NULL, &err);
    expect_in(err, "--system needs --chat");
    free(err);
}

/* ============================================================ generation_config.json */

/* The bundled model with generation_config.json replaced by `gen`. */
static char *model_with_generation_config(const char *gen)
{
    char *dir = test_make_tmpdir();
    static const char *const files[] = {"config.json", "model.safetensors", "tokenizer.json",
                                        "tokenizer_config.json", "special_tokens_map.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char src[2048], dst[2048];
        snprintf(src, sizeof src, "%s/%s", test_source_path(STORIES), files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        assert_int_equal(symlink(src, dst), 0);
    }
    free(test_write_file(dir, "generation_config.json", gen, strlen(gen)));
    return dir;
}

static void test_generation_config_defaults(void **state)
{
    char args[4096], *greedy, *out, *err, *sampled;
    run_ok("run -p 'Once' -n 40 --temp 0", NULL, 0, &greedy, &err);
    free(err);
    run_ok("run -p 'Once' -n 40 --temp 0.9 --seed 3", NULL, 0, &sampled, &err);
    free(err);
    assert_string_not_equal(greedy, sampled); /* else the checks below prove nothing */
    /* do_sample false: greedy when no --temp is given (no seed printed) */
    char *dir = model_with_generation_config("{\"eos_token_id\": 2, \"do_sample\": false, "
                                             "\"temperature\": 0.6}");
    snprintf(args, sizeof args, "run -m %s -p 'Once' -n 40 --seed 3", dir);
    run_ok(args, NULL, 0, &out, &err);
    assert_string_equal(out, greedy);
    assert_null(strstr(err, "seed"));
    free(out);
    free(err);
    /* the user's --temp wins */
    expect_story(dir, "--temp 0.9 --seed 3", sampled);
    test_rmtree(dir);
    free(dir);
    /* top_k 1 from the file: greedy even at temperature 0.9; --top-k 40 undoes it */
    dir = model_with_generation_config("{\"do_sample\": true, \"top_k\": 1}");
    expect_story(dir, "--temp 0.9 --seed 3", greedy);
    expect_story(dir, "--temp 0.9 --seed 3 --top-k 40", sampled);
    test_rmtree(dir);
    free(dir);
    /* malformed: the file and the field */
    dir = model_with_generation_config("{\"temperature\": \"hot\"}");
    snprintf(args, sizeof args, "run -m %s -p 'Once' -n 4", dir);
    run_ok(args, NULL, 1, NULL, &err);
    expect_in(err, "generation_config.json: \"temperature\" must be a number");
    free(err);
    test_rmtree(dir);
    free(dir);
    free(greedy);
    free(sampled);
}

/* ============================================================ chat, piped */

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* "Hello\" + "there" is one message "Hello\nthere": one reply, and its
   prompt is the render of that message. */
static void test_chat_continuation_lines(void **state)
{
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "chat -m %s -n 4 --temp 0 --stats", test_source_path(PHI3));
    run_ok(args, "Hello\\\nthere\n", 0, &out, &err);
    assert_int_equal(count(err, "[slm] prompt "), 1);
    slm_model *m = test_load_model(test_source_path(PHI3));
    slm_chat_message msg = {"user", "Hello\nthere"};
    slm_tokens ids = {0};
    slm_error e = {0};
    assert_int_equal(slm_chat_render_tokens(m, &msg, 1, SLM_CHAT_TEMPLATE_REQUIRED, &ids, NULL, &e),
                     SLM_OK);
    assert_int_equal(stat_number(err, "[slm] prompt "), (long)ids.n);
    slm_tokens_free(&ids);
    slm_model_free(m);
    free(out);
    free(err);
}

/* /clear: the second "Hello!" is answered as the first was, from a prompt
   of the same size; /exit ends the chat before the line after it. */
static void test_chat_clear_and_exit(void **state)
{
    char args[1024], *out, *err;
    snprintf(args, sizeof args, "chat -m %s -n 6 --temp 0 --stats --system 'Be brief.'",
             test_source_path(PHI3));
    run_ok(args, "Hello!\n/clear\nHello!\n/exit\nAre you there?\n", 0, &out, &err);
    assert_int_equal(count(err, "[slm] prompt "), 2);
    expect_in(err, "[slm] conversation cleared (the system prompt is kept)");
    int total[2];
    const char *line = err;
    for (int t = 0; t < 2; t++) {
        line = strstr(line, "[slm] prompt ");
        assert_int_equal(sscanf(line, "[slm] prompt %d tokens", &total[t]), 1);
        line++;
    }
    assert_int_equal(total[0], total[1]);
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    size_t first = (size_t)(nl - out) + 1;
    assert_int_equal(strlen(out), 2 * first); /* two replies, the same */
    assert_memory_equal(out, out + first, first);
    free(out);
    free(err);
}

/* A small context: turns go on (every message answered, status 0), the
   oldest ones dropped and said so; a message too long on its own is
   dropped with a message and the chat continues. */
static void test_chat_context_fills(void **state)
{
    char args[1024], *out, *err, input[4096] = "";
    snprintf(args, sizeof args, "chat -m %s -n 8 -c 96 --temp 0 --stats --system 'Be brief.'",
             test_source_path(PHI3));
    for (int t = 0; t < 8; t++)
        snprintf(input + strlen(input), sizeof input - strlen(input),
                 "Tell me something about the number %d, please.\n", t);
    run_ok(args, input, 0, &out, &err);
    assert_int_equal(count(err, "[slm] prompt "), 8);
    expect_in(err, "[slm] context full (96 positions): dropped the ");
    expect_in(err, "(the system prompt is kept)");
    free(out);
    free(err);
    char long_line[2048] = "";
    for (int i = 0; i < 60; i++)
        strcat(long_line, "many words here ");
    strcat(long_line, "\nHello!\n");
    run_ok(args, long_line, 0, &out, &err);
    expect_in(err, "exceeds the context of 96 positions; message dropped");
    assert_int_equal(count(err, "[slm] prompt "), 1); /* "Hello!" still answered */
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prompt_from_file_and_stdin),
        cmocka_unit_test(test_stats_line_and_limits),
        cmocka_unit_test(test_seed_is_printed_and_reusable),
        cmocka_unit_test(test_stdout_flushed_before_stats),
        cmocka_unit_test(test_reverse_prompt_is_printed),
        cmocka_unit_test(test_generation_config_defaults),
        cmocka_unit_test(test_chat_continuation_lines),
        cmocka_unit_test(test_chat_clear_and_exit),
        cmocka_unit_test(test_chat_context_fills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
