/*
 * test_llama.c — the Llama path end to end on the bundled stories260K model:
 *   - greedy from BOS reproduces the reference ids of llama2.c's run.c
 *     (tests/fixtures/stories260K/greedy-from-bos.txt), through the API and the CLI;
 *   - for other prompts, token ids, last-position logits and 64-token greedy
 *     continuations equal Hugging Face transformers' (reference.json, written by
 *     tools/make_stories_fixtures.py); logits within 1e-4 of the largest magnitude;
 *   - model folders with a bad config, a missing tensor or a wrong shape are refused
 *     with a message naming the problem.
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

#define MODEL_DIR "weights/stories260K"

static slm_model *load_model(void)
{
    slm_model *m = NULL;
    slm_error err = {0};
    slm_status s = slm_model_load(test_source_path(MODEL_DIR), NULL, &m, &err);
    if (s != SLM_OK)
        fail_msg("load: %s", err.msg);
    return m;
}

/* Reads "KEY:v1,v2,..." from the reference file. */
static int32_t *reference_ids(const char *key, size_t *n)
{
    char *text;
    size_t len;
    slm_error err = {0};
    assert_int_equal(slm_read_file(test_source_path("tests/fixtures/stories260K/greedy-from-bos.txt"),
                                   &text, &len, &err),
                     SLM_OK);
    char *p = strstr(text, key);
    assert_non_null(p);
    char *eol = strchr(p, '\n');
    *eol = '\0';
    int32_t *ids = test_parse_ids(p + strlen(key), n);
    free(text);
    return ids;
}

static char *reference_text(void)
{
    char *text;
    size_t len;
    slm_error err = {0};
    assert_int_equal(slm_read_file(test_source_path("tests/fixtures/stories260K/greedy-from-bos.txt"),
                                   &text, &len, &err),
                     SLM_OK);
    char *start = strstr(text, "TEXT:\n") + strlen("TEXT:\n");
    char *end = strstr(start, "\n=== END");
    *end = '\0';
    char *out = strdup(start);
    free(text);
    return out;
}

/* ============================================================ generation */

static void test_greedy_from_bos_matches_reference(void **state)
{
    slm_model *m = load_model();
    size_t n_prompt, n_ref;
    int32_t *prompt = reference_ids("PROMPT_IDS:", &n_prompt);
    int32_t *ref = reference_ids("GEN_IDS:", &n_ref);
    assert_int_equal(n_ref, 256);
    test_ids out;
    test_greedy(m, prompt, n_prompt, 256, &out);
    for (size_t i = 0; i < n_ref; i++)
        if (i >= out.n || out.ids[i] != ref[i])
            fail_msg("greedy id %zu: got %d, reference %d", i, i < out.n ? out.ids[i] : -1,
                     ref[i]);
    free(prompt);
    free(ref);
    slm_model_free(m);
}

/* The prompt is echoed and the generation continues its text: the first
   generated word keeps its leading space (transformers' greedy continuation
   of this prompt is "he loved to play ..."). */
static void test_cli_run_continues_prompt(void **state)
{
    char *out;
    assert_int_equal(test_run_cli("run -p 'The little dog was sad because' -n 4 --temp 0", &out,
                                  NULL),
                     0);
    if (strncmp(out, "The little dog was sad because he loved to", 42) != 0)
        fail_msg("slm run printed '%s'", out);
    free(out);
    assert_int_equal(test_run_cli("run -p 'The little dog was sad because' -n 4 --temp 0 "
                                  "--no-display-prompt",
                                  &out, NULL),
                     0);
    assert_true(strncmp(out, "he loved to", 11) == 0); /* decoded on its own */
    free(out);
}

