/*
 * avx512_sgemm.c — y = x · wᵀ (+ bias) in f32 on AVX-512, for the encoder's
 * products (slm_matmul_f32_bias), in place of OpenBLAS's sgemm.
 *
 * Why slm has its own: OpenBLAS picks its kernels by CPU model, and the
 * Debian build takes a recent Intel Xeon for an SSE3-only "Prescott" unless
 * OPENBLAS_CORETYPE says otherwise (Haswell: AVX2; SkylakeX: AVX-512). A
 * user should get the AVX-512 path whatever their environment says.
 * Not batch invariant (nor needed: the encoder runs each request's batch
 * alone); decoder products use the table's tiles (dispatch.h).
 *
 * Shapes: x is n tokens x k (row stride ldx floats), w is rows x k (ldw),
 * y is n x rows (ldy); all row-major, as the model stores them.
 *
 * Method (one thread; callers split rows or tokens between threads): tokens in
 * panels of 32, packed k-major (xp[i][0..31] = token 0..31's element i,
 * zero for missing tokens), so one k step of a panel is two zmm loads.
 * Output tiles are 12 rows x 32 tokens: 24 accumulators, tokens in the
 * lanes; each k step is 2 loads of xp and 12 FMAs with w[r][i] broadcast
 * from memory per row: 24 FMAs per 14 loads, no horizontal sums (each lane
 * holds one output's whole sum, in k order, started from the bias). The
 * 12 x 32 result is transposed in registers (16 x 16 blocks) into y.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "avx512_sgemm.h"

#define INLINE static inline __attribute__((always_inline))

#define PANEL 32 /* tokens per packed panel: 2 zmm */
#define TILE_R 12

/* r[j] = column j of the 16 x 16 matrix whose rows are r[0..15]: 32-bit
   then 64-bit interleaves within 128-bit lanes (4 x 4 blocks transposed in
   place), then two rounds of 128-bit lane shuffles put the blocks in
   place. 64 shuffles for 256 values, where a scalar transpose moves each
   value through memory. */
INLINE void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* r[4i + j], lane L: rows 4i..4i+3 of column 4L + j */
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int j = 0; j < 4; j++) { /* lanes: column j, 8 + j of rows 0-3, 4-7 (and 8-15) */
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
    }
    for (int c = 0; c < 8; c++) { /* t[c]: columns c and c + 8 of rows 0-7; t[8 + c]: 8-15 */
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[c + 8] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd);
    }
}

/* Tokens [0, nt) (nt <= 32) of x, elements [0, k), into xp[k][32]: 16 x 16
   blocks (16 tokens x 16 elements) transposed in registers, zero for
   missing tokens. */
static void pack_panel(float *xp, const float *x, size_t ldx, int nt, int k)
{
    for (int i0 = 0; i0 < k; i0 += 16) {
        int ni = k - i0 < 16 ? k - i0 : 16;
        __mmask16 live = (__mmask16)((1u << ni) - 1);
        for (int h = 0; h < PANEL / 16; h++) {
            __m512 r[16];
            for (int t = 0; t < 16; t++) {
                int tok = h * 16 + t;
                r[t] = tok < nt ? _mm512_maskz_loadu_ps(live, x + (size_t)tok * ldx + i0)
                                : _mm512_setzero_ps();
            }
            transpose16(r);
            for (int i = 0; i < ni; i++)
                _mm512_store_ps(xp + (size_t)(i0 + i) * PANEL + h * 16, r[i]);
        }
    }
}

/* R rows of w (from w, stride ldw) x the 32-token panel: out[r][t], each
   sum started from bias[r] (0 without a bias: no pass over y to add it). */
