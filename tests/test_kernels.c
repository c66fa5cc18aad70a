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
#include "vmath.h"

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
    slm_team *team = slm_team_new(threads);
    slm_matmul_f32(y, x, w, n, rows, cols, team, threads);
    slm_team_free(team);
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

/* The fused epilogue: exactly the product, then bias, then GELU (the same
   kernels applied in the same order, so only the product's summation order
   differs from the reference). */
static void check_matmul_bias(int n, int rows, int cols, int threads, slm_act act)
{
    float *x = malloc(sizeof(float) * n * cols), *w = malloc(sizeof(float) * rows * cols);
    float *y = malloc(sizeof(float) * n * rows), *r = malloc(sizeof(float) * n * rows);
    float *bias = malloc(sizeof(float) * rows);
    fill(x, (size_t)n * cols, 1);
    fill(w, (size_t)rows * cols, 2);
    fill(bias, (size_t)rows, 3);
    slm_team *team = slm_team_new(threads);
    slm_matmul_f32_bias(y, x, w, bias, act, n, rows, cols, team, threads);
    slm_team_free(team);
    slm_matmul_f32_ref(r, x, w, n, rows, cols);
    slm_add_bias(r, bias, n, rows);
    if (act == SLM_ACT_GELU)
        slm_gelu(r, (size_t)n * rows);
    /* GELU's slope is at most 1.13, so the product's bound carries over */
    float bound = 1.13f * ((float)cols * 2.4e-7f + 1e-6f);
    float d = max_abs_diff(y, r, (size_t)n * rows);
    if (d > bound)
        fail_msg("matmul+bias n=%d rows=%d cols=%d act=%d: max diff %g > %g", n, rows, cols, act,
                 d, bound);
    free(x), free(w), free(y), free(r), free(bias);
}

static void test_matmul_bias(void **state)
{
    /* 64, 129 and 530 tokens: the own sgemm's threads split tokens by
       32-token panels (even, 5 and 17 panels), 96 rows (3 panels) */
    const int shapes[][3] = {{1, 7, 13},     {1, 300, 257}, {2, 5, 3},    {17, 64, 172},
                             {64, 300, 100}, {96, 40, 33},  {129, 50, 70}, {530, 24, 48}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int t = 1; t <= 3; t++)
            for (int act = SLM_ACT_NONE; act <= SLM_ACT_GELU; act++)
                check_matmul_bias(shapes[i][0], shapes[i][1], shapes[i][2], t, (slm_act)act);
}

/* ============================================================ elementwise */

/* The inline exp against libm's double exp: within 2 ulp (2.4e-7 relative)
   on a dense grid of its range, and clamped (not 0 or inf) outside it; the
   inline erfc within 6e-7 absolute of double erfc. */
static void test_vexpf(void **state)
{
    const int N = 2000000;
    double worst = 0;
    for (int i = 0; i <= N; i++) {
        float x = -87.0f + 175.0f * (float)i / (float)N;
        double rel = fabs(slm_vexpf(x) / exp((double)x) - 1.0);
        worst = fmax(worst, rel);
    }
    if (worst > 2.4e-7)
        fail_msg("slm_vexpf: max relative error %g > 2.4e-7", worst);
    worst = 0;
    for (int i = 0; i <= N; i++) {
        float a = 10.0f * (float)i / (float)N;
        worst = fmax(worst, fabs(slm_verfc_pos(a) - erfc((double)a)));
    }
    if (worst > 6e-7)
        fail_msg("slm_verfc_pos: max absolute error %g > 6e-7", worst);
    assert_true(slm_vexpf(0.0f) == 1.0f);
    assert_true(slm_vexpf(-1000.0f) > 0.0f && slm_vexpf(-1000.0f) < 2e-38f);
    assert_true(isfinite(slm_vexpf(1000.0f)));
    assert_true(isnan(slm_vexpf(NAN)));
}

/* GELU against the definition in double, 0.5 x erfc(-x/√2), on a dense grid
   of [-12, 12]: within 1e-6·max(1, |x|) (the erfc approximation is within
   1.5e-7, f32 evaluation adds a few ulp; an erff-based f32 GELU is off by
   up to ~4.5e-7 here too). The bias variant is the same function of x + b. */
static void test_gelu(void **state)
{
    const int N = 1000000;
    float *x = malloc(sizeof(float) * (N + 1));
    for (int i = 0; i <= N; i++)
        x[i] = -12.0f + 24.0f * (float)i / (float)N;
    float *g = malloc(sizeof(float) * (N + 1));
    memcpy(g, x, sizeof(float) * (N + 1));
    slm_gelu(g, (size_t)N + 1);
    for (int i = 0; i <= N; i++) {
        double ref = 0.5 * x[i] * erfc(-x[i] / sqrt(2.0));
        if (fabs(g[i] - ref) > 1e-6 * fmax(1.0, fabs(x[i])))
            fail_msg("gelu(%.9g) = %.9g, reference %.9g", x[i], g[i], ref);
    }
    float tiny[4] = {0.0f, -0.0f, 1e-30f, -1e-30f};
    slm_gelu(tiny, 4);
    assert_true(tiny[0] == 0.0f && tiny[1] == 0.0f && fabsf(tiny[2] - 5e-31f) < 1e-36f);
    float big[3] = {1e30f, -1e30f, NAN};
    slm_gelu(big, 3);
    assert_true(big[0] == 1e30f && big[1] == 0.0f && isnan(big[2]));

    enum { R = 3, C = 37 };
    float xb[R * C], bias[C], want[R * C];
    fill(xb, R * C, 7);
    fill(bias, C, 8);
    for (int i = 0; i < R * C; i++)
        want[i] = xb[i] * 4.0f + bias[i % C];
    for (int i = 0; i < R * C; i++)
        xb[i] *= 4.0f;
    slm_gelu(want, R * C);
    slm_bias_gelu(xb, bias, R, C);
    assert_true(memcmp(xb, want, sizeof want) == 0);
    free(x), free(g);
}

