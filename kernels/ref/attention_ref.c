/*
 * attention_ref.c — one query head over the KV cache with an online softmax:
 * a running max m and normaliser l let each key be visited once, rescaling
 * the accumulated output when the max grows (no T-sized score buffer).
 */
#include <math.h>

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
