/*
 * test_models.c — every architecture against Hugging Face transformers, on the
 * tiny random-weight fixtures of tools/make_fixtures.py (tests/fixtures/models,
 * reference outputs in tests/fixtures/reference, semantics in models/NOTES.md):
 *   decoders (tinyllama, smollm2, phi3, phi3_longrope): logits at every prompt
 *     position of case0 and the last 4 of the other cases, within 1e-4 x the
 *     largest reference magnitude, and the 32-token greedy continuations identical;
 *   distilbert_sst2: classifier logits of the padded batch and of each text
 *     alone within 1e-4 x max magnitude, probabilities within 1e-5.
 * The reference tensors are read with slm's own safetensors loader.
 */
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
#include "safetensors.h"
#include "slm.h"
#include "test_util.h"

/* ============================================================ fixture access */

typedef struct {
    slm_safetensors *st;
    cJSON *json;
} reference;

static reference load_reference(const char *name)
{
    reference r;
    char rel[256];
    slm_error err = {0};
    snprintf(rel, sizeof rel, "tests/fixtures/reference/%s.safetensors", name);
    if (slm_safetensors_open(test_source_path(rel), false, &r.st, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    snprintf(rel, sizeof rel, "tests/fixtures/reference/%s.json", name);
    if (slm_json_load(test_source_path(rel), &r.json, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    return r;
}

static void free_reference(reference *r)
{
    slm_safetensors_free(r->st);
    cJSON_Delete(r->json);
}

/* A reference tensor `case.field` with the expected dtype. */
static const slm_tensor *ref_tensor(const reference *r, const char *case_name, const char *field,
                                    slm_dtype dtype)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", case_name, field);
    const slm_tensor *t = slm_safetensors_find(r->st, name);
    if (!t || t->dtype != dtype)
        fail_msg("reference tensor %s missing or not %s", name, slm_dtype_name(dtype));
    return t;
}

static slm_model *load_model_dir(const char *dir)
{
    slm_model *m = NULL;
    slm_error err = {0};
    if (slm_model_load(dir, NULL, &m, &err) != SLM_OK)
        fail_msg("load %s: %s", dir, err.msg);
    return m;
}

/* Copies `files` of src into dst (both absolute folders). */
static void copy_files(const char *src, const char *dst, const char *const *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char path[4096], *data;
        size_t len;
        slm_error err = {0};
        snprintf(path, sizeof path, "%s/%s", src, files[i]);
        assert_int_equal(slm_read_file(path, &data, &len, &err), SLM_OK);
        free(test_write_file(dst, files[i], data, len));
        free(data);
    }
}

/* ============================================================ comparisons */

static float max_abs(const float *x, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(x[i]));
    return m;
}

/* |got - want| <= rel * max|want| everywhere; reports the worst element. */
static void assert_close(const char *what, const float *got, const float *want, size_t n,
                         double rel)
{
    double tol = rel * max_abs(want, n), worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= worst)) {
            worst = d;
            at = i;
        }
    }
    print_message("%s: max |diff| %.3g (tolerance %.3g)\n", what, worst, tol);
    if (!(worst <= tol))
        fail_msg("%s: element %zu = %.7g, reference %.7g (|diff| %.3g > %.3g)", what, at,
                 got[at], want[at], worst, tol);
}

/* ============================================================ decoders */

static void check_case_logits(slm_model *m, const reference *r, const char *case_name,
                              const char *model_name)
{
    const slm_tensor *ids = ref_tensor(r, case_name, "input_ids", SLM_DTYPE_I32);
    const slm_tensor *want = ref_tensor(r, case_name, "logits", SLM_DTYPE_F32);
    /* the reference holds the last P positions (all of them for case0) */
    size_t T = ids->n_elements, V = (size_t)slm_model_vocab_size(m), P = (size_t)want->shape[0];
    assert_int_equal(want->shape[1], V);
    assert_true(P >= 1 && P <= T);
    float *got = malloc(T * V * sizeof *got);
    slm_session *s;
    slm_error err = {0};
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    if (slm_session_eval_all(s, ids->data, T, got, &err) != SLM_OK)
        fail_msg("%s %s: %s", model_name, case_name, err.msg);
    char what[128];
    snprintf(what, sizeof what, "%s %s logits, last %zu of %zu positions", model_name, case_name,
             P, T);
    assert_close(what, got + (T - P) * V, want->data, P * V, 1e-4);
    slm_session_free(s);
    free(got);
}

