/*
 * amx_gemm.c — the integer part of the x8-packed Q8_0/Q4_0 batch products
 * on AMX tiles (the amx table: avx512_dot.c's table with these two entries).
 *
 * Contract: the same bits as the avx512 table's x8 products (x8_tile /
 * x16_tile there), element for element. That holds because only the exact
 * part moves to the tiles: each block's integer sum Σ w·x (int32, no
 * overflow: |Σ| <= 32·128·127) is the same number whether dpbusd or a tile
 * product forms it, and the float part that follows (convert, scale
 * d_w·d_x, fma into the row's accumulator in block order) is the avx512
 * code's, lane for lane. So tiles can take any 16 tokens of a batch and the
 * VNNI code the rest (fewer tokens, an odd last group, decode) without
 * breaking batch invariance (dispatch.h).
 *
 * One tile product per block b, per 16 tokens and 2 groups (16 rows):
 *   A (tmm0)  16 tokens x 32 activation quants, read in place from the
 *             SLM_ACT_Q8 blocks (row stride = one token's blocks)
 *   B (tmm1)  the block's 32 quants of 16 rows in the VNNI layout tiles
 *             want: B row c = elements 4c..4c+3 of each of the 16 rows.
 *             That is the x8 layout's chunk c of group g then of group g+1
 *             (pack.c), gathered into a 512-byte buffer; Q4_0's nibbles are
 *             unpacked there (low nibbles = chunks 0-3, high = 4-7).
 *   C (tmm2)  16 tokens x 16 rows of int32: tdpbssd (Q8_0, signed x signed)
 *             or tdpbsud (Q4_0: signed activations x unsigned nibbles, then
 *             the -8·Σx correction, as the VNNI code starts from it).
 * C goes to a buffer and each token's 16 sums become the fma of x16_tile.
 * Two such tile sets (tmm0-2, tmm3-5) take blocks b and b + 1.
 *
 * Measured (bench_kernels prefill 5632 x 2048, n = 128, 1 thread, Intel
 * Xeon with AMX): the tile part alone takes ~100 cycles per block and 16 x
 * 16 outputs (load A, load B, zero, product, store C), against ~30 for the
 * float part, so the whole runs at 380-480 GFLOP/s, about the VNNI code's
 * 380-400: the per-block scales make every 16 x 16 x 32 product end in a
 * tile store, which leaves AMX no room to pay off. slm_isa_best therefore
 * prefers avx512; SLM_ISA=amx selects this table.
 *
 * Tile instructions are written as inline asm with memory clobbers, not
 * GCC's intrinsics: GCC 12 declares its tile-config load as reading 8 bytes
 * and its tile loads/stores as touching no memory, so at -O3 it drops or
 * moves the stores they depend on (dead-store elimination; tileloadd then
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
    for (int set = 0; set < 2; set++) { /* tmm0-2 and tmm3-5: two blocks in flight */
        int base = 3 * set;
        cfg.rows[base] = AMX_T, cfg.colsb[base] = 32;         /* A: 16 tokens x 32 int8 */
        cfg.rows[base + 1] = 8, cfg.colsb[base + 1] = 64;     /* B: 8 x (4 elements x 16 rows) */
        cfg.rows[base + 2] = AMX_T, cfg.colsb[base + 2] = 64; /* C: 16 tokens x 16 int32 */
    }
    __asm__ volatile("ldtilecfg %0" : : "m"(cfg) : "memory");
}

static void tiles_release(void) { __asm__ volatile("tilerelease" : : : "memory"); }

/* One block's tile product in set 0 (tmm0-2) or 1 (tmm3-5): C = A·B from
   a (16 rows, stride xs) and b_buf, stored to c_buf (16 x 64 bytes). The
   tile registers are not renamed, so two sets let the next block's tile
   work run while the float part of the last one does. */
