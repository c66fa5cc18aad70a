/*
 * attention_causal.c — causal attention of a block of prompt tokens over the
 * KV cache, as sgemm tiles (prompt processing; decode keeps the per-head
 * online softmax of attention_ref.c).
 *
 * One call covers the query rows that share one KV head: nt consecutive
 * tokens x the nh heads of its GQA group, R = nt·nh rows. Every key block is
 * then read once for all R rows, and every quantity is kept transposed (a
 * row per key or per element, the R query rows along it):
 *   Sᵀ = K_block · (scale·Q)ᵀ          product, nk x R
 *   mask, online softmax per row        running max m and sum l (FlashAttention's
 *                                       rescaling: O and l shrink by e^(m_old - m_new)),
 *                                       each step a loop across the R rows
 *   Oᵀ += V_blockᵀ · Pᵀ                 product, d x R
 * and out = O / l at the end. Both products take K and V as the cache holds
 * them (broadcast operands) and Qᵀ, made once per call, or Pᵀ, as it
 * stands, as the vector operand: nothing is packed or transposed per key
 * block. Instead of one dot and one axpy per key for every query row, each
 * key feeds R rows through register tiles: the kernel table's own sgemm_ab
 * where it has one (as the encoder's attention: the speed does not hang on
 * OPENBLAS_CORETYPE, and a 64 x 64 x 64 product is too small for OpenBLAS's
 * call and packing costs), else BLAS's sgemm.
 * f32 caches are read in place; f16/q8 key blocks are decoded to f32 first.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "kernels.h"
#include "vmath.h"

#define KEY_BLOCK 64

size_t slm_attention_causal_scratch(int nh, int nt, int d)
{
    size_t R = (size_t)nh * nt;
    /* Qᵀ and Oᵀ, Sᵀ, m, l, the rescale factors, each row's first and last
       visible key (ints), K and V blocks */
    return 2 * (size_t)d * R + KEY_BLOCK * R + 5 * R + 2 * (size_t)KEY_BLOCK * d;
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

/* The softmax steps below run across the R query rows of one key (a row
   of Sᵀ), so every loop is over contiguous floats: each is a function of
   its own, branch-free, which gcc vectorises (inlined into the block loop
   it stopped, as slm_exp_shifted notes). */

/* bm[r] = the largest score of row r among the block's keys it sees
   (lo[r] <= key <= hi[r]), -inf when it sees none. */
static void block_max(float *bm, const float *St, int nk, int k0, int R, const int *lo,
                      const int *hi)
{
    for (int r = 0; r < R; r++)
        bm[r] = -INFINITY;
    for (int j = 0; j < nk; j++) {
        const float *s = St + (size_t)j * R;
        int key = k0 + j;
        for (int r = 0; r < R; r++) {
            int seen = (key >= lo[r]) & (key <= hi[r]);
            bm[r] = seen && s[r] > bm[r] ? s[r] : bm[r];
        }
    }
}

/* c[r] holds row r's block max on entry and its rescale factor on return:
   where the block max is larger the running max grows to it and the factor
   is e^(m_old - m_new) (0 from -inf: nothing seen before), else 1; l
   shrinks by it. Returns whether any row's max grew. */
static int new_max(float *c, float *m, float *l, int R)
{
    int grew = 0;
    for (int r = 0; r < R; r++) {
        float b = c[r];
        c[r] = 1.0f;
        if (b > m[r]) {
            c[r] = expf(m[r] - b);
            m[r] = b;
            l[r] *= c[r];
            grew = 1;
        }
    }
    return grew;
}

/* Oᵀ's columns (rows r) times c[r]. */
static void rescale(float *Ot, const float *c, int R, int d)
{
    for (int i = 0; i < d; i++) {
        float *o = Ot + (size_t)i * R;
        for (int r = 0; r < R; r++)
            o[r] *= c[r];
    }
}

/* Sᵀ's scores become e^(s - m[r]) where row r sees the key, exactly 0
   where it does not; l[r] gains them. */
