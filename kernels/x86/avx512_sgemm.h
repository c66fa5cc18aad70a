/*
 * avx512_sgemm.h — the AVX-512 f32 product of avx512_sgemm.c, the avx512
 * and amx tables' sgemm_nt and sgemm_ab entries (dispatch.h). Internal to kernels/x86.
 */
#ifndef SLM_AVX512_SGEMM_H
#define SLM_AVX512_SGEMM_H

#include <stddef.h>

int slm_sgemm_nt_avx512(float *y, size_t ldy, const float *x, size_t ldx, const float *w,
                        size_t ldw, int n, int rows, int k, const float *bias);

/* y (m x n, row stride ldy) = A · B, or += when accumulate: A[r][i] =
 * a[r·a_rs + i·a_ks], B k x n (ldb), row-major. The tables' sgemm_ab. */
void slm_sgemm_ab_avx512(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                         const float *b, size_t ldb, int m, int n, int k, int accumulate);

#endif
