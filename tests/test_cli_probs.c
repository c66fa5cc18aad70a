/*
 * test_cli_probs.c — `slm run --n-probs K [--n-probs-json FILE]` and
 * `--verbose-prompt`, against the bundled stories260K and transformers'
 * reference (tests/fixtures/stories260K/reference.json):
 *   - text (stderr, after the text): one block per generated step, steps
 *     0, 1, ...; greedy chooses the top-1 each time, the chosen ids are
 *     transformers' greedy ids, K entries per step, p descending in (0, 1],
 *     summing to at most 1; step 0 is softmax of transformers' logits of
 *     the prompt's last position within 1e-5;
 *   - --n-probs-json: JSON Lines that cJSON parses, agreeing with the text
 *     (ids, pieces, p to the text's 6 digits);
 *   - K above the vocabulary shows all of it (with a note); K < 0, a
 *     non-number, --n-probs-json without --n-probs and an unwritable FILE
 *     are errors naming the option or the file;
 *   - --verbose-prompt lists what `slm tokenize --pieces` lists for the same
 *     prompt (--no-special too; with --chat, the rendered template tokenized
 *     as the template's own text);
 *   - chat --verbose-prompt: before each reply the conversation so far as
 *     rendered, its ids `slm tokenize`'s;
 *   - stdout is the same with or without any of these flags, greedy or
 *     sampled with a seed.
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

#define REFERENCE "tests/fixtures/stories260K/reference.json"
#define PHI3 "tests/fixtures/models/phi3"
#define PROMPT "Once upon a time"
#define MAX_TOP 600

typedef struct {
    int32_t id;
    char piece[48];
    double p;
} entry;

typedef struct {
    int step;
    entry chosen;
    entry top[MAX_TOP];
    int n_top;
} step_probs;

static void run_ok(const char *args, const char *input, int want, char **out, char **err)
{
    int rc = input ? test_run_cli_stdin(args, input, out, err) : test_run_cli(args, out, err);
    if (rc != want)
        fail_msg("slm %s: exit %d (want %d), stderr: %s", args, rc, want, err ? *err : "");
}

static void expect_in(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("'%s' not in: %s", needle, text);
}

/* "ID 'PIECE' P" (the line's end at eol). */
static void parse_entry(const char *s, const char *eol, entry *e)
{
    char *end;
    e->id = (int32_t)strtol(s, &end, 10);
    const char *q1 = memchr(end, '\'', (size_t)(eol - end)), *q2 = eol;
    while (q2 > q1 && *q2 != '\'')
        q2--;
    if (!q1 || q2 <= q1 || (size_t)(q2 - q1 - 1) >= sizeof e->piece)
        fail_msg("not an \"id 'piece' p\" entry: %.*s", (int)(eol - s), s);
    memcpy(e->piece, q1 + 1, (size_t)(q2 - q1 - 1));
    e->piece[q2 - q1 - 1] = '\0';
    e->p = strtod(q2 + 1, &end);
    if (end == q2 + 1 || end != eol)
        fail_msg("no probability in: %.*s", (int)(eol - s), s);
}

/* The text blocks of stderr; returns how many steps (at most max). */
static int parse_text(const char *err, step_probs *steps, int max)
{
    int n = 0;
    for (const char *line = err; *line; line = strchr(line, '\n') + 1) {
        const char *eol = strchr(line, '\n');
        assert_non_null(eol);
        if (!strncmp(line, "step ", 5)) {
            assert_true(n < max);
            step_probs *s = &steps[n++];
            char *colon;
            s->step = (int)strtol(line + 5, &colon, 10);
            assert_true(colon[0] == ':' && colon[1] == ' ');
            parse_entry(colon + 2, eol, &s->chosen);
            s->n_top = 0;
        } else if (!strncmp(line, "  ", 2) && n > 0) {
            step_probs *s = &steps[n - 1];
            assert_true(s->n_top < MAX_TOP);
            parse_entry(line + 2, eol, &s->top[s->n_top++]);
        }
    }
    return n;
}

