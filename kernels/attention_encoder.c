/*
 * attention_encoder.c — bidirectional attention of whole sequences at once
 * (encoders such as DistilBERT), as two products per head and sequence:
 *   S = scale · Q·Kᵀ (T x T),  P = softmax of each row of S,  O = P·V.
 * With every query known up front this is matrix work for sgemm, where one
 * online-softmax pass per query (slm_attention_head, the decoder's kernel
 * and this one's reference in the tests) re-reads all keys and values per
 * token. The (sequence, head) pairs are spread over the OpenMP team, each
 * thread with its own T x T score buffer and a single-threaded sgemm: the
 * kernel table's sgemm_nt where it has one (as slm_matmul_f32_bias, so the
 * speed does not hang on OPENBLAS_CORETYPE), with V transposed into a d x T
 * buffer for O = P·V, else OpenBLAS's.
 */
#include <cblas.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "dispatch.h"
#include "kernels.h"

/* Softmax of one row of scores, every step vectorised. */
static void softmax_row(float *x, int n)
{
    slm_exp_shifted(x, n, slm_row_max(x, n));
    float inv = 1.0f / slm_row_sum(x, n);
    for (int i = 0; i < n; i++)
        x[i] *= inv;
}

/* One head of one sequence of T tokens; rows of q, k, v, out are ld floats
   apart, scores holds T x T and vt d x T. Returns 0, or -1 without memory. */
static int head_attention(float *out, const float *q, const float *k, const float *v, int T,
                          int d, int ld, float scale, float *scores, float *vt,
                          const slm_kernel_table *kt)
{
    if (!kt->sgemm_nt) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, scale, q, ld, k, ld, 0.0f,
                    scores, T);
        for (int t = 0; t < T; t++)
            softmax_row(scores + (size_t)t * T, T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, 1.0f, scores, T, v, ld,
                    0.0f, out, ld);
        return 0;
    }
    if (kt->sgemm_nt(scores, (size_t)T, q, (size_t)ld, k, (size_t)ld, T, T, d, NULL) != 0)
        return -1;
    for (int t = 0; t < T; t++) {
        float *row = scores + (size_t)t * T;
        for (int s = 0; s < T; s++) /* sgemm's alpha: applied after the sum, as here */
            row[s] *= scale;
        softmax_row(row, T);
    }
    for (int s = 0; s < T; s++)
        for (int j = 0; j < d; j++)
            vt[(size_t)j * T + s] = v[(size_t)s * ld + j];
    return kt->sgemm_nt(out, (size_t)ld, scores, (size_t)T, vt, (size_t)T, T, d, T, NULL);
}

int slm_attention_encoder(float *out, const float *q, const float *k, const float *v,
                          const int *offsets, const int *lengths, int batch, int n_heads,
                          int head_dim, float scale, int n_threads)
{
    int max_len = 0;
    for (int b = 0; b < batch; b++)
        max_len = lengths[b] > max_len ? lengths[b] : max_len;
    int ld = n_heads * head_dim, tasks = batch * n_heads, failed = 0;
    if (n_threads < 1)
        n_threads = 1;
    const slm_kernel_table *kt = slm_kernels_select();
    slm_blas_single_threaded(); /* the team below owns the cores (once per process) */
#pragma omp parallel num_threads(n_threads) if (n_threads > 1 && tasks > 1)
    {
        float *scores = malloc((size_t)max_len * max_len * sizeof *scores);
        float *vt = malloc((size_t)max_len * head_dim * sizeof *vt + 1);
        if (!scores || !vt) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic)
        for (int i = 0; i < tasks; i++) {
            int b = i / n_heads, h = i % n_heads;
            size_t at = (size_t)offsets[b] * ld + (size_t)h * head_dim;
            if (scores && vt && head_attention(out + at, q + at, k + at, v + at, lengths[b],
                                               head_dim, ld, scale, scores, vt, kt) != 0) {
#pragma omp atomic write
                failed = 1;
            }
        }
        free(scores);
        free(vt);
    }
    return failed ? -1 : 0;
}
