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
 * panels of 64, packed k-major (xp[i][0..63] = token 0..63's element i,
 * zero for missing tokens), so one k step of a panel is four zmm loads.
 * Output tiles are 6 rows x 64 tokens: 24 accumulators, tokens in the
 * lanes; each k step is 4 loads of xp and 24 FMAs with w[r][i] broadcast
 * from memory per row: 24 FMAs per 10 loads, no horizontal sums (each lane
 * holds one output's whole sum, in k order, started from the bias). The
 * result is transposed in registers (16 x 16 blocks) into y. A last panel
 * of 32 tokens or fewer runs as 12 rows x 32 tokens (2 zmm) instead.
 *
 * y (+)= A · B (sgemm_ab, for attention) is the same tile with B's rows as
 * the loaded vectors (64 or 32 columns) and A broadcast, stored as is.
 */
#ifndef SLM_AVX512_EMULATED /* the tests may compile this file over SIMDe */
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "avx512_sgemm.h"

#define INLINE static inline __attribute__((always_inline))

/* x · wᵀ: panels of 64 tokens (4 zmm) against tiles of 6 rows of w, 24
   accumulators, 6 broadcasts and 4 loads per 24 FMAs; a last panel of 32
   tokens or fewer runs as 2 zmm x 12 rows (the same accumulators, half the
   zero lanes). 6 x 64 measured 5-15% faster than 12 x 32 on an AMX Xeon
   (each broadcast weight serves twice the tokens); 7 x 64, 3 x 128 slower. */
#define WIDE 64
#define WIDE_R 6
#define NARROW 32
#define NARROW_R 12
#define TILE_MAX_R 12
_Static_assert(WIDE_R * WIDE == NARROW_R * NARROW, "one out buffer for both tiles");

/* A · B: 64 columns x 6 rows the same way (attention's 64 x 64 x 64
   products 4-10% faster than 32 x 12; 48 x 8 slower at 64 columns), a
   last panel of <= 32 columns as 32 x 12, or 32 x 8 when the rows are a
   multiple of 8 but not of 12 (64 = 8 x 8, not 5 x 12 + a 4-row tail). */
#define AB_WIDE 64
#define AB_WIDE_R 6
#define AB_NARROW 32

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

/* Tokens [0, nt) (nt <= width) of x, elements [0, k), into xp[k][width]
   (width 32 or 64): 16 x 16 blocks (16 tokens x 16 elements) transposed in
   registers, zero for missing tokens. */
static void pack_panel(float *xp, int width, const float *x, size_t ldx, int nt, int k)
{
    for (int i0 = 0; i0 < k; i0 += 16) {
        int ni = k - i0 < 16 ? k - i0 : 16;
        __mmask16 live = (__mmask16)((1u << ni) - 1);
        for (int h = 0; h < width / 16; h++) {
            __m512 r[16];
            for (int t = 0; t < 16; t++) {
                int tok = h * 16 + t;
                r[t] = tok < nt ? _mm512_maskz_loadu_ps(live, x + (size_t)tok * ldx + i0)
                                : _mm512_setzero_ps();
            }
            transpose16(r);
            for (int i = 0; i < ni; i++)
                _mm512_store_ps(xp + (size_t)(i0 + i) * width + h * 16, r[i]);
        }
    }
}

/* The register tile of both products: R rows x V vectors of y (16 lanes
   each; mk[v]: which lanes of vector v exist),
     y[r][..] (+)= Σ_i A[r][i] · B[i][..],  A[r][i] = a[r·a_rs + i·a_ks],
   A broadcast, B's row i (ldb floats from the last) loaded, each sum in
   one lane in i order, started from bias[r] (bias non-NULL), from y
   (accumulate) or from 0. R and V are constants at every call, so the R·V
   accumulators stay in registers. */
INLINE void reg_tile(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                     const float *b, size_t ldb, int k, int R, int V, const __mmask16 *mk,
                     const float *bias, int accumulate)
{
    __m512 acc[TILE_MAX_R][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            acc[r][v] = bias         ? _mm512_set1_ps(bias[r])
                        : accumulate ? _mm512_maskz_loadu_ps(mk[v], y + (size_t)r * ldy + 16 * v)
                                     : _mm512_setzero_ps();
    for (int i = 0; i < k; i++) {
        __m512 bv[4];
        for (int v = 0; v < V; v++)
            bv[v] = _mm512_maskz_loadu_ps(mk[v], b + (size_t)i * ldb + 16 * v);
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(a[(size_t)r * a_rs + (size_t)i * a_ks]);
            for (int v = 0; v < V; v++)
                acc[r][v] = _mm512_fmadd_ps(bv[v], av, acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            _mm512_mask_storeu_ps(y + (size_t)r * ldy + 16 * v, mk[v], acc[r][v]);
}

/* R rows of w (stride ldw) x a packed panel of 16·V tokens into out[r][t]
   (row stride 16·V), each sum started from bias[r] (0 without a bias: no
   pass over y to add it). */
INLINE void tile(float *out, const float *xp, const float *w, size_t ldw, int k,
                 const float *bias, int R, int V)
{
    static const __mmask16 all[4] = {0xffff, 0xffff, 0xffff, 0xffff};
    reg_tile(out, (size_t)16 * V, w, ldw, 1, xp, (size_t)16 * V, k, R, V, all, bias, 0);
}

/* out (R rows x width tokens, row stride width) into y's rows r0.. for
   tokens [0, nt): each 16-token block transposed in registers (rows past R
   zero), then one masked store of R outputs per token. */
static void store_tile(float *y, size_t ldy, const float *out, int width, int R, int nt)
{
    __mmask16 live = (__mmask16)((1u << R) - 1);
    for (int h = 0; h * 16 < nt; h++) {
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = i < R ? _mm512_loadu_ps(out + i * width + h * 16) : _mm512_setzero_ps();
        transpose16(r);
        int m = nt - h * 16 < 16 ? nt - h * 16 : 16;
        for (int t = 0; t < m; t++)
            _mm512_mask_storeu_ps(y + (size_t)(h * 16 + t) * ldy, live, r[t]);
    }
}

/* Every row of w against one packed panel, in tiles of R0 rows and one
   tile of the rest. */
INLINE void panel_rows(float *y, size_t ldy, const float *xp, const float *w, size_t ldw,
                       int nt, int rows, int k, const float *bias, int R0, int V)
{
    float out[WIDE_R * WIDE]; /* = NARROW_R * NARROW */
    int r = 0;
    for (; r + R0 <= rows; r += R0) {
        tile(out, xp, w + (size_t)r * ldw, ldw, k, bias ? bias + r : NULL, R0, V);
        store_tile(y + r, ldy, out, 16 * V, R0, nt);
    }
    int R = rows - r;
    const float *wr = w + (size_t)r * ldw, *br = bias ? bias + r : NULL;
    switch (R) { /* a constant R per call; cases from R0 up never occur */
#define NT_CASE(n) case n: if (n < R0) tile(out, xp, wr, ldw, k, br, n, V); break;
    NT_CASE(11) NT_CASE(10) NT_CASE(9) NT_CASE(8) NT_CASE(7) NT_CASE(6)
    NT_CASE(5) NT_CASE(4) NT_CASE(3) NT_CASE(2) NT_CASE(1)
#undef NT_CASE
    default: return;
    }
    store_tile(y + r, ldy, out, 16 * V, R, nt);
}

int slm_sgemm_nt_avx512(float *y, size_t ldy, const float *x, size_t ldx, const float *w,
                        size_t ldw, int n, int rows, int k, const float *bias)
{
    if (n <= 0 || rows <= 0)
        return 0;
    size_t kp = (size_t)(k > 0 ? k : 1);
    float *xp = aligned_alloc(64, kp * WIDE * sizeof(float));
    if (!xp)
        return -1;
    for (int t0 = 0; t0 < n; t0 += WIDE) {
        int nt = n - t0 < WIDE ? n - t0 : WIDE;
        float *yt = y + (size_t)t0 * ldy;
        if (nt > NARROW) {
            pack_panel(xp, WIDE, x + (size_t)t0 * ldx, ldx, nt, k);
            panel_rows(yt, ldy, xp, w, ldw, nt, rows, k, bias, WIDE_R, WIDE / 16);
        } else {
            pack_panel(xp, NARROW, x + (size_t)t0 * ldx, ldx, nt, k);
            panel_rows(yt, ldy, xp, w, ldw, nt, rows, k, bias, NARROW_R, NARROW / 16);
        }
    }
    free(xp);
    return 0;
}

/* ------------------------------------------------------ y (+)= A · B */

/* R rows of A x 16·V columns of B (mk[v]: which of column block v's 16
   exist): y[r][..] (+)= Σ_i A[r][i] · B[i][..]. */
INLINE void ab_tile(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                    const float *b, size_t ldb, int k, int R, int V, const __mmask16 *mk,
                    int accumulate)
{
    reg_tile(y, ldy, a, a_rs, a_ks, b, ldb, k, R, V, mk, NULL, accumulate);
}

/* One panel of 16·V columns of y, every row: R0-row tiles, then one tile of
   the rest (a constant R per call keeps the accumulators in registers). */
INLINE void ab_panel(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                     const float *b, size_t ldb, int m, int k, int R0, int V,
                     const __mmask16 *mk, int acc)
{
    int r = 0;
    for (; r + R0 <= m; r += R0)
        ab_tile(y + (size_t)r * ldy, ldy, a + (size_t)r * a_rs, a_rs, a_ks, b, ldb, k, R0, V, mk,
                acc);
    float *yr = y + (size_t)r * ldy;
    const float *ar = a + (size_t)r * a_rs;
    switch (m - r) { /* cases from R0 up never occur */
#define AB_CASE(R) case R: if (R < R0) ab_tile(yr, ldy, ar, a_rs, a_ks, b, ldb, k, R, V, mk, acc); break;
        AB_CASE(11) AB_CASE(10) AB_CASE(9) AB_CASE(8) AB_CASE(7) AB_CASE(6)
        AB_CASE(5) AB_CASE(4) AB_CASE(3) AB_CASE(2) AB_CASE(1)
#undef AB_CASE
    default: break;
    }
}

void slm_sgemm_ab_avx512(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                         const float *b, size_t ldb, int m, int n, int k, int accumulate)
{
    for (int c = 0; c < n;) {
        int w = n - c > AB_NARROW ? (n - c < AB_WIDE ? n - c : AB_WIDE) : n - c;
        __mmask16 mk[4];
        for (int v = 0; v < 4; v++) {
            int left = w - 16 * v;
            mk[v] = (__mmask16)(left >= 16 ? 0xffffu : left > 0 ? (1u << left) - 1 : 0);
        }
        if (w > AB_NARROW)
            ab_panel(y + c, ldy, a, a_rs, a_ks, b + c, ldb, m, k, AB_WIDE_R, AB_WIDE / 16, mk,
                     accumulate);
        else if (m % 8 == 0 && m % 12 != 0) /* 64 = 8 x 8, not 5 x 12 + a 4-row tail */
            ab_panel(y + c, ldy, a, a_rs, a_ks, b + c, ldb, m, k, 8, 2, mk, accumulate);
        else
            ab_panel(y + c, ldy, a, a_rs, a_ks, b + c, ldb, m, k, 12, 2, mk, accumulate);
        c += w;
    }
}
