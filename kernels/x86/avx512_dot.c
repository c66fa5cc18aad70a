/*
 * avx512_dot.c — the AVX-512 kernel table (F/BW/VL + VNNI; see dispatch.h).
 * Compiled with the AVX-512 flags only for this file; reached only after
 * dispatch.c has checked the CPU and the OS's ZMM state.
 *
 * Quantized products use VNNI's dpbusd (u8 x s8, four products summed into
 * each int32 lane, no saturation) with the "+offset" trick: the weights are
 * made unsigned (Q8_0: w + 128 = w ^ 0x80; Q4_0: its nibbles, already
 * w + 8) and the activation block's integer Σq corrects it exactly:
 *   Σ w·x = Σ (w + off)·x - off·Σx.
 * The correction is the dpbusd's initial value in the first lane of each
 * block, so every block's sum is the exact integer of the scalar table.
 * A zmm holds two 32-quant blocks (lanes 0-7 and 8-15 of the int32 result),
 * scaled by a vector holding each block's d_w·d_x on its half.
 * bf16 weights are widened to f32 with a shift (exact), f16 with vcvtph2ps;
 * activations stay f32 (no bf16 rounding of x, unlike dpbf16).
 *
 * Products are tiles of R rows x T tokens of accumulators (batches 4 x 4,
 * 16 of the 32 zmm registers; decode 4 float or 8 quantized rows x 1
 * token, independent FMA chains): every output element, in a full tile, on a ragged edge
 * (smaller tiles), in decode or in a dot entry (a 1 x 1 tile), is computed
 * by the same code, so it is batch invariant (dispatch.h). The arithmetic of
 * one element:
 *   f32/f16/bf16  one 16-lane accumulator: lane j takes w[i]·x[i] for
 *                 i ≡ j (mod 16), i increasing, by FMA; the k % 16 tail is
 *                 zero padded to a whole vector (fma(0, 0, acc)); then
 *                 _mm512_reduce_add_ps.
 *   q8_0/q4_0     blocks in pairs (b, b+1) in one zmm, block b in lanes 0-7
 *                 and b+1 in 8-15 (a lone last block: zeros and scale 0 in
 *                 8-15); the exact int32 lane sums are converted and added
 *                 to one accumulator as fma(sum, d_w·d_x, acc) (the scale
 *                 rounded once); then _mm512_reduce_add_ps.
 *   x8-packed     one lane per row: fma(sum, d_w·d_x, acc) per block, in
 *                 block order, stored as is (no lane sum).
 */
#ifndef SLM_AVX512_EMULATED /* the tests may compile this file over SIMDe */
#include <immintrin.h>
#endif
#include <math.h>
#include <string.h>

#include "amx_gemm.h"
#include "avx512_quant.h"
#include "avx512_sgemm.h"
#include "dispatch.h"
#include "dtype.h"
#include "prefetch_share.h"
#include "weight.h"

#define INLINE static inline __attribute__((always_inline))

INLINE float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INLINE __m512 load_f16x16(const uint16_t *w)
{
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
}

INLINE __m512 load_bf16x16(const uint16_t *w)
{
    __m512i u = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)w));
    return _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
}

INLINE __m512i pair256(__m256i lo, __m256i hi)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* Two weight blocks (at p0, p1) as 64 unsigned bytes w + off, in order. */
INLINE __m512i load_w_pair(const uint8_t *p0, const uint8_t *p1, int q4)
{
    if (!q4) {
        __m512i w = pair256(_mm256_loadu_si256((const __m256i *)(p0 + 2)),
                            _mm256_loadu_si256((const __m256i *)(p1 + 2)));
        return _mm512_xor_si512(w, _mm512_set1_epi8((char)0x80));
    }
    __m256i b = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)(p1 + 2)),
                                 _mm_loadu_si128((const __m128i *)(p0 + 2)));
    __m256i m = _mm256_set1_epi8(15);
    __m512i z = pair256(_mm256_and_si256(b, m), _mm256_and_si256(_mm256_srli_epi16(b, 4), m));
    /* [lo0 lo1 hi0 hi1] -> [lo0 hi0 lo1 hi1]: each block's 32 nibbles in order */
    return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
}

/* Activation quants of blocks a0 and a1 (a1 NULL: zeros, for an odd tail). */
INLINE __m512i load_x_pair(const slm_act_q8 *a0, const slm_act_q8 *a1)
{
    __m256i hi = a1 ? _mm256_loadu_si256((const __m256i *)a1->q) : _mm256_setzero_si256();
    return pair256(_mm256_loadu_si256((const __m256i *)a0->q), hi);
}

/* The offset correction -off·Σx of each block, in lanes 0 and 8. */
INLINE __m512i corr_pair(const slm_act_q8 *a0, const slm_act_q8 *a1, int off)
{
    __m512i c = _mm512_maskz_set1_epi32(0x0001, -off * a0->sum);
    return a1 ? _mm512_mask_set1_epi32(c, 0x0100, -off * a1->sum) : c;
}

