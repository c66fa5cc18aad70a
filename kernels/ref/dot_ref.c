/*
 * dot_ref.c — the scalar kernel table (slm_kernels_scalar, see dispatch.h):
 * the definition every ISA table is tested against, and the fallback on
 * CPUs without a SIMD table.
 *
 * Float dots keep eight partial sums (as kernels/matmul.c does): no faster
 * tricks, but not the 4-cycle-per-element chain of one sum either, since
 * this table is also the fallback on CPUs without a SIMD table. The tests
 * bound every table against exact sums, so the order is not part of the
 * cross-table contract; within this table every product (decode, batches,
 * packed or not) is a loop of these dots, so each output element is the
 * same whatever the batch (dispatch.h). Quantized dots compute each block's integer
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

/* Exact f16 -> f32 without branches for finite values: the exponent and
   mantissa bits shifted into an f32 and scaled by 2^112 re-bias the
   exponent, and the multiply is exact for normals and subnormals alike. */
static inline float half_to_f32(uint16_t h)
{
    uint32_t em = h & 0x7fffu, sign = (uint32_t)(h & 0x8000u) << 16, bits;
    if (em >= 0x7c00u) { /* inf / nan */
        bits = sign | 0x7f800000u | ((em & 0x3ffu) << 13);
    } else {
        float f;
        uint32_t u = em << 13;
        memcpy(&f, &u, 4);
        f *= 0x1p112f;
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

static inline float bf16_to_f32(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Eight partial sums (the compiler can keep them in one vector register
   without reassociating anything), combined pairwise. */
#define DOT8(expr_w)                                                                  \
    float s8[8] = {0};                                                                \
    int i = 0;                                                                        \
    for (; i + 8 <= n; i += 8)                                                        \
        for (int j = 0; j < 8; j++)                                                   \
            s8[j] += (expr_w(i + j)) * x[i + j];                                      \
    float acc = ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7])); \
    for (; i < n; i++)                                                                \
        acc += (expr_w(i)) * x[i];                                                    \
    return acc

#define W_F32(k) w[k]
#define W_F16(k) half_to_f32(w[k])
#define W_BF16(k) bf16_to_f32(w[k])

static float dot_f32(const float *w, const float *x, int n) { DOT8(W_F32); }
static float dot_f16(const uint16_t *w, const float *x, int n) { DOT8(W_F16); }
static float dot_bf16(const uint16_t *w, const float *x, int n) { DOT8(W_BF16); }

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

static void f16_row_to_f32(const uint16_t *src, float *dst, int n)
{
    for (int i = 0; i < n; i++)
        dst[i] = half_to_f32(src[i]);
}

static void bf16_row_to_f32(const uint16_t *src, float *dst, int n)
{
    for (int i = 0; i < n; i++)
        dst[i] = bf16_to_f32(src[i]);
}

/* Tiles are just dots here: the scalar table is the definition, not fast,
   and a loop of dots is batch invariant by construction. */
static void gemm_f32(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                     int nr, int nt, int k)
{
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++)
            y[t * ldy + r] = dot_f32((const float *)((const uint8_t *)w + r * ws),
                                     (const float *)((const uint8_t *)x + t * xs), k);
}

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

/* x8-packed products (layout in pack.c): for each group, token and block,
   every row's exact integer sum read out of the interleaved chunks, scaled
   as the row-major dots do: the same per-block values, added in the same
   order. */
