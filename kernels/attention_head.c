/*
 * attention_head.c — the decode attention of one head with a kernel table's
 * ISA (see slm_attention_head_kv_with in kernels.h). The table is the one
 * the caller's products use (slm_matmul_ctx.kernels), so SLM_ISA=scalar
 * also gives the scalar attention.
 */
#include "kernels.h"

#include <stdbool.h>

#include "dispatch.h"

#if defined(__x86_64__) || defined(__i386__)
#include "x86/avx2_attention.h"
#define SLM_ATTENTION_X86 1
#endif

void slm_attention_head_kv_with(const struct slm_kernel_table *kt, float *out, const float *q,
                                const slm_kv_view *k, const slm_kv_view *v, int n_pos,
                                int head_dim, float scale)
{
#ifdef SLM_ATTENTION_X86
    /* These tables imply AVX2 + FMA + F16C (dispatch.h: amx has the avx512 set). */
    bool x86 = kt && (kt->isa == SLM_ISA_AVX2 || kt->isa == SLM_ISA_AVX512 ||
                      kt->isa == SLM_ISA_AMX);
    if (x86 && k->type == SLM_KV_ELEM_F16 && v->type == SLM_KV_ELEM_F16 && head_dim % 8 == 0) {
        slm_attention_head_f16_avx2(out, q, k, v, n_pos, head_dim, scale);
        return;
    }
#else
    (void)kt;
#endif
    slm_attention_head_kv(out, q, k, v, n_pos, head_dim, scale);
}
