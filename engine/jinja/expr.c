/*
 * expr.c — expression evaluation with Python's operator semantics and
 * jinja2's attribute/item lookup rules:
 *   - `a.b` tries the attribute (a bound method such as 'x'.strip) and then
 *     the item; `a['b']` the item and then the attribute;
 *   - a missing attribute or item is an Undefined carrying jinja's message,
 *     which only fails when it is used (attribute of it, arithmetic, call);
 *   - arithmetic follows Python (int/float promotion, floor division and
 *     modulo rounding toward -inf, str/list concatenation and repetition),
 *     reporting Python's TypeError messages. ints are 64-bit: overflow is an
 *     error where Python would switch to big integers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

slm_status slm_jx_str(slm_jctx *c, const char *s, size_t n, slm_jv *out)
{
    if (n > SLM_JINJA_MAX_STRING)
        return slm_jx_fail(c, SLM_ERR_RANGE, "string larger than %u bytes", SLM_JINJA_MAX_STRING);
    return slm_jv_str_new(s, n, out) ? SLM_OK : slm_jx_nomem(c);
}

slm_status slm_jx_buf_done(slm_jctx *c, slm_jbuf *b, slm_jv *out)
{
    if (b->failed) {
        slm_jbuf_free(b);
        return slm_jx_fail(c, SLM_ERR_RANGE, "%s%s%s%sstring larger than %u bytes (or out of memory)",
                           c->op ? c->op_kind : "", c->op ? " '" : "", c->op ? c->op : "",
                           c->op ? "': " : "", SLM_JINJA_MAX_STRING);
    }
    return slm_jbuf_to_jv(b, out) ? SLM_OK : slm_jx_nomem(c);
}

static slm_status type_error(slm_jctx *c, const char *fmt, slm_jv a, slm_jv b)
{
    return slm_jx_fail(c, SLM_ERR_INVALID_ARG, fmt, slm_jv_type_name(a), slm_jv_type_name(b));
}

/* ------------------------------------------------------------- arithmetic */

static bool is_intlike(slm_jv v) { return v.kind == SLM_JV_INT || v.kind == SLM_JV_BOOL; }
static int64_t as_int(slm_jv v) { return v.kind == SLM_JV_BOOL ? v.u.b : v.u.i; }

slm_status slm_jx_overflow(slm_jctx *c)
{
    return slm_jx_fail(c, SLM_ERR_RANGE, "%s%s%s%s%sinteger overflow (slm integers are 64-bit)",
                       c->op ? c->op_kind : "", c->op ? " '" : "", c->op ? c->op : "",
                       c->op ? "'" : "", c->op ? ": " : "");
}

static slm_status overflow(slm_jctx *c) { return slm_jx_overflow(c); }

/* seq * count for strings and lists. */
static slm_status repeat(slm_jctx *c, slm_jv seq, int64_t count, slm_jv *out)
{
    size_t items = seq.kind == SLM_JV_STR ? seq.u.s->len : seq.u.l->n;
    if (count < 0 || items == 0) /* nothing to repeat: do not loop `count` times */
        count = 0;
    if (seq.kind == SLM_JV_STR) {
        size_t len = seq.u.s->len;
        if (len && (uint64_t)count > SLM_JINJA_MAX_STRING / len)
            return slm_jx_fail(c, SLM_ERR_RANGE, "string larger than %u bytes", SLM_JINJA_MAX_STRING);
        slm_jbuf b = {0};
        for (int64_t i = 0; i < count; i++)
            slm_jbuf_put(&b, seq.u.s->s, len);
        return slm_jx_buf_done(c, &b, out);
    }
    size_t n = seq.u.l->n;
    if (n && (uint64_t)count > SLM_JINJA_MAX_RANGE / n)
        return slm_jx_fail(c, SLM_ERR_RANGE, "list longer than %d items", SLM_JINJA_MAX_RANGE);
    if (!slm_jv_list_new(n * (size_t)count, seq.u.l->flavor, out))
        return slm_jx_nomem(c);
    for (int64_t i = 0; i < count; i++)
        for (size_t k = 0; k < n; k++)
            if (!slm_jv_list_push(out->u.l, slm_jv_retain(seq.u.l->v[k])))
                return slm_jv_release(*out), slm_jx_nomem(c);
    return SLM_OK;
}