static void gemm_x8(float *y, size_t ldy, const uint8_t *w, size_t gs, const uint8_t *x,
                    size_t xs, int nr, int nt, int k, int q4)
{
    int nb = k / SLM_QBLOCK, bb = q4 ? SLM_Q4_0_BYTES : SLM_Q8_0_BYTES, chunks = (bb - 2) / 4;
    for (int g = 0; g < nr / 8; g++)
        for (int t = 0; t < nt; t++) {
            const slm_act_q8 *a = (const slm_act_q8 *)(x + t * xs);
            const uint8_t *p = w + g * gs;
            float acc[8] = {0};
            for (int b = 0; b < nb; b++, p += 8 * bb) {
                for (int i = 0; i < 8; i++) {
                    int32_t s = 0;
                    for (int c = 0; c < chunks; c++)
                        for (int j = 0; j < 4; j++) {
                            uint8_t v = p[16 + (c * 8 + i) * 4 + j];
                            if (q4)
                                s += ((v & 15) - 8) * a[b].q[4 * c + j] +
                                     ((v >> 4) - 8) * a[b].q[16 + 4 * c + j];
                            else
                                s += (int8_t)v * a[b].q[4 * c + j];
                        }
                    acc[i] += (f16_at(p + 2 * i) * a[b].d) * (float)s;
                }
            }
            for (int i = 0; i < 8; i++)
                y[t * ldy + g * 8 + i] = acc[i];
        }
}

void slm_gemm_q8_0x8_ref(float *y, size_t ldy, const void *w, size_t ws, const void *x,
                         size_t xs, int nr, int nt, int k)
{
    gemm_x8(y, ldy, w, ws, x, xs, nr, nt, k, 0);
}

void slm_gemm_q4_0x8_ref(float *y, size_t ldy, const void *w, size_t ws, const void *x,
                         size_t xs, int nr, int nt, int k)
{
    gemm_x8(y, ldy, w, ws, x, xs, nr, nt, k, 1);
}

/* x16-packed float products (layout in pack.c): per row, one fmaf chain
   over the elements in order, from zero. */
static void gemm_x16(float *y, size_t ldy, const uint8_t *w, size_t gs, const uint8_t *x,
                     size_t xs, int nr, int nt, int k, slm_weight_type type)
{
    size_t es = type == SLM_WEIGHT_F32 ? 4 : 2;
    for (int g = 0; g < nr / 16; g++)
        for (int t = 0; t < nt; t++) {
            const float *xt = (const float *)(x + t * xs);
            const uint8_t *p = w + g * gs;
            for (int j = 0; j < 16; j++) {
                float acc = 0.0f;
                for (int i = 0; i < k; i++) {
                    float v;
                    slm_dequantize_row(type, p + ((size_t)i * 16 + j) * es, &v, 1);
                    acc = fmaf(v, xt[i], acc);
                }
                y[t * ldy + g * 16 + j] = acc;
            }
        }
}

void slm_gemm_f32x16_ref(float *y, size_t ldy, const void *w, size_t ws, const void *x,
                         size_t xs, int nr, int nt, int k)
{
    gemm_x16(y, ldy, w, ws, x, xs, nr, nt, k, SLM_WEIGHT_F32);
}

void slm_gemm_f16x16_ref(float *y, size_t ldy, const void *w, size_t ws, const void *x,
                         size_t xs, int nr, int nt, int k)
{
    gemm_x16(y, ldy, w, ws, x, xs, nr, nt, k, SLM_WEIGHT_F16);
}

void slm_gemm_bf16x16_ref(float *y, size_t ldy, const void *w, size_t ws, const void *x,
                          size_t xs, int nr, int nt, int k)
{
    gemm_x16(y, ldy, w, ws, x, xs, nr, nt, k, SLM_WEIGHT_BF16);
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
    .f16_to_f32 = f16_row_to_f32,
    .bf16_to_f32 = bf16_row_to_f32,
    .gemm_f32 = gemm_f32,
    .gemm_f16 = gemm_f16,
    .gemm_bf16 = gemm_bf16,
    .gemm_q8_0 = gemm_q8_0,
    .gemm_q4_0 = gemm_q4_0,
    .gemm_q8_0x8 = slm_gemm_q8_0x8_ref,
    .gemm_q4_0x8 = slm_gemm_q4_0x8_ref,
    .gemm_f32x16 = slm_gemm_f32x16_ref,
    .gemm_f16x16 = slm_gemm_f16x16_ref,
    .gemm_bf16x16 = slm_gemm_bf16x16_ref,
    .prefers_x8 = 0, /* the scalar row dots are no slower: keep files' layout */
    .prefers_x16 = 0,
};
