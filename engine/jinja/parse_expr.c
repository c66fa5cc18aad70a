/*
 * parse_expr.c — Jinja expressions, a transcription of jinja2's
 * Parser.parse_condexpr ... parse_primary: the same precedence ladder
 * (if/else < or < and < not < comparisons < + - < ~ < * / // % < ** < unary),
 * filters and tests binding tighter than any operator (`-x|abs` is
 * abs(-x)), left-associative `**`, adjacent string literals concatenated,
 * and tuples wherever jinja allows them. Unknown filters and tests are
 * rejected here, as jinja does when it compiles a template.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

static void next(slm_jparser *p) { slm_jp_next(p); }

/* ---------------------------------------------------------- literals */

/* A constant node owning v (registered so the template frees it once). */
static slm_status make_const(slm_jparser *p, slm_jv v, int line, slm_jnode **out)
{
    slm_jnode *n = slm_jp_node(p, SLM_N_CONST, line);
    if (!n || !slm_jv_list_push(p->consts, v))
        return slm_jp_nomem(p); /* push released v on failure */
    slm_jv_make_immortal(v); /* shared read-only by every render */
    n->val = v;
    *out = n;
    return SLM_OK;
}

static slm_status parse_strings(slm_jparser *p, slm_jnode **out)
{
    int line = slm_jp_cur(p)->line;
    slm_jbuf b = {0};
    while (slm_jp_cur(p)->type == SLM_TK_STRING) { /* "a" "b" is "ab", as in Python */
        slm_jbuf_put(&b, slm_jp_cur(p)->s, slm_jp_cur(p)->len);
        next(p);
    }
    slm_jv v;
    if (!slm_jbuf_to_jv(&b, &v))
        return slm_jp_nomem(p);
    return make_const(p, v, line, out);
}

static slm_status parse_seq(slm_jparser *p, slm_jop close, bool pairs, slm_jnode_kind kind,
                            slm_jnode **out)
{
    slm_jnode *n = slm_jp_node(p, kind, slm_jp_cur(p)->line);
    if (!n)
        return slm_jp_nomem(p);
    next(p); /* the opening bracket */
    slm_jnodevec items = {0};
    slm_status st = SLM_OK;
    while (st == SLM_OK && !slm_jp_is_op(p, close)) {
        if (items.n && (st = slm_jp_expect_op(p, SLM_OP_COMMA)) != SLM_OK)
            break;
        if (slm_jp_is_op(p, close))
            break;
        slm_jnode *e = NULL, *v = NULL;
        st = slm_jp_expression(p, true, &e);
        if (st == SLM_OK && pairs) {
            st = slm_jp_expect_op(p, SLM_OP_COLON);
            if (st == SLM_OK)
                st = slm_jp_expression(p, true, &v);
        }
        if (st == SLM_OK && (!slm_jnodevec_push(&items, e, NULL) ||
                             (pairs && !slm_jnodevec_push(&items, v, NULL))))
            st = slm_jp_nomem(p);
    }
    if (st == SLM_OK)
        st = slm_jp_expect_op(p, close);
    if (st == SLM_OK && !slm_jnodevec_finish(p, &items, n, false))
        st = slm_jp_nomem(p);
    slm_jnodevec_free(&items);
    *out = n;
    return st;
}

static slm_status parse_name(slm_jparser *p, bool with_namespace, slm_jnode **out)
{
    const slm_jtoken *t = slm_jp_cur(p);
    next(p);
    if (t->len == 4 && (!memcmp(t->s, "true", 4) || !memcmp(t->s, "True", 4)))
        return make_const(p, slm_jv_bool(true), t->line, out);
    if (t->len == 5 && (!memcmp(t->s, "false", 5) || !memcmp(t->s, "False", 5)))
        return make_const(p, slm_jv_bool(false), t->line, out);
    if (t->len == 4 && (!memcmp(t->s, "none", 4) || !memcmp(t->s, "None", 4)))
        return make_const(p, slm_jv_none(), t->line, out);
    slm_jnode *n = slm_jp_node(p, SLM_N_NAME, t->line);
    if (!n || !(n->str = slm_jarena_strdup(p->arena, t->s, t->len)))
        return slm_jp_nomem(p);
    n->len = t->len;
    if (!slm_jp_name_value(p, n))
        return slm_jp_nomem(p);
    if (with_namespace && slm_jp_skip_op(p, SLM_OP_DOT)) {
        const slm_jtoken *attr = slm_jp_cur(p);
        SLM_TRY(slm_jp_expect_type(p, SLM_TK_NAME));
        n->kind = SLM_N_NSREF;
        if (!(n->str2 = slm_jarena_strdup(p->arena, attr->s, attr->len)))
            return slm_jp_nomem(p);
    }
    *out = n;
    return SLM_OK;
}

