/*
 * test_kernels_simd_dot.c — every table's row dots (simd_cases.h), per
 * weight type and fill, against the scalar table and against
 * double-precision sums, with derived bounds:
 *
 *  float dots (f32/f16/bf16): the products are exact in double, so a table's
 *    result differs from the exact sum by its rounding only. A sum of n terms
 *    accumulated in L independent f32 lanes of about n/L terms each, then
 *    combined in a short tree, is off by at most (n/L + 64)·u·Σ|w·x|
 *    (u = 2^-24; the 64 covers the tree, the tail and the product roundings).
 *    We use L = 8 (the fewest lanes of any table: AVX2's one 8-lane
 *    accumulator, the scalar table's eight sums; AVX-512 has 16); for the
 *    scalar table, any order's bound n·u·Σ|w·x|.
 *  quantized dots: integer partial sums (a block's, or a SIMD lane's part
 *    of it) are exact; each is scaled by d_w·d_x with at most two roundings
 *    and about nb of them are added in a lane, so
 *    |table - exact| <= (nb + 8)·2u·Σ|w_i·x_i| (decoded weights, quantized
 *    activations; +64 for the lane tree in the SIMD tables).
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

typedef enum { FILL_UNIFORM, FILL_LARGE, FILL_ZERO_BLOCKS, FILL_MAX, FILL_SUBNORMAL, FILL_GAUSS,
               FILL_COUNT } fill_kind;
static const char *const fill_names[] = {"uniform", "large", "zero-blocks", "max",
                                         "f16-subnormal", "N(0,0.02)"};

/* Weights (as f32, before encoding) and activations for one case. */
static void fill_case(float *w, float *x, int n, fill_kind k, slm_weight_type t, rng *r)
{
    float wmax = t == SLM_WEIGHT_F16 ? 65504.0f : t == SLM_WEIGHT_BF16 ? 3.0e38f : 1.0e30f;
    for (int i = 0; i < n; i++) {
        double a = uniform(r), b = uniform(r);
        switch (k) {
        case FILL_UNIFORM:
            w[i] = (float)a, x[i] = (float)b;
            break;
        case FILL_LARGE:
            w[i] = (float)(a * 3e4), x[i] = (float)(b * 1e3);
            break;
        case FILL_ZERO_BLOCKS:
            w[i] = (i / 32) % 2 ? (float)a : 0.0f, x[i] = (i / 64) % 2 ? 0.0f : (float)b;
            break;
        case FILL_MAX: /* weights at their type's extremes, tiny activations */
            w[i] = t == SLM_WEIGHT_Q8_0 || t == SLM_WEIGHT_Q4_0 ? (a < 0 ? -60000.0f : 60000.0f)
                                                               : (a < 0 ? -wmax : wmax);
            x[i] = (float)(b * 1e-6);
            break;
        case FILL_SUBNORMAL: /* f16 subnormals: multiples of 2^-24 below 2^-14 */
            w[i] = (float)((int)(a * 1023.0)) * (float)U, x[i] = (float)(b * 1e4);
            break;
        default:
            w[i] = (float)(0.02 * gauss(r)), x[i] = (float)gauss(r);
            break;
        }
    }
}

/* Exact Σ w·x of the decoded weights (and, for quantized types, the
   quantized activations), and Σ|terms| for the bound. */
static void exact_dot(slm_weight_type wt, const void *wenc, const float *x, const void *xq, int n,
                      double *sum, double *mag, double *blocks)
{
    float *wd = malloc(sizeof(float) * (size_t)n);
    slm_dequantize_row(wt, wenc, wd, n);
    *sum = *mag = 0.0;
    *blocks = 1;
    if (wt == SLM_WEIGHT_Q8_0 || wt == SLM_WEIGHT_Q4_0) {
        const slm_act_q8 *a = xq;
        for (int b = 0; b < n / 32; b++) {
            /* SIMD tables scale partial integer sums (lanes) before adding
               them, so the bound is relative to Σ|w_i x_i|, not Σ_b|term_b| */
            for (int i = 0; i < 32; i++) {
                double p = (double)wd[b * 32 + i] * ((double)a[b].d * a[b].q[i]);
                *sum += p, *mag += fabs(p);
            }
        }
        *blocks = n / 32;
    } else {
        for (int i = 0; i < n; i++) {
            double p = (double)wd[i] * x[i];
            *sum += p, *mag += fabs(p);
        }
    }
    free(wd);
}

static void check_dot_case(const isa_case *c, slm_weight_type wt, fill_kind k, int n, rng *r)
{
    float *w = malloc(sizeof(float) * (size_t)n), *x = malloc(sizeof(float) * (size_t)n);
    fill_case(w, x, n, k, wt, r);
    void *enc = malloc(slm_weight_row_bytes(wt, n) + 1);
    slm_encode_row(wt, w, enc, n);
    slm_act_q8 *xq = malloc(sizeof(slm_act_q8) * (size_t)(n / 32 + 1));
    int quant = wt == SLM_WEIGHT_Q8_0 || wt == SLM_WEIGHT_Q4_0;
    if (quant)
        slm_kernels_scalar.quantize_act_q8(x, xq, n);
    const void *xa = quant ? (const void *)xq : (const void *)x;
    double exact, mag, nb;
    exact_dot(wt, enc, x, xq, n, &exact, &mag, &nb);
    float got = table_dot(c->t, wt, enc, xa, n);
    float ref = table_dot(&slm_kernels_scalar, wt, enc, xa, n);
    double bound_t, bound_s;
    if (quant) {
        bound_t = (nb + 64) * 2 * U * mag;
        bound_s = (nb + 8) * 2 * U * mag;
    } else {
        bound_t = (n / 8.0 + 64) * U * mag;
        bound_s = (n + 2.0) * U * mag;
    }
    bound_t += 1e-37, bound_s += 1e-37;
    if (!(fabs(got - exact) <= bound_t) || !(fabs(ref - exact) <= bound_s))
        fail_msg("%s dot_%s n=%d %s: got %.9g scalar %.9g exact %.9g (bounds %g, %g)",
                 c->label, slm_weight_type_name(wt), n, fill_names[k], got, ref, exact, bound_t,
                 bound_s);
    if (k == FILL_ZERO_BLOCKS && n == 32)
        assert_true(got == 0.0f); /* one block, weight all zero */
    free(w), free(x), free(enc), free(xq);
}

static void test_dots(void **state)
{
    isa_case cs[8];
    int nc = isa_cases(cs, 0);
    rng r = {11};
    const int qn[] = {32, 64, 96, 224, 1056, 2048, 5632, 32 * 177};
    const int fn[] = {1, 7, 8, 15, 16, 33, 100, 1001};
    for (int c = 0; c < nc; c++) {
        for (int wt = 0; wt < SLM_WEIGHT_TYPE_COUNT; wt++) {
            int quant = wt == SLM_WEIGHT_Q8_0 || wt == SLM_WEIGHT_Q4_0;
            for (int k = 0; k < FILL_COUNT; k++) {
                for (size_t i = 0; i < sizeof qn / sizeof qn[0]; i++)
                    check_dot_case(&cs[c], (slm_weight_type)wt, (fill_kind)k, qn[i], &r);
                for (size_t i = 0; !quant && i < sizeof fn / sizeof fn[0]; i++)
                    check_dot_case(&cs[c], (slm_weight_type)wt, (fill_kind)k, fn[i], &r);
            }
        }
        printf("dots: %s ok\n", cs[c].label);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