/* Every step: n_top entries, p descending in (0, 1], sum <= 1 + 1e-6. */
static void check_lists(const step_probs *steps, int n, int n_top)
{
    for (int i = 0; i < n; i++) {
        const step_probs *s = &steps[i];
        assert_int_equal(s->step, i);
        assert_int_equal(s->n_top, n_top);
        double sum = 0.0;
        for (int j = 0; j < s->n_top; j++) {
            double p = s->top[j].p;
            if (!(p > 0.0 && p <= 1.0) || (j > 0 && p > s->top[j - 1].p))
                fail_msg("step %d entry %d: p %g out of (0, 1] or order", i, j, p);
            sum += p;
        }
        if (sum > 1.0 + 1e-6)
            fail_msg("step %d: the top %d sum to %.9g", i, n_top, sum);
    }
}

static cJSON *reference_case(cJSON **ref, const char *prompt)
{
    slm_error err = {0};
    assert_int_equal(slm_json_load(test_source_path(REFERENCE), ref, &err), SLM_OK);
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(*ref, "cases"))
        if (!strcmp(cJSON_GetObjectItem(c, "prompt")->valuestring, prompt))
            return c;
    fail_msg("%s has no case '%s'", REFERENCE, prompt);
    return NULL;
}

static step_probs *alloc_steps(int n)
{
    step_probs *s = calloc((size_t)n, sizeof *s);
    assert_non_null(s);
    return s;
}

/* ============================================================== text */

static void test_text_greedy_matches_transformers(void **state)
{
    char *plain, *out, *err;
    run_ok("run -p '" PROMPT "' -n 20 --temp 0", NULL, 0, &plain, NULL);
    run_ok("run -p '" PROMPT "' -n 20 --temp 0 --n-probs 5", NULL, 0, &out, &err);
    assert_string_equal(out, plain);
    expect_in(err, "[slm] the 5 most probable next tokens at each step");
    /* the table comes before the stats line */
    assert_true(strstr(err, "step 0: ") < strstr(err, "[slm] prompt "));
    step_probs *steps = alloc_steps(32);
    int n = parse_text(err, steps, 32);
    assert_int_equal(n, 20);
    check_lists(steps, n, 5);

    cJSON *ref;
    const cJSON *c = reference_case(&ref, PROMPT);
    const cJSON *greedy = cJSON_GetObjectItem(c, "greedy"), *logits = cJSON_GetObjectItem(c, "logits_last");
    for (int i = 0; i < n; i++) {
        assert_int_equal(steps[i].chosen.id, cJSON_GetArrayItem(greedy, i)->valueint);
        assert_int_equal(steps[i].chosen.id, steps[i].top[0].id);
        assert_string_equal(steps[i].chosen.piece, steps[i].top[0].piece);
        assert_true(steps[i].chosen.p == steps[i].top[0].p);
    }
    int vocab = cJSON_GetArraySize(logits);
    double max = -INFINITY, sum = 0.0;
    for (int i = 0; i < vocab; i++)
        max = fmax(max, cJSON_GetArrayItem(logits, i)->valuedouble);
    for (int i = 0; i < vocab; i++)
        sum += exp(cJSON_GetArrayItem(logits, i)->valuedouble - max);
    for (int j = 0; j < 5; j++) {
        const entry *e = &steps[0].top[j];
        double want = exp(cJSON_GetArrayItem(logits, e->id)->valuedouble - max) / sum;
        if (fabs(e->p - want) > 1e-5)
            fail_msg("step 0 id %d: p %.9g, softmax of transformers' logits %.9g", e->id, e->p,
                     want);
    }
    cJSON_Delete(ref);
    free(steps);
    free(plain);
    free(out);
    free(err);
}

/* Sampling draws from the sampler's distribution; the report changes
   nothing of it, and lists the model's own probabilities. */
