/*
 * quant.c — encoding rows of f32 into the weight storage types and back
 * (layouts in weight.h). Scalar and plain: the reference for the ISA
 * tables' own weight quantizers (dispatch.h quantize_row_q8_0 / _q4_0,
 * kernels/x86/avx512_quant.c and avx2_quant.c: the same bytes), which
 * load-time conversion uses through slm_encode_row_with where a table has
 * them; slm_quant_block_scale is the part they share.
 *
 * Rounding (documented contract, tested):
 *   - scales are rounded to f16 FIRST and the quants are computed against
 *     the stored scale, so the per-element error bound holds for the numbers
 *     actually used (ggml divides by the unrounded scale; its bytes may differ
 *     by one quant step on rare elements, the format is the same);
 *   - the scale is f16(amax / qmax) rounded to nearest, or the next f16 up
 *     when that would push the extreme past the quant range (only happens for
 *     f16-subnormal scales, i.e. tiny blocks);
 *   - quants round half away from zero (roundf);
 *   - Q8_0: d = f16(amax / 127), q = roundf(x / d) in [-127, 127];
 *     |x - d q| <= d / 2 for every element.
 *   - Q4_0: d = f16(m / -8) with m the element of largest magnitude (so m
 *     maps to nibble 0), nib = clamp(roundf(x / d) + 8, 0, 15);
 *     |x - d (nib - 8)| <= |d| / 2, except elements of m's opposite sign
 *     beyond 7.5 |d|, which clamp to nibble 15: error |x| - 7 |d| (<= about
 *     |d|, since |x| <= |m| ≈ 8 |d|).
 *   - an all-zero block stores d = 0 and quants that decode to 0: no
 *     division by zero, no NaN.
 * Scales above f16's range (|w| > ~8.3e6 for Q8_0) saturate to 65504 and the
 * quants clamp: such weights are not representable in these formats.
 */
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "dtype.h"
#include "weight.h"

/* f16 bits of a positive scale d ≈ amax / qmax with roundf(amax / d) <= qmax,
   so the extreme never leaves the quant range. Round to nearest almost always
   satisfies it; when it does not (an f16 subnormal scale, below 2^-14, has few
   bits) the next f16 up does. amax > 0 never gets d = 0. */
static uint16_t scale_f16(float amax, float qmax)
{
    if (!(amax > 0.0f)) /* zero block (or NaN input): d = 0 */
        return 0;
    if (amax / qmax > 65504.0f) /* beyond f16: saturate, quants clamp */
        return 0x7bff;
    uint16_t h = slm_f32_to_f16(amax / qmax);
    if (h == 0)
        h = 1;
    if (roundf(amax / slm_f16_to_f32(h)) > qmax && h < 0x7bff)
        h++; /* the next f16 up: positive halves order like their bits */
    return h;
}

static void put_f16(uint8_t *p, uint16_t h) { memcpy(p, &h, 2); }

float slm_quant_block_scale(uint8_t *blk, slm_weight_type t, float amax, int negative)
{
    int q4 = t == SLM_WEIGHT_Q4_0;
    /* Q4_0: d = m / -8, the magnitude as above, the sign opposite to m's */
    uint16_t d16 = (uint16_t)(scale_f16(amax, q4 ? 8.0f : 127.0f) | (negative ? 0x8000 : 0));
    put_f16(blk, d16);
    float d = slm_f16_to_f32(d16);
    if (d == 0.0f) /* quants that decode to 0: Q8_0's 0, Q4_0's nibble 8 */
        memset(blk + 2, q4 ? 0x88 : 0, q4 ? SLM_QBLOCK / 2 : SLM_QBLOCK);
    return d;
}

static float get_f16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return slm_f16_to_f32(h);
}

static void quantize_block_q8_0(const float *x, uint8_t *blk)
{
    float amax = 0.0f;
    for (int i = 0; i < SLM_QBLOCK; i++)
        amax = fmaxf(amax, fabsf(x[i]));
    float d = slm_quant_block_scale(blk, SLM_WEIGHT_Q8_0, amax, 0);
    if (d == 0.0f)
        return;
    int8_t *q = (int8_t *)(blk + 2);
    for (int i = 0; i < SLM_QBLOCK; i++)
        q[i] = (int8_t)fminf(127.0f, fmaxf(-127.0f, roundf(x[i] / d)));
}

