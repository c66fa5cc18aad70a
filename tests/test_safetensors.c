/*
 * test_safetensors.c — the safetensors reader on good files and on every
 * kind of malformed file: each crafted here, each refused with a message
 * naming the file and (where there is one) the tensor.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "safetensors.h"
#include "test_util.h"

/* ============================================================ crafting files */

/* Writes u64 header length + header + data to dir/name; returns the path. */
static char *write_st(const char *dir, const char *name, const char *header, const void *data,
                      size_t data_len)
{
    size_t hlen = strlen(header);
    size_t total = 8 + hlen + data_len;
    uint8_t *buf = malloc(total);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    if (data_len)
        memcpy(buf + 8 + hlen, data, data_len);
    char *path = test_write_file(dir, name, buf, total);
    free(buf);
    return path;
}

/* Writes a raw file whose first 8 bytes claim `hlen`. */
static char *write_raw(const char *dir, uint64_t hlen, const char *rest)
{
    size_t n = strlen(rest);
    uint8_t *buf = malloc(8 + n);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(hlen >> (8 * i));
    memcpy(buf + 8, rest, n);
    char *path = test_write_file(dir, "raw.safetensors", buf, 8 + n);
    free(buf);
    return path;
}

static const float data8[8] = {1, 2, 3, 4, 5, 6, 7, 8};

/* Opens a file expected to fail; checks the status and that the message
 * contains each of the NULL-terminated fragments. */
static void expect_fail(const char *path, slm_status want, ...)
{
    slm_safetensors *st = (void *)1;
    slm_error err = {0};
    slm_status s = slm_safetensors_open(path, false, &st, &err);
    if (s != want)
        fail_msg("%s: status %d (%s), want %d", path, s, err.msg, want);
    assert_null(st);
    assert_non_null(strstr(err.msg, path));
    va_list ap;
    va_start(ap, want);
    for (const char *frag; (frag = va_arg(ap, const char *));)
        if (!strstr(err.msg, frag))
            fail_msg("message '%s' lacks '%s'", err.msg, frag);
    va_end(ap);
}

/* ============================================================ good files */

static void test_reads_valid_file(void **state)
{
    char *dir = test_make_tmpdir();
    uint16_t halves[2] = {0x3c00, 0xc000}; /* f16 1.0, -2.0 */
    uint16_t bhalves[2] = {0x3f80, 0x4040}; /* bf16 1.0, 3.0 */
    uint8_t data[32 + 4 + 4];
    memcpy(data, data8, 32);
    memcpy(data + 32, halves, 4);
    memcpy(data + 36, bhalves, 4);
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},"
                    "\"w\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[0,32]},"
                    "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[32,36]},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[36,40]}}";
    char *path = write_st(dir, "ok.safetensors", h, data, sizeof data);
    for (int use_mmap = 0; use_mmap < 2; use_mmap++) {
        slm_safetensors *st;
        slm_error err = {0};
        assert_int_equal(slm_safetensors_open(path, use_mmap, &st, &err), SLM_OK);
        assert_int_equal(slm_safetensors_count(st), 3);
        const slm_tensor *w = slm_safetensors_find(st, "w");
        assert_non_null(w);
        assert_int_equal(w->dtype, SLM_DTYPE_F32);
        assert_int_equal(w->n_dims, 2);
        assert_int_equal(w->shape[0], 2);
        assert_int_equal(w->shape[1], 4);
        assert_memory_equal(w->data, data8, 32);
        const slm_tensor *ht = slm_safetensors_find(st, "h");
        float f[2];
        slm_convert_to_f32(f, ht->data, ht->dtype, 2);
        assert_true(f[0] == 1.0f && f[1] == -2.0f);
        const slm_tensor *bt = slm_safetensors_find(st, "b");
        slm_convert_to_f32(f, bt->data, bt->dtype, 2);
        assert_true(f[0] == 1.0f && f[1] == 3.0f);
        assert_null(slm_safetensors_find(st, "missing"));
        assert_int_equal(slm_safetensors_data_bytes(st), 40);
        slm_safetensors_free(st);
    }
    free(path);
    test_rmtree(dir);
    free(dir);
}

/* ============================================================ malformed headers */