INLINE __m512 halves(float lo, float hi)
{
    return _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(lo), _mm512_set1_ps(hi));
}

/* ------------------------------------------------ activation quantization */

/* roundf (half away from zero) to int32, bit-exact: with t = trunc(v),
   v - t is exact, so the tie test is too. Inputs are within ±127.5. */
INLINE __m512i round_half_away(__m512 v)
{
    __m512i t = _mm512_cvttps_epi32(v);
    __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, _mm512_cvtepi32_ps(t)));
    __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    t = _mm512_mask_add_epi32(t, up & ~neg, t, _mm512_set1_epi32(1));
    return _mm512_mask_sub_epi32(t, up & neg, t, _mm512_set1_epi32(1));
}

static void quantize_act_q8(const float *x, void *xq, int n)
{
    slm_act_q8 *a = xq;
    for (int b = 0; b < n / SLM_QBLOCK; b++, a++) {
        __m512 v0 = _mm512_loadu_ps(x + b * SLM_QBLOCK);
        __m512 v1 = _mm512_loadu_ps(x + b * SLM_QBLOCK + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        int live = amax > 1e-30f;
        float id = live ? 127.0f / amax : 0.0f;
        a->d = live ? amax / 127.0f : 0.0f;
        __m512 s = _mm512_set1_ps(id);
        __m512i q0 = round_half_away(_mm512_mul_ps(v0, s));
        __m512i q1 = round_half_away(_mm512_mul_ps(v1, s));
        a->sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        _mm_storeu_si128((__m128i *)a->q, _mm512_cvtsepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(a->q + 16), _mm512_cvtsepi32_epi8(q1));
    }
}

/* ------------------------------------------------------ conversions */

static void f16_to_f32(const uint16_t *src, float *dst, int n)
{
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, load_f16x16(src + i));
    for (; i < n; i++)
        dst[i] = _cvtsh_ss(src[i]);
}

static void bf16_to_f32(const uint16_t *src, float *dst, int n)
{
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, load_bf16x16(src + i));
    for (; i < n; i++)
        dst[i] = slm_bf16_to_f32(src[i]);
}

/* ------------------------------------------------------------ products */

/* Decode tiles read R rows side by side: R short streams (a row is a few
   KiB), too short for the hardware prefetcher to ramp up on, where a row
   at a time was one long stream. So each line read is matched by a
   prefetch of the same line of the next tile's rows (R rows further: the
   matrix front to back, one tile ahead); f32 rows (8 KiB at k = 2048)
   prefetch 1 KiB ahead in the row instead, the next tile only for its
   first KiB. Measured (bench_kernels decode, 1 thread, CPU-time clock):
   with these, f16/bf16 4-row and q8_0/q4_0 8-row tiles stream as fast as
   the former one-row dots (quantized ones faster); with no prefetch
   f16/bf16 lost ~20%. Past the matrix's end a prefetch is harmless. */
#define DECODE_PREFETCH(p, ahead) _mm_prefetch((const char *)(p) + (ahead), _MM_HINT_T0)

/* Weight kinds; constant at every call, so each tile is specialised. */
enum { K_F32, K_F16, K_BF16, K_Q8, K_Q4 };

#define TR 4 /* batch tiles: 4 rows x 4 tokens */
#define TT 4
#define DR_F 4 /* decode tiles, 1 token: float rows 4 at a time (4 FMA chains) */
#define DR_Q 8 /* quantized rows 8 at a time */
#define MAXR 8

/* 16 weights of a float row from element i, as f32. */
INLINE __m512 load_w16(const uint8_t *row, int i, int kind)
{
    if (kind == K_F32)
        return _mm512_loadu_ps((const float *)row + i);
    return kind == K_F16 ? load_f16x16((const uint16_t *)row + i)
                         : load_bf16x16((const uint16_t *)row + i);
}

/* Elements i .. k-1 (fewer than 16) of a weight row / a token, zero padded:
   the k tail joins the same lanes as a whole vector would. */
INLINE __m512 load_w16_tail(const uint8_t *row, int i, int k, int kind)
{
    size_t es = kind == K_F32 ? 4 : 2;
    uint8_t buf[64] = {0};
    memcpy(buf, row + (size_t)i * es, (size_t)(k - i) * es);
    return load_w16(buf, 0, kind);
}

INLINE __m512 load_x16_tail(const float *x, int i, int k)
{
    float buf[16] = {0};
    memcpy(buf, x + i, sizeof(float) * (size_t)(k - i));
    return _mm512_loadu_ps(buf);
}

