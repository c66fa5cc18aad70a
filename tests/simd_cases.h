/*
 * simd_cases.h — what the tests/test_kernels_simd_*.c tests share: the
 * kernel tables under test, a seeded generator and each table's row dot by
 * weight type.
 *
 * The tables are every one the CPU supports, plus two compiled only for the
 * tests (both in the slm_test_simd_cases library, built once for all the
 * test_kernels_simd_* executables):
 *  - the AVX-512 table over SIMDe's portable intrinsics
 *    (tests/simd_avx512_emulated.c, when CMake finds Debian's libsimde-dev),
 *    so that its code also runs on CPUs without AVX-512;
 *  - the NEON table over SIMDe's portable NEON (tests/simd_cases.c, when the
 *    headers are in the default include path), so that it runs on x86.
 */
#ifndef SLM_TEST_SIMD_CASES_H
#define SLM_TEST_SIMD_CASES_H

#include <math.h>
#include <stdint.h>

#include "dispatch.h"
#include "weight.h"

#define U 5.9604644775390625e-8 /* 2^-24 */

/* ------------------------------------------------------------ helpers */

typedef struct {
    uint64_t s;
} rng;

static inline double uniform(rng *r) /* [-1, 1) */
{
    r->s ^= r->s << 13, r->s ^= r->s >> 7, r->s ^= r->s << 17;
    return (double)(r->s >> 11) / 4503599627370496.0 - 1.0;
}

static inline double gauss(rng *r)
{
    double u1 = (uniform(r) + 1.0) / 2.0 + 1e-300, u2 = (uniform(r) + 1.0) / 2.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static inline int rand_int(rng *r, int lo, int hi) /* [lo, hi] */
{
    return lo + (int)((uniform(r) + 1.0) / 2.0 * (hi - lo + 1)) % (hi - lo + 1);
}

/* ------------------------------------------------------------- tables */

typedef struct {
    const char *label;
    const slm_kernel_table *t;
} isa_case;

/* The tables under test: each supported one, then the emulated AVX-512
   table when the CPU has no AVX-512 of its own, then the emulated NEON
   table when it has no NEON. Unless `quiet`, prints a skip line for each
   one that cannot run here. */
int isa_cases(isa_case *out, int quiet);

/* The tables for the invariance tests: every supported one, and the
   emulated AVX-512 table whenever it is built (also beside a native one: it
   is another compilation of the same code, with SIMDe's lane loops). */
int invariance_cases(isa_case *out);

/* Table t's row dot for weight type wt: w one encoded row, x its f32 or
   (quantized types) slm_act_q8 activations, n elements. */
float table_dot(const slm_kernel_table *t, slm_weight_type wt, const void *w, const void *x,
                int n);

#endif
