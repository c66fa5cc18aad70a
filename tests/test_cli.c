/*
 * test_cli.c — the `slm` verbs end to end, as a user runs them:
 *   run --chat / chat (the model's template, transformers' ids and greedy
 *   continuation on the phi3 fixture; the KV prefix reused across turns),
 *   --stop for run and chat, classify (pipeline-style output on the
 *   DistilBERT fixture), quantize + inspect, perplexity, bench.
 */
#define _POSIX_C_SOURCE 200809L
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
#include "safetensors.h"
#include "slm.h"
#include "test_util.h"

#define PHI3 "tests/fixtures/models/phi3"
#define DISTILBERT "tests/fixtures/models/distilbert_sst2"

static cJSON *load_json(const char *rel)
{
    cJSON *j;
    slm_error err = {0};
    if (slm_json_load(test_source_path(rel), &j, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    return j;
}

/* The phi3 reference case whose kind is "chat": its messages and greedy ids. */
static const cJSON *phi3_chat_case(const cJSON *ref)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ref, "cases"))
    {
        const cJSON *kind = cJSON_GetObjectItem(c, "kind");
        if (cJSON_IsString(kind) && strcmp(kind->valuestring, "chat") == 0)
            return c;
    }
    fail_msg("no chat case in the phi3 reference");
    return NULL;
}

static char *expected_text(const char *model_rel, const int32_t *ids, size_t n)
{
    slm_tokenizer *tok;
    slm_error err = {0};
    char *text;
    assert_int_equal(slm_tokenizer_load(test_source_path(model_rel), &tok, &err), SLM_OK);
    assert_int_equal(slm_detokenize(tok, ids, n, true, &text, &err), SLM_OK);
    slm_tokenizer_free(tok);
    return text;
}

/* ============================================================ chat */

/* `slm run --chat` renders the template, tokenizes like apply_chat_template
   and continues exactly as transformers' greedy generate did. */
static void test_run_chat_matches_transformers(void **state)
{
    cJSON *ref = load_json("tests/fixtures/reference/phi3.json");
    const cJSON *c = phi3_chat_case(ref), *msgs = cJSON_GetObjectItem(c, "messages");
    const char *system = NULL, *user = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        const char *role = cJSON_GetObjectItem(m, "role")->valuestring;
        const char *content = cJSON_GetObjectItem(m, "content")->valuestring;
        *(strcmp(role, "system") == 0 ? &system : &user) = content;
    }
    assert_non_null(system);
    assert_non_null(user);
    const cJSON *greedy = cJSON_GetObjectItem(c, "greedy");
    int32_t ids[64];
    size_t n = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, greedy) ids[n++] = g->valueint;
    char *want = expected_text(PHI3, ids, n);

    char args[1024], *out, *err_text;
    snprintf(args, sizeof args, "run -m %s --chat --system '%s' -p '%s' -n %zu --temp 0",
             test_source_path(PHI3), system, user, n);
    int rc = test_run_cli(args, &out, &err_text);
    if (rc != 0)
        fail_msg("slm run --chat: %s", err_text);
    size_t len = strlen(out);
    assert_true(len > 0 && out[len - 1] == '\n');
    out[len - 1] = '\0';
    if (strcmp(out, want) != 0)
        fail_msg("slm run --chat printed '%s', transformers' greedy text is '%s'", out, want);
    free(out);
    free(err_text);
    free(want);
    cJSON_Delete(ref);
}

/* Two turns through stdin: both answered, and the second reuses the first's
   cached prefix (only the new tokens are evaluated). */
static void test_chat_two_turns(void **state)
{
    char args[1024], *out, *err_text;
    snprintf(args, sizeof args, "chat -m %s -n 6 --temp 0 --stats", test_source_path(PHI3));
    int rc = test_run_cli_stdin(args, "Hello!\nHow are you?\n", &out, &err_text);
    if (rc != 0)
        fail_msg("slm chat: %s", err_text);
    size_t lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    /* --stats: prompt tokens cached vs evaluated; the second turn evaluates
       only what follows the prefix its cache already holds */
    int total[2], cached[2], fresh[2];
    char *line = err_text;
    for (int t = 0; t < 2; t++) {
        line = strstr(line, "[slm] prompt ");
        assert_non_null(line);
        assert_int_equal(sscanf(line, "[slm] prompt %d tokens: %d cached, %d new prompt tokens",
                                &total[t], &cached[t], &fresh[t]), 3);
        assert_int_equal(cached[t] + fresh[t], total[t]);
        line++;
    }
    assert_int_equal(cached[0], 0);
    assert_true(total[1] > total[0]);
    assert_true(cached[1] >= total[0]); /* at least the whole first render */
    assert_true(fresh[1] < total[1]);
    free(out);
    free(err_text);
}

/* --stop TEXT: the output ends right before the first stop text; repeatable
   (the earliest wins); an empty or missing TEXT is a usage error. */