/* One step of 16 elements of an R x T float tile. */
INLINE void tile_f_step(__m512 acc[MAXR][TT], const uint8_t *w, size_t ws, const uint8_t *x,
                        size_t xs, int i, int k, int kind, int R, int T, int tail)
{
    __m512 wv[MAXR];
    for (int r = 0; r < R; r++) {
        const uint8_t *row = w + r * ws;
        wv[r] = tail ? load_w16_tail(row, i, k, kind) : load_w16(row, i, kind);
        if (T == 1 && !tail && (kind == K_F32 || i % 32 == 0)) { /* once per line */
            size_t off = (size_t)i * (kind == K_F32 ? 4 : 2);
            if (kind != K_F32) {
                DECODE_PREFETCH(row + off, R * ws);
            } else { /* 4 f32 rows are 32 KiB: that far ahead measured slower */
                DECODE_PREFETCH(row + off, 1024);
                if (off < 1024)
                    DECODE_PREFETCH(row + off, R * ws);
            }
        }
    }
    for (int t = 0; t < T; t++) {
        const float *xt = (const float *)(x + t * xs);
        __m512 xv = tail ? load_x16_tail(xt, i, k) : _mm512_loadu_ps(xt + i);
#ifndef SLM_AVX512_EMULATED
        /* one load per token, not one per FMA (see avx2_dot.c) */
        __asm__("" : "+v"(xv));
#endif
        for (int r = 0; r < R; r++)
            acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
}

/* R rows x T tokens of k elements: y[t * ldy + r]. */
INLINE void tile_f(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                   size_t xs, int k, int kind, int R, int T)
{
    __m512 acc[MAXR][TT];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++)
            acc[r][t] = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= k; i += 16)
        tile_f_step(acc, w, ws, x, xs, i, k, kind, R, T, 0);
    if (i < k)
        tile_f_step(acc, w, ws, x, xs, i, k, kind, R, T, 1);
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++)
            y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
}

/* One pair of blocks (or a lone block, two = 0) of an R x T quantized tile. */
INLINE void tile_q_step(__m512 acc[MAXR][TT], const uint8_t *w, size_t ws, const uint8_t *x,
                        size_t xs, int b, size_t bb, int q4, int two, int R, int T)
{
    __m512i wu[MAXR];
    __m512 dw[MAXR];
    for (int r = 0; r < R; r++) {
        const uint8_t *p = w + r * ws + b * bb, *p1 = two ? p + bb : p;
        wu[r] = load_w_pair(p, p1, q4);
        dw[r] = halves(f16_at(p), two ? f16_at(p1) : 0.0f);
        if (T == 1) { /* both lines the pair may touch */
            DECODE_PREFETCH(p, R * ws);
            DECODE_PREFETCH(p + 2 * bb - 1, R * ws);
        }
    }
    for (int t = 0; t < T; t++) {
        const slm_act_q8 *a = (const slm_act_q8 *)(x + t * xs) + b, *a1 = two ? a + 1 : NULL;
        __m512i xv = load_x_pair(a, a1), c = corr_pair(a, a1, q4 ? 8 : 128);
        __m512 dx = halves(a->d, two ? a1->d : 0.0f);
        for (int r = 0; r < R; r++) {
            __m512 f = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(c, wu[r], xv));
            acc[r][t] = _mm512_fmadd_ps(f, _mm512_mul_ps(dw[r], dx), acc[r][t]);
        }
    }
}

INLINE void tile_q(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                   size_t xs, int nb, int q4, int R, int T)
{
    size_t bb = q4 ? SLM_Q4_0_BYTES : SLM_Q8_0_BYTES;
    __m512 acc[MAXR][TT];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++)
            acc[r][t] = _mm512_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2)
        tile_q_step(acc, w, ws, x, xs, b, bb, q4, 1, R, T);
    if (b < nb)
        tile_q_step(acc, w, ws, x, xs, b, bb, q4, 0, R, T);
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++)
            y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
}

INLINE void tile(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                 int k, int kind, int R, int T)
{
    if (kind >= K_Q8)
        tile_q(y, ldy, w, ws, x, xs, k / SLM_QBLOCK, kind == K_Q4, R, T);
    else
        tile_f(y, ldy, w, ws, x, xs, k, kind, R, T);
}

/* Tokens of R rows: TT at a time, then one at a time. */
INLINE void grid_tokens(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                        size_t xs, int nt, int k, int kind, int R)
{
    int t = 0;
    for (; t + TT <= nt; t += TT)
        tile(y + t * ldy, ldy, w, ws, x + t * xs, xs, k, kind, R, TT);
    for (; t < nt; t++)
        tile(y + t * ldy, ldy, w, ws, x + t * xs, xs, k, kind, R, 1);
}

/* Every row and token of the range in constant-shape tiles: decode DR_Q
   (quantized) or DR_F rows at a time (then 1), batches TR x TT (ragged
   edges in smaller tiles). Which tile an element lands in does not change
   its bits. */
