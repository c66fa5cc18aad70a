/*
 * test_kernels_simd.c — every ISA kernel table the CPU supports against the
 * scalar table and against double-precision sums, with derived bounds:
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
 *  against the f32 product of the dequantized weights: each activation is
 *    off by at most d_x/2 (plus an ulp), so the quantized result may differ
 *    by Σ_b (d_x,b/2)·Σ_i|w_i| more.
 *  quantization round trips: the bounds documented in kernels/quant.c.
 *
 * Batch invariance: every table's products give each output element the
 * same bits whatever the batch, tile, edge, thread split or entry point
 * (dispatch.h), checked with memcmp per element (test_batch_invariance).
 *
 * The tables under test, the generator and table_dot are tests/simd_cases.h
 * (with the SIMDe-emulated AVX-512 and NEON tables).
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, strdup */
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

/* ============================================================ dispatch */

static void test_dispatch(void **state)
{
    for (int i = 0; i < SLM_ISA_COUNT; i++) {
        slm_isa p;
        assert_int_equal(slm_isa_parse(slm_isa_name((slm_isa)i), &p), 0);
        assert_int_equal(p, i);
        const slm_kernel_table *t = slm_kernels_for((slm_isa)i);
        assert_true(slm_isa_supported(t->isa));
        if (slm_isa_supported((slm_isa)i))
            assert_int_equal(t->isa, i);
    }
    slm_isa p;
    assert_int_equal(slm_isa_parse("sse9", &p), -1);
    assert_true(slm_isa_supported(SLM_ISA_SCALAR));
    assert_true(slm_isa_supported(slm_isa_best()));
    printf("best ISA here: %s\n", slm_isa_name(slm_isa_best()));

    const char *old = getenv("SLM_ISA");
    char *saved = old ? strdup(old) : NULL;
    setenv("SLM_ISA", "scalar", 1);
    assert_int_equal(slm_kernels_select()->isa, SLM_ISA_SCALAR);
    assert_int_equal(slm_isa_from_env(&p), 1);
    setenv("SLM_ISA", "bogus", 1);
    assert_int_equal(slm_isa_from_env(&p), -1);
    assert_int_equal(slm_kernels_select()->isa, slm_isa_best());
    setenv("SLM_ISA", "neon", 1); /* unsupported on x86: falls back to the best */
    assert_true(slm_isa_supported(slm_kernels_select()->isa));
    unsetenv("SLM_ISA");
    assert_int_equal(slm_isa_from_env(&p), 0);
    assert_int_equal(slm_kernels_select()->isa, slm_isa_best());
    if (saved)
        setenv("SLM_ISA", saved, 1);
    free(saved);

    slm_weight_type wt;
    for (int t = 0; t < SLM_WEIGHT_TYPE_COUNT; t++) {
        assert_int_equal(slm_weight_type_parse(slm_weight_type_name((slm_weight_type)t), &wt), 0);
        assert_int_equal(wt, t);
    }
    assert_int_equal(slm_weight_row_bytes(SLM_WEIGHT_Q4_0, 64), 36);
    assert_int_equal(slm_weight_row_bytes(SLM_WEIGHT_Q8_0, 64), 68);
    assert_true(slm_weight_bits(SLM_WEIGHT_Q4_0) == 4.5);
    assert_int_equal(sizeof(slm_act_q8), SLM_ACT_Q8_BYTES);
}

/* ======================================================= quantization */

static float block_scale(const uint8_t *blk)
{
    uint16_t h;
    memcpy(&h, blk, 2);
    return slm_f16_to_f32(h);
}

static void check_round_trip(slm_weight_type t, const float *x, int n)
{
    size_t bb = t == SLM_WEIGHT_Q8_0 ? SLM_Q8_0_BYTES : SLM_Q4_0_BYTES;
    uint8_t *q = malloc(slm_weight_row_bytes(t, n));
    float *y = malloc(sizeof(float) * (size_t)n);
    slm_encode_row(t, x, q, n);
    slm_dequantize_row(t, q, y, n);
    for (int b = 0; b < n / SLM_QBLOCK; b++) {
        float d = fabsf(block_scale(q + b * bb));
        for (int i = b * SLM_QBLOCK; i < (b + 1) * SLM_QBLOCK; i++) {
            assert_false(isnan(y[i]));
            double err = fabs((double)x[i] - y[i]);
            /* Q4_0: elements of the extreme's opposite sign beyond 7.5 d
               clamp to nibble 15 (quant.c) and may be off by up to d */
            double lim = d / 2.0;
            if (t == SLM_WEIGHT_Q4_0 && fabs(x[i]) > 7.5 * d)
                lim = fmax(lim, fabs(x[i]) - 7.0 * d);
            lim = lim * (1 + 1e-6) + 1e-30;
            if (err > lim)
                fail_msg("%s block %d elem %d: x=%g y=%g err=%g > %g (d=%g)",
                         slm_weight_type_name(t), b, i, x[i], y[i], err, lim, d);
        }
    }
    free(q), free(y);
}