#define TILE_BLOCK(set, A, B, C)                                                             \
    INLINE void tile_block##set(const void *a, size_t xs, const void *b_buf, void *c_buf,    \
                                int q4)                                                      \
    {                                                                                        \
        __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #A : : "r"(a), "r"(xs) : "memory");    \
        __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #B : : "r"(b_buf), "r"((size_t)64)     \
                         : "memory");                                                        \
        __asm__ volatile("tilezero %%tmm" #C : : : "memory");                                \
        if (q4) /* AT&T operand order: B, A, C */                                           \
            __asm__ volatile("tdpbsud %%tmm" #B ", %%tmm" #A ", %%tmm" #C : : : "memory");   \
        else                                                                                 \
            __asm__ volatile("tdpbssd %%tmm" #B ", %%tmm" #A ", %%tmm" #C : : : "memory");   \
        __asm__ volatile("tilestored %%tmm" #C ", (%0,%1,1)" : : "r"(c_buf), "r"((size_t)64) \
                         : "memory");                                                        \
    }
TILE_BLOCK(0, 0, 1, 2)
TILE_BLOCK(1, 3, 4, 5)
#undef TILE_BLOCK

/* Block b of groups p0, p1 (x8 layout) into B's layout: 8 rows of 64
   bytes, row c = chunk c of p0's 8 rows then of p1's. */
INLINE void gather_b(uint8_t *dst, const uint8_t *p0, const uint8_t *p1, int q4)
{
    if (!q4) {
        for (int c = 0; c < 8; c++) {
            __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p0 + 16 + 32 * c)));
            v = _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *)(p1 + 16 + 32 * c)), 1);
            _mm512_store_si512((__m512i *)(dst + 64 * c), v);
        }
        return;
    }
    const __m512i m = _mm512_set1_epi8(15);
    for (int c = 0; c < 4; c++) {
        __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p0 + 16 + 32 * c)));
        v = _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *)(p1 + 16 + 32 * c)), 1);
        _mm512_store_si512((__m512i *)(dst + 64 * c), _mm512_and_si512(v, m));
        _mm512_store_si512((__m512i *)(dst + 64 * (c + 4)),
                           _mm512_and_si512(_mm512_srli_epi16(v, 4), m));
    }
}

/* The float part of block b for 16 tokens: x16_tile's per-lane arithmetic
   on the tile's sums (c_buf: token t's 16 row sums at 16 t). */
INLINE void block_fma(__m512 acc[AMX_T], const int32_t *c_buf, const uint8_t *p0,
                      const uint8_t *p1, const uint8_t *x, size_t xs, int b, int q4)
{
    __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p0)),
                                        _mm_loadu_si128((const __m128i *)p1), 1);
    __m512 dw = _mm512_cvtph_ps(h);
    for (int t = 0; t < AMX_T; t++) {
        const slm_act_q8 *at = (const slm_act_q8 *)(x + t * xs) + b;
        __m512i s = _mm512_load_si512((const __m512i *)(c_buf + 16 * t));
        if (q4) /* the VNNI code's starting value -8·Σx: the same integer */
            s = _mm512_add_epi32(s, _mm512_set1_epi32(-8 * at->sum));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(at->d)),
                                 acc[t]);
    }
}

/* 16 tokens x 16 rows (groups p0, p1): y[t * ldy + i], i < 16. Blocks go
   two at a time, one per tile set, and the float part runs one step behind
   the tiles (c_buf is a ring of 2 x 2): a tile store's data reaches vector
   loads only after it drains, so each step's sums are read while the next
   step's tiles are being formed. */
static void amx_tile16(float *y, size_t ldy, const uint8_t *p0, const uint8_t *p1,
                       const uint8_t *x, size_t xs, int nb, int q4)
{
    _Alignas(64) uint8_t b_buf[2][8 * 64];
    _Alignas(64) int32_t c_buf[2][2][AMX_T * 16];
    size_t gb = 8 * (size_t)(q4 ? SLM_Q4_0_BYTES : SLM_Q8_0_BYTES);
    __m512 acc[AMX_T];
    for (int t = 0; t < AMX_T; t++)
        acc[t] = _mm512_setzero_ps();
    const uint8_t *q = x + 8; /* token 0's quants of block 0 (slm_act_q8: d, sum, q) */
    int steps = (nb + 1) / 2;
    for (int i = 0; i <= steps; i++) {
        int b = 2 * i;
        if (i < steps) { /* tiles of blocks b, b + 1 */
            const uint8_t *w0 = p0 + b * gb, *w1 = p1 + b * gb;
            gather_b(b_buf[0], w0, w1, q4);
            tile_block0(q + (size_t)b * SLM_ACT_Q8_BYTES, xs, b_buf[0], c_buf[i & 1][0], q4);
            if (b + 1 < nb) {
                gather_b(b_buf[1], w0 + gb, w1 + gb, q4);
                tile_block1(q + (size_t)(b + 1) * SLM_ACT_Q8_BYTES, xs, b_buf[1],
                            c_buf[i & 1][1], q4);
            }
        }
        if (i > 0) { /* the float part of the previous step's blocks, in order */
            int pb = b - 2;
            block_fma(acc, c_buf[(i - 1) & 1][0], p0 + pb * gb, p1 + pb * gb, x, xs, pb, q4);
            if (pb + 1 < nb)
                block_fma(acc, c_buf[(i - 1) & 1][1], p0 + (pb + 1) * gb, p1 + (pb + 1) * gb, x,
                          xs, pb + 1, q4);
        }
    }
    for (int t = 0; t < AMX_T; t++)
        _mm512_storeu_ps(y + t * ldy, acc[t]);
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
    for (int g = 0; g < 2 * pairs; g += 2)
        for (int t = 0; t < full; t += AMX_T)
            amx_tile16(y + 8 * g + (size_t)t * ldy, ldy, w + g * gs, w + (g + 1) * gs,
                       x + (size_t)t * xs, xs, nb, q4);
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
