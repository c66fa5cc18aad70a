/*
 * parse_stmt.c — Jinja statements and the parser entry point.
 *
 * Supported tags: if/elif/else, for (with else and an `if` filter), set
 * (plain, tuple, namespace attribute and block forms), macro, with, filter,
 * print, break/continue (the loopcontrols extension) and transformers'
 * generation/endgeneration. Tags jinja knows but slm does not run (include,
 * extends, block, import, call, ...) are SLM_ERR_UNSUPPORTED; anything else
 * is SLM_ERR_FORMAT like jinja's "Encountered unknown tag".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

static slm_status parse_body(slm_jparser *p, const char *const *ends, const char *tag,
                             int tag_line, slm_jnode **out);

static bool at_name_in(const slm_jparser *p, const char *const *names)
{
    for (; names && *names; names++)
        if (slm_jp_is_name(p, *names))
            return true;
    return false;
}

/* jinja's parse_statements: optional ":", "%}", then the body up to one of
 * `ends` (left current, so the caller sees which one). */
static slm_status parse_statements(slm_jparser *p, const char *const *ends, const char *tag,
                                   int tag_line, slm_jnode **out)
{
    slm_jp_skip_op(p, SLM_OP_COLON);
    SLM_TRY(slm_jp_expect_type(p, SLM_TK_BLOCK_END));
    return parse_body(p, ends, tag, tag_line, out);
}

static bool assignable(const slm_jnode *n, bool allow_ns)
{
    if (n->kind == SLM_N_NAME)
        return true;
    if (n->kind == SLM_N_NSREF)
        return allow_ns;
    if (n->kind != SLM_N_TUPLE)
        return false;
    for (size_t i = 0; i < n->n; i++)
        if (!assignable(n->items[i], allow_ns))
            return false;
    return true;
}

static slm_status parse_target(slm_jparser *p, const char *const *ends, bool with_ns,
                               slm_jnode **out)
{
    SLM_TRY(slm_jp_tuple(p, true, true, ends, false, with_ns, out));
    if (!assignable(*out, with_ns))
        return slm_jp_fail(p, SLM_ERR_FORMAT, "can't assign to this expression");
    return SLM_OK;
}

static slm_status parse_for(slm_jparser *p, slm_jnode *n)
{
    static const char *const in_end[] = {"in", NULL};
    static const char *const rec_end[] = {"recursive", NULL};
    static const char *const body_end[] = {"endfor", "else", NULL};
    static const char *const else_end[] = {"endfor", NULL};
    SLM_TRY(parse_target(p, in_end, false, &n->a));
    if (!slm_jp_skip_name(p, "in"))
        return slm_jp_fail(p, SLM_ERR_FORMAT, "expected 'in' in for loop");
    SLM_TRY(slm_jp_tuple(p, false, false, rec_end, false, false, &n->b));
    if (slm_jp_skip_name(p, "if"))
        SLM_TRY(slm_jp_expression(p, true, &n->c));
    if (slm_jp_is_name(p, "recursive"))
        return slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "recursive for loops are not supported");
    p->loop_depth++;
    slm_status st = parse_statements(p, body_end, "for", n->line, &n->d);
    p->loop_depth--;
    SLM_TRY(st);
    bool has_else = slm_jp_is_name(p, "else");
    slm_jp_next(p);
    if (has_else) {
        SLM_TRY(parse_statements(p, else_end, "for", n->line, &n->e));
        slm_jp_next(p);
    }
    return SLM_OK;
}

static slm_status parse_if(slm_jparser *p, slm_jnode *n)
{
    static const char *const body_end[] = {"elif", "else", "endif", NULL};
    static const char *const else_end[] = {"endif", NULL};
    for (slm_jnode *cur = n;;) {
        SLM_TRY(slm_jp_tuple(p, false, false, NULL, false, false, &cur->a));
        SLM_TRY(parse_statements(p, body_end, "if", n->line, &cur->b));
        bool is_elif = slm_jp_is_name(p, "elif"), is_else = slm_jp_is_name(p, "else");
        int line = slm_jp_cur(p)->line;
        slm_jp_next(p);
        if (is_else) {
            SLM_TRY(parse_statements(p, else_end, "if", n->line, &cur->c));
            slm_jp_next(p);
        }
        if (!is_elif)
            return SLM_OK;
        if (!(cur->c = slm_jp_node(p, SLM_N_IF, line)))
            return slm_jp_nomem(p);
        cur = cur->c;
    }
}

