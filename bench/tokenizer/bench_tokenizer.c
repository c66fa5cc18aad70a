/*
 * bench_tokenizer.c — single-thread encode throughput of slm's tokenizer (not a test).
 *
 *   bench_tokenizer TOKENIZER_DIR TEXT_FILE [--repeat N] [--chunks]
 *
 * Loads the tokenizer, reads the UTF-8 text and encodes it N times (default 5) without special
 * tokens, reporting the best run (process CPU time): the whole file in one slm_tokenize call, or with --chunks one
 * call per paragraph (the text split at blank lines, separators included, as run.py does for
 * Hugging Face). Prints one JSON object: {"mb_per_s", "seconds", "bytes", "tokens", "checksum"},
 * where checksum is a position-weighted sum of the ids so run.py can check that slm produced the
 * ids Hugging Face did. bench/tokenizer/run.py runs it next to Hugging Face `tokenizers`.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "slm.h"

/* CPU time of this process: on a shared machine, time spent descheduled is not ours. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Length of the paragraph at s: up to and including the next blank line ("\n\n"). */
static size_t chunk_len(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '\n' && s[i + 1] == '\n')
            return i + 2;
    return n;
}

/* Encodes the text once; returns false (after printing why) on failure. */
static bool encode_once(const slm_tokenizer *tok, const char *text, size_t len, bool chunks,
                        slm_tokens *ids)
{
    slm_error err = {0};
    ids->n = 0;
    for (size_t at = 0; at < len;) {
        size_t n = chunks ? chunk_len(text + at, len - at) : len;
        if (slm_tokenize(tok, text + at, n, false, ids, &err) != SLM_OK) {
            fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
            return false;
        }
        at += n;
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tokenizer TOKENIZER_DIR TEXT_FILE [--repeat N] [--chunks]\n");
        return 2;
    }
    int repeat = 5;
    bool chunks = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--chunks") == 0)
            chunks = true;
        else {
            fprintf(stderr, "bench_tokenizer: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    slm_error err = {0};
    slm_tokenizer *tok;
    char *text;
    size_t len;
    if (slm_tokenizer_load(argv[1], &tok, &err) != SLM_OK ||
        slm_read_file(argv[2], &text, &len, &err) != SLM_OK) {
        fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
        return 1;
    }
    slm_tokens ids = {0};
    double best = 1e30;
    for (int r = 0; r < (repeat > 0 ? repeat : 1); r++) {
        double t0 = now_seconds();
        if (!encode_once(tok, text, len, chunks, &ids))
            return 1;
        double dt = now_seconds() - t0;
        best = dt < best ? dt : best;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < ids.n; i++)
        sum += (uint64_t)(uint32_t)ids.ids[i] * (i % 1000 + 1);
    printf("{\"mb_per_s\": %.3f, \"seconds\": %.6f, \"bytes\": %zu, \"tokens\": %zu, "
           "\"checksum\": %llu}\n",
           (double)len / best / 1e6, best, len, ids.n, (unsigned long long)sum);
    slm_tokens_free(&ids);
    free(text);
    slm_tokenizer_free(tok);
    return 0;
}
