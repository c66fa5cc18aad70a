/*
 * test_kernels_simd_batch.c — batch invariance: every table's products
 * (simd_cases.h, with the emulated AVX-512 table whenever it is built) give
 * each output element the same bits whatever the batch, tile, edge, thread
 * split or entry point (dispatch.h), checked with memcmp per element; and
 * slm_matmul_multi's f32 batches give each token its decode product's bits.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "dtype.h"
#include "simd_cases.h"
#include "weight.h"

/* Element-wise bit equality of got[i] and want[i], i < count; names the
   first difference. */
static void assert_same_bits(const float *got, const float *want, size_t count, size_t row_len,
                             const char *what, const isa_case *c, slm_weight_type wt, int packed,
                             int rows, int cols, int n)
{
    for (size_t i = 0; i < count; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            fail_msg("%s %s%s rows=%d cols=%d n=%d: %s differs at token %zu row %zu: %a vs %a",
                     c->label, slm_weight_type_name(wt), packed ? " packed" : "", rows, cols, n, what,
                     i / row_len, i % row_len, (double)got[i], (double)want[i]);
}

/* One shape: the full batch through slm_matmul is the reference; each token
   alone (decode), random sub-batches in random order, other thread counts,
   the table's gemm entry over random row ranges and token chunks, and the
   dot entries must all give the same bits per element. */
static void check_invariance(const isa_case *c, slm_weight_type wt, int packed, int rows,
                             int cols, int n, rng *r)
{
    int quant = wt == SLM_WEIGHT_Q8_0 || wt == SLM_WEIGHT_Q4_0;
    size_t rb = slm_weight_row_bytes(wt, cols), nx = (size_t)n * cols, ny = (size_t)n * rows;
    float *wf = malloc(sizeof(float) * (size_t)cols), *x = malloc(sizeof(float) * nx);
    uint8_t *enc = malloc(rb * (size_t)rows + 1);
    for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++)
            wf[j] = (float)(0.02 * gauss(r));
        slm_encode_row(wt, wf, enc + (size_t)i * rb, cols);
    }
    for (size_t i = 0; i < nx; i++) /* a spread of magnitudes: rounding shows */
        x[i] = (float)(uniform(r) * (i % 7 == 0 ? 30.0 : 1.0));
    slm_weight W = {wt, enc, rows, cols, 0};
    uint8_t *rowmajor = malloc(rb * (size_t)rows + 1);
    memcpy(rowmajor, enc, rb * (size_t)rows);
    if (packed)
        assert_int_equal(slm_weight_pack(&W, enc), 0);

    float *full = malloc(sizeof(float) * ny), *got = malloc(sizeof(float) * ny);
    float *xs = malloc(sizeof(float) * nx);
    slm_matmul_ctx ctx = {0};
    ctx.kernels = c->t;
    ctx.n_threads = 2;
    assert_int_equal(slm_matmul(full, x, &W, n, &ctx), 0);

    /* each token alone, at 1 and 2 threads */
    for (int t = 0; t < n; t++) {
        ctx.n_threads = 1 + t % 2;
        assert_int_equal(slm_matmul(got, x + (size_t)t * cols, &W, 1, &ctx), 0);
        assert_same_bits(got, full + (size_t)t * rows, (size_t)rows, (size_t)rows, "token alone",
                         c, wt, packed, rows, cols, n);
    }
    /* random sub-batches (random tokens, random order), 1-3 threads */
    int *idx = malloc(sizeof(int) * (size_t)n);
    for (int s = 0; s < 3; s++) {
        int m = rand_int(r, 1, n);
        for (int j = 0; j < m; j++) {
            idx[j] = rand_int(r, 0, n - 1);
            memcpy(xs + (size_t)j * cols, x + (size_t)idx[j] * cols, sizeof(float) * cols);
        }
        ctx.n_threads = rand_int(r, 1, 3);
        assert_int_equal(slm_matmul(got, xs, &W, m, &ctx), 0);
        for (int j = 0; j < m; j++)
            assert_same_bits(got + (size_t)j * rows, full + (size_t)idx[j] * rows, (size_t)rows,
                             (size_t)rows, "sub-batch", c, wt, packed, rows, cols, n);
    }
    /* the table's entry straight: random row ranges (whole groups of 8 when
       packed) and token chunks, as threads and batch_rows would cut them */
    size_t xstride = quant ? (size_t)(cols / 32) * SLM_ACT_Q8_BYTES : sizeof(float) * cols;
    uint8_t *xa = quant ? malloc(xstride * (size_t)n) : (uint8_t *)x;
    for (int t = 0; quant && t < n; t++)
        c->t->quantize_act_q8(x + (size_t)t * cols, xa + (size_t)t * xstride, cols);
    slm_gemm_fn gemm = packed ? (wt == SLM_WEIGHT_Q8_0  ? c->t->gemm_q8_0x8
                                 : wt == SLM_WEIGHT_Q4_0 ? c->t->gemm_q4_0x8
                                 : wt == SLM_WEIGHT_F32  ? c->t->gemm_f32x16
                                 : wt == SLM_WEIGHT_F16  ? c->t->gemm_f16x16
                                                         : c->t->gemm_bf16x16)
                       : wt == SLM_WEIGHT_F32  ? c->t->gemm_f32
                       : wt == SLM_WEIGHT_F16  ? c->t->gemm_f16
                       : wt == SLM_WEIGHT_BF16 ? c->t->gemm_bf16
                       : wt == SLM_WEIGHT_Q8_0 ? c->t->gemm_q8_0
                                               : c->t->gemm_q4_0;
    assert_non_null(gemm);
    int g = packed ? slm_weight_pack_rows(wt) : 1;
    for (int rep = 0; rep < 2; rep++) {
        memset(got, 0xff, sizeof(float) * ny);
        for (int r0 = 0; r0 < rows;) {
            int r1 = r0 + g * rand_int(r, 1, (rows - r0) / g);
            for (int t0 = 0; t0 < n;) {
                int t1 = t0 + rand_int(r, 1, n - t0 < 9 ? n - t0 : 9);
                gemm(got + (size_t)t0 * rows + r0, (size_t)rows, enc + (size_t)r0 * rb,
                     g * rb, xa + (size_t)t0 * xstride, xstride, r1 - r0, t1 - t0,
                     cols);
                t0 = t1;
            }
            r0 = r1;
        }
        assert_same_bits(got, full, ny, (size_t)rows, "gemm entry, random cuts", c, wt, packed,
                         rows, cols, n);
    }
    /* the dot entries (row-major weights) */
    for (int t = 0; !packed && t < n; t++)
        for (int i = 0; i < rows; i++) {
            const void *wr = rowmajor + (size_t)i * rb, *xt = xa + (size_t)t * xstride;
            float d = table_dot(c->t, wt, wr, xt, cols);
            assert_same_bits(&d, full + (size_t)t * rows + i, 1, 1, "dot entry", c, wt, packed,
                             rows, cols, n);
        }
    if (quant)
        free(xa);
    slm_matmul_ctx_free(&ctx);
    free(wf), free(x), free(enc), free(rowmajor), free(full), free(got), free(xs), free(idx);
}

