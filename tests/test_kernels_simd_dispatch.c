/*
 * test_kernels_simd_dispatch.c — choosing a kernel table: every ISA's name
 * parses back, each table slm_kernels_for returns is supported, SLM_ISA
 * picks (or, when unsupported or bogus, falls back to the best), and the
 * weight types' names and sizes.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, strdup */
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
#include "dtype.h"
#include "simd_cases.h"
#include "weight.h"

static void test_dispatch(void **state)
{
    for (int i = 0; i < SLM_ISA_COUNT; i++) {
        slm_isa p;
        assert_int_equal(slm_isa_parse(slm_isa_name((slm_isa)i), &p), 0);
        assert_int_equal(p, i);
        const slm_kernel_table *t = slm_kernels_for((slm_isa)i);
        assert_true(slm_isa_supported(t->isa));
        if (slm_isa_supported((slm_isa)i))
            assert_int_equal(t->isa, i);
    }
    slm_isa p;
    assert_int_equal(slm_isa_parse("sse9", &p), -1);
    assert_true(slm_isa_supported(SLM_ISA_SCALAR));
    assert_true(slm_isa_supported(slm_isa_best()));
    printf("best ISA here: %s\n", slm_isa_name(slm_isa_best()));

    const char *old = getenv("SLM_ISA");
    char *saved = old ? strdup(old) : NULL;
    setenv("SLM_ISA", "scalar", 1);
    assert_int_equal(slm_kernels_select()->isa, SLM_ISA_SCALAR);
    assert_int_equal(slm_isa_from_env(&p), 1);
    setenv("SLM_ISA", "bogus", 1);
    assert_int_equal(slm_isa_from_env(&p), -1);
    assert_int_equal(slm_kernels_select()->isa, slm_isa_best());
    setenv("SLM_ISA", "neon", 1); /* unsupported on x86: falls back to the best */
    assert_true(slm_isa_supported(slm_kernels_select()->isa));
    unsetenv("SLM_ISA");
    assert_int_equal(slm_isa_from_env(&p), 0);
    assert_int_equal(slm_kernels_select()->isa, slm_isa_best());
    if (saved)
        setenv("SLM_ISA", saved, 1);
    free(saved);

    slm_weight_type wt;
    for (int t = 0; t < SLM_WEIGHT_TYPE_COUNT; t++) {
        assert_int_equal(slm_weight_type_parse(slm_weight_type_name((slm_weight_type)t), &wt), 0);
        assert_int_equal(wt, t);
    }
    assert_int_equal(slm_weight_row_bytes(SLM_WEIGHT_Q4_0, 64), 36);
    assert_int_equal(slm_weight_row_bytes(SLM_WEIGHT_Q8_0, 64), 68);
    assert_true(slm_weight_bits(SLM_WEIGHT_Q4_0) == 4.5);
    assert_int_equal(sizeof(slm_act_q8), SLM_ACT_Q8_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
