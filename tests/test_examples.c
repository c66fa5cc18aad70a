/*
 * test_examples.c — tools/examples/hello_slm, the smallest program on the
 * public API, run on the bundled models:
 *   - its sources include slm.h and C standard headers only;
 *   - the text it streams is what `slm run --temp 0` prints for the same
 *     prompt and length (the CLI is the reference: both go through
 *     slm_generate, the example only through slm.h);
 *   - the label and probability it prints are `slm classify --json`'s;
 *   - bad arguments, a missing folder and a non-classifier give a non-zero
 *     status and a message.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "test_util.h"

#define STORIES "weights/stories260K"
#define ROUTER "weights/router"

/* Appends `s` single-quoted for sh to cmd (cap bytes). */
static void append_quoted(char *cmd, size_t cap, const char *s)
{
    size_t n = strlen(cmd);
    n += (size_t)snprintf(cmd + n, cap - n, " '");
    for (; *s && n + 5 < cap; s++)
        n += (size_t)(*s == '\'' ? snprintf(cmd + n, cap - n, "'\\''")
                                 : snprintf(cmd + n, cap - n, "%c", *s));
    snprintf(cmd + n, cap - n, "'");
}

/* Runs the example with argv (NULL-terminated); its exit status, stdout and
   stderr (malloc'd). */
static int run_example(const char *const *argv, char **out, char **err)
{
    char *dir = test_make_tmpdir();
    assert_non_null(dir);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s", SLM_EXAMPLE_HELLO_PATH);
    for (size_t i = 0; argv[i]; i++)
        append_quoted(cmd, sizeof cmd, argv[i]);
    size_t n = strlen(cmd);
    snprintf(cmd + n, sizeof cmd - n, " >%s/out 2>%s/err </dev/null", dir, dir);
    int rc = system(cmd);
    char path[4200];
    snprintf(path, sizeof path, "%s/out", dir);
    *out = test_read_text(path);
    snprintf(path, sizeof path, "%s/err", dir);
    *err = test_read_text(path);
    test_rmtree(dir);
    free(dir);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ------------------------------------------------------------ sources */

static bool is_c_standard_header(const char *name)
{
    static const char *const std[] = {
        "assert.h", "complex.h", "ctype.h",  "errno.h",     "fenv.h",     "float.h",
        "inttypes.h", "iso646.h", "limits.h", "locale.h",   "math.h",     "setjmp.h",
        "signal.h", "stdalign.h", "stdarg.h", "stdatomic.h", "stdbool.h", "stddef.h",
        "stdint.h", "stdio.h",  "stdlib.h", "stdnoreturn.h", "string.h",  "tgmath.h",
        "threads.h", "time.h",  "uchar.h",  "wchar.h",     "wctype.h",
    };
    for (size_t i = 0; i < sizeof std / sizeof *std; i++)
        if (!strcmp(name, std[i]))
            return true;
    return false;
}

/* Checks every #include of one source file; returns how many it has. */
static int check_includes(const char *path)
{
    char *text = test_read_text(path);
    int n = 0, line_no = 1;
    for (char *line = text; *line; line_no++) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        const char *p = line + strspn(line, " \t");
        if (*p == '#') {
            p += 1 + strspn(p + 1, " \t");
            if (!strncmp(p, "include", 7)) {
                p += 7 + strspn(p + 7, " \t");
                char name[256] = "";
                bool ok = (sscanf(p, "\"%255[^\"]\"", name) == 1 && !strcmp(name, "slm.h")) ||
                          (sscanf(p, "<%255[^>]>", name) == 1 && is_c_standard_header(name));
                if (!ok)
                    fail_msg("%s:%d: includes %s; the examples may use slm.h and the C standard "
                             "library only", path, line_no, p);
                n++;
            }
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    free(text);
    return n;
}

static void test_sources_include_only_slm_h(void **state)
{
    (void)state;
    const char *dir = test_source_path("tools/examples");
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c"))
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_true(check_includes(path) > 0);
        files++;
    }
    closedir(d);
    assert_true(files >= 1); /* hello_slm.c at least */
}

/* --------------------------------------------------------- generation */

/* What `slm run --temp 0` prints on stdout for the prompt (prompt echoed,
   continuation, newline). */
static char *cli_greedy(const char *prompt, const char *n)
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "run -m %s -p '%s' -n %s --temp 0", test_source_path(STORIES),
             prompt, n);
    int rc = test_run_cli(args, &out, &err);
    if (rc != 0)
        fail_msg("slm %s: status %d: %s", args, rc, err);
    free(err);
    return out;
}