static slm_status parse_primary(slm_jparser *p, bool with_namespace, slm_jnode **out)
{
    const slm_jtoken *t = slm_jp_cur(p);
    switch (t->type) {
    case SLM_TK_NAME: return parse_name(p, with_namespace, out);
    case SLM_TK_STRING: return parse_strings(p, out);
    case SLM_TK_INT: next(p); return make_const(p, slm_jv_int(t->i), t->line, out);
    case SLM_TK_FLOAT: next(p); return make_const(p, slm_jv_float(t->f), t->line, out);
    default: break;
    }
    if (slm_jp_is_op(p, SLM_OP_LPAREN)) {
        next(p);
        SLM_TRY(slm_jp_tuple(p, false, true, NULL, true, false, out));
        return slm_jp_expect_op(p, SLM_OP_RPAREN);
    }
    if (slm_jp_is_op(p, SLM_OP_LBRACKET))
        return parse_seq(p, SLM_OP_RBRACKET, false, SLM_N_LIST, out);
    if (slm_jp_is_op(p, SLM_OP_LBRACE))
        return parse_seq(p, SLM_OP_RBRACE, true, SLM_N_DICT, out);
    char got[64];
    return slm_jp_fail(p, SLM_ERR_FORMAT, "unexpected '%s'", slm_jp_describe(p, got, sizeof got));
}

/* -------------------------------------------------------- postfix */

static slm_status parse_call_args(slm_jparser *p, slm_jnode *n)
{
    SLM_TRY(slm_jp_expect_op(p, SLM_OP_LPAREN));
    slm_jnodevec args = {0};
    slm_status st = SLM_OK;
    bool seen_kw = false;
    while (st == SLM_OK && !slm_jp_is_op(p, SLM_OP_RPAREN)) {
        if (args.n && ((st = slm_jp_expect_op(p, SLM_OP_COMMA)) != SLM_OK ||
                       slm_jp_is_op(p, SLM_OP_RPAREN)))
            break; /* a trailing comma is allowed */
        if (slm_jp_is_op(p, SLM_OP_MUL) || slm_jp_is_op(p, SLM_OP_POW)) {
            st = slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "*args / **kwargs in calls are not supported");
            break;
        }
        const char *kw = NULL;
        const slm_jtoken *t = slm_jp_cur(p);
        if (t->type == SLM_TK_NAME && slm_jp_peek(p, 1)->type == SLM_TK_OP &&
            slm_jp_peek(p, 1)->op == SLM_OP_ASSIGN) {
            if (!(kw = slm_jarena_strdup(p->arena, t->s, t->len))) {
                st = slm_jp_nomem(p);
                break;
            }
            next(p);
            next(p);
            seen_kw = true;
        } else if (seen_kw) {
            st = slm_jp_fail(p, SLM_ERR_FORMAT, "invalid syntax for function call expression");
            break;
        }
        slm_jnode *e = NULL;
        st = slm_jp_expression(p, true, &e);
        if (st == SLM_OK && args.n == SLM_JINJA_MAX_ARGS)
            st = slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "more than %d arguments", SLM_JINJA_MAX_ARGS);
        if (st == SLM_OK && !slm_jnodevec_push(&args, e, kw))
            st = slm_jp_nomem(p);
    }
    if (st == SLM_OK)
        st = slm_jp_expect_op(p, SLM_OP_RPAREN);
    if (st == SLM_OK && !slm_jnodevec_finish(p, &args, n, true))
        st = slm_jp_nomem(p);
    slm_jnodevec_free(&args);
    return st;
}