static slm_status parse_set(slm_jparser *p, slm_jnode *n)
{
    static const char *const ends[] = {"endset", NULL};
    SLM_TRY(parse_target(p, NULL, true, &n->a));
    if (slm_jp_skip_op(p, SLM_OP_ASSIGN))
        return slm_jp_tuple(p, false, true, NULL, false, false, &n->b);
    n->kind = SLM_N_SETBLOCK;
    if (slm_jp_is_op(p, SLM_OP_PIPE))
        SLM_TRY(slm_jp_filters(p, NULL, false, &n->c));
    SLM_TRY(parse_statements(p, ends, "set", n->line, &n->b));
    slm_jp_next(p);
    return SLM_OK;
}

static slm_status parse_name_node(slm_jparser *p, slm_jnode **out)
{
    const slm_jtoken *t = slm_jp_cur(p);
    SLM_TRY(slm_jp_expect_type(p, SLM_TK_NAME));
    slm_jnode *n = slm_jp_node(p, SLM_N_NAME, t->line);
    if (!n || !(n->str = slm_jarena_strdup(p->arena, t->s, t->len)))
        return slm_jp_nomem(p);
    n->len = t->len;
    if (!slm_jp_name_value(p, n))
        return slm_jp_nomem(p);
    *out = n;
    return SLM_OK;
}

static slm_status parse_signature(slm_jparser *p, slm_jnodevec *params, slm_jnodevec *defaults)
{
    SLM_TRY(slm_jp_expect_op(p, SLM_OP_LPAREN));
    while (!slm_jp_is_op(p, SLM_OP_RPAREN)) {
        if (params->n)
            SLM_TRY(slm_jp_expect_op(p, SLM_OP_COMMA));
        slm_jnode *param, *dflt = NULL;
        SLM_TRY(parse_name_node(p, &param));
        if (slm_jp_skip_op(p, SLM_OP_ASSIGN))
            SLM_TRY(slm_jp_expression(p, true, &dflt));
        else if (defaults->n)
            return slm_jp_fail(p, SLM_ERR_FORMAT, "non-default argument follows default argument");
        if (params->n == SLM_JINJA_MAX_ARGS)
            return slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "more than %d macro arguments",
                               SLM_JINJA_MAX_ARGS);
        if (!slm_jnodevec_push(params, param, NULL) ||
            (dflt && !slm_jnodevec_push(defaults, dflt, NULL)))
            return slm_jp_nomem(p);
    }
    return slm_jp_expect_op(p, SLM_OP_RPAREN);
}

static slm_status parse_macro(slm_jparser *p, slm_jnode *n)
{
    static const char *const ends[] = {"endmacro", NULL};
    slm_jnode *name;
    SLM_TRY(parse_name_node(p, &name));
    n->str = name->str;
    n->len = name->len;
    slm_jnodevec params = {0}, defaults = {0};
    slm_status st = parse_signature(p, &params, &defaults);
    if (st == SLM_OK) {
        slm_jnode tmp = {0};
        if (!slm_jnodevec_finish(p, &defaults, &tmp, false) ||
            !slm_jnodevec_finish(p, &params, n, false))
            st = slm_jp_nomem(p);
        n->items2 = tmp.items;
        n->n2 = tmp.n;
    }
    slm_jnodevec_free(&params);
    slm_jnodevec_free(&defaults);
    SLM_TRY(st);
    int loops = p->loop_depth; /* a macro body is not inside the caller's loop */
    p->loop_depth = 0;
    st = parse_statements(p, ends, "macro", n->line, &n->a);
    p->loop_depth = loops;
    SLM_TRY(st);
    slm_jp_next(p);
    return SLM_OK;
}

static slm_status parse_with(slm_jparser *p, slm_jnode *n)
{
    static const char *const ends[] = {"endwith", NULL};
    slm_jnodevec targets = {0}, values = {0};
    slm_status st = SLM_OK;
    while (st == SLM_OK && slm_jp_cur(p)->type != SLM_TK_BLOCK_END) {
        slm_jnode *t, *v;
        if (targets.n && (st = slm_jp_expect_op(p, SLM_OP_COMMA)) != SLM_OK)
            break;
        if ((st = parse_target(p, NULL, false, &t)) != SLM_OK ||
            (st = slm_jp_expect_op(p, SLM_OP_ASSIGN)) != SLM_OK ||
            (st = slm_jp_expression(p, true, &v)) != SLM_OK)
            break;
        if (!slm_jnodevec_push(&targets, t, NULL) || !slm_jnodevec_push(&values, v, NULL))
            st = slm_jp_nomem(p);
    }
    slm_jnode tmp = {0};
    if (st == SLM_OK && (!slm_jnodevec_finish(p, &targets, n, false) ||
                         !slm_jnodevec_finish(p, &values, &tmp, false)))
        st = slm_jp_nomem(p);
    n->items2 = tmp.items;
    n->n2 = tmp.n;
    slm_jnodevec_free(&targets);
    slm_jnodevec_free(&values);
    SLM_TRY(st);
    SLM_TRY(parse_statements(p, ends, "with", n->line, &n->a));
    slm_jp_next(p);
    return SLM_OK;
}

