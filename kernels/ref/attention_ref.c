/*
 * attention_ref.c — one query head over the KV cache with an online softmax:
 * a running max m and normaliser l let each key be visited once, rescaling
 * the accumulated output when the max grows (no T-sized score buffer).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

void slm_attention_head(float *out, const float *q, const float *k, const float *v, int n_pos,
                        int head_dim, size_t stride, float scale)
{
    float m = -INFINITY, l = 0.0f;
    for (int d = 0; d < head_dim; d++)
        out[d] = 0.0f;
    for (int t = 0; t < n_pos; t++) {
        const float *kt = k + (size_t)t * stride;
        const float *vt = v + (size_t)t * stride;
        float s = 0.0f;
        for (int d = 0; d < head_dim; d++)
            s += q[d] * kt[d];
        s *= scale;
        if (s > m) { /* new max: rescale what was accumulated so far */
            float c = expf(m - s);
            l *= c;
            for (int d = 0; d < head_dim; d++)
                out[d] *= c;
            m = s;
        }
        float p = expf(s - m);
        l += p;
        for (int d = 0; d < head_dim; d++)
            out[d] += p * vt[d];
    }
    if (l > 0.0f)
        for (int d = 0; d < head_dim; d++)
            out[d] /= l;
}

/* ============================================================ typed KV cache */

/* Position t of a view decoded to f32 (the reference path; SIMD versions
   fuse the conversion into the dot and axpy). */
static void load_row(const slm_kv_view *kv, int t, int d, float *out)
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

void slm_attention_head_kv(float *out, const float *q, const slm_kv_view *k,
                           const slm_kv_view *v, int n_pos, int head_dim, float scale)
{
    float krow[512], vrow[512]; /* head_dim <= 512 is checked at model load */
    float m = -INFINITY, l = 0.0f;
    for (int d = 0; d < head_dim; d++)
        out[d] = 0.0f;
    for (int t = 0; t < n_pos; t++) {
        load_row(k, t, head_dim, krow);
        float s = 0.0f;
        for (int d = 0; d < head_dim; d++)
            s += q[d] * krow[d];
        s *= scale;
        if (s > m) {
            float c = expf(m - s);
            l *= c;
            for (int d = 0; d < head_dim; d++)
                out[d] *= c;
            m = s;
        }
        float p = expf(s - m);
        l += p;
        load_row(v, t, head_dim, vrow);
        for (int d = 0; d < head_dim; d++)
            out[d] += p * vrow[d];
    }
    if (l > 0.0f)
        for (int d = 0; d < head_dim; d++)
            out[d] /= l;
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
