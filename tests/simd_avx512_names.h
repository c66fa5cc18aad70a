/*
 * simd_avx512_names.h — the names the tests' SIMDe builds of the AVX-512
 * files give their public functions, so they never clash with (or reach)
 * the native ones: included before the kernel file by
 * tests/simd_avx512_emulated.c (the table, which points at the emulated
 * sgemm) and tests/simd_avx512_sgemm_emulated.c (which defines it).
 */
#ifndef SLM_SIMD_AVX512_NAMES_H
#define SLM_SIMD_AVX512_NAMES_H

#define slm_sgemm_nt_avx512 slm_test_sgemm_nt_avx512_emulated
#define slm_sgemm_ab_avx512 slm_test_sgemm_ab_avx512_emulated
#define slm_quantize_row_q8_0_avx512 slm_test_quantize_row_q8_0_avx512_emulated
#define slm_quantize_row_q4_0_avx512 slm_test_quantize_row_q4_0_avx512_emulated
#define slm_kernels_avx512 slm_test_kernels_avx512_emulated

#endif
