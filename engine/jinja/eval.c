/*
 * eval.c — rendering: statements, variable scopes, assignment, for loops,
 * macros and the render entry point.
 *
 * Scoping follows jinja2: each for-loop iteration, macro call and with
 * block gets a fresh scope whose assignments vanish when it ends (which is
 * why templates use namespace() to carry state out of loops), while if
 * blocks assign into the enclosing scope. A macro keeps a pointer to the
 * scope it was defined in; such scopes are "pinned" and freed only when the
 * render finishes, so a macro can never see a freed scope.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

/* ---------------------------------------------------------------- errors */

slm_jrunning slm_jx_op(slm_jctx *c, const char *kind, const char *name)
{
    slm_jrunning prev = {c->op_kind, c->op};
    c->op_kind = kind;
    c->op = name;
    return prev;
}

void slm_jx_op_restore(slm_jctx *c, slm_jrunning prev)
{
    c->op_kind = prev.kind;
    c->op = prev.name;
}

slm_status slm_jx_work_error(slm_jctx *c)
{
    return slm_fail(c->err, SLM_ERR_RANGE,
                    "%s: line %d: %s%s%s%s: the template does more work than one render may "
                    "(SLM_JINJA_MAX_WORK, %llu units: bytes built or scanned, items stored or compared)",
                    c->tpl->what, c->line, c->op ? c->op_kind : "rendering", c->op ? " '" : "",
                    c->op ? c->op : "", c->op ? "'" : "", (unsigned long long)c->work.limit);
}

slm_status slm_jx_work(slm_jctx *c, uint64_t units, const char *what)
{
    if (slm_jwork_charge(units))
        return SLM_OK;
    slm_jrunning prev = slm_jx_op(c, c->op_kind ? c->op_kind : "operation", what);
    slm_status st = slm_jx_work_error(c);
    slm_jx_op_restore(c, prev);
    return st;
}

slm_status slm_jx_fail(slm_jctx *c, slm_status st, const char *fmt, ...)
{
    if (c->work.exceeded)
        return slm_jx_work_error(c);
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return slm_fail(c->err, st, "%s: line %d: %s", c->tpl->what, c->line, msg);
}

slm_status slm_jx_nomem(slm_jctx *c)
{
    /* the value layer fails allocations once the budget is spent */
    if (c->work.exceeded)
        return slm_jx_work_error(c);
    return slm_fail_nomem(c->err, "template value");
}

slm_status slm_jx_undefined(slm_jctx *c, slm_jv u)
{
    return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "%s",
                       u.kind == SLM_JV_UNDEF && u.u.s ? u.u.s->s : "value is undefined");
}

slm_status slm_jx_enter(slm_jctx *c)
{
    if (c->work.exceeded)
        return slm_jx_work_error(c);
    if (c->depth >= SLM_JINJA_MAX_DEPTH)
        return slm_jx_fail(c, SLM_ERR_RANGE, "template recursion deeper than %d",
                           SLM_JINJA_MAX_DEPTH);
    c->depth++;
    return SLM_OK;
}

slm_status slm_jx_step(slm_jctx *c)
{
    if (++c->steps > SLM_JINJA_MAX_STEPS)
        return slm_jx_fail(c, SLM_ERR_RANGE, "more than %u loop iterations and macro calls",
                           SLM_JINJA_MAX_STEPS);
    return SLM_OK;
}

/* ---------------------------------------------------------------- scopes */

slm_jscope *slm_jx_scope_push(slm_jctx *c, slm_jscope *parent)
{
    slm_jscope *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (!slm_jv_dict_new(&s->vars)) {
        free(s);
        return NULL;
    }
    s->parent = parent;
    return s;
}

void slm_jx_scope_pop(slm_jctx *c, slm_jscope *s)
{
    if (!s || s->pinned)
        return;
    slm_jv_release(s->vars);
    free(s);
}

static void pin(slm_jctx *c, slm_jscope *s)
{
    for (; s && !s->pinned; s = s->parent) {
        s->pinned = true;
        s->next_pinned = c->pinned;
        c->pinned = s;
    }
}

slm_jv *slm_jx_lookup(slm_jscope *s, const char *name, size_t len)
{
    for (; s; s = s->parent) {
        slm_jv *v = slm_jv_dict_get_str(s->vars.u.d, name, len);
        if (v)
            return v;
    }
    return NULL;
}

/* ------------------------------------------------------------ assignment */

static slm_status assign(slm_jctx *c, slm_jscope *s, const slm_jnode *t, slm_jv v);

