/*
 * matmul.c — f32 products: a threaded matrix-vector kernel for one token
 * (decode is bound by reading W once, so rows are split across threads) and
 * OpenBLAS sgemm for batches (prompt processing is compute bound).
 */
#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

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

void slm_matmul_f32(float *y, const float *x, const float *w, int n, int rows, int cols,
                    int n_threads)
{
    if (n_threads < 1)
        n_threads = 1;
    if (n == 1) {
        matvec_f32(y, x, w, rows, cols, n_threads);
        return;
    }
    /* slm owns the threading: each OpenMP thread runs a single-threaded
       sgemm on its slice of W's rows. Letting OpenBLAS start its own pool
       beside ours made the two fight for the cores (most time went to
       sched_yield); the setting is idempotent and cheap. */
    openblas_set_num_threads(1);
#pragma omp parallel num_threads(n_threads) if (n_threads > 1)
    {
        int team = 1, tid = 0;
#ifdef _OPENMP
        team = omp_get_num_threads();
        tid = omp_get_thread_num();
#endif
        /* slices in multiples of 16 rows keep the kernel's tiles whole */
        int per = ((rows + team - 1) / team + 15) / 16 * 16;
        int r0 = tid * per, r1 = r0 + per < rows ? r0 + per : rows;
        if (r0 < r1)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, r1 - r0, cols, 1.0f, x, cols,
                        w + (size_t)r0 * cols, cols, 0.0f, y + r0, rows);
    }
}
