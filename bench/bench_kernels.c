/*
 * bench_kernels.c — micro-benchmark of the typed products (not a test).
 *
 * For every weight type (also packed, pack.c: quantized x8, floats x16) and every
 * ISA table the CPU supports:
 *   decode  n = 1 matvec, rows x cols = 5632 x 2048 (TinyLlama's MLP) and
 *           2048 x 2048, at 1 and 2 threads: GB/s of weight bytes read, and
 *           the tokens/s this bandwidth gives a 1.1B-parameter model stored
 *           in that type ("tok-eq"). Each call reads a different copy of W
 *           from a set larger than the L3 cache, mostly from DRAM (part of
 *           it still hits L3: single-thread figures can exceed membw's, so
 *           tune decode prefetching on `slm bench` tg64, not here).
 *   prefill n = 64, 128, 256 tokens (or the list given), 5632 x 2048:
 *           GFLOP/s (2·n·rows·cols per call), at 1 and 2 threads.
 * Prefill runs the table's tiles for every type (slm_matmul). For f32 the
 * OpenBLAS path the typed products no longer take (slm_matmul_f32: one
 * single-threaded sgemm per OpenMP thread) is timed beside it, and for
 * f16/bf16 converting W to f32 and then that sgemm (2 threads). OpenBLAS's
 * own thread count is left to kernels/blas.c (1, set once per process).
 *
 * Usage: bench_kernels [seconds per case, default 0.5] [ISA name to restrict, or "all"]
 *                      [prefill token counts, default 64,128,256]
 *                      [types, e.g. q4_0,q4_0x8, or "all"] [decode|prefill|both]
 * (the last two restrict the run, for A/B comparisons on a busy machine).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "kernels.h"
#include "weight.h"

#define MODEL_PARAMS 1.1e9
#define COLD_BYTES (160u << 20) /* well beyond the 32 MiB L3 */

/* SLM_BENCH_CLOCK=cpu times by the process's CPU time instead of the wall
   clock: on a machine busy with other work, 1-thread figures then leave out
   the time the benchmark was not running (2-thread figures are then
   meaningless: both threads' time adds up). */
static double now(void)
{
    const char *c = getenv("SLM_BENCH_CLOCK");
    int cpu = c && strcmp(c, "cpu") == 0;
    struct timespec ts;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(float *x, size_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        x[i] = ((float)(s >> 8) / (float)(1u << 23) - 1.0f) * 0.05f;
    }
}

typedef struct {
    slm_weight_type type;
    int rows, cols, copies, packed;
    uint8_t **data;
} weights;

/* `copies` encodings of the same random matrix (copied, not re-encoded),
   x8-interleaved when `packed`. */
static int make_weights(weights *w, slm_weight_type t, int rows, int cols, int cold, int packed)
{
    size_t rb = slm_weight_row_bytes(t, cols), bytes = rb * (size_t)rows;
    w->type = t, w->rows = rows, w->cols = cols, w->packed = packed;
    w->copies = cold ? (int)(COLD_BYTES / bytes + 1) : 1;
    w->data = calloc((size_t)w->copies, sizeof *w->data);
    float *row = malloc(sizeof(float) * (size_t)cols);
    if (!w->data || !row)
        return -1;
    for (int c = 0; c < w->copies; c++) {
        w->data[c] = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!w->data[c])
            return -1;
        if (c > 0) {
            memcpy(w->data[c], w->data[0], bytes);
            continue;
        }
        for (int r = 0; r < rows; r++) {
            fill(row, (size_t)cols, (uint32_t)r + 1);
            slm_encode_row(t, row, w->data[0] + (size_t)r * rb, cols);
        }
        slm_weight W = {t, w->data[0], rows, cols, 0};
        if (packed && slm_weight_pack(&W, w->data[0]) != 0)
            return -1;
    }
    free(row);
    return 0;
}

static void free_weights(weights *w)
{
    for (int c = 0; c < w->copies; c++)
        free(w->data[c]);
    free(w->data);
}