static slm_status assign_ns(slm_jctx *c, slm_jscope *s, const slm_jnode *t, slm_jv v)
{
    slm_jv *ns = slm_jx_lookup(s, t->str, t->len);
    if (!ns || ns->kind != SLM_JV_NS)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "cannot assign attribute on non-namespace object");
    if (t->str2[0] == '_') /* transformers' TemplateNamespace refuses these */
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG,
                           "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '%s'",
                           t->str2);
    if (slm_jv_depth(v) > SLM_JINJA_MAX_NEST)
        return slm_jx_fail(c, SLM_ERR_RANGE, "value nested deeper than %d levels",
                           SLM_JINJA_MAX_NEST);
    return slm_jv_dict_set_str(ns->u.d, t->str2, slm_jv_retain(v)) ? SLM_OK : slm_jx_nomem(c);
}

static slm_status assign_tuple(slm_jctx *c, slm_jscope *s, const slm_jnode *t, slm_jv v)
{
    slm_jv items;
    SLM_TRY(slm_jx_iterate(c, v, &items));
    slm_status st = SLM_OK;
    if (items.u.l->n < t->n)
        st = slm_jx_fail(c, SLM_ERR_INVALID_ARG, "not enough values to unpack (expected %zu, got %zu)",
                         t->n, items.u.l->n);
    else if (items.u.l->n > t->n)
        st = slm_jx_fail(c, SLM_ERR_INVALID_ARG, "too many values to unpack (expected %zu)", t->n);
    for (size_t i = 0; st == SLM_OK && i < t->n; i++)
        st = assign(c, s, t->items[i], items.u.l->v[i]);
    slm_jv_release(items);
    return st;
}

static slm_status assign(slm_jctx *c, slm_jscope *s, const slm_jnode *t, slm_jv v)
{
    /* every stored value, not just namespace attributes: `{% set a = [a] %}`
     * repeated would otherwise nest without bound (and free, compare and
     * print recursively) */
    if (slm_jv_depth(v) > SLM_JINJA_MAX_NEST)
        return slm_jx_fail(c, SLM_ERR_RANGE, "value nested deeper than %d levels",
                           SLM_JINJA_MAX_NEST);
    switch (t->kind) {
    case SLM_N_NAME:
        return slm_jv_dict_set(s->vars.u.d, slm_jv_retain(t->val), slm_jv_retain(v))
                   ? SLM_OK : slm_jx_nomem(c);
    case SLM_N_NSREF: return assign_ns(c, s, t, v);
    default: return assign_tuple(c, s, t, v);
    }
}

/* ------------------------------------------------------------ statements */

static slm_status put_out(slm_jctx *c, slm_jbuf *out)
{
    if (out->failed && c->work.exceeded)
        return slm_jx_work_error(c);
    if (out->failed)
        return slm_jx_fail(c, SLM_ERR_RANGE, "output larger than %u bytes (or out of memory)",
                           SLM_JINJA_MAX_STRING);
    return SLM_OK;
}

static slm_status exec_print(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out)
{
    slm_jv v;
    SLM_TRY(slm_jx_eval(c, s, n->a, &v));
    slm_jv_to_str(out, v);
    slm_jv_release(v);
    return put_out(c, out);
}

static slm_status exec_if(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out)
{
    while (n) {
        slm_jv test;
        c->line = n->line;
        SLM_TRY(slm_jx_eval(c, s, n->a, &test));
        bool yes = slm_jv_truthy(test);
        slm_jv_release(test);
        if (yes)
            return slm_jx_exec(c, s, n->b, out);
        if (n->c && n->c->kind != SLM_N_IF)
            return slm_jx_exec(c, s, n->c, out);
        n = n->c;
    }
    return SLM_OK;
}

/* The items a for loop visits: iter(b), minus those its `if` rejects. */
static slm_status loop_items(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out)
{
    slm_jv seq, all;
    SLM_TRY(slm_jx_eval(c, s, n->b, &seq));
    slm_status st = slm_jx_iterate(c, seq, &all);
    slm_jv_release(seq);
    if (st != SLM_OK || !n->c) {
        *out = all;
        return st;
    }
    if (!slm_jv_list_new(all.u.l->n, SLM_JSEQ_LIST, out)) {
        slm_jv_release(all);
        return slm_jx_nomem(c);
    }
    for (size_t i = 0; st == SLM_OK && i < all.u.l->n; i++) {
        slm_jscope *scope = slm_jx_scope_push(c, s);
        slm_jv keep = slm_jv_none();
        st = scope ? assign(c, scope, n->a, all.u.l->v[i]) : slm_jx_nomem(c);
        if (st == SLM_OK)
            st = slm_jx_eval(c, scope, n->c, &keep);
        if (st == SLM_OK && slm_jv_truthy(keep) &&
            !slm_jv_list_push(out->u.l, slm_jv_retain(all.u.l->v[i])))
            st = slm_jx_nomem(c);
        slm_jv_release(keep);
        slm_jx_scope_pop(c, scope);
    }
    slm_jv_release(all);
    if (st != SLM_OK)
        slm_jv_release(*out);
    return st;
}

