/*
 * simd_avx512_emulated.c — the AVX-512 table's code on CPUs without AVX-512:
 * kernels/x86/avx512_dot.c compiled over SIMDe's portable intrinsics
 * (Debian libsimde-dev) as slm_test_kernels_avx512_emulated(), which
 * tests/simd_cases.c adds to the tables under test. CMake builds this unit
 * once, with AVX2 flags (SIMDe builds the 512-bit operations from AVX2 ones),
 * when it finds SIMDe; the tests call into it only when the CPU has AVX2.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include "dtype.h"

/* Intrinsics SIMDe 0.7.4 lacks, lane by lane (slow and obviously right). */
#define LANES(type, name, v) \
    type name[16];           \
    memcpy(name, &(v), 64)
#define RET512(type, arr) \
    type r_;              \
    memcpy(&r_, arr, 64); \
    return r_

static simde__m512 emu_cvtph_ps(simde__m256i h)
{
    uint16_t u[16];
    float f[16];
    memcpy(u, &h, 32);
    for (int i = 0; i < 16; i++)
        f[i] = slm_f16_to_f32(u[i]);
    RET512(simde__m512, f);
}
static simde__m512i emu_cvtepu16_epi32(simde__m256i h)
{
    uint16_t u[16];
    uint32_t o[16];
    memcpy(u, &h, 32);
    for (int i = 0; i < 16; i++)
        o[i] = u[i];
    RET512(simde__m512i, o);
}
static simde__m512 emu_cvtepi32_ps(simde__m512i v)
{
    LANES(int32_t, a, v);
    float f[16];
    for (int i = 0; i < 16; i++)
        f[i] = (float)a[i];
    RET512(simde__m512, f);
}
static simde__m512i emu_cvttps_epi32(simde__m512 v)
{
    LANES(float, a, v);
    int32_t o[16];
    for (int i = 0; i < 16; i++)
        o[i] = (int32_t)a[i];
    RET512(simde__m512i, o);
}
static float emu_reduce_add_ps(simde__m512 v)
{
    LANES(float, a, v);
    float s = 0.0f;
    for (int i = 0; i < 16; i++)
        s += a[i];
    return s;
}
static float emu_reduce_max_ps(simde__m512 v)
{
    LANES(float, a, v);
    float m = a[0];
    for (int i = 1; i < 16; i++)
        m = a[i] > m ? a[i] : m;
    return m;
}
static int emu_reduce_add_epi32(simde__m512i v)
{
    LANES(int32_t, a, v);
    int32_t s = 0;
    for (int i = 0; i < 16; i++)
        s += a[i];
    return s;
}
static simde__m128i emu_cvtepi32_epi8(simde__m512i v) /* truncating, as vpmovdb */
{
    LANES(int32_t, a, v);
    int8_t o[16];
    for (int i = 0; i < 16; i++)
        o[i] = (int8_t)(uint8_t)(uint32_t)a[i];
    simde__m128i r_;
    memcpy(&r_, o, 16);
    return r_;
}
/* SIMDe 0.7.4's portable roundscale ignores the rounding mode (-126.4
   "truncated" to -126.375): lane by lane, M = imm[7:4] fraction bits kept,
   imm[1:0] the mode (nearest even, down, up, toward zero) */
static simde__m512 emu_roundscale_ps(simde__m512 v, int imm)
{
    LANES(float, a, v);
    float o[16], scale = ldexpf(1.0f, (imm >> 4) & 15);
    for (int i = 0; i < 16; i++) {
        float x = a[i] * scale;
        x = (imm & 3) == 0 ? nearbyintf(x) : (imm & 3) == 1 ? floorf(x)
            : (imm & 3) == 2 ? ceilf(x) : truncf(x);
        o[i] = x / scale;
    }
    RET512(simde__m512, o);
}
#undef _mm512_cvtepi32_epi8
#define _mm512_cvtepi32_epi8 emu_cvtepi32_epi8
#undef _mm512_roundscale_ps
#define _mm512_roundscale_ps emu_roundscale_ps
#undef _mm512_cvtph_ps
#undef _mm512_cvtepu16_epi32
#undef _mm512_cvtepi32_ps
#undef _mm512_cvttps_epi32
#undef _mm512_reduce_add_ps
#undef _mm512_reduce_max_ps
#undef _mm512_reduce_add_epi32
#define _mm512_cvtph_ps emu_cvtph_ps
#define _mm512_cvtepu16_epi32 emu_cvtepu16_epi32
#define _mm512_cvtepi32_ps emu_cvtepi32_ps
#define _mm512_cvttps_epi32 emu_cvttps_epi32
#define _mm512_reduce_add_ps emu_reduce_add_ps
#define _mm512_reduce_max_ps emu_reduce_max_ps
#define _mm512_reduce_add_epi32 emu_reduce_add_epi32
/* present in SIMDe, but without its native alias */
#undef _mm512_shuffle_i64x2
#define _mm512_shuffle_i64x2(a, b, imm) simde_mm512_shuffle_i64x2(a, b, imm)

#define SLM_AVX512_EMULATED 1
#include "simd_avx512_names.h" /* every public name renamed: no native code reachable */
/* the table's weight quantizers too, in this unit */
#include "x86/avx512_quant.c"
#define SLM_AVX512_EMULATED_QUANT 1
/* its sgemm entries: tests/simd_avx512_sgemm_emulated.c (declared, renamed,
   by avx512_sgemm.h, which avx512_dot.c includes) */
#define SLM_AVX512_EMULATED_SGEMM 1
#include "x86/avx512_dot.c"
