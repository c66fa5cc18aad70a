/*
 * membw.c — streaming memory read bandwidth, the bound for LLM decoding.
 *
 * Reads a 1 GiB buffer (far larger than any cache) start to end with 1..N
 * OpenMP threads, each thread a contiguous slice, best of 5 passes, and
 * prints one JSON object per thread count:
 *   {"threads":T,"gb_s":X,"bytes":B}      (GB = 1e9 bytes)
 * Built by bench/compare.sh:  gcc -O3 -march=native -fopenmp bench/membw.c -o bench/out/membw
 * Usage: membw [THREADS...]   (default: 1 2)
 */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES ((size_t)1 << 30)
#define PASSES 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Sum of 64-bit words: 4 independent 256-bit accumulators (AVX2) or 8 scalar
   ones the compiler vectorizes, so the loop is load-bound, not add-latency-bound. */
static uint64_t sum_slice(const uint64_t *p, size_t n)
{
#ifdef __AVX2__
    __m256i v0 = _mm256_setzero_si256(), v1 = v0, v2 = v0, v3 = v0;
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        v0 = _mm256_add_epi64(v0, _mm256_load_si256((const __m256i *)(p + j)));
        v1 = _mm256_add_epi64(v1, _mm256_load_si256((const __m256i *)(p + j + 4)));
        v2 = _mm256_add_epi64(v2, _mm256_load_si256((const __m256i *)(p + j + 8)));
        v3 = _mm256_add_epi64(v3, _mm256_load_si256((const __m256i *)(p + j + 12)));
    }
    v0 = _mm256_add_epi64(_mm256_add_epi64(v0, v1), _mm256_add_epi64(v2, v3));
    uint64_t r = (uint64_t)_mm256_extract_epi64(v0, 0) + (uint64_t)_mm256_extract_epi64(v0, 1) +
                 (uint64_t)_mm256_extract_epi64(v0, 2) + (uint64_t)_mm256_extract_epi64(v0, 3);
    for (; j < n; j++)
        r += p[j];
    return r;
#endif
    uint64_t a[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            a[k] += p[i + k];
    for (; i < n; i++)
        a[0] += p[i];
    uint64_t s = 0;
    for (int k = 0; k < 8; k++)
        s += a[k];
    return s;
}

int main(int argc, char **argv)
{
    int tlist[16] = {1, 2}, nt = 2;
    if (argc > 1) {
        nt = 0;
        for (int i = 1; i < argc && nt < 16; i++)
            tlist[nt++] = atoi(argv[i]);
    }
    size_t n = BYTES / sizeof(uint64_t);
    uint64_t *buf = aligned_alloc(4096, BYTES);
    if (!buf) {
        fprintf(stderr, "membw: cannot allocate %zu bytes\n", BYTES);
        return 1;
    }
    int tmax = 1;
    for (int i = 0; i < nt; i++)
        tmax = tlist[i] > tmax ? tlist[i] : tmax;
    /* first touch spread over the threads (pages land near who reads them) */
#pragma omp parallel for num_threads(tmax) schedule(static)
    for (size_t i = 0; i < n; i++)
        buf[i] = i * 0x9E3779B97F4A7C15ull;

    volatile uint64_t sink = 0;
    for (int ti = 0; ti < nt; ti++) {
        int t = tlist[ti] > 0 ? tlist[ti] : 1;
        double best = 1e30;
        for (int pass = 0; pass < PASSES; pass++) {
            uint64_t total = 0;
            double t0 = now_s();
#pragma omp parallel num_threads(t) reduction(+ : total)
            {
                int id = omp_get_thread_num(), nth = omp_get_num_threads();
                /* slice bounds on 32-byte boundaries (aligned loads) */
                size_t lo = (n * (size_t)id / (size_t)nth) & ~(size_t)3;
                size_t hi = id == nth - 1 ? n : (n * (size_t)(id + 1) / (size_t)nth) & ~(size_t)3;
                total += sum_slice(buf + lo, hi - lo);
            }
            double dt = now_s() - t0;
            sink += total;
            if (dt < best)
                best = dt;
        }
        printf("{\"threads\":%d,\"gb_s\":%.2f,\"bytes\":%zu}\n", t, (double)BYTES / best / 1e9, BYTES);
        fflush(stdout);
    }
    free(buf);
    return sink == 42 ? 2 : 0; /* keeps the sums live */
}