/* One iteration in `*scope`, which is reused between iterations (cleared)
 * unless a macro defined in the body pinned it. */
static slm_status loop_iteration(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv loop,
                                 slm_jscope **scope, slm_jbuf *out)
{
    SLM_TRY(slm_jx_step(c));
    if (*scope && (*scope)->pinned)
        *scope = NULL;
    if (!*scope && !(*scope = slm_jx_scope_push(c, s)))
        return slm_jx_nomem(c);
    slm_jv_dict_clear((*scope)->vars.u.d);
    slm_status st = slm_jv_dict_set((*scope)->vars.u.d, slm_jv_retain(c->loop_key), slm_jv_retain(loop))
                        ? SLM_OK : slm_jx_nomem(c);
    if (st == SLM_OK)
        st = assign(c, *scope, n->a, loop.u.loop->items->v[loop.u.loop->i]);
    if (st == SLM_OK)
        st = slm_jx_exec(c, *scope, n->d, out);
    return st;
}

/* jinja's for/else: the else body runs unless some iteration ran its body
 * to the end (so a loop left by break or continue in every iteration, or
 * with no items, runs it), exactly as jinja's compiled iteration flag. */
static slm_status exec_for(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out)
{
    slm_jv items;
    SLM_TRY(loop_items(c, s, n, &items));
    slm_jv_loop *lp = calloc(1, sizeof *lp);
    if (!lp) {
        slm_jv_release(items);
        return slm_jx_nomem(c);
    }
    lp->rc = 1;
    lp->items = items.u.l; /* the loop object owns the list reference */
    slm_jv loop = {.kind = SLM_JV_LOOP, .u.loop = lp};
    slm_jscope *scope = NULL;
    slm_status st = SLM_OK;
    bool completed = false;
    for (size_t i = 0; st == SLM_OK && i < lp->items->n; i++) {
        lp->i = i;
        st = loop_iteration(c, s, n, loop, &scope, out);
        slm_jflow flow = c->flow;
        c->flow = SLM_FLOW_NONE;
        completed |= flow == SLM_FLOW_NONE;
        if (flow == SLM_FLOW_BREAK)
            break;
    }
    slm_jx_scope_pop(c, scope);
    slm_jv_release(loop);
    if (st == SLM_OK && !completed && n->e)
        st = slm_jx_exec(c, s, n->e, out);
    return st;
}

static slm_status exec_macro_def(slm_jctx *c, slm_jscope *s, const slm_jnode *n)
{
    slm_jv_macro *m = calloc(1, sizeof *m);
    if (!m)
        return slm_jx_nomem(c);
    m->rc = 1;
    m->node = n;
    m->scope = s;
    pin(c, s);
    slm_jv v = {.kind = SLM_JV_MACRO, .u.m = m};
    return slm_jv_dict_set_str(s->vars.u.d, n->str, v) ? SLM_OK : slm_jx_nomem(c);
}

/* Renders a body into a new string value. */
static slm_status capture(slm_jctx *c, slm_jscope *s, const slm_jnode *body, slm_jv *out)
{
    slm_jbuf b = {0};
    slm_status st = slm_jx_exec(c, s, body, &b);
    if (st != SLM_OK) {
        slm_jbuf_free(&b);
        return st;
    }
    return slm_jx_buf_done(c, &b, out);
}

static slm_status apply_filter_chain(slm_jctx *c, slm_jscope *s, const slm_jnode *f, slm_jv in,
                                     slm_jv *out)
{
    if (!f) {
        *out = slm_jv_retain(in);
        return SLM_OK;
    }
    slm_jv inner;
    SLM_TRY(apply_filter_chain(c, s, f->a, in, &inner));
    slm_jargs a;
    slm_status st = slm_jx_eval_args(c, s, f, &a);
    if (st == SLM_OK) {
        c->line = f->line;
        st = slm_jx_filter(c, f->id, inner, &a, out);
        slm_jargs_release(&a);
    }
    slm_jv_release(inner);
    return st;
}