static void test_run_stop(void **state)
{
    char *full, *out, *err_text;
    const char *base = "run -n 48 --temp 0 -p 'Once upon a time'";
    char args[512];
    snprintf(args, sizeof args, "%s", base);
    assert_int_equal(test_run_cli(args, &full, &err_text), 0);
    free(err_text);
    const char *gen = full + strlen("Once upon a time");
    const char *there = strstr(gen, "there"), *girl = strstr(gen, "girl");
    assert_non_null(there); /* the bundled model's greedy story: ", there was a little girl" */
    assert_non_null(girl);
    assert_true(there < girl);
    static const char *const stops[] = {"--stop girl", "--stop girl --stop there"};
    for (int k = 0; k < 2; k++) {
        const char *at = k == 0 ? girl : there;
        snprintf(args, sizeof args, "%s %s", base, stops[k]);
        assert_int_equal(test_run_cli(args, &out, &err_text), 0);
        size_t keep = (size_t)(at - full);
        if (strlen(out) != keep + 1 || memcmp(out, full, keep) != 0 || out[keep] != '\n')
            fail_msg("slm %s printed '%s'; want '%.*s' and a newline", args, out, (int)keep,
                     full);
        free(out);
        free(err_text);
    }
    assert_int_equal(test_run_cli("run -n 4 --stop ''", NULL, &err_text), 2);
    assert_non_null(strstr(err_text, "--stop needs a non-empty text"));
    free(err_text);
    assert_int_equal(test_run_cli("run -n 4 --stop", NULL, &err_text), 2);
    assert_non_null(strstr(err_text, "needs a value"));
    free(err_text);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(test_run_cli(k ? "chat --help" : "run --help", &out, NULL), 0);
        assert_non_null(strstr(out, "--stop TEXT"));
        free(out);
    }
    free(full);
}

/* chat --stop: the reply (and what the conversation keeps of it) ends before
   the stop text; here the tail of the reply the same chat gives without it. */
static void test_chat_stop(void **state)
{
    char args[1024], *out, *err_text;
    snprintf(args, sizeof args, "chat -m %s -n 8 --temp 0", test_source_path(PHI3));
    assert_int_equal(test_run_cli_stdin(args, "Hello!\n", &out, &err_text), 0);
    free(err_text);
    size_t len = strlen(out), k = len / 2;
    assert_true(len > 4);
    while (k < len && (out[k] & 0x80)) /* start the tail at an ASCII byte */
        k++;
    if (k >= len - 1)
        for (k = 1; k < len - 1 && (out[k] & 0x80); k++)
            ;
    assert_true(k < len - 1);
    char tail[256];
    snprintf(tail, sizeof tail, "%.*s", (int)(len - 1 - k), out + k); /* without the '\n' */
    assert_null(strchr(tail, '\''));
    size_t keep = (size_t)(strstr(out, tail) - out);
    char *cut;
    snprintf(args, sizeof args, "chat -m %s -n 8 --temp 0 --stop '%s'", test_source_path(PHI3),
             tail);
    assert_int_equal(test_run_cli_stdin(args, "Hello!\n", &cut, &err_text), 0);
    if (strlen(cut) != keep + 1 || memcmp(cut, out, keep) != 0)
        fail_msg("slm chat --stop '%s' printed '%s'; without it: '%s'", tail, cut, out);
    free(cut);
    free(err_text);
    free(out);
}

static void test_chat_without_template_is_an_error(void **state)
{
    char *err_text;
    assert_int_equal(test_run_cli("run --chat -p hi -n 1", NULL, &err_text), 1);
    assert_non_null(strstr(err_text, "tokenizer_config.json"));
    free(err_text);
    /* slm chat refuses before reading a line (the engine's fallback is for
       callers that ask for it, such as the server) */
    char *out;
    assert_int_equal(test_run_cli_stdin("chat -n 1", "hi\n", &out, &err_text), 1);
    assert_non_null(strstr(err_text, "no chat_template"));
    assert_string_equal(out, "");
    free(out);
    free(err_text);
}

/* ============================================================ classify */

static void test_classify_output(void **state)
{
    cJSON *ref = load_json("tests/fixtures/reference/distilbert_sst2.json");
    const cJSON *labels = cJSON_GetObjectItem(ref, "batch_labels");
    const cJSON *texts = cJSON_GetObjectItem(ref, "texts");
    const char *t0 = cJSON_GetArrayItem(texts, 0)->valuestring;
    const char *t1 = cJSON_GetArrayItem(texts, 1)->valuestring;
    char args[1024], *out, *err_text;
    snprintf(args, sizeof args, "classify -m %s '%s' '%s'", test_source_path(DISTILBERT), t0, t1);
    int rc = test_run_cli(args, &out, &err_text);
    if (rc != 0)
        fail_msg("slm classify: %s", err_text);
    /* pipeline-style lines with transformers' labels (the fixture's random
       weights call text 0 POSITIVE and text 1 NEGATIVE) */
    char want[1024];
    snprintf(want, sizeof want, "%s (", cJSON_GetArrayItem(labels, 0)->valuestring);
    assert_true(strncmp(out, want, strlen(want)) == 0);
    snprintf(want, sizeof want, ") -> %s\n%s (", t0, cJSON_GetArrayItem(labels, 1)->valuestring);
    if (!strstr(out, want))
        fail_msg("slm classify printed:\n%s", out);
    free(out);
    free(err_text);

    snprintf(args, sizeof args, "classify -m %s --json -", test_source_path(DISTILBERT));
    rc = test_run_cli_stdin(args, "good\nbad\n", &out, &err_text);
    assert_int_equal(rc, 0);
    cJSON *line = cJSON_Parse(out);
    assert_non_null(line);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(line, "scores"), "POSITIVE"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(line, "logits")), 2);
    cJSON_Delete(line);
    cJSON_Delete(ref);
    free(out);
    free(err_text);
}

