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
 * Float batches are also cache-blocked over rows and k (block_f), the
 * accumulators carried between k parts whole.
 * Ragged edges run smaller tiles (or the row dots) and decode runs 8
 * (quantized) or 4 (float) rows x 1 token: every path computes each output element with the same arithmetic,
 * so products are batch invariant (dispatch.h). Per element:
 *   f32/f16/bf16  one 8-lane accumulator: lane j takes w[i]·x[i] for
 *                 i ≡ j (mod 8), i increasing, by FMA; the k % 8 tail is
 *                 zero padded to a whole vector (fma(0, 0, acc)); then hsum8.
 *   q8_0          block by block, one accumulator: the 8 exact int32 lane
 *                 sums of dot_i8 (lane m: elements 4m..4m+3), converted,
 *                 acc = fma(sum, d_w·d_x, acc) (the scale rounded once);
 *                 then hsum8.
 *   q4_0          blocks in pairs (b, b+1), one accumulator: the regrouped
 *                 pair sums of q4_pair_sums (lanes 0-3 block b, 4-7 block
 *                 b+1), acc = fma(sum, d_w·d_x of each lane's block, acc);
 *                 a lone last block as q8_0's dot_i8 layout over its signed
 *                 nibbles (q4_lone), into the same accumulator; then hsum8.
 *   x8-packed     one lane per row: acc = fma(sum, d_w·d_x, acc) per block,
 *                 in block order (one accumulator, also in decode), stored.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "avx2_quant.h"
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

INLINE int ld16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2); /* blocks are 18/34 bytes: scales are unaligned */
    return h;
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

/* Software prefetch this far ahead of the row being read: measured +10% on
   a DRAM-bound f16 row stream over the hardware prefetcher alone. A
   prefetch past the row's end is harmless (it never faults). */
#define PREFETCH_BYTES 1024 /* 2 and 4 KiB measured slower for f32/bf16 decode */
#define PREFETCH(p) _mm_prefetch((const char *)(p) + PREFETCH_BYTES, _MM_HINT_T0)

/* -------------------------------------------------------- quantized dots */

/* acc + one Q8_0 (or signed-nibble) block's sums times d_w·d_x. */
INLINE __m256 q8_block(__m256 acc, __m256i w, const uint8_t *p, const slm_act_q8 *a)
{
    __m256i s = dot_i8(w, _mm256_loadu_si256((const __m256i *)a->q));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(f16_at(p) * a->d), acc);
}

/* Q8_0 row: one accumulator, blocks in order (gemv_q8_0 and tile_q8 run
   the same sequence per row). The dot entry serves the edges, not speed. */
static float dot_q8_0(const void *w, const void *xq, int n)
{
    const uint8_t *p = w;
    const slm_act_q8 *a = xq;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < n / SLM_QBLOCK; b++, p += SLM_Q8_0_BYTES, a++)
        acc = q8_block(acc, _mm256_loadu_si256((const __m256i *)(p + 2)), p, a);
    return hsum8(acc);
}

/* Q4_0, two blocks per step. The 32 quant bytes of two blocks fill one ymm,
   so one and/shift yields the nibbles of both:
     lo = [low nibbles b0 | low nibbles b1]   (elements 0-15 of each block)
     hi = [high nibbles b0 | high nibbles b1] (elements 16-31)
   and the activations are regrouped to match (xl, xh). Nibbles multiply
   unsigned (maddubs u8 x s8) and the "- 8" is subtracted as maddubs(8, x)
   in int16: |pair sums| <= 2·15·127 + 2·15·127 and 4·8·127, no overflow.
   After madd the int32 lanes 0-3 hold block b0, 4-7 block b1. */
typedef struct {
    __m256i xl, xh, k16; /* regrouped activations, Σ 8·x pairs */
    __m256 dx;           /* [d_x0, d_x1, ...] */
} q4_xpair;

INLINE q4_xpair q4_xload(const slm_act_q8 *a)
{
    q4_xpair x;
    x.xl = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)a[1].q),
                            _mm_loadu_si128((const __m128i *)a[0].q));
    x.xh = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)(a[1].q + 16)),
                            _mm_loadu_si128((const __m128i *)(a[0].q + 16)));
    const __m256i eight = _mm256_set1_epi8(8);
    x.k16 = _mm256_add_epi16(_mm256_maddubs_epi16(eight, x.xl), _mm256_maddubs_epi16(eight, x.xh));
    x.dx = _mm256_castps128_ps256(_mm_unpacklo_ps(_mm_set_ss(a[0].d), _mm_set_ss(a[1].d)));
    return x;
}