static void test_too_short(void **state)
{
    char *dir = test_make_tmpdir();
    char *path = test_write_file(dir, "short.safetensors", "abc", 3);
    expect_fail(path, SLM_ERR_FORMAT, "too short", NULL);
    free(path);
    test_rmtree(dir);
    free(dir);
}

static void test_header_length_lies(void **state)
{
    char *dir = test_make_tmpdir();
    char *path = write_raw(dir, 1000, "{}");
    expect_fail(path, SLM_ERR_FORMAT, "header length 1000", NULL);
    free(path);
    path = write_raw(dir, UINT64_MAX, "{}");
    expect_fail(path, SLM_ERR_FORMAT, "header length", NULL);
    free(path);
    test_rmtree(dir);
    free(dir);
}

static void test_malformed_json(void **state)
{
    char *dir = test_make_tmpdir();
    char *path = write_st(dir, "bad.safetensors", "{\"w\": {\"dtype\": \"F32\",", NULL, 0);
    expect_fail(path, SLM_ERR_FORMAT, "malformed JSON", NULL);
    free(path);
    path = write_st(dir, "arr.safetensors", "[1, 2]", NULL, 0);
    expect_fail(path, SLM_ERR_FORMAT, "not a JSON object", NULL);
    free(path);
    test_rmtree(dir);
    free(dir);
}

/* One bad entry per case: the header, the expected message fragment. */
static const struct {
    const char *header;
    slm_status status;
    const char *fragment;
} bad_entries[] = {
    {"{\"w\":{\"dtype\":\"F33\",\"shape\":[8],\"data_offsets\":[0,32]}}", SLM_ERR_UNSUPPORTED,
     "unsupported dtype 'F33'"},
    {"{\"w\":{\"shape\":[8],\"data_offsets\":[0,32]}}", SLM_ERR_FORMAT, "missing \"dtype\""},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":8,\"data_offsets\":[0,32]}}", SLM_ERR_FORMAT,
     "not an array"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-8],\"data_offsets\":[0,32]}}", SLM_ERR_FORMAT,
     "not a non-negative integer"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,32]}}", SLM_ERR_FORMAT,
     "not a non-negative integer"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,32]}}", SLM_ERR_FORMAT,
     "span 32 bytes but F32 [4] needs 16"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]}}", SLM_ERR_FORMAT,
     "outside the data section"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[32,0]}}", SLM_ERR_FORMAT,
     "begin 32 > end 0"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0]}}", SLM_ERR_FORMAT,
     "must be [begin, end]"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1,2,3,4,5,6,7,8,9],\"data_offsets\":[0,32]}}",
     SLM_ERR_FORMAT, "9 dimensions"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
     "\"data_offsets\":[0,32]}}",
     SLM_ERR_FORMAT, "overflows"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}",
     SLM_ERR_FORMAT, "overlap"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},"
     "\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[32,32]}}",
     SLM_ERR_FORMAT, "defined twice"},
    {"{\"w\":7}", SLM_ERR_FORMAT, "not an object"},
    /* beyond int64: refused before any cast */
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,32]}}", SLM_ERR_FORMAT,
     "not a non-negative integer"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,1e300]}}", SLM_ERR_FORMAT,
     "not non-negative integers"},
    /* a zero-size tensor past the data section is still out of bounds */
    {"{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[33,33]}}", SLM_ERR_FORMAT,
     "outside the data section"},
    /* zero-size tensors do not hide a real overlap behind them */
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
     "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[12,28]}}",
     SLM_ERR_FORMAT, "tensors 'a' and 'b' overlap"},
};

static void test_bad_entries(void **state)
{
    char *dir = test_make_tmpdir();
    for (size_t i = 0; i < sizeof bad_entries / sizeof bad_entries[0]; i++) {
        char *path = write_st(dir, "e.safetensors", bad_entries[i].header, data8, sizeof data8);
        print_message("case %zu: %s\n", i, bad_entries[i].fragment);
        expect_fail(path, bad_entries[i].status, bad_entries[i].fragment, "'", NULL);
        free(path);
    }
    test_rmtree(dir);
    free(dir);
}

