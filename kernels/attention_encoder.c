/*
 * attention_encoder.c — bidirectional attention of whole sequences at once
 * (encoders such as DistilBERT), as two products per head and sequence:
 *   S = scale · Q·Kᵀ (T x T),  P = softmax of each row of S,  O = P·V.
 * With every query known up front this is matrix work for sgemm, where one
 * online-softmax pass per query (slm_attention_head, the decoder's kernel
 * and this one's reference in the tests) re-reads all keys and values per
 * token. The (sequence, head) pairs are spread over the thread team (team.h), each
 * worker with its own T x T score buffer and a single-threaded sgemm: the
 * kernel table's sgemm_nt and sgemm_ab where it has them (as
 * slm_matmul_f32_bias, so the speed does not hang on OPENBLAS_CORETYPE;
 * sgemm_ab reads V in place for O = P·V), else OpenBLAS's.
 */
#include <cblas.h>
#include <stdatomic.h>
#include <stdlib.h>

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
   apart, scores holds T x T. Returns 0, or -1 without memory. */
static int head_attention(float *out, const float *q, const float *k, const float *v, int T,
                          int d, int ld, float scale, float *scores, const slm_kernel_table *kt)
{
    if (!kt->sgemm_nt || !kt->sgemm_ab) {
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
    kt->sgemm_ab(out, (size_t)ld, scores, (size_t)T, 1, v, (size_t)ld, T, d, T, 0);
    return 0;
}

typedef struct {
    float *out;
    const float *q, *k, *v;
    const int *offsets, *lengths;
    int n_heads, head_dim, ld;
    float scale;
    const slm_kernel_table *kt;
    float **scores; /* per worker */
    atomic_int failed;
} encoder_job;

/* Task i: head i % n_heads of sequence i / n_heads. */
static void head_task(void *ctx, int i, int worker)
{
    encoder_job *j = ctx;
    int b = i / j->n_heads, h = i % j->n_heads;
    size_t at = (size_t)j->offsets[b] * j->ld + (size_t)h * j->head_dim;
    if (head_attention(j->out + at, j->q + at, j->k + at, j->v + at, j->lengths[b], j->head_dim,
                       j->ld, j->scale, j->scores[worker], j->kt) != 0)
        atomic_store_explicit(&j->failed, 1, memory_order_relaxed);
}

int slm_attention_encoder(float *out, const float *q, const float *k, const float *v,
                          const int *offsets, const int *lengths, int batch, int n_heads,
                          int head_dim, float scale, slm_team *team, int n_threads)
{
    int max_len = 0;
    for (int b = 0; b < batch; b++)
        max_len = lengths[b] > max_len ? lengths[b] : max_len;
    int tasks = batch * n_heads, nt = n_threads < 1 ? 1 : n_threads;
    if (nt > SLM_TEAM_MAX_THREADS)
        nt = SLM_TEAM_MAX_THREADS;
    if (tasks < 1)
        return 0;
    encoder_job j = {.out = out, .q = q, .k = k, .v = v, .offsets = offsets, .lengths = lengths,
                     .n_heads = n_heads, .head_dim = head_dim, .ld = n_heads * head_dim,
                     .scale = scale, .kt = slm_kernels_select()};
    float *scores[SLM_TEAM_MAX_THREADS] = {0};
    int ok = 1;
    for (int w = 0; w < nt; w++) {
        scores[w] = malloc((size_t)max_len * max_len * sizeof(float) + 1);
        ok &= scores[w] != NULL;
    }
    j.scores = scores;
    slm_blas_single_threaded(); /* the team below owns the cores (once per process) */
    if (ok)
        slm_team_run(team, nt, tasks, head_task, &j);
    for (int w = 0; w < nt; w++)
        free(scores[w]);
    return ok && !atomic_load(&j.failed) ? 0 : -1;
}
