/*
 * test_config.c — config.json / generation_config.json on hostile values:
 * every value is type- and range-checked with an error naming the file and
 * the key, and the shapes derived from them are cross-checked before any
 * architecture sizes a buffer by them. Variants are made from the fixture
 * configs (one key replaced) and parsed from memory (slm_config_parse), or
 * loaded as whole models from a temp folder whose other files are symlinks
 * to the fixture's.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fileio.h"
#include "test_util.h"

#define FIXTURES "tests/fixtures/models/"

/* ============================================================ helpers */

static char *read_text(const char *rel, size_t *len)
{
    char *text;
    slm_error err = {0};
    if (slm_read_file(test_source_path(rel), &text, len, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    return text;
}

/* The fixture's config.json with `key` set to the JSON literal `value`
   (added when absent; value NULL removes the key). */
static char *variant(const char *model, const char *key, const char *value)
{
    char rel[256];
    size_t len;
    snprintf(rel, sizeof rel, FIXTURES "%s/config.json", model);
    char *text = read_text(rel, &len);
    cJSON *cfg = cJSON_Parse(text);
    free(text);
    assert_non_null(cfg);
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, key);
    if (value) {
        cJSON *v = cJSON_Parse(value);
        assert_non_null(v);
        cJSON_AddItemToObject(cfg, key, v);
    }
    char *out = cJSON_PrintUnformatted(cfg);
    cJSON_Delete(cfg);
    return out;
}

/* Parses config (and gen, may be NULL) from memory as folder "dir". */
static slm_status parse(const char *config, const char *gen, slm_config *cfg, slm_error *err)
{
    return slm_config_parse(config, strlen(config), gen, gen ? strlen(gen) : 0, "dir", cfg, err);
}

/* Expects the status and each NULL-terminated fragment in the message. */
static void expect_msg(slm_status got, const slm_error *err, slm_status want, ...)
{
    if (got != want)
        fail_msg("status %d (%s), want %d", got, err->msg, want);
    va_list ap;
    va_start(ap, want);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        if (!strstr(err->msg, frag))
            fail_msg("message '%s' lacks '%s'", err->msg, frag);
    va_end(ap);
}

typedef struct {
    const char *model, *key, *value;
    const char *fragment; /* besides the file name, which every message has */
} bad_case;

static void expect_bad(const bad_case *c)
{
    char *text = variant(c->model, c->key, c->value);
    slm_config cfg;
    slm_error err = {0};
    print_message("%s: %s = %s\n", c->model, c->key, c->value ? c->value : "(removed)");
    expect_msg(parse(text, NULL, &cfg, &err), &err, SLM_ERR_FORMAT, "dir/config.json",
               c->fragment, NULL);
    free(text);
}

/* A temp folder holding the fixture's files as symlinks, config.json
   replaced by `config` (NULL: linked too). */
static char *model_dir(const char *model, const char *config)
{
    static const char *files[] = {"config.json", "generation_config.json", "model.safetensors",
                                  "tokenizer.json", "tokenizer_config.json",
                                  "special_tokens_map.json"};
    char *dir = test_make_tmpdir();
    assert_non_null(dir);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256], link[4096];
        snprintf(rel, sizeof rel, FIXTURES "%s/%s", model, files[i]);
        snprintf(link, sizeof link, "%s/%s", dir, files[i]);
        if (access(test_source_path(rel), F_OK) == 0 && (i > 0 || !config))
            assert_int_equal(symlink(test_source_path(rel), link), 0);
    }
    if (config)
        free(test_write_file(dir, "config.json", config, strlen(config)));
    return dir;
}

/* ============================================================ good configs */

static void test_fixture_configs_parse(void **state)
{
    static const char *models[] = {"distilbert_sst2", "phi3", "phi3_longrope", "smollm2",
                                   "tinyllama"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        slm_config cfg;
        slm_error err = {0};
        char dir[512];
        snprintf(dir, sizeof dir, "%s", test_source_path(FIXTURES));
        strncat(dir, models[i], sizeof dir - strlen(dir) - 1);
        if (slm_config_load(dir, &cfg, &err) != SLM_OK)
            fail_msg("%s: %s", models[i], err.msg);
    }
    slm_config cfg;
    slm_error err = {0};
    assert_int_equal(slm_config_load(test_source_path(FIXTURES "phi3"), &cfg, &err), SLM_OK);
    assert_int_equal(cfg.n_eos, 3); /* generation_config.json's list */
    assert_int_equal(cfg.eos_ids[2], 32007);
    assert_int_equal(cfg.sliding_window, 2047);
    assert_int_equal(cfg.head_dim, 16);
    assert_int_equal(slm_config_load(test_source_path(FIXTURES "distilbert_sst2"), &cfg, &err),
                     SLM_OK);
    assert_int_equal(cfg.head_dim, 16); /* dim 64 / n_heads 4 */
    assert_int_equal(cfg.n_labels, 2);
}

