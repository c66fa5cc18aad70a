/*
 * simd_avx512_sgemm_emulated.c — the AVX-512 table's own f32 products
 * (kernels/x86/avx512_sgemm.c: sgemm_nt, sgemm_ab) over SIMDe's portable
 * intrinsics, renamed so they do not clash with the native ones; the
 * emulated table (simd_avx512_emulated.c) points its sgemm entries here, so
 * tests/test_kernels_simd_sgemm.c checks this code on CPUs without AVX-512
 * too. A unit of its own: the two files' static helpers share names.
 */
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <string.h>

/* present in SIMDe 0.7.4, but without its native alias */
#undef _mm512_shuffle_f32x4
#define _mm512_shuffle_f32x4(a, b, imm) simde_mm512_shuffle_f32x4(a, b, imm)

/* missing from SIMDe 0.7.4: masked loads and stores, lane by lane, touching
   only the lanes the mask selects (as the instructions, which do not fault
   on the others) */
static simde__m512 emu_maskz_loadu_ps(simde__mmask16 k, const void *p)
{
    float f[16];
    for (int i = 0; i < 16; i++)
        f[i] = (k >> i) & 1 ? ((const float *)p)[i] : 0.0f;
    simde__m512 r;
    memcpy(&r, f, sizeof r);
    return r;
}
static void emu_mask_storeu_ps(void *p, simde__mmask16 k, simde__m512 v)
{
    float f[16];
    memcpy(f, &v, sizeof f);
    for (int i = 0; i < 16; i++)
        if ((k >> i) & 1)
            ((float *)p)[i] = f[i];
}
#undef _mm512_maskz_loadu_ps
#undef _mm512_mask_storeu_ps
#define _mm512_maskz_loadu_ps emu_maskz_loadu_ps
#define _mm512_mask_storeu_ps emu_mask_storeu_ps

#define SLM_AVX512_EMULATED 1
#include "simd_avx512_names.h"
#include "x86/avx512_sgemm.c"
