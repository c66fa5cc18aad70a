/*
 * test_kernels_simd_encode.c — how values are encoded for the kernels: Q8_0
 * and Q4_0 quantization round trips (within the bounds documented in
 * kernels/quant.c) and exact values, the x8 and x16 packed layouts of
 * pack.c byte for byte, and, in every table (simd_cases.h), activation
 * quantization, the weight quantizers of the tables that have their own and
 * the f16/bf16 row converters bit for bit against the scalar ones.
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

/* Weight quantizers of the tables that have their own (quantize_row_q8_0 /
   _q4_0) write the scalar quantizers' bytes: exact halves of the quant
   step, values a hair off them, NaN, infinities, signed zeros, zero and
   subnormal blocks, a block whose largest magnitude appears twice with
   both signs, and random blocks over 80 binary orders of magnitude. The
   invariance set of tables: the AVX-512 quantizers also over SIMDe. */
static void test_weight_quant_tables(void **state)
{
    (void)state;
    isa_case cs[8];
    int nc = invariance_cases(cs), tested = 0;
    rng r = {11};
    const int n = 32 * 256;
    float *x = malloc(sizeof(float) * n);
    for (int b = 0; b < n / 32; b++) {
        float d = ldexpf(1.0f, b % 30 - 20), *blk = x + 32 * b;
        int mode = b % 4;
        for (int i = 0; i < 32; i++) {
            int k = rand_int(&r, -127, 126);
            float v = ((float)k + 0.5f) * d;
            if (mode == 1)
                v = nextafterf(v, (i & 1) ? INFINITY : -INFINITY);
            else if (mode == 2)
                v = (float)(gauss(&r) * ldexp(1.0, rand_int(&r, -60, 20)));
            else if (mode == 3)
                v = ((float)rand_int(&r, -8, 7) + 0.5f) * d;
            blk[i] = v;
        }
        if (mode != 2)
            blk[rand_int(&r, 0, 31)] = (mode == 3 ? -8.0f : 127.0f) * d; /* sets d */
    }
    x[3] = NAN, x[40] = INFINITY, x[77] = -INFINITY, x[100] = -0.0f;
    for (int i = 0; i < 32; i++) {
        x[32 * 5 + i] = 0.0f;                         /* zero block */
        x[32 * 9 + i] = i % 2 ? -0.0f : 0.0f;         /* signed zeros */
        x[32 * 13 + i] = 1e-42f * (float)(i - 16);    /* f32 subnormals */
        x[32 * 17 + i] = (float)(i - 16) * 0.25f;     /* ... */
        x[32 * 21 + i] = NAN;                         /* all NaN */
    }
    x[32 * 17 + 2] = 4.0f, x[32 * 17 + 30] = -4.0f; /* largest magnitude twice, both signs */
    for (int t = SLM_WEIGHT_Q8_0; t <= SLM_WEIGHT_Q4_0; t++) {
        size_t bytes = slm_weight_row_bytes((slm_weight_type)t, n);
        uint8_t *ref = malloc(bytes), *got = malloc(bytes);
        slm_encode_row((slm_weight_type)t, x, ref, n);
        for (int c = 0; c < nc; c++) {
            void (*q)(const float *, void *, int) = t == SLM_WEIGHT_Q8_0
                                                        ? cs[c].t->quantize_row_q8_0
                                                        : cs[c].t->quantize_row_q4_0;
            if (!q)
                continue;
            memset(got, 0x55, bytes);
            q(x, got, n);
            size_t bb = t == SLM_WEIGHT_Q8_0 ? SLM_Q8_0_BYTES : SLM_Q4_0_BYTES;
            for (size_t i = 0; i < bytes; i++)
                if (got[i] != ref[i])
                    fail_msg("%s %s: block %zu byte %zu: %#x, scalar %#x", cs[c].label,
                             slm_weight_type_name((slm_weight_type)t), i / bb, i % bb, got[i],
                             ref[i]);
            memset(got, 0x55, bytes); /* and through slm_encode_row_with */
            slm_encode_row_with(cs[c].t, t, x, got, n);
            assert_memory_equal(got, ref, bytes);
            tested++;
        }
        free(ref), free(got);
    }
    free(x);
    if (tested == 0)
        printf("weight quantizers: no table here has its own (the scalar ones are used)\n");
    else
        printf("weight quantizers: %d table/format pairs == scalar bytes\n", tested);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quant_round_trip),
        cmocka_unit_test(test_quant_exact),
        cmocka_unit_test(test_pack_layout),
        cmocka_unit_test(test_act_quant),
        cmocka_unit_test(test_weight_quant_tables),
        cmocka_unit_test(test_converters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
