/*
 * dot_ref.c — the scalar kernel table (slm_kernels_scalar, see dispatch.h):
 * the definition every ISA table is tested against, and the fallback on
 * CPUs without a SIMD table.
 *
 * Sums are plain and sequential. Quantized dots compute each block's integer
 * sum exactly and scale it once: acc += (d_w * d_x) * Σ w_q x_q, which is the
 * per-block value every ISA reproduces (only the order in which blocks are
 * added, and FMA contraction, may differ).
 */
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "dtype.h"
#include "weight.h"

static float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return slm_f16_to_f32(h);
}

static float dot_f32(const float *w, const float *x, int n)
{
    float acc = 0.0f;
    for (int i = 0; i < n; i++)
        acc += w[i] * x[i];
    return acc;
}

static float dot_f16(const uint16_t *w, const float *x, int n)
{
    float acc = 0.0f;
    for (int i = 0; i < n; i++)
        acc += slm_f16_to_f32(w[i]) * x[i];
    return acc;
}

static float dot_bf16(const uint16_t *w, const float *x, int n)
{
    float acc = 0.0f;
    for (int i = 0; i < n; i++)
        acc += slm_bf16_to_f32(w[i]) * x[i];
    return acc;
}

static float dot_q8_0(const void *w, const void *xq, int n)
{
    const uint8_t *p = w;
    const slm_act_q8 *a = xq;
    float acc = 0.0f;
    for (int b = 0; b < n / SLM_QBLOCK; b++, p += SLM_Q8_0_BYTES, a++) {
        const int8_t *q = (const int8_t *)(p + 2);
        int32_t s = 0;
        for (int i = 0; i < SLM_QBLOCK; i++)
            s += q[i] * a->q[i];
        acc += (f16_at(p) * a->d) * (float)s;
    }
    return acc;
}

static float dot_q4_0(const void *w, const void *xq, int n)
{
    const uint8_t *p = w;
    const slm_act_q8 *a = xq;
    float acc = 0.0f;
    for (int b = 0; b < n / SLM_QBLOCK; b++, p += SLM_Q4_0_BYTES, a++) {
        int32_t s = 0;
        for (int i = 0; i < SLM_QBLOCK / 2; i++) {
            s += ((p[2 + i] & 15) - 8) * a->q[i];
            s += ((p[2 + i] >> 4) - 8) * a->q[i + SLM_QBLOCK / 2];
        }
        acc += (f16_at(p) * a->d) * (float)s;
    }
    return acc;
}

/* d = amax / 127 and q = roundf(x * (127 / amax)): |x - d q| <= d/2 (+ an
   ulp-level term). Blocks with amax <= 1e-30 (where 127 / amax could
   overflow) quantize to zero. Every ISA's version matches this bit for bit. */
static void quantize_act_q8(const float *x, void *xq, int n)
{
    slm_act_q8 *a = xq;
    for (int b = 0; b < n / SLM_QBLOCK; b++, a++) {
        const float *v = x + b * SLM_QBLOCK;
        float amax = 0.0f;
        for (int i = 0; i < SLM_QBLOCK; i++)
            amax = fmaxf(amax, fabsf(v[i]));
        int live = amax > 1e-30f;
        float id = live ? 127.0f / amax : 0.0f;
        a->d = live ? amax / 127.0f : 0.0f;
        a->sum = 0;
        for (int i = 0; i < SLM_QBLOCK; i++) {
            a->q[i] = (int8_t)roundf(v[i] * id);
            a->sum += a->q[i];
        }
    }
}

/* Tiles are just dots here: the scalar table is the definition, not fast. */
static void gemm_f16(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                     int nr, int nt, int k)
{
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++)
            y[t * ldy + r] = dot_f16((const uint16_t *)((const uint8_t *)w + r * ws),
                                     (const float *)((const uint8_t *)x + t * xs), k);
}

static void gemm_bf16(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                      int nr, int nt, int k)
{
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++)
            y[t * ldy + r] = dot_bf16((const uint16_t *)((const uint8_t *)w + r * ws),
                                      (const float *)((const uint8_t *)x + t * xs), k);
}

static void gemm_q8_0(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                      int nr, int nt, int k)
{
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++)
            y[t * ldy + r] =
                dot_q8_0((const uint8_t *)w + r * ws, (const uint8_t *)x + t * xs, k);
}

static void gemm_q4_0(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                      int nr, int nt, int k)
{
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++)
            y[t * ldy + r] =
                dot_q4_0((const uint8_t *)w + r * ws, (const uint8_t *)x + t * xs, k);
}

const slm_kernel_table slm_kernels_scalar = {
    .isa = SLM_ISA_SCALAR,
    .name = "scalar",
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .dot_bf16 = dot_bf16,
    .dot_q8_0 = dot_q8_0,
    .dot_q4_0 = dot_q4_0,
    .quantize_act_q8 = quantize_act_q8,
    .gemm_f16 = gemm_f16,
    .gemm_bf16 = gemm_bf16,
    .gemm_q8_0 = gemm_q8_0,
    .gemm_q4_0 = gemm_q4_0,
};
