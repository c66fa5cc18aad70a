/*
 * avx2_attention.h — the decode attention of one head over an f16 KV cache
 * with AVX2 + FMA + F16C (avx2_attention.c); chosen by attention_head.c.
 */
#ifndef SLM_AVX2_ATTENTION_H
#define SLM_AVX2_ATTENTION_H

#include "kernels.h"

/* slm_attention_head_kv for k and v of type F16 and head_dim % 8 == 0, bit
 * for bit (the CPU must have AVX2, FMA and F16C). */
void slm_attention_head_f16_avx2(float *out, const float *q, const slm_kv_view *k,
                                 const slm_kv_view *v, int n_pos, int head_dim, float scale);

#endif
