/*
 * test_tokenizer_hostile.c — tokenizer files and inputs written to hurt (issue 9): ids far beyond
 * the number of entries, tens of thousands of added tokens, numbers that are not integers or do
 * not fit, keys of the wrong type, NUL bytes in text. Each must load cheaply and correctly or
 * fail with an error naming the file and the key.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sys/resource.h>

#include "fileio.h"
#include "slm.h"
#include "test_util.h"
#include "tokenizer/tokenizer_internal.h"

#define GOOD_MODEL                                                                     \
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}"

/* Writes tokenizer.json (and tokenizer_config.json when given) into a fresh directory. */
static char *write_tokenizer(const char *json, const char *config)
{
    char *dir = test_make_tmpdir();
    char *p = test_write_file(dir, "tokenizer.json", json, strlen(json));
    assert_non_null(p);
    free(p);
    if (config) {
        p = test_write_file(dir, "tokenizer_config.json", config, strlen(config));
        assert_non_null(p);
        free(p);
    }
    return dir;
}

static void remove_dir(char *dir)
{
    test_rmtree(dir);
    free(dir);
}

static void expect_error(const char *json, const char *config, const char *needle1,
                         const char *needle2)
{
    char *dir = write_tokenizer(json, config);
    slm_tokenizer *tok = (slm_tokenizer *)0x1;
    slm_error err = {0};
    slm_status st = slm_tokenizer_load(dir, &tok, &err);
    if (st != SLM_ERR_FORMAT || !strstr(err.msg, needle1) || !strstr(err.msg, needle2))
        fail_msg("loading %.200s: status %d, message '%s' (want FORMAT, '%s', '%s')", json, st,
                 err.msg, needle1, needle2);
    assert_null(tok);
    remove_dir(dir);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* ------------------------------------------------------------------ sizes */

/* One id of 2^31-2 among three pieces: tables are sized by the entries (a few KB), not by the
 * id (gigabytes), and the sparse id still encodes and decodes. */
static void test_sparse_vocab_ids(void **state)
{
    (void)state;
    char *dir = write_tokenizer("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,"
                                "\"ab\":2,\"z\":2147483646},\"merges\":[\"a b\"]},"
                                "\"added_tokens\":[{\"id\":3,\"content\":\"<x>\","
                                "\"special\":true}]}",
                                NULL);
    long rss0 = peak_rss_kb();
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    assert_int_equal(slm_tokenizer_load(dir, &tok, &err), SLM_OK);
    assert_true(peak_rss_kb() - rss0 < 100 * 1024); /* well under 100 MB */
    assert_int_equal(slm_tokenizer_vocab_size(tok), 2147483647);
    assert_int_equal(slm_tokenizer_token_id(tok, "z"), 2147483646);
    assert_int_equal(slm_tokenizer_token_id(tok, "<x>"), 4); /* next id after the 4 pieces */
    slm_tokens ids = {0};
    assert_int_equal(slm_tokenize(tok, "abz<x>", 6, false, &ids, &err), SLM_OK);
    assert_int_equal(ids.n, 3);
    assert_int_equal(ids.ids[0], 2);
    assert_int_equal(ids.ids[1], 2147483646);
    assert_int_equal(ids.ids[2], 4);
    char *text = NULL;
    assert_int_equal(slm_detokenize(tok, ids.ids, ids.n, false, &text, &err), SLM_OK);
    assert_string_equal(text, "ab z <x>"); /* no decoder: pieces joined with spaces */
    free(text);
    int32_t unknown[] = {5, 2147483645, 2};
    assert_int_equal(slm_detokenize(tok, unknown, 3, true, &text, &err), SLM_OK);
    assert_string_equal(text, "ab");
    free(text);
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);
    remove_dir(dir);
}

/* Builds a tokenizer.json with n added tokens "<t0>", "<t1>", ... that all share a first byte. */
static char *many_added_tokens(size_t n)
{
    size_t cap = 200 + n * 120, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)snprintf(s + len, cap - len, "{" GOOD_MODEL ",\"added_tokens\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "%s{\"id\":%zu,\"content\":\"<t%zu>\",\"single_word\":false,"
                                "\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
                                "\"special\":%s}",
                                i ? "," : "", i + 3, i, i % 2 ? "true" : "false");
    snprintf(s + len, cap - len, "]}");
    return s;
}

/* 100k added tokens used to take over a minute to load (linear lookups per token, insertion sort
 * of one bucket) and minutes to match; both must stay well under the generous bound kept for
 * sanitizer builds. */