static slm_status concat(slm_jctx *c, slm_jv a, slm_jv b, slm_jv *out)
{
    if (a.kind == SLM_JV_STR) {
        slm_jbuf buf = {0};
        slm_jbuf_put(&buf, a.u.s->s, a.u.s->len);
        slm_jbuf_put(&buf, b.u.s->s, b.u.s->len);
        return slm_jx_buf_done(c, &buf, out);
    }
    if (!slm_jv_list_new(a.u.l->n + b.u.l->n, a.u.l->flavor, out))
        return slm_jx_nomem(c);
    for (int side = 0; side < 2; side++) {
        const slm_jv_list *l = side ? b.u.l : a.u.l;
        for (size_t k = 0; k < l->n; k++)
            if (!slm_jv_list_push(out->u.l, slm_jv_retain(l->v[k])))
                return slm_jv_release(*out), slm_jx_nomem(c);
    }
    return SLM_OK;
}

static slm_status add(slm_jctx *c, slm_jv a, slm_jv b, slm_jv *out)
{
    if (a.kind == SLM_JV_STR && b.kind == SLM_JV_STR)
        return concat(c, a, b, out);
    bool la = a.kind == SLM_JV_LIST && a.u.l->flavor != SLM_JSEQ_GEN;
    if (la && b.kind == SLM_JV_LIST && b.u.l->flavor == a.u.l->flavor)
        return concat(c, a, b, out);
    if (a.kind == SLM_JV_STR)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "can only concatenate str (not \"%s\") to str",
                           slm_jv_type_name(b));
    if (la)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "can only concatenate %s (not \"%s\") to %s",
                           slm_jv_type_name(a), slm_jv_type_name(b), slm_jv_type_name(a));
    return type_error(c, "unsupported operand type(s) for +: '%s' and '%s'", a, b);
}

static int64_t floor_div(int64_t x, int64_t y)
{
    int64_t q = x / y;
    return (x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q;
}

static int64_t floor_mod(int64_t x, int64_t y)
{
    int64_t r = x % y;
    return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
}

static double py_fmod(double x, double y)
{
    double r = fmod(x, y);
    if (r != 0.0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}

static slm_status int_pow(slm_jctx *c, int64_t base, int64_t e, slm_jv *out)
{
    int64_t r = 1;
    while (e > 0) {
        if ((e & 1) && __builtin_mul_overflow(r, base, &r))
            return overflow(c);
        e >>= 1;
        if (e && __builtin_mul_overflow(base, base, &base))
            return overflow(c);
    }
    *out = slm_jv_int(r);
    return SLM_OK;
}

static slm_status int_arith(slm_jctx *c, int op, int64_t x, int64_t y, slm_jv *out)
{
    int64_t r = 0;
    switch (op) {
    case SLM_OP_ADD: if (__builtin_add_overflow(x, y, &r)) return overflow(c); break;
    case SLM_OP_SUB: if (__builtin_sub_overflow(x, y, &r)) return overflow(c); break;
    case SLM_OP_MUL: if (__builtin_mul_overflow(x, y, &r)) return overflow(c); break;
    case SLM_OP_DIV:
        if (y == 0)
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "division by zero");
        *out = slm_jv_float((double)x / (double)y);
        return SLM_OK;
    case SLM_OP_FLOORDIV:
    case SLM_OP_MOD:
        if (y == 0)
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "integer %s by zero",
                               op == SLM_OP_MOD ? "modulo" : "division or modulo");
        if (y == -1) { /* x % -1 is 0; x // -1 is -x (C's INT64_MIN / -1 traps) */
            if (op == SLM_OP_MOD)
                r = 0;
            else if (x == INT64_MIN)
                return overflow(c);
            else
                r = -x;
            break;
        }
        r = op == SLM_OP_MOD ? floor_mod(x, y) : floor_div(x, y);
        break;
    case SLM_OP_POW:
        if (y < 0) {
            if (x == 0)
                return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "0.0 cannot be raised to a negative power");
            *out = slm_jv_float(pow((double)x, (double)y));
            return SLM_OK;
        }
        return int_pow(c, x, y, out);
    }
    *out = slm_jv_int(r);
    return SLM_OK;
}