static void quantize_block_q4_0(const float *x, uint8_t *blk)
{
    float amax = 0.0f, m = 0.0f;
    for (int i = 0; i < SLM_QBLOCK; i++) {
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            m = x[i];
        }
    }
    float d = slm_quant_block_scale(blk, SLM_WEIGHT_Q4_0, amax, m > 0.0f);
    if (d == 0.0f)
        return;
    uint8_t nib[SLM_QBLOCK];
    for (int i = 0; i < SLM_QBLOCK; i++)
        nib[i] = (uint8_t)fminf(15.0f, fmaxf(0.0f, roundf(x[i] / d) + 8.0f));
    for (int i = 0; i < SLM_QBLOCK / 2; i++)
        blk[2 + i] = (uint8_t)(nib[i] | nib[i + SLM_QBLOCK / 2] << 4);
}

void slm_quantize_row_q8_0(const float *x, void *dst, int n)
{
    uint8_t *p = dst;
    for (int b = 0; b < n / SLM_QBLOCK; b++)
        quantize_block_q8_0(x + b * SLM_QBLOCK, p + (size_t)b * SLM_Q8_0_BYTES);
}

void slm_quantize_row_q4_0(const float *x, void *dst, int n)
{
    uint8_t *p = dst;
    for (int b = 0; b < n / SLM_QBLOCK; b++)
        quantize_block_q4_0(x + b * SLM_QBLOCK, p + (size_t)b * SLM_Q4_0_BYTES);
}

static void dequantize_q8_0(const uint8_t *p, float *dst, int n)
{
    for (int b = 0; b < n / SLM_QBLOCK; b++, p += SLM_Q8_0_BYTES) {
        float d = get_f16(p);
        const int8_t *q = (const int8_t *)(p + 2);
        for (int i = 0; i < SLM_QBLOCK; i++)
            dst[b * SLM_QBLOCK + i] = d * (float)q[i];
    }
}

static void dequantize_q4_0(const uint8_t *p, float *dst, int n)
{
    for (int b = 0; b < n / SLM_QBLOCK; b++, p += SLM_Q4_0_BYTES) {
        float d = get_f16(p);
        float *o = dst + b * SLM_QBLOCK;
        for (int i = 0; i < SLM_QBLOCK / 2; i++) {
            o[i] = d * (float)((p[2 + i] & 15) - 8);
            o[i + SLM_QBLOCK / 2] = d * (float)((p[2 + i] >> 4) - 8);
        }
    }
}

void slm_dequantize_row(slm_weight_type t, const void *src, float *dst, int n)
{
    switch (t) {
    case SLM_WEIGHT_F32:
        memcpy(dst, src, (size_t)n * sizeof(float));
        break;
    case SLM_WEIGHT_F16:
        slm_convert_to_f32(dst, src, SLM_DTYPE_F16, (size_t)n);
        break;
    case SLM_WEIGHT_BF16:
        slm_convert_to_f32(dst, src, SLM_DTYPE_BF16, (size_t)n);
        break;
    case SLM_WEIGHT_Q8_0:
        dequantize_q8_0(src, dst, n);
        break;
    case SLM_WEIGHT_Q4_0:
        dequantize_q4_0(src, dst, n);
        break;
    default:
        break;
    }
}

void slm_encode_row(slm_weight_type t, const float *x, void *dst, int n)
{
    uint8_t *p = dst;
    uint16_t h;
    switch (t) {
    case SLM_WEIGHT_F32:
        memcpy(dst, x, (size_t)n * sizeof(float));
        break;
    case SLM_WEIGHT_F16:
        for (int i = 0; i < n; i++) {
            h = slm_f32_to_f16(x[i]);
            memcpy(p + 2 * (size_t)i, &h, 2);
        }
        break;
    case SLM_WEIGHT_BF16:
        for (int i = 0; i < n; i++) {
            h = slm_f32_to_bf16(x[i]);
            memcpy(p + 2 * (size_t)i, &h, 2);
        }
        break;
    case SLM_WEIGHT_Q8_0:
        slm_quantize_row_q8_0(x, dst, n);
        break;
    case SLM_WEIGHT_Q4_0:
        slm_quantize_row_q4_0(x, dst, n);
        break;
    default:
        break;
    }
}

void slm_encode_row_with(const slm_kernel_table *kt, int type, const float *x, void *dst, int n)
{
    if (kt && type == SLM_WEIGHT_Q8_0 && kt->quantize_row_q8_0)
        kt->quantize_row_q8_0(x, dst, n);
    else if (kt && type == SLM_WEIGHT_Q4_0 && kt->quantize_row_q4_0)
        kt->quantize_row_q4_0(x, dst, n);
    else
        slm_encode_row((slm_weight_type)type, x, dst, n);
}