static void test_many_added_tokens(void **state)
{
    (void)state;
    char *json = many_added_tokens(100000);
    char *dir = write_tokenizer(json, NULL);
    free(json);
    double t0 = now_seconds();
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    assert_int_equal(slm_tokenizer_load(dir, &tok, &err), SLM_OK);
    double took = now_seconds() - t0;
    if (took > 5.0)
        fail_msg("100k added tokens took %.1f s to load", took);
    assert_int_equal(slm_tokenizer_vocab_size(tok), 100003);
    assert_int_equal(slm_tokenizer_token_id(tok, "<t99999>"), 100002);
    slm_tokens ids = {0};
    static const char text[] = "ab<t12345><t1>b<t99999>";
    assert_int_equal(slm_tokenize(tok, text, strlen(text), false, &ids, &err), SLM_OK);
    assert_int_equal(ids.n, 5);
    int32_t want[] = {2, 12348, 4, 1, 100002};
    assert_memory_equal(ids.ids, want, sizeof want);
    char *decoded = NULL;
    /* <t1> and <t99999> are special (odd indices), <t12345> too. */
    assert_int_equal(slm_detokenize(tok, ids.ids, ids.n, true, &decoded, &err), SLM_OK);
    assert_string_equal(decoded, "ab b");
    free(decoded);

    /* Matching them used to compare every token at every '<': 20k of them took two minutes. */
    size_t n_lt = 20000;
    char *many_lt = malloc(n_lt + 8);
    assert_non_null(many_lt);
    memset(many_lt, '<', n_lt);
    memcpy(many_lt + n_lt, "<t77>", 6);
    ids.n = 0;
    t0 = now_seconds();
    assert_int_equal(slm_tokenize(tok, many_lt, n_lt + 5, false, &ids, &err), SLM_OK);
    took = now_seconds() - t0;
    if (took > 5.0)
        fail_msg("encoding 20k '<' with 100k added tokens took %.1f s", took);
    assert_true(ids.n > 0);
    assert_int_equal(ids.ids[ids.n - 1], 80);
    free(many_lt);
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);
    remove_dir(dir);
}

/* A chain of steps costs a pass over every text per step: 300 decoders are refused by name,
 * not run. */
static void test_step_limit(void **state)
{
    (void)state;
    size_t cap = 64 + 300 * 20;
    char *json = malloc(cap + sizeof GOOD_MODEL + 64);
    assert_non_null(json);
    size_t len = (size_t)sprintf(json, "{" GOOD_MODEL ",\"decoder\":{\"type\":\"Sequence\","
                                       "\"decoders\":[");
    for (int i = 0; i < 300; i++)
        len += (size_t)sprintf(json + len, "%s{\"type\":\"Fuse\"}", i ? "," : "");
    sprintf(json + len, "]}}");
    char *dir = write_tokenizer(json, NULL);
    free(json);
    slm_tokenizer *tok = (slm_tokenizer *)0x1;
    slm_error err = {0};
    assert_int_equal(slm_tokenizer_load(dir, &tok, &err), SLM_ERR_UNSUPPORTED);
    assert_null(tok);
    assert_non_null(strstr(err.msg, "tokenizer.json: decoder.decoders[256]"));
    assert_non_null(strstr(err.msg, "more than 256 decoders"));
    remove_dir(dir);
}

/* ------------------------------------------------------------------ integer fields */