static slm_status float_arith(slm_jctx *c, int op, double x, double y, slm_jv *out)
{
    double r = 0;
    switch (op) {
    case SLM_OP_ADD: r = x + y; break;
    case SLM_OP_SUB: r = x - y; break;
    case SLM_OP_MUL: r = x * y; break;
    case SLM_OP_DIV:
    case SLM_OP_FLOORDIV:
    case SLM_OP_MOD:
        if (y == 0.0)
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "float %s by zero",
                               op == SLM_OP_DIV ? "division" : op == SLM_OP_MOD ? "modulo" : "floor division");
        r = op == SLM_OP_DIV ? x / y : op == SLM_OP_MOD ? py_fmod(x, y) : floor(x / y);
        break;
    case SLM_OP_POW:
        if (x == 0.0 && y < 0)
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "0.0 cannot be raised to a negative power");
        r = pow(x, y);
        break;
    }
    *out = slm_jv_float(r);
    return SLM_OK;
}

static const char *op_symbol(int op)
{
    static const char *const sym[] = {"+", "-", "/", "//", "*", "%", "**"};
    return op <= SLM_OP_POW ? sym[op] : "?";
}

static slm_status binop_inner(slm_jctx *c, int op, slm_jv a, slm_jv b, slm_jv *out)
{
    if (a.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, a);
    if (b.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, b);
    if (is_intlike(a) && is_intlike(b))
        return int_arith(c, op, as_int(a), as_int(b), out);
    if (slm_jv_is_number(a) && slm_jv_is_number(b))
        return float_arith(c, op, slm_jv_as_double(a), slm_jv_as_double(b), out);
    if (op == SLM_OP_ADD)
        return add(c, a, b, out);
    bool seq_a = a.kind == SLM_JV_STR || (a.kind == SLM_JV_LIST && a.u.l->flavor != SLM_JSEQ_GEN);
    bool seq_b = b.kind == SLM_JV_STR || (b.kind == SLM_JV_LIST && b.u.l->flavor != SLM_JSEQ_GEN);
    if (op == SLM_OP_MUL && seq_a && is_intlike(b))
        return repeat(c, a, as_int(b), out);
    if (op == SLM_OP_MUL && seq_b && is_intlike(a))
        return repeat(c, b, as_int(a), out);
    if (op == SLM_OP_MUL && (seq_a || seq_b))
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "can't multiply sequence by non-int of type '%s'",
                           slm_jv_type_name(seq_a ? b : a));
    if (op == SLM_OP_MOD && a.kind == SLM_JV_STR)
        return slm_jx_fail(c, SLM_ERR_UNSUPPORTED, "printf-style '%%' string formatting is not supported");
    return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "unsupported operand type(s) for %s: '%s' and '%s'",
                       op_symbol(op), slm_jv_type_name(a), slm_jv_type_name(b));
}

slm_status slm_jx_binop(slm_jctx *c, int op, slm_jv a, slm_jv b, slm_jv *out)
{
    slm_jrunning prev = slm_jx_op(c, "operator", op_symbol(op));
    slm_status st = binop_inner(c, op, a, b, out);
    slm_jx_op_restore(c, prev);
    if (st != SLM_OK)
        *out = slm_jv_none();
    return st;
}

static slm_status unary(slm_jctx *c, bool neg, slm_jv v, slm_jv *out)
{
    if (v.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, v);
    if (is_intlike(v)) {
        int64_t i = as_int(v);
        if (neg && i == INT64_MIN) {
            slm_jrunning prev = slm_jx_op(c, "operator", "unary -");
            slm_status st = overflow(c);
            slm_jx_op_restore(c, prev);
            return st;
        }
        *out = slm_jv_int(neg ? -i : i);
    } else if (v.kind == SLM_JV_FLOAT) {
        *out = slm_jv_float(neg ? -v.u.f : v.u.f);
    } else {
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "bad operand type for unary %c: '%s'",
                           neg ? '-' : '+', slm_jv_type_name(v));
    }
    return SLM_OK;
}

/* ------------------------------------------------------------ comparisons */

slm_status slm_jx_contains(slm_jctx *c, slm_jv container, slm_jv item, bool *out)
{
    *out = false;
    switch (container.kind) {
    case SLM_JV_UNDEF: return SLM_OK; /* iterating an Undefined yields nothing */
    case SLM_JV_STR: {
        if (item.kind != SLM_JV_STR)
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "'in <string>' requires string as left operand, not %s",
                               slm_jv_type_name(item));
        const slm_jv_str *h = container.u.s, *nd = item.u.s;
        *out = slm_text_find(h->s, h->len, nd->s, nd->len) != NULL;
        return SLM_OK;
    }
    case SLM_JV_LIST:
        for (size_t i = 0; !*out && i < container.u.l->n; i++)
            *out = slm_jv_equal(container.u.l->v[i], item);
        return SLM_OK;
    case SLM_JV_DICT: *out = slm_jv_dict_get(container.u.d, item) != NULL; return SLM_OK;
    default:
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "argument of type '%s' is not iterable",
                           slm_jv_type_name(container));
    }
}

