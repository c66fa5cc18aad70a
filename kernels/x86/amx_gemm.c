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
 * Per pair of 8-row groups (16 rows), the call first copies every block
 * into the layout a tile loads directly (B: 8 rows x 64 bytes, row c =
 * elements 4c..4c+3 of each of the 16 rows, i.e. chunk c of the x8 layout's
 * two groups side by side, pack.c; Q4_0's nibbles unpacked to n - 8), with
 * the 16 row scales as floats; then, for every 16 tokens, per block b one
 * tdpbssd (signed x signed):
 *   A  16 tokens x 32 activation quants, copied once per call from the
 *      SLM_ACT_Q8 blocks into 512 aligned bytes per tile and block (read in
 *      place, rows 40 bytes apart, about half of them split a cache line:
 *      the copy measured 8-10% faster), their scales beside them
 *   B  the packed block
 *   C  16 tokens x 16 rows of int32 (x16_tile's 16 lanes), stored to a
 *      ring of buffers; the float part of block b runs while the tiles of
 *      the next blocks are formed, its 16 accumulators in registers.
 * Q4_0 as n - 8 makes its tile sum x16_tile's Σ n·x - 8·Σx directly: the
 * same integer, and the same float part as Q8_0's.
 *
 * Measured (bench_kernels prefill 5632 x 2048, n = 128, Intel Xeon with
 * AMX, 1 / 2 threads, GFLOP/s): this layout 635-695 / 1240-1330 for Q8_0
 * and Q4_0 alike (540-610 / 1040-1190 with A read in place); the earlier one (two 8-row tdpbssd per block read in
 * place, one tile set, Q4_0 blocks outermost with the accumulators in
 * memory and a -8·Σx add per token) 478 / 900 and 425 / 783; the VNNI
 * tiles 377 / 778. TinyLlama pp128 (2 threads) Q4_0 277-314 -> 385-423
 * tok/s, Q8_0 278-284 -> 326-410. The lag of the float part behind the
 * tiles (1 to 5 blocks) measured the same. What is left: alone, the tile
 * side takes ~60% of the time and the float part ~40%, and together they
 * take the sum (they do not overlap: the tile loads and stores share the
 * load/store ports with the float part's loads).
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
#include <stdlib.h>
#include <string.h>

#include "amx_gemm.h"
#include "prefetch_share.h"
#include "weight.h"

#define INLINE static inline __attribute__((always_inline))

/* Tokens per tile product: A's and C's rows. */
#define AMX_T 16

/* One block of a pair of groups as the tiles read it: B (8 rows x 64
   bytes: row c = chunk c of the first group's 8 rows, then the second's)
   and the 16 rows' scales as floats (exact: converted from fp16). */
#define PAIR_B_BYTES (8 * 64)
#define PAIR_BLOCK_BYTES (PAIR_B_BYTES + 16 * 4)

/* Blocks in flight: the float part of block b runs while the tiles of
   blocks b + 1 .. b + LAG are formed (a tile store reaches vector loads
   only after it drains); C goes through a ring of RING buffers. */
#define LAG 2
#define RING 4

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* tmm0, tmm1: A (16 tokens x 32 int8) of even / odd blocks; tmm2, tmm3:
   their B (8 x 64 bytes); tmm4, tmm5: their C (16 tokens x 16 int32).
   Two sets so consecutive blocks' products do not wait for each other. */
static void tiles_configure(void)
{
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 2; i++) {
        cfg.rows[i] = AMX_T, cfg.colsb[i] = 32;
        cfg.rows[2 + i] = 8, cfg.colsb[2 + i] = 64;
        cfg.rows[4 + i] = AMX_T, cfg.colsb[4 + i] = 64;
    }
    __asm__ volatile("ldtilecfg %0" : : "m"(cfg) : "memory");
}

static void tiles_release(void) { __asm__ volatile("tilerelease" : : : "memory"); }

/* ------------------------------------------------------------ packing */

INLINE __m512i load_pair256(const uint8_t *a, const uint8_t *b)
{
    __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a));
    return _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *)b), 1);
}

INLINE void pack_scales(uint8_t *out, const uint8_t *w0, const uint8_t *w1)
{
    __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)w0)),
                                        _mm_loadu_si128((const __m128i *)w1), 1);
    _mm512_store_ps((float *)(out + PAIR_B_BYTES), _mm512_cvtph_ps(h));
}

/* Every block of groups p0, p1 in the pair layout: Q8_0's chunks side by
   side (the x8 layout's chunk c is B row c's half, pack.c). */
