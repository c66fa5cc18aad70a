/*
 * test_cli_help.c — every verb's --help lists exactly the options its parser
 * takes. The verbs come from `slm help`; each verb's options from the option
 * lines of its --help. Every option any verb lists is then tried on every
 * verb, followed by a sentinel unknown option so that nothing runs: an
 * option the verb's parser does not know is reported as "unknown option
 * 'X'"; any other outcome (a value error, the sentinel reported) means the
 * parser took it. Listed and taken must agree both ways.
 * Also `slm --version` and `slm help VERB`.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#define SENTINEL "--zz-not-an-option"
#define MAX_NAMES 256

typedef struct {
    char *v[MAX_NAMES];
    int n;
} names;

static bool has(const names *l, const char *s)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return true;
    return false;
}

static void add(names *l, const char *s, size_t len)
{
    char buf[64];
    assert_true(len < sizeof buf);
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (has(l, buf))
        return;
    assert_true(l->n < MAX_NAMES);
    l->v[l->n++] = strdup(buf);
}

static void clear(names *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

/* An option name: "-x" or "--name" (a letter after the dashes, so "-1" in
   a description is not one). */
static size_t option_len(const char *p)
{
    size_t d = p[0] == '-' ? (p[1] == '-' ? 2 : 1) : 0;
    if (!d || !isalpha((unsigned char)p[d]))
        return 0;
    size_t n = d;
    while (isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '_')
        n++;
    return n;
}

/* The options of a --help text: on each line indented by 1-4 spaces and
   starting with '-', the names before the description (which starts after
   a run of two spaces), e.g. "  -t, --threads N   ..." or
   "  --mmap / --no-mmap   ...". */
static void help_options(const char *help, names *out)
{
    for (const char *line = help; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *p = line;
        while (*p == ' ')
            p++;
        if (p - line < 1 || p - line > 4 || *p != '-')
            continue;
        const char *end = strstr(p, "  "), *eol = strchr(p, '\n');
        if (!end || (eol && end > eol))
            end = eol ? eol : p + strlen(p);
        while (p < end) {
            size_t n = option_len(p);
            if (n && (p == line || p[-1] == ' ')) {
                bool help = (n == 2 && !strncmp(p, "-h", 2)) || (n == 6 && !strncmp(p, "--help", 6));
                if (!help)
                    add(out, p, n);
                p += n;
            } else {
                p++;
            }
        }
    }
}

static char *run_out(const char *args, int want_rc)
{
    char *out, *err;
    int rc = test_run_cli(args, &out, &err);
    if (rc != want_rc)
        fail_msg("slm %s: exit %d, wanted %d; stderr: %s", args, rc, want_rc, err);
    free(err);
    return out;
}

/* The verbs of `slm help` ("commands:" then "  name  summary" lines). */
static void verbs(names *out)
{
    char *help = run_out("help", 0);
    char *p = strstr(help, "commands:\n");
    assert_non_null(p);
    for (p = strchr(p, '\n') + 1; *p == ' '; p = strchr(p, '\n') + 1) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " \n");
        add(out, p, n);
    }
    free(help);
    assert_true(out->n >= 10);
}

/* Whether `verb`'s parser takes `opt`: run with a value and the sentinel
   after it, it must not be what the parser calls unknown. */
static bool takes(const char *verb, const char *opt)
{
    char args[256], *err, unknown[96];
    snprintf(args, sizeof args, "%s %s 1 " SENTINEL, verb, opt);
    int rc = test_run_cli(args, NULL, &err);
    snprintf(unknown, sizeof unknown, "unknown option '%s'", opt);
    bool unknown_opt = strstr(err, unknown) != NULL;
    if (rc == 0)
        fail_msg("slm %s: exit 0 with an unknown option in the arguments", args);
    free(err);
    return !unknown_opt;
}