static void test_sampled_run_unchanged(void **state)
{
    char *plain, *out, *err;
    run_ok("run -p 'Lily and Tom' -n 24 --temp 1.0 --top-k 0 --top-p 1 --min-p 0 --seed 5",
           NULL, 0, &plain, NULL);
    run_ok("run -p 'Lily and Tom' -n 24 --temp 1.0 --top-k 0 --top-p 1 --min-p 0 --seed 5 "
           "--n-probs 4", NULL, 0, &out, &err);
    assert_string_equal(out, plain);
    step_probs *steps = alloc_steps(32);
    int n = parse_text(err, steps, 32);
    assert_int_equal(n, 24);
    check_lists(steps, n, 4);
    bool off_top = false;
    for (int i = 0; i < n; i++) {
        off_top = off_top || steps[i].chosen.id != steps[i].top[0].id;
        for (int j = 0; j < 4; j++)
            if (steps[i].top[j].id == steps[i].chosen.id)
                assert_true(steps[i].top[j].p == steps[i].chosen.p);
        assert_true(steps[i].chosen.p > 0.0 && steps[i].chosen.p <= steps[i].top[0].p);
    }
    (void)off_top; /* temperature 1 over the whole vocabulary may or may not leave the top-1 */
    free(steps);
    free(plain);
    free(out);
    free(err);
}

/* ============================================================== JSON */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void same_entry(const cJSON *j, const entry *e)
{
    assert_int_equal(cJSON_GetObjectItem(j, "id")->valueint, e->id);
    assert_string_equal(cJSON_GetObjectItem(j, "piece")->valuestring, e->piece);
    double p = cJSON_GetObjectItem(j, "p")->valuedouble;
    if (fabs(p - e->p) > 5e-6 * p) /* the text has 6 significant digits */
        fail_msg("id %d: JSON p %.17g, text %g", e->id, p, e->p);
}

static void test_json_agrees_with_text(void **state)
{
    char *plain, *text_err, *out, *err, args[4300];
    char *dir = test_make_tmpdir();
    run_ok("run -p '" PROMPT "' -n 12 --temp 0", NULL, 0, &plain, NULL);
    run_ok("run -p '" PROMPT "' -n 12 --temp 0 --n-probs 6", NULL, 0, NULL, &text_err);
    snprintf(args, sizeof args, "run -p '" PROMPT "' -n 12 --temp 0 --n-probs 6 "
             "--n-probs-json %s/probs.jsonl", dir);
    run_ok(args, NULL, 0, &out, &err);
    assert_string_equal(out, plain);
    assert_null(strstr(err, "step 0:")); /* the file instead of the text */
    step_probs *steps = alloc_steps(16);
    int n = parse_text(text_err, steps, 16);
    assert_int_equal(n, 12);

    char path[4200];
    snprintf(path, sizeof path, "%s/probs.jsonl", dir);
    char *jsonl = slurp(path);
    int lines = 0;
    for (char *line = jsonl, *eol; *line; line = eol + 1) {
        eol = strchr(line, '\n');
        assert_non_null(eol); /* every object on a line of its own */
        *eol = '\0';
        cJSON *o = cJSON_Parse(line);
        if (!o)
            fail_msg("line %d is not JSON: %s", lines + 1, line);
        assert_true(lines < n);
        const step_probs *s = &steps[lines];
        assert_int_equal(cJSON_GetObjectItem(o, "step")->valueint, s->step);
        same_entry(cJSON_GetObjectItem(o, "token"), &s->chosen);
        const cJSON *top = cJSON_GetObjectItem(o, "top");
        assert_true(cJSON_IsArray(top));
        assert_int_equal(cJSON_GetArraySize(top), s->n_top);
        for (int j = 0; j < s->n_top; j++)
            same_entry(cJSON_GetArrayItem(top, j), &s->top[j]);
        cJSON_Delete(o);
        lines++;
    }
    assert_int_equal(lines, n);
    free(jsonl);
    free(steps);
    test_rmtree(dir);
    free(dir);
    free(plain);
    free(text_err);
    free(out);
    free(err);
}

/* ====================================================== K and errors */