static void test_cli_run_greedy_text(void **state)
{
    char *out, *err_text;
    int rc = test_run_cli("run -p '' -n 200 --temp 0", &out, &err_text);
    if (rc != 0)
        fail_msg("slm run exited %d: %s", rc, err_text);
    char *ref = reference_text();
    /* 200 of the 256 reference tokens: the printed text (plus a final newline)
       must be a prefix of the reference text, and a long one */
    size_t n = strlen(out);
    assert_true(n > 0 && out[n - 1] == '\n');
    out[n - 1] = '\0';
    assert_true(strlen(out) > 400);
    if (strncmp(ref, out, strlen(out)) != 0)
        fail_msg("slm run output is not a prefix of the reference:\n%s", out);
    assert_non_null(strstr(err_text, "generated 200 tokens"));
    free(ref);
    free(out);
    free(err_text);
}

/* ============================================================ vs transformers */

static double max_abs(const cJSON *arr)
{
    double m = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) m = fmax(m, fabs(v->valuedouble));
    return m;
}

static void check_case(slm_model *m, const cJSON *c)
{
    const char *prompt = cJSON_GetObjectItem(c, "prompt")->valuestring;
    const cJSON *ids = cJSON_GetObjectItem(c, "ids");
    const cJSON *greedy_ref = cJSON_GetObjectItem(c, "greedy");
    const cJSON *logits_ref = cJSON_GetObjectItem(c, "logits_last");
    slm_error err = {0};
    slm_tokens toks = {0};
    assert_int_equal(slm_tokenize(slm_model_tokenizer(m), prompt, strlen(prompt), true, &toks, &err),
                     SLM_OK);
    assert_int_equal(toks.n, cJSON_GetArraySize(ids));
    for (size_t i = 0; i < toks.n; i++)
        assert_int_equal(toks.ids[i], cJSON_GetArrayItem(ids, (int)i)->valueint);

    slm_session *s;
    const float *logits;
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_session_eval(s, toks.ids, toks.n, &logits, &err), SLM_OK);
    double tol = 1e-4 * max_abs(logits_ref);
    assert_int_equal(cJSON_GetArraySize(logits_ref), slm_model_vocab_size(m));
    for (int i = 0; i < slm_model_vocab_size(m); i++) {
        double want = cJSON_GetArrayItem(logits_ref, i)->valuedouble;
        if (fabs(logits[i] - want) > tol)
            fail_msg("prompt '%s': logit %d = %g, transformers %g (tol %g)", prompt, i,
                     logits[i], want, tol);
    }
    slm_session_free(s);

    test_ids out;
    test_greedy(m, toks.ids, toks.n, 64, &out);
    assert_int_equal(out.n, cJSON_GetArraySize(greedy_ref));
    for (size_t i = 0; i < out.n; i++)
        if (out.ids[i] != cJSON_GetArrayItem(greedy_ref, (int)i)->valueint)
            fail_msg("prompt '%s': greedy id %zu differs", prompt, i);
    slm_tokens_free(&toks);
}

static void test_matches_transformers(void **state)
{
    cJSON *ref;
    slm_error err = {0};
    assert_int_equal(slm_json_load(test_source_path("tests/fixtures/stories260K/reference.json"),
                                   &ref, &err),
                     SLM_OK);
    slm_model *m = load_model();
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ref, "cases"))
    {
        check_case(m, c);
        n++;
    }
    assert_true(n >= 5);
    slm_model_free(m);
    cJSON_Delete(ref);
}

static void test_mmap_and_read_agree(void **state)
{
    slm_load_options o = slm_load_options_default();
    slm_model *a = load_model(), *b;
    slm_error err = {0};
    o.use_mmap = true;
    assert_int_equal(slm_model_load(test_source_path(MODEL_DIR), &o, &b, &err), SLM_OK);
    int32_t ids[] = {1, 403, 407, 261, 378};
    slm_session *sa, *sb;
    const float *la, *lb;
    assert_int_equal(slm_session_new(a, 64, &sa, &err), SLM_OK);
    assert_int_equal(slm_session_new(b, 64, &sb, &err), SLM_OK);
    assert_int_equal(slm_session_eval(sa, ids, 5, &la, &err), SLM_OK);
    assert_int_equal(slm_session_eval(sb, ids, 5, &lb, &err), SLM_OK);
    assert_memory_equal(la, lb, sizeof(float) * slm_model_vocab_size(a));
    slm_session_free(sa);
    slm_session_free(sb);
    slm_model_free(a);
    slm_model_free(b);
}

