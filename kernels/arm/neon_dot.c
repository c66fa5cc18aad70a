/*
 * neon_dot.c — the AArch64 AdvSIMD kernel table (see dispatch.h). Compiled
 * only on aarch64 (CMake leaves kernels/arm out elsewhere).
 *
 * Kept simple and obviously correct rather than tuned: row dots with four
 * accumulators, quantized blocks summed exactly in integers (vdotq_s32 when
 * the build targets the dotprod extension, else widening multiplies:
 * |w·x| <= 128·127, so two products fit an int16 lane), prompt batches as
 * loops of row dots, and the scalar table's activation quantizer (which the
 * other tables must match bit for bit anyway).
 */
#ifndef SLM_NEON_EMULATED /* the tests may compile this file over SIMDe's NEON */
#include <arm_neon.h>
#endif
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
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = vfmaq_f32(a0, vld1q_f32(w + i), vld1q_f32(x + i));
        a1 = vfmaq_f32(a1, vld1q_f32(w + i + 4), vld1q_f32(x + i + 4));
        a2 = vfmaq_f32(a2, vld1q_f32(w + i + 8), vld1q_f32(x + i + 8));
        a3 = vfmaq_f32(a3, vld1q_f32(w + i + 12), vld1q_f32(x + i + 12));
    }
    float acc = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; i < n; i++)
        acc += w[i] * x[i];
    return acc;
}

static float32x4_t load_f16x4(const uint16_t *w)
{
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w)));
}

static float32x4_t load_bf16x4(const uint16_t *w)
{
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(w), 16));
}

static float dot_f16(const uint16_t *w, const float *x, int n)
{
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = vfmaq_f32(a0, load_f16x4(w + i), vld1q_f32(x + i));
        a1 = vfmaq_f32(a1, load_f16x4(w + i + 4), vld1q_f32(x + i + 4));
    }
    float acc = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++)
        acc += slm_f16_to_f32(w[i]) * x[i];
    return acc;
}

static float dot_bf16(const uint16_t *w, const float *x, int n)
{
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = vfmaq_f32(a0, load_bf16x4(w + i), vld1q_f32(x + i));
        a1 = vfmaq_f32(a1, load_bf16x4(w + i + 4), vld1q_f32(x + i + 4));
    }
    float acc = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++)
        acc += slm_bf16_to_f32(w[i]) * x[i];
    return acc;
}

/* Four int32 partial sums of the 32 products w·x of one block. */
static int32x4_t block_dot(int8x16_t w0, int8x16_t w1, const int8_t *q)
{
    int8x16_t x0 = vld1q_s8(q), x1 = vld1q_s8(q + 16);
#ifdef __ARM_FEATURE_DOTPROD
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1);
#else
    int16x8_t p0 = vmull_s8(vget_low_s8(w0), vget_low_s8(x0));
    p0 = vmlal_high_s8(p0, w0, x0);
    int16x8_t p1 = vmull_s8(vget_low_s8(w1), vget_low_s8(x1));
    p1 = vmlal_high_s8(p1, w1, x1);
    return vaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1));
#endif
}

static float dot_q8_0(const void *w, const void *xq, int n)
{
    const uint8_t *p = w;
    const slm_act_q8 *a = xq;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int b = 0; b < n / SLM_QBLOCK; b++, p += SLM_Q8_0_BYTES, a++) {
        int32x4_t s = block_dot(vld1q_s8((const int8_t *)(p + 2)),
                                vld1q_s8((const int8_t *)(p + 18)), a->q);
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), f16_at(p) * a->d);
    }
    return vaddvq_f32(acc);
}

static float dot_q4_0(const void *w, const void *xq, int n)
{
    const uint8_t *p = w;
    const slm_act_q8 *a = xq;
    float32x4_t acc = vdupq_n_f32(0.0f);
    const int8x16_t eight = vdupq_n_s8(8);
    for (int b = 0; b < n / SLM_QBLOCK; b++, p += SLM_Q4_0_BYTES, a++) {
        uint8x16_t raw = vld1q_u8(p + 2);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(15))), eight);
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), eight);
        int32x4_t s = block_dot(lo, hi, a->q);
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), f16_at(p) * a->d);
    }
    return vaddvq_f32(acc);
}

static void f16_to_f32(const uint16_t *src, float *dst, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, load_f16x4(src + i));
    for (; i < n; i++)
        dst[i] = slm_f16_to_f32(src[i]);
}

static void bf16_to_f32(const uint16_t *src, float *dst, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, load_bf16x4(src + i));
    for (; i < n; i++)
        dst[i] = slm_bf16_to_f32(src[i]);
}

static void quantize_act_q8(const float *x, void *xq, int n)
{
    slm_kernels_scalar.quantize_act_q8(x, xq, n);
}

/* Decode and prompt batches: loops of row dots (correct, not tiled), so every
   output element is its row dot whatever the batch (dispatch.h's batch
   invariance holds by construction). */
#define GEMM_OF(name, dot, wt, xt)                                                          \
    static void name(float *y, size_t ldy, const void *w, size_t ws, const void *x,         \
                     size_t xs, int nr, int nt, int k)                                      \
    {                                                                                       \
        for (int t = 0; t < nt; t++)                                                        \
            for (int r = 0; r < nr; r++)                                                    \
                y[t * ldy + r] = dot((wt)((const uint8_t *)w + r * ws),                     \
                                     (xt)((const uint8_t *)x + t * xs), k);                 \
    }
GEMM_OF(gemm_f32, dot_f32, const float *, const float *)
GEMM_OF(gemm_f16, dot_f16, const uint16_t *, const float *)
GEMM_OF(gemm_bf16, dot_bf16, const uint16_t *, const float *)
GEMM_OF(gemm_q8_0, dot_q8_0, const void *, const void *)
GEMM_OF(gemm_q4_0, dot_q4_0, const void *, const void *)

static const slm_kernel_table table = {
    .isa = SLM_ISA_NEON,
    .name = "neon",
    .dot_f32 = dot_f32,
    .dot_f16 = dot_f16,
    .dot_bf16 = dot_bf16,
    .dot_q8_0 = dot_q8_0,
    .dot_q4_0 = dot_q4_0,
    .quantize_act_q8 = quantize_act_q8,
    .f16_to_f32 = f16_to_f32,
    .bf16_to_f32 = bf16_to_f32,
    .gemm_f32 = gemm_f32,
    .gemm_f16 = gemm_f16,
    .gemm_bf16 = gemm_bf16,
    .gemm_q8_0 = gemm_q8_0,
    .gemm_q4_0 = gemm_q4_0,
    /* no NEON x8 products yet: the scalar ones keep the table complete, and
       prefers_x8 = 0 keeps the loader from packing for this table */
    .gemm_q8_0x8 = slm_gemm_q8_0x8_ref,
    .gemm_q4_0x8 = slm_gemm_q4_0x8_ref,
    .gemm_f32x16 = slm_gemm_f32x16_ref, /* x16 floats: not preferred here */
    .gemm_f16x16 = slm_gemm_f16x16_ref,
    .gemm_bf16x16 = slm_gemm_bf16x16_ref,
    .prefers_x8 = 0,
};

const slm_kernel_table *slm_kernels_neon(void) { return &table; }
