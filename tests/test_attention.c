/*
 * test_attention.c — the prompt-tile causal attention (kernels/
 * attention_causal.c) against the per-row online softmax it replaces for
 * prompts (slm_attention_head_kv), for every cache element type, GQA group
 * sizes, tiles that span several key blocks, a starting position > 0 and
 * sliding windows.
 *
 * Bound: each output is a convex combination of value rows, and the two
 * paths differ only in the rounding of the scores (the tile scales q before
 * the dot, BLAS sums in its own order) and of the running sums, so
 * |tile - row| <= 1e-5 · max|v| (f32 rounding of ~d-term sums, a few
 * hundred ulps of slack).
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

static void check_case(att_case a)
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
    slm_attention_causal(out, q, q_stride, a.nh, a.nt, a.pos0, a.window, &k0, &v0, d, scale,
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
                fail_msg("nh=%d nt=%d pos0=%d window=%d d=%d type=%d: row %d [%d] got %.9g "
                         "want %.9g",
                         a.nh, a.nt, a.pos0, a.window, a.d, (int)a.type, r, i, got[i], ref[i]);
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
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_causal_tiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