/* Nibbles lo/hi of a pair of blocks against regrouped x: int32 sums. */
INLINE __m256i q4_nib_sums(__m256i lo, __m256i hi, const q4_xpair *x)
{
    __m256i p16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, x->xl), _mm256_maddubs_epi16(hi, x->xh));
    return _mm256_madd_epi16(_mm256_sub_epi16(p16, x->k16), _mm256_set1_epi16(1));
}

/* The pair of blocks at p (and p + 18) as nibbles: lo, hi as above. */
INLINE void q4_pair_nibs(const uint8_t *p, __m256i *lo, __m256i *hi)
{
    const __m256i m = _mm256_set1_epi8(15);
    __m256i raw = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)(p + SLM_Q4_0_BYTES + 2)),
                                   _mm_loadu_si128((const __m128i *)(p + 2)));
    *lo = _mm256_and_si256(raw, m);
    *hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m);
}

/* Nibble·x int32 sums of the pair of blocks at p, "- 8" included. */
INLINE __m256i q4_pair_sums(const uint8_t *p, const q4_xpair *x)
{
    __m256i lo, hi;
    q4_pair_nibs(p, &lo, &hi);
    return q4_nib_sums(lo, hi, x);
}

/* Blocks at p and p + 18 of one row against x, into acc. */
INLINE __m256 q4_pair(__m256 acc, const uint8_t *p, const q4_xpair *x)
{
    __m256 dw = _mm256_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(ld16(p)), ld16(p + SLM_Q4_0_BYTES), 1));
    __m256 sc = _mm256_permutevar8x32_ps(_mm256_mul_ps(dw, x->dx),
                                         _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_pair_sums(p, x)), sc, acc);
}

/* A lone last block (odd block count): its signed nibbles in dot_i8's
   layout, the same in every path. */
INLINE __m256 q4_lone(__m256 acc, const uint8_t *p, const slm_act_q8 *a)
{
    return q8_block(acc, load_q4_signed(p + 2), p, a);
}

/* Q4_0 row: pairs into one accumulator, then the lone block. */
static float dot_q4_0(const void *w, const void *xq, int n)
{
    const uint8_t *p = w;
    const slm_act_q8 *a = xq;
    int nb = n / SLM_QBLOCK, b = 0;
    __m256 acc = _mm256_setzero_ps();
    for (; b + 2 <= nb; b += 2, p += 2 * SLM_Q4_0_BYTES, a += 2) {
        q4_xpair x = q4_xload(a);
        acc = q4_pair(acc, p, &x);
    }
    if (b < nb)
        acc = q4_lone(acc, p, a);
    return hsum8(acc);
}

/* ------------------------------------------------ decode (one token) */

/* Matrix-vector products run GEMV_R rows at a time so the activation side
   of each step (loads, Q4_0's regrouping and Σ8x, d_x) is shared by the
   rows. (Reducing 8 blocks to one lane each with hadds, to save converts
   and FMAs, measured slower here: the scale gathering costs more.) Rows
   past the last multiple of GEMV_R go to the row dots, which compute the
   same per-row sequence. */
#define GEMV_R 8

/* Four blocks of one row (two pairs): their four d_w come in one convert
   (each lane's scale is still d_w·d_x of its block, as in q4_pair). */
INLINE __m256 q4_quad(__m256 acc, const uint8_t *p, const q4_xpair *x0, const q4_xpair *x1,
                      __m128 dx4)
{
    __m128i h = _mm_cvtsi32_si128(ld16(p));
    h = _mm_insert_epi16(h, ld16(p + SLM_Q4_0_BYTES), 1);
    h = _mm_insert_epi16(h, ld16(p + 2 * SLM_Q4_0_BYTES), 2);
    h = _mm_insert_epi16(h, ld16(p + 3 * SLM_Q4_0_BYTES), 3);
    __m256 sc = _mm256_castps128_ps256(_mm_mul_ps(_mm_cvtph_ps(h), dx4));
    __m256 s01 = _mm256_permutevar8x32_ps(sc, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    __m256 s23 = _mm256_permutevar8x32_ps(sc, _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_pair_sums(p, x0)), s01, acc);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_pair_sums(p + 2 * SLM_Q4_0_BYTES, x1)), s23, acc);
}