INLINE void gemm_grid(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                      size_t xs, int nr, int nt, int k, int kind)
{
    int r = 0;
    if (nt == 1) {
        for (; kind >= K_Q8 && r + DR_Q <= nr; r += DR_Q)
            tile(y + r, ldy, w + r * ws, ws, x, xs, k, kind, DR_Q, 1);
        for (; r + DR_F <= nr; r += DR_F)
            tile(y + r, ldy, w + r * ws, ws, x, xs, k, kind, DR_F, 1);
        for (; r < nr; r++)
            tile(y + r, ldy, w + r * ws, ws, x, xs, k, kind, 1, 1);
        return;
    }
    for (; r + TR <= nr; r += TR)
        grid_tokens(y + r, ldy, w + r * ws, ws, x, xs, nt, k, kind, TR);
    for (; r < nr; r++)
        grid_tokens(y + r, ldy, w + r * ws, ws, x, xs, nt, k, kind, 1);
}

/* The dot entries: a 1 x 1 tile, the same arithmetic as every product. */
INLINE float dot_kind(const void *w, const void *x, int k, int kind)
{
    float y;
    tile(&y, 0, w, 0, x, 0, k, kind, 1, 1);
    return y;
}

static float dot_f32(const float *w, const float *x, int n) { return dot_kind(w, x, n, K_F32); }
static float dot_f16(const uint16_t *w, const float *x, int n) { return dot_kind(w, x, n, K_F16); }
static float dot_bf16(const uint16_t *w, const float *x, int n)
{
    return dot_kind(w, x, n, K_BF16);
}
static float dot_q8_0(const void *w, const void *xq, int n) { return dot_kind(w, xq, n, K_Q8); }
static float dot_q4_0(const void *w, const void *xq, int n) { return dot_kind(w, xq, n, K_Q4); }

#define GEMM_ENTRY(name, kind)                                                              \
    static void name(float *y, size_t ldy, const void *w, size_t ws, const void *x,         \
                     size_t xs, int nr, int nt, int k)                                      \
    {                                                                                       \
        gemm_grid(y, ldy, w, ws, x, xs, nr, nt, k, kind);                                   \
    }
GEMM_ENTRY(gemm_f32, K_F32)
GEMM_ENTRY(gemm_f16, K_F16)
GEMM_ENTRY(gemm_bf16, K_BF16)
GEMM_ENTRY(gemm_q8_0, K_Q8)
GEMM_ENTRY(gemm_q4_0, K_Q4)
#undef GEMM_ENTRY

/* ------------------------------------ x16-packed float products (pack.c) */

/* One lane per row: a group's vector i holds element i of its 16 rows, so
   lane j of the accumulator takes fma(w[j][i], x[i], acc) for i = 0 .. k-1
   in order, from zero, and is stored as is (no horizontal sum): exactly
   the scalar reference's fmaf chain, bit for bit. Tiles are G groups x T
   tokens of accumulators (batches 3 x 8 or 2 x 12, below: 24 registers;
   decode 4 x 1: four streams and four independent chains). */
/* batch tiles: groups x tokens per kind (f32 3 x 8: each broadcast token
   element feeds 3 groups; f16/bf16 2 x 12: each converted weight vector
   feeds 12 tokens, the conversions sharing the FMA ports). Measured
   (bench_kernels 5632 x 2048, n = 64, 1/2 threads, GFLOP/s): f32 2 x 12
   202/401, 3 x 8 215/427, 4 x 6 206/411; f16 2 x 12 190/374, 3 x 8
   185/363, 4 x 6 173/345 (bf16 alike). */
#define XF_MAX_T 12
INLINE int xf_groups(int kind) { return kind == K_F32 ? 3 : 2; }
INLINE int xf_tokens_per_tile(int kind) { return kind == K_F32 ? 8 : 12; }
#define XF_DG 4 /* decode tiles: groups */
#define XF_PREFETCH 1024 /* decode: bytes ahead in each group's stream */

INLINE __m512 load_xf(const uint8_t *p, int kind)
{
    if (kind == K_F32)
        return _mm512_loadu_ps((const float *)p);
    return kind == K_F16 ? load_f16x16((const uint16_t *)p) : load_bf16x16((const uint16_t *)p);
}

/* pf: a batch tile's share of the next groups (prefetch_share.h), one
   step per k element; decode tiles get none. */
INLINE void xf_tile(float *y, size_t ldy, const uint8_t *p, size_t gs, const uint8_t *x,
                    size_t xs, int k, int kind, int G, int T, slm_pf_share pf)
{
    size_t vb = 16 * (size_t)(kind == K_F32 ? 4 : 2); /* bytes of one vector */
    __m512 acc[XF_DG][XF_MAX_T];
    for (int g = 0; g < G; g++)
        for (int t = 0; t < T; t++)
            acc[g][t] = _mm512_setzero_ps();
    for (int i = 0; i < k; i++) {
        __m512 w[XF_DG];
        for (int g = 0; g < G; g++) {
            const uint8_t *pg = p + g * gs + (size_t)i * vb;
            if (T == 1 && ((size_t)i * vb) % 64 == 0)
                DECODE_PREFETCH(pg, XF_PREFETCH);
            w[g] = load_xf(pg, kind);
        }
        slm_pf_share_step(pf, i);
        for (int t = 0; t < T; t++) {
            __m512 xv = _mm512_set1_ps(((const float *)(x + t * xs))[i]);
            for (int g = 0; g < G; g++)
                acc[g][t] = _mm512_fmadd_ps(w[g], xv, acc[g][t]);
        }
    }
    for (int t = 0; t < T; t++)
        for (int g = 0; g < G; g++)
            _mm512_storeu_ps(y + t * ldy + 16 * g, acc[g][t]);
}

