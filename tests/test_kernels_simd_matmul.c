/*
 * test_kernels_simd_matmul.c — slm_matmul on every table (simd_cases.h),
 * row-major and x8/x16 packed, at 1 and 2 threads, against slm_matmul_ref
 * and the exact sums with the bounds of the row dots
 * (test_kernels_simd_dot.c), and:
 *  against the f32 product of the dequantized weights: each activation is
 *    off by at most d_x/2 (plus an ulp), so the quantized result may differ
 *    by Σ_b (d_x,b/2)·Σ_i|w_i| more.
 * Also odd float column counts, the contract's refusals, and
 * slm_matmul_multi bit for bit against slm_matmul.
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

typedef struct {
    int n, rows, cols;
} shape;

/* slm_matmul on table `c` vs slm_matmul_ref, vs the exact sums of what
   both compute, and (quantized types) vs the f32 product of the dequantized
   weights within the activation-quantization bound. `packed`: the weights
   are x8-interleaved first (rows % 8 == 0), and the reference over them
   must equal the reference over the row-major bytes bit for bit. */
static void check_matmul(const isa_case *c, slm_weight_type wt, shape s, int threads, int packed,
                         rng *r)
{
    size_t nx = (size_t)s.n * s.cols, ny = (size_t)s.n * s.rows;
    float *w = malloc(sizeof(float) * (size_t)s.rows * s.cols), *x = malloc(sizeof(float) * nx);
    for (size_t i = 0; i < (size_t)s.rows * s.cols; i++)
        w[i] = (float)(0.02 * gauss(r));
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)uniform(r);
    size_t rb = slm_weight_row_bytes(wt, s.cols);
    uint8_t *enc = malloc(rb * (size_t)s.rows + 1);
    for (int i = 0; i < s.rows; i++)
        slm_encode_row(wt, w + (size_t)i * s.cols, enc + i * rb, s.cols);
    for (int i = 0; i < s.rows; i++) /* w := the decoded weights */
        slm_dequantize_row(wt, enc + i * rb, w + (size_t)i * s.cols, s.cols);
    slm_weight W = {wt, enc, s.rows, s.cols, 0};
    float *y = malloc(sizeof(float) * ny), *ref = malloc(sizeof(float) * ny);
    if (packed) {
        float *ref_rows = malloc(sizeof(float) * ny);
        slm_matmul_ref(ref_rows, x, &W, s.n);
        assert_int_equal(slm_weight_pack(&W, enc), 0); /* in place */
        assert_true(W.packed && W.data == enc);
        slm_matmul_ref(ref, x, &W, s.n);
        assert_memory_equal(ref, ref_rows, sizeof(float) * ny);
        free(ref_rows);
    }
    slm_matmul_ctx ctx = {0};
    ctx.n_threads = threads;
    ctx.kernels = c->t;
    assert_int_equal(slm_matmul(y, x, &W, s.n, &ctx), 0);
    assert_true(ctx.kernels == c->t);
    slm_matmul_ref(ref, x, &W, s.n);
    int quant = wt == SLM_WEIGHT_Q8_0 || wt == SLM_WEIGHT_Q4_0;
    int nb = s.cols / 32;
    slm_act_q8 *xq = malloc(sizeof(slm_act_q8) * (size_t)(nb + 1));
    for (int t = 0; t < s.n; t++) {
        const float *xt = x + (size_t)t * s.cols;
        if (quant)
            slm_kernels_scalar.quantize_act_q8(xt, xq, s.cols);
        for (int i = 0; i < s.rows; i++) {
            const float *wi = w + (size_t)i * s.cols;
            double exact = 0, mag = 0, f32 = 0, qerr = 0;
            for (int j = 0; j < s.cols; j++) {
                double xv = quant ? (double)xq[j / 32].d * xq[j / 32].q[j % 32] : xt[j];
                double p = (double)wi[j] * xv;
                exact += p, mag += fabs(p);
                f32 += (double)wi[j] * xt[j];
                if (quant)
                    qerr += fabs(wi[j]) * xq[j / 32].d * 0.5 * (1 + 1e-6);
            }
            /* every table sums a float element in at least 8 lanes (f32
               batches too: the table's tiles, no longer sgemm), a quantized
               one block term per lane at most nb times */
            double terms = quant ? nb : packed ? s.cols : s.cols / 8.0; /* x16: one chain */
            double bound = (terms + 64) * 2 * U * mag + 1e-30;
            double bound_ref = (quant ? nb + 8 : s.cols + 2.0) * 2 * U * mag + 1e-30;
            float got = y[(size_t)t * s.rows + i], rf = ref[(size_t)t * s.rows + i];
            if (!(fabs(got - exact) <= bound) || !(fabs(rf - exact) <= bound_ref) ||
                !(fabs(got - f32) <= bound + qerr))
                fail_msg("%s matmul %s%s n=%d rows=%d cols=%d thr=%d at [%d][%d]: got %.9g ref "
                         "%.9g exact %.9g f32 %.9g (bound %g, +q %g)",
                         c->label, slm_weight_type_name(wt), packed ? " packed" : "", s.n, s.rows,
                         s.cols, threads, t, i, got, rf, exact, f32, bound, qerr);
        }
    }
    slm_matmul_ctx_free(&ctx);
    free(w), free(x), free(enc), free(y), free(ref), free(xq);
}