static void gemv_q4_0(float *y, const uint8_t *w, size_t ws, const slm_act_q8 *a, int nr, int k)
{
    int nb = k / SLM_QBLOCK, nb4 = nb - nb % 4, r = 0;
    for (; r + GEMV_R <= nr; r += GEMV_R) {
        const uint8_t *p = w + r * ws;
        __m256 acc[GEMV_R];
        for (int i = 0; i < GEMV_R; i++)
            acc[i] = _mm256_setzero_ps();
        for (int b = 0; b < nb4; b += 4) {
            q4_xpair x0 = q4_xload(a + b), x1 = q4_xload(a + b + 2);
            __m128 dx4 = _mm_setr_ps(a[b].d, a[b + 1].d, a[b + 2].d, a[b + 3].d);
            for (int i = 0; i < GEMV_R; i++)
                acc[i] = q4_quad(acc[i], p + i * ws + b * SLM_Q4_0_BYTES, &x0, &x1, dx4);
        }
        int b = nb4;
        if (b + 2 <= nb) { /* the blocks past the quads, as dot_q4_0 does them */
            q4_xpair x0 = q4_xload(a + b);
            for (int i = 0; i < GEMV_R; i++)
                acc[i] = q4_pair(acc[i], p + i * ws + b * SLM_Q4_0_BYTES, &x0);
            b += 2;
        }
        for (int i = 0; i < GEMV_R; i++) {
            if (b < nb)
                acc[i] = q4_lone(acc[i], p + i * ws + b * SLM_Q4_0_BYTES, a + b);
            y[r + i] = hsum8(acc[i]);
        }
    }
    for (; r < nr; r++)
        y[r] = dot_q4_0(w + r * ws, a, k);
}

static void gemv_q8_0(float *y, const uint8_t *w, size_t ws, const slm_act_q8 *a, int nr, int k)
{
    int nb = k / SLM_QBLOCK, r = 0;
    for (; r + GEMV_R <= nr; r += GEMV_R) {
        const uint8_t *p = w + r * ws;
        __m256 acc[GEMV_R];
        for (int i = 0; i < GEMV_R; i++)
            acc[i] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)a[b].q);
            for (int i = 0; i < GEMV_R; i++) {
                const uint8_t *pb = p + i * ws + b * SLM_Q8_0_BYTES;
                __m256i s = dot_i8(_mm256_loadu_si256((const __m256i *)(pb + 2)), xv);
                acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(f16_at(pb) * a[b].d),
                                         acc[i]);
            }
        }
        for (int i = 0; i < GEMV_R; i++)
            y[r + i] = hsum8(acc[i]);
    }
    for (; r < nr; r++)
        y[r] = dot_q8_0(w + r * ws, a, k);
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

/* ------------------------------------------------------ conversions */

static void f16_to_f32(const uint16_t *src, float *dst, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, load_f16x8(src + i));
    for (; i < n; i++)
        dst[i] = _cvtsh_ss(src[i]);
}

static void bf16_to_f32(const uint16_t *src, float *dst, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, load_bf16x8(src + i));
    for (; i < n; i++)
        dst[i] = slm_bf16_to_f32(src[i]);
}

/* ------------------------------------------------------ tiles */

/* Weight kinds; constant at every call, so each tile is specialised. */
enum { K_F32, K_F16, K_BF16, K_Q8, K_Q4 };

#define R_F 3 /* float tiles: 3 rows x 4 tokens = 12 accumulators */
#define T_F 4
#define R_D 4 /* float decode: 4 rows x 1 token, four FMA chains */
#define R_Q 3 /* quantized tiles: 3 rows x 4 tokens */
#define T_Q 4
#define MAXR 8
#define MAXT 4

/* 8 weights of a float row from element i, as f32. */
INLINE __m256 load_w8(const uint8_t *row, int i, int kind)
{
    if (kind == K_F32)
        return _mm256_loadu_ps((const float *)row + i);
    return kind == K_F16 ? load_f16x8((const uint16_t *)row + i)
                         : load_bf16x8((const uint16_t *)row + i);
}

/* Elements i .. k-1 (fewer than 8) of a weight row / a token, zero padded:
   the k tail joins the same lanes as a whole vector would. */
