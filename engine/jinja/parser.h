/*
 * parser.h — state shared by the expression parser (parse_expr.c) and the
 * statement parser (parse_stmt.c). Both follow jinja2's parser.py function
 * by function so precedence and tuple rules match it.
 */
#ifndef SLM_JINJA_PARSER_H
#define SLM_JINJA_PARSER_H

#include "ast.h"
#include "error.h"

typedef struct {
    const slm_jtoken *t;
    size_t n, pos;
    slm_jarena *arena;
    slm_jv_list *consts;
    const char *what;
    slm_error *err;
    int depth;      /* recursion guard */
    int loop_depth; /* enclosing for loops (break/continue validity) */
} slm_jparser;

/* A growable array of node pointers, copied into the arena when done. */
typedef struct {
    slm_jnode **v;
    const char **kw;
    size_t n, cap;
} slm_jnodevec;

const slm_jtoken *slm_jp_cur(const slm_jparser *p);
const slm_jtoken *slm_jp_peek(const slm_jparser *p, size_t k);
void slm_jp_next(slm_jparser *p); /* EOF stays current */
bool slm_jp_is_op(const slm_jparser *p, slm_jop op);
bool slm_jp_is_name(const slm_jparser *p, const char *name);
bool slm_jp_skip_op(slm_jparser *p, slm_jop op);
bool slm_jp_skip_name(slm_jparser *p, const char *name);
slm_status slm_jp_expect_op(slm_jparser *p, slm_jop op);
slm_status slm_jp_expect_type(slm_jparser *p, slm_jtoken_type type);
slm_status slm_jp_fail(slm_jparser *p, slm_status st, const char *fmt, ...) SLM_PRINTF(3, 4);
slm_status slm_jp_enter(slm_jparser *p);
slm_jnode *slm_jp_node(slm_jparser *p, slm_jnode_kind kind, int line);
slm_status slm_jp_nomem(slm_jparser *p);
/* Gives a NAME node its name as a string value (val), so assignments can
 * use it as a dict key without allocating. */
bool slm_jp_name_value(slm_jparser *p, slm_jnode *n);
/* Describes the current token for messages ("'endfor'", "end of template"). */
const char *slm_jp_describe(const slm_jparser *p, char *buf, size_t cap);

bool slm_jnodevec_push(slm_jnodevec *v, slm_jnode *node, const char *kw);
/* Moves the items into the arena (node->items, node->kw, node->n). */
bool slm_jnodevec_finish(slm_jparser *p, slm_jnodevec *v, slm_jnode *node, bool with_kw);
void slm_jnodevec_free(slm_jnodevec *v);

/* Expressions (jinja's parse_expression / parse_tuple / parse_primary). */
slm_status slm_jp_expression(slm_jparser *p, bool with_condexpr, slm_jnode **out);
/* end_names: NULL-terminated names that also end the tuple ("in", ...). */
slm_status slm_jp_tuple(slm_jparser *p, bool simplified, bool with_condexpr,
                        const char *const *end_names, bool explicit_parens, bool with_namespace,
                        slm_jnode **out);
/* A chain of "| name(args)" filters; `input` may be NULL (set / filter blocks);
 * start_inline: the first filter has no "|" before it. */
slm_status slm_jp_filters(slm_jparser *p, slm_jnode *input, bool start_inline, slm_jnode **out);

#endif /* SLM_JINJA_PARSER_H */
