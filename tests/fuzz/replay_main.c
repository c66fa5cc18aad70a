/*
 * replay_main.c — runs a libFuzzer harness over files, without libFuzzer.
 *
 * Each tests/fuzz/fuzz_<name>.c is linked with this file into
 * fuzz_<name>_replay (gcc, Release and ASan/UBSan trees), and `make test`
 * runs it over tests/fuzz/corpus/<name>/ (the seed corpus, which must exist)
 * and tests/fuzz/regressions/<name>/ (every reproducer found so far, may be
 * absent). A crash, sanitizer report or leak fails the test like any other;
 * a harness that returns non-zero for an input fails it too.
 *
 *   usage: fuzz_<name>_replay [--optional] PATH...   (files or directories)
 * A directory after --optional may be missing.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as in libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: cannot open: %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *grown = realloc(buf, cap *= 2);
            if (!grown) {
                free(buf);
                buf = NULL;
            } else {
                buf = grown;
            }
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return 1;
    }
    /* Like libFuzzer, the harness gets an exactly sized copy, so reading one
     * byte past `size` is caught by ASan. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, len);
    free(buf);
    int rc = LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    if (rc != 0)
        fprintf(stderr, "replay: %s: harness returned %d\n", path, rc);
    return rc != 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of dir in name order; *n counts them.
 * Returns the number of failures (inputs that failed, or 1 for a listing error). */
static int replay_dir(const char *dir, int *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: %s: cannot open: %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    int failed = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) {
                failed++;
                break;
            }
            names = grown;
        }
        size_t need = strlen(dir) + strlen(e->d_name) + 2;
        names[count] = malloc(need);
        if (!names[count]) {
            failed++;
            break;
        }
        snprintf(names[count], need, "%s/%s", dir, e->d_name);
        count++;
    }
    closedir(d);
    if (count > 1)
        qsort(names, count, sizeof *names, cmp_names);
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            failed += replay_file(names[i]);
            (*n)++;
        }
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int failed = 0, total = 0;
    bool optional = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--optional") == 0) {
            optional = true;
            continue;
        }
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            if (optional)
                continue;
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed++;
            continue;
        }
        int n = 0;
        if (S_ISDIR(st.st_mode)) {
            failed += replay_dir(argv[i], &n);
        } else {
            failed += replay_file(argv[i]);
            n = 1;
        }
        printf("replay %s: %d inputs\n", argv[i], n);
        total += n;
    }
    if (total == 0 && !failed) {
        fprintf(stderr, "replay: no inputs\n");
        failed = 1;
    }
    printf("%d passed, %d failed\n", total > failed ? total - failed : 0, failed);
    return failed != 0;
}
