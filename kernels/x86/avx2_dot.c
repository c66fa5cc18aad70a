/*
 * avx2_dot.c — the AVX2 + FMA + F16C kernel table (see dispatch.h).
 * Compiled with -mavx2 -mfma -mf16c only; reached only after dispatch.c has
 * checked the CPU and OS.
 *
 * Quantized dots use the "sign trick": maddubs multiplies unsigned by signed
 * bytes, so the weight's sign is moved onto the activation:
 *   Σ w·x = Σ |w| · (sign(w) x)   (_mm256_sign_epi8 also zeroes x where w = 0).
 * |w| <= 128 and |x| <= 127 (activations never hold -128), so each int16 pair
 * sum stays below 2·128·127 = 32512 and maddubs never saturates: every
 * block's integer sum is exact, as in the scalar table. Q4_0's nibbles become
 * signed weights (nib - 8) first, so it shares the Q8_0 path.
 *
 * Prompt-batch tiles keep R rows x T tokens of accumulators in registers;
 * each weight block is loaded (and its sign/abs computed) once per T tokens.
 * Tails (rows % R, tokens % T) fall back to the row dots.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "dtype.h"
#include "weight.h"

#define INLINE static inline __attribute__((always_inline))

INLINE float hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INLINE __m256 load_f16x8(const uint16_t *w)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w));
}

INLINE __m256 load_bf16x8(const uint16_t *w)
{
    __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)w));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
}

/* Q4_0 block quants (16 bytes at p) as 32 signed weights nib - 8, in order. */
INLINE __m256i load_q4_signed(const uint8_t *p)
{
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    __m128i m = _mm_set1_epi8(15);
    __m128i lo = _mm_and_si128(b, m), hi = _mm_and_si128(_mm_srli_epi16(b, 4), m);
    return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

/* Eight int32 partial sums of Σ w·x over 32 signed bytes (sign trick). */
INLINE __m256i dot_i8(__m256i w, __m256i x)
{
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* ------------------------------------------------------------ float dots */

static float dot_f32(const float *w, const float *x, int n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    float acc = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++)
        acc += w[i] * x[i];
    return acc;
}

static float dot_f16(const uint16_t *w, const float *x, int n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load_f16x8(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(load_f16x8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(load_f16x8(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(load_f16x8(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(load_f16x8(w + i), _mm256_loadu_ps(x + i), a0);
    float acc = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++)
        acc += _cvtsh_ss(w[i]) * x[i];
    return acc;
}

static float dot_bf16(const uint16_t *w, const float *x, int n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load_bf16x8(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(load_bf16x8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(load_bf16x8(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(load_bf16x8(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(load_bf16x8(w + i), _mm256_loadu_ps(x + i), a0);
    float acc = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++)
        acc += slm_bf16_to_f32(w[i]) * x[i];
    return acc;
}

/* -------------------------------------------------------- quantized dots */

/* Two blocks per iteration into two accumulators: the FMA chain is the
   only loop-carried dependency, and two of them hide its latency. */
INLINE float dot_q(const uint8_t *p, const slm_act_q8 *a, int nb, size_t bb, int q4)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
    int b = 0;
    for (; b + 2 <= nb; b += 2, p += 2 * bb, a += 2) {
        __m256i w0 = q4 ? load_q4_signed(p + 2) : _mm256_loadu_si256((const __m256i *)(p + 2));
        __m256i w1 = q4 ? load_q4_signed(p + bb + 2)
                        : _mm256_loadu_si256((const __m256i *)(p + bb + 2));
        __m256i s0 = dot_i8(w0, _mm256_loadu_si256((const __m256i *)a[0].q));
        __m256i s1 = dot_i8(w1, _mm256_loadu_si256((const __m256i *)a[1].q));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(f16_at(p) * a[0].d), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_set1_ps(f16_at(p + bb) * a[1].d),
                               acc1);
    }
    if (b < nb) {
        __m256i w0 = q4 ? load_q4_signed(p + 2) : _mm256_loadu_si256((const __m256i *)(p + 2));
        __m256i s0 = dot_i8(w0, _mm256_loadu_si256((const __m256i *)a[0].q));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(f16_at(p) * a[0].d), acc0);
    }
    return hsum8(_mm256_add_ps(acc0, acc1));
}

static float dot_q8_0(const void *w, const void *xq, int n)
{
    return dot_q(w, xq, n / SLM_QBLOCK, SLM_Q8_0_BYTES, 0);
}

static float dot_q4_0(const void *w, const void *xq, int n)
{
    return dot_q(w, xq, n / SLM_QBLOCK, SLM_Q4_0_BYTES, 1);
}

/* ------------------------------------------------ activation quantization */

/* roundf (half away from zero) of integral-range floats, bit-exact:
   t = trunc(v) and v - t is exact, so the tie test is exact too. */
INLINE __m256 round_half_away(__m256 v)
{
    __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
    __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
    __m256 up = _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ),
                              _mm256_or_ps(sign, _mm256_set1_ps(1.0f)));
    return _mm256_add_ps(t, up);
}

static void quantize_act_q8(const float *x, void *xq, int n)
{
    slm_act_q8 *a = xq;
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int b = 0; b < n / SLM_QBLOCK; b++, a++) {
        const float *v = x + b * SLM_QBLOCK;
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8);
        __m256 v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, abs_mask), _mm256_and_ps(v1, abs_mask)),
                                 _mm256_max_ps(_mm256_and_ps(v2, abs_mask), _mm256_and_ps(v3, abs_mask)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float amax = _mm_cvtss_f32(h);
        int live = amax > 1e-30f;
        float id = live ? 127.0f / amax : 0.0f;
        a->d = live ? amax / 127.0f : 0.0f;
        __m256 s = _mm256_set1_ps(id);
        __m256i q0 = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v0, s)));
        __m256i q1 = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v1, s)));
        __m256i q2 = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v2, s)));
        __m256i q3 = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v3, s)));
        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
        a->sum = _mm_cvtsi128_si32(s4);
        /* packs work per 128-bit lane: the permute restores element order */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)a->q, p);
    }
}

