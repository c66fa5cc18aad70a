/*
 * test_kernels.c — each kernel against a plain reference computed here or
 * in kernels/ref, with stated error bounds, on odd sizes and tails.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernels.h"

/* Deterministic uniform values in [-1, 1). */
static void fill(float *x, size_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        x[i] = (float)(s >> 8) / (float)(1u << 23) - 1.0f;
    }
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

/* ============================================================ dtypes */

static void test_f16_known_values(void **state)
{
    const struct {
        uint16_t h;
        float f;
    } cases[] = {{0x0000, 0.0f},     {0x3c00, 1.0f},       {0xc000, -2.0f},
                 {0x7bff, 65504.0f}, {0x0001, 5.9604645e-8f}, {0x0400, 6.1035156e-5f},
                 {0x3555, 0.33325195f}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(slm_f16_to_f32(cases[i].h) == cases[i].f);
        assert_int_equal(slm_f32_to_f16(cases[i].f), cases[i].h);
    }
    assert_true(isinf(slm_f16_to_f32(0x7c00)));
    assert_true(isnan(slm_f16_to_f32(0x7e00)));
    assert_int_equal(slm_f32_to_f16(1e6f), 0x7c00);     /* overflow -> inf */
    assert_int_equal(slm_f32_to_f16(1.0f / 3.0f), 0x3555); /* round to nearest */
    assert_int_equal(slm_f32_to_f16(1.00048828125f), 0x3c00); /* tie -> even */
}

static void test_f16_round_trip_all(void **state)
{
    /* every finite half survives f16 -> f32 -> f16 exactly */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00)
            continue;
        assert_int_equal(slm_f32_to_f16(slm_f16_to_f32((uint16_t)h)), h);
    }
}