INLINE __m256 load_w8_tail(const uint8_t *row, int i, int k, int kind)
{
    size_t es = kind == K_F32 ? 4 : 2;
    uint8_t buf[32] = {0};
    memcpy(buf, row + (size_t)i * es, (size_t)(k - i) * es);
    return load_w8(buf, 0, kind);
}

INLINE __m256 load_x8_tail(const float *x, int i, int k)
{
    float buf[8] = {0};
    memcpy(buf, x + i, sizeof(float) * (size_t)(k - i));
    return _mm256_loadu_ps(buf);
}

/* One step of 8 elements of an R x T float tile. */
INLINE void tile_f_step(__m256 acc[MAXR][MAXT], const uint8_t *w, size_t ws, const uint8_t *x,
                        size_t xs, int i, int k, int kind, int R, int T, int tail, int pf)
{
    __m256 wv[MAXR];
    for (int r = 0; r < R; r++) {
        const uint8_t *row = w + r * ws;
        wv[r] = tail ? load_w8_tail(row, i, k, kind) : load_w8(row, i, kind);
        /* decode and block_f's tiles (pf): one prefetch per line, as in
           avx512_dot.c: R short row streams side by side, too short for
           the hardware prefetcher, so the same line of the next tile's
           rows (f32 decode: 1 KiB ahead in the row, the next tile only for
           its first KiB) */
        size_t off = (size_t)i * (kind == K_F32 ? 4 : 2);
        if (tail || off % 64 != 0 || !(pf || T == 1))
            continue;
        if (pf || kind != K_F32 || off < PREFETCH_BYTES)
            _mm_prefetch((const char *)row + off + R * ws, _MM_HINT_T0);
        if (!pf && kind == K_F32)
            PREFETCH(row + off);
    }
    for (int t = 0; t < T; t++) {
        const float *xt = (const float *)(x + t * xs);
        __m256 xv = tail ? load_x8_tail(xt, i, k) : _mm256_loadu_ps(xt + i);
        /* keep xv in a register: left alone, gcc's znver3 tuning folds
           the load into each FMA (R loads instead of one) and the tile
           runs at half speed on the load ports */
        __asm__("" : "+x"(xv));
        for (int r = 0; r < R; r++)
            acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
}

/* Elements [i0, i1) of an R x T float tile into acc (i0 % 8 == 0; only
   the last part, i1 == k, has the zero-padded tail). */
INLINE void tile_f_part(__m256 acc[MAXR][MAXT], const uint8_t *w, size_t ws, const uint8_t *x,
                        size_t xs, int i0, int i1, int k, int kind, int R, int T, int pf)
{
    int i = i0;
    for (; i + 8 <= i1; i += 8)
        tile_f_step(acc, w, ws, x, xs, i, k, kind, R, T, 0, pf);
    if (i < i1)
        tile_f_step(acc, w, ws, x, xs, i, k, kind, R, T, 1, pf);
}

/* R rows x T tokens of k float elements: y[t * ldy + r]. */
INLINE void tile_f(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                   size_t xs, int k, int kind, int R, int T)
{
    __m256 acc[MAXR][MAXT];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++)
            acc[r][t] = _mm256_setzero_ps();
    tile_f_part(acc, w, ws, x, xs, 0, k, k, kind, R, T, 0);
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++)
            y[t * ldy + r] = hsum8(acc[r][t]);
}

/* Float prompt batches, cache-blocked: rows in blocks of RB_F (whole
   R_F-row tiles), k in parts of KB_F. For each T_F-token tile the part of
   its activations (4 x 512 floats, 8 KiB) stays in L1 while every row tile
   of the block runs over it, the tiles' accumulators carried from one part
   to the next in `part`, and each tile prefetches the next tile's rows.
   Unblocked, each 3-row tile streamed the whole activation chunk (64 tokens
   x cols floats: 0.5 MiB at cols 2048, 1.4 MiB at 5632) through L1, from
   L2 where it fits and from L3 where it does not (Zen 3's L2 is 512 KiB).
   bench_kernels 5632 x 2048, n = 512, 1 thread, on the Xeon (2 MiB L2)
   with batch_rows's chunk raised to 512 tokens (4 MiB) to put it past L2:
   unblocked 43 GFLOP/s for f32, f16 and bf16, blocked 83-89; at the usual
   64-token chunk, which fits that L2, f32 76-78 -> 82-85, f16 92-93 ->
   92-94, bf16 85-87 -> 84-88 (TinyLlama pp512 the same within noise).
   KB_F 256 was 2-8% slower for f16/bf16 (more part switches). The
   accumulators are stored and reloaded whole, so each lane's FMA chain
   (and every output's bits) is the unblocked tile's. */