/* ------------------------------------------------------ prompt-batch tiles */

#define R_F 4 /* float tiles: 4 rows x 2 tokens = 8 accumulators */
#define T_F 2
#define R_Q 2 /* quantized tiles: 2 rows x 4 tokens */
#define T_Q 4

/* R x T dots of k elements; wide = 1 for f16, 0 for bf16. */
INLINE void tile_half(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                      size_t xs, int k, int f16)
{
    __m256 acc[R_F][T_F];
    for (int r = 0; r < R_F; r++)
        for (int t = 0; t < T_F; t++)
            acc[r][t] = _mm256_setzero_ps();
    for (int i = 0; i < k; i += 8) {
        __m256 wv[R_F];
        for (int r = 0; r < R_F; r++) {
            const uint16_t *wr = (const uint16_t *)(w + r * ws) + i;
            wv[r] = f16 ? load_f16x8(wr) : load_bf16x8(wr);
        }
        for (int t = 0; t < T_F; t++) {
            __m256 xv = _mm256_loadu_ps((const float *)(x + t * xs) + i);
            for (int r = 0; r < R_F; r++)
                acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    for (int t = 0; t < T_F; t++)
        for (int r = 0; r < R_F; r++)
            y[t * ldy + r] = hsum8(acc[r][t]);
}

INLINE void tile_q(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                   size_t xs, int nb, size_t bb, int q4)
{
    __m256 acc[R_Q][T_Q];
    for (int r = 0; r < R_Q; r++)
        for (int t = 0; t < T_Q; t++)
            acc[r][t] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m256i wv[R_Q], wa[R_Q];
        __m256 dw[R_Q];
        for (int r = 0; r < R_Q; r++) {
            const uint8_t *p = w + r * ws + b * bb;
            wv[r] = q4 ? load_q4_signed(p + 2) : _mm256_loadu_si256((const __m256i *)(p + 2));
            wa[r] = _mm256_sign_epi8(wv[r], wv[r]);
            dw[r] = _mm256_set1_ps(f16_at(p));
        }
        for (int t = 0; t < T_Q; t++) {
            const slm_act_q8 *a = (const slm_act_q8 *)(x + t * xs) + b;
            __m256i xv = _mm256_loadu_si256((const __m256i *)a->q);
            __m256 dx = _mm256_set1_ps(a->d);
            for (int r = 0; r < R_Q; r++) {
                __m256i p = _mm256_maddubs_epi16(wa[r], _mm256_sign_epi8(xv, wv[r]));
                __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
                acc[r][t] = _mm256_fmadd_ps(_mm256_mul_ps(f, dx), dw[r], acc[r][t]);
            }
        }
    }
    for (int t = 0; t < T_Q; t++)
        for (int r = 0; r < R_Q; r++)
            y[t * ldy + r] = hsum8(acc[r][t]);
}

/* Full R x T tiles over the grid, row dots for the ragged edges. `kind`:
   0 f16, 1 bf16, 2 q8_0, 3 q4_0 (constant at each call: folded away). */
INLINE void gemm_grid(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                      size_t xs, int nr, int nt, int k, int kind)
{
    int quant = kind >= 2, R = quant ? R_Q : R_F, T = quant ? T_Q : T_F;
    size_t bb = kind == 2 ? SLM_Q8_0_BYTES : SLM_Q4_0_BYTES;
    int kf = quant ? 0 : k - k % 8; /* float tiles cover k rounded down to 8 */
    int r = 0;
    for (; r + R <= nr; r += R) {
        int t = 0;
        for (; t + T <= nt; t += T) {
            float *yt = y + t * ldy + r;
            const uint8_t *wt = w + r * ws, *xt = x + t * xs;
            if (quant)
                tile_q(yt, ldy, wt, ws, xt, xs, k / SLM_QBLOCK, bb, kind == 3);
            else
                tile_half(yt, ldy, wt, ws, xt, xs, kf, kind == 0);
            if (!quant && kf < k) /* k % 8 leftovers, scalar */
                for (int tt = 0; tt < T; tt++)
                    for (int rr = 0; rr < R; rr++) {
                        const uint16_t *wr = (const uint16_t *)(wt + rr * ws);
                        const float *xr = (const float *)(xt + tt * xs);
                        for (int i = kf; i < k; i++)
                            yt[tt * ldy + rr] += (kind == 0 ? _cvtsh_ss(wr[i])
                                                            : slm_bf16_to_f32(wr[i])) * xr[i];
                    }
        }
        for (; t < nt; t++)
            for (int rr = r; rr < r + R; rr++) {
                const void *wr = w + rr * ws, *xr = x + t * xs;
                y[t * ldy + rr] = kind == 0   ? dot_f16(wr, xr, k)
                                  : kind == 1 ? dot_bf16(wr, xr, k)
                                  : kind == 2 ? dot_q8_0(wr, xr, k)
                                              : dot_q4_0(wr, xr, k);
            }
    }
    for (; r < nr; r++)
        for (int t = 0; t < nt; t++) {
            const void *wr = w + r * ws, *xr = x + t * xs;
            y[t * ldy + r] = kind == 0   ? dot_f16(wr, xr, k)
                             : kind == 1 ? dot_bf16(wr, xr, k)
                             : kind == 2 ? dot_q8_0(wr, xr, k)
                                         : dot_q4_0(wr, xr, k);
        }
}

static void gemm_f16(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                     int nr, int nt, int k)
{
    gemm_grid(y, ldy, w, ws, x, xs, nr, nt, k, 0);
}

static void gemm_bf16(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                      int nr, int nt, int k)
{
    gemm_grid(y, ldy, w, ws, x, xs, nr, nt, k, 1);
}

static void gemm_q8_0(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                      int nr, int nt, int k)
{
    gemm_grid(y, ldy, w, ws, x, xs, nr, nt, k, 2);
}

static void gemm_q4_0(float *y, size_t ldy, const void *w, size_t ws, const void *x, size_t xs,
                      int nr, int nt, int k)
{
    gemm_grid(y, ldy, w, ws, x, xs, nr, nt, k, 3);
}

static const slm_kernel_table table = {
    .isa = SLM_ISA_AVX2,
    .name = "avx2",
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

const slm_kernel_table *slm_kernels_avx2(void) { return &table; }