static slm_status compare(slm_jctx *c, int op, slm_jv a, slm_jv b, bool *out)
{
    if (op == SLM_OP_EQ || op == SLM_OP_NE) {
        *out = slm_jv_equal(a, b) == (op == SLM_OP_EQ);
        return SLM_OK;
    }
    if (op == SLM_OP_IN || op == SLM_OP_NOTIN) {
        SLM_TRY(slm_jx_contains(c, b, a, out));
        *out = *out == (op == SLM_OP_IN);
        return SLM_OK;
    }
    if (a.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, a);
    if (b.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, b);
    int cmp;
    if (!slm_jv_compare(a, b, &cmp)) {
        const char *sym = op == SLM_OP_LT ? "<" : op == SLM_OP_LTEQ ? "<=" : op == SLM_OP_GT ? ">" : ">=";
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "'%s' not supported between instances of '%s' and '%s'",
                           sym, slm_jv_type_name(a), slm_jv_type_name(b));
    }
    *out = op == SLM_OP_LT ? cmp < 0 : op == SLM_OP_LTEQ ? cmp <= 0 : op == SLM_OP_GT ? cmp > 0 : cmp >= 0;
    return SLM_OK;
}

static slm_status eval_compare(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jv left;
    SLM_TRY(slm_jx_eval(c, s, n->a, &left));
    bool result = true;
    slm_status st = SLM_OK;
    for (size_t i = 0; st == SLM_OK && result && i < n->n; i++) {
        slm_jv right;
        st = slm_jx_eval(c, s, n->items[i], &right);
        if (st != SLM_OK)
            break;
        c->line = n->line;
        st = compare(c, n->ops[i], left, right, &result);
        slm_jv_release(left);
        left = right;
    }
    slm_jv_release(left);
    *out = slm_jv_bool(result);
    return st;
}

/* ------------------------------------------------------------- arguments */

void slm_jargs_release(slm_jargs *a)
{
    for (size_t i = 0; i < a->n; i++)
        slm_jv_release(a->v[i]);
    a->n = 0;
}

slm_status slm_jx_eval_args(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jargs *a)
{
    a->n = 0;
    for (size_t i = 0; i < n->n; i++) {
        slm_status st = slm_jx_eval(c, s, n->items[i], &a->v[a->n]);
        if (st != SLM_OK) {
            slm_jargs_release(a);
            return st;
        }
        a->kw[a->n++] = n->kw ? n->kw[i] : NULL;
    }
    return SLM_OK;
}

slm_status slm_jargs_bind(slm_jctx *c, const slm_jargs *a, const char *fname,
                          const char *const *params, const slm_jv **slots)
{
    size_t np = 0;
    while (params[np])
        slots[np++] = NULL;
    for (size_t i = 0; i < a->n; i++) {
        size_t k = i;
        if (a->kw[i]) {
            for (k = 0; k < np && strcmp(params[k], a->kw[i]) != 0; k++)
                ;
            if (k == np)
                return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "%s() got an unexpected keyword argument '%s'",
                                   fname, a->kw[i]);
        } else if (k >= np) {
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "%s() takes at most %zu argument(s) (%zu given)",
                               fname, np, a->n);
        }
        if (slots[k])
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "%s() got multiple values for argument '%s'",
                               fname, params[k]);
        slots[k] = &a->v[i];
    }
    return SLM_OK;
}

/* ------------------------------------------------------------------ calls */

slm_status slm_jx_call(slm_jctx *c, slm_jv callee, const slm_jargs *a, slm_jv *out)
{
    switch (callee.kind) {
    case SLM_JV_METHOD: return slm_jx_method(c, callee.u.meth->self, callee.u.meth->id, a, out);
    case SLM_JV_FUNC: return slm_jx_global(c, callee.u.fn, a, out);
    case SLM_JV_MACRO: return slm_jx_call_macro(c, callee.u.m, a, out);
    case SLM_JV_UNDEF: return slm_jx_undefined(c, callee);
    default:
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "'%s' object is not callable",
                           slm_jv_type_name(callee));
    }
}

