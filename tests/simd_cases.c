/*
 * simd_cases.c — the kernel tables the SIMD tests run (simd_cases.h), and
 * their row dots by weight type. The NEON table is compiled here over
 * SIMDe's NEON when its headers are found; the emulated AVX-512 table is
 * tests/simd_avx512_emulated.c, compiled with AVX2 flags of its own.
 */
#include <stdio.h>
#include <string.h>

#include "simd_cases.h"

#ifdef SLM_TEST_AVX512_EMULATION
const slm_kernel_table *slm_test_kernels_avx512_emulated(void);
#endif

/* The NEON table's code also runs on x86: kernels/arm/neon_dot.c compiled
   here over SIMDe's portable NEON (Debian libsimde-dev), when present. */
#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<simde/arm/neon.h>)
#define SLM_TEST_NEON_EMULATION 1
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
/* SIMDe 0.7.4's vshrq_n_u8 on GFNI CPUs left-shifts a signed 64-bit
   constant out of range (UBSan stops there): the same shift through u16
   lanes and a mask instead */
#undef vshrq_n_u8
#define vshrq_n_u8(a, n)                                                                   \
    vandq_u8(vreinterpretq_u8_u16(vshrq_n_u16(vreinterpretq_u16_u8(a), (n))),             \
             vdupq_n_u8((uint8_t)(0xff >> (n))))
#define SLM_NEON_EMULATED 1
#define slm_kernels_neon slm_test_kernels_neon_emulated
#include "arm/neon_dot.c"
#undef slm_kernels_neon
#endif
#endif

int isa_cases(isa_case *out, int quiet)
{
    int n = 0;
    for (int i = 0; i < SLM_ISA_COUNT; i++) {
        slm_isa isa = (slm_isa)i;
        if (slm_isa_supported(isa)) {
            out[n].label = slm_isa_name(isa);
            out[n++].t = slm_kernels_for(isa);
        } else if (!quiet) {
            printf("[  SKIP    ] %s: not supported by this CPU/build\n", slm_isa_name(isa));
        }
    }
#ifdef SLM_TEST_AVX512_EMULATION
    if (!slm_isa_supported(SLM_ISA_AVX512) && slm_isa_supported(SLM_ISA_AVX2)) {
        out[n].label = "avx512 (SIMDe emulation)";
        out[n++].t = slm_test_kernels_avx512_emulated();
    }
#else
    if (!quiet && !slm_isa_supported(SLM_ISA_AVX512))
        printf("[  SKIP    ] avx512 emulation: SIMDe not found at build time\n");
#endif
#ifdef SLM_TEST_NEON_EMULATION
    if (!slm_isa_supported(SLM_ISA_NEON)) {
        out[n].label = "neon (SIMDe emulation)";
        out[n++].t = slm_test_kernels_neon_emulated();
    }
#else
    if (!quiet && !slm_isa_supported(SLM_ISA_NEON))
        printf("[  SKIP    ] neon emulation: SIMDe's NEON headers not found\n");
#endif
    return n;
}

int invariance_cases(isa_case *out)
{
    int n = isa_cases(out, 1);
#ifdef SLM_TEST_AVX512_EMULATION
    int have = 0;
    for (int i = 0; i < n; i++)
        have |= strstr(out[i].label, "avx512 (SIMDe") != NULL;
    if (!have && slm_isa_supported(SLM_ISA_AVX2)) {
        out[n].label = "avx512 (SIMDe emulation)";
        out[n++].t = slm_test_kernels_avx512_emulated();
    }
#endif
    return n;
}

float table_dot(const slm_kernel_table *t, slm_weight_type wt, const void *w, const void *x,
                int n)
{
    switch (wt) {
    case SLM_WEIGHT_F32:
        return t->dot_f32(w, x, n);
    case SLM_WEIGHT_F16:
        return t->dot_f16(w, x, n);
    case SLM_WEIGHT_BF16:
        return t->dot_bf16(w, x, n);
    case SLM_WEIGHT_Q8_0:
        return t->dot_q8_0(w, x, n);
    default:
        return t->dot_q4_0(w, x, n);
    }
}

