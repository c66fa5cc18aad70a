/*
 * test_kernels_simd_sgemm.c — every kernel table's own f32 products (sgemm_nt and
 * sgemm_ab, dispatch.h) against the scalar reference: y = x · wᵀ and x · wᵀ +
 * bias; y = A · B and y += A · B (A row-major or stored transposed, B not
 * transposed, edges of 1 .. 63 columns around its 64-column panels of 6-row
 * tiles and last panels of 32 columns or fewer), on
 * shapes across sgemm_nt's 64-token panels of 6-row tiles and its last
 * panels of 32 tokens or fewer in 12-row tiles (edges of 1 .. 63 tokens and
 * 1 .. 11 rows, k = 0, 1, odd, long), with row strides larger
 * than the rows (a slice of a wider matrix, as slm_matmul_f32_bias's
 * threads pass), and nothing outside the slice written. The tables are
 * simd_cases.h's invariance set: the CPU's own and the AVX-512 one over
 * SIMDe (its sgemm entries compiled by tests/simd_avx512_sgemm_emulated.c),
 * so that code is checked on CPUs without AVX-512 too. Tolerance: the
 * terms are at most 1 in magnitude, so summation order moves a result by at
 * most k · 2^-22 (+1e-6 absolute), as test_kernels' sgemm bound.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "kernels.h"
#include "simd_cases.h"

static float unit(uint64_t *s) /* [-1, 1) */
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (float)((double)(*s >> 11) / 4503599627370496.0 - 1.0);
}

static void check(const slm_kernel_table *t, int n, int rows, int k, int with_bias,
                  uint64_t *s)
{
    /* x and w in wider rows (pad 3), y a slice at column 2 of a wider y */
    int ldx = k + 3, ldw = k + 3, ldy = rows + 5, col = 2;
    float *x = malloc(sizeof(float) * (size_t)(n * ldx + 1));
    float *w = malloc(sizeof(float) * (size_t)(rows * ldw + 1));
    float *y = malloc(sizeof(float) * (size_t)(n * ldy));
    float *y0 = malloc(sizeof(float) * (size_t)(n * ldy));
    float *ref = malloc(sizeof(float) * (size_t)(n * rows + 1));
    float *xc = malloc(sizeof(float) * (size_t)(n * k + 1));
    float *wc = malloc(sizeof(float) * (size_t)(rows * k + 1));
    float *bias = malloc(sizeof(float) * (size_t)rows);
    for (int i = 0; i < n * ldx; i++)
        x[i] = unit(s);
    for (int i = 0; i < rows * ldw; i++)
        w[i] = unit(s);
    for (int i = 0; i < n * ldy; i++)
        y[i] = y0[i] = unit(s);
    for (int r = 0; r < rows; r++)
        bias[r] = unit(s);
    for (int a = 0; a < n; a++)
        memcpy(xc + (size_t)a * k, x + (size_t)a * ldx, sizeof(float) * (size_t)k);
    for (int r = 0; r < rows; r++)
        memcpy(wc + (size_t)r * k, w + (size_t)r * ldw, sizeof(float) * (size_t)k);
    slm_matmul_f32_ref(ref, xc, wc, n, rows, k);
    assert_int_equal(t->sgemm_nt(y + col, (size_t)ldy, x, (size_t)ldx, w, (size_t)ldw, n, rows,
                                 k, with_bias ? bias : NULL),
                     0);
    float bound = (float)k * 2.4e-7f + 1e-6f;
    for (int a = 0; a < n; a++)
        for (int c = 0; c < ldy; c++) {
            float got = y[(size_t)a * ldy + c], was = y0[(size_t)a * ldy + c];
            if (c < col || c >= col + rows) {
                if (memcmp(&got, &was, sizeof got) != 0)
                    fail_msg("%s n=%d rows=%d k=%d: wrote outside its slice (token %d col %d)",
                             t->name, n, rows, k, a, c);
                continue;
            }
            float want = ref[(size_t)a * rows + c - col] + (with_bias ? bias[c - col] : 0.0f);
            if (!(fabsf(got - want) <= bound + (with_bias ? 1e-6f : 0.0f)))
                fail_msg("%s n=%d rows=%d k=%d bias=%d: token %d row %d: %.9g vs %.9g", t->name,
                         n, rows, k, with_bias, a, c - col, got, want);
        }
    free(x), free(w), free(y), free(y0), free(ref), free(xc), free(wc), free(bias);
}