static slm_status eval_call(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jv callee;
    SLM_TRY(slm_jx_eval(c, s, n->a, &callee));
    slm_jargs a;
    slm_status st = slm_jx_eval_args(c, s, n, &a);
    if (st == SLM_OK) {
        c->line = n->line;
        st = slm_jx_call(c, callee, &a, out);
        slm_jargs_release(&a);
    }
    slm_jv_release(callee);
    return st;
}

/* FILTER and TEST nodes: the input, then the arguments, then the call. */
static slm_status eval_filter_or_test(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jv in;
    SLM_TRY(slm_jx_eval(c, s, n->a, &in));
    slm_jargs a;
    slm_status st = slm_jx_eval_args(c, s, n, &a);
    if (st == SLM_OK) {
        c->line = n->line;
        if (n->kind == SLM_N_FILTER) {
            st = slm_jx_filter(c, n->id, in, &a, out);
        } else {
            bool yes = false;
            st = slm_jx_test(c, n->id, in, &a, &yes);
            *out = slm_jv_bool(yes);
        }
        slm_jargs_release(&a);
    }
    slm_jv_release(in);
    return st;
}

/* ------------------------------------------------------------ containers */

static slm_status eval_seq(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    if (!slm_jv_list_new(n->n, n->kind == SLM_N_TUPLE ? SLM_JSEQ_TUPLE : SLM_JSEQ_LIST, out))
        return slm_jx_nomem(c);
    for (size_t i = 0; i < n->n; i++) {
        slm_jv v;
        slm_status st = slm_jx_eval(c, s, n->items[i], &v);
        if (st == SLM_OK && !slm_jv_list_push(out->u.l, v))
            st = slm_jx_nomem(c);
        if (st != SLM_OK) {
            slm_jv_release(*out);
            return st;
        }
    }
    return SLM_OK;
}

static bool hashable(slm_jv v)
{
    if (v.kind == SLM_JV_LIST)
        return v.u.l->flavor != SLM_JSEQ_LIST;
    return v.kind != SLM_JV_DICT && v.kind != SLM_JV_NS;
}

static slm_status eval_dict(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    if (!slm_jv_dict_new(out))
        return slm_jx_nomem(c);
    slm_status st = SLM_OK;
    for (size_t i = 0; st == SLM_OK && i + 1 < n->n; i += 2) {
        slm_jv k, v = slm_jv_none();
        st = slm_jx_eval(c, s, n->items[i], &k);
        if (st != SLM_OK)
            break;
        st = slm_jx_eval(c, s, n->items[i + 1], &v);
        if (st == SLM_OK && !hashable(k))
            st = slm_jx_fail(c, SLM_ERR_INVALID_ARG, "unhashable type: '%s'", slm_jv_type_name(k));
        if (st == SLM_OK) {
            if (!slm_jv_dict_set(out->u.d, k, v))
                st = slm_jx_nomem(c);
        } else {
            slm_jv_release(k);
            slm_jv_release(v);
        }
    }
    if (st != SLM_OK)
        slm_jv_release(*out);
    return st;
}

/* ------------------------------------------------------------ evaluation */

static slm_status eval_opt(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    if (!n) {
        *out = slm_jv_none();
        return SLM_OK;
    }
    return slm_jx_eval(c, s, n, out);
}

static slm_status eval_slice(slm_jctx *c, slm_jscope *s, slm_jv obj, const slm_jnode *n,
                             slm_jv *out)
{
    slm_jv part[3] = {slm_jv_none(), slm_jv_none(), slm_jv_none()};
    const slm_jnode *src[3] = {n->a, n->b, n->c};
    slm_status st = SLM_OK;
    for (int i = 0; i < 3 && st == SLM_OK; i++)
        st = eval_opt(c, s, src[i], &part[i]);
    if (st == SLM_OK)
        st = slm_jx_slice(c, obj, part[0], part[1], part[2], out);
    for (int i = 0; i < 3; i++)
        slm_jv_release(part[i]);
    return st;
}

static slm_status eval_access(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jv obj, key;
    SLM_TRY(slm_jx_eval(c, s, n->a, &obj));
    slm_status st = SLM_OK;
    c->line = n->line;
    if (obj.kind == SLM_JV_UNDEF) {
        st = slm_jx_undefined(c, obj);
    } else if (n->kind == SLM_N_GETATTR) {
        st = slm_jx_getattr(c, obj, n->str, n->len, out);
    } else if (n->b->kind == SLM_N_SLICE) {
        st = eval_slice(c, s, obj, n->b, out);
    } else if ((st = slm_jx_eval(c, s, n->b, &key)) == SLM_OK) {
        st = slm_jx_getitem(c, obj, key, out);
        slm_jv_release(key);
    }
    slm_jv_release(obj);
    return st;
}

