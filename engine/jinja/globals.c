/*
 * globals.c — the functions every chat template can call: transformers'
 * raise_exception, strftime_now, namespace and dict, and jinja's range
 * (capped at jinja2.sandbox.MAX_RANGE items, as the sandbox does).
 *
 * raise_exception reports its message verbatim (SLM_ERR_INVALID_ARG), the
 * way jinja's TemplateError carries it. Namespaces are registered with the
 * render so it can clear them at the end (they are the only mutable values
 * and so the only way to build a reference cycle).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eval.h"

static const char *const GLOBAL_NAMES[SLM_FN_COUNT] = {
    [SLM_FN_RANGE] = "range",
    [SLM_FN_NAMESPACE] = "namespace",
    [SLM_FN_DICT] = "dict",
    [SLM_FN_RAISE] = "raise_exception",
    [SLM_FN_STRFTIME] = "strftime_now",
};

const char *slm_jx_global_name(int fn) { return GLOBAL_NAMES[fn]; }

/* len(range(start, stop, step)), computed in unsigned arithmetic: the
 * distance between two int64 values can exceed INT64_MAX. */
static uint64_t range_len(int64_t start, int64_t stop, int64_t step)
{
    if (step > 0 && start < stop)
        return ((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1;
    if (step < 0 && start > stop)
        return ((uint64_t)start - (uint64_t)stop - 1) / (0 - (uint64_t)step) + 1;
    return 0;
}

static slm_status range(slm_jctx *c, const slm_jargs *a, slm_jv *out)
{
    int64_t v[3] = {0, 0, 1};
    if (a->n < 1 || a->n > 3)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "range expected 1 to 3 arguments, got %zu", a->n);
    for (size_t i = 0; i < a->n; i++) {
        if (a->kw[i] || (a->v[i].kind != SLM_JV_INT && a->v[i].kind != SLM_JV_BOOL))
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "range() arguments must be integers");
        v[a->n == 1 ? 1 : i] = a->v[i].kind == SLM_JV_BOOL ? a->v[i].u.b : a->v[i].u.i;
    }
    if (v[2] == 0)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "range() arg 3 must not be zero");
    uint64_t n = range_len(v[0], v[1], v[2]);
    if (n > SLM_JINJA_MAX_RANGE)
        return slm_jx_fail(c, SLM_ERR_RANGE,
                           "Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).",
                           SLM_JINJA_MAX_RANGE);
    if (!slm_jv_list_new((size_t)n, SLM_JSEQ_LIST, out))
        return slm_jx_nomem(c);
    /* item k lies between start and stop, so start + k*step fits; it is
     * computed unsigned so the step past the last item is never formed */
    for (uint64_t k = 0; k < n; k++)
        if (!slm_jv_list_push(out->u.l, slm_jv_int((int64_t)((uint64_t)v[0] + k * (uint64_t)v[2]))))
            return slm_jv_release(*out), slm_jx_nomem(c);
    return SLM_OK;
}

/* dict(mapping_or_pairs?, **kwargs) into d. */
static slm_status fill_dict(slm_jctx *c, const slm_jargs *a, bool ns, slm_jv_dict *d)
{
    for (size_t i = 0; i < a->n; i++) {
        slm_jv v = a->v[i];
        if (a->kw[i]) {
            if (!slm_jv_dict_set_str(d, a->kw[i], slm_jv_retain(v)))
                return slm_jx_nomem(c);
        } else if (i > 0) {
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "dict expected at most 1 argument");
        } else if (v.kind == SLM_JV_DICT || v.kind == SLM_JV_NS) {
            for (size_t k = 0; k < v.u.d->n; k++)
                if (!slm_jv_dict_set(d, slm_jv_retain(v.u.d->k[k]), slm_jv_retain(v.u.d->v[k])))
                    return slm_jx_nomem(c);
        } else if (v.kind == SLM_JV_LIST) {
            for (size_t k = 0; k < v.u.l->n; k++) {
                slm_jv pair = v.u.l->v[k];
                if (pair.kind != SLM_JV_LIST || pair.u.l->n != 2)
                    return slm_jx_fail(c, SLM_ERR_INVALID_ARG,
                                       "dictionary update sequence element #%zu has the wrong length", k);
                if (!slm_jv_dict_set(d, slm_jv_retain(pair.u.l->v[0]), slm_jv_retain(pair.u.l->v[1])))
                    return slm_jx_nomem(c);
            }
        } else if (v.kind != SLM_JV_UNDEF) {
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "'%s' object is not iterable",
                               slm_jv_type_name(v));
        }
    }
    for (size_t k = 0; ns && k < d->n; k++)
        if (d->k[k].kind == SLM_JV_STR && d->k[k].u.s->s[0] == '_')
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG,
                               "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '%s'",
                               d->k[k].u.s->s);
    return SLM_OK;
}

static slm_status make_dict(slm_jctx *c, const slm_jargs *a, bool ns, slm_jv *out)
{
    if (!(ns ? slm_jv_ns_new(out) : slm_jv_dict_new(out)))
        return slm_jx_nomem(c);
    if (ns && !slm_jv_list_push(c->namespaces.u.l, slm_jv_retain(*out))) {
        slm_jv_release(*out);
        return slm_jx_nomem(c);
    }
    slm_status st = fill_dict(c, a, ns, out->u.d);
    if (st == SLM_OK && slm_jv_depth(*out) > SLM_JINJA_MAX_NEST)
        st = slm_jx_fail(c, SLM_ERR_RANGE, "value nested deeper than %d levels", SLM_JINJA_MAX_NEST);
    if (st != SLM_OK)
        slm_jv_release(*out);
    return st;
}

static slm_status raise_exception(slm_jctx *c, const slm_jargs *a)
{
    if (c->work.exceeded)
        return slm_jx_work_error(c);
    slm_jbuf b = {0};
    if (a->n > 0)
        slm_jv_to_str(&b, a->v[0]);
    slm_status st = slm_fail(c->err, SLM_ERR_INVALID_ARG, "%s", b.p ? b.p : "");
    slm_jbuf_free(&b);
    return st;
}

static slm_status strftime_now(slm_jctx *c, const slm_jargs *a, slm_jv *out)
{
    if (a->n != 1 || a->v[0].kind != SLM_JV_STR)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "strftime_now() takes one format string");
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "strftime_now(): no local time");
    char buf[1024];
    SLM_TRY(slm_jx_work(c, a->v[0].u.s->len, "strftime_now"));
    size_t n = a->v[0].u.s->len ? strftime(buf, sizeof buf, a->v[0].u.s->s, &tm) : 0;
    return slm_jx_str(c, buf, n, out);
}

static slm_status global_inner(slm_jctx *c, int fn, const slm_jargs *a, slm_jv *out)
{
    switch (fn) {
    case SLM_FN_RANGE: return range(c, a, out);
    case SLM_FN_NAMESPACE: return make_dict(c, a, true, out);
    case SLM_FN_DICT: return make_dict(c, a, false, out);
    case SLM_FN_RAISE: return raise_exception(c, a);
    default: return strftime_now(c, a, out);
    }
}

slm_status slm_jx_global(slm_jctx *c, int fn, const slm_jargs *a, slm_jv *out)
{
    slm_jrunning prev = slm_jx_op(c, "function", GLOBAL_NAMES[fn]);
    slm_status st = global_inner(c, fn, a, out);
    slm_jx_op_restore(c, prev);
    if (st != SLM_OK) /* whatever was built is released: never hand it out */
        *out = slm_jv_none();
    return st;
}
