/*
 * matmul.c — f32 products: a threaded matrix-vector kernel for one token
 * (decode is bound by reading W once, so rows are split across threads) and
 * OpenBLAS sgemm for batches (prompt processing is compute bound).
 */
#include <cblas.h>

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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, rows, cols, 1.0f, x, cols, w, cols,
                0.0f, y, rows);
}
