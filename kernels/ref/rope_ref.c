/* rope_ref.c — rotary position embeddings, Hugging Face rotate_half layout. */
#include <math.h>

#include "kernels.h"

void slm_rope_angles(float *cos_out, float *sin_out, const float *inv_freq, int half, int pos,
                     float scale)
{
    for (int i = 0; i < half; i++) {
        /* f32 product as in transformers (position * inv_freq in float32) */
        float angle = (float)pos * inv_freq[i];
        cos_out[i] = cosf(angle) * scale;
        sin_out[i] = sinf(angle) * scale;
    }
}

void slm_rope_rotate_half(float *x, int n_heads, int head_dim, int rot_dim, const float *cos_t,
                          const float *sin_t)
{
    int half = rot_dim / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            float a = v[i], b = v[i + half];
            v[i] = a * cos_t[i] - b * sin_t[i];
            v[i + half] = b * cos_t[i] + a * sin_t[i];
        }
    }
}
