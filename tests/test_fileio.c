/*
 * test_fileio.c — the JSON side-file reader every loader goes through:
 * per-file size caps, trailing bytes after the value, the nesting limit,
 * and paths that are not regular files (directory, device, FIFO).
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

#include "fileio.h"
#include "test_util.h"

/* Asserts that st failed with `status` and that err's message contains `part`. */
static void assert_error(slm_status st, const slm_error *err, slm_status status, const char *part)
{
    if (st != status || !strstr(err->msg, part))
        fail_msg("got status %d, message '%s'; wanted status %d with '%s'", st, err->msg, status,
                 part);
}

/* A JSON document of exactly `size` bytes: an object padded with spaces. */
static char *padded_json(size_t size)
{
    char *text = malloc(size);
    memset(text, ' ', size);
    memcpy(text, "{\"a\": 1}", 8);
    return text;
}

static void test_caps_by_file_name(void **state)
{
    assert_int_equal(slm_json_limit("/x/config.json"), SLM_JSON_MAX_DEFAULT);
    assert_int_equal(slm_json_limit("generation_config.json"), SLM_JSON_MAX_DEFAULT);
    assert_int_equal(slm_json_limit("/x/tokenizer.json"), SLM_JSON_MAX_TOKENIZER);
    assert_int_equal(slm_json_limit("/x/tokenizer_config.json"), SLM_JSON_MAX_TOKENIZER_CONFIG);
    assert_int_equal(slm_json_limit("/x/model.safetensors.index.json"), SLM_JSON_MAX_INDEX);
    assert_int_equal(slm_json_limit("/x/other.index.json"), SLM_JSON_MAX_INDEX);
}

/* A config.json one byte over its cap is refused before it is read, naming
 * the file and the limit; one exactly at the cap loads. */
static void test_oversized_file_refused(void **state)
{
    char *dir = test_make_tmpdir();
    char *text = padded_json(SLM_JSON_MAX_DEFAULT + 1);
    char *path = test_write_file(dir, "config.json", text, SLM_JSON_MAX_DEFAULT + 1);
    cJSON *json = NULL;
    slm_error err;
    assert_error(slm_json_load(path, &json, &err), &err, SLM_ERR_FORMAT, "config.json");
    assert_non_null(strstr(err.msg, "4194304"));
    assert_null(json);
    assert_int_equal(truncate(path, (off_t)SLM_JSON_MAX_DEFAULT), 0);
    assert_int_equal(slm_json_load(path, &json, &err), SLM_OK);
    assert_int_equal(cJSON_GetObjectItem(json, "a")->valueint, 1);
    cJSON_Delete(json);
    free(text);
    free(path);
    test_rmtree(dir);
    free(dir);
}

/* The model loader goes through the same cap: a huge config.json beside a
 * real model is an error naming config.json, not gigabytes of cJSON nodes. */
static void test_model_load_oversized_config(void **state)
{
    char *dir = test_make_tmpdir();
    size_t size = SLM_JSON_MAX_DEFAULT + 4096;
    char *text = padded_json(size);
    free(test_write_file(dir, "config.json", text, size));
    char *st_path = strdup(test_source_path("weights/stories260K/model.safetensors"));
    char *link = malloc(strlen(dir) + 32);
    sprintf(link, "%s/model.safetensors", dir);
    assert_int_equal(symlink(st_path, link), 0);
    slm_model *m = NULL;
    slm_error err;
    slm_load_options o = slm_load_options_default();
    assert_error(slm_model_load(dir, &o, &m, &err), &err, SLM_ERR_FORMAT, "config.json");
    assert_non_null(strstr(err.msg, "limit"));
    assert_null(m);
    free(link);
    free(st_path);
    free(text);
    test_rmtree(dir);
    free(dir);
}

static void test_trailing_bytes_refused(void **state)
{
    static const struct {
        const char *text;
        size_t len;
    } cases[] = {
        {"{\"a\": 1} {\"b\": 2}", 16},
        {"{\"a\": 1}x", 9},
        {"{\"a\": 1}\0garbage", 16},
        {"[1]]", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *json = NULL;
        slm_error err;
        assert_error(slm_json_parse(cases[i].text, cases[i].len, "t.json", &json, &err), &err,
                     SLM_ERR_FORMAT, "t.json: unexpected bytes after the JSON value at line 1");
        assert_null(json);
    }
    /* Whitespace after the value (safetensors headers are space-padded) is fine. */
    cJSON *json = NULL;
    slm_error err;
    assert_int_equal(slm_json_parse("{\"a\": 1}  \n\t\r ", 14, "t.json", &json, &err), SLM_OK);
    cJSON_Delete(json);
}

static void test_nesting_limit_named(void **state)
{
    size_t depth = CJSON_NESTING_LIMIT + 5;
    char *text = malloc(2 * depth);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    cJSON *json = NULL;
    slm_error err;
    assert_error(slm_json_parse(text, 2 * depth, "deep.json", &json, &err), &err, SLM_ERR_FORMAT,
                 "deep.json: JSON nested too deeply");
    /* One level under the limit parses. */
    size_t ok = CJSON_NESTING_LIMIT - 1;
    memset(text, '[', ok);
    memset(text + ok, ']', ok);
    assert_int_equal(slm_json_parse(text, 2 * ok, "deep.json", &json, &err), SLM_OK);
    cJSON_Delete(json);
    /* Brackets inside strings do not count as depth: this is malformed, not deep. */
    const char *str = "[\"[[[[\"";
    assert_error(slm_json_parse(str, strlen(str), "s.json", &json, &err), &err, SLM_ERR_FORMAT,
                 "s.json: malformed JSON");
    free(text);
}

/* A directory, a device or a FIFO where a JSON file should be: a message
 * saying what it is, and no hang on the FIFO (nobody ever writes to it). */
static void test_not_regular_files(void **state)
{
    char *dir = test_make_tmpdir();
    cJSON *json = NULL;
    slm_error err;
    assert_error(slm_json_load(dir, &json, &err), &err, SLM_ERR_IO, "is a directory");
    assert_error(slm_json_load("/dev/null", &json, &err), &err, SLM_ERR_IO,
                 "/dev/null: is a character device, not a regular file");
    char *fifo = malloc(strlen(dir) + 32);
    sprintf(fifo, "%s/config.json", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_error(slm_json_load(fifo, &json, &err), &err, SLM_ERR_IO, "config.json: is a named pipe");
    char *data;
    size_t len;
    assert_error(slm_read_file(fifo, &data, &len, &err), &err, SLM_ERR_IO, "not a regular file");
    free(fifo);
    test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_by_file_name),
        cmocka_unit_test(test_oversized_file_refused),
        cmocka_unit_test(test_model_load_oversized_config),
        cmocka_unit_test(test_trailing_bytes_refused),
        cmocka_unit_test(test_nesting_limit_named),
        cmocka_unit_test(test_not_regular_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
