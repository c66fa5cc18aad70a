/*
 * attention_causal.c — causal attention of a block of prompt tokens over the
 * KV cache, as sgemm tiles (prompt processing; decode keeps the per-head
 * online softmax of attention_ref.c).
 *
 * One call covers the query rows that share one KV head: nt consecutive
 * tokens x the nh heads of its GQA group, R = nt·nh rows. Every key block is
 * then read once for all R rows:
 *   S = (scale·Q) · K_blockᵀ            sgemm, R x nk
 *   mask, online softmax per row        running max m and sum l (FlashAttention's
 *                                       rescaling: O and l shrink by e^(m_old - m_new))
 *   O += P · V_block                    sgemm, R x d
 * and out = O / l at the end. Instead of one dot and one axpy per key for
 * every query row, each key feeds R rows through register tiles: the kernel
 * table's own sgemm_nt and sgemm_nn where it has them (as the encoder's
 * attention: the speed does not hang on OPENBLAS_CORETYPE, and a 64 x 64 x
 * 64 product is too small for OpenBLAS's call and packing costs; sgemm_nn
 * takes the value block as stored), else BLAS's sgemm.
 * f32 caches are read in place; f16/q8 key blocks are decoded to f32 first.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "kernels.h"

#define KEY_BLOCK 64

size_t slm_attention_causal_scratch(int nh, int nt, int d)
{
    size_t R = (size_t)nh * nt;
    /* Q, O, S, m, l, K and V blocks */
    return 2 * R * d + R * KEY_BLOCK + 2 * R + 2 * (size_t)KEY_BLOCK * d;
}

/* Positions t0 .. t0+nk-1 of a view as f32 rows: in place for an f32 cache,
   else decoded into buf. *ld = floats between rows. */
static const float *f32_rows(const slm_kv_view *kv, int t0, int nk, int d, float *buf, int *ld)
{
    const char *row = (const char *)kv->data + (size_t)t0 * kv->stride;
    if (kv->type == SLM_KV_ELEM_F32) {
        *ld = (int)(kv->stride / sizeof(float));
        return (const float *)row;
    }
    for (int j = 0; j < nk; j++)
        slm_kv_row_f32(kv, t0 + j, d, buf + (size_t)j * d);
    *ld = d;
    return buf;
}

/* Scores of one row for keys k0 .. k0+nk-1, of which the row sees lo .. hi,
   become probabilities against the row's running max (unseen keys weigh
   exactly 0); O's row and l are rescaled when the max grows. */
static void softmax_block(float *s, int nk, int k0, int lo, int hi, float *m, float *l, float *o,
                          int d)
{
    int a = lo - k0 > 0 ? lo - k0 : 0, b = hi - k0 + 1 < nk ? hi - k0 + 1 : nk;
    if (a >= b) { /* nothing visible in this block */
        memset(s, 0, sizeof(float) * (size_t)nk);
        return;
    }
    float bmax = slm_row_max(s + a, b - a);
    if (bmax > *m) {
        float c = expf(*m - bmax); /* 0 on the first visible block */
        *l *= c;
        for (int i = 0; i < d; i++)
            o[i] *= c;
        *m = bmax;
    }
    slm_exp_shifted(s + a, b - a, *m);
    memset(s, 0, sizeof(float) * (size_t)a);
    memset(s + b, 0, sizeof(float) * (size_t)(nk - b));
    *l += slm_row_sum(s + a, b - a);
}

/* S (R x nk, row stride KEY_BLOCK) = Q · Kᵀ. The own sgemm allocates a
   32·d-float panel; when that fails, BLAS does the block. */
static void scores(const slm_kernel_table *kt, float *S, const float *Q, const float *K, int ldk,
                   int R, int nk, int d)
{
    if (kt && kt->sgemm_nt &&
        kt->sgemm_nt(S, KEY_BLOCK, Q, (size_t)d, K, (size_t)ldk, R, nk, d, NULL) == 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, nk, d, 1.0f, Q, d, K, ldk, 0.0f, S,
                KEY_BLOCK);
}

/* O (R x d) += P · V_block (P: R x nk in S, V: nk rows of d, stride ldv):
   the table's own row-major product where it has one (V as the cache holds
   it: no transpose, O accumulated in place), else BLAS. */
static void add_weighted_values(const slm_kernel_table *kt, float *O, const float *P,
                                const float *V, int ldv, int R, int nk, int d)
{
    if (kt && kt->sgemm_nn) {
        kt->sgemm_nn(O, (size_t)d, P, KEY_BLOCK, V, (size_t)ldv, R, d, nk, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, d, nk, 1.0f, P, KEY_BLOCK, V, ldv,
                1.0f, O, d);
}

void slm_attention_causal(const slm_kernel_table *kt, float *out, const float *q,
                          size_t q_stride, int nh, int nt, int pos0, int window,
                          const slm_kv_view *k, const slm_kv_view *v, int d, float scale,
                          float *scratch)
{
    int R = nh * nt;
    float *Q = scratch, *O = Q + (size_t)R * d, *S = O + (size_t)R * d;
    float *m = S + (size_t)R * KEY_BLOCK, *l = m + R, *kbuf = l + R;
    float *vbuf = kbuf + (size_t)KEY_BLOCK * d;
    /* row r = token r / nh, head r % nh */
    for (int r = 0; r < R; r++) {
        const float *src = q + (size_t)(r / nh) * q_stride + (size_t)(r % nh) * d;
        for (int i = 0; i < d; i++)
            Q[(size_t)r * d + i] = src[i] * scale;
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }
    memset(O, 0, sizeof(float) * (size_t)R * d);
    int last = pos0 + nt - 1;
    int first = window > 0 && pos0 + 1 > window ? pos0 + 1 - window : 0;
    for (int k0 = first; k0 <= last; k0 += KEY_BLOCK) {
        int nk = last + 1 - k0 < KEY_BLOCK ? last + 1 - k0 : KEY_BLOCK, ldk, ldv;
        const float *K = f32_rows(k, k0, nk, d, kbuf, &ldk);
        const float *V = f32_rows(v, k0, nk, d, vbuf, &ldv);
        scores(kt, S, Q, K, ldk, R, nk, d);
        for (int r = 0; r < R; r++) {
            int p = pos0 + r / nh; /* the row's position: keys lo .. p */
            int lo = window > 0 && p + 1 > window ? p + 1 - window : 0;
            softmax_block(S + (size_t)r * KEY_BLOCK, nk, k0, lo, p, &m[r], &l[r],
                          O + (size_t)r * d, d);
        }
        add_weighted_values(kt, O, S, V, ldv, R, nk, d);
    }
    for (int r = 0; r < R; r++) {
        float *dst = out + (size_t)(r / nh) * q_stride + (size_t)(r % nh) * d;
        float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        for (int i = 0; i < d; i++)
            dst[i] = O[(size_t)r * d + i] * inv;
    }
}