static slm_status parse_print(slm_jparser *p, slm_jnode *n)
{
    n->kind = SLM_N_BODY;
    slm_jnodevec items = {0};
    slm_status st = SLM_OK;
    while (st == SLM_OK && slm_jp_cur(p)->type != SLM_TK_BLOCK_END) {
        if (items.n && (st = slm_jp_expect_op(p, SLM_OP_COMMA)) != SLM_OK)
            break;
        slm_jnode *out = slm_jp_node(p, SLM_N_PRINT, n->line);
        if (!out) {
            st = slm_jp_nomem(p);
            break;
        }
        if ((st = slm_jp_expression(p, true, &out->a)) == SLM_OK &&
            !slm_jnodevec_push(&items, out, NULL))
            st = slm_jp_nomem(p);
    }
    if (st == SLM_OK && !slm_jnodevec_finish(p, &items, n, false))
        st = slm_jp_nomem(p);
    slm_jnodevec_free(&items);
    return st;
}

/* A body-only tag such as {% filter %} or {% generation %}. */
static slm_status parse_wrapper(slm_jparser *p, slm_jnode *n, const char *tag, const char *end)
{
    const char *const ends[] = {end, NULL};
    if (n->kind == SLM_N_FILTERBLOCK)
        SLM_TRY(slm_jp_filters(p, NULL, true, &n->a));
    SLM_TRY(parse_statements(p, ends, tag, n->line, &n->b));
    slm_jp_next(p);
    return SLM_OK;
}

static slm_status parse_statement(slm_jparser *p, slm_jnode **out)
{
    const slm_jtoken *t = slm_jp_cur(p);
    if (t->type != SLM_TK_NAME)
        return slm_jp_fail(p, SLM_ERR_FORMAT, "tag name expected");
    char tag[48];
    snprintf(tag, sizeof tag, "%.*s", (int)(t->len < 40 ? t->len : 40), t->s);
    static const char *const unsupported[] = {"block", "extends", "include", "import", "from",
                                              "call", "autoescape", NULL};
    if (at_name_in(p, unsupported))
        return slm_jp_fail(p, SLM_ERR_UNSUPPORTED, "'{%% %s %%}' is not supported", tag);
    slm_jnode *n = slm_jp_node(p, SLM_N_BODY, t->line);
    if (!n)
        return slm_jp_nomem(p);
    *out = n;
    slm_jp_next(p);
    if (!strcmp(tag, "for"))
        return n->kind = SLM_N_FOR, parse_for(p, n);
    if (!strcmp(tag, "if"))
        return n->kind = SLM_N_IF, parse_if(p, n);
    if (!strcmp(tag, "set"))
        return n->kind = SLM_N_SET, parse_set(p, n);
    if (!strcmp(tag, "macro"))
        return n->kind = SLM_N_MACRO, parse_macro(p, n);
    if (!strcmp(tag, "with"))
        return n->kind = SLM_N_WITH, parse_with(p, n);
    if (!strcmp(tag, "print"))
        return parse_print(p, n);
    if (!strcmp(tag, "filter"))
        return n->kind = SLM_N_FILTERBLOCK, parse_wrapper(p, n, "filter", "endfilter");
    if (!strcmp(tag, "generation")) { /* transformers' assistant-mask marker: just its body */
        SLM_TRY(parse_wrapper(p, n, "generation", "endgeneration"));
        *out = n->b;
        return SLM_OK;
    }
    if (!strcmp(tag, "break") || !strcmp(tag, "continue")) {
        if (p->loop_depth == 0)
            return slm_jp_fail(p, SLM_ERR_FORMAT, "'%s' outside of a loop", tag);
        n->kind = tag[0] == 'b' ? SLM_N_BREAK : SLM_N_CONTINUE;
        return SLM_OK;
    }
    p->pos--; /* report at the tag name */
    return slm_jp_fail(p, SLM_ERR_FORMAT, "Encountered unknown tag '%s'", tag);
}