static void test_truncated_data(void **state)
{
    char *dir = test_make_tmpdir();
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}";
    char *path = write_st(dir, "t.safetensors", h, data8, 20); /* 12 bytes cut */
    expect_fail(path, SLM_ERR_FORMAT, "'w'", "file truncated", NULL);
    free(path);
    test_rmtree(dir);
    free(dir);
}

static void test_missing_file(void **state)
{
    slm_safetensors *st;
    slm_error err = {0};
    assert_int_equal(slm_safetensors_open("/nonexistent/x.safetensors", false, &st, &err),
                     SLM_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.safetensors"));
}

/* ============================================================ sharded folders */

static void write_shards(const char *dir, const char *index)
{
    free(write_st(dir, "model-00001-of-00002.safetensors",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", data8, 32));
    free(write_st(dir, "model-00002-of-00002.safetensors",
                  "{\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", data8, 16));
    free(test_write_file(dir, "model.safetensors.index.json", index, strlen(index)));
}

static void test_sharded(void **state)
{
    char *dir = test_make_tmpdir();
    write_shards(dir, "{\"metadata\":{},\"weight_map\":{"
                      "\"a\":\"model-00001-of-00002.safetensors\","
                      "\"b\":\"model-00002-of-00002.safetensors\"}}");
    slm_safetensors *st;
    slm_error err = {0};
    assert_int_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_OK);
    assert_int_equal(slm_safetensors_count(st), 2);
    const slm_tensor *b = slm_safetensors_find(st, "b");
    assert_non_null(b);
    assert_memory_equal(b->data, data8, 16);
    assert_non_null(strstr(b->file, "00002"));
    slm_safetensors_free(st);
    test_rmtree(dir);
    free(dir);
}

static void test_sharded_errors(void **state)
{
    const struct {
        const char *index;
        const char *fragment;
    } cases[] = {
        {"{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
         "\"b\":\"model-00009-of-00002.safetensors\"}}",
         "model-00009-of-00002.safetensors: cannot open"},
        {"{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
         "\"c\":\"model-00001-of-00002.safetensors\"}}",
         "tensor 'c' is listed"},
        {"{\"weight_map\":{\"a\":\"../etc/passwd\"}}", "not a file name"},
        {"{\"weight_map\":[]}", "weight_map"},
        {"{\"weight_map\":", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = test_make_tmpdir();
        write_shards(dir, cases[i].index);
        slm_safetensors *st;
        slm_error err = {0};
        assert_int_not_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_OK);
        if (!strstr(err.msg, cases[i].fragment))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].fragment);
        test_rmtree(dir);
        free(dir);
    }
}