/* Tokens of G groups: T at a time, then one smaller constant tile. Each
   tile prefetches its share of the next groups (next, G·gs bytes; NULL for
   the last: prefetch_share.h; the first tile's wait on DRAM measured at
   ~40 GB/s of demand). */
INLINE void xf_tokens(float *y, size_t ldy, const uint8_t *p, size_t gs, const uint8_t *x,
                      size_t xs, int nt, int k, int kind, int G, const uint8_t *next)
{
    const int T = xf_tokens_per_tile(kind);
    int tiles = (nt + T - 1) / T, j = 0;
    size_t bytes = (size_t)G * gs;
    int t = 0;
    for (; t + T <= nt; t += T, j++)
        xf_tile(y + t * ldy, ldy, p, gs, x + t * xs, xs, k, kind, G, T,
                slm_pf_share_of(next, bytes, tiles, j, k));
    y += t * ldy;
    x += t * xs;
    slm_pf_share pf = slm_pf_share_of(next, bytes, tiles, j, k);
    switch (nt - t) { /* cases from T up never occur */
#define XF_CASE(n) case n: if (n < T) xf_tile(y, ldy, p, gs, x, xs, k, kind, G, n, pf); break;
        XF_CASE(11) XF_CASE(10) XF_CASE(9) XF_CASE(8) XF_CASE(7) XF_CASE(6)
        XF_CASE(5) XF_CASE(4) XF_CASE(3) XF_CASE(2) XF_CASE(1)
#undef XF_CASE
    default: break;
    }
}

INLINE void gemm_xf_grid(float *y, size_t ldy, const uint8_t *w, size_t gs, const uint8_t *x,
                         size_t xs, int nr, int nt, int k, int kind)
{
    int ng = nr / 16, g = 0;
    if (nt == 1) {
        const slm_pf_share no_pf = {NULL, 0};
        for (; g + XF_DG <= ng; g += XF_DG)
            xf_tile(y + 16 * g, ldy, w + g * gs, gs, x, xs, k, kind, XF_DG, 1, no_pf);
        for (; g < ng; g++)
            xf_tile(y + 16 * g, ldy, w + g * gs, gs, x, xs, k, kind, 1, 1, no_pf);
        return;
    }
    const int G = xf_groups(kind);
    for (; g + G <= ng; g += G)
        xf_tokens(y + 16 * g, ldy, w + g * gs, gs, x, xs, nt, k, kind, G,
                  g + G < ng ? w + (g + G) * gs : NULL);
    if (ng - g == 2) /* the rest: 2 groups, or 1 */
        xf_tokens(y + 16 * g, ldy, w + g * gs, gs, x, xs, nt, k, kind, 2, NULL);
    else if (ng - g == 1)
        xf_tokens(y + 16 * g, ldy, w + g * gs, gs, x, xs, nt, k, kind, 1, NULL);
}

#define XF_ENTRY(name, kind)                                                                \
    static void name(float *y, size_t ldy, const void *w, size_t gs, const void *x,         \
                     size_t xs, int nr, int nt, int k)                                      \
    {                                                                                       \
        gemm_xf_grid(y, ldy, w, gs, x, xs, nr, nt, k, kind);                                \
    }
XF_ENTRY(gemm_f32x16, K_F32)
XF_ENTRY(gemm_f16x16, K_F16)
XF_ENTRY(gemm_bf16x16, K_BF16)
#undef XF_ENTRY

/* ------------------------------------------- x8-packed products (pack.c) */

/* As in avx2_dot.c: a 32-byte load is chunk c of the group's 8 rows and
   each int32 lane one row's sum, the 4 activation bytes broadcast to every
   lane. VNNI's dpbusd (u8 x s8, 4 products into each lane) takes the
   unsigned weights directly (Q4_0's nibbles; Q8_0's w ^ 0x80 = w + 128), and
   the offset's correction -off·Σx is the sum's starting value. Kept at
   256 bits (AVX512-VL) so both tables read the same layout the same way.
   Every token count (decode's 1 included) runs x8_tile, whose per-lane
   arithmetic does not depend on T: batch invariant. */
#define X8_T 4

INLINE __m256i bcast4(const int8_t *q)
{
    int32_t v;
    memcpy(&v, q, 4);
    return _mm256_set1_epi32(v);
}

/* Block group p's weights as unsigned bytes: Q4_0's lo/hi nibbles per
   chunk (u[2c], u[2c + 1]), Q8_0's w + 128 (u[c]). */
