/* activation_ref.c — SiLU-gated product, GELU, ReLU, bias, softmax (see kernels.h). */
#include <math.h>

#include "kernels.h"
#include "vmath.h"

/* Where the build targets AVX-512, GCC's tuning for those CPUs still picks
   256-bit vectors for a loop; these (an exp, and for GELU and SiLU a
   division, per element) run up to ~2x faster on 512-bit ones, the same
   values lane by lane. */
#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#define WIDE_VECTORS __attribute__((target("prefer-vector-width=512")))
#else
#define WIDE_VECTORS
#endif

/* slm_vexpf (vmath.h) instead of expf: the loop vectorises. For g < -88 the
   clamped e^-g makes silu(g) = g / 1.65e38 instead of about g·e^g: both are
   0 to within 1e-35 for any |g| < 1e3. */
WIDE_VECTORS void slm_silu_mul(float *gate, const float *up, int n)
{
    for (int i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + slm_vexpf(-g)) * up[i];
    }
}

/* A function of its own (not inlined into the attention loops): inlined into
   a caller whose shift lives in memory, gcc 12 stops vectorising it
   ("control flow in loop"). */
WIDE_VECTORS void slm_exp_shifted(float *x, int n, float shift)
{
    for (int i = 0; i < n; i++)
        x[i] = slm_vexpf(x[i] - shift);
}

void slm_softmax(float *x, int n)
{
    float max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > max)
            max = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++)
        x[i] /= sum;
}

/* gelu(x) = x·Φ(x) with Φ(x) = 1 - Φ(-x), so gelu(x) = max(x, 0) - |x|·Φ(-|x|)
   and Φ(-|x|) = erfc(|x|/√2)/2, the tail: the negative side's tiny values
   stay accurate (1 + erf(x) cancels there), and there is no branch, so the
   loop vectorises (erff was a scalar libm call per element). Written with
   a max rather than a select on the sign: GCC does not if-convert the
   latter under the default -ftrapping-math. */
static inline float gelu1(float x)
{
    float a = fabsf(x);
    float tail = a * (0.5f * slm_verfc_pos(a * 0.70710678118654752f));
    return (x > 0.0f ? x : 0.0f) - tail;
}


WIDE_VECTORS void slm_gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = gelu1(x[i]);
}

WIDE_VECTORS void slm_bias_gelu(float *x, const float *bias, int n, int cols)
{
    for (int t = 0; t < n; t++) {
        float *row = x + (size_t)t * cols;
        for (int c = 0; c < cols; c++)
            row[c] = gelu1(row[c] + bias[c]);
    }
}

void slm_relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void slm_add_bias(float *x, const float *bias, int n, int cols)
{
    for (int t = 0; t < n; t++)
        for (int c = 0; c < cols; c++)
            x[(size_t)t * cols + c] += bias[c];
}