static void test_help_lists_what_the_parser_takes(void **state)
{
    names vs = {0}, all = {0}, listed[32];
    verbs(&vs);
    assert_true(vs.n <= 32);
    for (int i = 0; i < vs.n; i++) {
        char args[128];
        snprintf(args, sizeof args, "%s --help", vs.v[i]);
        char *help = run_out(args, 0);
        listed[i] = (names){0};
        help_options(help, &listed[i]);
        help_options(help, &all);
        free(help);
    }
    int mismatches = 0;
    for (int i = 0; i < vs.n; i++) {
        /* the sentinel itself is unknown to every verb: the probe works */
        assert_false(takes(vs.v[i], SENTINEL));
        for (int k = 0; k < all.n; k++) {
            bool l = has(&listed[i], all.v[k]), t = takes(vs.v[i], all.v[k]);
            if (l != t) {
                print_message("slm %s: %s is %s --help but %s by the parser\n", vs.v[i],
                              all.v[k], l ? "in" : "not in", t ? "taken" : "refused");
                mismatches++;
            }
        }
        clear(&listed[i]);
    }
    clear(&vs);
    clear(&all);
    assert_int_equal(mismatches, 0);
}

/* Options the issue named: each verb's help says them. */
static void test_help_names_the_expected_options(void **state)
{
    static const struct {
        const char *verb, *present, *absent;
    } cases[] = {
        {"classify", "--threads", "--kv"},  {"classify", "--weights", "--temp"},
        {"logits", "--model", "--temp"},    {"perplexity", "--model", "--stop"},
        {"bench", "--model", "--temp"},     {"inspect", "--model", "--kv"},
        {"quantize", "--model", "--kv"},
        {"run", "--profile", "--stats"},    {"chat", "--profile-json", "--pieces"},
        {"classify", "--profile", "--kv"},  {"bench", "--profile-json", "--temp"},
        {"tokenize", "--pieces", "--profile"},
        {"run", "--n-probs", "--pieces"},   {"run", "--n-probs-json", "--json"},
        {"run", "--verbose-prompt", "--stats"}, {"chat", "--verbose-prompt", "--n-probs"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[128];
        names l = {0};
        snprintf(args, sizeof args, "%s --help", cases[i].verb);
        char *help = run_out(args, 0);
        help_options(help, &l);
        if (!has(&l, cases[i].present) || has(&l, cases[i].absent))
            fail_msg("slm %s --help: wanted %s listed and %s not:\n%s", cases[i].verb,
                     cases[i].present, cases[i].absent, help);
        if (!strcmp(cases[i].verb, "quantize"))
            assert_non_null(strstr(help, "f32|f16|bf16|q8_0|q4_0"));
        free(help);
        clear(&l);
    }
}

/* `slm help VERB` is VERB's --help; an unknown VERB is a usage error. */
static void test_help_verb(void **state)
{
    char *a = run_out("help bench", 0), *b = run_out("bench --help", 0);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "usage: slm bench"));
    free(a);
    free(b);
    char *err;
    assert_int_equal(test_run_cli("help no-such-verb", NULL, &err), 2);
    assert_non_null(strstr(err, "unknown command 'no-such-verb'"));
    free(err);
}

/* --version: the version, a commit (hex, or "unknown" outside git), the
   build type and the kernel tables, scalar always among them. */
static void test_version(void **state)
{
    char *out = run_out("--version", 0);
    char version[32], commit[64];
    assert_int_equal(sscanf(out, "slm %31s (commit %63[^,],", version, commit), 2);
    assert_true(isdigit((unsigned char)version[0]));
    bool hex = strlen(commit) >= 7 && strspn(commit, "0123456789abcdef") == strlen(commit);
    if (!hex && strcmp(commit, "unknown") != 0)
        fail_msg("commit '%s' is neither a hash nor unknown", commit);
    assert_true(strstr(out, "Release build") || strstr(out, "Debug build") ||
                strstr(out, "RelWithDebInfo build") || strstr(out, "MinSizeRel build"));
    const char *tables = strstr(out, "kernel tables compiled:");
    assert_non_null(tables);
    assert_non_null(strstr(tables, " scalar"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_lists_what_the_parser_takes),
        cmocka_unit_test(test_help_names_the_expected_options),
        cmocka_unit_test(test_help_verb),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