static void test_duplicate_across_shards(void **state)
{
    char *dir = test_make_tmpdir();
    free(write_st(dir, "s1.safetensors",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", data8, 32));
    free(write_st(dir, "s2.safetensors",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", data8, 16));
    const char *index = "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}";
    free(test_write_file(dir, "model.safetensors.index.json", index, strlen(index)));
    slm_safetensors *st;
    slm_error err = {0};
    assert_int_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "'a'"));
    test_rmtree(dir);
    free(dir);
}

static void test_empty_dir(void **state)
{
    char *dir = test_make_tmpdir();
    slm_safetensors *st;
    slm_error err = {0};
    assert_int_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_ERR_IO);
    assert_non_null(strstr(err.msg, "no model.safetensors"));
    test_rmtree(dir);
    free(dir);
}

/* ============================================================ edge cases */

/* Headers with no tensors at all: no qsort/bsearch over a NULL table
   (undefined behaviour UBSan reports). */
static void test_empty_headers(void **state)
{
    char *dir = test_make_tmpdir();
    const char *headers[] = {"{}", "{\"__metadata__\":{\"format\":\"pt\"}}"};
    for (size_t i = 0; i < 2; i++) {
        char *path = write_st(dir, "empty.safetensors", headers[i], NULL, 0);
        slm_safetensors *st;
        slm_error err = {0};
        assert_int_equal(slm_safetensors_open(path, false, &st, &err), SLM_OK);
        assert_int_equal(slm_safetensors_count(st), 0);
        assert_null(slm_safetensors_find(st, "w"));
        assert_int_equal(slm_safetensors_data_bytes(st), 0);
        assert_true(i == 0 ? slm_safetensors_metadata(st, "format") == NULL
                           : strcmp(slm_safetensors_metadata(st, "format"), "pt") == 0);
        slm_safetensors_free(st);
        free(path);
    }
    test_rmtree(dir);
    free(dir);
}

/* The format allows zero-size tensors at any in-bounds offset, also one
   another tensor covers, and at the very end of the data. */
static void test_zero_size_tensors_share_offsets(void **state)
{
    char *dir = test_make_tmpdir();
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},"
                    "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                    "\"y\":{\"dtype\":\"F16\",\"shape\":[0,4],\"data_offsets\":[16,16]},"
                    "\"x\":{\"dtype\":\"BF16\",\"shape\":[4,0],\"data_offsets\":[16,16]},"
                    "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[32,32]}}";
    char *path = write_st(dir, "zero.safetensors", h, data8, sizeof data8);
    slm_safetensors *st;
    slm_error err = {0};
    if (slm_safetensors_open(path, false, &st, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(slm_safetensors_count(st), 5);
    assert_int_equal(slm_safetensors_find(st, "y")->n_bytes, 0);
    assert_memory_equal(slm_safetensors_find(st, "w")->data, data8, 32);
    slm_safetensors_free(st);
    free(path);
    test_rmtree(dir);
    free(dir);
}

/* The in-memory entry points (fuzzing) validate like the file ones. */
static void test_open_memory(void **state)
{
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t hlen = strlen(h);
    uint8_t buf[256];
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, h, hlen);
    memcpy(buf + 8 + hlen, data8, 8);
    slm_safetensors *st;
    slm_error err = {0};
    assert_int_equal(slm_safetensors_open_memory(buf, 8 + hlen + 8, "mem", &st, &err), SLM_OK);
    assert_memory_equal(slm_safetensors_find(st, "w")->data, data8, 8);
    slm_safetensors_free(st);
    assert_int_equal(slm_safetensors_open_memory(buf, 8 + hlen + 4, "mem", &st, &err),
                     SLM_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "mem: tensor 'w'"));
    const char *index = "{\"weight_map\":{\"w\":\"a.safetensors\"}}";
    assert_int_equal(slm_safetensors_open_index_memory(index, strlen(index), "idx", buf,
                                                       8 + hlen + 8, &st, &err),
                     SLM_OK);
    assert_string_equal(slm_safetensors_find(st, "w")->file, "a.safetensors");
    slm_safetensors_free(st);
}

/* An index entry must name the shard that holds the tensor. */
static void test_index_names_wrong_shard(void **state)
{
    char *dir = test_make_tmpdir();
    write_shards(dir, "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\","
                      "\"b\":\"model-00002-of-00002.safetensors\","
                      "\"c\":\"model-00001-of-00002.safetensors\"}}");
    slm_safetensors *st;
    slm_error err = {0};
    assert_int_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_ERR_FORMAT);
    if (!strstr(err.msg, "model.safetensors.index.json: tensor 'a' is listed in "
                         "model-00002-of-00002.safetensors but is in "))
        fail_msg("message '%s'", err.msg);
    test_rmtree(dir);
    free(dir);
}

/* ============================================================ what the path is */

static void test_weights_path_kinds(void **state)
{
    slm_safetensors *st;
    slm_error err = {0};
    char *dir = test_make_tmpdir(), path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_ERR_IO);
    if (!strstr(err.msg, path) || !strstr(err.msg, "is a directory, not a safetensors file"))
        fail_msg("message '%s'", err.msg);
    assert_int_equal(slm_safetensors_open(path, false, &st, &err), SLM_ERR_IO);
    assert_non_null(strstr(err.msg, "is a directory, not a safetensors file"));
    rmdir(path);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_ERR_IO);
    if (!strstr(err.msg, path) || !strstr(err.msg, "is a directory, not a JSON file"))
        fail_msg("message '%s'", err.msg);
    assert_int_equal(slm_safetensors_open_dir("/dev/null", false, &st, &err), SLM_ERR_IO);
    assert_non_null(strstr(err.msg, "/dev/null: is a character device, not a model folder"));
    assert_int_equal(slm_safetensors_open("/dev/null", false, &st, &err), SLM_ERR_IO);
    assert_non_null(strstr(err.msg, "/dev/null: is not a regular file"));
    test_rmtree(dir);
    free(dir);
}

/* ============================================================ scale */

