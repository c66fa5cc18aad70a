/*
 * matmul.c — f32 products: a threaded matrix-vector kernel for one token
 * (decode is bound by reading W once, so rows are split across threads) and
 * OpenBLAS sgemm for batches (prompt processing is compute bound).
 * slm_matmul_f32_bias adds an epilogue (bias, GELU) that each thread runs on
 * its own slice of the output right after its product, so the encoder's
 * element-wise work is split over the team like the product itself.
 * The product of a slice is the kernel table's own sgemm where it has one
 * (AVX-512: the same speed whatever OPENBLAS_CORETYPE says, which on some
 * CPUs decides between SSE3 and AVX-512 kernels), else OpenBLAS's.
 */
#include <cblas.h>
#include <stdatomic.h>
#include <string.h>

#include "dispatch.h"
#include "kernels.h"
#include "team.h"

static float dot_f32(const float *a, const float *b, int n)
{
    /* Eight independent partial sums let the compiler vectorise without
       -ffast-math and shorten the dependency chain. */
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    float acc = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++)
        acc += a[i] * b[i];
    return acc;
}

typedef struct {
    float *y;
    const float *x, *w, *bias;
    slm_act act;
    int n, rows, cols, tasks, by_tokens;
    const slm_kernel_table *k;
    atomic_int failed;
} product_job;

/* Rows per decode task: a cache line of y. */
enum { matvec_grain = 16 };

static void matvec_task(void *ctx, int i, int worker)
{
    (void)worker;
    const product_job *j = ctx;
    int r0, r1;
    slm_task_range(i, j->tasks, j->rows, matvec_grain, &r0, &r1);
    for (int r = r0; r < r1; r++)
        j->y[r] = dot_f32(j->w + (size_t)r * j->cols, j->x, j->cols);
}

static void matvec_f32(float *y, const float *x, const float *w, int rows, int cols,
                       slm_team *team, int n_threads)
{
    if (rows < 256) /* not worth waking the team */
        n_threads = 1;
    product_job j = {.y = y, .x = x, .w = w, .rows = rows, .cols = cols,
                     .tasks = slm_task_count(rows, matvec_grain, n_threads)};
    slm_team_run(team, n_threads, j.tasks, matvec_task, &j);
}

/* The own sgemm (avx512_sgemm.c) works in panels of 64 tokens; row slices
   in multiples of 16 rows of W keep OpenBLAS's tiles whole. */
enum { sgemm_panel = 64, row_grain = 16 };

/* Splitting tokens pays when the panels divide evenly between the threads,
   or are many enough that one panel more is a small imbalance. */
static int split_tokens(int n, int n_threads)
{
    int panels = (n + sgemm_panel - 1) / sgemm_panel;
    return n_threads > 1 && (panels % n_threads == 0 || panels >= 8 * n_threads);
}

/* y[:, r0:r1] = x · W[r0:r1]ᵀ (+ bias, then act), single-threaded sgemm. The
   table's own sgemm starts each sum from the bias; for OpenBLAS the slice
   is first filled with it and the product accumulated on top (beta = 1),
   which replaces the zeroing pass sgemm does for beta = 0. */
static int slice_product(float *y, const float *x, const float *w, const float *bias,
                         slm_act act, int n, int rows, int cols, int r0, int r1,
                         const slm_kernel_table *k)
{
    if (r0 >= r1)
        return 0;
    int width = r1 - r0;
    if (k->sgemm_nt) {
        if (k->sgemm_nt(y + r0, (size_t)rows, x, (size_t)cols, w + (size_t)r0 * cols,
                        (size_t)cols, n, width, cols, bias ? bias + r0 : NULL) != 0)
            return -1;
    } else {
        if (bias)
            for (int t = 0; t < n; t++)
                memcpy(y + (size_t)t * rows + r0, bias + r0, (size_t)width * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, width, cols, 1.0f, x, cols,
                    w + (size_t)r0 * cols, cols, bias ? 1.0f : 0.0f, y + r0, rows);
    }
    if (act == SLM_ACT_GELU)
        for (int t = 0; t < n; t++)
            slm_gelu(y + (size_t)t * rows + r0, (size_t)width);
    return 0;
}

/* Tokens [t0, t1) of y, a few panels at a time, so the bias fill before and
   the GELU after each product find that chunk of y still in cache (a
   thread's whole slice of a 3072-wide product would not be). */
static int token_chunks(float *y, const float *x, const float *w, const float *bias, slm_act act,
                        int rows, int cols, int t0, int t1, const slm_kernel_table *k)
{
    enum { chunk = sgemm_panel }; /* 2 panels per call measured slower at k = 3072 */
    for (int t = t0; t < t1; t += chunk) {
        int m = t1 - t < chunk ? t1 - t : chunk;
        if (slice_product(y + (size_t)t * rows, x + (size_t)t * cols, w, bias, act, m, rows, cols,
                          0, rows, k) != 0)
            return -1;
    }
    return 0;
}

/* One task: a range of tokens (all rows) or of rows (all tokens). */
static void product_task(void *ctx, int i, int worker)
{
    (void)worker;
    product_job *j = ctx;
    int lo, hi, rc;
    if (j->by_tokens) {
        slm_task_range(i, j->tasks, j->n, sgemm_panel, &lo, &hi);
        rc = token_chunks(j->y, j->x, j->w, j->bias, j->act, j->rows, j->cols, lo, hi, j->k);
    } else {
        slm_task_range(i, j->tasks, j->rows, row_grain, &lo, &hi);
        rc = slice_product(j->y, j->x, j->w, j->bias, j->act, j->n, j->rows, j->cols, lo, hi,
                           j->k);
    }
    if (rc != 0)
        atomic_store_explicit(&j->failed, 1, memory_order_relaxed);
}

int slm_matmul_f32_bias(float *y, const float *x, const float *w, const float *bias,
                        slm_act act, int n, int rows, int cols, slm_team *team, int n_threads)
{
    if (n_threads < 1)
        n_threads = 1;
    if (n == 1) {
        matvec_f32(y, x, w, rows, cols, team, n_threads);
        if (bias)
            slm_add_bias(y, bias, 1, rows);
        if (act == SLM_ACT_GELU)
            slm_gelu(y, (size_t)rows);
        return 0;
    }
    product_job j = {.y = y, .x = x, .w = w, .bias = bias, .act = act, .n = n, .rows = rows,
                     .cols = cols, .k = slm_kernels_select()};
    /* The table's own sgemm packs x into 64-token panels: with a panel or
       more per thread, splitting tokens makes each task pack only its own
       (split rows, every task would pack all of x); both read all of W
       once per panel either way. OpenBLAS keeps the row split, one slice
       per thread (each call packs all of x again). */
    j.by_tokens = j.k->sgemm_nt && split_tokens(n, n_threads);
    int slices = (rows + row_grain - 1) / row_grain;
    j.tasks = j.by_tokens ? slm_task_count(n, sgemm_panel, n_threads)
                          : slices < n_threads ? slices : n_threads;
    /* slm owns the threading: each task runs a single-threaded sgemm on its
       slice (see blas.c) */
    slm_blas_single_threaded();
    slm_team_run(team, n_threads, j.tasks, product_task, &j);
    return atomic_load(&j.failed) ? -1 : 0;
}

int slm_matmul_f32(float *y, const float *x, const float *w, int n, int rows, int cols,
                   slm_team *team, int n_threads)
{
    return slm_matmul_f32_bias(y, x, w, NULL, SLM_ACT_NONE, n, rows, cols, team, n_threads);
}