static void test_k_beyond_the_vocabulary(void **state)
{
    char *err;
    run_ok("run -p '" PROMPT "' -n 3 --temp 0 --n-probs 100000", NULL, 0, NULL, &err);
    expect_in(err, "--n-probs 100000 is more than the vocabulary's 512 tokens");
    step_probs *steps = alloc_steps(4);
    int n = parse_text(err, steps, 4);
    assert_int_equal(n, 3);
    check_lists(steps, n, 512);
    for (int i = 0; i < n; i++) {
        bool seen[512] = {false};
        double sum = 0.0;
        for (int j = 0; j < 512; j++) {
            int32_t id = steps[i].top[j].id;
            assert_true(id >= 0 && id < 512 && !seen[id]);
            seen[id] = true;
            sum += steps[i].top[j].p;
        }
        if (fabs(sum - 1.0) > 1e-4)
            fail_msg("step %d: the whole vocabulary sums to %.9g", i, sum);
    }
    free(steps);
    free(err);
}

static void test_bad_values(void **state)
{
    char *err;
    const char *bad[] = {"--n-probs -1", "--n-probs abc", "--n-probs 2x", "--n-probs"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[256];
        snprintf(args, sizeof args, "run -p 'x' -n 2 %s", bad[i]);
        run_ok(args, NULL, 2, NULL, &err);
        expect_in(err, "--n-probs");
        free(err);
    }
    run_ok("run -p 'x' -n 2 --n-probs-json /tmp/never-written.jsonl", NULL, 2, NULL, &err);
    expect_in(err, "--n-probs-json needs --n-probs");
    free(err);
    run_ok("run -p 'x' -n 2 --n-probs 2 --n-probs-json /nonexistent-slm-dir/p.jsonl", NULL, 1,
           NULL, &err);
    expect_in(err, "/nonexistent-slm-dir/p.jsonl");
    free(err);
}

/* ===================================================== verbose prompt */

/* The "id -> 'piece'" lines after "[slm] prompt tokens: N" (malloc'd);
   *rendered the text of "[slm] prompt: '...'" (malloc'd). */
static char *verbose_block(const char *err, char **rendered)
{
    const char *at = strstr(err, "[slm] prompt: '");
    assert_non_null(at);
    at += strlen("[slm] prompt: '");
    const char *count = strstr(at, "'\n[slm] prompt tokens: ");
    assert_non_null(count);
    *rendered = strndup(at, (size_t)(count - at));
    char *end;
    long n = strtol(count + strlen("'\n[slm] prompt tokens: "), &end, 10);
    assert_true(*end == '\n' && n > 0);
    const char *p = end + 1, *q = p;
    for (long i = 0; i < n; i++) {
        q = strchr(q, '\n');
        assert_non_null(q);
        q++;
    }
    return strndup(p, (size_t)(q - p));
}

static void check_verbose(const char *opts, const char *tokenize_opts)
{
    char args[512], *plain, *out, *err, *pieces, *rendered;
    snprintf(args, sizeof args, "run -p '" PROMPT "' -n 6 --temp 0 %s", opts);
    run_ok(args, NULL, 0, &plain, NULL);
    snprintf(args, sizeof args, "run -p '" PROMPT "' -n 6 --temp 0 %s --verbose-prompt", opts);
    run_ok(args, NULL, 0, &out, &err);
    assert_string_equal(out, plain);
    snprintf(args, sizeof args, "tokenize %s --pieces '" PROMPT "'", tokenize_opts);
    run_ok(args, NULL, 0, &pieces, NULL);
    char *rendered_block = verbose_block(err, &rendered);
    assert_string_equal(rendered, PROMPT);
    assert_string_equal(rendered_block, pieces);
    /* the verbose prompt comes before anything generated is reported */
    assert_true(strstr(err, "[slm] prompt: ") < strstr(err, "[slm] prompt 5 tokens") ||
                strstr(err, "[slm] prompt 5 tokens") == NULL);
    free(rendered_block);
    free(rendered);
    free(plain);
    free(out);
    free(err);
    free(pieces);
}

static void test_verbose_prompt_is_tokenize(void **state)
{
    check_verbose("", "");
    check_verbose("--no-special", "--no-special");
}

/* --chat: the template's rendering is shown, and its ids are that text's
   own tokens (the template writes the special tokens itself). */
