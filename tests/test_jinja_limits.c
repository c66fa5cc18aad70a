/*
 * test_jinja_limits.c — the template evaluator under hostile templates:
 *   - integer arithmetic at the edges of int64 (range, slices, batch,
 *     round, repetition, unary minus, abs, int) is exact or a clear
 *     SLM_ERR_RANGE naming the operation, never undefined behaviour or a
 *     loop of 2^63 iterations;
 *   - the per-render work budget (SLM_JINJA_MAX_WORK) stops templates whose
 *     work grows faster than their output: shared sublists printed,
 *     serialised or compared exponentially, big strings scanned a million
 *     times, lists doubled to 2^40 items;
 *   - substring searches are linear (a quadratic one would not finish);
 *   - a rendered prompt with a NUL byte is refused instead of truncated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat_template.h"

static slm_status render_n(const char *src, size_t len, char **out, slm_error *err)
{
    slm_chat_template *t = NULL;
    *out = NULL;
    slm_status st = slm_chat_template_parse_n(src, len, "limits.jinja", "<s>", "</s>", &t, err);
    slm_chat_message m = {"user", "hi"};
    if (st == SLM_OK)
        st = slm_chat_template_apply(t, &m, 1, false, out, err);
    slm_chat_template_free(t);
    return st;
}

static void expect_text(const char *src, const char *want)
{
    char *out = NULL;
    slm_error err = {0};
    slm_status st = render_n(src, strlen(src), &out, &err);
    if (st != SLM_OK)
        fail_msg("template %s: %s \"%s\", want \"%s\"", src, slm_status_name(st), err.msg, want);
    if (strcmp(out, want) != 0)
        fail_msg("template %s: rendered \"%s\", want \"%s\"", src, out, want);
    free(out);
}

/* Fails with `want` and a message naming the template, the line and each fragment. */
static void expect_fail(const char *src, slm_status want, const char *frag1, const char *frag2)
{
    char *out = NULL;
    slm_error err = {0};
    slm_status st = render_n(src, strlen(src), &out, &err);
    if (st != want || strncmp(err.msg, "limits.jinja: line ", 19) != 0 ||
        (frag1 && !strstr(err.msg, frag1)) || (frag2 && !strstr(err.msg, frag2)))
        fail_msg("template %s: got %s \"%s\", want %s with \"%s\" and \"%s\"", src,
                 slm_status_name(st), err.msg, slm_status_name(want), frag1 ? frag1 : "",
                 frag2 ? frag2 : "");
    assert_null(out);
}

#define MIN64 "(-9223372036854775807 - 1)"
#define MAX64 "9223372036854775807"

/* ------------------------------------------------------ range() */

static void test_range_near_int64_limits(void **state)
{
    (void)state;
    /* the step after the last item would pass INT64_MAX */
    expect_text("{{ range(" MAX64 " - 1, " MAX64 ", 2)|list }}", "[9223372036854775806]");
    expect_text("{{ range(" MAX64 " - 2, " MAX64 ")|list }}",
                "[9223372036854775805, 9223372036854775806]");
    /* a span wider than INT64_MAX, with a step that steps over the top */
    expect_text("{{ range(" MIN64 ", " MAX64 ", 4611686018427387904)|list }}",
                "[-9223372036854775808, -4611686018427387904, 0, 4611686018427387904]");
    expect_text("{{ range(" MIN64 " + 1, " MIN64 ", -1)|list }}", "[-9223372036854775807]");
    expect_text("{{ range(" MAX64 ", " MIN64 ", " MIN64 ")|list }}", "[9223372036854775807, -1]");
    expect_text("{{ range(5, 0)|list }}{{ range(0, 5, 2)|list }}{{ range(3)|list }}",
                "[][0, 2, 4][0, 1, 2]");
    expect_fail("{{ range(" MIN64 ", " MAX64 ")|length }}", SLM_ERR_RANGE, "Range too big",
                "MAX_RANGE");
    expect_fail("{{ range(" MAX64 ", " MIN64 ", -1)|length }}", SLM_ERR_RANGE, "MAX_RANGE", NULL);
    expect_fail("{{ range(100001)|length }}", SLM_ERR_RANGE, "MAX_RANGE", NULL);
    expect_text("{{ range(100000)|length }}", "100000");
}

