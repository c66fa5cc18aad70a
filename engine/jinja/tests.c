/*
 * tests.c — jinja2's builtin tests (`x is defined`, `n is divisibleby 3`,
 * `select("equalto", ...)`), with the same Python type rules: booleans are
 * numbers but not integers, dicts are sequences (they have len and
 * getitem), Undefined is iterable and callable.
 */
#include <string.h>

#include "eval.h"

enum {
    T_ODD, T_EVEN, T_DIVISIBLEBY, T_DEFINED, T_UNDEFINED, T_FILTER, T_TEST, T_NONE, T_BOOLEAN,
    T_FALSE, T_TRUE, T_INTEGER, T_FLOAT, T_LOWER, T_UPPER, T_STRING, T_MAPPING, T_NUMBER,
    T_SEQUENCE, T_ITERABLE, T_CALLABLE, T_SAMEAS, T_ESCAPED, T_IN, T_EQ, T_NE, T_GT, T_GE, T_LT,
    T_LE, T_COUNT_
};

static const struct {
    const char *name;
    int id;
} TEST_NAMES[] = {
    {"odd", T_ODD}, {"even", T_EVEN}, {"divisibleby", T_DIVISIBLEBY}, {"defined", T_DEFINED},
    {"undefined", T_UNDEFINED}, {"filter", T_FILTER}, {"test", T_TEST}, {"none", T_NONE},
    {"boolean", T_BOOLEAN}, {"false", T_FALSE}, {"true", T_TRUE}, {"integer", T_INTEGER},
    {"float", T_FLOAT}, {"lower", T_LOWER}, {"upper", T_UPPER}, {"string", T_STRING},
    {"mapping", T_MAPPING}, {"number", T_NUMBER}, {"sequence", T_SEQUENCE},
    {"iterable", T_ITERABLE}, {"callable", T_CALLABLE}, {"sameas", T_SAMEAS},
    {"escaped", T_ESCAPED}, {"in", T_IN}, {"==", T_EQ}, {"eq", T_EQ}, {"equalto", T_EQ},
    {"!=", T_NE}, {"ne", T_NE}, {">", T_GT}, {"gt", T_GT}, {"greaterthan", T_GT},
    {">=", T_GE}, {"ge", T_GE}, {"<", T_LT}, {"lt", T_LT}, {"lessthan", T_LT}, {"<=", T_LE},
    {"le", T_LE},
};

int slm_jinja_test_id(const char *name, size_t len, bool *supported)
{
    *supported = true;
    for (size_t i = 0; i < sizeof TEST_NAMES / sizeof TEST_NAMES[0]; i++)
        if (strlen(TEST_NAMES[i].name) == len && memcmp(TEST_NAMES[i].name, name, len) == 0)
            return TEST_NAMES[i].id;
    *supported = false;
    return -1;
}

/* str(v).islower() / isupper(): some cased character, none of the other case. */
static bool case_test(slm_jv v, bool upper)
{
    slm_jbuf b = {0};
    slm_jv_to_str(&b, v);
    bool any = false, ok = true;
    uint32_t cp;
    for (size_t i = 0; i < b.n && ok;) {
        i = slm_utf8_next(b.p, b.n, i, &cp);
        bool is_upper;
        if (!slm_py_is_cased(cp, &is_upper))
            continue;
        any = true;
        ok = is_upper == upper;
    }
    slm_jbuf_free(&b);
    return any && ok;
}

static slm_status modulo_test(slm_jctx *c, slm_jv v, slm_jv d, int64_t want, bool *out)
{
    slm_jv r;
    SLM_TRY(slm_jx_binop(c, SLM_OP_MOD, v, d, &r));
    *out = slm_jv_equal(r, slm_jv_int(want));
    slm_jv_release(r);
    return SLM_OK;
}

static slm_status compare_test(slm_jctx *c, int id, slm_jv v, slm_jv other, bool *out)
{
    if (id == T_EQ || id == T_NE) {
        *out = slm_jv_equal(v, other) == (id == T_EQ);
        return SLM_OK;
    }
    if (v.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, v);
    if (other.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, other);
    int cmp;
    if (!slm_jv_compare(v, other, &cmp))
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "comparison not supported between instances of '%s' and '%s'",
                           slm_jv_type_name(v), slm_jv_type_name(other));
    *out = id == T_GT ? cmp > 0 : id == T_GE ? cmp >= 0 : id == T_LT ? cmp < 0 : cmp <= 0;
    return SLM_OK;
}

