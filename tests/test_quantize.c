/*
 * test_quantize.c — slm quantize never writes over one of its inputs (the
 * source folder, a symlink to it, a symlink or hard link to a source file),
 * leaves no temporary file behind when a write fails, and converts an
 * already-quantized folder into one that loads (copied when the format is
 * the same, dequantized and re-encoded otherwise).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
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
#include "safetensors_write.h"
#include "slm.h"
#include "test_util.h"

#define STORIES "weights/stories260K"

static const char *const model_files[] = {"config.json", "generation_config.json",
                                          "model.safetensors", "special_tokens_map.json",
                                          "tokenizer.json", "tokenizer_config.json"};
enum { N_FILES = sizeof model_files / sizeof model_files[0] };

static char *join(const char *dir, const char *name)
{
    char *p = slm_path_join(dir, name);
    assert_non_null(p);
    return p;
}

/* FNV-1a of a whole file: equal before and after means the file was not touched. */
static uint64_t file_hash(const char *path)
{
    char *data;
    size_t len;
    slm_error err = {0};
    if (slm_read_file(path, &data, &len, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)data[i]) * 1099511628211ull;
    free(data);
    return h ^ len;
}

/* A private copy of the bundled model, so a failing fix cannot destroy it. */
static char *copy_of_stories(const char *parent)
{
    char *dir = join(parent, "src");
    assert_int_equal(mkdir(dir, 0755), 0);
    for (int i = 0; i < N_FILES; i++) {
        char *data, *from = join(test_source_path(STORIES), model_files[i]);
        size_t len;
        slm_error err = {0};
        assert_int_equal(slm_read_file(from, &data, &len, &err), SLM_OK);
        free(test_write_file(dir, model_files[i], data, len));
        free(data);
        free(from);
    }
    return dir;
}

static void hash_all(const char *dir, uint64_t *h)
{
    for (int i = 0; i < N_FILES; i++) {
        char *p = join(dir, model_files[i]);
        h[i] = file_hash(p);
        free(p);
    }
}

static void assert_unchanged(const char *dir, const uint64_t *before)
{
    uint64_t now[N_FILES];
    hash_all(dir, now);
    for (int i = 0; i < N_FILES; i++)
        if (now[i] != before[i])
            fail_msg("%s/%s changed", dir, model_files[i]);
}

/* No "<name>.tmp-XXXXXX" left in dir. */
static void assert_no_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp-"))
            fail_msg("temporary file %s/%s left behind", dir, e->d_name);
    closedir(d);
}

/* Quantizing into dst must fail with INVALID_ARG, a message containing
   `what`, and leave the source byte-identical. */
static void expect_refused(const char *src, const char *dst, const char *what)
{
    uint64_t before[N_FILES];
    hash_all(src, before);
    slm_error err = {0};
    slm_status s = slm_quantize_folder(src, dst, SLM_WEIGHTS_Q8_0, NULL, NULL, &err);
    if (s != SLM_ERR_INVALID_ARG || !strstr(err.msg, what))
        fail_msg("quantize into %s: status %d '%s' (want a refusal naming '%s')", dst, s, err.msg,
                 what);
    assert_unchanged(src, before);
    assert_no_temp_files(src);
}

/* ============================================================ outputs vs inputs */

static void test_refuses_source_folder_and_symlink_to_it(void **state)
{
    char *tmp = test_make_tmpdir(), *src = copy_of_stories(tmp);
    expect_refused(src, src, "is the source folder");
    char *link = join(tmp, "link");
    assert_int_equal(symlink(src, link), 0);
    expect_refused(src, link, "is the source folder");
    /* the path spelled differently: src/. */
    char *dot = join(src, ".");
    expect_refused(src, dot, "is the source folder");
    free(dot);
    free(link);
    free(src);
    test_rmtree(tmp);
    free(tmp);
}

static void test_refuses_links_to_source_files(void **state)
{
    char *tmp = test_make_tmpdir(), *src = copy_of_stories(tmp);
    /* out/model.safetensors -> src/model.safetensors (the reported SIGBUS) */
    char *out = join(tmp, "out");
    assert_int_equal(mkdir(out, 0755), 0);
    char *from = join(src, "model.safetensors"), *to = join(out, "model.safetensors");
    assert_int_equal(symlink(from, to), 0);
    expect_refused(src, out, "model.safetensors");
    /* a hard link of a side file: same inode, another name */
    char *out2 = join(tmp, "out2");
    assert_int_equal(mkdir(out2, 0755), 0);
    char *tf = join(src, "tokenizer.json"), *tt = join(out2, "tokenizer.json");
    assert_int_equal(link(tf, tt), 0);
    expect_refused(src, out2, "tokenizer.json");
    /* -o naming a source file instead of a folder */
    expect_refused(src, from, "must be a folder");
    free(tf);
    free(tt);
    free(out2);
    free(from);
    free(to);
    free(out);
    free(src);
    test_rmtree(tmp);
    free(tmp);
}

/* The CLI reports the refusal (exit 1, one line naming the folder). */
static void test_cli_refuses_source_folder(void **state)
{
    char *tmp = test_make_tmpdir(), *src = copy_of_stories(tmp), args[4096], *err_text;
    uint64_t before[N_FILES];
    hash_all(src, before);
    snprintf(args, sizeof args, "quantize -m %s -o %s --weights q4_0", src, src);
    assert_int_equal(test_run_cli(args, NULL, &err_text), 1);
    if (!strstr(err_text, "source folder"))
        fail_msg("stderr: %s", err_text);
    free(err_text);
    assert_unchanged(src, before);
    free(src);
    test_rmtree(tmp);
    free(tmp);
}