#define RB_F 24
#define KB_F 512

INLINE void block_f(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                    size_t xs, int nr, int nt, int k, int kind)
{
    for (int r0 = 0; r0 + R_F <= nr; r0 += RB_F) {
        int tiles = (nr - r0 < RB_F ? nr - r0 : RB_F) / R_F;
        for (int t0 = 0; t0 + T_F <= nt; t0 += T_F) {
            __m256 part[RB_F / R_F][R_F][T_F];
            for (int i0 = 0; i0 < k; i0 += KB_F) {
                int i1 = k - i0 < KB_F ? k : i0 + KB_F;
                for (int g = 0; g < tiles; g++) {
                    __m256 acc[MAXR][MAXT];
                    for (int r = 0; r < R_F; r++)
                        for (int t = 0; t < T_F; t++)
                            acc[r][t] = i0 ? part[g][r][t] : _mm256_setzero_ps();
                    tile_f_part(acc, w + (size_t)(r0 + g * R_F) * ws, ws, x + t0 * xs, xs, i0,
                                i1, k, kind, R_F, T_F, 1);
                    for (int r = 0; r < R_F; r++)
                        for (int t = 0; t < T_F; t++)
                            part[g][r][t] = acc[r][t];
                }
            }
            for (int g = 0; g < tiles; g++)
                for (int t = 0; t < T_F; t++)
                    for (int r = 0; r < R_F; r++)
                        y[(t0 + t) * ldy + r0 + g * R_F + r] = hsum8(part[g][r][t]);
        }
    }
}

/* Q8_0, R x T: dot_q8_0's per-block sequence for each (row, token). */
INLINE void tile_q8(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                    size_t xs, int nb, int R, int T)
{
    const size_t bb = SLM_Q8_0_BYTES;
    __m256 acc[MAXR][MAXT];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++)
            acc[r][t] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        __m256i wv[MAXR], wa[MAXR];
        __m256 dw[MAXR];
        for (int r = 0; r < R; r++) {
            const uint8_t *p = w + r * ws + b * bb;
            wv[r] = _mm256_loadu_si256((const __m256i *)(p + 2));
            wa[r] = _mm256_sign_epi8(wv[r], wv[r]);
            dw[r] = _mm256_set1_ps(f16_at(p));
        }
        for (int t = 0; t < T; t++) {
            const slm_act_q8 *a = (const slm_act_q8 *)(x + t * xs) + b;
            __m256i xv = _mm256_loadu_si256((const __m256i *)a->q);
            __m256 dx = _mm256_set1_ps(a->d);
            for (int r = 0; r < R; r++) {
                __m256i p = _mm256_maddubs_epi16(wa[r], _mm256_sign_epi8(xv, wv[r]));
                __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
                acc[r][t] = _mm256_fmadd_ps(f, _mm256_mul_ps(dw[r], dx), acc[r][t]);
            }
        }
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++)
            y[t * ldy + r] = hsum8(acc[r][t]);
}

/* Q4_0, R x T: dot_q4_0's pairs (then lone block) for each (row, token);
   the nibbles of a row's pair are unpacked once for the T tokens, the
   regrouped activations once for the R rows. */