/* null is what transformers writes for an unset optional key. */
static void test_null_means_default(void **state)
{
    char *text = variant("phi3", "sliding_window", "null");
    slm_config cfg;
    slm_error err = {0};
    assert_int_equal(parse(text, NULL, &cfg, &err), SLM_OK);
    assert_int_equal(cfg.sliding_window, 0);
    free(text);
    text = variant("tinyllama", "max_position_embeddings", "512.0");
    assert_int_equal(parse(text, NULL, &cfg, &err), SLM_OK);
    assert_int_equal(cfg.max_positions, 512);
    free(text);
}

/* ============================================================ bad values */

static void test_wrong_types_are_errors(void **state)
{
    static const bad_case cases[] = {
        {"tinyllama", "max_position_embeddings", "\"512\"",
         "\"max_position_embeddings\" must be an integer"},
        {"tinyllama", "num_key_value_heads", "4.7", "\"num_key_value_heads\" must be an integer"},
        {"tinyllama", "num_attention_heads", "4.7", "\"num_attention_heads\" must be an integer"},
        {"smollm2", "head_dim", "\"16\"", "\"head_dim\" must be an integer"},
        {"tinyllama", "hidden_act", "5", "\"hidden_act\" must be a string"},
        {"distilbert_sst2", "activation", "true", "\"activation\" must be a string"},
        {"tinyllama", "tie_word_embeddings", "\"yes\"", "\"tie_word_embeddings\" must be true"},
        {"tinyllama", "rms_norm_eps", "\"1e-5\"", "\"rms_norm_eps\" must be a number"},
        {"tinyllama", "rope_theta", "\"10000\"", "\"rope_theta\" must be a number"},
        {"phi3", "sliding_window", "\"2047\"", "\"sliding_window\" must be an integer"},
        {"phi3", "original_max_position_embeddings", "[4096]",
         "\"original_max_position_embeddings\" must be an integer"},
        {"tinyllama", "bos_token_id", "true", "\"bos_token_id\" must be an integer"},
        {"tinyllama", "eos_token_id", "1.5", "\"eos_token_id\" must be an integer"},
        {"tinyllama", "eos_token_id", "[1, \"2\"]", "\"eos_token_id\" must be an integer"},
        {"tinyllama", "eos_token_id", "{}", "\"eos_token_id\" must be an integer or a list"},
        {"tinyllama", "model_type", "3", "\"model_type\" must be a string"},
        {"tinyllama", "architectures", "\"LlamaForCausalLM\"", "\"architectures\" must be"},
        {"tinyllama", "rope_scaling", "{\"type\": 4}", "\"rope_scaling.type\" must be a string"},
        {"tinyllama", "rope_scaling", "{\"type\": \"linear\", \"factor\": \"2\"}",
         "\"rope_scaling.factor\" must be a number"},
        {"tinyllama", "rope_scaling", "[1]", "\"rope_scaling\" must be an object or null"},
        {"tinyllama", "partial_rotary_factor", "\"half\"",
         "\"partial_rotary_factor\" must be a number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad(&cases[i]);
}

/* Doubles outside a value's range are refused before any cast to int. */
static void test_out_of_range_values(void **state)
{
    static const bad_case cases[] = {
        {"tinyllama", "hidden_size", "0", "\"hidden_size\" is 0, outside [1, "},
        {"tinyllama", "num_attention_heads", "1e6", "\"num_attention_heads\" is 1000000"},
        {"tinyllama", "vocab_size", "4294967296", "\"vocab_size\" is 4294967296"},
        {"tinyllama", "max_position_embeddings", "1e300", "\"max_position_embeddings\" is 1e+300"},
        {"tinyllama", "max_position_embeddings", "-1", "\"max_position_embeddings\" is -1"},
        {"phi3", "sliding_window", "-5", "\"sliding_window\" is -5"},
        {"phi3", "sliding_window", "1e19", "\"sliding_window\" is 1e+19"},
        {"tinyllama", "eos_token_id", "2147483648", "\"eos_token_id\" is 2147483648"},
        {"tinyllama", "eos_token_id", "[2, -1]", "\"eos_token_id\" is -1"},
        {"tinyllama", "bos_token_id", "-1e300", "\"bos_token_id\" is -1e+300"},
        /* Phi-3 heads x head_dim once overflowed int: each is bounded now */
        {"phi3", "head_dim", "65536", "\"head_dim\" is 65536"},
        {"phi3", "num_attention_heads", "65536", "\"num_attention_heads\" is 65536"},
        {"phi3", "intermediate_size", "2147483647", "\"intermediate_size\" is 2147483647"},
        {"tinyllama", "rms_norm_eps", "2", "\"rms_norm_eps\" is 2"},
        {"tinyllama", "rope_theta", "0", "\"rope_theta\" is 0"},
        {"tinyllama", "partial_rotary_factor", "1.5", "\"partial_rotary_factor\" is 1.5"},
        {"phi3", "original_max_position_embeddings", "0",
         "\"original_max_position_embeddings\" is 0"},
        {"tinyllama", "rope_scaling", "{\"type\": \"linear\", \"factor\": 1e300}",
         "\"rope_scaling.factor\" is 1e+300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad(&cases[i]);
}

/* ============================================================ cross-checks */

static void test_derived_shapes_cross_checked(void **state)
{
    static const bad_case cases[] = {
        /* transformers: "dim must be divisible by n_heads" */
        {"distilbert_sst2", "n_heads", "5", "dim 64 is not a multiple of n_heads 5"},
        {"tinyllama", "num_key_value_heads", "3", "is not a multiple of num_key_value_heads 3"},
        {"tinyllama", "num_key_value_heads", "8", "is not a multiple of num_key_value_heads 8"},
        {"smollm2", "head_dim", "15", "head_dim 15"},
        /* 64 / 64 = 1: no even rotary dimension */
        {"tinyllama", "num_attention_heads", "64", "head_dim 1"},
        {"tinyllama", "bos_token_id", "32000", "bos_token_id 32000 is not below vocab_size 32000"},
        {"tinyllama", "eos_token_id", "[2, 99999]", "eos_token_id 99999 is not below vocab_size"},
        {"smollm2", "partial_rotary_factor", "0.01", "partial_rotary_factor"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad(&cases[i]);
    /* longrope with original_max_position_embeddings 1 divides by log(1) */
    char *text = variant("phi3_longrope", "original_max_position_embeddings", "1");
    slm_config cfg;
    slm_error err = {0};
    expect_msg(parse(text, NULL, &cfg, &err), &err, SLM_ERR_FORMAT, "dir/config.json",
               "longrope attention factor is not finite", NULL);
    free(text);
    /* a DistilBERT config's head_dim key cannot change its head size */
    text = variant("distilbert_sst2", "head_dim", "64");
    assert_int_equal(parse(text, NULL, &cfg, &err), SLM_OK);
    assert_int_equal(cfg.head_dim, 16);
    free(text);
}

static void test_generation_config_checked(void **state)
{
    char *text = variant("tinyllama", "eos_token_id", "2");
    slm_config cfg;
    slm_error err = {0};
    expect_msg(parse(text, "{\"eos_token_id\": [2, 32000]}", &cfg, &err), &err, SLM_ERR_FORMAT,
               "dir/generation_config.json", "eos_token_id 32000 is not below vocab_size", NULL);
    expect_msg(parse(text, "{\"eos_token_id\": 4e9}", &cfg, &err), &err, SLM_ERR_FORMAT,
               "dir/generation_config.json", "\"eos_token_id\" is 4000000000", NULL);
    expect_msg(parse(text, "[2]", &cfg, &err), &err, SLM_ERR_FORMAT,
               "dir/generation_config.json: not a JSON object", NULL);
    assert_int_equal(parse(text, "{\"eos_token_id\": [2, 3]}", &cfg, &err), SLM_OK);
    assert_int_equal(cfg.n_eos, 2);
    assert_int_equal(cfg.eos_ids[1], 3);
    free(text);
}

/* generation_config.json's sampling settings: the fields it gives are kept
   with their bits, do_sample false is greedy whatever temperature says, a
   wrong type or range names the file and the field. */
static void test_generation_config_sampling(void **state)
{
    char *text = variant("tinyllama", "eos_token_id", "2");
    slm_config cfg;
    slm_error err = {0};
    assert_int_equal(parse(text, "{\"eos_token_id\": 2}", &cfg, &err), SLM_OK);
    assert_int_equal(cfg.sampling_set, 0);
    assert_int_equal(parse(text,
                           "{\"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9, "
                           "\"top_k\": 20, \"repetition_penalty\": 1.1}",
                           &cfg, &err),
                     SLM_OK);
    assert_int_equal(cfg.sampling_set, SLM_SAMPLING_TEMPERATURE | SLM_SAMPLING_TOP_P |
                                           SLM_SAMPLING_TOP_K | SLM_SAMPLING_REPEAT_PENALTY);
    assert_float_equal(cfg.sampling.temperature, 0.6f, 1e-7);
    assert_float_equal(cfg.sampling.top_p, 0.9f, 1e-7);
    assert_int_equal(cfg.sampling.top_k, 20);
    assert_float_equal(cfg.sampling.repeat_penalty, 1.1f, 1e-7);
    assert_int_equal(parse(text, "{\"do_sample\": false, \"temperature\": 0.6}", &cfg, &err),
                     SLM_OK);
    assert_int_equal(cfg.sampling_set, SLM_SAMPLING_TEMPERATURE);
    assert_true(cfg.sampling.temperature == 0.0f);
    expect_msg(parse(text, "{\"temperature\": \"hot\"}", &cfg, &err), &err, SLM_ERR_FORMAT,
               "dir/generation_config.json", "\"temperature\" must be a number", NULL);
    expect_msg(parse(text, "{\"top_k\": 2.5}", &cfg, &err), &err, SLM_ERR_FORMAT,
               "dir/generation_config.json", "\"top_k\" must be an integer", NULL);
    expect_msg(parse(text, "{\"top_p\": 3}", &cfg, &err), &err, SLM_ERR_FORMAT,
               "dir/generation_config.json", "\"top_p\" is 3, outside [0, 1]", NULL);
    expect_msg(parse(text, "{\"do_sample\": \"no\"}", &cfg, &err), &err, SLM_ERR_FORMAT,
               "dir/generation_config.json", "\"do_sample\" must be true or false", NULL);
    free(text);
}

/* The DistilBERT config that overflowed the encoder attention's heap
   buffer: the model load refuses it now, naming config.json and the keys. */
static void test_distilbert_bad_heads_refused_at_load(void **state)
{
    char *text = variant("distilbert_sst2", "n_heads", "5");
    char *dir = model_dir("distilbert_sst2", text);
    slm_model *m = (void *)1;
    slm_error err = {0};
    expect_msg(slm_model_load(dir, NULL, &m, &err), &err, SLM_ERR_FORMAT, "config.json",
               "dim 64 is not a multiple of n_heads 5", NULL);
    assert_null(m);
    test_rmtree(dir);
    free(dir);
    free(text);
}

/* ============================================================ what the path is */

static void test_model_path_kinds(void **state)
{
    slm_model *m;
    slm_error err = {0};
    expect_msg(slm_model_load("/dev/null", NULL, &m, &err), &err, SLM_ERR_IO,
               "/dev/null: is a character device, not a model folder", NULL);
    const char *file = test_source_path(FIXTURES "phi3/config.json");
    expect_msg(slm_model_load(file, NULL, &m, &err), &err, SLM_ERR_IO, file,
               "is a regular file, not a model folder", NULL);
    expect_msg(slm_model_load("/nonexistent-slm-dir", NULL, &m, &err), &err, SLM_ERR_IO,
               "/nonexistent-slm-dir: no such model folder", NULL);
    /* model.safetensors that is a directory */
    char *dir = model_dir("tinyllama", NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    expect_msg(slm_model_load(dir, NULL, &m, &err), &err, SLM_ERR_IO, path,
               "is a directory, not a safetensors file", NULL);
    test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_configs_parse),
        cmocka_unit_test(test_null_means_default),
        cmocka_unit_test(test_wrong_types_are_errors),
        cmocka_unit_test(test_out_of_range_values),
        cmocka_unit_test(test_derived_shapes_cross_checked),
        cmocka_unit_test(test_generation_config_checked),
        cmocka_unit_test(test_generation_config_sampling),
        cmocka_unit_test(test_distilbert_bad_heads_refused_at_load),
        cmocka_unit_test(test_model_path_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