/* Token-by-token evaluation must equal one batched prefill. */
static void test_batched_prefill_equals_incremental(void **state)
{
    slm_model *m = load_model();
    slm_error err = {0};
    int32_t ids[] = {1, 317, 269, 274, 287, 263, 377, 267, 265, 282, 295, 433};
    size_t n = sizeof ids / sizeof ids[0];
    slm_session *s1, *s2;
    const float *l1, *l2;
    assert_int_equal(slm_session_new(m, 64, &s1, &err), SLM_OK);
    assert_int_equal(slm_session_new(m, 64, &s2, &err), SLM_OK);
    assert_int_equal(slm_session_eval(s1, ids, n, &l1, &err), SLM_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(slm_session_eval(s2, &ids[i], 1, &l2, &err), SLM_OK);
    for (int i = 0; i < slm_model_vocab_size(m); i++)
        assert_float_equal(l1[i], l2[i], 1e-4);
    slm_session_free(s1);
    slm_session_free(s2);
    slm_model_free(m);
}

static void test_context_overflow_is_an_error(void **state)
{
    slm_model *m = load_model();
    slm_error err = {0};
    slm_session *s;
    const float *l;
    int32_t ids[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    assert_int_equal(slm_session_new(m, 8, &s, &err), SLM_OK);
    assert_int_equal(slm_session_eval(s, ids, 9, &l, &err), SLM_ERR_RANGE);
    assert_non_null(strstr(err.msg, "do not fit"));
    int32_t bad = 512;
    assert_int_equal(slm_session_eval(s, &bad, 1, &l, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "512"));
    slm_session_free(s);
    slm_model_free(m);
}

/* ============================================================ bad folders */

/* Copies the bundled model into a temp folder with config.json replaced. */
static char *model_with_config(const char *config)
{
    static const char *files[] = {"model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                  "generation_config.json"};
    char *dir = test_make_tmpdir();
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256], *data;
        size_t len;
        slm_error err = {0};
        snprintf(rel, sizeof rel, MODEL_DIR "/%s", files[i]);
        assert_int_equal(slm_read_file(test_source_path(rel), &data, &len, &err), SLM_OK);
        free(test_write_file(dir, files[i], data, len));
        free(data);
    }
    free(test_write_file(dir, "config.json", config, strlen(config)));
    return dir;
}

/* The real config.json with one key's value replaced (a JSON literal). */
static char *config_with(const char *key, const char *value)
{
    cJSON *cfg;
    slm_error err = {0};
    assert_int_equal(slm_json_load(test_source_path(MODEL_DIR "/config.json"), &cfg, &err), SLM_OK);
    cJSON_ReplaceItemInObject(cfg, key, cJSON_Parse(value));
    char *text = cJSON_Print(cfg);
    cJSON_Delete(cfg);
    return text;
}

static void expect_load_error(const char *config, slm_status want, const char *fragment)
{
    char *dir = model_with_config(config);
    slm_model *m;
    slm_error err = {0};
    slm_status s = slm_model_load(dir, NULL, &m, &err);
    if (s != want || !strstr(err.msg, fragment))
        fail_msg("status %d message '%s'; want %d with '%s'", s, err.msg, want, fragment);
    assert_null(m);
    test_rmtree(dir);
    free(dir);
}

static void test_bad_configs(void **state)
{
    struct {
        const char *key, *value;
        slm_status status;
        const char *fragment;
    } cases[] = {
        {"architectures", "[\"GPTNeoXForCausalLM\"]", SLM_ERR_UNSUPPORTED,
         "architecture 'GPTNeoXForCausalLM' (model_type 'llama') is not supported; slm runs "
         "LlamaForCausalLM"},
        {"hidden_size", "96", SLM_ERR_FORMAT, "model.embed_tokens.weight' has shape [512, 64]"},
        {"num_hidden_layers", "6", SLM_ERR_FORMAT, "missing tensor 'model.layers.5."},
        {"num_key_value_heads", "3", SLM_ERR_FORMAT, "not a multiple"},
        {"intermediate_size", "\"big\"", SLM_ERR_FORMAT, "\"intermediate_size\" must be an integer"},
        {"tie_word_embeddings", "false", SLM_ERR_FORMAT, "missing tensor 'lm_head.weight'"},
        {"rope_scaling", "{\"rope_type\": \"yarn\", \"factor\": 4.0}", SLM_ERR_UNSUPPORTED,
         "rope_scaling type 'yarn'"},
        {"hidden_act", "\"gelu\"", SLM_ERR_UNSUPPORTED, "hidden_act 'gelu'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *cfg = config_with(cases[i].key, cases[i].value);
        print_message("case %s = %s\n", cases[i].key, cases[i].value);
        expect_load_error(cfg, cases[i].status, cases[i].fragment);
        free(cfg);
    }
    expect_load_error("{\"architectures\": [\"LlamaForCausalLM\"],\n \"hidden_size\": 64,,}",
                      SLM_ERR_FORMAT, "config.json: malformed JSON at line 2");
    expect_load_error("{\"architectures\": [\"LlamaForCausalLM\"]}", SLM_ERR_FORMAT,
                      "missing required key \"hidden_size\"");
    /* another family's config is named as unsupported, not a missing key */
    expect_load_error("{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", "
                      "\"n_embd\": 768}",
                      SLM_ERR_UNSUPPORTED,
                      "architecture 'GPT2LMHeadModel' (model_type 'gpt2') is not supported");
}

static void test_cli_errors(void **state)
{
    char *out, *err_text;
    assert_int_equal(test_run_cli("run --no-such-flag", NULL, &err_text), 2);
    assert_non_null(strstr(err_text, "unknown option '--no-such-flag'"));
    free(err_text);
    assert_int_equal(test_run_cli("run -n", NULL, &err_text), 2);
    assert_non_null(strstr(err_text, "-n needs a value"));
    free(err_text);
    assert_int_equal(test_run_cli("run -m /nonexistent", NULL, &err_text), 1);
    assert_non_null(strstr(err_text, "/nonexistent: no such model folder"));
    free(err_text);
    assert_int_equal(test_run_cli("run --help", &out, NULL), 0);
    assert_non_null(strstr(out, "--top-p"));
    free(out);
}

static void test_cli_logits_and_inspect(void **state)
{
    char *out, *err_text;
    int rc = test_run_cli("logits --ids '1 403 407'", &out, &err_text);
    if (rc != 0)
        fail_msg("slm logits: %s", err_text);
    size_t n = 0;
    for (char *p = out; *p; p++)
        n += *p == '\n';
    assert_int_equal(n, 512);
    free(out);
    free(err_text);
    assert_int_equal(test_run_cli("inspect", &out, NULL), 0);
    assert_non_null(strstr(out, "LlamaForCausalLM"));
    assert_non_null(strstr(out, "model.layers.4.mlp.down_proj.weight"));
    assert_non_null(strstr(out, "[64, 172]"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_from_bos_matches_reference),
        cmocka_unit_test(test_cli_run_greedy_text),
        cmocka_unit_test(test_cli_run_continues_prompt),
        cmocka_unit_test(test_matches_transformers),
        cmocka_unit_test(test_mmap_and_read_agree),
        cmocka_unit_test(test_batched_prefill_equals_incremental),
        cmocka_unit_test(test_context_overflow_is_an_error),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_cli_errors),
        cmocka_unit_test(test_cli_logits_and_inspect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