/* Seconds per call: best of several batches, each at least ~20 ms. */
static double time_calls(weights *w, const float *x, float *y, int n, slm_matmul_ctx *ctx,
                         double budget)
{
    double best = 1e30, t_end = now() + budget;
    int calls = 1, c = 0;
    do {
        double t0 = now();
        for (int i = 0; i < calls; i++, c = (c + 1) % w->copies) {
            slm_weight W = {w->type, w->data[c], w->rows, w->cols, w->packed};
            slm_matmul(y, x, &W, n, ctx);
        }
        double dt = (now() - t0) / calls;
        if (dt < best)
            best = dt;
        if (dt * calls < 0.003) /* short batches: more chances of a quiet slice */
            calls *= 2;
    } while (now() < t_end);
    return best;
}

/* 1 when `label` is in the comma-separated list (NULL: every label). */
static int selected(const char *list, const char *label)
{
    if (!list)
        return 1;
    size_t n = strlen(label);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, label, n) == 0)
            return 1;
        p += len + (e != NULL);
    }
    return 0;
}

/* "q4_0", "q4_0x8" or "f16x16" */
static const char *type_label(slm_weight_type t, int packed, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s", slm_weight_type_name(t),
             !packed ? "" : t >= SLM_WEIGHT_Q8_0 ? "x8" : "x16");
    return buf;
}

static void bench_decode(const slm_kernel_table *k, slm_weight_type t, int packed, int rows,
                         int cols, double budget)
{
    weights w;
    char label[16];
    if (make_weights(&w, t, rows, cols, 1, packed) != 0) {
        fprintf(stderr, "out of memory\n");
        return;
    }
    float *x = malloc(sizeof(float) * (size_t)cols), *y = malloc(sizeof(float) * (size_t)rows);
    fill(x, (size_t)cols, 99);
    double bytes = (double)slm_weight_row_bytes(t, cols) * rows;
    printf("decode  %-6s %-6s %5dx%-5d", k->name, type_label(t, packed, label, sizeof label), rows,
           cols);
    for (int th = 1; th <= 2; th++) {
        slm_matmul_ctx ctx = {0};
        ctx.n_threads = th, ctx.kernels = k;
        double s = time_calls(&w, x, y, 1, &ctx, budget);
        double gbs = bytes / s * 1e-9;
        double tok = gbs * 1e9 / (MODEL_PARAMS * slm_weight_bits(t) / 8.0);
        printf("  %dT %7.1f us %6.1f GB/s %6.1f tok-eq/s", th, s * 1e6, gbs, tok);
        slm_matmul_ctx_free(&ctx);
    }
    printf("\n");
    free(x), free(y), free_weights(&w);
}

