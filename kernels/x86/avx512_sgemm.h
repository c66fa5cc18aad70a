/*
 * avx512_sgemm.h — the AVX-512 f32 product of avx512_sgemm.c, the avx512
 * and amx tables' sgemm_nt entry (dispatch.h). Internal to kernels/x86.
 */
#ifndef SLM_AVX512_SGEMM_H
#define SLM_AVX512_SGEMM_H

#include <stddef.h>

int slm_sgemm_nt_avx512(float *y, size_t ldy, const float *x, size_t ldx, const float *w,
                        size_t ldw, int n, int rows, int k, const float *bias);

#endif
