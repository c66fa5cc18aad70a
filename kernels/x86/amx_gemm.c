/*
 * amx_gemm.c — the integer part of the x8-packed Q8_0 and Q4_0 batch
 * products on AMX tiles (the amx table: avx512_dot.c's table with these).
 *
 * Contract: the same bits as the avx512 table's x8 product (x8_tile /
 * x16_tile there), element for element. That holds because only the exact
 * part moves to the tiles: each block's integer sum Σ w·x (int32, no
 * overflow: |Σ| <= 32·128·127) is the same number whether dpbusd or a tile
 * product forms it, and the float part that follows (convert, scale
 * d_w·d_x, fma into the row's accumulator in block order) is the avx512
 * code's, lane for lane. So tiles can take any 16 tokens of a batch and the
 * VNNI code the rest (fewer tokens, an odd last group, decode) without
 * breaking batch invariance (dispatch.h).
 *
 * Per block b, 16 tokens and one group of 8 rows, one tdpbssd (signed x
 * signed: Q8_0's quants as they are):
 *   A  16 tokens x 32 activation quants, read in place from the SLM_ACT_Q8
 *      blocks (row stride = one token's blocks)
 *   B  the block's 32 quants of the group's 8 rows in the VNNI layout tiles
 *      want (B row c = elements 4c..4c+3 of each row), which is the x8
 *      layout's chunk c (pack.c): read in place, stride 32
 *   C  16 tokens x 8 rows of int32, stored to a buffer; two groups' C side
 *      by side are x16_tile's 16 lanes, and its fma runs on them.
 *
 * Measured (bench_kernels prefill 5632 x 2048, n = 128, Intel Xeon with
 * AMX): 500 GFLOP/s on 1 thread, 975 on 2, against 390 / 790 for the VNNI
 * tiles. The per-block scales make each 16 x 8 x 32 product end in a tile
 * store and a float pass, which is what bounds it.
 *
 * Q4_0's nibbles must be unpacked into a buffer before a tile can load
 * them (tdpbsud: signed activations x unsigned nibbles, the -8·Σx
 * correction added to each sum as the VNNI code starts from it). Unpacked
 * per 16-token tile that measured slower than VNNI (365-380 vs 405-410
 * GFLOP/s); so blocks go outermost, each block's B unpacked and loaded once
 * for every token tile of the call, the accumulators in memory between
 * blocks: 472-477 vs 403-410 (1 thread), pp128 314-337 -> 363-382 tok/s.
 *
 * Tile instructions are written as inline asm with memory clobbers, not
 * GCC's intrinsics: GCC 12 declares its tile-config load as reading 8 bytes
 * and its tile loads/stores as touching no memory, so at -O3 it may drop or
 * move the stores they depend on (dead-store elimination; tileloadd then
 * faults or reads stale data). The tile config is loaded per call and
 * released at the end (tile state is per thread; keeping it would make
 * every context switch save 8 KiB).
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "amx_gemm.h"
#include "weight.h"

#define INLINE static inline __attribute__((always_inline))

/* Tokens per tile product: A's and C's rows. */
#define AMX_T 16

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

static void tiles_configure(void)
{
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    cfg.rows[0] = AMX_T, cfg.colsb[0] = 32; /* A: 16 tokens x 32 int8 */
    cfg.rows[1] = 8, cfg.colsb[1] = 32;     /* B: 8 x (4 elements x 8 rows) */
    cfg.rows[2] = AMX_T, cfg.colsb[2] = 32; /* C: 16 tokens x 8 int32 */
    cfg.rows[3] = AMX_T, cfg.colsb[3] = 32; /* Q4_0's A */
    cfg.rows[4] = 8, cfg.colsb[4] = 64;     /* Q4_0's B: 8 x (4 elements x 16 rows) */
    cfg.rows[5] = AMX_T, cfg.colsb[5] = 64; /* Q4_0's C: 16 tokens x 16 int32 */
    __asm__ volatile("ldtilecfg %0" : : "m"(cfg) : "memory");
}

static void tiles_release(void) { __asm__ volatile("tilerelease" : : : "memory"); }

/* Block sums of the 16 tokens in tmm0 with one group's block (p: its x8
   block group) into 8 int32 columns of c (row stride 64 bytes). */
INLINE void group_block(int32_t *c, const uint8_t *p)
{
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm1" : : "r"(p + 16), "r"((size_t)32) : "memory");
    __asm__ volatile("tilezero %%tmm2" : : : "memory");
    __asm__ volatile("tdpbssd %%tmm1, %%tmm0, %%tmm2" : : : "memory"); /* AT&T: B, A, C */
    __asm__ volatile("tilestored %%tmm2, (%0,%1,1)" : : "r"(c), "r"((size_t)64) : "memory");
}

/* Block b of 16 tokens x groups p0, p1: c[t][0..7] from p0, [8..15] p1. */
INLINE void block_sums(int32_t *c, const uint8_t *a, size_t xs, const uint8_t *p0,
                       const uint8_t *p1)
{
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm0" : : "r"(a), "r"(xs) : "memory");
    group_block(c, p0);
    group_block(c + 8, p1);
}