static void test_quant_round_trip(void **state)
{
    rng r = {42};
    const int n = 32 * 64;
    float *x = malloc(sizeof(float) * n);
    const double scales[] = {1e-3, 0.02, 1.0, 300.0, 60000.0};
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
        for (int i = 0; i < n; i++)
            x[i] = (float)(uniform(&r) * scales[s]);
        for (int i = 0; i < 32; i++) /* an all-zero block, a one-hot block */
            x[i] = 0.0f, x[32 + i] = i == 5 ? (float)scales[s] : 0.0f;
        check_round_trip(SLM_WEIGHT_Q8_0, x, n);
        check_round_trip(SLM_WEIGHT_Q4_0, x, n);
    }
    /* all-zero block: d = 0, decodes to exact zeros */
    uint8_t q8[SLM_Q8_0_BYTES], q4[SLM_Q4_0_BYTES];
    float z[32] = {0}, y[32];
    slm_quantize_row_q8_0(z, q8, 32);
    slm_quantize_row_q4_0(z, q4, 32);
    assert_true(block_scale(q8) == 0.0f && block_scale(q4) == 0.0f);
    slm_dequantize_row(SLM_WEIGHT_Q8_0, q8, y, 32);
    for (int i = 0; i < 32; i++)
        assert_true(y[i] == 0.0f);
    slm_dequantize_row(SLM_WEIGHT_Q4_0, q4, y, 32);
    for (int i = 0; i < 32; i++)
        assert_true(y[i] == 0.0f);
    free(x);
}

/* Values that are exactly d·q with d an f16 survive the round trip. */
static void test_quant_exact(void **state)
{
    rng r = {7};
    float x[64], y[64];
    uint8_t q8[2 * SLM_Q8_0_BYTES], q4[2 * SLM_Q4_0_BYTES];
    const float ds[] = {0.0078125f, 0.015625f * 3, 1.0f, 0.5f + 0.25f};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        float d = slm_f16_to_f32(slm_f32_to_f16(ds[k]));
        for (int i = 0; i < 64; i++)
            x[i] = d * (float)((int)(uniform(&r) * 126.0));
        x[3] = 127 * d, x[40] = -127 * d; /* the extremes set the scale */
        slm_quantize_row_q8_0(x, q8, 64);
        slm_dequantize_row(SLM_WEIGHT_Q8_0, q8, y, 64);
        for (int i = 0; i < 64; i++)
            assert_true(x[i] == y[i]);
        for (int i = 0; i < 64; i++)
            x[i] = d * (float)((int)((uniform(&r) + 1.0) * 7.5) - 7); /* -7..7 */
        x[9] = -8 * d, x[50] = -8 * d;
        slm_quantize_row_q4_0(x, q4, 64);
        slm_dequantize_row(SLM_WEIGHT_Q4_0, q4, y, 64);
        for (int i = 0; i < 64; i++)
            assert_true(x[i] == y[i]);
    }
    /* layout: nibble i < 16 low, i >= 16 high; d stored in front */
    for (int i = 0; i < 32; i++)
        x[i] = (float)(i % 16) - 8.0f;
    x[0] = -8.0f;
    slm_quantize_row_q4_0(x, q4, 32);
    assert_true(block_scale(q4) == 1.0f);
    assert_int_equal(q4[2 + 1], 1 | 1 << 4);
    assert_int_equal(q4[2 + 15], 15 | 15 << 4);
}