/* ------------------------------------------------------ slices */

static void test_slices_with_huge_steps_and_bounds(void **state)
{
    (void)state;
    expect_text("{{ [1, 2, 3][::" MAX64 "] }}", "[1]");
    expect_text("{{ [1, 2, 3][2::" MAX64 "] }}", "[3]");
    expect_text("{{ [1, 2, 3][::" MIN64 "] }}", "[3]");
    expect_text("{{ [1, 2, 3][::-" MAX64 "] }}", "[3]");
    expect_text("{{ 'abc'[::" MIN64 "] }}|{{ 'abc'[1::" MAX64 "] }}", "c|b");
    expect_text("{{ [1, 2, 3][" MIN64 ":" MAX64 "] }}", "[1, 2, 3]");
    expect_text("{{ [1, 2, 3][" MAX64 ":" MIN64 ":-1] }}", "[3, 2, 1]");
    expect_text("{{ 'héllo'[" MIN64 ":" MAX64 ":2] }}", "hlo");
    expect_text("{{ [1, 2, 3, 4, 5][4:0:-2] }}{{ [1, 2, 3][::-1] }}", "[5, 3][3, 2, 1]");
}

/* ------------------------------------------------------ batch */

static void test_batch_with_huge_size(void **state)
{
    (void)state;
    /* one row of what there is, not a loop over 2^63 empty slots */
    expect_text("{{ [1, 2, 3]|batch(" MAX64 ")|list }}", "[[1, 2, 3]]");
    expect_text("{{ [1, 2, 3]|batch(2, 0)|list }}", "[[1, 2], [3, 0]]");
    /* padding to 2^63 items is refused before it is built */
    expect_fail("{{ [1, 2, 3]|batch(" MAX64 ", 0)|list }}", SLM_ERR_RANGE, "filter 'batch'",
                "more work than one render may");
}

/* --------------------------------------------- other integer operations */

static void test_integer_operations_checked(void **state)
{
    (void)state;
    expect_fail("{{ " MAX64 " + 1 }}", SLM_ERR_RANGE, "operator '+'", "integer overflow");
    expect_fail("{{ " MIN64 " - 1 }}", SLM_ERR_RANGE, "operator '-'", "integer overflow");
    expect_fail("{{ 4294967296 * 4294967296 }}", SLM_ERR_RANGE, "operator '*'", "integer overflow");
    expect_fail("{{ " MIN64 " // -1 }}", SLM_ERR_RANGE, "operator '//'", "integer overflow");
    expect_fail("{{ 3 ** 40 }}", SLM_ERR_RANGE, "operator '**'", "integer overflow");
    expect_fail("{{ -" MIN64 " }}", SLM_ERR_RANGE, "operator 'unary -'", "integer overflow");
    expect_fail("{{ " MIN64 "|abs }}", SLM_ERR_RANGE, "filter 'abs'", "integer overflow");
    expect_fail("{{ '9223372036854775808'|int }}", SLM_ERR_RANGE, "filter 'int'", "integer overflow");
    expect_text("{{ " MIN64 " % -1 }} {{ '-9223372036854775808'|int }} {{ 2 ** 62 }}",
                "0 -9223372036854775808 4611686018427387904");
    /* round(int, -n) can leave int64; a huge negative precision is zero */
    expect_fail("{{ " MAX64 "|round(-1) }}", SLM_ERR_RANGE, "filter 'round'", "integer overflow");
    expect_text("{{ 1.5|round(" MIN64 ") }} {{ -2.5|round(-400) }} {{ 1234|round(-2) }}",
                "0.0 -0.0 1200");
    /* repeating nothing a huge number of times is instant and empty */
    expect_text("[{{ '' * " MAX64 " }}]{{ [] * " MAX64 " }}{{ " MAX64 " * () }}", "[][]()");
    expect_fail("{{ 'ab' * " MAX64 " }}", SLM_ERR_RANGE, "string larger", NULL);
    expect_fail("{{ [1] * " MAX64 " }}", SLM_ERR_RANGE, "list longer", NULL);
}

/* ------------------------------------------------------ the work budget */