static slm_status body_item(slm_jparser *p, slm_jnodevec *items, const char *const *ends,
                            bool *done)
{
    const slm_jtoken *t = slm_jp_cur(p);
    slm_jnode *n = NULL;
    if (t->type == SLM_TK_DATA) {
        if (!(n = slm_jp_node(p, SLM_N_TEXT, t->line)))
            return slm_jp_nomem(p);
        n->str = t->s;
        n->len = t->len;
        slm_jp_next(p);
    } else if (t->type == SLM_TK_VAR_BEGIN) {
        slm_jp_next(p);
        if (!(n = slm_jp_node(p, SLM_N_PRINT, t->line)))
            return slm_jp_nomem(p);
        SLM_TRY(slm_jp_tuple(p, false, true, NULL, false, false, &n->a));
        SLM_TRY(slm_jp_expect_type(p, SLM_TK_VAR_END));
    } else if (t->type == SLM_TK_BLOCK_BEGIN) {
        slm_jp_next(p);
        if (ends && at_name_in(p, ends)) {
            *done = true;
            return SLM_OK;
        }
        SLM_TRY(parse_statement(p, &n));
        SLM_TRY(slm_jp_expect_type(p, SLM_TK_BLOCK_END));
    } else {
        char got[64];
        return slm_jp_fail(p, SLM_ERR_FORMAT, "unexpected '%s'", slm_jp_describe(p, got, sizeof got));
    }
    return slm_jnodevec_push(items, n, NULL) ? SLM_OK : slm_jp_nomem(p);
}

static slm_status eof_error(slm_jparser *p, const char *const *ends, const char *tag, int line)
{
    char want[128] = "";
    for (size_t i = 0; ends[i]; i++) {
        size_t k = strlen(want);
        snprintf(want + k, sizeof want - k, "%s'%s'", i ? " or " : "", ends[i]);
    }
    return slm_jp_fail(p, SLM_ERR_FORMAT,
                       "unexpected end of template: expected %s to close '%s' from line %d", want,
                       tag, line);
}

static slm_status parse_body(slm_jparser *p, const char *const *ends, const char *tag,
                             int tag_line, slm_jnode **out)
{
    SLM_TRY(slm_jp_enter(p));
    slm_jnode *body = slm_jp_node(p, SLM_N_BODY, slm_jp_cur(p)->line);
    slm_jnodevec items = {0};
    slm_status st = body ? SLM_OK : slm_jp_nomem(p);
    bool done = false;
    while (st == SLM_OK && !done) {
        if (slm_jp_cur(p)->type == SLM_TK_EOF) {
            if (ends)
                st = eof_error(p, ends, tag, tag_line);
            break;
        }
        st = body_item(p, &items, ends, &done);
    }
    if (st == SLM_OK && !slm_jnodevec_finish(p, &items, body, false))
        st = slm_jp_nomem(p);
    slm_jnodevec_free(&items);
    p->depth--;
    *out = body;
    return st;
}

/* ----------------------------------------------------------- entry */

/* jinja splits on \r\n, \r and \n, joins with \n and drops one final newline
 * (keep_trailing_newline=False). */
static char *normalize_newlines(const char *src, size_t len, size_t *out_len)
{
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            s[n++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n')
                i++;
        } else {
            s[n++] = src[i];
        }
    }
    if (n > 0 && s[n - 1] == '\n')
        n--;
    s[n] = '\0';
    *out_len = n;
    return s;
}

void slm_jinja_free(slm_jinja_template *t)
{
    if (!t)
        return;
    if (t->consts.kind == SLM_JV_LIST) {
        slm_jv_list *l = t->consts.u.l;
        for (size_t i = 0; i < l->n; i++)
            slm_jv_free_immortal(l->v[i]);
        l->n = 0;
    }
    slm_jv_release(t->consts);
    slm_jarena_free(&t->arena);
    free(t->src);
    free(t);
}

slm_status slm_jinja_parse(const char *src, size_t len, const char *what,
                           slm_jinja_template **out, slm_error *err)
{
    *out = NULL;
    slm_jinja_template *t = calloc(1, sizeof *t);
    if (!t)
        return slm_fail_nomem(err, "template");
    snprintf(t->what, sizeof t->what, "%s", what ? what : "template");
    size_t n;
    t->src = normalize_newlines(src, len, &n);
    if (!t->src || !slm_jv_list_new(0, SLM_JSEQ_LIST, &t->consts)) {
        slm_jinja_free(t);
        return slm_fail_nomem(err, "template");
    }
    slm_jtokens toks = {0};
    slm_status st = slm_jinja_lex(t->src, n, &t->arena, &toks, t->what, err);
    if (st == SLM_OK) {
        slm_jparser p = {.t = toks.v, .n = toks.n, .arena = &t->arena,
                         .consts = t->consts.u.l, .what = t->what, .err = err};
        st = parse_body(&p, NULL, NULL, 0, &t->root);
    }
    free(toks.v);
    if (st != SLM_OK) {
        slm_jinja_free(t);
        return st;
    }
    *out = t;
    return SLM_OK;
}
