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
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "dispatch.h"
#include "kernels.h"

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

static void matvec_f32(float *y, const float *x, const float *w, int rows, int cols,
                       int n_threads)
{
#pragma omp parallel for num_threads(n_threads) schedule(static) if (rows >= 256)
    for (int r = 0; r < rows; r++)
        y[r] = dot_f32(w + (size_t)r * cols, x, cols);
}

/* Output columns [r0, r1) of thread tid of a team: slices in multiples of
   16 rows of W keep the sgemm kernel's tiles whole. */
static void thread_slice(int rows, int tid, int team, int *r0, int *r1)
{
    int per = ((rows + team - 1) / team + 15) / 16 * 16;
    *r0 = tid * per < rows ? tid * per : rows;
    *r1 = *r0 + per < rows ? *r0 + per : rows;
}

/* The own sgemm (avx512_sgemm.c) works in panels of 32 tokens. */
enum { sgemm_panel = 32 };

/* Tokens [t0, t1) of thread tid: whole panels, spread evenly. */
static void token_slice(int n, int tid, int team, int *t0, int *t1)
{
    int panels = (n + sgemm_panel - 1) / sgemm_panel;
    int p0 = (int)((long)tid * panels / team), p1 = (int)((long)(tid + 1) * panels / team);
    *t0 = p0 * sgemm_panel < n ? p0 * sgemm_panel : n;
    *t1 = p1 * sgemm_panel < n ? p1 * sgemm_panel : n;
}

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
    enum { chunk = 2 * sgemm_panel };
    for (int t = t0; t < t1; t += chunk) {
        int m = t1 - t < chunk ? t1 - t : chunk;
        if (slice_product(y + (size_t)t * rows, x + (size_t)t * cols, w, bias, act, m, rows, cols,
                          0, rows, k) != 0)
            return -1;
    }
    return 0;
}

int slm_matmul_f32_bias(float *y, const float *x, const float *w, const float *bias,
                        slm_act act, int n, int rows, int cols, int n_threads)
{
    if (n_threads < 1)
        n_threads = 1;
    if (n == 1) {
        matvec_f32(y, x, w, rows, cols, n_threads);
        if (bias)
            slm_add_bias(y, bias, 1, rows);
        if (act == SLM_ACT_GELU)
            slm_gelu(y, (size_t)rows);
        return 0;
    }
    const slm_kernel_table *k = slm_kernels_select();
    int failed = 0;
    /* The table's own sgemm packs x into 32-token panels: with a panel or
       more per thread, splitting tokens makes each thread pack only its own
       (split rows, every thread would pack all of x); both read all of W
       once per panel either way. OpenBLAS keeps the row split. */
    int by_tokens = k->sgemm_nt && split_tokens(n, n_threads);
    /* slm owns the threading: each OpenMP thread runs a single-threaded
       sgemm on its slice of W's rows (see blas.c) */
    slm_blas_single_threaded();
#pragma omp parallel num_threads(n_threads) if (n_threads > 1)
    {
        int team = 1, tid = 0;
#ifdef _OPENMP
        team = omp_get_num_threads();
        tid = omp_get_thread_num();
#endif
        int r0, r1, rc;
        if (by_tokens) {
            token_slice(n, tid, team, &r0, &r1);
            rc = token_chunks(y, x, w, bias, act, rows, cols, r0, r1, k);
        } else {
            thread_slice(rows, tid, team, &r0, &r1);
            rc = slice_product(y, x, w, bias, act, n, rows, cols, r0, r1, k);
        }
        if (rc != 0) {
#pragma omp atomic write
            failed = 1;
        }
    }
    return failed ? -1 : 0;
}

int slm_matmul_f32(float *y, const float *x, const float *w, int n, int rows, int cols,
                   int n_threads)
{
    return slm_matmul_f32_bias(y, x, w, NULL, SLM_ACT_NONE, n, rows, cols, n_threads);
}
