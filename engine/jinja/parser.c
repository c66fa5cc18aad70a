/*
 * parser.c — token-stream helpers shared by the expression and statement
 * parsers: lookahead, expectations with jinja-style messages, the depth
 * guard, node allocation and growable node lists.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

/* ------------------------------------------------------ token helpers */

const slm_jtoken *slm_jp_cur(const slm_jparser *p) { return &p->t[p->pos]; }

const slm_jtoken *slm_jp_peek(const slm_jparser *p, size_t k)
{
    size_t i = p->pos + k;
    return &p->t[i < p->n ? i : p->n - 1];
}

void slm_jp_next(slm_jparser *p)
{
    if (p->pos + 1 < p->n) /* the last token is EOF and stays current */
        p->pos++;
}

bool slm_jp_is_op(const slm_jparser *p, slm_jop op)
{
    const slm_jtoken *t = slm_jp_cur(p);
    return t->type == SLM_TK_OP && t->op == op;
}

bool slm_jp_is_name(const slm_jparser *p, const char *name)
{
    const slm_jtoken *t = slm_jp_cur(p);
    return t->type == SLM_TK_NAME && t->len == strlen(name) && memcmp(t->s, name, t->len) == 0;
}

bool slm_jp_skip_op(slm_jparser *p, slm_jop op)
{
    if (!slm_jp_is_op(p, op))
        return false;
    slm_jp_next(p);
    return true;
}

bool slm_jp_skip_name(slm_jparser *p, const char *name)
{
    if (!slm_jp_is_name(p, name))
        return false;
    slm_jp_next(p);
    return true;
}

static const char *const OP_TEXT[] = {
    "+", "-", "/", "//", "*", "%", "**", "~", "[", "]", "(", ")", "{", "}", "==", "!=", ">",
    ">=", "<", "<=", "=", ".", ":", "|", ",", ";", "in", "not in",
};

const char *slm_jp_describe(const slm_jparser *p, char *buf, size_t cap)
{
    const slm_jtoken *t = slm_jp_cur(p);
    switch (t->type) {
    case SLM_TK_NAME: snprintf(buf, cap, "%.*s", (int)(t->len > 40 ? 40 : t->len), t->s); break;
    case SLM_TK_OP: snprintf(buf, cap, "%s", OP_TEXT[t->op]); break;
    case SLM_TK_STRING: snprintf(buf, cap, "string"); break;
    case SLM_TK_INT: snprintf(buf, cap, "integer"); break;
    case SLM_TK_FLOAT: snprintf(buf, cap, "float"); break;
    case SLM_TK_DATA: snprintf(buf, cap, "template data / text"); break;
    case SLM_TK_BLOCK_BEGIN: snprintf(buf, cap, "begin of statement block"); break;
    case SLM_TK_BLOCK_END: snprintf(buf, cap, "end of statement block"); break;
    case SLM_TK_VAR_BEGIN: snprintf(buf, cap, "begin of print statement"); break;
    case SLM_TK_VAR_END: snprintf(buf, cap, "end of print statement"); break;
    default: snprintf(buf, cap, "end of template"); break;
    }
    return buf;
}

slm_status slm_jp_fail(slm_jparser *p, slm_status st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const slm_jtoken *t = slm_jp_cur(p);
    return slm_fail(p->err, st, "%s: line %d column %d: %s", p->what, t->line, t->col, msg);
}

slm_status slm_jp_expect_op(slm_jparser *p, slm_jop op)
{
    if (slm_jp_skip_op(p, op))
        return SLM_OK;
    char got[64];
    return slm_jp_fail(p, SLM_ERR_FORMAT, "expected '%s', got '%s'", OP_TEXT[op],
                       slm_jp_describe(p, got, sizeof got));
}

slm_status slm_jp_expect_type(slm_jparser *p, slm_jtoken_type type)
{
    if (slm_jp_cur(p)->type == type) {
        slm_jp_next(p);
        return SLM_OK;
    }
    static const char *const want[] = {
        "template data", "begin of statement block", "end of statement block",
        "begin of print statement", "end of print statement", "name", "string",
        "integer", "float", "operator", "end of template",
    };
    char got[64];
    return slm_jp_fail(p, SLM_ERR_FORMAT, "expected %s, got '%s'", want[type],
                       slm_jp_describe(p, got, sizeof got));
}

slm_status slm_jp_enter(slm_jparser *p)
{
    if (++p->depth > SLM_JINJA_MAX_DEPTH) {
        p->depth--;
        return slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "template nested too deeply (limit %d)",
                           SLM_JINJA_MAX_DEPTH);
    }
    return SLM_OK;
}

slm_status slm_jp_nomem(slm_jparser *p) { return slm_fail_nomem(p->err, "template syntax tree"); }

slm_jnode *slm_jp_node(slm_jparser *p, slm_jnode_kind kind, int line)
{
    slm_jnode *n = slm_jarena_alloc(p->arena, sizeof *n);
    if (n) {
        n->kind = (uint8_t)kind;
        n->line = line;
    }
    return n;
}

bool slm_jnodevec_push(slm_jnodevec *v, slm_jnode *node, const char *kw)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        slm_jnode **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return false;
        v->v = nv;
        const char **nk = realloc(v->kw, cap * sizeof *nk);
        if (!nk)
            return false;
        v->kw = nk;
        v->cap = cap;
    }
    v->v[v->n] = node;
    v->kw[v->n] = kw;
    v->n++;
    return true;
}

bool slm_jnodevec_finish(slm_jparser *p, slm_jnodevec *v, slm_jnode *node, bool with_kw)
{
    node->n = v->n;
    if (v->n) {
        node->items = slm_jarena_alloc(p->arena, v->n * sizeof *node->items);
        if (!node->items)
            return false;
        memcpy(node->items, v->v, v->n * sizeof *node->items);
        if (with_kw) {
            node->kw = slm_jarena_alloc(p->arena, v->n * sizeof *node->kw);
            if (!node->kw)
                return false;
            memcpy(node->kw, v->kw, v->n * sizeof *node->kw);
        }
    }
    slm_jnodevec_free(v);
    return true;
}

void slm_jnodevec_free(slm_jnodevec *v)
{
    free(v->v);
    free(v->kw);
    *v = (slm_jnodevec){0};
}


bool slm_jp_name_value(slm_jparser *p, slm_jnode *n)
{
    slm_jv v;
    if (!slm_jv_str_new(n->str, n->len, &v))
        return false;
    if (!slm_jv_list_push(p->consts, v))
        return false;
    slm_jv_make_immortal(v); /* shared read-only by every render */
    n->val = v; /* owned by the consts list */
    return true;
}