/* ns.a becomes a list of 2^60 leaves that share sublists: 60 lines of text. */
#define SHARED_60 "{% set ns = namespace(a=[0], b=[0]) %}{% for i in range(60) %}" \
                  "{% set ns.a = [ns.a, ns.a] %}{% set ns.b = [ns.b, ns.b] %}{% endfor %}"

static void test_work_budget_shared_sublists(void **state)
{
    (void)state;
    expect_text(SHARED_60 "{{ ns.a|length }}", "2");
    /* printing or serialising stops at the string limit instead of walking 2^60 leaves */
    expect_fail(SHARED_60 "{{ ns.a }}", SLM_ERR_RANGE, "larger than", NULL);
    expect_fail(SHARED_60 "{{ ns.a|tojson }}", SLM_ERR_RANGE, "filter 'tojson'", "larger than");
    expect_fail(SHARED_60 "{{ ns.a|string|length }}", SLM_ERR_RANGE, "filter 'string'", "larger than");
    /* two equal but distinct such values: comparing them is 2^60 steps */
    expect_fail(SHARED_60 "{{ ns.a == ns.b }}", SLM_ERR_RANGE, "more work than one render may",
                "SLM_JINJA_MAX_WORK");
    expect_fail(SHARED_60 "{{ ns.a in [ns.b] }}", SLM_ERR_RANGE, "more work", NULL);
    expect_fail(SHARED_60 "{{ [ns.a, ns.b]|unique|list|length }}", SLM_ERR_RANGE,
                "filter 'unique'", "more work");
}

static void test_work_budget_repeated_scans(void **state)
{
    (void)state;
    /* each statement is bounded by the string limit, the loop by the steps
     * limit; only the budget bounds their product (1e6 x 16 MB) */
    expect_fail("{% set s = 'x' * 16000000 %}{% for i in range(1000) %}{% for j in range(1000) %}{% set n = s|length %}"
                "{% endfor %}{% endfor %}", SLM_ERR_RANGE, "more work than one render may", NULL);
    expect_fail("{% set s = 'x' * 16000000 %}{% for i in range(1000) %}{% for j in range(1000) %}"
                "{% if s.startswith(s) %}{% endif %}{% endfor %}{% endfor %}", SLM_ERR_RANGE, "more work", NULL);
    expect_fail("{% set s = 'x' * 16000000 %}{% for i in range(1000) %}{% for j in range(1000) %}"
                "{% set t = s|replace('y', 'z') %}{% endfor %}{% endfor %}", SLM_ERR_RANGE, "more work", NULL);
    expect_fail("{% set s = 'x' * 8000000 %}{% for i in range(1000) %}{% for j in range(1000) %}"
                "{% set t = s.strip('y' * 8000000) %}{% endfor %}{% endfor %}", SLM_ERR_RANGE, "more work", NULL);
    /* scans that build nothing are charged too */
    expect_fail("{% set s = ' ' * 16000000 %}{% for i in range(1000) %}{% for j in range(1000) %}"
                "{% set n = s.split()|length %}{% endfor %}{% endfor %}", SLM_ERR_RANGE,
                "method 'split'", "more work");
    expect_fail("{% set s = ' ' * 16000000 %}{% for i in range(1000) %}{% for j in range(1000) %}"
                "{% set n = s|wordcount %}{% endfor %}{% endfor %}", SLM_ERR_RANGE, "more work", NULL);
    expect_fail("{% set s = ' ' * 16000000 %}{% for i in range(1000) %}{% for j in range(1000) %}"
                "{% set n = s.isdigit() %}{% endfor %}{% endfor %}", SLM_ERR_RANGE, "more work", NULL);
    /* doubling a list 40 times would need 2^40 items */
    expect_fail("{% set ns = namespace(l=[0]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}"
                "{% endfor %}{{ ns.l|length }}", SLM_ERR_RANGE, "operator '+'", "more work");
    /* ordinary large work stays well inside it */
    expect_text("{% set s = 'ab' * 1000000 %}{{ (s|replace('a', 'cc')|length) }} "
                "{{ s.split('b')|length }} {{ range(100000)|map('string')|join(',')|length }}",
                "3000000 1000001 588889");
}