static void test_batch_invariance(void **state)
{
    isa_case cs[8];
    int nc = invariance_cases(cs);
    rng r = {2026};
    for (int c = 0; c < nc; c++) {
        int emulated = strstr(cs[c].label, "emulation") != NULL;
        for (int wt = 0; wt < SLM_WEIGHT_TYPE_COUNT; wt++)
            for (int packed = 0; packed <= 1; packed++) {
                int quant = wt >= SLM_WEIGHT_Q8_0;
                /* n = 1 .. 20 on small random shapes (rows off the tiles,
                   float k with tails, odd block counts), then sizes that
                   cross batch_rows's token chunks (64 float, 256 quantized)
                   and one big enough to be split between threads */
                for (int n = 1; n <= 22; n++) {
                    int per = slm_weight_pack_rows((slm_weight_type)wt);
                    int rows = packed ? per * rand_int(&r, 1, quant ? 5 : 3) : rand_int(&r, 1, 45);
                    int cols = quant ? 32 * rand_int(&r, 1, 9) : rand_int(&r, 1, 300);
                    int nn = n <= 20 ? n : n == 21 ? 67 : 260;
                    if (n == 22 && !quant)
                        nn = 131;
                    if (emulated && nn > 67)
                        rows = packed ? per : 5, cols = quant ? 64 : 37;
                    check_invariance(&cs[c], (slm_weight_type)wt, packed, rows, cols, nn, &r);
                }
                int big_rows = packed ? 48 : 45, big_cols = quant ? 32 * 13 : 2048 + 13;
                check_invariance(&cs[c], (slm_weight_type)wt, packed, big_rows,
                                 emulated ? (quant ? 96 : 301) : big_cols, emulated ? 7 : 20, &r);
            }
        printf("batch invariance: %s ok\n", cs[c].label);
    }
}