static slm_status parse_call(slm_jparser *p, slm_jnode *callee, slm_jnode **out)
{
    slm_jnode *n = slm_jp_node(p, SLM_N_CALL, slm_jp_cur(p)->line);
    if (!n)
        return slm_jp_nomem(p);
    n->a = callee;
    *out = n;
    return parse_call_args(p, n);
}

/* One side of a subscript: an expression or a slice [start:stop:step]. */
static slm_status parse_subscribed(slm_jparser *p, slm_jnode **out)
{
    int line = slm_jp_cur(p)->line;
    slm_jnode *part[3] = {NULL, NULL, NULL};
    if (!slm_jp_skip_op(p, SLM_OP_COLON)) {
        SLM_TRY(slm_jp_expression(p, true, &part[0]));
        if (!slm_jp_skip_op(p, SLM_OP_COLON)) {
            *out = part[0];
            return SLM_OK;
        }
    }
    bool at_end = slm_jp_is_op(p, SLM_OP_RBRACKET) || slm_jp_is_op(p, SLM_OP_COMMA);
    if (!slm_jp_is_op(p, SLM_OP_COLON) && !at_end)
        SLM_TRY(slm_jp_expression(p, true, &part[1]));
    if (slm_jp_skip_op(p, SLM_OP_COLON) && !slm_jp_is_op(p, SLM_OP_RBRACKET) &&
        !slm_jp_is_op(p, SLM_OP_COMMA))
        SLM_TRY(slm_jp_expression(p, true, &part[2]));
    slm_jnode *n = slm_jp_node(p, SLM_N_SLICE, line);
    if (!n)
        return slm_jp_nomem(p);
    n->a = part[0];
    n->b = part[1];
    n->c = part[2];
    *out = n;
    return SLM_OK;
}

static slm_status parse_brackets(slm_jparser *p, slm_jnode *n)
{
    next(p); /* [ */
    slm_jnodevec args = {0};
    slm_status st = SLM_OK;
    while (st == SLM_OK && !slm_jp_is_op(p, SLM_OP_RBRACKET)) {
        if (args.n && (st = slm_jp_expect_op(p, SLM_OP_COMMA)) != SLM_OK)
            break;
        slm_jnode *e = NULL;
        st = parse_subscribed(p, &e);
        if (st == SLM_OK && !slm_jnodevec_push(&args, e, NULL))
            st = slm_jp_nomem(p);
    }
    if (st == SLM_OK)
        st = slm_jp_expect_op(p, SLM_OP_RBRACKET);
    if (st == SLM_OK && args.n == 0)
        st = slm_jp_fail(p, SLM_ERR_FORMAT, "expected an expression in []");
    if (st == SLM_OK && args.n == 1) {
        n->b = args.v[0];
    } else if (st == SLM_OK) {
        slm_jnode *t = slm_jp_node(p, SLM_N_TUPLE, n->line);
        if (!t || !slm_jnodevec_finish(p, &args, t, false))
            st = slm_jp_nomem(p);
        n->b = t;
    }
    slm_jnodevec_free(&args);
    return st;
}

static slm_status parse_subscript(slm_jparser *p, slm_jnode *obj, slm_jnode **out)
{
    int line = slm_jp_cur(p)->line;
    slm_jnode *n = slm_jp_node(p, SLM_N_GETITEM, line);
    if (!n)
        return slm_jp_nomem(p);
    n->a = obj;
    *out = n;
    if (slm_jp_is_op(p, SLM_OP_LBRACKET))
        return parse_brackets(p, n);
    next(p); /* . */
    const slm_jtoken *t = slm_jp_cur(p);
    if (t->type == SLM_TK_NAME) {
        next(p);
        n->kind = SLM_N_GETATTR;
        n->len = t->len;
        return (n->str = slm_jarena_strdup(p->arena, t->s, t->len)) ? SLM_OK : slm_jp_nomem(p);
    }
    if (t->type != SLM_TK_INT)
        return slm_jp_fail(p, SLM_ERR_FORMAT, "expected name or number");
    next(p);
    return make_const(p, slm_jv_int(t->i), t->line, &n->b);
}