static void q8_pair_pack(uint8_t *buf, const uint8_t *p0, const uint8_t *p1, int nb)
{
    const size_t gb = 8 * (size_t)SLM_Q8_0_BYTES;
    for (int b = 0; b < nb; b++, p0 += gb, p1 += gb, buf += PAIR_BLOCK_BYTES) {
        for (int c = 0; c < 8; c++)
            _mm512_store_si512((__m512i *)(buf + 64 * c),
                               load_pair256(p0 + 16 + 32 * c, p1 + 16 + 32 * c));
        pack_scales(buf, p0, p1);
    }
}

/* Q4_0: the nibbles unpacked (row c < 4 the low nibbles of chunk c, row
   4 + c the high ones) as the signed quants n - 8, so the tiles' sum is
   the x16_tile's Σ n·x - 8·Σx, the same integer, with no correction in
   the float part (that add and broadcast per token made Q4_0's tiles
   ~1.5x slower than Q8_0's). */
static void q4_pair_pack(uint8_t *buf, const uint8_t *p0, const uint8_t *p1, int nb)
{
    const size_t gb = 8 * (size_t)SLM_Q4_0_BYTES;
    const __m512i m = _mm512_set1_epi8(15), eight = _mm512_set1_epi8(8);
    for (int b = 0; b < nb; b++, p0 += gb, p1 += gb, buf += PAIR_BLOCK_BYTES) {
        for (int c = 0; c < 4; c++) {
            __m512i v = load_pair256(p0 + 16 + 32 * c, p1 + 16 + 32 * c);
            __m512i lo = _mm512_and_si512(v, m), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m);
            _mm512_store_si512((__m512i *)(buf + 64 * c), _mm512_sub_epi8(lo, eight));
            _mm512_store_si512((__m512i *)(buf + 64 * (c + 4)), _mm512_sub_epi8(hi, eight));
        }
        pack_scales(buf, p0, p1);
    }
}

/* ------------------------------------------------------------ tiles */

/* Block sums of 16 tokens (a: token 0's quants of the block, stride xs)
   with one packed block (pb) into c (16 x 16 int32), on tile set 0 or 1.
   GNU as has no register arithmetic: both sets spelled out. */
INLINE void tile_block(int32_t *c, const uint8_t *a, size_t xs, const uint8_t *pb, int set)
{
    if (set == 0) {
        __asm__ volatile("tileloadd (%0,%1,1), %%tmm0" : : "r"(a), "r"(xs) : "memory");
        __asm__ volatile("tileloadd (%0,%1,1), %%tmm2" : : "r"(pb), "r"((size_t)64) : "memory");
        __asm__ volatile("tilezero %%tmm4" : : : "memory");
        __asm__ volatile("tdpbssd %%tmm2, %%tmm0, %%tmm4" : : : "memory"); /* AT&T: B, A, C */
        __asm__ volatile("tilestored %%tmm4, (%0,%1,1)" : : "r"(c), "r"((size_t)64) : "memory");
    } else {
        __asm__ volatile("tileloadd (%0,%1,1), %%tmm1" : : "r"(a), "r"(xs) : "memory");
        __asm__ volatile("tileloadd (%0,%1,1), %%tmm3" : : "r"(pb), "r"((size_t)64) : "memory");
        __asm__ volatile("tilezero %%tmm5" : : : "memory");
        __asm__ volatile("tdpbssd %%tmm3, %%tmm1, %%tmm5" : : : "memory");
        __asm__ volatile("tilestored %%tmm5, (%0,%1,1)" : : "r"(c), "r"((size_t)64) : "memory");
    }
}

/* The float part of block b for 16 tokens: x16_tile's per-lane arithmetic
   (avx512_dot.c) on the tile's sums (c: token t's 16 row sums at 16 t;
   dx: the 16 tokens' activation scales of the block). */
INLINE void block_fma(__m512 acc[AMX_T], const int32_t *c, const uint8_t *pb, const float *dx)
{
    __m512 dw = _mm512_load_ps((const float *)(pb + PAIR_B_BYTES));
    for (int t = 0; t < AMX_T; t++) {
        __m512i s = _mm512_load_si512((const __m512i *)(c + 16 * t));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(dx[t])),
                                 acc[t]);
    }
}

/* 16 tokens x 16 rows of a packed pair (pk: nb blocks) with the tokens'
   packed quants (aq) and scales (dx): y[t * ldy + i], i < 16. The
   accumulators stay in registers over all blocks. pf: this tile's share
   of the next pair's x8 groups, one step per block (see pairs_tiles). */
