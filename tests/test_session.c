/*
 * test_session.c — the boundaries of a session: token ids are checked
 * against the model's vocab_size once at every entry point (eval, nll,
 * generate, and through them `slm logits --ids` / `slm perplexity`), the
 * error paths of slm_session_new free what they allocated (run under ASan's
 * leak detection), and a KV cache that cannot be allocated says how to fix it.
 *
 * The id checks use a copy of stories260K whose model has vocab_size 256
 * while its tokenizer still has 512 ids: real text then tokenizes to ids the
 * model has no row for, the case that read past the logits in perplexity.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fileio.h"
#include "kv_cache.h"
#include "model.h"
#include "safetensors.h"
#include "safetensors_write.h"
#include "session.h"
#include "slm.h"
#include "test_util.h"

#define STORIES "weights/stories260K"
#define SMALL_VOCAB 256

/* The KV test asks for a petabyte: under ASan the allocator must answer NULL
   (as libc does) instead of aborting the process. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }


static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
    char *from = slm_path_join(from_dir, name), *data;
    size_t len;
    slm_error err = {0};
    assert_int_equal(slm_read_file(from, &data, &len, &err), SLM_OK);
    free(test_write_file(to_dir, name, data, len));
    free(data);
    free(from);
}

/* stories260K with its (tied) embedding cut to SMALL_VOCAB rows and
   config.json saying so; the tokenizer files are the original ones. */
