/*
 * avx2_attention.c — decode attention of one head over an f16 KV cache,
 * AVX2 + FMA + F16C (compiled with only those flags; chosen at run time by
 * attention_head.c for the AVX2 and AVX-512 tables).
 *
 * The cache is read in place: eight halves at a time are widened to f32 in
 * a register (vcvtph2ps) and used at once, where the scalar code decodes
 * every key and value row into a buffer first. The arithmetic is that of
 * slm_attention_head_kv (kernels/ref/attention_ref.c), bit for bit:
 *   - q·k in eight lanes, lane i summing the products of elements 8c + i as
 *     a product then a sum (no fused multiply-add; the build's ISO C mode
 *     keeps the compiler from contracting them), then dot8's tree
 *     ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)), then · scale;
 *   - the block max, expf rescale, slm_exp_shifted and the key-ordered
 *     weighted sum of values as written there.
 * Only the order of independent work differs: four keys' dots run side by
 * side (each its own accumulator), and the output lives in registers.
 * head_dim % 8 == 0 (the caller checks), <= 512.
 */
#include "avx2_attention.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define MAX_CHUNKS (512 / 8)

static inline __m256 halves(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* dot8's lane tree: ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)). */
static inline float lane_tree(__m256 a)
{
    __m256 h = _mm256_hadd_ps(a, a); /* l0+l1, l2+l3, ., . | l4+l5, l6+l7, ., . */
    h = _mm256_hadd_ps(h, h);        /* (l0+l1)+(l2+l3) ... | (l4+l5)+(l6+l7) ... */
    return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}

static inline const uint16_t *row_at(const slm_kv_view *kv, int t)
{
    return (const uint16_t *)((const char *)kv->data + (size_t)t * kv->stride);
}

/* Scores of keys t .. t+3 into s[0..3]. */
static inline void dot4(float *s, const float *q, const slm_kv_view *k, int t, int nc,
                        float scale)
{
    const uint16_t *k0 = row_at(k, t), *k1 = row_at(k, t + 1);
    const uint16_t *k2 = row_at(k, t + 2), *k3 = row_at(k, t + 3);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int c = 0; c < nc; c++) {
        __m256 qc = _mm256_loadu_ps(q + 8 * c);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(qc, halves(k0 + 8 * c)));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(qc, halves(k1 + 8 * c)));
        a2 = _mm256_add_ps(a2, _mm256_mul_ps(qc, halves(k2 + 8 * c)));
        a3 = _mm256_add_ps(a3, _mm256_mul_ps(qc, halves(k3 + 8 * c)));
    }
    s[0] = lane_tree(a0) * scale;
    s[1] = lane_tree(a1) * scale;
    s[2] = lane_tree(a2) * scale;
    s[3] = lane_tree(a3) * scale;
}

static inline float dot1(const float *q, const uint16_t *kt, int nc, float scale)
{
    __m256 a = _mm256_setzero_ps();
    for (int c = 0; c < nc; c++)
        a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(q + 8 * c), halves(kt + 8 * c)));
    return lane_tree(a) * scale;
}

/* The whole head for nc = head_dim / 8 chunks; inlined with a constant nc
 * for the common head sizes so the output stays in registers. */
static inline __attribute__((always_inline)) void head(float *out, const float *q,
                                                       const slm_kv_view *k,
                                                       const slm_kv_view *v, int n_pos,
                                                       const int nc, float scale)
{
    __m256 acc[MAX_CHUNKS];
    float m = -INFINITY, l = 0.0f, sc[SLM_ATT_BLOCK];
    for (int c = 0; c < nc; c++)
        acc[c] = _mm256_setzero_ps();
    for (int t0 = 0; t0 < n_pos; t0 += SLM_ATT_BLOCK) {
        int nb = n_pos - t0 < SLM_ATT_BLOCK ? n_pos - t0 : SLM_ATT_BLOCK, j = 0;
        for (; j + 4 <= nb; j += 4)
            dot4(sc + j, q, k, t0 + j, nc, scale);
        for (; j < nb; j++)
            sc[j] = dot1(q, row_at(k, t0 + j), nc, scale);
        float bmax = -INFINITY;
        for (j = 0; j < nb; j++)
            bmax = sc[j] > bmax ? sc[j] : bmax;
        if (bmax > m) { /* new max: rescale what was accumulated so far */
            float cf = expf(m - bmax);
            __m256 c8 = _mm256_set1_ps(cf);
            l *= cf;
            for (int c = 0; c < nc; c++)
                acc[c] = _mm256_mul_ps(acc[c], c8);
            m = bmax;
        }
        slm_exp_shifted(sc, nb, m);
        for (j = 0; j < nb; j++) {
            const uint16_t *vt = row_at(v, t0 + j);
            __m256 p = _mm256_set1_ps(sc[j]);
            l += sc[j];
            for (int c = 0; c < nc; c++)
                acc[c] = _mm256_add_ps(acc[c], _mm256_mul_ps(p, halves(vt + 8 * c)));
        }
    }
    if (l > 0.0f) {
        __m256 l8 = _mm256_set1_ps(l);
        for (int c = 0; c < nc; c++)
            acc[c] = _mm256_div_ps(acc[c], l8);
    }
    for (int c = 0; c < nc; c++)
        _mm256_storeu_ps(out + 8 * c, acc[c]);
}

void slm_attention_head_f16_avx2(float *out, const float *q, const slm_kv_view *k,
                                 const slm_kv_view *v, int n_pos, int head_dim, float scale)
{
    switch (head_dim) {
    case 64:
        head(out, q, k, v, n_pos, 8, scale);
        break;
    case 128:
        head(out, q, k, v, n_pos, 16, scale);
        break;
    default:
        head(out, q, k, v, n_pos, head_dim / 8, scale);
        break;
    }
}