static void test_integer_fields(void **state)
{
    (void)state;
    /* post-processor ids: fractions, huge values (an undefined cast before) and negatives */
    expect_error("{" GOOD_MODEL ",\"post_processor\":{\"type\":\"TemplateProcessing\","
                 "\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
                 "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<s>\":"
                 "{\"id\":\"<s>\",\"ids\":[1.5],\"tokens\":[\"<s>\"]}}}}",
                 NULL, "tokenizer.json: post_processor.special_tokens['<s>'].ids[0]", "1.5");
    expect_error("{" GOOD_MODEL ",\"post_processor\":{\"type\":\"BertProcessing\","
                 "\"cls\":[\"[CLS]\",1e20],\"sep\":[\"[SEP]\",2]}}",
                 NULL, "tokenizer.json: post_processor.cls[1]", "integer");
    expect_error("{" GOOD_MODEL ",\"post_processor\":{\"type\":\"RobertaProcessing\","
                 "\"cls\":[\"<s>\",0],\"sep\":[\"</s>\",-1]}}",
                 NULL, "post_processor.sep[1]", "-1");
    expect_error("{" GOOD_MODEL ",\"post_processor\":{\"type\":\"TemplateProcessing\","
                 "\"single\":[{\"Sequence\":{\"id\":\"A\",\"type_id\":-2}}],"
                 "\"special_tokens\":{}}}",
                 NULL, "post_processor.single[0].Sequence.type_id", "integer");
    expect_error("{" GOOD_MODEL ",\"post_processor\":{\"type\":\"TemplateProcessing\","
                 "\"single\":[{\"Sequence\":{\"id\":7,\"type_id\":0}}],\"special_tokens\":{}}}",
                 NULL, "TemplateProcessing.single", "\"A\" or \"B\"");
    /* added tokens: the id and the flags */
    expect_error("{" GOOD_MODEL ",\"added_tokens\":[{\"id\":1e300,\"content\":\"<s>\"}]}", NULL,
                 "tokenizer.json: added_tokens[0].id", "integer");
    expect_error("{" GOOD_MODEL ",\"added_tokens\":[{\"id\":3,\"content\":\"<s>\"},"
                 "{\"id\":\"4\",\"content\":\"</s>\"}]}",
                 NULL, "added_tokens[1].id", "a string");
    expect_error("{" GOOD_MODEL ",\"added_tokens\":[{\"id\":3,\"content\":\"<s>\","
                 "\"lstrip\":\"yes\"}]}",
                 NULL, "added_tokens[0].lstrip", "true or false");
    expect_error("{" GOOD_MODEL ",\"added_tokens\":[{\"id\":3,\"content\":\"<s>\","
                 "\"special\":1}]}",
                 NULL, "added_tokens[0].special", "true or false");
    /* model fields */
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":2147483647},\"merges\":[]}}",
                 NULL, "model.vocab", "'a'");
    expect_error("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0},"
                 "\"max_input_chars_per_word\":2.5}}",
                 NULL, "model.max_input_chars_per_word", "2.5");
    expect_error("{\"model\":{\"type\":7,\"vocab\":{\"a\":0},\"merges\":[]}}", NULL,
                 "tokenizer.json: model.type", "string");
    expect_error("{\"model\":{\"type\":\"BPE\",\"dropout\":\"0.1\",\"vocab\":{\"a\":0},"
                 "\"merges\":[]}}",
                 NULL, "model.dropout", "[0, 1]");
    /* decoder counts */
    expect_error("{" GOOD_MODEL ",\"decoder\":{\"type\":\"Strip\",\"content\":\" \","
                 "\"start\":1.5,\"stop\":0}}",
                 NULL, "decoder.start", "1.5");
    /* tokenizer.json's truncation and padding, unused but checked */
    expect_error("{" GOOD_MODEL ",\"truncation\":{\"max_length\":-1,\"stride\":0}}", NULL,
                 "tokenizer.json: truncation.max_length", "-1");
    expect_error("{" GOOD_MODEL ",\"padding\":{\"pad_id\":1e12,\"strategy\":\"BatchLongest\"}}",
                 NULL, "padding.pad_id", "integer");
    expect_error("{" GOOD_MODEL ",\"padding\":{\"strategy\":{\"Fixed\":0.5}}}", NULL,
                 "padding.strategy.Fixed", "0.5");
    expect_error("{" GOOD_MODEL ",\"truncation\":7}", NULL, "truncation", "object");
    /* pre-tokenizer flags */
    expect_error("{\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"_\","
                 "\"add_prefix_space\":\"no\"}," GOOD_MODEL "}",
                 NULL, "pre_tokenizer.add_prefix_space", "true or false");
}

static void test_config_fields(void **state)
{
    (void)state;
    const char *json = "{" GOOD_MODEL "}";
    expect_error(json, "{\"model_max_length\": 512.5}", "tokenizer_config.json: model_max_length",
                 "512.5");
    expect_error(json, "{\"model_max_length\": -3}", "tokenizer_config.json: model_max_length",
                 "-3");
    expect_error(json, "{\"bos_token\": 5}", "tokenizer_config.json: bos_token", "string");
    expect_error(json, "{\"eos_token\": {\"content\": 2}}", "tokenizer_config.json: eos_token",
                 "content");
    expect_error(json, "{\"add_bos_token\": \"yes\"}", "tokenizer_config.json: add_bos_token",
                 "true or false");
    expect_error(json, "{\"add_eos_token\": 1}", "tokenizer_config.json: add_eos_token",
                 "true or false");

    /* What stays accepted: null keys, "no limit", a plain integer. */
    char *dir = write_tokenizer(json, "{\"bos_token\": null, \"add_bos_token\": null, "
                                      "\"model_max_length\": 512.0, \"eos_token\": \"ab\"}");
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    assert_int_equal(slm_tokenizer_load(dir, &tok, &err), SLM_OK);
    assert_int_equal(slm_tokenizer_model_max_length(tok), 512);
    assert_int_equal(slm_tokenizer_bos_id(tok), -1);
    assert_int_equal(slm_tokenizer_eos_id(tok), 2);
    slm_tokenizer_free(tok);
    remove_dir(dir);
    dir = write_tokenizer(json, "{\"model_max_length\": 1000000000000000019884624838656}");
    assert_int_equal(slm_tokenizer_load(dir, &tok, &err), SLM_OK);
    assert_int_equal(slm_tokenizer_model_max_length(tok), 0);
    slm_tokenizer_free(tok);
    remove_dir(dir);
}