INLINE void tile_q4(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                    size_t xs, int nb, int R, int T)
{
    const size_t bb = SLM_Q4_0_BYTES;
    __m256 acc[MAXR][MAXT];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++)
            acc[r][t] = _mm256_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m256i lo[MAXR], hi[MAXR];
        __m256 dw[MAXR]; /* [d_w0 x 4, d_w1 x 4] */
        for (int r = 0; r < R; r++) {
            const uint8_t *p = w + r * ws + b * bb;
            q4_pair_nibs(p, &lo[r], &hi[r]);
            dw[r] = _mm256_set_m128(_mm_set1_ps(f16_at(p + bb)), _mm_set1_ps(f16_at(p)));
        }
        for (int t = 0; t < T; t++) {
            const slm_act_q8 *a = (const slm_act_q8 *)(x + t * xs) + b;
            q4_xpair xp = q4_xload(a);
            __m256 dx = _mm256_set_m128(_mm_set1_ps(a[1].d), _mm_set1_ps(a[0].d));
            for (int r = 0; r < R; r++) {
                __m256 f = _mm256_cvtepi32_ps(q4_nib_sums(lo[r], hi[r], &xp));
                acc[r][t] = _mm256_fmadd_ps(f, _mm256_mul_ps(dw[r], dx), acc[r][t]);
            }
        }
    }
    if (b < nb)
        for (int t = 0; t < T; t++)
            for (int r = 0; r < R; r++)
                acc[r][t] = q4_lone(acc[r][t], w + r * ws + b * bb,
                                    (const slm_act_q8 *)(x + t * xs) + b);
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++)
            y[t * ldy + r] = hsum8(acc[r][t]);
}

INLINE void tile(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                 int k, int kind, int R, int T)
{
    if (kind == K_Q8)
        tile_q8(y, ldy, w, ws, x, xs, k / SLM_QBLOCK, R, T);
    else if (kind == K_Q4)
        tile_q4(y, ldy, w, ws, x, xs, k / SLM_QBLOCK, R, T);
    else
        tile_f(y, ldy, w, ws, x, xs, k, kind, R, T);
}

/* Tokens of R rows: T at a time, then one at a time. */
INLINE void grid_tokens(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                        size_t xs, int nt, int k, int kind, int R, int T)
{
    int t = 0;
    for (; t + T <= nt; t += T)
        tile(y + t * ldy, ldy, w, ws, x + t * xs, xs, k, kind, R, T);
    for (; t < nt; t++)
        tile(y + t * ldy, ldy, w, ws, x + t * xs, xs, k, kind, R, 1);
}

/* Every row and token of the range: decode by the gemv kernels (quantized)
   or 4-row float tiles, batches in R x T tiles with smaller tiles on the
   ragged edges. Which path an element takes does not change its bits. */
INLINE void gemm_grid(float *y, size_t ldy, const uint8_t *w, size_t ws, const uint8_t *x,
                      size_t xs, int nr, int nt, int k, int kind)
{
    int quant = kind >= K_Q8, R = quant ? R_Q : R_F, T = quant ? T_Q : T_F, r = 0;
    if (nt == 1) {
        if (kind == K_Q4)
            gemv_q4_0(y, w, ws, (const slm_act_q8 *)x, nr, k);
        else if (kind == K_Q8)
            gemv_q8_0(y, w, ws, (const slm_act_q8 *)x, nr, k);
        else {
            for (; r + R_D <= nr; r += R_D)
                tile(y + r, ldy, w + r * ws, ws, x, xs, k, kind, R_D, 1);
            for (; r < nr; r++)
                tile(y + r, ldy, w + r * ws, ws, x, xs, k, kind, 1, 1);
        }
        return;
    }
    if (!quant) {
        /* whole tiles blocked, then the ragged tokens of those rows */
        int nr3 = nr / R * R, nt4 = nt / T * T;
        block_f(y, ldy, w, ws, x, xs, nr3, nt4, k, kind);
        for (; r < nr3; r += R)
            for (int t = nt4; t < nt; t++)
                tile(y + t * ldy + r, ldy, w + r * ws, ws, x + t * xs, xs, k, kind, R, 1);
    }
    for (; r + R <= nr; r += R)
        grid_tokens(y + r, ldy, w + r * ws, ws, x, xs, nt, k, kind, R, T);
    for (; r < nr; r++)
        grid_tokens(y + r, ldy, w + r * ws, ws, x, xs, nt, k, kind, 1, T);
}

/* Float dot entries: a 1 x 1 tile, the arithmetic of every float product. */
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

/* ------------------------------------------- x8-packed products (pack.c) */

/* One 32-byte load of a packed block group is chunk c of all 8 rows, 4
   quant bytes per row, so each int32 lane of a dot belongs to one row and
   the activations enter as the same 4 bytes broadcast to every lane. A
   block's 8 row sums end as the 8 lanes of one vector: one convert and one
   FMA (by the 8 rows' d_w times d_x) finish it, with no horizontal sums.
   Tiles are 8 rows x X8_T tokens; a group's unpacked weights are reused by
   every token of the tile. */
