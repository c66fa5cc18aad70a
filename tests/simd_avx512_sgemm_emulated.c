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

/* present in SIMDe 0.7.4, but without its native alias */
#undef _mm512_shuffle_f32x4
#define _mm512_shuffle_f32x4(a, b, imm) simde_mm512_shuffle_f32x4(a, b, imm)

#define SLM_AVX512_EMULATED 1
#define slm_sgemm_nt_avx512 slm_test_sgemm_nt_avx512_emulated
#define slm_sgemm_ab_avx512 slm_test_sgemm_ab_avx512_emulated
#include "x86/avx512_sgemm.c"