/* A write that fails (here: the destination name is a folder, so the rename
   cannot replace it) removes its temporary file and says which file. */
static void test_failed_write_leaves_no_temp_file(void **state)
{
    const char *blockers[] = {"model.safetensors", "tokenizer.json"};
    for (int i = 0; i < 2; i++) {
        char *tmp = test_make_tmpdir(), *src = copy_of_stories(tmp), *out = join(tmp, "out");
        assert_int_equal(mkdir(out, 0755), 0);
        char *blocker = join(out, blockers[i]);
        assert_int_equal(mkdir(blocker, 0755), 0);
        slm_error err = {0};
        slm_status s = slm_quantize_folder(src, out, SLM_WEIGHTS_Q8_0, NULL, NULL, &err);
        if (s != SLM_ERR_IO || !strstr(err.msg, blockers[i]))
            fail_msg("status %d '%s'", s, err.msg);
        assert_no_temp_files(out);
        free(blocker);
        free(out);
        free(src);
        test_rmtree(tmp);
        free(tmp);
    }
}

/* An interrupted write (here: abandoned half way) leaves the destination as
   it was and no temporary file; only a commit replaces it, whole. */
static void test_output_replaces_whole_or_not_at_all(void **state)
{
    char *tmp = test_make_tmpdir();
    char *path = test_write_file(tmp, "model.safetensors", "old", 3);
    slm_output o;
    slm_error err = {0};
    assert_int_equal(slm_output_open(&o, path, &err), SLM_OK);
    assert_int_equal(slm_output_write(&o, "new, half", 9, &err), SLM_OK);
    slm_output_abort(&o);
    char *data;
    size_t len;
    assert_int_equal(slm_read_file(path, &data, &len, &err), SLM_OK);
    assert_string_equal(data, "old");
    free(data);
    assert_no_temp_files(tmp);
    assert_int_equal(slm_output_file(path, "new, whole", 10, &err), SLM_OK);
    assert_int_equal(slm_read_file(path, &data, &len, &err), SLM_OK);
    assert_string_equal(data, "new, whole");
    free(data);
    assert_no_temp_files(tmp);
    free(path);
    test_rmtree(tmp);
    free(tmp);
}

/* ============================================================ re-quantizing */


/* Last-position logits of a fixed prompt (vocab floats, malloc'd). */
static float *logits_of(slm_model *m)
{
    const int32_t ids[] = {1, 403, 407, 261, 378};
    slm_session *s;
    slm_error err = {0};
    const float *l;
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    if (slm_session_eval(s, ids, 5, &l, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    int v = slm_model_vocab_size(m);
    float *copy = malloc((size_t)v * sizeof *copy);
    memcpy(copy, l, (size_t)v * sizeof *copy);
    slm_session_free(s);
    return copy;
}

/* max |a - b| / max |b| */
static double rel_diff(const float *a, const float *b, int n)
{
    double d = 0, m = 0;
    for (int i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return d / m;
}

/* Quantizing a q8_0 folder: to q8_0 is a byte-for-byte copy of the weights;
   to any other format the folder loads and computes close to the source. */
static void test_requantize_quantized_folder(void **state)
{
    char *tmp = test_make_tmpdir(), *q8 = join(tmp, "q8");
    slm_error err = {0};
    if (slm_quantize_folder(test_source_path(STORIES), q8, SLM_WEIGHTS_Q8_0, NULL, NULL, &err) !=
        SLM_OK)
        fail_msg("%s", err.msg);
    slm_model *base = test_load_model(q8);
    float *want = logits_of(base);
    int vocab = slm_model_vocab_size(base);
    const struct {
        slm_weights_format f;
        const char *name;
        double bound;
    } cases[] = {{SLM_WEIGHTS_Q8_0, "q8_0", 0.0},
                 {SLM_WEIGHTS_F32, "f32", 4e-2},
                 {SLM_WEIGHTS_F16, "f16", 4e-2},
                 {SLM_WEIGHTS_BF16, "bf16", 4e-2},
                 {SLM_WEIGHTS_Q4_0, "q4_0", 4e-1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = join(tmp, cases[i].name);
        if (slm_quantize_folder(q8, out, cases[i].f, NULL, NULL, &err) != SLM_OK)
            fail_msg("re-quantize to %s: %s", cases[i].name, err.msg);
        slm_model *m = test_load_model(out);
        float *got = logits_of(m);
        double d = rel_diff(got, want, vocab);
        print_message("q8_0 folder -> %s: max |logit diff| %.2e of max |logit|\n", cases[i].name, d);
        if (!(d <= cases[i].bound))
            fail_msg("q8_0 -> %s: relative logit difference %g above %g", cases[i].name, d,
                     cases[i].bound);
        free(got);
        slm_model_free(m);
        if (cases[i].f == SLM_WEIGHTS_Q8_0) {
            char *a = join(q8, "model.safetensors"), *b = join(out, "model.safetensors");
            assert_true(file_hash(a) == file_hash(b));
            free(a);
            free(b);
        }
        free(out);
    }
    free(want);
    slm_model_free(base);
    free(q8);
    test_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuses_source_folder_and_symlink_to_it),
        cmocka_unit_test(test_refuses_links_to_source_files),
        cmocka_unit_test(test_cli_refuses_source_folder),
        cmocka_unit_test(test_failed_write_leaves_no_temp_file),
        cmocka_unit_test(test_output_replaces_whole_or_not_at_all),
        cmocka_unit_test(test_requantize_quantized_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