static void check_case_greedy(slm_model *m, const reference *r, const char *case_name,
                              const char *model_name)
{
    const slm_tensor *ids = ref_tensor(r, case_name, "input_ids", SLM_DTYPE_I32);
    const slm_tensor *want = ref_tensor(r, case_name, "greedy", SLM_DTYPE_I32);
    const int32_t *w = want->data;
    test_ids out;
    test_greedy(m, ids->data, ids->n_elements, (int)want->n_elements, &out);
    /* slm does not report the eos id it stops at; the reference includes it */
    size_t n_want = want->n_elements;
    if (n_want > 0 && slm_model_is_eos(m, w[n_want - 1]))
        n_want--;
    for (size_t i = 0; i < n_want; i++)
        if (i >= out.n || out.ids[i] != w[i])
            fail_msg("%s %s: greedy token %zu is %d, transformers %d", model_name, case_name, i,
                     i < out.n ? out.ids[i] : -1, w[i]);
    assert_int_equal(out.n, n_want);
}

static void check_decoder(const char *name, const char *dir)
{
    reference r = load_reference(name);
    slm_model *m = load_model_dir(dir);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(r.json, "cases"))
    {
        const char *case_name = cJSON_GetObjectItem(c, "name")->valuestring;
        check_case_logits(m, &r, case_name, name);
        check_case_greedy(m, &r, case_name, name);
        n++;
    }
    assert_true(n >= 2);
    slm_model_free(m);
    free_reference(&r);
}

static void test_tinyllama(void **state)
{
    check_decoder("tinyllama", test_source_path("tests/fixtures/models/tinyllama"));
}

static void test_smollm2(void **state)
{
    check_decoder("smollm2", test_source_path("tests/fixtures/models/smollm2"));
}

static void test_phi3(void **state)
{
    check_decoder("phi3", test_source_path("tests/fixtures/models/phi3"));
}

/* phi3_longrope ships only its config; the weights and tokenizer are phi3's. */
static void test_phi3_longrope(void **state)
{
    static const char *const own[] = {"config.json", "generation_config.json"};
    static const char *const shared[] = {"model.safetensors", "tokenizer.json",
                                         "tokenizer_config.json"};
    char *dir = test_make_tmpdir();
    copy_files(test_source_path("tests/fixtures/models/phi3_longrope"), dir, own, 2);
    copy_files(test_source_path("tests/fixtures/models/phi3"), dir, shared, 3);
    check_decoder("phi3_longrope", dir);
    test_rmtree(dir);
    free(dir);
}

/* ============================================================ DistilBERT */