static slm_status parse_postfix(slm_jparser *p, slm_jnode **node)
{
    for (;;) {
        if (slm_jp_is_op(p, SLM_OP_DOT) || slm_jp_is_op(p, SLM_OP_LBRACKET))
            SLM_TRY(parse_subscript(p, *node, node));
        else if (slm_jp_is_op(p, SLM_OP_LPAREN))
            SLM_TRY(parse_call(p, *node, node));
        else
            return SLM_OK;
    }
}

/* A filter or test name, possibly dotted as jinja allows. */
static slm_status dotted_name(slm_jparser *p, const char **name, size_t *len)
{
    slm_jbuf b = {0};
    do {
        const slm_jtoken *t = slm_jp_cur(p);
        if (t->type != SLM_TK_NAME) {
            slm_jbuf_free(&b);
            return slm_jp_expect_type(p, SLM_TK_NAME);
        }
        if (b.n)
            slm_jbuf_putc(&b, '.');
        slm_jbuf_put(&b, t->s, t->len);
        next(p);
    } while (slm_jp_skip_op(p, SLM_OP_DOT));
    *len = b.n;
    *name = b.failed ? NULL : slm_jarena_strdup(p->arena, b.p, b.n);
    slm_jbuf_free(&b);
    return *name ? SLM_OK : slm_jp_nomem(p);
}

slm_status slm_jp_filters(slm_jparser *p, slm_jnode *input, bool start_inline, slm_jnode **out)
{
    *out = input;
    while (start_inline || slm_jp_is_op(p, SLM_OP_PIPE)) {
        if (!start_inline)
            next(p);
        start_inline = false;
        slm_jnode *n = slm_jp_node(p, SLM_N_FILTER, slm_jp_cur(p)->line);
        if (!n)
            return slm_jp_nomem(p);
        SLM_TRY(dotted_name(p, &n->str, &n->len));
        bool supported;
        n->id = slm_jinja_filter_id(n->str, n->len, &supported);
        if (n->id < 0)
            return slm_jp_fail(p, SLM_ERR_FORMAT, "no filter named '%s'", n->str);
        if (!supported)
            return slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "filter '%s' is not supported", n->str);
        n->a = *out;
        if (slm_jp_is_op(p, SLM_OP_LPAREN))
            SLM_TRY(parse_call_args(p, n));
        *out = n;
    }
    return SLM_OK;
}

static bool test_arg_start(const slm_jparser *p)
{
    const slm_jtoken *t = slm_jp_cur(p);
    if (t->type == SLM_TK_NAME)
        return !slm_jp_is_name(p, "else") && !slm_jp_is_name(p, "or") && !slm_jp_is_name(p, "and");
    return t->type == SLM_TK_STRING || t->type == SLM_TK_INT || t->type == SLM_TK_FLOAT ||
           slm_jp_is_op(p, SLM_OP_LPAREN) || slm_jp_is_op(p, SLM_OP_LBRACKET) ||
           slm_jp_is_op(p, SLM_OP_LBRACE);
}

static slm_status parse_test(slm_jparser *p, slm_jnode *input, slm_jnode **out)
{
    int line = slm_jp_cur(p)->line;
    next(p); /* is */
    bool negated = slm_jp_skip_name(p, "not");
    slm_jnode *n = slm_jp_node(p, SLM_N_TEST, line);
    if (!n)
        return slm_jp_nomem(p);
    n->a = input;
    SLM_TRY(dotted_name(p, &n->str, &n->len));
    bool supported;
    n->id = slm_jinja_test_id(n->str, n->len, &supported);
    if (n->id < 0)
        return slm_jp_fail(p, SLM_ERR_FORMAT, "no test named '%s'", n->str);
    if (!supported)
        return slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "test '%s' is not supported", n->str);
    if (slm_jp_is_op(p, SLM_OP_LPAREN)) {
        SLM_TRY(parse_call_args(p, n));
    } else if (test_arg_start(p)) { /* `x is divisibleby 3`: one bare argument */
        if (slm_jp_is_name(p, "is"))
            return slm_jp_fail(p, SLM_ERR_FORMAT, "You cannot chain multiple tests with is");
        slm_jnode *arg;
        SLM_TRY(parse_primary(p, false, &arg));
        SLM_TRY(parse_postfix(p, &arg));
        slm_jnodevec args = {0};
        if (!slm_jnodevec_push(&args, arg, NULL) || !slm_jnodevec_finish(p, &args, n, true)) {
            slm_jnodevec_free(&args);
            return slm_jp_nomem(p);
        }
    }
    *out = n;
    if (negated) {
        slm_jnode *neg = slm_jp_node(p, SLM_N_NOT, line);
        if (!neg)
            return slm_jp_nomem(p);
        neg->a = n;
        *out = neg;
    }
    return SLM_OK;
}

