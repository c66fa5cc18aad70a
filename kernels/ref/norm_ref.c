/* norm_ref.c — RMSNorm, LayerNorm and the residual LayerNorm of encoders (see kernels.h). */
#include <math.h>

#include "kernels.h"

void slm_rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    /* Accumulate in double: for wide hidden sizes the f32 sum of squares
       drifts. Eight partial sums let the compiler vectorise it (one chain
       would have to stay in order without -ffast-math). */
    double part[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            part[j] += (double)x[i + j] * x[i + j];
    double ss = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    for (; i < n; i++)
        ss += (double)x[i] * x[i];
    float inv = (float)(1.0 / sqrt(ss / n + eps));
    for (i = 0; i < n; i++)
        out[i] = w[i] * (x[i] * inv);
}

void slm_layernorm(float *out, const float *x, const float *w, const float *b, int n, float eps)
{
    /* two passes in double: mean first, then the variance around it, so large
       offsets do not cancel catastrophically */
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < n; i++)
        mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    float inv = (float)(1.0 / sqrt(var / n + eps));
    float m = (float)mean;
    for (int i = 0; i < n; i++)
        out[i] = (x[i] - m) * inv * w[i] + b[i];
}

/* Σ (x - m)², eight partial sums as slm_row_sum (reduce_ref.c). */
static float sum_sq_dev8(const float *x, float m, int n)
{
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += (x[i + j] - m) * (x[i + j] - m);
    float acc = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++)
        acc += (x[i] - m) * (x[i] - m);
    return acc;
}

void slm_add_layernorm(float *x, const float *y, const float *bias, const float *w,
                       const float *b, int n, float eps)
{
    for (int i = 0; i < n; i++)
        x[i] += y[i] + bias[i];
    /* mean first, then the spread around it (no E[x²] - E[x]² cancellation) */
    float m = slm_row_sum(x, n) / (float)n;
    float inv = 1.0f / sqrtf(sum_sq_dev8(x, m, n) / (float)n + eps);
    for (int i = 0; i < n; i++)
        x[i] = (x[i] - m) * inv * w[i] + b[i];
}
