/*
 * test_attention.c — the prompt-tile causal attention (kernels/
 * attention_causal.c) against the per-row online softmax it replaces for
 * prompts (slm_attention_head_kv), for every cache element type, GQA group
 * sizes, tiles that span several key blocks, a starting position > 0 and
 * sliding windows.
 *
 * Bound: each output is a convex combination of value rows, and the two
 * paths differ only in the rounding of the scores (the tile scales q before
 * the dot, BLAS or the table's own sgemm_ab sums in its own order) and of the running sums, so
 * |tile - row| <= 1e-5 · max|v| (f32 rounding of ~d-term sums, a few
 * hundred ulps of slack).
 *
 * Decode (test_decode_isa): slm_attention_head_kv_with on every kernel table
 * the CPU supports (the AVX2/AVX-512 ones read f16 caches in place with
 * F16C, kernels/x86/avx2_attention.c) against the scalar reference
 * slm_attention_head_kv, bit for bit (memcmp), for every element type, head
 * sizes 8 .. 512 (and 20, not a multiple of 8), cache lengths around the key
 * block and a few hundred, rows at a stride and at 2-byte alignment, and a
 * cache whose every block raises the max (the rescale path). The reference
 * itself is checked against the exact attention in double over the decoded
 * cache: with Σ = scale·Σ_i|q_i·k_i| the largest per key, a score is off by
 * at most e_s = (d/8 + 64)·u·Σ (u = 2^-24, eight lanes then a tree), which
 * moves the softmax weights by a factor within e^(±2 e_s), and the weighted
 * sums over n keys add (n + 64)·2u·max|v| (sums, the exponential's error and
 * the final division), so |ref - exact| <= (2.5·e_s + (n + 64)·2u)·max|v|.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "kernels.h"

static void fill(float *x, size_t n, uint32_t seed, float amp)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        x[i] = amp * ((float)(s >> 8) / (float)(1u << 23) - 1.0f);
    }
}

typedef struct {
    int nh, nt, pos0, window, d;
    slm_kv_elem type;
} att_case;

/* A cache of n_pos positions, one KV head, in the case's element type. */
typedef struct {
    void *k, *v;
    float *ks, *vs; /* q8 scales */
    size_t stride;
} cache;

static cache make_cache(slm_kv_elem type, const float *kf, const float *vf, int n_pos, int d)
{
    size_t elem = type == SLM_KV_ELEM_F32 ? 4 : type == SLM_KV_ELEM_F16 ? 2 : 1;
    cache c = {malloc(elem * d * n_pos), malloc(elem * d * n_pos),
               malloc(sizeof(float) * n_pos), malloc(sizeof(float) * n_pos), elem * d};
    for (int t = 0; t < n_pos; t++) {
        slm_kv_encode(type, kf + (size_t)t * d, (char *)c.k + t * c.stride, c.ks + t, d);
        slm_kv_encode(type, vf + (size_t)t * d, (char *)c.v + t * c.stride, c.vs + t, d);
    }
    return c;
}

static slm_kv_view view(slm_kv_elem type, const void *data, const float *scale, size_t stride,
                        int first)
{
    slm_kv_view v = {type, (const char *)data + (size_t)first * stride, stride,
                     scale + first, 1};
    return v;
}

static void check_case(att_case a, const slm_kernel_table *kt)
{
    int n_pos = a.pos0 + a.nt, d = a.d, R = a.nh * a.nt;
    size_t q_stride = (size_t)a.nh * d + 3; /* rows not packed back to back */
    float *kf = malloc(sizeof(float) * n_pos * d), *vf = malloc(sizeof(float) * n_pos * d);
    float *q = malloc(sizeof(float) * a.nt * q_stride);
    float *out = malloc(sizeof(float) * a.nt * q_stride), *ref = malloc(sizeof(float) * d);
    fill(kf, (size_t)n_pos * d, 1 + a.d + a.nt, 1.0f);
    fill(vf, (size_t)n_pos * d, 2 + a.pos0, 2.0f);
    fill(q, (size_t)a.nt * q_stride, 3 + a.nh, 3.0f); /* peaked softmaxes too */
    cache c = make_cache(a.type, kf, vf, n_pos, d);
    float *scratch = malloc(sizeof(float) * slm_attention_causal_scratch(a.nh, a.nt, d));
    float scale = 1.0f / sqrtf((float)d);
    slm_kv_view k0 = view(a.type, c.k, c.ks, c.stride, 0), v0 = view(a.type, c.v, c.vs, c.stride, 0);
    slm_attention_causal(kt, out, q, q_stride, a.nh, a.nt, a.pos0, a.window, &k0, &v0, d, scale,
                         scratch);
    float vmax = 0;
    for (int i = 0; i < n_pos * d; i++)
        vmax = fmaxf(vmax, fabsf(vf[i]));
    for (int r = 0; r < R; r++) {
        int t = r / a.nh, h = r % a.nh, p = a.pos0 + t;
        int first = a.window > 0 && p + 1 > a.window ? p + 1 - a.window : 0;
        slm_kv_view k = view(a.type, c.k, c.ks, c.stride, first);
        slm_kv_view v = view(a.type, c.v, c.vs, c.stride, first);
        slm_attention_head_kv(ref, q + t * q_stride + (size_t)h * d, &k, &v, p + 1 - first, d,
                              scale);
        const float *got = out + t * q_stride + (size_t)h * d;
        for (int i = 0; i < d; i++) {
            assert_true(isfinite(got[i]));
            if (!(fabsf(got[i] - ref[i]) <= 1e-5f * vmax))
                fail_msg("%s: nh=%d nt=%d pos0=%d window=%d d=%d type=%d: row %d [%d] got %.9g "
                         "want %.9g",
                         kt ? kt->name : "BLAS", a.nh, a.nt, a.pos0, a.window, a.d, (int)a.type,
                         r, i, got[i], ref[i]);
        }
    }
    free(kf), free(vf), free(q), free(out), free(ref), free(scratch);
    free(c.k), free(c.v), free(c.ks), free(c.vs);
}

