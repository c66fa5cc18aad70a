/*
 * avx512_sgemm.h — the AVX-512 f32 product of avx512_sgemm.c, the avx512
 * and amx tables' sgemm_nt and sgemm_nn entries (dispatch.h). Internal to kernels/x86.
 */
#ifndef SLM_AVX512_SGEMM_H
#define SLM_AVX512_SGEMM_H

#include <stddef.h>

int slm_sgemm_nt_avx512(float *y, size_t ldy, const float *x, size_t ldx, const float *w,
                        size_t ldw, int n, int rows, int k, const float *bias);

/* y (m x n, row stride ldy) = a · b, or += when accumulate: a is m x k
 * (lda), b k x n (ldb), all row-major. The tables' sgemm_nn entry. */
void slm_sgemm_nn_avx512(float *y, size_t ldy, const float *a, size_t lda, const float *b,
                         size_t ldb, int m, int n, int k, int accumulate);

#endif