/* The fused residual LayerNorm against LayerNorm (double accumulation) of
   the explicit sum x + y + bias. */
static void test_add_layernorm(void **state)
{
    const int sizes[] = {1, 7, 37, 768};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        int n = sizes[c];
        float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
        float *bias = malloc(sizeof(float) * n), *w = malloc(sizeof(float) * n);
        float *b = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n);
        fill(x, n, 11 + c);
        fill(y, n, 12 + c);
        fill(bias, n, 13 + c);
        fill(w, n, 14 + c);
        fill(b, n, 15 + c);
        for (int i = 0; i < n; i++) {
            x[i] = x[i] * 3.0f + 5.0f; /* an offset the mean must remove */
            want[i] = x[i] + (y[i] + bias[i]);
        }
        slm_layernorm(want, want, w, b, n, 1e-12f);
        slm_add_layernorm(x, y, bias, w, b, n, 1e-12f);
        for (int i = 0; i < n; i++)
            assert_float_equal(x[i], want[i], 2e-5);
        free(x), free(y), free(bias), free(w), free(b), free(want);
    }
}

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
    /* dense sweep over [-200, 200] (exp's argument clamps beyond 88): within
       5e-7 relative of the double value, 1e-35 absolute where it underflows */
    enum { N = 4001 };
    static float gs[N], us[N];
    for (int i = 0; i < N; i++)
        gs[i] = -200.0f + 0.1f * (float)i, us[i] = 1.0f;
    slm_silu_mul(gs, us, N);
    for (int i = 0; i < N; i++) {
        double gd = (double)(-200.0f + 0.1f * (float)i); /* the input as stored */
        double want = gd / (1.0 + exp(-gd));
        if (!(fabs(gs[i] - want) <= 5e-7 * fabs(want) + 1e-35))
            fail_msg("silu(%g) = %.9g, want %.9g", gd, gs[i], want);
    }
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

/* Whole-sequence attention of packed sequences against the per-query
   definition for every token and head. */
static void test_attention_encoder(void **state)
{
    const int lengths[] = {1, 5, 33, 130};
    const int batch = 4, H = 3, d = 16, D = H * d;
    int offsets[4], total = 0;
    for (int b = 0; b < batch; b++) {
        offsets[b] = total;
        total += lengths[b];
    }
    float *q = malloc(sizeof(float) * total * D), *k = malloc(sizeof(float) * total * D);
    float *v = malloc(sizeof(float) * total * D), *out = malloc(sizeof(float) * total * D);
    fill(q, (size_t)total * D, 51);
    fill(k, (size_t)total * D, 52);
    fill(v, (size_t)total * D, 53);
    for (int i = 0; i < total * D; i++)
        q[i] *= 8.0f; /* peaky scores */
    slm_team *team = slm_team_new(2);
    for (int threads = 1; threads <= 2; threads++) {
        memset(out, 0, sizeof(float) * total * D);
        assert_int_equal(slm_attention_encoder(out, q, k, v, offsets, lengths, batch, H, d, 0.25f,
                                               team, threads),
                         0);
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < lengths[b]; t++)
                for (int h = 0; h < H; h++) {
                    size_t row = (size_t)(offsets[b] + t) * D + (size_t)h * d;
                    size_t base = (size_t)offsets[b] * D + (size_t)h * d;
                    double ref[16];
                    attention_naive(ref, q + row, k + base, v + base, lengths[b], d, (size_t)D,
                                    0.25f);
                    for (int i = 0; i < d; i++)
                        if (fabs(out[row + i] - ref[i]) > 2e-6)
                            fail_msg("seq %d token %d head %d: out[%d] = %.9g, reference %.9g", b,
                                     t, h, i, out[row + i], ref[i]);
                }
    }
    slm_team_free(team);
    free(q), free(k), free(v), free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_known_values), cmocka_unit_test(test_f16_round_trip_all),
        cmocka_unit_test(test_bf16),             cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_rmsnorm),          cmocka_unit_test(test_rope),
        cmocka_unit_test(test_softmax_and_silu), cmocka_unit_test(test_attention_head),
        cmocka_unit_test(test_attention_head_kv), cmocka_unit_test(test_matmul_bias),
        cmocka_unit_test(test_vexpf),            cmocka_unit_test(test_gelu),
        cmocka_unit_test(test_add_layernorm),    cmocka_unit_test(test_attention_encoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