static bool same_object(slm_jv a, slm_jv b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case SLM_JV_NONE:
    case SLM_JV_UNDEF: return a.kind == SLM_JV_NONE || a.u.s == b.u.s;
    case SLM_JV_BOOL: return a.u.b == b.u.b;
    case SLM_JV_INT: return a.u.i == b.u.i && a.u.i >= -5 && a.u.i <= 256; /* CPython's cache */
    case SLM_JV_FLOAT: return false;
    case SLM_JV_FUNC: return a.u.fn == b.u.fn;
    default: return a.u.s == b.u.s; /* the same heap object */
    }
}

static slm_status name_test(slm_jv v, bool filter, bool *out)
{
    bool supported;
    *out = v.kind == SLM_JV_STR &&
           (filter ? slm_jinja_filter_id(v.u.s->s, v.u.s->len, &supported)
                   : slm_jinja_test_id(v.u.s->s, v.u.s->len, &supported)) >= 0;
    return SLM_OK;
}

slm_status slm_jx_test(slm_jctx *c, int id, slm_jv v, const slm_jargs *a, bool *out)
{
    static const char *const one[] = {"other", NULL};
    static const char *const none[] = {NULL};
    const slm_jv *arg[1] = {NULL};
    bool takes_arg = id == T_DIVISIBLEBY || id == T_SAMEAS || id == T_IN || id >= T_EQ;
    SLM_TRY(slm_jargs_bind(c, a, "test", takes_arg ? one : none, arg));
    if (takes_arg && !arg[0])
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "test is missing its argument");
    *out = false;
    switch (id) {
    case T_ODD: return modulo_test(c, v, slm_jv_int(2), 1, out);
    case T_EVEN: return modulo_test(c, v, slm_jv_int(2), 0, out);
    case T_DIVISIBLEBY: return modulo_test(c, v, *arg[0], 0, out);
    case T_DEFINED: *out = v.kind != SLM_JV_UNDEF; break;
    case T_UNDEFINED: *out = v.kind == SLM_JV_UNDEF; break;
    case T_FILTER: return name_test(v, true, out);
    case T_TEST: return name_test(v, false, out);
    case T_NONE: *out = v.kind == SLM_JV_NONE; break;
    case T_BOOLEAN: *out = v.kind == SLM_JV_BOOL; break;
    case T_FALSE: *out = v.kind == SLM_JV_BOOL && !v.u.b; break;
    case T_TRUE: *out = v.kind == SLM_JV_BOOL && v.u.b; break;
    case T_INTEGER: *out = v.kind == SLM_JV_INT; break;
    case T_FLOAT: *out = v.kind == SLM_JV_FLOAT; break;
    case T_LOWER: *out = case_test(v, false); break;
    case T_UPPER: *out = case_test(v, true); break;
    case T_STRING: *out = v.kind == SLM_JV_STR; break;
    case T_MAPPING: *out = v.kind == SLM_JV_DICT; break;
    case T_NUMBER: *out = slm_jv_is_number(v); break;
    case T_SEQUENCE:
        *out = v.kind == SLM_JV_STR || v.kind == SLM_JV_DICT || v.kind == SLM_JV_UNDEF ||
               (v.kind == SLM_JV_LIST && v.u.l->flavor != SLM_JSEQ_GEN);
        break;
    case T_ITERABLE:
        *out = v.kind == SLM_JV_STR || v.kind == SLM_JV_DICT || v.kind == SLM_JV_UNDEF ||
               v.kind == SLM_JV_LIST || v.kind == SLM_JV_LOOP;
        break;
    case T_CALLABLE:
        *out = v.kind == SLM_JV_FUNC || v.kind == SLM_JV_MACRO || v.kind == SLM_JV_METHOD ||
               v.kind == SLM_JV_UNDEF;
        break;
    case T_SAMEAS: *out = same_object(v, *arg[0]); break;
    case T_ESCAPED: *out = false; break; /* nothing is Markup without autoescape */
    case T_IN: return slm_jx_contains(c, *arg[0], v, out);
    default: return compare_test(c, id, v, *arg[0], out);
    }
    return SLM_OK;
}