static slm_status eval_name(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jv *v = slm_jx_lookup(s, n->str, n->len);
    if (v) {
        *out = slm_jv_retain(*v);
        return SLM_OK;
    }
    return slm_jv_undef_msg(out, "'%s' is undefined", n->str) ? SLM_OK : slm_jx_nomem(c);
}

static slm_status eval_concat(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jbuf b = {0};
    for (size_t i = 0; i < n->n; i++) {
        slm_jv v;
        slm_status st = slm_jx_eval(c, s, n->items[i], &v);
        if (st != SLM_OK) {
            slm_jbuf_free(&b);
            return st;
        }
        slm_jv_to_str(&b, v);
        slm_jv_release(v);
    }
    return slm_jx_buf_done(c, &b, out);
}

static slm_status eval_logic(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    SLM_TRY(slm_jx_eval(c, s, n->a, out));
    bool decided = slm_jv_truthy(*out) == (n->kind == SLM_N_OR);
    if (decided) /* Python returns the deciding operand itself */
        return SLM_OK;
    slm_jv_release(*out);
    return slm_jx_eval(c, s, n->b, out);
}

static slm_status eval_cond(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jv test;
    SLM_TRY(slm_jx_eval(c, s, n->a, &test));
    bool yes = slm_jv_truthy(test);
    slm_jv_release(test);
    if (yes)
        return slm_jx_eval(c, s, n->b, out);
    if (n->c)
        return slm_jx_eval(c, s, n->c, out);
    return slm_jv_undef_msg(out, "the inline if-expression on line %d evaluated to false and no else section was defined.",
                            n->line) ? SLM_OK : slm_jx_nomem(c);
}

static slm_status eval_operator(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jv a, b = slm_jv_none();
    SLM_TRY(slm_jx_eval(c, s, n->a, &a));
    slm_status st = SLM_OK;
    if (n->kind == SLM_N_BIN)
        st = slm_jx_eval(c, s, n->b, &b);
    c->line = n->line;
    if (st == SLM_OK) {
        if (n->kind == SLM_N_BIN)
            st = slm_jx_binop(c, n->op, a, b, out);
        else if (n->kind == SLM_N_NOT)
            *out = slm_jv_bool(!slm_jv_truthy(a));
        else
            st = unary(c, n->kind == SLM_N_NEG, a, out);
    }
    slm_jv_release(a);
    slm_jv_release(b);
    return st;
}

static slm_status eval_inner(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    switch (n->kind) {
    case SLM_N_CONST: *out = slm_jv_retain(n->val); return SLM_OK;
    case SLM_N_NAME: return eval_name(c, s, n, out);
    case SLM_N_GETATTR:
    case SLM_N_GETITEM: return eval_access(c, s, n, out);
    case SLM_N_CALL: return eval_call(c, s, n, out);
    case SLM_N_FILTER:
    case SLM_N_TEST: return eval_filter_or_test(c, s, n, out);
    case SLM_N_NEG:
    case SLM_N_POS:
    case SLM_N_NOT:
    case SLM_N_BIN: return eval_operator(c, s, n, out);
    case SLM_N_CONCAT: return eval_concat(c, s, n, out);
    case SLM_N_AND:
    case SLM_N_OR: return eval_logic(c, s, n, out);
    case SLM_N_COMPARE: return eval_compare(c, s, n, out);
    case SLM_N_COND: return eval_cond(c, s, n, out);
    case SLM_N_LIST:
    case SLM_N_TUPLE: return eval_seq(c, s, n, out);
    case SLM_N_DICT: return eval_dict(c, s, n, out);
    default:
        return slm_jx_fail(c, SLM_ERR_UNSUPPORTED, "expression kind %d cannot be evaluated", n->kind);
    }
}

slm_status slm_jx_eval(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    *out = slm_jv_none();
    SLM_TRY(slm_jx_enter(c));
    slm_status st = eval_inner(c, s, n, out);
    c->depth--;
    if (st != SLM_OK) /* builders release what they made on failure: never hand it out */
        *out = slm_jv_none();
    return st;
}