static void test_causal_tiles(void **state)
{
    const att_case cases[] = {
        {1, 1, 0, 0, 64, SLM_KV_ELEM_F32},    {1, 5, 0, 0, 64, SLM_KV_ELEM_F32},
        {8, 8, 0, 0, 64, SLM_KV_ELEM_F32},    {8, 8, 120, 0, 64, SLM_KV_ELEM_F32},
        {1, 64, 37, 0, 96, SLM_KV_ELEM_F32},  {4, 16, 200, 50, 64, SLM_KV_ELEM_F32},
        {2, 70, 0, 20, 32, SLM_KV_ELEM_F32},  {1, 64, 100, 64, 96, SLM_KV_ELEM_F32},
        {8, 8, 130, 0, 64, SLM_KV_ELEM_F16},  {1, 64, 37, 30, 96, SLM_KV_ELEM_F16},
        {8, 8, 130, 0, 64, SLM_KV_ELEM_Q8},   {4, 16, 3, 0, 128, SLM_KV_ELEM_Q8},
        {3, 7, 65, 1, 16, SLM_KV_ELEM_F32}, /* window 1: each token sees itself only */
    };
    /* BLAS's sgemm (kt NULL), then every supported table's own sgemm_ab */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(cases[i], NULL);
    int own = 0;
    for (int isa = 0; isa < SLM_ISA_COUNT; isa++) {
        const slm_kernel_table *kt = slm_kernels_for((slm_isa)isa);
        if (!slm_isa_supported((slm_isa)isa) || kt->isa != (slm_isa)isa || !kt->sgemm_ab)
            continue;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            check_case(cases[i], kt);
        printf("causal tiles on %s's sgemm_ab: ok\n", kt->name);
        own++;
    }
    if (own == 0)
        printf("causal tiles: no table here has its own sgemm_ab (BLAS's checked)\n");
}

/* Exact attention in double over the cache's decoded rows. */
static void exact_head(double *out, const float *q, const slm_kv_view *k, const slm_kv_view *v,
                       int n_pos, int d, float scale, double *max_qk)
{
    float kr[512], vr[512];
    double *s = malloc(sizeof(double) * n_pos), smax = -INFINITY, l = 0;
    *max_qk = 0;
    for (int t = 0; t < n_pos; t++) {
        slm_kv_row_f32(k, t, d, kr);
        double dot = 0, mag = 0;
        for (int i = 0; i < d; i++) {
            dot += (double)q[i] * kr[i];
            mag += fabs((double)q[i] * kr[i]);
        }
        s[t] = dot * scale;
        smax = fmax(smax, s[t]);
        *max_qk = fmax(*max_qk, mag * scale);
    }
    for (int i = 0; i < d; i++)
        out[i] = 0;
    for (int t = 0; t < n_pos; t++) {
        double p = exp(s[t] - smax);
        l += p;
        slm_kv_row_f32(v, t, d, vr);
        for (int i = 0; i < d; i++)
            out[i] += p * vr[i];
    }
    for (int i = 0; i < d; i++)
        out[i] /= l;
    free(s);
}