INLINE void x8_unpack(const uint8_t *p, __m256i u[8], int q4)
{
    const __m256i m = _mm256_set1_epi8(15), flip = _mm256_set1_epi8((char)0x80);
    for (int c = 0; c < (q4 ? 4 : 8); c++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * c));
        if (q4) {
            u[2 * c] = _mm256_and_si256(v, m);
            u[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
        } else {
            u[c] = _mm256_xor_si256(v, flip);
        }
    }
}

/* One block of one token into its 8 rows' accumulator: the offset's
   correction as the starting value, the dpbusd chain in chunk order, then
   fma(sum, d_w·d_x, acc). Every x8 path runs exactly this per lane. */
INLINE __m256 x8_block(__m256 acc, const __m256i u[8], __m256 dw, const slm_act_q8 *a, int q4)
{
    __m256i s = _mm256_set1_epi32(-(q4 ? 8 : 128) * a->sum);
    for (int c = 0; c < (q4 ? 4 : 8); c++) {
        if (q4) {
            s = _mm256_dpbusd_epi32(s, u[2 * c], bcast4(a->q + 4 * c));
            s = _mm256_dpbusd_epi32(s, u[2 * c + 1], bcast4(a->q + 16 + 4 * c));
        } else {
            s = _mm256_dpbusd_epi32(s, u[c], bcast4(a->q + 4 * c));
        }
    }
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(a->d)), acc);
}

INLINE void x8_tile(float *y, size_t ldy, const uint8_t *p, const uint8_t *x, size_t xs, int nb,
                    int T, int q4)
{
    size_t gb = 8 * (q4 ? SLM_Q4_0_BYTES : SLM_Q8_0_BYTES);
    __m256 acc[X8_T];
    for (int t = 0; t < T; t++)
        acc[t] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, p += gb) {
        __m256i u[8];
        x8_unpack(p, u, q4);
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
        for (int t = 0; t < T; t++)
            acc[t] = x8_block(acc[t], u, dw, (const slm_act_q8 *)(x + t * xs) + b, q4);
    }
    for (int t = 0; t < T; t++)
        _mm256_storeu_ps(y + t * ldy, acc[t]);
}

/* One block group of 8 rows x one token into acc (decode). */
INLINE __m256 x8_step(__m256 acc, const uint8_t *p, const slm_act_q8 *a, int q4)
{
    __m256i u[8];
    x8_unpack(p, u, q4);
    return x8_block(acc, u, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)), a, q4);
}

/* Decode over one group: blocks two at a time (two dot chains and their
   loads in flight, into the one accumulator: the same fma sequence per
   lane as x8_tile), every line of the stream prefetched X8_PREFETCH bytes
   ahead. Measured (TinyLlama shape tg64, 2 threads, Intel Xeon with AMX,
   one run alternating distances): q4_0 46.5 tok/s with no prefetch, 52.1
   at 1.5 KiB, 52.8 at 2 KiB, 47 at 3 KiB; q8_0 28.7 / 29.0 at 2 KiB /
   26.6 at 4 KiB. */
#define X8_PREFETCH 2048

INLINE void x8_gemv(float *y, const uint8_t *p, const slm_act_q8 *a, int nb, int q4)
{
    size_t gb = 8 * (size_t)(q4 ? SLM_Q4_0_BYTES : SLM_Q8_0_BYTES);
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2, p += 2 * gb) {
        for (size_t o = 0; o < 2 * gb; o += 64)
            _mm_prefetch((const char *)p + X8_PREFETCH + o, _MM_HINT_T0);
        acc = x8_step(acc, p, a + b, q4);
        acc = x8_step(acc, p + gb, a + b + 1, q4);
    }
    if (b < nb)
        acc = x8_step(acc, p, a + b, q4);
    _mm256_storeu_ps(y, acc);
}

/* Two groups (16 rows) side by side in one zmm: lanes 0-7 are group g's
   rows, 8-15 group g+1's (the next 8 rows of y). Each lane runs exactly
   x8_tile's arithmetic (same starting value, same dpbusd order, same
   scale product and fma), so its bits equal the 256-bit tile's; half the
   instructions per product, and T up to X16_T tokens (16 of the 32 zmm
   for weights and accumulators): the unpacked weights are reused by more
   tokens. */
#define X16_T 8

INLINE __m512i load_pair256(const uint8_t *p0, const uint8_t *p1)
{
    __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p0));
    return _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *)p1), 1);
}