/* The x8 layout of pack.c, byte for byte, and reading rows back out of it. */
static void test_pack_layout(void **state)
{
    rng r = {11};
    const int rows = 16, cols = 96, nb = cols / 32;
    for (int wt = SLM_WEIGHT_Q8_0; wt <= SLM_WEIGHT_Q4_0; wt++) {
        size_t rb = slm_weight_row_bytes((slm_weight_type)wt, cols);
        int bb = (int)(rb / nb), chunks = (bb - 2) / 4;
        uint8_t *src = malloc(rb * rows), *dst = malloc(rb * rows), *row = malloc(rb);
        for (size_t i = 0; i < rb * rows; i++)
            src[i] = (uint8_t)((r.s = r.s * 6364136223846793005u + 1442695040888963407u) >> 56);
        for (int i = 0; i < rows; i++) /* finite scales: row i, block b -> (i + 1) / (b + 1) */
            for (int b = 0; b < nb; b++) {
                uint16_t h = slm_f32_to_f16((float)(i + 1) / (float)(b + 1));
                memcpy(src + i * rb + b * bb, &h, 2);
            }
        slm_weight w = {(slm_weight_type)wt, src, rows, cols, 0};
        assert_true(slm_weight_packable(&w));
        assert_int_equal(slm_weight_pack(&w, dst), 0);
        assert_true(w.packed && w.data == dst);
        /* group 1, block 2: the 8 scales, then chunk c of row i at (c * 8 + i) * 4 */
        const uint8_t *g = dst + 8 * rb + 2 * 8 * bb;
        for (int i = 0; i < 8; i++) {
            const uint8_t *blk = src + (8 + i) * rb + 2 * bb;
            assert_memory_equal(g + 2 * i, blk, 2);
            for (int c = 0; c < chunks; c++)
                assert_memory_equal(g + 16 + (c * 8 + i) * 4, blk + 2 + 4 * c, 4);
        }
        float *a = malloc(sizeof(float) * cols), *b = malloc(sizeof(float) * cols);
        for (int i = 0; i < rows; i++) {
            slm_weight_row_blocks(&w, i, row);
            assert_memory_equal(row, src + i * rb, rb);
            slm_weight_row_f32(&w, i, a);
            slm_dequantize_row((slm_weight_type)wt, src + i * rb, b, cols);
            assert_memory_equal(a, b, sizeof(float) * cols);
        }
        slm_weight half = slm_weight_rows(&w, 8, 8); /* a slice of whole groups */
        slm_weight_row_blocks(&half, 3, row);
        assert_memory_equal(row, src + 11 * rb, rb);
        assert_false(slm_weight_packable(&w)); /* already packed */
        free(src), free(dst), free(row), free(a), free(b);
    }
    /* x16 floats: group g's vector i holds element i of its 16 rows */
    for (int wt = SLM_WEIGHT_F32; wt <= SLM_WEIGHT_BF16; wt++) {
        const int frows = 32, fcols = 37;
        size_t rb = slm_weight_row_bytes((slm_weight_type)wt, fcols), es = rb / fcols;
        uint8_t *src = malloc(rb * frows), *dst = malloc(rb * frows);
        float *v = malloc(sizeof(float) * fcols), *a = malloc(sizeof(float) * fcols);
        for (int i = 0; i < frows; i++) {
            for (int j = 0; j < fcols; j++)
                v[j] = (float)uniform(&r);
            slm_encode_row((slm_weight_type)wt, v, src + i * rb, fcols);
        }
        slm_weight w = {(slm_weight_type)wt, src, frows, fcols, 0};
        assert_true(slm_weight_packable(&w));
        slm_weight odd = {(slm_weight_type)wt, src, 24, fcols, 0};
        assert_false(slm_weight_packable(&odd)); /* 24 rows: not whole groups of 16 */
        assert_int_equal(slm_weight_pack(&w, dst), 0);
        for (int g = 0; g < 2; g++)
            for (int i = 0; i < fcols; i++)
                for (int j = 0; j < 16; j++)
                    assert_memory_equal(dst + g * 16 * rb + (i * 16 + j) * es,
                                        src + (g * 16 + j) * rb + i * es, es);
        for (int i = 0; i < frows; i++) {
            slm_weight_row_f32(&w, i, a);
            slm_dequantize_row((slm_weight_type)wt, src + i * rb, v, fcols);
            assert_memory_equal(a, v, sizeof(float) * fcols);
        }
        slm_weight half = slm_weight_rows(&w, 16, 16);
        slm_weight_row_f32(&half, 5, a);
        slm_dequantize_row((slm_weight_type)wt, src + 21 * rb, v, fcols);
        assert_memory_equal(a, v, sizeof(float) * fcols);
        free(src), free(dst), free(v), free(a);
    }
}