static void test_matmul(void **state)
{
    isa_case cs[8];
    int nc = isa_cases(cs, 1);
    rng r = {99};
    const shape shapes[] = {{1, 7, 64},    {2, 7, 96},    {5, 172, 64},  {17, 7, 256},
                            {64, 172, 96}, {1, 1000, 256}, {5, 1000, 64}, {17, 33, 2048},
                            {64, 9, 160},  {3, 5, 32},    {1, 9, 224},  {1, 13, 160},
                            {1, 172, 96},  {8, 4, 64},    {2, 600, 32}, {1, 8, 32},
                            {7, 16, 2048}, {6, 24, 160},  {257, 16, 64}, {12, 40, 64}, {11, 48, 96},
                            {4, 56, 64},   {3, 16, 64}};
    for (int c = 0; c < nc; c++) {
        int emulated = strstr(cs[c].label, "emulation") != NULL;
        for (int wt = 0; wt < SLM_WEIGHT_TYPE_COUNT; wt++)
            for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
                for (int th = 1; th <= 2; th++)
                    for (int packed = 0; packed <= 1; packed++) {
                        if (emulated && th == 2 && shapes[i].n * shapes[i].rows > 1000)
                            continue; /* the emulation is slow; 1 thread covers the code */
                        if (packed && shapes[i].rows % slm_weight_pack_rows((slm_weight_type)wt))
                            continue; /* only matrices of whole groups pack */
                        check_matmul(&cs[c], (slm_weight_type)wt, shapes[i], th, packed, &r);
                    }
        printf("matmul: %s ok\n", cs[c].label);
    }
}

/* slm_matmul_multi gives each product bit for bit what slm_matmul gives it
   (same table, same activation quantization), for one team of same-typed
   products and for a mixed list that runs one by one. */
static void test_matmul_multi(void **state)
{
    rng r = {21};
    const int cols = 96, rows[3] = {24, 8, 40};
    const slm_weight_type mixed[3] = {SLM_WEIGHT_Q4_0, SLM_WEIGHT_F16, SLM_WEIGHT_Q8_0};
    float *x = malloc(sizeof(float) * 5 * cols), *wf = malloc(sizeof(float) * 40 * cols);
    for (int i = 0; i < 5 * cols; i++)
        x[i] = (float)uniform(&r);
    for (int i = 0; i < 40 * cols; i++)
        wf[i] = (float)(0.02 * gauss(&r));
    for (int wt = 0; wt <= SLM_WEIGHT_TYPE_COUNT; wt++) /* the last round: mixed types */
        for (int n = 1; n <= 5; n += 4) {
            slm_weight W[3];
            uint8_t *enc[3];
            float *y[3], *one[3];
            for (int i = 0; i < 3; i++) {
                slm_weight_type t = wt < SLM_WEIGHT_TYPE_COUNT ? (slm_weight_type)wt : mixed[i];
                size_t rb = slm_weight_row_bytes(t, cols);
                enc[i] = malloc(rb * rows[i]);
                for (int j = 0; j < rows[i]; j++)
                    slm_encode_row(t, wf + (size_t)j * cols, enc[i] + j * rb, cols);
                W[i] = (slm_weight){t, enc[i], rows[i], cols, 0};
                if (i == 0 && slm_weight_packable(&W[i]))
                    assert_int_equal(slm_weight_pack(&W[i], enc[i]), 0);
                y[i] = malloc(sizeof(float) * n * rows[i]);
                one[i] = malloc(sizeof(float) * n * rows[i]);
            }
            slm_matmul_ctx ctx = {0};
            ctx.n_threads = 2;
            const slm_weight *ws[3] = {&W[0], &W[1], &W[2]};
            assert_int_equal(slm_matmul_multi(y, x, ws, 3, n, &ctx), 0);
            for (int i = 0; i < 3; i++) {
                assert_int_equal(slm_matmul(one[i], x, &W[i], n, &ctx), 0);
                assert_memory_equal(y[i], one[i], sizeof(float) * n * rows[i]);
                free(enc[i]), free(y[i]), free(one[i]);
            }
            slm_matmul_ctx_free(&ctx);
        }
    free(x), free(wf);
}

/* Odd column counts for the float types (not a multiple of 8 or 16) and the
   contract's refusals. */
static void test_matmul_edges(void **state)
{
    isa_case cs[8];
    int nc = isa_cases(cs, 1);
    rng r = {5};
    const shape odd[] = {{1, 5, 13}, {6, 9, 37}, {4, 8, 100}, {8, 4, 1001}};
    for (int c = 0; c < nc; c++)
        for (int wt = SLM_WEIGHT_F32; wt <= SLM_WEIGHT_BF16; wt++)
            for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
                check_matmul(&cs[c], (slm_weight_type)wt, odd[i], 2, 0, &r);
    float x[40] = {0}, y[4];
    uint8_t blk[4 * SLM_Q8_0_BYTES] = {0};
    slm_weight bad = {SLM_WEIGHT_Q8_0, blk, 1, 40, 0};
    slm_matmul_ctx ctx = {0};
    assert_int_equal(slm_matmul(y, x, &bad, 1, &ctx), -1);
    slm_weight bad_group = {SLM_WEIGHT_Q8_0, blk, 4, 32, 1}; /* packed needs rows % 8 == 0 */
    assert_int_equal(slm_matmul(y, x, &bad_group, 1, &ctx), -1);
    slm_weight bad_float = {SLM_WEIGHT_F16, blk, 8, 8, 1};
    assert_int_equal(slm_matmul(y, x, &bad_float, 1, &ctx), -1);
    slm_weight four = {SLM_WEIGHT_Q8_0, blk, 4, 32, 0};
    assert_int_equal(slm_weight_pack(&four, blk), -1);
    slm_weight empty = {SLM_WEIGHT_Q4_0, blk, 0, 32, 0};
    assert_int_equal(slm_matmul(y, x, &empty, 1, &ctx), 0);
    assert_non_null(ctx.kernels); /* chosen on first use */
    slm_matmul_ctx_free(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_matmul_edges),
        cmocka_unit_test(test_matmul_multi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