INLINE void x16_tile(float *y, size_t ldy, const uint8_t *p0, const uint8_t *p1,
                     const uint8_t *x, size_t xs, int nb, int T, int q4, slm_pf_share pf)
{
    const __m512i m = _mm512_set1_epi8(15), flip = _mm512_set1_epi8((char)0x80);
    int chunks = q4 ? 4 : 8, off = q4 ? 8 : 128;
    size_t gb = 8 * (q4 ? SLM_Q4_0_BYTES : SLM_Q8_0_BYTES);
    __m512 acc[X16_T];
    for (int t = 0; t < T; t++)
        acc[t] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++, p0 += gb, p1 += gb) {
        slm_pf_share_step(pf, b);
        __m512i u[8];
        for (int c = 0; c < chunks; c++) {
            __m512i v = load_pair256(p0 + 16 + 32 * c, p1 + 16 + 32 * c);
            if (q4) {
                u[2 * c] = _mm512_and_si512(v, m);
                u[2 * c + 1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
            } else {
                u[c] = _mm512_xor_si512(v, flip);
            }
        }
        __m256i h = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p0)),
            _mm_loadu_si128((const __m128i *)p1), 1);
        __m512 dw = _mm512_cvtph_ps(h);
        for (int t = 0; t < T; t++) {
            const slm_act_q8 *a = (const slm_act_q8 *)(x + t * xs) + b;
            __m512i s = _mm512_set1_epi32(-off * a->sum);
            for (int c = 0; c < chunks; c++) {
                int32_t lo, hi;
                memcpy(&lo, a->q + 4 * c, 4);
                if (q4) {
                    memcpy(&hi, a->q + 16 + 4 * c, 4);
                    s = _mm512_dpbusd_epi32(s, u[2 * c], _mm512_set1_epi32(lo));
                    s = _mm512_dpbusd_epi32(s, u[2 * c + 1], _mm512_set1_epi32(hi));
                } else {
                    s = _mm512_dpbusd_epi32(s, u[c], _mm512_set1_epi32(lo));
                }
            }
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
                                     _mm512_mul_ps(dw, _mm512_set1_ps(a->d)), acc[t]);
        }
    }
    for (int t = 0; t < T; t++)
        _mm512_storeu_ps(y + t * ldy, acc[t]);
}

/* Tokens of one 16-row pair of groups, X16_T at a time, then one smaller
   constant tile for the rest, each prefetching its share of the next
   pair (next, 2 groups of gs bytes; NULL for the last: prefetch_share.h). */
INLINE void x16_tokens(float *y, size_t ldy, const uint8_t *p0, const uint8_t *p1,
                       const uint8_t *x, size_t xs, int nb, int nt, int q4,
                       const uint8_t *next, size_t gs)
{
    int tiles = (nt + X16_T - 1) / X16_T, j = 0;
#define X16_PF(j) slm_pf_share_of(next, 2 * gs, tiles, j, nb)
    int t = 0;
    for (; t + X16_T <= nt; t += X16_T, j++)
        x16_tile(y + t * ldy, ldy, p0, p1, x + t * xs, xs, nb, X16_T, q4, X16_PF(j));
    y += t * ldy;
    x += t * xs;
    switch (nt - t) {
    case 7: x16_tile(y, ldy, p0, p1, x, xs, nb, 7, q4, X16_PF(j)); break;
    case 6: x16_tile(y, ldy, p0, p1, x, xs, nb, 6, q4, X16_PF(j)); break;
    case 5: x16_tile(y, ldy, p0, p1, x, xs, nb, 5, q4, X16_PF(j)); break;
    case 4: x16_tile(y, ldy, p0, p1, x, xs, nb, 4, q4, X16_PF(j)); break;
    case 3: x16_tile(y, ldy, p0, p1, x, xs, nb, 3, q4, X16_PF(j)); break;
    case 2: x16_tile(y, ldy, p0, p1, x, xs, nb, 2, q4, X16_PF(j)); break;
    case 1: x16_tile(y, ldy, p0, p1, x, xs, nb, 1, q4, X16_PF(j)); break;
    default: break;
    }
#undef X16_PF
}

/* Every group: decode (one token) group by group in x8_gemv (one 8-row
   stream measured faster than two side by side: q4_0 tg32 ~51 vs ~38
   tok/s on a Zen 4); batches in pairs of groups (16-row tiles), an odd
   last group in the 8-row tile (X8_T tokens at a time, then a smaller
   constant tile). Same bits either way. */
INLINE void gemm_x8_grid(float *y, size_t ldy, const uint8_t *w, size_t gs, const uint8_t *x,
                         size_t xs, int nr, int nt, int k, int q4)
{
    int nb = k / SLM_QBLOCK, ng = nr / 8, g = 0;
    if (nt == 1) {
        for (; g < ng; g++)
            x8_gemv(y + 8 * g, w + g * gs, (const slm_act_q8 *)x, nb, q4);
        return;
    }
    for (; nt > 1 && g + 2 <= ng; g += 2)
        x16_tokens(y + 8 * g, ldy, w + g * gs, w + (g + 1) * gs, x, xs, nb, nt, q4,
                   g + 4 <= ng ? w + (g + 2) * gs : NULL, gs);
    for (; g < ng; g++) {
        const uint8_t *p = w + g * gs;
        float *yg = y + 8 * g;
        int t = 0;
        for (; t + X8_T <= nt; t += X8_T)
            x8_tile(yg + t * ldy, ldy, p, x + t * xs, xs, nb, X8_T, q4);
        switch (nt - t) {
        case 3: x8_tile(yg + t * ldy, ldy, p, x + t * xs, xs, nb, 3, q4); break;
        case 2: x8_tile(yg + t * ldy, ldy, p, x + t * xs, xs, nb, 2, q4); break;
        case 1: x8_tile(yg + t * ldy, ldy, p, x + t * xs, xs, nb, 1, q4); break;
        default: break;
        }
    }
}