/* slm_matmul_multi's f32 products go through the table like every other
   type: a batch of n tokens gives each token the bits of its decode (n = 1)
   product, per element, and the same through slm_matmul. */
static void test_matmul_multi_f32_decode(void **state)
{
    rng r = {31};
    const int cols = 203, n = 9, rows[3] = {24, 7, 130};
    float *x = malloc(sizeof(float) * n * cols), *w[3], *y[3], *one[3];
    slm_weight W[3];
    for (int i = 0; i < n * cols; i++)
        x[i] = (float)uniform(&r);
    for (int i = 0; i < 3; i++) {
        w[i] = malloc(sizeof(float) * rows[i] * cols);
        for (int j = 0; j < rows[i] * cols; j++)
            w[i][j] = (float)(0.02 * gauss(&r));
        W[i] = (slm_weight){SLM_WEIGHT_F32, w[i], rows[i], cols, 0};
        y[i] = malloc(sizeof(float) * n * rows[i]);
        one[i] = malloc(sizeof(float) * rows[i]);
    }
    const slm_weight *ws[3] = {&W[0], &W[1], &W[2]};
    isa_case cs[8];
    int nc = invariance_cases(cs);
    for (int c = 0; c < nc; c++) {
        slm_matmul_ctx ctx = {0};
        ctx.kernels = cs[c].t;
        ctx.n_threads = 2;
        assert_int_equal(slm_matmul_multi(y, x, ws, 3, n, &ctx), 0);
        for (int t = 0; t < n; t++) {
            float *o[3] = {one[0], one[1], one[2]};
            ctx.n_threads = 1 + t % 2;
            assert_int_equal(slm_matmul_multi(o, x + (size_t)t * cols, ws, 3, 1, &ctx), 0);
            for (int i = 0; i < 3; i++) {
                assert_same_bits(y[i] + (size_t)t * rows[i], one[i], (size_t)rows[i],
                                 (size_t)rows[i], "multi f32 batch vs decode", &cs[c],
                                 SLM_WEIGHT_F32, 0, rows[i], cols, n);
                assert_int_equal(slm_matmul(one[i], x + (size_t)t * cols, &W[i], 1, &ctx), 0);
                assert_same_bits(y[i] + (size_t)t * rows[i], one[i], (size_t)rows[i],
                                 (size_t)rows[i], "multi f32 batch vs slm_matmul decode", &cs[c],
                                 SLM_WEIGHT_F32, 0, rows[i], cols, n);
            }
        }
        slm_matmul_ctx_free(&ctx);
    }
    for (int i = 0; i < 3; i++)
        free(w[i]), free(y[i]), free(one[i]);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_invariance),
        cmocka_unit_test(test_matmul_multi_f32_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