static void test_distilbert_batch(void **state)
{
    reference r = load_reference("distilbert_sst2");
    slm_model *m = load_model_dir(test_source_path("tests/fixtures/models/distilbert_sst2"));
    assert_int_equal(slm_model_n_labels(m), 2);
    assert_string_equal(slm_model_label(m, 0), "NEGATIVE");
    assert_string_equal(slm_model_label(m, 1), "POSITIVE");
    const slm_tensor *ids = ref_tensor(&r, "batch", "input_ids", SLM_DTYPE_I32);
    const slm_tensor *mask = ref_tensor(&r, "batch", "attention_mask", SLM_DTYPE_I32);
    const slm_tensor *want = ref_tensor(&r, "batch", "logits", SLM_DTYPE_F32);
    const slm_tensor *want_p = ref_tensor(&r, "batch", "probs", SLM_DTYPE_F32);
    int B = (int)ids->shape[0], T = (int)ids->shape[1];
    /* right padding: pack each row's first mask-sum ids back to back */
    int32_t *packed = malloc(sizeof(int32_t) * B * T);
    int *lengths = calloc((size_t)B, sizeof *lengths);
    const int32_t *id = ids->data, *mk = mask->data;
    size_t total = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            if (mk[b * T + t]) {
                lengths[b]++;
                packed[total++] = id[b * T + t];
            }
    float *logits = malloc(sizeof(float) * B * 2), probs[2];
    slm_error err = {0};
    if (slm_classify_ids(m, packed, lengths, B, logits, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    assert_close("distilbert batch logits", logits, want->data, (size_t)B * 2, 1e-4);
    for (int b = 0; b < B; b++) {
        double z = exp(logits[2 * b]) + exp(logits[2 * b + 1]);
        probs[0] = (float)(exp(logits[2 * b]) / z);
        probs[1] = (float)(exp(logits[2 * b + 1]) / z);
        for (int k = 0; k < 2; k++)
            assert_float_equal(probs[k], ((const float *)want_p->data)[2 * b + k], 1e-5);
    }
    free(packed);
    free(lengths);
    free(logits);
    slm_model_free(m);
    free_reference(&r);
}

static void test_distilbert_singles(void **state)
{
    reference r = load_reference("distilbert_sst2");
    slm_model *m = load_model_dir(test_source_path("tests/fixtures/models/distilbert_sst2"));
    int n = 0;
    for (;; n++) {
        char case_name[32];
        snprintf(case_name, sizeof case_name, "single%d", n);
        char key[64];
        snprintf(key, sizeof key, "%s.logits", case_name);
        if (!slm_safetensors_find(r.st, key))
            break;
        const slm_tensor *ids = ref_tensor(&r, case_name, "input_ids", SLM_DTYPE_I32);
        const slm_tensor *want = ref_tensor(&r, case_name, "logits", SLM_DTYPE_F32);
        int len = (int)ids->n_elements;
        float logits[2];
        slm_error err = {0};
        if (slm_classify_ids(m, ids->data, &len, 1, logits, &err) != SLM_OK)
            fail_msg("%s: %s", case_name, err.msg);
        assert_close(case_name, logits, want->data, 2, 1e-4);
    }
    assert_true(n >= 6);
    slm_model_free(m);
    free_reference(&r);
}

/* The text path: tokenize every fixture text (one is 602 tokens and must be
   truncated to 512 as transformers' truncation=True does), classify them as
   one batch, and compare with the reference probabilities. */
static void test_distilbert_texts(void **state)
{
    reference r = load_reference("distilbert_sst2");
    slm_model *m = load_model_dir(test_source_path("tests/fixtures/models/distilbert_sst2"));
    const cJSON *texts = cJSON_GetObjectItem(r.json, "texts");
    size_t n = (size_t)cJSON_GetArraySize(texts), truncated = 0;
    const char **t = calloc(n, sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = cJSON_GetArrayItem(texts, (int)i)->valuestring;
    float *probs = malloc(sizeof(float) * n * 2), *logits = malloc(sizeof(float) * n * 2);
    slm_error err = {0};
    if (slm_classify(m, t, n, probs, logits, &truncated, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(truncated, 1);
    const slm_tensor *want_p = ref_tensor(&r, "batch", "probs", SLM_DTYPE_F32);
    const slm_tensor *want_l = ref_tensor(&r, "batch", "logits", SLM_DTYPE_F32);
    assert_int_equal(want_p->n_elements, n * 2);
    assert_close("distilbert text-batch logits", logits, want_l->data, n * 2, 1e-4);
    for (size_t i = 0; i < n * 2; i++)
        assert_float_equal(probs[i], ((const float *)want_p->data)[i], 1e-5);
    /* each text's ids equal transformers' single-text encoding */
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "single%zu", i);
        const slm_tensor *ids = ref_tensor(&r, name, "input_ids", SLM_DTYPE_I32);
        slm_tokens toks = {0};
        bool cut = false;
        assert_int_equal(slm_tokenize_truncated(slm_model_tokenizer(m), t[i], strlen(t[i]), true,
                                                512, &toks, &cut, &err),
                         SLM_OK);
        assert_int_equal(toks.n, ids->n_elements);
        assert_memory_equal(toks.ids, ids->data, toks.n * sizeof(int32_t));
        slm_tokens_free(&toks);
    }
    free(t);
    free(probs);
    free(logits);
    slm_model_free(m);
    free_reference(&r);
}

/* Every chat fixture conversation: the template renders transformers' text,
   and tokenizing it like apply_chat_template(tokenize=True) gives its ids. */
static void check_chat_fixture(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "tests/fixtures/chat/%s.json", name);
    cJSON *fx;
    slm_error err = {0};
    assert_int_equal(slm_json_load(test_source_path(rel), &fx, &err), SLM_OK);
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s", name);
    slm_tokenizer *tok;
    slm_chat_template *tmpl;
    assert_int_equal(slm_tokenizer_load(test_source_path(rel), &tok, &err), SLM_OK);
    assert_int_equal(slm_chat_template_load(test_source_path(rel), &tmpl, &err), SLM_OK);
    const cJSON *conv;
    int count = 0;
    cJSON_ArrayForEach(conv, cJSON_GetObjectItem(fx, "conversations"))
    {
        const cJSON *msgs = cJSON_GetObjectItem(conv, "messages"), *m;
        slm_chat_message list[16];
        size_t n = 0;
        cJSON_ArrayForEach(m, msgs)
        {
            const cJSON *content = cJSON_GetObjectItem(m, "content");
            list[n++] = (slm_chat_message){cJSON_GetObjectItem(m, "role")->valuestring,
                                           cJSON_IsString(content) ? content->valuestring : NULL};
        }
        const cJSON *want = cJSON_GetObjectItem(conv, "with_generation_prompt");
        char *text;
        assert_int_equal(slm_chat_template_apply(tmpl, list, n, true, &text, &err), SLM_OK);
        assert_string_equal(text, cJSON_GetObjectItem(want, "text")->valuestring);
        slm_tokens ids = {0};
        assert_int_equal(slm_tokenize(tok, text, strlen(text), false, &ids, &err), SLM_OK);
        const cJSON *want_ids = cJSON_GetObjectItem(want, "ids");
        assert_int_equal(ids.n, cJSON_GetArraySize(want_ids));
        for (size_t i = 0; i < ids.n; i++)
            if (ids.ids[i] != cJSON_GetArrayItem(want_ids, (int)i)->valueint)
                fail_msg("%s conversation %d: id %zu differs", name, count, i);
        slm_tokens_free(&ids);
        free(text);
        count++;
    }
    assert_true(count >= 5);
    slm_chat_template_free(tmpl);
    slm_tokenizer_free(tok);
    cJSON_Delete(fx);
}

static void test_chat_fixtures(void **state)
{
    check_chat_fixture("tinyllama");
    check_chat_fixture("phi3");
    check_chat_fixture("smollm2");
}

/* Phi-3 stops at every id its configs declare, and its end-of-turn token
   never reaches the printed text. */
static void test_phi3_stop_ids(void **state)
{
    slm_model *m = load_model_dir(test_source_path("tests/fixtures/models/phi3"));
    const slm_tokenizer *tok = slm_model_tokenizer(m);
    const char *stops[] = {"<|endoftext|>", "<|assistant|>", "<|end|>"};
    for (int i = 0; i < 3; i++)
        assert_true(slm_model_is_eos(m, slm_tokenizer_token_id(tok, stops[i])));
    assert_false(slm_model_is_eos(m, slm_tokenizer_token_id(tok, "<|user|>")));
    slm_stream_decoder *dec;
    slm_error err = {0};
    const char *text;
    size_t len;
    assert_int_equal(slm_stream_decoder_new(tok, true, &dec, &err), SLM_OK);
    assert_int_equal(slm_stream_decoder_push(dec, slm_tokenizer_token_id(tok, "<|end|>"), &text,
                                             &len, &err),
                     SLM_OK);
    assert_int_equal(len, 0);
    slm_stream_decoder_free(dec);
    slm_model_free(m);
}

static void test_decoder_is_not_a_classifier(void **state)
{
    slm_model *m = load_model_dir(test_source_path("tests/fixtures/models/tinyllama"));
    const char *texts[] = {"hi"};
    float probs[2];
    slm_error err = {0};
    assert_int_equal(slm_model_n_labels(m), 0);
    assert_int_equal(slm_classify(m, texts, 1, probs, NULL, NULL, &err), SLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "not a sequence classifier"));
    slm_model_free(m);
    m = load_model_dir(test_source_path("tests/fixtures/models/distilbert_sst2"));
    slm_session *s;
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_ERR_UNSUPPORTED);
    slm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tinyllama),
        cmocka_unit_test(test_smollm2),
        cmocka_unit_test(test_phi3),
        cmocka_unit_test(test_phi3_longrope),
        cmocka_unit_test(test_distilbert_batch),
        cmocka_unit_test(test_distilbert_singles),
        cmocka_unit_test(test_distilbert_texts),
        cmocka_unit_test(test_chat_fixtures),
        cmocka_unit_test(test_phi3_stop_ids),
        cmocka_unit_test(test_decoder_is_not_a_classifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