#define X8_T 4
#define X8_Q4_GROUP_BLOCK (8 * SLM_Q4_0_BYTES) /* bytes of one block group */
#define X8_Q8_GROUP_BLOCK (8 * SLM_Q8_0_BYTES)
/* Bytes ahead of the weight stream that decode prefetches (tg64, TinyLlama:
   q4_0 best at 2 KiB, see q4x8_gemv; q8_0 at 1 KiB: 1 thread 17.2 -> 18.5
   tok/s over 0.5 KiB, 2 threads the same at 0.5-2 KiB) */
#define X8_PREFETCH 2048
#define X8_Q8_PREFETCH 1024

INLINE __m256i bcast4(const int8_t *q)
{
    int32_t v;
    memcpy(&v, q, 4);
    return _mm256_set1_epi32(v);
}

/* Q4_0: Σ nib·x over a block for 8 rows. Each maddubs pair is at most
   2·15·127 = 3810 in magnitude, so the 8 of a block add up in int16
   (30480 < 32767) before one madd widens them; the "- 8" of every nibble
   is then subtracted once as 8·Σx. */
INLINE __m256i q4x8_block(const __m256i nib[8], const slm_act_q8 *a)
{
    __m256i s = _mm256_maddubs_epi16(nib[0], bcast4(a->q));
    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(nib[1], bcast4(a->q + 16)));
    for (int c = 1; c < 4; c++) {
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(nib[2 * c], bcast4(a->q + 4 * c)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(nib[2 * c + 1], bcast4(a->q + 16 + 4 * c)));
    }
    __m256i s32 = _mm256_madd_epi16(s, _mm256_set1_epi16(1));
    return _mm256_sub_epi32(s32, _mm256_slli_epi32(_mm256_set1_epi32(a->sum), 3));
}

/* The block group at p as nibbles: nib[2c] the low ones of chunk c
   (elements 4c..4c+3 of each row), nib[2c + 1] the high ones (16+4c..). */
INLINE void q4x8_unpack(const uint8_t *p, __m256i nib[8])
{
    const __m256i m = _mm256_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * c));
        nib[2 * c] = _mm256_and_si256(v, m);
        nib[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
    }
}

/* 8 rows (the group at p) x T tokens, all nb blocks; y[t * ldy + i]. */
INLINE void q4x8_tile(float *y, size_t ldy, const uint8_t *p, const uint8_t *x, size_t xs,
                      int nb, int T)
{
    __m256 acc[X8_T];
    for (int t = 0; t < T; t++)
        acc[t] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, p += X8_Q4_GROUP_BLOCK) {
        _mm_prefetch((const char *)p + 4 * X8_Q4_GROUP_BLOCK, _MM_HINT_T0);
        __m256i nib[8];
        q4x8_unpack(p, nib);
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
        for (int t = 0; t < T; t++) {
            const slm_act_q8 *a = (const slm_act_q8 *)(x + t * xs) + b;
            __m256 f = _mm256_cvtepi32_ps(q4x8_block(nib, a));
            acc[t] = _mm256_fmadd_ps(f, _mm256_mul_ps(dw, _mm256_set1_ps(a->d)), acc[t]);
        }
    }
    for (int t = 0; t < T; t++)
        _mm256_storeu_ps(y + t * ldy, acc[t]);
}

/* One token (decode): one block group of 8 rows into acc. */
INLINE __m256 q4x8_step(__m256 acc, const uint8_t *p, const slm_act_q8 *a)
{
    __m256i nib[8];
    q4x8_unpack(p, nib);
    __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    __m256 f = _mm256_cvtepi32_ps(q4x8_block(nib, a));
    return _mm256_fmadd_ps(f, _mm256_mul_ps(dw, _mm256_set1_ps(a->d)), acc);
}

/* Decode: blocks two at a time, so two blocks' loads and dot chains are in
   flight together, into the one accumulator q4x8_tile uses (same sequence
   of FMAs per lane: batch invariant; its latency, 2 FMAs per 288 bytes,
   is far from the memory stream's), and every line of the stream
   prefetched X8_PREFETCH bytes ahead: the hardware prefetcher alone left
   the loop waiting on DRAM (TinyLlama q4_0 tg64, 2 threads: 47 -> 55
   tok/s; 1 thread: 28 -> 35; 1 KiB ahead gave 54, 4 KiB 51). */