/* Activation quantization is bit-identical in every table, and its error
   is within d/2 per element. */
static void test_act_quant(void **state)
{
    isa_case cs[8];
    int nc = isa_cases(cs, 1);
    rng r = {3};
    const int n = 32 * 40;
    float *x = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++)
        x[i] = (float)(uniform(&r) * (i < 640 ? 1.0 : 1e4));
    for (int i = 0; i < 32; i++) {
        x[i] = 0.0f;                      /* zero block */
        x[32 + i] = (float)(i - 16) + 0.5f; /* amax 16.5: ties after scaling? */
        x[64 + i] = (float)(i * 4 - 64) - 0.5f + (i == 0 ? -63.0f : 0.0f); /* amax 127.5 */
        x[96 + i] = i == 0 ? 127.0f : (float)(i - 16) + 0.5f; /* id = 1: exact .5 ties */
        x[128 + i] = 1e-35f * (float)(i + 1);                 /* below the 1e-30 cut */
    }
    slm_act_q8 *ref = malloc(sizeof(slm_act_q8) * (n / 32));
    slm_act_q8 *got = malloc(sizeof(slm_act_q8) * (n / 32));
    slm_kernels_scalar.quantize_act_q8(x, ref, n);
    for (int b = 0; b < n / 32; b++) {
        int32_t s = 0;
        for (int i = 0; i < 32; i++) {
            s += ref[b].q[i];
            double err = fabs((double)x[b * 32 + i] - (double)ref[b].d * ref[b].q[i]);
            assert_true(err <= ref[b].d * 0.5 * (1 + 1e-6) + 1e-30);
        }
        assert_int_equal(s, ref[b].sum);
    }
    assert_int_equal(ref[3].q[1], -15); /* -14.5 rounds away from zero */
    assert_int_equal(ref[3].q[17], 2);  /* 1.5 -> 2 */
    assert_int_equal(ref[3].q[16], 1);  /* 0.5 -> 1 */
    for (int c = 0; c < nc; c++) {
        memset(got, 0x55, sizeof(slm_act_q8) * (n / 32));
        cs[c].t->quantize_act_q8(x, got, n);
        if (memcmp(got, ref, sizeof(slm_act_q8) * (n / 32)) != 0)
            fail_msg("%s: activation quantization differs from the scalar table", cs[c].label);
    }
    free(x), free(ref), free(got);
}

/* Every table's f16/bf16 row converters are exact: all 65536 halves. */
static void test_converters(void **state)
{
    isa_case cs[8];
    int nc = isa_cases(cs, 1);
    uint16_t *h = malloc(sizeof(uint16_t) * 65536 + 16);
    float *f = malloc(sizeof(float) * 65536 + 16);
    for (uint32_t i = 0; i < 65536; i++)
        h[i] = (uint16_t)i;
    for (int c = 0; c < nc; c++) {
        for (int bf = 0; bf < 2; bf++) {
            /* odd start and length: the vector loops' tails run too */
            (bf ? cs[c].t->bf16_to_f32 : cs[c].t->f16_to_f32)(h + 1, f + 1, 65535);
            for (uint32_t i = 1; i < 65536; i++) {
                float want = bf ? slm_bf16_to_f32(h[i]) : slm_f16_to_f32(h[i]);
                uint32_t a, b;
                memcpy(&a, &f[i], 4);
                memcpy(&b, &want, 4);
                if (isnan(want) ? !isnan(f[i]) : a != b)
                    fail_msg("%s %s_to_f32(0x%04x) = %g, want %g", cs[c].label, bf ? "bf16" : "f16",
                             i, f[i], want);
            }
        }
    }
    free(h), free(f);
}

/* ============================================================ row dots */

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

/* ============================================================ products */

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

/* ==================================================== batch invariance */

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
        cmocka_unit_test(test_dispatch),  cmocka_unit_test(test_quant_round_trip),
        cmocka_unit_test(test_quant_exact), cmocka_unit_test(test_pack_layout),
        cmocka_unit_test(test_act_quant),
        cmocka_unit_test(test_converters),
        cmocka_unit_test(test_dots),      cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_matmul_edges), cmocka_unit_test(test_matmul_multi),
        cmocka_unit_test(test_batch_invariance), cmocka_unit_test(test_matmul_multi_f32_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