static void test_sgemm_nt(void **state)
{
    (void)state;
    uint64_t s = 77;
    int tested = 0;
    isa_case cs[8];
    int nc = invariance_cases(cs);
    for (int i = 0; i < nc; i++) {
        const slm_kernel_table *t = cs[i].t;
        if (!t->sgemm_nt) {
            printf("%s: no sgemm_nt of its own (OpenBLAS's sgemm is used)\n", cs[i].label);
            continue;
        }
        int emulated = strstr(cs[i].label, "emulation") != NULL;
        printf("sgemm_nt: %s ...\n", cs[i].label); /* failures name t->name only */
        static const int ns[] = {1, 2, 31, 32, 33, 63, 64, 65, 97, 130};
        static const int rs[] = {1, 5, 6, 7, 11, 12, 13, 40};
        static const int ks[] = {0, 1, 17, 300};
        for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
            for (size_t b = 0; b < sizeof rs / sizeof rs[0]; b++)
                for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++)
                    check(t, ns[a], rs[b], ks[c], (int)((a + b + c) % 2), &s);
        if (emulated) /* SIMDe's lane loops: a smaller stand-in for the big shape */
            check(t, 128, 48, 96, 1, &s);
        else
            check(t, 128, 768, 768, 1, &s); /* DistilBERT-base's shape */
        printf("sgemm_nt: %s ok\n", cs[i].label);
        tested++;
    }
    if (!tested)
        printf("[  SKIP    ] no table here has its own sgemm_nt\n");
}

/* y (+)= A · B on an m x n slice (column 3 of a wider y), A row-major or
   stored transposed (k x m) and B in wider rows: against a double sum,
   nothing outside the slice written. */
static void check_ab(const slm_kernel_table *t, int m, int n, int k, int accumulate, int trans,
                     uint64_t *s)
{
    int lda = (trans ? m : k) + 2, ldb = n + 5, ldy = n + 7, col = 3;
    size_t a_rs = trans ? 1 : (size_t)lda, a_ks = trans ? (size_t)lda : 1;
    size_t na = (size_t)(trans ? k : m) * lda + 1;
    float *a = malloc(sizeof(float) * na);
    float *b = malloc(sizeof(float) * (size_t)(k * ldb + 1));
    float *y = malloc(sizeof(float) * (size_t)(m * ldy));
    float *y0 = malloc(sizeof(float) * (size_t)(m * ldy));
    for (size_t i = 0; i < na; i++)
        a[i] = unit(s);
    for (int i = 0; i < k * ldb; i++)
        b[i] = unit(s);
    for (int i = 0; i < m * ldy; i++)
        y[i] = y0[i] = unit(s);
    t->sgemm_ab(y + col, (size_t)ldy, a, a_rs, a_ks, b, (size_t)ldb, m, n, k, accumulate);
    float bound = (float)(k + 1) * 2.4e-7f + 1e-6f;
    for (int r = 0; r < m; r++)
        for (int c = 0; c < ldy; c++) {
            float got = y[(size_t)r * ldy + c], was = y0[(size_t)r * ldy + c];
            if (c < col || c >= col + n) {
                if (memcmp(&got, &was, sizeof got) != 0)
                    fail_msg("%s sgemm_ab m=%d n=%d k=%d: wrote outside its slice (%d, %d)",
                             t->name, m, n, k, r, c);
                continue;
            }
            double want = accumulate ? was : 0.0;
            for (int i = 0; i < k; i++)
                want += (double)a[r * a_rs + i * a_ks] * b[(size_t)i * ldb + c - col];
            if (!(fabs(got - want) <= bound))
                fail_msg("%s sgemm_ab m=%d n=%d k=%d acc=%d trans=%d: (%d, %d) %.9g vs %.9g",
                         t->name, m, n, k, accumulate, trans, r, c - col, got, want);
        }
    free(a), free(b), free(y), free(y0);
}

static void test_sgemm_ab(void **state)
{
    (void)state;
    uint64_t s = 91;
    int tested = 0;
    isa_case cs[8];
    int nc = invariance_cases(cs);
    for (int i = 0; i < nc; i++) {
        const slm_kernel_table *t = cs[i].t;
        if (!t->sgemm_ab) {
            printf("%s: no sgemm_ab of its own (OpenBLAS's sgemm is used)\n", cs[i].label);
            continue;
        }
        printf("sgemm_ab: %s ...\n", cs[i].label); /* failures name t->name only */
        static const int ms[] = {1, 5, 6, 7, 11, 12, 13, 40};
        static const int ns[] = {1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 97, 130};
        static const int ks[] = {0, 1, 17, 64, 300};
        for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
            for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++)
                for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++)
                    check_ab(t, ms[a], ns[b], ks[c], (int)((a + b + c) % 2),
                             (int)((a + 2 * b + c) % 3 == 0), &s);
        check_ab(t, 64, 64, 64, 0, 0, &s); /* a prompt attention tile's Sᵀ = K·Qᵀ */
        check_ab(t, 64, 64, 64, 1, 1, &s); /* and its Oᵀ += Vᵀ·Pᵀ */
        printf("sgemm_ab: %s ok\n", cs[i].label);
        tested++;
    }
    if (!tested)
        printf("[  SKIP    ] no table here has its own sgemm_ab\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_nt),
        cmocka_unit_test(test_sgemm_ab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