INLINE void q4x8_gemv(float *y, const uint8_t *p, const slm_act_q8 *a, int nb)
{
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 2 <= nb; b += 2, p += 2 * X8_Q4_GROUP_BLOCK) {
        for (int off = 0; off < 2 * X8_Q4_GROUP_BLOCK; off += 64)
            _mm_prefetch((const char *)p + X8_PREFETCH + off, _MM_HINT_T0);
        acc = q4x8_step(acc, p, a + b);
        acc = q4x8_step(acc, p + X8_Q4_GROUP_BLOCK, a + b + 1);
    }
    if (b < nb)
        acc = q4x8_step(acc, p, a + b);
    _mm256_storeu_ps(y, acc);
}

/* Q8_0: the sign trick per chunk (|w| once per tile, the sign moved onto
   each token's broadcast); pair sums reach 2·128·127, so every chunk is
   widened to int32 by its own madd. */
INLINE void q8x8_tile(float *y, size_t ldy, const uint8_t *p, const uint8_t *x, size_t xs,
                      int nb, int T)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[X8_T];
    for (int t = 0; t < T; t++)
        acc[t] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, p += X8_Q8_GROUP_BLOCK) {
        for (int off = 0; off < X8_Q8_GROUP_BLOCK; off += 64)
            _mm_prefetch((const char *)p + X8_Q8_PREFETCH + off, _MM_HINT_T0);
        const slm_act_q8 *a[X8_T];
        __m256i s[X8_T];
        for (int t = 0; t < T; t++) {
            a[t] = (const slm_act_q8 *)(x + t * xs) + b;
            s[t] = _mm256_setzero_si256();
        }
        for (int c = 0; c < 8; c++) {
            __m256i w = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * c));
            __m256i wa = _mm256_sign_epi8(w, w);
            for (int t = 0; t < T; t++) {
                __m256i xs4 = _mm256_sign_epi8(bcast4(a[t]->q + 4 * c), w);
                s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(_mm256_maddubs_epi16(wa, xs4), ones));
            }
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
        for (int t = 0; t < T; t++)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]),
                                     _mm256_mul_ps(dw, _mm256_set1_ps(a[t]->d)), acc[t]);
    }
    for (int t = 0; t < T; t++)
        _mm256_storeu_ps(y + t * ldy, acc[t]);
}

/* Every group of the range, tokens X8_T at a time (the last 1-3 with a
   smaller tile; T is a constant at each call, so each tile unrolls). */
INLINE void gemm_x8_grid(float *y, size_t ldy, const uint8_t *w, size_t gs, const uint8_t *x,
                         size_t xs, int nr, int nt, int k, int q4)
{
    int nb = k / SLM_QBLOCK;
    for (int g = 0; g < nr / 8; g++) {
        const uint8_t *p = w + g * gs;
        float *yg = y + 8 * g;
        if (q4 && nt == 1) {
            q4x8_gemv(yg, p, (const slm_act_q8 *)x, nb);
            continue;
        }
        int t = 0;
#define X8_TILE(T)                                                                 \
    (q4 ? q4x8_tile(yg + t * ldy, ldy, p, x + t * xs, xs, nb, T)                   \
        : q8x8_tile(yg + t * ldy, ldy, p, x + t * xs, xs, nb, T))
        for (; t + X8_T <= nt; t += X8_T)
            X8_TILE(X8_T);
        switch (nt - t) {
        case 3: X8_TILE(3); break;
        case 2: X8_TILE(2); break;
        case 1: X8_TILE(1); break;
        default: break;
        }
#undef X8_TILE
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

static const slm_kernel_table table = {
    .isa = SLM_ISA_AVX2,
    .name = "avx2",
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
    .gemm_q8_0x8 = gemm_q8_0x8,
    .gemm_q4_0x8 = gemm_q4_0x8,
    .gemm_f32x16 = slm_gemm_f32x16_ref, /* x16 floats: not preferred here */
    .gemm_f16x16 = slm_gemm_f16x16_ref,
    .gemm_bf16x16 = slm_gemm_bf16x16_ref,
    .quantize_row_q8_0 = slm_quantize_row_q8_0_avx2,
    .quantize_row_q4_0 = slm_quantize_row_q4_0_avx2,
    .prefers_x8 = 1,
};

const slm_kernel_table *slm_kernels_avx2(void) { return &table; }