static void test_substring_search_is_linear(void **state)
{
    (void)state;
    /* needles that match almost everywhere but never fully: quadratic
     * scans would compare 5e5 bytes at each of 5e5 positions */
    const char *needle = "{% set h = 'a' * 1000000 %}{% set n = 'a' * 500000 ~ 'b' %}";
    char src[512];
    snprintf(src, sizeof src, "%s{{ n in h }} {{ h|replace(n, 'x')|length }} {{ h.find(n) }} "
                              "{{ h.count(n) }} {{ h.split(n)|length }}", needle);
    expect_text(src, "False 1000000 -1 0 1");
    expect_text("{{ 'aaa'.rfind('aa') }} {{ 'aaa'.count('aa') }} {{ 'a,b,,c'.split(',') }} "
                "{{ 'héhé'.find('é') }} {{ 'héhé'.rfind('é') }} {{ 'abc'.count('') }} "
                "{{ 'ab'.rfind('') }} {{ 'x'.replace('', '-') }}",
                "1 1 ['a', 'b', '', 'c'] 1 3 4 2 -x-");
}

static void test_stored_values_nest_boundedly(void **state)
{
    (void)state;
    /* `set` nests a value one level per statement; namespaces were capped,
     * plain variables were not */
    char src[8192] = "{% set a = [] %}";
    for (int i = 0; i < 300; i++)
        strcat(src, "{% set a = [a] %}");
    strcat(src, "{{ a|length }}");
    expect_fail(src, SLM_ERR_RANGE, "nested deeper than 256 levels", NULL);
    expect_text("{% set a = [[[[1]]]] %}{% set b = [a, a] %}{{ b[1][0][0][0] }}", "[1]");
}

/* ------------------------------------------- values of failed expressions */

static void test_failed_element_not_released_twice(void **state)
{
    (void)state;
    /* the list fails on its element and frees itself; the dict around it
     * used to release it again (fuzz_chat_template, heap-use-after-free) */
    expect_fail("{{ {'a': [1, x // y]} }}", SLM_ERR_INVALID_ARG, "is undefined", NULL);
    expect_fail("{{ {'a': {'b': [1, 2 // 0]}} }}", SLM_ERR_INVALID_ARG, "division or modulo by zero",
                NULL);
    expect_fail("{{ {'a': [1]|map('nope')|list} }}", SLM_ERR_INVALID_ARG, "No filter named", NULL);
    expect_fail("{{ {'a': ['x']|select('nope')|list} }}", SLM_ERR_INVALID_ARG, "No test named", NULL);
}

/* ------------------------------------------------------ NUL bytes */

static void test_nul_in_output_is_an_error(void **state)
{
    (void)state;
    char *out = NULL;
    slm_error err = {0};
    const char *src = "ab{{ 'c\\x00d' }}e";
    assert_int_equal(render_n(src, strlen(src), &out, &err), SLM_ERR_FORMAT);
    assert_null(out);
    assert_non_null(strstr(err.msg, "NUL byte at offset 3"));
    assert_non_null(strstr(err.msg, "chat template"));
    /* a raw NUL in the source text (a chat_template.jinja file can hold one) */
    static const char raw[] = "x\0y{{ bos_token }}";
    assert_int_equal(render_n(raw, sizeof raw - 1, &out, &err), SLM_ERR_FORMAT);
    assert_null(out);
    assert_non_null(strstr(err.msg, "NUL byte at offset 1 (of 6 bytes)"));
    /* without a NUL the same text renders */
    expect_text("ab{{ 'c\\x01d' }}e", "abc\001de");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_near_int64_limits),
        cmocka_unit_test(test_slices_with_huge_steps_and_bounds),
        cmocka_unit_test(test_batch_with_huge_size),
        cmocka_unit_test(test_integer_operations_checked),
        cmocka_unit_test(test_work_budget_shared_sublists),
        cmocka_unit_test(test_work_budget_repeated_scans),
        cmocka_unit_test(test_substring_search_is_linear),
        cmocka_unit_test(test_stored_values_nest_boundedly),
        cmocka_unit_test(test_failed_element_not_released_twice),
        cmocka_unit_test(test_nul_in_output_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