static void test_verbose_prompt_chat(void **state)
{
    char args[1024], *plain, *out, *err, *pieces, *rendered;
    const char *model = test_source_path(PHI3);
    snprintf(args, sizeof args, "run -m %s --chat --system 'Be brief.' -p 'Hi there' -n 3 "
             "--temp 0", model);
    run_ok(args, NULL, 0, &plain, NULL);
    strcat(args, " --verbose-prompt --n-probs 2");
    run_ok(args, NULL, 0, &out, &err);
    assert_string_equal(out, plain);
    char *block = verbose_block(err, &rendered);
    expect_in(rendered, "Be brief.");
    expect_in(rendered, "Hi there");
    assert_true(strlen(rendered) > strlen("Be brief.Hi there")); /* the template's markup */
    /* `tokenize -` drops one trailing newline of stdin: give it one more */
    char *input = malloc(strlen(rendered) + 2);
    assert_non_null(input);
    strcpy(input, rendered);
    strcat(input, "\n");
    snprintf(args, sizeof args, "tokenize -m %s --no-special --pieces -", model);
    run_ok(args, input, 0, &pieces, NULL);
    assert_string_equal(block, pieces);
    step_probs *steps = alloc_steps(4);
    int n = parse_text(err, steps, 4);
    assert_true(n >= 1 && n <= 3);
    check_lists(steps, n, 2);
    free(steps);
    free(input);
    free(block);
    free(rendered);
    free(plain);
    free(out);
    free(err);
    free(pieces);
}

/* The text after the n-th "[slm] prompt: '" block's rendering and its
   pieces; each rendering checked as `tokenize --no-special --pieces`. */
static void check_chat_block(const char *err, int nth, const char *model, char **rendered)
{
    const char *at = err;
    for (int i = 0; i < nth; i++) {
        at = strstr(at, "[slm] prompt: '");
        assert_non_null(at);
        at++;
    }
    char *block = verbose_block(at - 1, rendered), *pieces, args[1024];
    char *input = malloc(strlen(*rendered) + 2);
    assert_non_null(input);
    strcpy(input, *rendered);
    strcat(input, "\n");
    snprintf(args, sizeof args, "tokenize -m %s --no-special --pieces -", model);
    run_ok(args, input, 0, &pieces, NULL);
    assert_string_equal(block, pieces);
    free(input);
    free(block);
    free(pieces);
}

/* chat: before each reply, the whole conversation as rendered, the first
   reply in the second turn's rendering; the replies unchanged. */
static void test_chat_verbose_prompt(void **state)
{
    char args[1024], *plain, *out, *err, *first, *second;
    const char *model = test_source_path(PHI3);
    const char *input = "Hello there\nWhat next?\n";
    snprintf(args, sizeof args, "chat -m %s -n 4 --temp 0 --system 'Be brief.'", model);
    run_ok(args, input, 0, &plain, NULL);
    strcat(args, " --verbose-prompt");
    run_ok(args, input, 0, &out, &err);
    assert_string_equal(out, plain);
    check_chat_block(err, 1, model, &first);
    check_chat_block(err, 2, model, &second);
    assert_null(strstr(strstr(strstr(err, "[slm] prompt: '") + 1, "[slm] prompt: '") + 1,
                       "[slm] prompt: '"));
    expect_in(first, "Be brief.");
    expect_in(first, "Hello there");
    assert_null(strstr(first, "What next?"));
    /* the second turn renders the first one, its reply, then the new message */
    assert_true(strlen(second) > strlen(first));
    assert_memory_equal(second, first, strlen(first));
    char *reply = strndup(out, strcspn(out, "\n"));
    assert_true(reply[0] != '\0');
    expect_in(second + strlen(first), reply);
    expect_in(second + strlen(first), "What next?");
    free(reply);
    free(first);
    free(second);
    free(plain);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_greedy_matches_transformers),
        cmocka_unit_test(test_sampled_run_unchanged),
        cmocka_unit_test(test_json_agrees_with_text),
        cmocka_unit_test(test_k_beyond_the_vocabulary),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_verbose_prompt_is_tokenize),
        cmocka_unit_test(test_verbose_prompt_chat),
        cmocka_unit_test(test_chat_verbose_prompt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
