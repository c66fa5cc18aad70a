/*
 * vmath.h — exp and erf for loops the compiler can vectorise.
 *
 * Contract: slm_vexpf(x) is within 2 ulp of expf(x) for x in [-87, 88]
 * (outside, x is clamped to that range: ~1.6e-38 and ~1.65e38, never 0 or
 * inf); slm_verfc_pos(a) is erfc(a) for a >= 0 within 6e-7 absolute (the
 * formula's 1.5e-7 plus f32 rounding of its alternating polynomial).
 * Both are branch-free and inline, with no libm call and no errno, so a
 * loop over them vectorises under plain -O3 (glibc's expf/erff are scalar
 * calls without -ffast-math). NaN in gives NaN out.
 */
#ifndef SLM_VMATH_H
#define SLM_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* e^x = 2^k · e^r with k = round(x / ln 2) and |r| <= ln2/2; e^r by its
   Taylor series to r^7 (truncation < 6e-9 relative there), 2^k built in
   the exponent bits. */
static inline float slm_vexpf(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* adding 1.5·2^23 rounds x/ln2 to an integer k held in the low mantissa
       bits: the float's bits are 0x4b400000 + k */
    const float shifter = 12582912.0f;
    float shifted = fmaf(x, 1.44269504088896341f, shifter);
    float kf = shifted - shifter;
    /* ln 2 split in a part exact in float and the rest: r keeps its bits */
    float r = fmaf(kf, -0.693145751953125f, x);
    r = fmaf(kf, -1.428606765330187e-6f, r);
    float p = 1.0f / 5040.0f;
    p = fmaf(p, r, 1.0f / 720.0f);
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    /* 2^k from k's bits (k in [-126, 127]: a normal number). Unsigned
       arithmetic, and no float-to-int conversion: a NaN x makes p NaN and
       must not make this undefined behaviour. */
    uint32_t k_bits;
    memcpy(&k_bits, &shifted, sizeof k_bits);
    uint32_t bits = (k_bits - 0x4b400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* erfc(a) for a >= 0: Abramowitz & Stegun 7.1.26,
   erfc(a) = t·(a1 + t·(a2 + ... + t·a5)) · e^(-a²), t = 1 / (1 + p·a),
   absolute error <= 1.5e-7 in exact arithmetic (~5.4e-7 evaluated in f32,
   worst near a = 0.05 where the polynomial's terms cancel). */
static inline float slm_verfc_pos(float a)
{
    float t = 1.0f / fmaf(0.3275911f, a, 1.0f);
    float q = 1.061405429f;
    q = fmaf(q, t, -1.453152027f);
    q = fmaf(q, t, 1.421413741f);
    q = fmaf(q, t, -0.284496736f);
    q = fmaf(q, t, 0.254829592f);
    return q * t * slm_vexpf(-a * a);
}

#endif