/* The float part of block b for 16 tokens: x16_tile's per-lane arithmetic
   on the tile's sums (c: token t's 16 row sums at 16 t). */
INLINE void block_fma(__m512 acc[AMX_T], const int32_t *c, const uint8_t *p0, const uint8_t *p1,
                      const uint8_t *x, size_t xs, int b)
{
    __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p0)),
                                        _mm_loadu_si128((const __m128i *)p1), 1);
    __m512 dw = _mm512_cvtph_ps(h);
    for (int t = 0; t < AMX_T; t++) {
        const slm_act_q8 *at = (const slm_act_q8 *)(x + t * xs) + b;
        __m512i s = _mm512_load_si512((const __m512i *)(c + 16 * t));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(at->d)),
                                 acc[t]);
    }
}

/* 16 tokens x 16 rows (groups p0, p1): y[t * ldy + i], i < 16. Blocks go
   two at a time and the float part runs one step behind the tiles (c is a
   ring of 2 x 2 blocks): a tile store's data reaches vector loads only
   after it drains, so each step's sums are read while the next step's
   tiles are formed. */
static void amx_tile16(float *y, size_t ldy, const uint8_t *p0, const uint8_t *p1,
                       const uint8_t *x, size_t xs, int nb)
{
    _Alignas(64) int32_t c[2][2][AMX_T * 16];
    const size_t gb = 8 * (size_t)SLM_Q8_0_BYTES;
    __m512 acc[AMX_T];
    for (int t = 0; t < AMX_T; t++)
        acc[t] = _mm512_setzero_ps();
    const uint8_t *q = x + 8; /* token 0's quants of block 0 (slm_act_q8: d, sum, q) */
    int steps = (nb + 1) / 2;
    for (int i = 0; i <= steps; i++) {
        int b = 2 * i;
        if (i < steps) { /* tiles of blocks b, b + 1 */
            const uint8_t *a = q + (size_t)b * SLM_ACT_Q8_BYTES;
            block_sums(c[i & 1][0], a, xs, p0 + b * gb, p1 + b * gb);
            if (b + 1 < nb)
                block_sums(c[i & 1][1], a + SLM_ACT_Q8_BYTES, xs, p0 + (b + 1) * gb,
                           p1 + (b + 1) * gb);
        }
        if (i > 0) { /* the float part of the previous step's blocks, in order */
            int pb = b - 2;
            block_fma(acc, c[(i - 1) & 1][0], p0 + pb * gb, p1 + pb * gb, x, xs, pb);
            if (pb + 1 < nb)
                block_fma(acc, c[(i - 1) & 1][1], p0 + (pb + 1) * gb, p1 + (pb + 1) * gb, x, xs,
                          pb + 1);
        }
    }
    for (int t = 0; t < AMX_T; t++)
        _mm512_storeu_ps(y + t * ldy, acc[t]);
}

/* ------------------------------------------------------------ Q4_0 */

/* Block b's nibbles of groups p0, p1 into B's layout (8 rows of 64 bytes:
   row c < 4 the low nibbles of chunk c of p0's rows then p1's, row 4 + c
   the high ones), loaded into tmm4. */
INLINE void q4_load_b(uint8_t *buf, const uint8_t *p0, const uint8_t *p1)
{
    const __m512i m = _mm512_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p0 + 16 + 32 * c)));
        v = _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *)(p1 + 16 + 32 * c)), 1);
        _mm512_store_si512((__m512i *)(buf + 64 * c), _mm512_and_si512(v, m));
        _mm512_store_si512((__m512i *)(buf + 64 * (c + 4)),
                           _mm512_and_si512(_mm512_srli_epi16(v, 4), m));
    }
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm4" : : "r"(buf), "r"((size_t)64) : "memory");
}

/* 16 tokens' sums with the B in tmm4 (signed activations x unsigned
   nibbles) into c (16 x 16 int32). */
INLINE void q4_sums(int32_t *c, const uint8_t *a, size_t xs)
{
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm3" : : "r"(a), "r"(xs) : "memory");
    __asm__ volatile("tilezero %%tmm5" : : : "memory");
    __asm__ volatile("tdpbsud %%tmm4, %%tmm3, %%tmm5" : : : "memory"); /* AT&T: B, A, C */
    __asm__ volatile("tilestored %%tmm5, (%0,%1,1)" : : "r"(c), "r"((size_t)64) : "memory");
}

#define Q4_MAX_TILES 16 /* tokens per call: batch_rows's chunks are <= 256 */

/* tiles x 16 tokens x 16 rows (groups p0, p1), blocks outer: each block's
   nibbles are unpacked once for every token tile; the accumulators live
   in memory between blocks (stored and reloaded unchanged: the same fma
   sequence per lane as x16_tile, whose starting value -8·Σx is added to
   each sum here). */
