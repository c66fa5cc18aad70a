/* norm_ref.c — RMSNorm and LayerNorm (see kernels.h). */
#include <math.h>

#include "kernels.h"

void slm_rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    /* Accumulate in double: for wide hidden sizes the f32 sum of squares
       drifts, and this is off the hot path's critical cost. */
    double ss = 0.0;
    for (int i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    float inv = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++)
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