static slm_status parse_filter_expr(slm_jparser *p, slm_jnode **node)
{
    for (;;) {
        if (slm_jp_is_op(p, SLM_OP_PIPE))
            SLM_TRY(slm_jp_filters(p, *node, false, node));
        else if (slm_jp_is_name(p, "is"))
            SLM_TRY(parse_test(p, *node, node));
        else if (slm_jp_is_op(p, SLM_OP_LPAREN))
            SLM_TRY(parse_call(p, *node, node));
        else
            return SLM_OK;
    }
}

/* ------------------------------------------------------- operators */

static slm_status parse_unary(slm_jparser *p, bool with_filter, slm_jnode **out);

static slm_status unary_inner(slm_jparser *p, bool with_filter, slm_jnode **out)
{
    int line = slm_jp_cur(p)->line;
    if (slm_jp_is_op(p, SLM_OP_SUB) || slm_jp_is_op(p, SLM_OP_ADD)) {
        slm_jnode *n = slm_jp_node(p, slm_jp_is_op(p, SLM_OP_SUB) ? SLM_N_NEG : SLM_N_POS, line);
        if (!n)
            return slm_jp_nomem(p);
        next(p);
        SLM_TRY(parse_unary(p, false, &n->a));
        *out = n;
    } else {
        SLM_TRY(parse_primary(p, false, out));
    }
    SLM_TRY(parse_postfix(p, out));
    return with_filter ? parse_filter_expr(p, out) : SLM_OK;
}

static slm_status parse_unary(slm_jparser *p, bool with_filter, slm_jnode **out)
{
    SLM_TRY(slm_jp_enter(p));
    slm_status st = unary_inner(p, with_filter, out);
    p->depth--;
    return st;
}

typedef slm_status (*operand_fn)(slm_jparser *p, slm_jnode **out);

/* The current token as one of ops[] (terminated by -1), or -1. */
static int match_ops(const slm_jparser *p, const int *ops)
{
    for (; *ops >= 0; ops++)
        if (slm_jp_is_op(p, (slm_jop)*ops))
            return *ops;
    return -1;
}

/* A left-associative chain `operand (op operand)*` of BIN nodes. */
static slm_status binary_chain(slm_jparser *p, const int *ops, operand_fn operand, slm_jnode **out)
{
    SLM_TRY(operand(p, out));
    int op;
    while ((op = match_ops(p, ops)) >= 0) {
        slm_jnode *n = slm_jp_node(p, SLM_N_BIN, slm_jp_cur(p)->line);
        if (!n)
            return slm_jp_nomem(p);
        next(p);
        n->op = (uint8_t)op;
        n->a = *out;
        SLM_TRY(operand(p, &n->b));
        *out = n;
    }
    return SLM_OK;
}

static slm_status parse_pow_operand(slm_jparser *p, slm_jnode **out)
{
    return parse_unary(p, true, out);
}

static slm_status parse_pow(slm_jparser *p, slm_jnode **out)
{
    static const int ops[] = {SLM_OP_POW, -1};
    return binary_chain(p, ops, parse_pow_operand, out);
}

static slm_status parse_math2(slm_jparser *p, slm_jnode **out)
{
    static const int ops[] = {SLM_OP_MUL, SLM_OP_DIV, SLM_OP_FLOORDIV, SLM_OP_MOD, -1};
    return binary_chain(p, ops, parse_pow, out);
}

