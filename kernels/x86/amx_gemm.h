/*
 * amx_gemm.h — what the amx table (avx512_dot.c) and its tile products
 * (amx_gemm.c) share. Internal to kernels/x86.
 */
#ifndef SLM_AMX_GEMM_H
#define SLM_AMX_GEMM_H

#include <stddef.h>

/* avx512_dot.c's x8-packed product (q4 = 0: Q8_0, 1: Q4_0), for the tokens
   and groups the tiles leave. */
void slm_avx512_gemm_x8(float *y, size_t ldy, const void *w, size_t gs, const void *x,
                        size_t xs, int nr, int nt, int k, int q4);

/* The amx table's Q8_0 x8 entry (slm_gemm_fn, dispatch.h): the same bits
   as the avx512 table's. */
void slm_amx_gemm_q8_0x8(float *y, size_t ldy, const void *w, size_t gs, const void *x,
                         size_t xs, int nr, int nt, int k);
void slm_amx_gemm_q4_0x8(float *y, size_t ldy, const void *w, size_t gs, const void *x,
                         size_t xs, int nr, int nt, int k);

#endif