static void exp_block(float *St, int nk, int k0, int R, const int *lo, const int *hi,
                      const float *m, float *l)
{
    for (int j = 0; j < nk; j++) {
        float *s = St + (size_t)j * R;
        int key = k0 + j;
        for (int r = 0; r < R; r++) {
            int seen = (key >= lo[r]) & (key <= hi[r]);
            float p = slm_vexpf(s[r] - m[r]);
            s[r] = seen ? p : 0.0f;
            l[r] += s[r];
        }
    }
}

/* y (m x n, row stride n) (+)= A · B with A[r][i] = a[r·a_rs + i·a_ks]
   and B k x n (row stride n): the table's own product where it has one,
   else BLAS (A as stored or transposed, whichever its strides say). */
static void product(const slm_kernel_table *kt, float *y, const float *a, size_t a_rs,
                    size_t a_ks, const float *b, int m, int n, int k, int accumulate)
{
    if (kt && kt->sgemm_ab) {
        kt->sgemm_ab(y, (size_t)n, a, a_rs, a_ks, b, (size_t)n, m, n, k, accumulate);
        return;
    }
    int trans = a_rs == 1 && a_ks != 1;
    cblas_sgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a,
                (int)(trans ? a_ks : a_rs), b, n, accumulate ? 1.0f : 0.0f, y, n);
}

void slm_attention_causal(const slm_kernel_table *kt, float *out, const float *q,
                          size_t q_stride, int nh, int nt, int pos0, int window,
                          const slm_kv_view *k, const slm_kv_view *v, int d, float scale,
                          float *scratch)
{
    int R = nh * nt;
    float *Qt = scratch, *Ot = Qt + (size_t)d * R, *St = Ot + (size_t)d * R;
    float *m = St + (size_t)KEY_BLOCK * R, *l = m + R, *c = l + R;
    int *lo = (int *)(c + R), *hi = lo + R;
    float *kbuf = (float *)(hi + R), *vbuf = kbuf + (size_t)KEY_BLOCK * d;
    /* row r = token r / nh, head r % nh; Qᵀ[i][r] its scaled element i */
    for (int r = 0; r < R; r++) {
        const float *src = q + (size_t)(r / nh) * q_stride + (size_t)(r % nh) * d;
        for (int i = 0; i < d; i++)
            Qt[(size_t)i * R + r] = src[i] * scale;
        int p = pos0 + r / nh; /* the row's position: keys lo .. p */
        hi[r] = p;
        lo[r] = window > 0 && p + 1 > window ? p + 1 - window : 0;
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }
    memset(Ot, 0, sizeof(float) * (size_t)d * R);
    int last = pos0 + nt - 1; /* keys lo[0] (the first row's) .. last are seen by some row */
    for (int k0 = lo[0]; k0 <= last; k0 += KEY_BLOCK) {
        int nk = last + 1 - k0 < KEY_BLOCK ? last + 1 - k0 : KEY_BLOCK, ldk, ldv;
        const float *K = f32_rows(k, k0, nk, d, kbuf, &ldk);
        const float *V = f32_rows(v, k0, nk, d, vbuf, &ldv);
        product(kt, St, K, (size_t)ldk, 1, Qt, nk, R, d, 0);   /* Sᵀ = K · Qᵀ */
        block_max(c, St, nk, k0, R, lo, hi);
        if (new_max(c, m, l, R))
            rescale(Ot, c, R, d);
        exp_block(St, nk, k0, R, lo, hi, m, l);
        product(kt, Ot, V, 1, (size_t)ldv, St, d, R, nk, 1);   /* Oᵀ += Vᵀ · Pᵀ */
    }
    for (int r = 0; r < R; r++) {
        float *dst = out + (size_t)(r / nh) * q_stride + (size_t)(r % nh) * d;
        float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        for (int i = 0; i < d; i++)
            dst[i] = Ot[(size_t)i * R + r] * inv;
    }
}