/* ------------------------------------------------------------------ NUL bytes */

/* Text is taken with its length, so a NUL is encoded like any byte; decoding it back as a C
 * string would silently end the text there, so slm_detokenize refuses and slm_detokenize_len
 * returns it whole. */
static void test_nul_bytes(void **state)
{
    (void)state;
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    assert_int_equal(slm_tokenizer_load(test_source_path("tests/fixtures/models/smollm2"), &tok,
                                        &err),
                     SLM_OK);
    static const char text[] = "a\0b c";
    slm_tokens ids = {0};
    assert_int_equal(slm_tokenize(tok, text, 5, false, &ids, &err), SLM_OK);
    assert_true(ids.n >= 3);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(slm_detokenize_len(tok, ids.ids, ids.n, false, &out, &len, &err), SLM_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(out, text, 5);
    free(out);
    out = (char *)0x1;
    assert_int_equal(slm_detokenize(tok, ids.ids, ids.n, false, &out, &err),
                     SLM_ERR_INVALID_ARG);
    assert_null(out);
    assert_non_null(strstr(err.msg, "NUL byte at offset 1"));
    /* Without a NUL nothing changes. */
    assert_int_equal(slm_detokenize(tok, ids.ids + 2, ids.n - 2, false, &out, &err), SLM_OK);
    assert_string_equal(out, "b c");
    free(out);
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);
}

/* ------------------------------------------------------------------ strings */

/* cJSON passes raw bytes through; Hugging Face refuses a file that is not UTF-8. An added token
 * with stray bytes used to reach the normalizer, which reads past its buffer (fuzz finding). */
static void test_invalid_utf8_strings(void **state)
{
    (void)state;
    expect_error("{\"normalizer\":{\"type\":\"BertNormalizer\",\"lowercase\":true},"
                 GOOD_MODEL ",\"added_tokens\":[{\"id\":3,\"content\":\"</s>\xF0\xF0\"}]}",
                 NULL, "tokenizer.json: added_tokens[0].content", "not valid UTF-8");
    expect_error("{\"normalizer\":{\"type\":\"Prepend\",\"prepend\":\"\xE2\x96\"},"
                 GOOD_MODEL "}",
                 NULL, "normalizer.prepend", "not valid UTF-8");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"\xC3\":1},"
                 "\"merges\":[]}}",
                 NULL, "model.vocab: a key", "not valid UTF-8");
}

/* ------------------------------------------------------------------ in memory */

/* slm_tokenizer_load_json (the fuzzers' entry point) loads what slm_tokenizer_load loads and
 * names "<memory>" in its messages. */
static void test_load_from_memory(void **state)
{
    (void)state;
    const char *json = "{" GOOD_MODEL "}";
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    const char *cfg = "{\"model_max_length\": 7}";
    assert_int_equal(slm_tokenizer_load_json(json, strlen(json), cfg, strlen(cfg), NULL, &tok,
                                             &err),
                     SLM_OK);
    assert_int_equal(slm_tokenizer_model_max_length(tok), 7);
    assert_int_equal(slm_tokenizer_token_id(tok, "ab"), 2);
    slm_tokenizer_free(tok);
    const char *bad = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0.5},\"merges\":[]}}";
    assert_int_equal(slm_tokenizer_load_json(bad, strlen(bad), NULL, 0, NULL, &tok, &err),
                     SLM_ERR_FORMAT);
    assert_null(tok);
    assert_non_null(strstr(err.msg, "<memory>/tokenizer.json: model.vocab"));
    assert_int_equal(slm_tokenizer_load_json(json, strlen(json), "[1]", 3, NULL, &tok, &err),
                     SLM_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "<memory>/tokenizer_config.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse_vocab_ids),
        cmocka_unit_test(test_many_added_tokens),
        cmocka_unit_test(test_step_limit),
        cmocka_unit_test(test_integer_fields),
        cmocka_unit_test(test_config_fields),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_invalid_utf8_strings),
        cmocka_unit_test(test_load_from_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
