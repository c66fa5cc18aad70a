/*
 * test_util.h — helpers shared by the cmocka tests: fixture paths, scratch
 * files and running the `slm` CLI. Tests never read ../shared: everything
 * they need is under tests/fixtures/ or weights/.
 */
#ifndef SLM_TEST_UTIL_H
#define SLM_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "slm.h"

/* Absolute path of `rel` inside the source tree (static buffer per call slot). */
const char *test_source_path(const char *rel);

/* A fresh empty directory under $TMPDIR (malloc'd path); removed by test_rmtree. */
char *test_make_tmpdir(void);
void test_rmtree(const char *dir);

/* Writes `len` bytes to dir/name; returns the malloc'd full path. */
char *test_write_file(const char *dir, const char *name, const void *data, size_t len);
/* The whole file at path, NUL-terminated (malloc'd; "" when it cannot be opened). */
char *test_read_text(const char *path);

/* Runs the slm CLI with a shell-quoted argument string, e.g. "run -n 5".
 * Returns the exit status; stdout and stderr are malloc'd NUL-terminated strings
 * (either pointer may be NULL to discard). */
int test_run_cli(const char *args, char **out, char **err_out);

/* The same with `input` fed to the CLI's standard input. */
int test_run_cli_stdin(const char *args, const char *input, char **out, char **err_out);

/* Loads the model folder `dir` with default options; fails the running
 * test with the loader's message on any error. */
slm_model *test_load_model(const char *dir);

/* Ids produced by a generation, in order (the eos it stopped at excluded). */
#define TEST_MAX_GENERATED 1024
typedef struct {
    int32_t ids[TEST_MAX_GENERATED];
    size_t n;
} test_ids;

/* Greedy (temperature 0) continuation of prompt, up to n_new tokens, in a
 * fresh session of m; fails the running test on any error. */
void test_greedy(slm_model *m, const int32_t *prompt, size_t n_prompt, int n_new, test_ids *out);

/* Parses a comma- or space-separated list of ints into a malloc'd array. */
int32_t *test_parse_ids(const char *text, size_t *n);

#endif
