/*
 * avx512_quant.c — f32 rows into Q8_0 / Q4_0 blocks (weights converted at
 * load time), 32 values in two zmm registers per block.
 *
 * Contract: the same bytes as quant.c's scalar quantizers, for every input
 * (NaN, infinities, zeros and subnormal blocks included; test_kernels_simd_
 * encode compares them). Per block:
 *   - amax = max |x| over the non-NaN elements and 0 (fmaxf's rule): vmaxps
 *     returns its second operand when the first is NaN, so max(|x|, 0)
 *     drops NaNs before the lane reduction (exact in any order);
 *   - the f16 scale from slm_quant_block_scale (quant.c: one scalar call per
 *     block, the rare next-f16-up case and zero blocks included);
 *   - v = x / d (IEEE division, as the scalar code), clamped to the quant
 *     range with NaN -> its low end (vmaxps again), then rounded half away
 *     from zero exactly: t = trunc(v), plus sign(v) when |v - t| >= 1/2
 *     (v - t is exact). Clamping before rounding equals rounding then
 *     clamping: the bounds are integers and rounding is monotone.
 *   - Q4_0's m (the first element of largest magnitude) is the first lane
 *     whose |x| equals amax.
 * Why: the scalar loop's data-dependent branches mispredict on weights;
 * quantizing TinyLlama-1.1B at load spent ~70% of a 10 s load there.
 */
#ifndef SLM_AVX512_EMULATED /* the tests may compile this file over SIMDe */
#include <immintrin.h>
#endif
#include <stdint.h>

#include "avx512_quant.h"
#include "weight.h"

#define INLINE static inline __attribute__((always_inline))

INLINE __m512 abs_ps(__m512 v) { return _mm512_abs_ps(v); }

/* max |x| over two vectors, NaNs dropped, at least 0 */
INLINE float block_amax(__m512 x0, __m512 x1)
{
    __m512 z = _mm512_setzero_ps();
    __m512 a = _mm512_max_ps(_mm512_max_ps(abs_ps(x0), z), _mm512_max_ps(abs_ps(x1), z));
    return _mm512_reduce_max_ps(a);
}

/* round half away from zero of v clamped to [lo, hi] (NaN -> lo), as int32 */
INLINE __m512i round_clamped(__m512 v, float lo, float hi)
{
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(lo)), _mm512_set1_ps(hi));
    __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512 f = abs_ps(_mm512_sub_ps(v, t));
    __mmask16 half = _mm512_cmp_ps_mask(f, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    __mmask16 pos = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
    __m512 step = _mm512_mask_blend_ps(pos, _mm512_set1_ps(-1.0f), _mm512_set1_ps(1.0f));
    t = _mm512_mask_add_ps(t, half, t, step);
    return _mm512_cvttps_epi32(t);
}

void slm_quantize_row_q8_0_avx512(const float *x, void *dst, int n)
{
    uint8_t *p = dst;
    for (int b = 0; b < n / SLM_QBLOCK; b++, x += SLM_QBLOCK, p += SLM_Q8_0_BYTES) {
        __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
        float d = slm_quant_block_scale(p, SLM_WEIGHT_Q8_0, block_amax(x0, x1), 0);
        if (d == 0.0f)
            continue;
        __m512 dv = _mm512_set1_ps(d);
        __m512i q0 = round_clamped(_mm512_div_ps(x0, dv), -127.0f, 127.0f);
        __m512i q1 = round_clamped(_mm512_div_ps(x1, dv), -127.0f, 127.0f);
        _mm_storeu_si128((__m128i *)(p + 2), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(p + 18), _mm512_cvtepi32_epi8(q1));
    }
}

void slm_quantize_row_q4_0_avx512(const float *x, void *dst, int n)
{
    uint8_t *p = dst;
    for (int b = 0; b < n / SLM_QBLOCK; b++, x += SLM_QBLOCK, p += SLM_Q4_0_BYTES) {
        __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
        float amax = block_amax(x0, x1), m = 0.0f;
        if (amax > 0.0f) { /* the first element of that magnitude */
            __m512 a = _mm512_set1_ps(amax);
            uint32_t hit = (uint32_t)_mm512_cmp_ps_mask(abs_ps(x0), a, _CMP_EQ_OQ) |
                           (uint32_t)_mm512_cmp_ps_mask(abs_ps(x1), a, _CMP_EQ_OQ) << 16;
            m = x[__builtin_ctz(hit)];
        }
        float d = slm_quant_block_scale(p, SLM_WEIGHT_Q4_0, amax, m > 0.0f);
        if (d == 0.0f)
            continue;
        __m512 dv = _mm512_set1_ps(d);
        __m512i eight = _mm512_set1_epi32(8);
        __m512i n0 = _mm512_add_epi32(round_clamped(_mm512_div_ps(x0, dv), -8.0f, 7.0f), eight);
        __m512i n1 = _mm512_add_epi32(round_clamped(_mm512_div_ps(x1, dv), -8.0f, 7.0f), eight);
        __m128i lo = _mm512_cvtepi32_epi8(n0), hi = _mm512_cvtepi32_epi8(n1);
        _mm_storeu_si128((__m128i *)(p + 2), _mm_or_si128(lo, _mm_slli_epi16(hi, 4)));
    }
}