static char *make_small_vocab_model(void)
{
    char *dir = test_make_tmpdir();
    const char *src = test_source_path(STORIES);
    const char *names[] = {"generation_config.json", "tokenizer.json", "tokenizer_config.json",
                           "special_tokens_map.json"};
    for (size_t i = 0; i < 4; i++)
        copy_file(src, dir, names[i]);
    char *cfg_path = slm_path_join(src, "config.json"), *cfg_text;
    size_t len;
    slm_error err = {0};
    assert_int_equal(slm_read_file(cfg_path, &cfg_text, &len, &err), SLM_OK);
    cJSON *cfg = cJSON_Parse(cfg_text);
    assert_non_null(cfg);
    cJSON_ReplaceItemInObject(cfg, "vocab_size", cJSON_CreateNumber(SMALL_VOCAB));
    char *out = cJSON_Print(cfg);
    free(test_write_file(dir, "config.json", out, strlen(out)));
    free(out);
    cJSON_Delete(cfg);
    free(cfg_text);
    free(cfg_path);

    slm_safetensors *st;
    assert_int_equal(slm_safetensors_open_dir(src, false, &st, &err), SLM_OK);
    size_t n = slm_safetensors_count(st);
    slm_st_entry *e = calloc(n, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        const slm_tensor *t = slm_safetensors_at(st, i);
        e[i] = (slm_st_entry){.name = t->name, .dtype = t->dtype, .n_dims = t->n_dims,
                              .data = t->data, .n_bytes = t->n_bytes};
        memcpy(e[i].shape, t->shape, sizeof e[i].shape);
        if (strcmp(t->name, "model.embed_tokens.weight") == 0) {
            e[i].shape[0] = SMALL_VOCAB;
            e[i].n_bytes = t->n_bytes / (size_t)t->shape[0] * SMALL_VOCAB;
        }
    }
    char *model = slm_path_join(dir, "model.safetensors");
    if (slm_safetensors_write(model, e, n, NULL, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    free(model);
    free(e);
    slm_safetensors_free(st);
    return dir;
}

/* The message names the id and the vocab_size. */
static void assert_id_error(slm_status s, const slm_error *err, int32_t id)
{
    char want[32];
    snprintf(want, sizeof want, "%d", (int)id);
    if (s != SLM_ERR_INVALID_ARG || !strstr(err->msg, want) ||
        !strstr(err->msg, "vocab_size 256"))
        fail_msg("status %d, message '%s' (want id %d and vocab_size 256)", s, err->msg, (int)id);
}

/* ============================================================ id ranges */

static void test_ids_checked_against_model_vocab(void **state)
{
    char *dir = make_small_vocab_model();
    slm_model *m = test_load_model(dir);
    assert_int_equal(slm_model_vocab_size(m), SMALL_VOCAB);
    slm_session *s;
    slm_error err = {0};
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);

    /* perplexity: the last id is only ever a target (an index into the
       logits); it used to be read from the next logits row or past the buffer */
    const int32_t last_bad[] = {1, 5, 300};
    double nll;
    size_t scored;
    assert_id_error(slm_session_nll(s, last_bad, 3, &nll, &scored, &err), &err, 300);
    const int32_t mid_bad[] = {1, 256, 7};
    assert_id_error(slm_session_nll(s, mid_bad, 3, &nll, &scored, &err), &err, 256);
    const int32_t negative[] = {1, 7, -3};
    assert_id_error(slm_session_nll(s, negative, 3, &nll, &scored, &err), &err, -3);
    const int32_t ok[] = {1, 5, 255};
    assert_int_equal(slm_session_nll(s, ok, 3, &nll, &scored, &err), SLM_OK);
    assert_int_equal(scored, 2);

    /* eval and generate: nothing is evaluated or decoded */
    const float *logits;
    slm_session_reset(s);
    assert_id_error(slm_session_eval(s, last_bad, 3, &logits, &err), &err, 300);
    assert_int_equal(slm_session_n_past(s), 0);
    slm_generate_params gp = {.max_new_tokens = 2, .sampling = slm_sampler_params_default(),
                              .continue_text = true};
    assert_id_error(slm_generate(s, last_bad, 3, &gp, NULL, &err), &err, 300);
    assert_int_equal(slm_session_n_past(s), 0);
    slm_session_free(s);
    slm_model_free(m);
    test_rmtree(dir);
    free(dir);
}

/* The CLI verbs on ids: perplexity of text whose ids the model lacks, and
   logits --ids, both one error line naming the id and vocab_size. */
static void test_cli_ids_beyond_model_vocab(void **state)
{
    char *dir = make_small_vocab_model(), args[4096], *err_text;
    const char *text = "Once upon a time, there was a little girl named Lily.\n";
    char *file = test_write_file(dir, "eval.txt", text, strlen(text));
    snprintf(args, sizeof args, "perplexity -m %s -f %s", dir, file);
    assert_int_equal(test_run_cli(args, NULL, &err_text), 1);
    if (!strstr(err_text, "vocab_size 256") || !strstr(err_text, "outside"))
        fail_msg("perplexity stderr: %s", err_text);
    free(err_text);
    snprintf(args, sizeof args, "logits -m %s --ids '1 300'", dir);
    assert_int_equal(test_run_cli(args, NULL, &err_text), 1);
    if (!strstr(err_text, "300") || !strstr(err_text, "vocab_size 256"))
        fail_msg("logits stderr: %s", err_text);
    free(err_text);
    free(file);
    test_rmtree(dir);
    free(dir);
}

/* ============================================================ error paths */

/* head_dim above the attention kernels' limit: refused, and (checked by
   LeakSanitizer at exit) the half-built session is not leaked. */
static void test_session_new_head_dim_error_frees(void **state)
{
    slm_model *m = test_load_model(test_source_path(STORIES));
    int saved = m->cfg.head_dim;
    m->cfg.head_dim = 600;
    slm_session *s = (slm_session *)&s; /* must be reset to NULL */
    slm_error err = {0};
    slm_status st = slm_session_new(m, 0, &s, &err);
    m->cfg.head_dim = saved;
    assert_int_equal(st, SLM_ERR_UNSUPPORTED);
    assert_null(s);
    if (!strstr(err.msg, "head_dim 600"))
        fail_msg("%s", err.msg);
    slm_model_free(m);
}

/* A cache too large to allocate: NOMEM naming the positions and suggesting
   a smaller context. */
static void test_kv_cache_failure_suggests_smaller_context(void **state)
{
    slm_kv_cache kv;
    slm_error err = {0};
    slm_status s = slm_kv_cache_init(&kv, SLM_KV_F32, 1 << 12, INT_MAX, 8, 64, &err);
    assert_int_equal(s, SLM_ERR_NOMEM);
    if (!strstr(err.msg, "2147483647 positions") || !strstr(err.msg, "smaller context") ||
        !strstr(err.msg, "-c"))
        fail_msg("%s", err.msg);
    assert_null(kv.k);
    slm_kv_cache_free(&kv);
}

/* A mistyped SLM_ISA is refused by the library too (not only by the CLI),
   naming the valid values, instead of silently running another table. */
static void test_bad_slm_isa_refused_by_library(void **state)
{
    setenv("SLM_ISA", "avx3", 1);
    slm_model *m = (slm_model *)&m;
    slm_error err = {0};
    slm_load_options o = slm_load_options_default();
    slm_status st = slm_model_load(test_source_path(STORIES), &o, &m, &err);
    unsetenv("SLM_ISA");
    assert_int_equal(st, SLM_ERR_INVALID_ARG);
    assert_null(m);
    if (!strstr(err.msg, "SLM_ISA='avx3'") || !strstr(err.msg, "scalar, avx2, avx512, neon"))
        fail_msg("%s", err.msg);
    setenv("SLM_ISA", "scalar", 1);
    st = slm_model_load(test_source_path(STORIES), &o, &m, &err);
    unsetenv("SLM_ISA");
    assert_int_equal(st, SLM_OK);
    slm_model_free(m);
}

/* The classifier's id entry point goes through the same boundary check. */
static void test_classify_ids_checked(void **state)
{
    slm_model *m = test_load_model(test_source_path("tests/fixtures/models/distilbert_sst2"));
    int vocab = slm_model_vocab_size(m);
    int32_t ids[3] = {101, vocab, 102};
    int len = 3;
    float logits[8];
    slm_error err = {0};
    assert_int_equal(slm_classify_ids(m, ids, &len, 1, logits, &err), SLM_ERR_INVALID_ARG);
    char want[64];
    snprintf(want, sizeof want, "token id %d (at index 1)", vocab);
    if (!strstr(err.msg, want) || !strstr(err.msg, "vocab_size"))
        fail_msg("%s", err.msg);
    ids[1] = vocab - 1;
    assert_int_equal(slm_classify_ids(m, ids, &len, 1, logits, &err), SLM_OK);
    slm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_checked_against_model_vocab),
        cmocka_unit_test(test_cli_ids_beyond_model_vocab),
        cmocka_unit_test(test_session_new_head_dim_error_frees),
        cmocka_unit_test(test_kv_cache_failure_suggests_smaller_context),
        cmocka_unit_test(test_bad_slm_isa_refused_by_library),
        cmocka_unit_test(test_classify_ids_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
