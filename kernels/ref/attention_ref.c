/*
 * attention_ref.c — one query head over the KV cache with an online softmax:
 * a running max m and normaliser l let each key be visited once, rescaling
 * the accumulated output when the max grows (no T-sized score buffer).
 * Plain C written so the compiler vectorises the dot products and the
 * weighted sums; f32 caches are read in place, f16/q8 rows decoded first.
 * This is also the scalar reference of the ISA versions, which reproduce its
 * arithmetic exactly (slm_attention_head_kv_with, attention_head.c).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

/* ============================================================ typed KV cache */

void slm_kv_row_f32(const slm_kv_view *kv, int t, int d, float *out)
{
    const unsigned char *row = (const unsigned char *)kv->data + (size_t)t * kv->stride;
    switch (kv->type) {
    case SLM_KV_ELEM_F32:
        for (int i = 0; i < d; i++)
            out[i] = ((const float *)row)[i];
        break;
    case SLM_KV_ELEM_F16:
        slm_convert_to_f32(out, row, SLM_DTYPE_F16, (size_t)d);
        break;
    case SLM_KV_ELEM_Q8: {
        float sc = kv->scale[(size_t)t * kv->scale_stride];
        for (int i = 0; i < d; i++)
            out[i] = sc * (float)((const signed char *)row)[i];
        break;
    }
    }
}

/* q·k with eight partial sums, so the compiler vectorises it without
   -ffast-math (the same idea as the f32 matrix-vector kernel). */
static float dot8(const float *a, const float *b, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += a[i + j] * b[i + j];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* A position's row as f32: in place for an f32 cache, else decoded into buf. */
static const float *row_f32(const slm_kv_view *kv, int t, int d, float *buf)
{
    if (kv->type == SLM_KV_ELEM_F32)
        return (const float *)((const char *)kv->data + (size_t)t * kv->stride);
    slm_kv_row_f32(kv, t, d, buf);
    return buf;
}

/* Keys in blocks of SLM_ATT_BLOCK: the block's scores first, then one
 * max/rescale and the weighted sum of its values (fewer rescales than one
 * per key, and the exponentials vectorise). The arithmetic, which the ISA
 * versions (kernels/x86/avx2_attention.c) repeat bit for bit:
 *   s_j  = dot8(q, k_j) · scale            (8 lanes, the tree of dot8)
 *   bmax = max_j s_j; if bmax > m: c = expf(m - bmax), l *= c, out *= c, m = bmax
 *   p_j  = slm_exp_shifted(s_j, m)
 *   then per key j in order: l += p_j, out[i] += p_j · v_j[i] (a product, then a sum)
 *   finally out[i] /= l (when l > 0). */
void slm_attention_head_kv(float *out, const float *q, const slm_kv_view *k,
                           const slm_kv_view *v, int n_pos, int d, float scale)
{
    float m = -INFINITY, l = 0.0f, sc[SLM_ATT_BLOCK];
    float buf[512]; /* head_dim <= 512 is checked at model load */
    for (int i = 0; i < d; i++)
        out[i] = 0.0f;
    for (int t0 = 0; t0 < n_pos; t0 += SLM_ATT_BLOCK) {
        int nb = n_pos - t0 < SLM_ATT_BLOCK ? n_pos - t0 : SLM_ATT_BLOCK;
        float bmax = -INFINITY;
        for (int j = 0; j < nb; j++) {
            sc[j] = dot8(q, row_f32(k, t0 + j, d, buf), d) * scale;
            bmax = sc[j] > bmax ? sc[j] : bmax;
        }
        if (bmax > m) { /* new max: rescale what was accumulated so far */
            float c = expf(m - bmax);
            l *= c;
            for (int i = 0; i < d; i++)
                out[i] *= c;
            m = bmax;
        }
        slm_exp_shifted(sc, nb, m);
        for (int j = 0; j < nb; j++) {
            const float *vt = row_f32(v, t0 + j, d, buf);
            l += sc[j];
            for (int i = 0; i < d; i++)
                out[i] += sc[j] * vt[i];
        }
    }
    if (l > 0.0f)
        for (int i = 0; i < d; i++)
            out[i] /= l;
}

void slm_kv_encode(slm_kv_elem type, const float *x, void *dst, float *scale, int head_dim)
{
    switch (type) {
    case SLM_KV_ELEM_F32:
        for (int i = 0; i < head_dim; i++)
            ((float *)dst)[i] = x[i];
        break;
    case SLM_KV_ELEM_F16:
        for (int i = 0; i < head_dim; i++) {
            uint16_t h = slm_f32_to_f16(x[i]);
            memcpy((unsigned char *)dst + 2 * i, &h, 2);
        }
        break;
    case SLM_KV_ELEM_Q8: {
        float amax = 0.0f;
        for (int i = 0; i < head_dim; i++)
            amax = fmaxf(amax, fabsf(x[i]));
        float sc = amax / 127.0f, inv = sc > 0.0f ? 1.0f / sc : 0.0f;
        for (int i = 0; i < head_dim; i++)
            ((signed char *)dst)[i] = (signed char)lrintf(x[i] * inv);
        *scale = sc;
        break;
    }
    }
}

void slm_attention_head(float *out, const float *q, const float *k, const float *v, int n_pos,
                        int head_dim, size_t stride, float scale)
{
    slm_kv_view kv_k = {SLM_KV_ELEM_F32, k, stride * sizeof(float), NULL, 0};
    slm_kv_view kv_v = {SLM_KV_ELEM_F32, v, stride * sizeof(float), NULL, 0};
    slm_attention_head_kv(out, q, &kv_k, &kv_v, n_pos, head_dim, scale);
}