static void gemm_q8_0x8(float *y, size_t ldy, const void *w, size_t gs, const void *x, size_t xs,
                        int nr, int nt, int k)
{
    gemm_x8_grid(y, ldy, w, gs, x, xs, nr, nt, k, 0);
}

static void gemm_q4_0x8(float *y, size_t ldy, const void *w, size_t gs, const void *x, size_t xs,
                        int nr, int nt, int k)
{
    gemm_x8_grid(y, ldy, w, gs, x, xs, nr, nt, k, 1);
}

#define AVX512_TABLE_ENTRIES                                                                \
    .dot_f32 = dot_f32, .dot_f16 = dot_f16, .dot_bf16 = dot_bf16, .dot_q8_0 = dot_q8_0,     \
    .dot_q4_0 = dot_q4_0, .quantize_act_q8 = quantize_act_q8, .f16_to_f32 = f16_to_f32,     \
    .bf16_to_f32 = bf16_to_f32, .gemm_f32 = gemm_f32, .gemm_f16 = gemm_f16,                 \
    .gemm_bf16 = gemm_bf16, .gemm_q8_0 = gemm_q8_0, .gemm_q4_0 = gemm_q4_0,                \
    .gemm_f32x16 = gemm_f32x16, .gemm_f16x16 = gemm_f16x16, .gemm_bf16x16 = gemm_bf16x16,   \
    .sgemm_nt = AVX512_SGEMM, .sgemm_ab = AVX512_SGEMM_AB,                                 \
    .quantize_row_q8_0 = AVX512_QUANT_Q8_0,                                                 \
    .quantize_row_q4_0 = AVX512_QUANT_Q4_0

#ifdef SLM_AVX512_EMULATED /* the emulated table must not reach native code */
#ifdef SLM_AVX512_EMULATED_SGEMM /* the tests' SIMDe build of avx512_sgemm.c */
#define AVX512_SGEMM slm_test_sgemm_nt_avx512_emulated
#define AVX512_SGEMM_AB slm_test_sgemm_ab_avx512_emulated
#else
#define AVX512_SGEMM NULL
#define AVX512_SGEMM_AB NULL
#endif
#ifdef SLM_AVX512_EMULATED_QUANT /* avx512_quant.c in the same test unit */
#define AVX512_QUANT_Q8_0 slm_test_quantize_row_q8_0_avx512_emulated
#define AVX512_QUANT_Q4_0 slm_test_quantize_row_q4_0_avx512_emulated
#else
#define AVX512_QUANT_Q8_0 NULL
#define AVX512_QUANT_Q4_0 NULL
#endif
#else
#define AVX512_SGEMM slm_sgemm_nt_avx512
#define AVX512_SGEMM_AB slm_sgemm_ab_avx512
#define AVX512_QUANT_Q8_0 slm_quantize_row_q8_0_avx512
#define AVX512_QUANT_Q4_0 slm_quantize_row_q4_0_avx512
#endif

static const slm_kernel_table table = {
    .isa = SLM_ISA_AVX512,
    .name = "avx512",
    AVX512_TABLE_ENTRIES,
    .gemm_q8_0x8 = gemm_q8_0x8,
    .gemm_q4_0x8 = gemm_q4_0x8,
    /* measured: the x8 products are the faster ones (bench_kernels, and slm
       bench avx2 vs avx512 on a Zen 4 and an Intel Xeon with AMX) */
    .prefers_x8 = 1,
    .prefers_x16 = 1,
};

const slm_kernel_table *slm_kernels_avx512(void) { return &table; }

#ifndef SLM_AVX512_EMULATED /* AMX has no emulation: only the real build */
void slm_avx512_gemm_x8(float *y, size_t ldy, const void *w, size_t gs, const void *x,
                        size_t xs, int nr, int nt, int k, int q4)
{
    gemm_x8_grid(y, ldy, w, gs, x, xs, nr, nt, k, q4);
}

/* The amx table (dispatch.h): this one with the x8 batch products' integer
   part on tiles (amx_gemm.c), the same bits. */
static const slm_kernel_table table_amx = {
    .isa = SLM_ISA_AMX,
    .name = "amx",
    AVX512_TABLE_ENTRIES,
    .gemm_q8_0x8 = slm_amx_gemm_q8_0x8,
    .gemm_q4_0x8 = slm_amx_gemm_q4_0x8,
    .prefers_x8 = 1,
    .prefers_x16 = 1,
};

const slm_kernel_table *slm_kernels_amx(void) { return &table_amx; }
#endif