static void test_bf16(void **state)
{
    assert_true(slm_bf16_to_f32(0x3f80) == 1.0f);
    assert_int_equal(slm_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(slm_f32_to_bf16(1.00390625f), 0x3f80); /* tie -> even */
    assert_int_equal(slm_f32_to_bf16(1.01171875f), 0x3f82); /* tie -> even (up) */
    assert_true(isnan(slm_bf16_to_f32(slm_f32_to_bf16(NAN))));
}

/* ============================================================ products */

static void check_matmul(int n, int rows, int cols, int threads)
{
    float *x = malloc(sizeof(float) * n * cols), *w = malloc(sizeof(float) * rows * cols);
    float *y = malloc(sizeof(float) * n * rows), *r = malloc(sizeof(float) * n * rows);
    fill(x, (size_t)n * cols, 1);
    fill(w, (size_t)rows * cols, 2);
    slm_matmul_f32(y, x, w, n, rows, cols, threads);
    slm_matmul_f32_ref(r, x, w, n, rows, cols);
    /* |terms| <= 1 and cols of them: summation-order error stays below cols * 2^-22 */
    float bound = (float)cols * 2.4e-7f + 1e-6f;
    float d = max_abs_diff(y, r, (size_t)n * rows);
    if (d > bound)
        fail_msg("matmul n=%d rows=%d cols=%d: max diff %g > %g", n, rows, cols, d, bound);
    free(x), free(w), free(y), free(r);
}

static void test_matmul(void **state)
{
    const int shapes[][3] = {{1, 1, 1},   {1, 7, 13},  {1, 300, 257}, {1, 512, 64},
                             {2, 5, 3},   {3, 33, 17}, {17, 64, 172}, {64, 300, 100}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int t = 1; t <= 2; t++)
            check_matmul(shapes[i][0], shapes[i][1], shapes[i][2], t);
}

/* ============================================================ elementwise */

static void test_rmsnorm(void **state)
{
    float x[67], w[67], y[67];
    fill(x, 67, 3);
    fill(w, 67, 4);
    slm_rmsnorm(y, x, w, 67, 1e-5f);
    double ss = 0;
    for (int i = 0; i < 67; i++)
        ss += (double)x[i] * x[i];
    double inv = 1.0 / sqrt(ss / 67 + 1e-5);
    for (int i = 0; i < 67; i++)
        assert_float_equal(y[i], w[i] * x[i] * inv, 1e-6);
}

static void test_rope(void **state)
{
    const int d = 8, half = 4, heads = 3, pos = 7;
    float inv[4], c[4], s[4], x[24], orig[24];
    for (int i = 0; i < half; i++)
        inv[i] = 1.0f / powf(10000.0f, 2.0f * i / d);
    slm_rope_angles(c, s, inv, half, pos, 1.0f);
    fill(x, 24, 5);
    memcpy(orig, x, sizeof x);
    slm_rope_rotate_half(x, heads, d, d, c, s);
    for (int h = 0; h < heads; h++) {
        for (int i = 0; i < half; i++) {
            double a = orig[h * d + i], b = orig[h * d + i + half], th = pos * (double)inv[i];
            assert_float_equal(x[h * d + i], a * cos(th) - b * sin(th), 1e-5);
            assert_float_equal(x[h * d + i + half], b * cos(th) + a * sin(th), 1e-5);
        }
    }
}

static void test_softmax_and_silu(void **state)
{
    float x[5] = {1000.0f, 999.0f, -INFINITY, 0.0f, 998.0f};
    slm_softmax(x, 5);
    double z = 1 + exp(-1) + exp(-2);
    assert_float_equal(x[0], 1 / z, 1e-6);
    assert_float_equal(x[1], exp(-1) / z, 1e-6);
    assert_true(x[2] == 0.0f && x[3] == 0.0f);
    float g[3] = {0.0f, 2.0f, -3.0f}, u[3] = {5.0f, 0.5f, 2.0f};
    slm_silu_mul(g, u, 3);
    assert_float_equal(g[0], 0.0, 1e-7);
    assert_float_equal(g[1], 2.0 / (1 + exp(-2.0)) * 0.5, 1e-6);
    assert_float_equal(g[2], -3.0 / (1 + exp(3.0)) * 2.0, 1e-6);
}

/* ============================================================ attention */

/* Two-pass softmax attention in double, the definition. */
static void attention_naive(double *out, const float *q, const float *k, const float *v, int T,
                            int d, size_t stride, float scale)
{
    double *p = malloc(sizeof(double) * T), m = -INFINITY, z = 0;
    for (int t = 0; t < T; t++) {
        double sc = 0;
        for (int i = 0; i < d; i++)
            sc += (double)q[i] * k[t * stride + i];
        p[t] = sc * scale;
        m = fmax(m, p[t]);
    }
    for (int t = 0; t < T; t++)
        z += (p[t] = exp(p[t] - m));
    for (int i = 0; i < d; i++) {
        out[i] = 0;
        for (int t = 0; t < T; t++)
            out[i] += p[t] / z * v[t * stride + i];
    }
    free(p);
}

static void test_attention_head(void **state)
{
    const int lens[] = {1, 2, 31, 200};
    const int d = 16;
    const size_t stride = 48; /* heads interleaved as in the KV cache */
    for (size_t c = 0; c < sizeof lens / sizeof lens[0]; c++) {
        int T = lens[c];
        float *k = malloc(sizeof(float) * T * stride), *v = malloc(sizeof(float) * T * stride);
        float q[16], out[16];
        double ref[16];
        fill(k, T * stride, 10 + c);
        fill(v, T * stride, 20 + c);
        fill(q, d, 30 + c);
        for (int i = 0; i < d; i++)
            q[i] *= 8.0f; /* peaky scores exercise the running-max rescale */
        slm_attention_head(out, q, k, v, T, d, stride, 0.25f);
        attention_naive(ref, q, k, v, T, d, stride, 0.25f);
        for (int i = 0; i < d; i++)
            assert_float_equal(out[i], ref[i], 2e-6);
        free(k), free(v);
    }
}

/* The cache-typed attention: f32 exactly as the definition, f16/q8 within
   the rounding of their keys and values. */
static void test_attention_head_kv(void **state)
{
    const int d = 64, T = 77, n_kv = 2;
    const size_t stride = (size_t)d * n_kv; /* two heads interleaved per position */
    float *k = malloc(sizeof(float) * T * stride), *v = malloc(sizeof(float) * T * stride);
    float q[64], out[64];
    double ref[64];
    fill(k, T * stride, 41);
    fill(v, T * stride, 42);
    fill(q, d, 43);
    attention_naive(ref, q, k + d, v + d, T, d, stride, 0.125f); /* head 1 */
    const struct {
        slm_kv_elem type;
        size_t esize;
        double tol;
    } cases[] = {{SLM_KV_ELEM_F32, 4, 2e-6}, {SLM_KV_ELEM_F16, 2, 2e-3}, {SLM_KV_ELEM_Q8, 1, 2e-2}};
    for (size_t c = 0; c < 3; c++) {
        unsigned char *kb = malloc(cases[c].esize * T * stride);
        unsigned char *vb = malloc(cases[c].esize * T * stride);
        float ks[2 * 77], vs[2 * 77];
        for (int t = 0; t < T; t++)
            for (int h = 0; h < n_kv; h++) {
                size_t i = (size_t)t * n_kv + h;
                slm_kv_encode(cases[c].type, k + i * d, kb + i * d * cases[c].esize, &ks[i], d);
                slm_kv_encode(cases[c].type, v + i * d, vb + i * d * cases[c].esize, &vs[i], d);
            }
        size_t row = cases[c].esize * d;
        slm_kv_view kv_k = {cases[c].type, kb + row, row * n_kv, ks + 1, (size_t)n_kv};
        slm_kv_view kv_v = {cases[c].type, vb + row, row * n_kv, vs + 1, (size_t)n_kv};
        slm_attention_head_kv(out, q, &kv_k, &kv_v, T, d, 0.125f);
        for (int i = 0; i < d; i++)
            if (fabs(out[i] - ref[i]) > cases[c].tol)
                fail_msg("kv type %d: out[%d] = %g, reference %g", cases[c].type, i, out[i], ref[i]);
        free(kb);
        free(vb);
    }
    free(k);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_known_values), cmocka_unit_test(test_f16_round_trip_all),
        cmocka_unit_test(test_bf16),             cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_rmsnorm),          cmocka_unit_test(test_rope),
        cmocka_unit_test(test_softmax_and_silu), cmocka_unit_test(test_attention_head),
        cmocka_unit_test(test_attention_head_kv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
