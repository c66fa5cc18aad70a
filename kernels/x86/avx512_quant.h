/*
 * avx512_quant.h — the AVX-512 weight quantizers of avx512_quant.c, the
 * avx512 and amx tables' quantize_row_q8_0 / quantize_row_q4_0 entries
 * (dispatch.h). Internal to kernels/x86.
 */
#ifndef SLM_AVX512_QUANT_H
#define SLM_AVX512_QUANT_H

void slm_quantize_row_q8_0_avx512(const float *x, void *dst, int n);
void slm_quantize_row_q4_0_avx512(const float *x, void *dst, int n);

#endif