INLINE void tile(float out[TILE_R][PANEL], const float *xp, const float *w, size_t ldw, int k,
                 const float *bias, int R)
{
    __m512 lo[TILE_R], hi[TILE_R];
    for (int r = 0; r < R; r++)
        lo[r] = hi[r] = bias ? _mm512_set1_ps(bias[r]) : _mm512_setzero_ps();
    for (int i = 0; i < k; i++) {
        __m512 a = _mm512_load_ps(xp + (size_t)i * PANEL);
        __m512 b = _mm512_load_ps(xp + (size_t)i * PANEL + 16);
        for (int r = 0; r < R; r++) {
            __m512 wv = _mm512_set1_ps(w[(size_t)r * ldw + i]);
            lo[r] = _mm512_fmadd_ps(a, wv, lo[r]);
            hi[r] = _mm512_fmadd_ps(b, wv, hi[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_storeu_ps(out[r], lo[r]);
        _mm512_storeu_ps(out[r] + 16, hi[r]);
    }
}

/* out (R rows x 32 tokens) into y's rows r0.. for tokens [0, nt): each
   16-token half transposed in registers (rows past R zero), then one masked
   store of R outputs per token. */
static void store_tile(float *y, size_t ldy, float out[TILE_R][PANEL], int R, int nt)
{
    __mmask16 live = (__mmask16)((1u << R) - 1);
    for (int h = 0; h * 16 < nt; h++) {
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = _mm512_setzero_ps();
        for (int i = 0; i < R && i < TILE_R; i++)
            r[i] = _mm512_loadu_ps(out[i] + h * 16);
        transpose16(r);
        int m = nt - h * 16 < 16 ? nt - h * 16 : 16;
        for (int t = 0; t < m; t++)
            _mm512_mask_storeu_ps(y + (size_t)(h * 16 + t) * ldy, live, r[t]);
    }
}

static void panel_rows(float *y, size_t ldy, const float *xp, const float *w, size_t ldw,
                       int nt, int rows, int k, const float *bias)
{
    float out[TILE_R][PANEL];
    int r = 0;
    for (; r + TILE_R <= rows; r += TILE_R) {
        tile(out, xp, w + (size_t)r * ldw, ldw, k, bias ? bias + r : NULL, TILE_R);
        store_tile(y + r, ldy, out, TILE_R, nt);
    }
    int R = rows - r;
    const float *wr = w + (size_t)r * ldw, *br = bias ? bias + r : NULL;
    switch (R) { /* a constant R per call keeps the accumulators in registers */
    case 11: tile(out, xp, wr, ldw, k, br, 11); break;
    case 10: tile(out, xp, wr, ldw, k, br, 10); break;
    case 9: tile(out, xp, wr, ldw, k, br, 9); break;
    case 8: tile(out, xp, wr, ldw, k, br, 8); break;
    case 7: tile(out, xp, wr, ldw, k, br, 7); break;
    case 6: tile(out, xp, wr, ldw, k, br, 6); break;
    case 5: tile(out, xp, wr, ldw, k, br, 5); break;
    case 4: tile(out, xp, wr, ldw, k, br, 4); break;
    case 3: tile(out, xp, wr, ldw, k, br, 3); break;
    case 2: tile(out, xp, wr, ldw, k, br, 2); break;
    case 1: tile(out, xp, wr, ldw, k, br, 1); break;
    default: return;
    }
    store_tile(y + r, ldy, out, R, nt);
}

int slm_sgemm_nt_avx512(float *y, size_t ldy, const float *x, size_t ldx, const float *w,
                        size_t ldw, int n, int rows, int k, const float *bias)
{
    if (n <= 0 || rows <= 0)
        return 0;
    size_t kp = (size_t)(k > 0 ? k : 1);
    float *xp = aligned_alloc(64, kp * PANEL * sizeof(float));
    if (!xp)
        return -1;
    for (int t0 = 0; t0 < n; t0 += PANEL) {
        int nt = n - t0 < PANEL ? n - t0 : PANEL;
        pack_panel(xp, x + (size_t)t0 * ldx, ldx, nt, k);
        panel_rows(y + (size_t)t0 * ldy, ldy, xp, w, ldw, nt, rows, k, bias);
    }
    free(xp);
    return 0;
}

/* ------------------------------------------------------ y (+)= A · B */

/* R rows of A x the 32 columns of B from b (lo/hi: which of them exist):
   y[r][0..31] (+)= Σ_i A[r][i] · B[i][0..31], A[r][i] = a[r·a_rs + i·a_ks]. */
INLINE void ab_tile(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                    const float *b, size_t ldb, int k, int R, __mmask16 lo_m, __mmask16 hi_m,
                    int accumulate)
{
    __m512 lo[TILE_R], hi[TILE_R];
    for (int r = 0; r < R; r++) {
        lo[r] = accumulate ? _mm512_maskz_loadu_ps(lo_m, y + (size_t)r * ldy) : _mm512_setzero_ps();
        hi[r] = accumulate ? _mm512_maskz_loadu_ps(hi_m, y + (size_t)r * ldy + 16)
                           : _mm512_setzero_ps();
    }
    for (int i = 0; i < k; i++) {
        __m512 bl = _mm512_maskz_loadu_ps(lo_m, b + (size_t)i * ldb);
        __m512 bh = _mm512_maskz_loadu_ps(hi_m, b + (size_t)i * ldb + 16);
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(a[(size_t)r * a_rs + (size_t)i * a_ks]);
            lo[r] = _mm512_fmadd_ps(bl, av, lo[r]);
            hi[r] = _mm512_fmadd_ps(bh, av, hi[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_mask_storeu_ps(y + (size_t)r * ldy, lo_m, lo[r]);
        _mm512_mask_storeu_ps(y + (size_t)r * ldy + 16, hi_m, hi[r]);
    }
}

/* One 32-column panel of y, every row: 12-row tiles, then one tile of the
   rest (a constant R per call keeps the accumulators in registers). */
static void ab_panel(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                     const float *b, size_t ldb, int m, int k, __mmask16 lo_m, __mmask16 hi_m,
                     int acc)
{
    int r = 0;
    if (m % TILE_R != 0 && m % 8 == 0) { /* 64 = 8 x 8, not 5 x 12 + a 4-row tail */
        for (; r < m; r += 8)
            ab_tile(y + (size_t)r * ldy, ldy, a + (size_t)r * a_rs, a_rs, a_ks, b, ldb, k, 8,
                    lo_m, hi_m, acc);
        return;
    }
    for (; r + TILE_R <= m; r += TILE_R)
        ab_tile(y + (size_t)r * ldy, ldy, a + (size_t)r * a_rs, a_rs, a_ks, b, ldb, k, TILE_R,
                lo_m, hi_m, acc);
    float *yr = y + (size_t)r * ldy;
    const float *ar = a + (size_t)r * a_rs;
    switch (m - r) {
#define AB_CASE(R) case R: ab_tile(yr, ldy, ar, a_rs, a_ks, b, ldb, k, R, lo_m, hi_m, acc); break;
        AB_CASE(11) AB_CASE(10) AB_CASE(9) AB_CASE(8) AB_CASE(7) AB_CASE(6)
        AB_CASE(5) AB_CASE(4) AB_CASE(3) AB_CASE(2) AB_CASE(1)
#undef AB_CASE
    default: break;
    }
}

void slm_sgemm_ab_avx512(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                         const float *b, size_t ldb, int m, int n, int k, int accumulate)
{
    for (int c = 0; c < n; c += PANEL) {
        int w = n - c < PANEL ? n - c : PANEL;
        __mmask16 lo_m = (__mmask16)(w >= 16 ? 0xffffu : (1u << w) - 1);
        __mmask16 hi_m = (__mmask16)(w >= 32 ? 0xffffu : w > 16 ? (1u << (w - 16)) - 1 : 0);
        ab_panel(y + c, ldy, a, a_rs, a_ks, b + c, ldb, m, k, lo_m, hi_m, accumulate);
    }
}
