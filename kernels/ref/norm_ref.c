/* norm_ref.c — RMSNorm (see kernels.h). */
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