static slm_status parse_concat(slm_jparser *p, slm_jnode **out)
{
    slm_jnode *first;
    SLM_TRY(parse_math2(p, &first));
    if (!slm_jp_is_op(p, SLM_OP_TILDE)) {
        *out = first;
        return SLM_OK;
    }
    slm_jnode *n = slm_jp_node(p, SLM_N_CONCAT, first->line);
    slm_jnodevec items = {0};
    if (!n || !slm_jnodevec_push(&items, first, NULL))
        return slm_jnodevec_free(&items), slm_jp_nomem(p);
    slm_status st = SLM_OK;
    while (st == SLM_OK && slm_jp_skip_op(p, SLM_OP_TILDE)) {
        slm_jnode *e = NULL;
        st = parse_math2(p, &e);
        if (st == SLM_OK && !slm_jnodevec_push(&items, e, NULL))
            st = slm_jp_nomem(p);
    }
    if (st == SLM_OK && !slm_jnodevec_finish(p, &items, n, false))
        st = slm_jp_nomem(p);
    slm_jnodevec_free(&items);
    *out = n;
    return st;
}

static slm_status parse_math1(slm_jparser *p, slm_jnode **out)
{
    static const int ops[] = {SLM_OP_ADD, SLM_OP_SUB, -1};
    return binary_chain(p, ops, parse_concat, out);
}

/* The next comparison operator (consuming it), or -1. */
static int compare_op(slm_jparser *p)
{
    static const int ops[] = {SLM_OP_EQ, SLM_OP_NE, SLM_OP_LT, SLM_OP_LTEQ, SLM_OP_GT,
                              SLM_OP_GTEQ, -1};
    int op = match_ops(p, ops);
    if (op >= 0) {
        next(p);
        return op;
    }
    if (slm_jp_skip_name(p, "in"))
        return SLM_OP_IN;
    const slm_jtoken *t = slm_jp_peek(p, 1);
    if (slm_jp_is_name(p, "not") && t->type == SLM_TK_NAME && t->len == 2 &&
        memcmp(t->s, "in", 2) == 0) {
        next(p);
        next(p);
        return SLM_OP_NOTIN;
    }
    return -1;
}

static slm_status parse_compare(slm_jparser *p, slm_jnode **out)
{
    slm_jnode *first;
    SLM_TRY(parse_math1(p, &first));
    *out = first;
    int line = slm_jp_cur(p)->line;
    int op = compare_op(p);
    if (op < 0)
        return SLM_OK;
    slm_jnode *n = slm_jp_node(p, SLM_N_COMPARE, line);
    uint8_t ops[SLM_JINJA_MAX_ARGS];
    slm_jnodevec operands = {0};
    slm_status st = n ? SLM_OK : slm_jp_nomem(p);
    for (; st == SLM_OK && op >= 0; op = compare_op(p)) {
        slm_jnode *e;
        if (operands.n == SLM_JINJA_MAX_ARGS)
            st = slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "comparison chain too long");
        else if ((st = parse_math1(p, &e)) == SLM_OK && !slm_jnodevec_push(&operands, e, NULL))
            st = slm_jp_nomem(p);
        if (st == SLM_OK)
            ops[operands.n - 1] = (uint8_t)op;
    }
    if (st == SLM_OK) {
        n->a = first;
        n->ops = slm_jarena_alloc(p->arena, operands.n);
        if (!n->ops || !slm_jnodevec_finish(p, &operands, n, false))
            st = slm_jp_nomem(p);
        else
            memcpy(n->ops, ops, n->n);
    }
    slm_jnodevec_free(&operands);
    *out = n;
    return st;
}

static slm_status parse_not(slm_jparser *p, slm_jnode **out)
{
    if (!slm_jp_is_name(p, "not"))
        return parse_compare(p, out);
    slm_jnode *n = slm_jp_node(p, SLM_N_NOT, slm_jp_cur(p)->line);
    if (!n)
        return slm_jp_nomem(p);
    next(p);
    SLM_TRY(slm_jp_enter(p));
    slm_status st = parse_not(p, &n->a);
    p->depth--;
    *out = n;
    return st;
}