static slm_status exec_setblock(slm_jctx *c, slm_jscope *s, const slm_jnode *n)
{
    slm_jv text, v;
    SLM_TRY(capture(c, s, n->b, &text));
    slm_status st = apply_filter_chain(c, s, n->c, text, &v);
    slm_jv_release(text);
    if (st == SLM_OK) {
        st = assign(c, s, n->a, v);
        slm_jv_release(v);
    }
    return st;
}

static slm_status exec_filterblock(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out)
{
    slm_jv text, v;
    SLM_TRY(capture(c, s, n->b, &text));
    slm_status st = apply_filter_chain(c, s, n->a, text, &v);
    slm_jv_release(text);
    if (st == SLM_OK) {
        slm_jv_to_str(out, v);
        slm_jv_release(v);
        st = put_out(c, out);
    }
    return st;
}

static slm_status exec_with(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out)
{
    slm_jscope *scope = slm_jx_scope_push(c, s);
    if (!scope)
        return slm_jx_nomem(c);
    slm_status st = SLM_OK;
    for (size_t i = 0; st == SLM_OK && i < n->n; i++) {
        slm_jv v;
        st = slm_jx_eval(c, s, n->items2[i], &v);
        if (st == SLM_OK) {
            st = assign(c, scope, n->items[i], v);
            slm_jv_release(v);
        }
    }
    if (st == SLM_OK)
        st = slm_jx_exec(c, scope, n->a, out);
    slm_jx_scope_pop(c, scope);
    return st;
}

static slm_status exec_set(slm_jctx *c, slm_jscope *s, const slm_jnode *n)
{
    slm_jv v;
    SLM_TRY(slm_jx_eval(c, s, n->b, &v));
    c->line = n->line;
    slm_status st = assign(c, s, n->a, v);
    slm_jv_release(v);
    return st;
}

static slm_status exec_body(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out)
{
    for (size_t i = 0; i < n->n && c->flow == SLM_FLOW_NONE; i++)
        SLM_TRY(slm_jx_exec(c, s, n->items[i], out));
    return SLM_OK;
}

static slm_status exec_inner(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out)
{
    c->line = n->line;
    switch (n->kind) {
    case SLM_N_BODY: return exec_body(c, s, n, out);
    case SLM_N_TEXT: slm_jbuf_put(out, n->str, n->len); return put_out(c, out);
    case SLM_N_PRINT: return exec_print(c, s, n, out);
    case SLM_N_IF: return exec_if(c, s, n, out);
    case SLM_N_FOR: return exec_for(c, s, n, out);
    case SLM_N_SET: return exec_set(c, s, n);
    case SLM_N_SETBLOCK: return exec_setblock(c, s, n);
    case SLM_N_MACRO: return exec_macro_def(c, s, n);
    case SLM_N_BREAK: c->flow = SLM_FLOW_BREAK; return SLM_OK;
    case SLM_N_CONTINUE: c->flow = SLM_FLOW_CONTINUE; return SLM_OK;
    case SLM_N_FILTERBLOCK: return exec_filterblock(c, s, n, out);
    case SLM_N_WITH: return exec_with(c, s, n, out);
    default: return slm_jx_fail(c, SLM_ERR_UNSUPPORTED, "statement kind %d", n->kind);
    }
}

slm_status slm_jx_exec(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out)
{
    SLM_TRY(slm_jx_enter(c));
    slm_status st = exec_inner(c, s, n, out);
    c->depth--;
    return st;
}

/* ---------------------------------------------------------------- macros */

static slm_status bind_macro_args(slm_jctx *c, const slm_jnode *m, const slm_jargs *a,
                                  slm_jscope *scope)
{
    const slm_jv *slot[SLM_JINJA_MAX_ARGS] = {0};
    for (size_t i = 0; i < a->n; i++) {
        size_t k = 0;
        if (!a->kw[i]) {
            k = i;
            if (k >= m->n)
                return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "macro '%s' takes not more than %zu argument(s)",
                                   m->str, m->n);
        } else {
            while (k < m->n && strcmp(m->items[k]->str, a->kw[i]) != 0)
                k++;
            if (k == m->n)
                return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "macro '%s' takes no keyword argument '%s'",
                                   m->str, a->kw[i]);
        }
        if (slot[k])
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "macro '%s' got multiple values for argument '%s'",
                               m->str, m->items[k]->str);
        slot[k] = &a->v[i];
    }
    for (size_t k = 0; k < m->n; k++) {
        slm_jv v;
        size_t first_default = m->n - m->n2;
        if (slot[k])
            v = slm_jv_retain(*slot[k]);
        else if (k >= first_default)
            SLM_TRY(slm_jx_eval(c, scope, m->items2[k - first_default], &v));
        else if (!slm_jv_undef_msg(&v, "parameter '%s' was not provided", m->items[k]->str))
            return slm_jx_nomem(c);
        if (!slm_jv_dict_set(scope->vars.u.d, slm_jv_retain(m->items[k]->val), v))
            return slm_jx_nomem(c);
    }
    return SLM_OK;
}

