/*
 * eval.h — the evaluator's internals shared by eval.c (statements, scopes,
 * rendering), expr.c (expressions and operators), filters*.c, tests.c,
 * methods.c (str/dict/list methods and the global functions) and tojson.c.
 */
#ifndef SLM_JINJA_EVAL_H
#define SLM_JINJA_EVAL_H

#include "ast.h"
#include "error.h"

/* Variables visible to a block. for-loop iterations, macro calls and with
 * blocks push one; if blocks do not (jinja scoping). */
typedef struct slm_jscope {
    struct slm_jscope *parent;
    slm_jv vars;  /* a dict */
    bool pinned;  /* a macro holds it: freed only when the render ends */
    struct slm_jscope *next_pinned;
} slm_jscope;

typedef enum { SLM_FLOW_NONE, SLM_FLOW_BREAK, SLM_FLOW_CONTINUE } slm_jflow;

typedef struct {
    const slm_jinja_template *tpl;
    slm_error *err;
    int depth;           /* recursion guard across statements, expressions and calls */
    uint64_t steps;      /* loop iterations + macro calls so far */
    int line;            /* line of the node being evaluated, for messages */
    slm_jscope *pinned;  /* scopes kept alive for macros, freed at the end */
    slm_jv namespaces;   /* every namespace created, cleared at the end to break cycles */
    slm_jflow flow;
    slm_jv loop_key;     /* the string "loop", made once per render */
    slm_jwork work;      /* this render's budget (slm_jwork_current points here) */
    const char *op_kind, *op; /* "filter", "join": what is running, for messages */
} slm_jctx;

/* Evaluated call arguments: positional ones first (kw[i] == NULL). */
typedef struct {
    slm_jv v[SLM_JINJA_MAX_ARGS + 1];
    const char *kw[SLM_JINJA_MAX_ARGS + 1];
    size_t n;
} slm_jargs;

enum { SLM_FN_RANGE, SLM_FN_NAMESPACE, SLM_FN_DICT, SLM_FN_RAISE, SLM_FN_STRFTIME,
       SLM_FN_COUNT };

/* ---------------------------------------------------------------- errors */

/* "<what>: line N: <message>" as SLM_ERR_INVALID_ARG (or st). */
slm_status slm_jx_fail(slm_jctx *c, slm_status st, const char *fmt, ...) SLM_PRINTF(3, 4);
slm_status slm_jx_nomem(slm_jctx *c);
/* An int result outside int64 (SLM_ERR_RANGE), naming the running operation. */
slm_status slm_jx_overflow(slm_jctx *c);
/* The UndefinedError an operation on `u` raises. */
slm_status slm_jx_undefined(slm_jctx *c, slm_jv u);
/* Every failure once the work budget is exhausted reports that instead
 * (the real cause), naming c->op. */
slm_status slm_jx_work_error(slm_jctx *c);
/* Sets what is running (restore the returned previous value after). */
typedef struct { const char *kind, *name; } slm_jrunning;
slm_jrunning slm_jx_op(slm_jctx *c, const char *kind, const char *name);
void slm_jx_op_restore(slm_jctx *c, slm_jrunning prev);
/* Charges a cost known in advance (a row of a million fill values) before
 * building it; fails naming `what`. */
slm_status slm_jx_work(slm_jctx *c, uint64_t units, const char *what);
slm_status slm_jx_enter(slm_jctx *c);
slm_status slm_jx_step(slm_jctx *c);

/* ------------------------------------------------------------ evaluation */

slm_status slm_jx_eval(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jv *out);
slm_status slm_jx_exec(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jbuf *out);
slm_status slm_jx_eval_args(slm_jctx *c, slm_jscope *s, const slm_jnode *n, slm_jargs *a);
void slm_jargs_release(slm_jargs *a);
/* Binds arguments to a Python-style signature: slots[i] borrows the value
 * of params[i] or is NULL. Extra or unknown arguments are a TypeError. */
slm_status slm_jargs_bind(slm_jctx *c, const slm_jargs *a, const char *fname,
                          const char *const *params, const slm_jv **slots);

slm_jscope *slm_jx_scope_push(slm_jctx *c, slm_jscope *parent);
void slm_jx_scope_pop(slm_jctx *c, slm_jscope *s);
slm_jv *slm_jx_lookup(slm_jscope *s, const char *name, size_t len);
/* Calls a macro value. */
slm_status slm_jx_call_macro(slm_jctx *c, const slm_jv_macro *m, const slm_jargs *a, slm_jv *out);

/* ------------------------------------------------------------ operations */

slm_status slm_jx_getattr(slm_jctx *c, slm_jv obj, const char *name, size_t len, slm_jv *out);
slm_status slm_jx_getitem(slm_jctx *c, slm_jv obj, slm_jv key, slm_jv *out);
/* obj[start:stop:step]; each bound may be none. */
slm_status slm_jx_slice(slm_jctx *c, slm_jv obj, slm_jv start, slm_jv stop, slm_jv step,
                        slm_jv *out);
/* Python's iter(v) materialized: a new list of the items (dict keys,
 * string characters); undefined gives an empty list. */
slm_status slm_jx_iterate(slm_jctx *c, slm_jv v, slm_jv *out);
/* len(v) for sized values. */
slm_status slm_jx_length(slm_jctx *c, slm_jv v, int64_t *out);
slm_status slm_jx_binop(slm_jctx *c, int op, slm_jv a, slm_jv b, slm_jv *out);
slm_status slm_jx_contains(slm_jctx *c, slm_jv container, slm_jv item, bool *out);
slm_status slm_jx_call(slm_jctx *c, slm_jv callee, const slm_jargs *a, slm_jv *out);
/* `attribute` paths of filters ("a.b.0"): items looked up one by one. */
slm_status slm_jx_attr_path(slm_jctx *c, slm_jv item, slm_jv path, slm_jv *out);
/* A new string value, or an error naming what was too large. */
slm_status slm_jx_str(slm_jctx *c, const char *s, size_t n, slm_jv *out);
slm_status slm_jx_buf_done(slm_jctx *c, slm_jbuf *b, slm_jv *out);

slm_status slm_jx_filter(slm_jctx *c, int id, slm_jv in, const slm_jargs *a, slm_jv *out);
/* Python's str.replace (count < 0: all). */
slm_status slm_jx_replace(slm_jctx *c, const slm_jv_str *s, const slm_jv_str *old,
                          const slm_jv_str *rep, int64_t count, slm_jv *out);
slm_status slm_jx_test(slm_jctx *c, int id, slm_jv in, const slm_jargs *a, bool *out);
/* Filters that take sequences (filters_seq.c); ids from slm_jinja_filter_id. */
slm_status slm_jx_filter_seq(slm_jctx *c, int id, slm_jv in, const slm_jargs *a, slm_jv *out,
                             bool *handled);

/* The bound method `name` of obj: *id >= 0 when it exists; *unsafe when
 * the sandbox forbids it (list.append, dict.update, ...). */
void slm_jx_method_lookup(slm_jv obj, const char *name, size_t len, int *id, bool *unsafe);
slm_status slm_jx_method(slm_jctx *c, slm_jv self, int id, const slm_jargs *a, slm_jv *out);
slm_status slm_jx_global(slm_jctx *c, int fn, const slm_jargs *a, slm_jv *out);
const char *slm_jx_global_name(int fn);

/* json.dumps(v, ensure_ascii=False, indent, separators, sort_keys). */
slm_status slm_jx_tojson(slm_jctx *c, slm_jv v, const slm_jargs *a, slm_jv *out);

#endif /* SLM_JINJA_EVAL_H */