static void amx_q4_pair(float *y, size_t ldy, const uint8_t *p0, const uint8_t *p1,
                        const uint8_t *x, size_t xs, int nb, int tiles)
{
    _Alignas(64) uint8_t b_buf[8 * 64];
    _Alignas(64) int32_t c[2][AMX_T * 16];
    _Alignas(64) float acc[Q4_MAX_TILES * AMX_T][16];
    const size_t gb = 8 * (size_t)SLM_Q4_0_BYTES;
    memset(acc, 0, sizeof(float) * 16 * AMX_T * (size_t)tiles);
    for (int b = 0; b < nb; b++) {
        const uint8_t *w0 = p0 + b * gb, *w1 = p1 + b * gb;
        q4_load_b(b_buf, w0, w1);
        __m256i h = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)w0)),
            _mm_loadu_si128((const __m128i *)w1), 1);
        __m512 dw = _mm512_cvtph_ps(h);
        for (int tt = 0; tt < tiles; tt++) {
            const uint8_t *xt = x + (size_t)tt * AMX_T * xs;
            int32_t *ct = c[tt & 1];
            q4_sums(ct, xt + 8 + (size_t)b * SLM_ACT_Q8_BYTES, xs);
            for (int t = 0; t < AMX_T; t++) {
                const slm_act_q8 *at = (const slm_act_q8 *)(xt + t * xs) + b;
                __m512i s = _mm512_add_epi32(_mm512_load_si512((const __m512i *)(ct + 16 * t)),
                                             _mm512_set1_epi32(-8 * at->sum));
                float *a = acc[tt * AMX_T + t];
                _mm512_store_ps(a, _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
                                                   _mm512_mul_ps(dw, _mm512_set1_ps(at->d)),
                                                   _mm512_load_ps(a)));
            }
        }
    }
    for (int t = 0; t < tiles * AMX_T; t++)
        _mm512_storeu_ps(y + t * ldy, _mm512_load_ps(acc[t]));
}

/* Q8_0 on tiles: every pair of groups, 16 tokens at a time. */
static void q8_tiles(float *y, size_t ldy, const uint8_t *w, size_t gs, const uint8_t *x,
                     size_t xs, int pairs, int full, int nb)
{
    for (int g = 0; g < 2 * pairs; g += 2)
        for (int t = 0; t < full; t += AMX_T)
            amx_tile16(y + 8 * g + (size_t)t * ldy, ldy, w + g * gs, w + (g + 1) * gs,
                       x + (size_t)t * xs, xs, nb);
}

/* Q4_0 on tiles: every pair of groups, up to Q4_MAX_TILES token tiles per
   pass. */
static void q4_tiles(float *y, size_t ldy, const uint8_t *w, size_t gs, const uint8_t *x,
                     size_t xs, int pairs, int full, int nb)
{
    for (int t0 = 0; t0 < full; t0 += Q4_MAX_TILES * AMX_T) {
        int tiles = (full - t0) / AMX_T < Q4_MAX_TILES ? (full - t0) / AMX_T : Q4_MAX_TILES;
        for (int g = 0; g < 2 * pairs; g += 2)
            amx_q4_pair(y + 8 * g + (size_t)t0 * ldy, ldy, w + g * gs, w + (g + 1) * gs,
                        x + (size_t)t0 * xs, xs, nb, tiles);
    }
}

/* Whole 16-token tiles of every pair of groups on AMX; the rest (the last
   nt % 16 tokens of the paired rows, an odd last group, decode) through
   avx512's x8 grid. */
static void amx_grid(float *y, size_t ldy, const uint8_t *w, size_t gs, const uint8_t *x,
                     size_t xs, int nr, int nt, int k, int q4)
{
    int nb = k / SLM_QBLOCK, ng = nr / 8, pairs = ng / 2;
    int full = pairs > 0 ? nt / AMX_T * AMX_T : 0;
    if (full == 0) {
        slm_avx512_gemm_x8(y, ldy, w, gs, x, xs, nr, nt, k, q4);
        return;
    }
    tiles_configure();
    (q4 ? q4_tiles : q8_tiles)(y, ldy, w, gs, x, xs, pairs, full, nb);
    tiles_release();
    if (full < nt)
        slm_avx512_gemm_x8(y + (size_t)full * ldy, ldy, w, gs, x + (size_t)full * xs, xs,
                           16 * pairs, nt - full, k, q4);
    if (ng % 2)
        slm_avx512_gemm_x8(y + 8 * (ng - 1), ldy, w + (ng - 1) * gs, gs, x, xs, 8, nt, k, q4);
}

void slm_amx_gemm_q8_0x8(float *y, size_t ldy, const void *w, size_t gs, const void *x,
                         size_t xs, int nr, int nt, int k)
{
    amx_grid(y, ldy, w, gs, x, xs, nr, nt, k, 0);
}

void slm_amx_gemm_q4_0x8(float *y, size_t ldy, const void *w, size_t gs, const void *x,
                         size_t xs, int nr, int nt, int k)
{
    amx_grid(y, ldy, w, gs, x, xs, nr, nt, k, 1);
}