static void bench_prefill(const slm_kernel_table *k, slm_weight_type t, int packed, int rows,
                          int cols, int n, double budget)
{
    slm_team *team = slm_team_new(2); /* the sgemm rows below */
    weights w;
    char label[16];
    if (make_weights(&w, t, rows, cols, 0, packed) != 0) {
        fprintf(stderr, "out of memory\n");
        return;
    }
    float *x = malloc(sizeof(float) * (size_t)cols * n);
    float *y = malloc(sizeof(float) * (size_t)rows * n);
    fill(x, (size_t)cols * n, 98);
    double flop = 2.0 * n * rows * cols;
    printf("prefill %-6s %-6s %5dx%-5d n=%d", k->name, type_label(t, packed, label, sizeof label),
           rows, cols, n);
    for (int th = 1; th <= 2; th++) {
        slm_matmul_ctx ctx = {0};
        ctx.n_threads = th, ctx.kernels = k;
        double s = time_calls(&w, x, y, n, &ctx, budget);
        printf("  %dT %8.2f ms %7.1f GFLOP/s", th, s * 1e3, flop / s * 1e-9);
        slm_matmul_ctx_free(&ctx);
    }
    if (t == SLM_WEIGHT_F32 && !packed) { /* the sgemm the typed products replaced */
        printf("  | sgemm");
        for (int th = 1; th <= 2; th++) {
            double best = 1e30, t_end = now() + budget;
            do {
                double t0 = now();
                slm_matmul_f32(y, x, (const float *)w.data[0], n, rows, cols, team, th);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            } while (now() < t_end);
            printf(" %dT %7.1f", th, flop / best * 1e-9);
        }
        printf(" GFLOP/s");
    }
    if ((t == SLM_WEIGHT_F16 || t == SLM_WEIGHT_BF16) && !packed) {
        /* the alternative slm_matmul does not take: convert W to f32 with
           the table's converter and run sgemm (2 threads), conversion timed */
        size_t count = (size_t)rows * cols;
        float *wf = malloc(sizeof(float) * count);
        double best = 1e30, t_end = now() + budget;
        do {
            double t0 = now();
            for (size_t r = 0; r < (size_t)rows; r++)
                (t == SLM_WEIGHT_F16 ? k->f16_to_f32 : k->bf16_to_f32)(
                    (const uint16_t *)w.data[0] + r * cols, wf + r * cols, cols);
            slm_matmul_f32(y, x, wf, n, rows, cols, team, 2);
            double dt = now() - t0;
            best = dt < best ? dt : best;
        } while (now() < t_end);
        printf("  | convert+sgemm 2T %7.1f GFLOP/s", flop / best * 1e-9);
        free(wf);
    }
    printf("\n");
    free(x), free(y), free_weights(&w);
    slm_team_free(team);
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 0.5;
    if (budget <= 0)
        budget = 0.5;
    const char *only = argc > 2 && strcmp(argv[2], "all") != 0 ? argv[2] : NULL;
    const char *types = argc > 4 && strcmp(argv[4], "all") != 0 ? argv[4] : NULL;
    const char *mode = argc > 5 ? argv[5] : "both";
    int ns[16], nn = 0;
    for (const char *p = argc > 3 ? argv[3] : "64,128,256"; *p && nn < 16;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1) {
            fprintf(stderr, "bench_kernels: bad token count list '%s'\n", argv[3]);
            return 2;
        }
        ns[nn++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    printf("best ISA: %s (OPENBLAS_CORETYPE=%s)\n", slm_isa_name(slm_isa_best()),
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "auto");
    for (int i = SLM_ISA_COUNT - 1; i >= 0; i--) {
        slm_isa isa = (slm_isa)i;
        if (only && strcmp(only, slm_isa_name(isa)) != 0)
            continue;
        if (!slm_isa_supported(isa)) {
            printf("skip %s: not supported here\n", slm_isa_name(isa));
            continue;
        }
        const slm_kernel_table *k = slm_kernels_for(isa);
        double b = isa == SLM_ISA_SCALAR ? budget / 4 : budget;
        char label[16];
        for (int t = 0; t < SLM_WEIGHT_TYPE_COUNT && strcmp(mode, "prefill") != 0; t++)
            for (int packed = 0; packed <= 1; packed++) {
                if (!selected(types, type_label((slm_weight_type)t, packed, label, sizeof label)))
                    continue;
                bench_decode(k, (slm_weight_type)t, packed, 5632, 2048, b);
                bench_decode(k, (slm_weight_type)t, packed, 2048, 2048, b);
            }
        for (int j = 0; j < nn && strcmp(mode, "decode") != 0; j++)
            for (int t = 0; t < SLM_WEIGHT_TYPE_COUNT; t++)
                for (int packed = 0; packed <= 1; packed++)
                    if ((isa != SLM_ISA_SCALAR || t == SLM_WEIGHT_F32) &&
                        selected(types, type_label((slm_weight_type)t, packed, label, sizeof label)))
                        bench_prefill(k, (slm_weight_type)t, packed, 5632, 2048, ns[j], b);
    }
    return 0;
}