/* The example's output: the generation part, then "LABEL PROB\n". */
static void run_hello(const char *prompt, const char *n, const char *text, char **gen,
                      char *label, double *prob)
{
    const char *argv[] = {test_source_path(STORIES), prompt, n, test_source_path(ROUTER), text,
                          NULL};
    char *out, *err;
    int rc = run_example(argv, &out, &err);
    if (rc != 0)
        fail_msg("hello_slm: status %d: %s", rc, err);
    assert_string_equal(err, "");
    /* the last line is the classification */
    size_t len = strlen(out);
    assert_true(len > 0 && out[len - 1] == '\n');
    out[len - 1] = '\0';
    char *last = strrchr(out, '\n');
    assert_non_null(last);
    char extra;
    if (sscanf(last + 1, "%63s %lf%c", label, prob, &extra) != 2)
        fail_msg("hello_slm: last line is not 'LABEL PROB': '%s'", last + 1);
    last[1] = '\0';
    *gen = out;
    free(err);
}

/* `slm classify --json`: the top label and its score. */
static void cli_classify(const char *text, char *label, double *score)
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "classify -m %s --json '%s'", test_source_path(ROUTER), text);
    int rc = test_run_cli(args, &out, &err);
    if (rc != 0)
        fail_msg("slm %s: status %d: %s", args, rc, err);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const cJSON *l = cJSON_GetObjectItem(j, "label"), *s = cJSON_GetObjectItem(j, "score");
    assert_true(cJSON_IsString(l) && cJSON_IsNumber(s));
    snprintf(label, 64, "%s", l->valuestring);
    *score = s->valuedouble;
    cJSON_Delete(j);
    free(out);
    free(err);
}

/* The same prompt and length as the CLI, two texts of different labels. */
static void test_matches_the_cli(void **state)
{
    (void)state;
    static const struct {
        const char *prompt, *n, *text;
    } cases[] = {
        {"Once upon a time", "60", "What is Python?"},
        {"The cat", "25", "Design a distributed RAG system with fault tolerance"},
    };
    char labels[2][64];
    for (size_t i = 0; i < 2; i++) {
        char *gen, label[64], cli_label[64];
        double prob, cli_prob;
        run_hello(cases[i].prompt, cases[i].n, cases[i].text, &gen, label, &prob);
        char *want = cli_greedy(cases[i].prompt, cases[i].n);
        assert_string_equal(gen, want);
        /* the prompt echoed, then a real continuation */
        assert_true(strncmp(gen, cases[i].prompt, strlen(cases[i].prompt)) == 0);
        assert_true(strlen(gen) > strlen(cases[i].prompt) + 20);
        cli_classify(cases[i].text, cli_label, &cli_prob);
        assert_string_equal(label, cli_label);
        /* printed with %.6f */
        if (fabs(prob - cli_prob) > 5.1e-7)
            fail_msg("hello_slm prob %.6f, slm classify %.9f", prob, cli_prob);
        assert_true(prob > 0.5 && prob <= 1.0);
        snprintf(labels[i], sizeof labels[i], "%s", label);
        free(gen);
        free(want);
    }
    /* the two texts are meant to get different labels: the check above is not
       one label printed whatever the text */
    assert_string_not_equal(labels[0], labels[1]);
}

/* ------------------------------------------------------------- errors */

static void expect_failure(const char *const *argv, int status, const char *in_message)
{
    char *out, *err;
    int rc = run_example(argv, &out, &err);
    assert_int_equal(rc, status);
    if (!strstr(err, in_message))
        fail_msg("stderr '%s' does not contain '%s'", err, in_message);
    assert_non_null(strchr(err, '\n'));
    free(out);
    free(err);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const char *stories = test_source_path(STORIES), *router = test_source_path(ROUTER);
    const char *none[] = {NULL};
    expect_failure(none, 2, "usage: hello_slm");
    const char *too_few[] = {stories, "Once", "5", NULL};
    expect_failure(too_few, 2, "usage: hello_slm");
    const char *bad_n[] = {stories, "Once", "5x", router, "hi", NULL};
    expect_failure(bad_n, 2, "'5x'");
    const char *zero_n[] = {stories, "Once", "0", router, "hi", NULL};
    expect_failure(zero_n, 2, "N_TOKENS");
    /* a folder that is not there: the loader's message names it */
    const char *missing = test_source_path("weights/no-such-model");
    const char *bad_model[] = {missing, "Once", "5", router, "hi", NULL};
    expect_failure(bad_model, 1, "no-such-model");
    /* a generative model where the classifier should be */
    const char *not_cls[] = {stories, "Once", "5", stories, "hi", NULL};
    expect_failure(not_cls, 1, "not a sequence classifier");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources_include_only_slm_h),
        cmocka_unit_test(test_matches_the_cli),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
