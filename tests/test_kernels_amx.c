/*
 * test_kernels_amx.c — the amx table's tile products against the avx512
 * table's VNNI products: the same bits, element for element (amx_gemm.c's
 * contract), on x8-packed Q8_0 and Q4_0 weights, for token counts on and
 * off the 16-token tiles, odd group counts, and activations with extreme
 * quants (±127, all-zero blocks). Also through slm_matmul with 2 threads.
 * AMX cannot be emulated: on a CPU (or kernel) without it the test prints
 * why and skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "weight.h"

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static float uniform(uint64_t *s) /* [-1, 1) */
{
    return (float)((double)(next(s) >> 11) / 4503599627370496.0 - 1.0);
}

/* A packed rows x cols matrix of type t (rows % 8 == 0); caller frees. */
static void *packed_weights(slm_weight_type t, int rows, int cols, uint64_t *s, slm_weight *w)
{
    size_t rb = slm_weight_row_bytes(t, cols);
    uint8_t *data = malloc(rb * (size_t)rows);
    float *row = malloc(sizeof(float) * (size_t)cols);
    for (int r = 0; r < rows; r++) {
        for (int i = 0; i < cols; i++)
            row[i] = 0.05f * uniform(s);
        if (r == 3) /* one extreme row: every quant at the range's end */
            for (int i = 0; i < cols; i++)
                row[i] = i % 2 ? 1.0f : -1.0f;
        slm_encode_row(t, row, data + rb * (size_t)r, cols);
    }
    free(row);
    *w = (slm_weight){t, data, rows, cols, 0};
    assert_int_equal(slm_weight_pack(w, data), 0);
    return data;
}

static float *activations(int n, int cols, uint64_t *s)
{
    float *x = malloc(sizeof(float) * (size_t)n * (size_t)cols);
    for (int i = 0; i < n * cols; i++)
        x[i] = uniform(s);
    for (int i = 0; i < 32 && n > 1; i++) /* token 1: an all-zero first block */
        x[cols + i] = 0.0f;
    return x;
}

/* y = x · Wᵀ through each table; memcmp of the whole output. */
static void check_shape(slm_weight_type t, int rows, int cols, int n, int threads, uint64_t *s)
{
    slm_weight w;
    void *data = packed_weights(t, rows, cols, s, &w);
    float *x = activations(n, cols, s);
    size_t ny = (size_t)n * (size_t)rows;
    float *want = malloc(sizeof(float) * ny), *got = malloc(sizeof(float) * ny);
    slm_matmul_ctx a = {0}, b = {0};
    a.kernels = slm_kernels_for(SLM_ISA_AVX512);
    b.kernels = slm_kernels_for(SLM_ISA_AMX);
    a.n_threads = b.n_threads = threads;
    assert_int_equal(a.kernels->isa, SLM_ISA_AVX512);
    assert_int_equal(b.kernels->isa, SLM_ISA_AMX);
    assert_int_equal(slm_matmul(want, x, &w, n, &a), 0);
    assert_int_equal(slm_matmul(got, x, &w, n, &b), 0);
    for (size_t i = 0; i < ny; i++)
        if (memcmp(&want[i], &got[i], sizeof(float)) != 0)
            fail_msg("%s rows %d cols %d n %d threads %d: token %zu row %zu: amx %.9g, avx512 %.9g",
                     slm_weight_type_name(t), rows, cols, n, threads, i / (size_t)rows,
                     i % (size_t)rows, got[i], want[i]);
    slm_matmul_ctx_free(&a);
    slm_matmul_ctx_free(&b);
    free(want), free(got), free(x), free(data);
}

static void test_amx_same_bits(void **state)
{
    (void)state;
    if (!slm_isa_supported(SLM_ISA_AMX)) {
        printf("[  SKIP    ] amx: this CPU (or kernel) has no AMX-INT8 tiles to run\n");
        skip();
    }
    uint64_t s = 0x5eed;
    static const int ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 130};
    for (int t = SLM_WEIGHT_Q8_0; t <= SLM_WEIGHT_Q4_0; t++) {
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            check_shape((slm_weight_type)t, 32, 32 * 5, ns[i], 1, &s); /* odd block count */
            check_shape((slm_weight_type)t, 24, 64, ns[i], 1, &s);     /* odd group count */
        }
        check_shape((slm_weight_type)t, 8, 96, 40, 1, &s);       /* one group: no tile pair */
        check_shape((slm_weight_type)t, 256, 2048, 37, 2, &s);   /* model-sized, 2 threads */
        check_shape((slm_weight_type)t, 5632 / 8 * 8, 256, 64, 2, &s);
    }
    printf("amx tiles == avx512 VNNI, bit for bit: ok\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amx_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