slm_status slm_jx_call_macro(slm_jctx *c, const slm_jv_macro *m, const slm_jargs *a, slm_jv *out)
{
    SLM_TRY(slm_jx_step(c));
    slm_jscope *scope = slm_jx_scope_push(c, m->scope);
    if (!scope)
        return slm_jx_nomem(c);
    int line = c->line;
    slm_status st = bind_macro_args(c, m->node, a, scope);
    if (st == SLM_OK)
        st = capture(c, scope, m->node->a, out);
    c->flow = SLM_FLOW_NONE;
    c->line = line;
    slm_jx_scope_pop(c, scope);
    return st;
}

/* ---------------------------------------------------------------- render */

static slm_status make_root(slm_jctx *c, const slm_jv_dict *vars, slm_jscope **root)
{
    slm_jscope *s = slm_jx_scope_push(c, NULL);
    if (!s)
        return slm_jx_nomem(c);
    pin(c, s); /* freed with the other pinned scopes */
    *root = s;
    for (int fn = 0; fn < SLM_FN_COUNT; fn++) {
        slm_jv f = {.kind = SLM_JV_FUNC, .u.fn = fn};
        if (!slm_jv_dict_set_str(s->vars.u.d, slm_jx_global_name(fn), f))
            return slm_jx_nomem(c);
    }
    for (size_t i = 0; vars && i < vars->n; i++)
        if (!slm_jv_dict_set(s->vars.u.d, slm_jv_retain(vars->k[i]), slm_jv_retain(vars->v[i])))
            return slm_jx_nomem(c);
    return SLM_OK;
}

static void cleanup(slm_jctx *c)
{
    if (c->namespaces.kind == SLM_JV_LIST)
        for (size_t i = 0; i < c->namespaces.u.l->n; i++)
            slm_jv_dict_clear(c->namespaces.u.l->v[i].u.d);
    slm_jv_release(c->namespaces);
    for (slm_jscope *s = c->pinned; s; s = s->next_pinned)
        slm_jv_dict_clear(s->vars.u.d);
    while (c->pinned) {
        slm_jscope *next = c->pinned->next_pinned;
        slm_jv_release(c->pinned->vars);
        free(c->pinned);
        c->pinned = next;
    }
}

slm_status slm_jinja_render(const slm_jinja_template *t, const slm_jv_dict *vars, char **out,
                            size_t *len, slm_error *err)
{
    *out = NULL;
    slm_jctx c = {.tpl = t, .err = err, .line = 1, .work = {.limit = SLM_JINJA_MAX_WORK}};
    slm_jwork *outer = slm_jwork_current;
    slm_jwork_current = &c.work;
    slm_jscope *root = NULL;
    slm_jbuf b = {0};
    bool ok = slm_jv_list_new(0, SLM_JSEQ_LIST, &c.namespaces) && slm_jv_cstr("loop", &c.loop_key);
    slm_status st = ok ? SLM_OK : slm_jx_nomem(&c);
    if (st == SLM_OK)
        st = make_root(&c, vars, &root);
    if (st == SLM_OK)
        st = slm_jx_exec(&c, root, t->root, &b);
    if (st == SLM_OK && !b.p && !(b.p = calloc(1, 1)))
        st = slm_jx_nomem(&c);
    if (st == SLM_OK && c.work.exceeded) /* a result computed past the limit */
        st = slm_jx_work_error(&c);
    slm_jwork_current = NULL; /* freeing is not charged */
    cleanup(&c);
    slm_jv_release(c.loop_key);
    slm_jwork_current = outer;
    if (st != SLM_OK) {
        slm_jbuf_free(&b);
        return st;
    }
    *out = b.p;
    if (len)
        *len = b.n;
    return SLM_OK;
}