/* ============================================================ tools */

/* logits and inspect work for every architecture */
static void test_logits_and_inspect_every_architecture(void **state)
{
    const char *models[] = {"tinyllama", "smollm2", "phi3", "distilbert_sst2"};
    const char *archs[] = {"LlamaForCausalLM", "LlamaForCausalLM", "Phi3ForCausalLM",
                           "DistilBertForSequenceClassification"};
    const int lines[] = {32000, 50259, 32064, 2};
    for (int i = 0; i < 4; i++) {
        char args[1024], *out, *err_text, rel[128];
        snprintf(rel, sizeof rel, "tests/fixtures/models/%s", models[i]);
        snprintf(args, sizeof args, "logits -m %s -p 'Hello world'", test_source_path(rel));
        if (test_run_cli(args, &out, &err_text) != 0)
            fail_msg("slm logits on %s: %s", models[i], err_text);
        int n = 0;
        for (char *p = out; *p; p++)
            n += *p == '\n';
        assert_int_equal(n, lines[i]);
        free(out);
        free(err_text);
        snprintf(args, sizeof args, "inspect -m %s", test_source_path(rel));
        assert_int_equal(test_run_cli(args, &out, NULL), 0);
        assert_non_null(strstr(out, archs[i]));
        free(out);
    }
}

static void test_quantize_then_inspect_and_run(void **state)
{
    char *dir = test_make_tmpdir(), args[1024], *out, *err_text;
    snprintf(args, sizeof args, "quantize -m %s -o %s --weights q8_0",
             test_source_path("weights/stories260K"), dir);
    assert_int_equal(test_run_cli(args, NULL, &err_text), 0);
    free(err_text);
    snprintf(args, sizeof args, "inspect -m %s", dir);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_non_null(strstr(out, "q8_0  [172, 64]"));
    free(out);
    snprintf(args, sizeof args, "run -m %s -p 'Once upon a time' -n 20 --temp 0", dir);
    char *a;
    assert_int_equal(test_run_cli(args, &a, NULL), 0);
    char *b;
    assert_int_equal(
        test_run_cli("run -p 'Once upon a time' -n 20 --temp 0 --weights q8_0", &b, NULL), 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
    snprintf(args, sizeof args, "quantize -m %s -o %s --weights q5_k",
             test_source_path("weights/stories260K"), dir);
    assert_int_equal(test_run_cli(args, NULL, &err_text), 2);
    free(err_text);
    test_rmtree(dir);
    free(dir);
}

static void test_perplexity_and_bench(void **state)
{
    char args[1024], *out, *err_text;
    snprintf(args, sizeof args, "perplexity -f %s",
             test_source_path("tests/fixtures/stories260K/eval.txt"));
    assert_int_equal(test_run_cli(args, &out, &err_text), 0);
    double ppl = 0;
    assert_int_equal(sscanf(out, "perplexity %lf", &ppl), 1);
    assert_true(ppl > 1.5 && ppl < 5.0);
    free(out);
    free(err_text);
    int rc = test_run_cli("bench -p 16 -n 8 -r 2 -t 1 --weights auto,q8_0 -o json", &out,
                          &err_text);
    if (rc != 0)
        fail_msg("slm bench: %s", err_text);
    int rows = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        assert_true(cJSON_GetObjectItem(j, "tok_s")->valuedouble > 0);
        assert_true(cJSON_GetObjectItem(j, "peak_rss_mb")->valuedouble > 0);
        cJSON_Delete(j);
    }
    assert_int_equal(rows, 4); /* pp16 and tg8 for each of 2 formats */
    free(out);
    free(err_text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_chat_matches_transformers),
        cmocka_unit_test(test_chat_two_turns),
        cmocka_unit_test(test_chat_without_template_is_an_error),
        cmocka_unit_test(test_run_stop),
        cmocka_unit_test(test_chat_stop),
        cmocka_unit_test(test_classify_output),
        cmocka_unit_test(test_logits_and_inspect_every_architecture),
        cmocka_unit_test(test_quantize_then_inspect_and_run),
        cmocka_unit_test(test_perplexity_and_bench),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