static void pair_tile16(float *y, size_t ldy, const uint8_t *pk, const int8_t *aq,
                        const float *dx, int nb, slm_pf_share pf)
{
    _Alignas(64) int32_t ring[RING][AMX_T * 16];
    __m512 acc[AMX_T];
    for (int t = 0; t < AMX_T; t++)
        acc[t] = _mm512_setzero_ps();
    for (int i = 0; i < nb + LAG; i++) {
        if (i < nb) {
            slm_pf_share_step(pf, i);
            tile_block(ring[i % RING], (const uint8_t *)aq + (size_t)i * AMX_T * SLM_QBLOCK,
                       SLM_QBLOCK, pk + (size_t)i * PAIR_BLOCK_BYTES, i & 1);
        }
        if (i >= LAG) {
            int b = i - LAG;
            block_fma(acc, ring[b % RING], pk + (size_t)b * PAIR_BLOCK_BYTES,
                      dx + (size_t)b * AMX_T);
        }
    }
    for (int t = 0; t < AMX_T; t++)
        _mm512_storeu_ps(y + t * ldy, acc[t]);
}

/* The activations of `tiles` 16-token tiles as A tiles load them: per tile
   and block, 16 x 32 quants back to back (aligned: a row never splits a
   cache line, where the SLM_ACT_Q8 rows, 40 bytes apart, often do) and the
   16 scales. */
static void act_pack(int8_t *aq, float *dx, const uint8_t *x, size_t xs, int tiles, int nb)
{
    for (int tt = 0; tt < tiles; tt++)
        for (int b = 0; b < nb; b++) {
            int8_t *qo = aq + ((size_t)tt * nb + b) * AMX_T * SLM_QBLOCK;
            float *d = dx + ((size_t)tt * nb + b) * AMX_T;
            for (int t = 0; t < AMX_T; t++) {
                const slm_act_q8 *a = (const slm_act_q8 *)(x + (size_t)(tt * AMX_T + t) * xs) + b;
                memcpy(qo + t * SLM_QBLOCK, a->q, SLM_QBLOCK);
                d[t] = a->d;
            }
        }
}

/* Every pair of groups: packed once (pk: nb blocks), then every whole
   16-token tile of the call. The packing is where a pair's weights come in
   from memory; unprefetched, it waited on DRAM while the tiles, which read
   only cache, left the memory idle. So the tiles of one pair prefetch the
   next pair's bytes, spread over all of them: q8_0 pp128 482-519 ->
   537-550 tok/s, pp512 435-452 -> 506-510 (TinyLlama, 2 threads,
   alternated; q4_0, half the bytes, within noise). */
static void pairs_tiles(float *y, size_t ldy, const uint8_t *w, size_t gs, const int8_t *aq,
                        const float *dx, int pairs, int tiles, int nb, int q4, uint8_t *pk)
{
    for (int g = 0; g < 2 * pairs; g += 2) {
        (q4 ? q4_pair_pack : q8_pair_pack)(pk, w + g * gs, w + (g + 1) * gs, nb);
        const uint8_t *next = g + 2 < 2 * pairs ? w + (g + 2) * gs : NULL;
        for (int tt = 0; tt < tiles; tt++)
            pair_tile16(y + 8 * g + (size_t)tt * AMX_T * ldy, ldy, pk,
                        aq + (size_t)tt * nb * AMX_T * SLM_QBLOCK, dx + (size_t)tt * nb * AMX_T,
                        nb, slm_pf_share_of(next, 2 * gs, tiles, tt, nb));
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
    int tiles = full / AMX_T;
    size_t pk_bytes = (size_t)nb * PAIR_BLOCK_BYTES;
    size_t aq_bytes = (size_t)tiles * nb * AMX_T * SLM_QBLOCK;
    size_t dx_bytes = (size_t)tiles * nb * AMX_T * sizeof(float);
    uint8_t *buf = aligned_alloc(64, pk_bytes + aq_bytes + dx_bytes);
    if (buf == NULL) { /* the same bits, without tiles */
        slm_avx512_gemm_x8(y, ldy, w, gs, x, xs, nr, nt, k, q4);
        return;
    }
    int8_t *aq = (int8_t *)(buf + pk_bytes);
    float *dx = (float *)(buf + pk_bytes + aq_bytes);
    act_pack(aq, dx, x, xs, tiles, nb);
    tiles_configure();
    pairs_tiles(y, ldy, w, gs, aq, dx, pairs, tiles, nb, q4, buf);
    tiles_release();
    free(buf);
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
