/*
 * avx2_quant.h — the AVX2 weight quantizers of avx2_quant.c, the avx2
 * table's quantize_row_q8_0 / quantize_row_q4_0 entries (dispatch.h).
 * Internal to kernels/x86.
 */
#ifndef SLM_AVX2_QUANT_H
#define SLM_AVX2_QUANT_H

void slm_quantize_row_q8_0_avx2(const float *x, void *dst, int n);
void slm_quantize_row_q4_0_avx2(const float *x, void *dst, int n);

#endif