static slm_status logic_chain(slm_jparser *p, const char *word, slm_jnode_kind kind,
                              operand_fn operand, slm_jnode **out)
{
    SLM_TRY(operand(p, out));
    while (slm_jp_is_name(p, word)) {
        slm_jnode *n = slm_jp_node(p, kind, slm_jp_cur(p)->line);
        if (!n)
            return slm_jp_nomem(p);
        next(p);
        n->a = *out;
        SLM_TRY(operand(p, &n->b));
        *out = n;
    }
    return SLM_OK;
}

static slm_status parse_and(slm_jparser *p, slm_jnode **out)
{
    return logic_chain(p, "and", SLM_N_AND, parse_not, out);
}

static slm_status parse_or(slm_jparser *p, slm_jnode **out)
{
    return logic_chain(p, "or", SLM_N_OR, parse_and, out);
}

/* `a if test else b`; without else the value is undefined when test fails. */
static slm_status parse_condexpr(slm_jparser *p, slm_jnode **out)
{
    SLM_TRY(parse_or(p, out));
    while (slm_jp_is_name(p, "if")) {
        slm_jnode *n = slm_jp_node(p, SLM_N_COND, slm_jp_cur(p)->line);
        if (!n)
            return slm_jp_nomem(p);
        next(p);
        n->b = *out;
        SLM_TRY(parse_or(p, &n->a));
        if (slm_jp_skip_name(p, "else")) {
            SLM_TRY(slm_jp_enter(p));
            slm_status st = parse_condexpr(p, &n->c);
            p->depth--;
            SLM_TRY(st);
        }
        *out = n;
    }
    return SLM_OK;
}

slm_status slm_jp_expression(slm_jparser *p, bool with_condexpr, slm_jnode **out)
{
    SLM_TRY(slm_jp_enter(p));
    slm_status st = with_condexpr ? parse_condexpr(p, out) : parse_or(p, out);
    p->depth--;
    return st;
}

static bool tuple_end(const slm_jparser *p, const char *const *end_names)
{
    slm_jtoken_type t = slm_jp_cur(p)->type;
    if (t == SLM_TK_VAR_END || t == SLM_TK_BLOCK_END || slm_jp_is_op(p, SLM_OP_RPAREN))
        return true;
    for (; end_names && *end_names; end_names++)
        if (slm_jp_is_name(p, *end_names))
            return true;
    return false;
}

slm_status slm_jp_tuple(slm_jparser *p, bool simplified, bool with_condexpr,
                        const char *const *end_names, bool explicit_parens, bool with_namespace,
                        slm_jnode **out)
{
    int line = slm_jp_cur(p)->line;
    slm_jnodevec items = {0};
    bool is_tuple = false;
    slm_status st = SLM_OK;
    for (;;) {
        if (items.n && (st = slm_jp_expect_op(p, SLM_OP_COMMA)) != SLM_OK)
            break;
        if (tuple_end(p, end_names))
            break;
        slm_jnode *e;
        st = simplified ? parse_primary(p, with_namespace, &e)
                        : slm_jp_expression(p, with_condexpr, &e);
        if (st == SLM_OK && !slm_jnodevec_push(&items, e, NULL))
            st = slm_jp_nomem(p);
        if (st != SLM_OK || !slm_jp_is_op(p, SLM_OP_COMMA))
            break;
        is_tuple = true;
    }
    if (st == SLM_OK && !is_tuple && items.n) {
        *out = items.v[0];
    } else if (st == SLM_OK && !is_tuple && !explicit_parens) {
        char got[64];
        st = slm_jp_fail(p, SLM_ERR_FORMAT, "Expected an expression, got '%s'",
                         slm_jp_describe(p, got, sizeof got));
    } else if (st == SLM_OK) {
        slm_jnode *n = slm_jp_node(p, SLM_N_TUPLE, line);
        if (!n || !slm_jnodevec_finish(p, &items, n, false))
            st = slm_jp_nomem(p);
        *out = n;
    }
    slm_jnodevec_free(&items);
    return st;
}