typedef struct {
    char *p;
    size_t n, cap;
} text_buf;

static void put(text_buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap ? b->cap * 2 : 1 << 20;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define MANY 150000
/* Generous: the O(n log n) code takes well under a second even under ASan;
   the old O(n^2) shard deduplication and metadata merge took minutes. */
#define MANY_SECONDS 15.0

/* A shard with tensors first..first+n-1 (zero-size: only the header
   matters) and, when `meta`, one metadata string per tensor. */
static void write_many(const char *dir, const char *name, int first, int n, bool meta)
{
    text_buf b = {0};
    put(&b, "{");
    if (meta) {
        put(&b, "\"__metadata__\":{");
        for (int i = 0; i < n; i++)
            put(&b, "%s\"k%06d\":\"v%d\"", i ? "," : "", first + i, first + i);
        put(&b, "},");
    }
    for (int i = 0; i < n; i++)
        put(&b, "%s\"t%06d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}", i ? "," : "",
            first + i);
    put(&b, "}");
    free(write_st(dir, name, b.p, NULL, 0));
    free(b.p);
}

/* 150k index entries over two shards: each entry's shard used to be
   compared with every entry before it. */
static void test_many_index_entries(void **state)
{
    char *dir = test_make_tmpdir();
    write_many(dir, "s1.safetensors", 0, MANY / 2, false);
    write_many(dir, "s2.safetensors", MANY / 2, MANY / 2, false);
    text_buf b = {0};
    put(&b, "{\"weight_map\":{");
    for (int i = 0; i < MANY; i++)
        put(&b, "%s\"t%06d\":\"s%d.safetensors\"", i ? "," : "", i, i < MANY / 2 ? 1 : 2);
    put(&b, "}}");
    free(test_write_file(dir, "model.safetensors.index.json", b.p, b.n));
    free(b.p);
    slm_safetensors *st;
    slm_error err = {0};
    double t0 = now_seconds();
    assert_int_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_OK);
    double took = now_seconds() - t0;
    print_message("%d index entries: %.2f s\n", MANY, took);
    assert_int_equal(slm_safetensors_count(st), MANY);
    assert_non_null(strstr(slm_safetensors_find(st, "t099999")->file, "s2.safetensors"));
    assert_true(took < MANY_SECONDS);
    slm_safetensors_free(st);
    test_rmtree(dir);
    free(dir);
}

/* 150k tensors and 150k metadata strings in one header (an slm-quantized
   model has one per tensor), each looked up once, as loading does. */
static void test_many_tensors_and_metadata(void **state)
{
    char *dir = test_make_tmpdir();
    write_many(dir, "model.safetensors", 0, MANY, true);
    slm_safetensors *st;
    slm_error err = {0};
    double t0 = now_seconds();
    assert_int_equal(slm_safetensors_open_dir(dir, false, &st, &err), SLM_OK);
    size_t found = 0;
    for (int i = 0; i < MANY; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%06d", i);
        found += slm_safetensors_metadata(st, key) != NULL;
    }
    double took = now_seconds() - t0;
    print_message("%d tensors and metadata pairs: %.2f s\n", MANY, took);
    assert_int_equal(found, MANY);
    assert_int_equal(slm_safetensors_count(st), MANY);
    assert_string_equal(slm_safetensors_metadata(st, "k000042"), "v42");
    assert_true(took < MANY_SECONDS);
    slm_safetensors_free(st);
    test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_valid_file),   cmocka_unit_test(test_too_short),
        cmocka_unit_test(test_header_length_lies), cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_bad_entries),        cmocka_unit_test(test_truncated_data),
        cmocka_unit_test(test_missing_file),       cmocka_unit_test(test_sharded),
        cmocka_unit_test(test_sharded_errors),     cmocka_unit_test(test_duplicate_across_shards),
        cmocka_unit_test(test_empty_dir),          cmocka_unit_test(test_empty_headers),
        cmocka_unit_test(test_zero_size_tensors_share_offsets),
        cmocka_unit_test(test_open_memory),        cmocka_unit_test(test_index_names_wrong_shard),
        cmocka_unit_test(test_weights_path_kinds), cmocka_unit_test(test_many_index_entries),
        cmocka_unit_test(test_many_tensors_and_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