static void check_decode(const slm_kernel_table *kt, slm_kv_elem type, int d, int n_pos,
                         bool rising)
{
    const int heads = 3; /* rows of one KV head are heads * d elements apart */
    size_t elem = type == SLM_KV_ELEM_F32 ? 4 : type == SLM_KV_ELEM_F16 ? 2 : 1;
    size_t stride = elem * d * heads;
    float *kf = malloc(sizeof(float) * d * n_pos), *vf = malloc(sizeof(float) * d * n_pos);
    float q[512], got[512], ref[512], ks[400 * 3], vs[400 * 3];
    double exact[512], max_qk;
    fill(kf, (size_t)d * n_pos, 7 + d + n_pos, 1.0f);
    fill(vf, (size_t)d * n_pos, 8 + d, 2.0f);
    fill(q, (size_t)d, 9 + n_pos, 4.0f);
    if (rising) /* each key outscores the ones before: every block raises the max */
        for (int t = 0; t < n_pos; t++)
            for (int i = 0; i < d; i++)
                kf[(size_t)t * d + i] = q[i] * (0.05f * (float)t) / (float)d;
    /* f32 rows must stay 4-byte aligned; f16 rows start at an odd half */
    size_t shift = type == SLM_KV_ELEM_F16 ? 2 : 0;
    unsigned char *kb = malloc(stride * n_pos + 8), *vb = malloc(stride * n_pos + 8);
    for (int t = 0; t < n_pos; t++) {
        size_t at = shift + (size_t)t * stride + elem * d; /* the second head */
        slm_kv_encode(type, kf + (size_t)t * d, kb + at, &ks[t * heads + 1], d);
        slm_kv_encode(type, vf + (size_t)t * d, vb + at, &vs[t * heads + 1], d);
    }
    slm_kv_view k = {type, kb + shift + elem * d, stride, ks + 1, (size_t)heads};
    slm_kv_view v = {type, vb + shift + elem * d, stride, vs + 1, (size_t)heads};
    float scale = 1.0f / sqrtf((float)d);
    slm_attention_head_kv(ref, q, &k, &v, n_pos, d, scale);
    slm_attention_head_kv_with(kt, got, q, &k, &v, n_pos, d, scale);
    if (memcmp(got, ref, sizeof(float) * d) != 0)
        for (int i = 0; i < d; i++)
            if (memcmp(&got[i], &ref[i], sizeof(float)) != 0)
                fail_msg("%s type=%d d=%d n_pos=%d rising=%d: [%d] got %.9g, reference %.9g",
                         kt ? kt->name : "NULL", (int)type, d, n_pos, (int)rising, i, got[i],
                         ref[i]);
    exact_head(exact, q, &k, &v, n_pos, d, scale, &max_qk);
    float vr[512];
    double vmax = 0, u = 1.0 / (1 << 24);
    for (int t = 0; t < n_pos; t++) {
        slm_kv_row_f32(&v, t, d, vr);
        for (int i = 0; i < d; i++)
            vmax = fmax(vmax, fabs(vr[i]));
    }
    double e_s = (d / 8 + 64) * u * max_qk;
    double bound = (2.5 * e_s + (n_pos + 64) * 2 * u) * vmax;
    for (int i = 0; i < d; i++)
        if (!(fabs(ref[i] - exact[i]) <= bound))
            fail_msg("type=%d d=%d n_pos=%d rising=%d: [%d] reference %.9g, exact %.9g "
                     "(bound %.3g)",
                     (int)type, d, n_pos, (int)rising, i, ref[i], exact[i], bound);
    free(kf), free(vf), free(kb), free(vb);
}

static void test_decode_isa(void **state)
{
    const slm_kv_elem types[] = {SLM_KV_ELEM_F16, SLM_KV_ELEM_F32, SLM_KV_ELEM_Q8};
    const int dims[] = {8, 16, 20, 64, 96, 128, 256, 512};
    const int lengths[] = {1, 3, 4, 5, 15, 16, 17, 33, 64, 100, 257, 400};
    int tables = 0;
    for (int isa = 0; isa < SLM_ISA_COUNT; isa++) {
        if (!slm_isa_supported((slm_isa)isa))
            continue;
        const slm_kernel_table *kt = slm_kernels_for((slm_isa)isa);
        assert_int_equal(kt->isa, isa);
        tables++;
        for (size_t a = 0; a < sizeof types / sizeof types[0]; a++)
            for (size_t b = 0; b < sizeof dims / sizeof dims[0]; b++)
                for (size_t c = 0; c < sizeof lengths / sizeof lengths[0]; c++)
                    for (int rising = 0; rising <= 1; rising++)
                        check_decode(kt, types[a], dims[b], lengths[c], rising);
    }
    assert_true(tables >= 1);
    /* NULL: the scalar code */
    check_decode(NULL, SLM_KV_ELEM_F16, 64, 33, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_causal_tiles),
        cmocka_unit_test(test_decode_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
