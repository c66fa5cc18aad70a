/*
 * lookup.c — jinja2's getattr/getitem rules, slicing, iteration and len()
 * over the evaluator's values.
 *
 * Missing attributes and items become Undefined values whose message is the
 * one jinja's UndefinedError would show ("'dict object' has no attribute
 * 'x'"); they only fail when used. Sequences index and slice by code point
 * for strings, by item for lists, with Python's negative-index rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

/* jinja's object_type_repr: "dict object", "None", ... */
static const char *type_repr(slm_jv v, char *buf, size_t cap)
{
    if (v.kind == SLM_JV_NONE)
        return "None";
    snprintf(buf, cap, "%s object", slm_jv_type_name(v));
    return buf;
}

static slm_status no_attribute(slm_jctx *c, slm_jv obj, const char *name, size_t len, slm_jv *out)
{
    char t[64];
    return slm_jv_undef_msg(out, "'%s' has no attribute '%.*s'", type_repr(obj, t, sizeof t),
                            (int)(len > 200 ? 200 : len), name)
               ? SLM_OK : slm_jx_nomem(c);
}

static slm_status loop_attr(slm_jctx *c, const slm_jv_loop *lp, const char *name, slm_jv *out)
{
    int64_t i = (int64_t)lp->i, n = (int64_t)lp->items->n;
    if (!strcmp(name, "index")) *out = slm_jv_int(i + 1);
    else if (!strcmp(name, "index0")) *out = slm_jv_int(i);
    else if (!strcmp(name, "revindex")) *out = slm_jv_int(n - i);
    else if (!strcmp(name, "revindex0")) *out = slm_jv_int(n - i - 1);
    else if (!strcmp(name, "first")) *out = slm_jv_bool(i == 0);
    else if (!strcmp(name, "last")) *out = slm_jv_bool(i == n - 1);
    else if (!strcmp(name, "length")) *out = slm_jv_int(n);
    else if (!strcmp(name, "depth")) *out = slm_jv_int(1);
    else if (!strcmp(name, "depth0")) *out = slm_jv_int(0);
    else if (!strcmp(name, "previtem")) {
        if (i == 0)
            return slm_jv_undef_msg(out, "there is no previous item") ? SLM_OK : slm_jx_nomem(c);
        *out = slm_jv_retain(lp->items->v[i - 1]);
    } else if (!strcmp(name, "nextitem")) {
        if (i == n - 1)
            return slm_jv_undef_msg(out, "there is no next item") ? SLM_OK : slm_jx_nomem(c);
        *out = slm_jv_retain(lp->items->v[i + 1]);
    } else {
        return slm_jv_undef_msg(out, "'LoopContext object' has no attribute '%s'", name)
                   ? SLM_OK : slm_jx_nomem(c);
    }
    return SLM_OK;
}

slm_status slm_jx_getattr(slm_jctx *c, slm_jv obj, const char *name, size_t len, slm_jv *out)
{
    int id;
    bool unsafe;
    slm_jx_method_lookup(obj, name, len, &id, &unsafe);
    if (unsafe) {
        char t[64];
        snprintf(t, sizeof t, "%s", slm_jv_type_name(obj));
        return slm_jv_undef_msg(out, "access to attribute '%.*s' of '%s' object is unsafe.",
                                (int)len, name, t) ? SLM_OK : slm_jx_nomem(c);
    }
    if (id >= 0) {
        slm_jv_method *m = calloc(1, sizeof *m);
        if (!m)
            return slm_jx_nomem(c);
        m->rc = 1;
        m->id = id;
        m->self = slm_jv_retain(obj);
        *out = (slm_jv){.kind = SLM_JV_METHOD, .u.meth = m};
        return SLM_OK;
    }
    if (obj.kind == SLM_JV_DICT || obj.kind == SLM_JV_NS) {
        slm_jv *v = slm_jv_dict_get_str(obj.u.d, name, len);
        if (v) {
            *out = slm_jv_retain(*v);
            return SLM_OK;
        }
    }
    if (obj.kind == SLM_JV_LOOP && len < 16) {
        char key[16];
        memcpy(key, name, len);
        key[len] = '\0';
        return loop_attr(c, obj.u.loop, key, out);
    }
    return no_attribute(c, obj, name, len, out);
}

/* Python's index normalization; false when out of range. */
static bool seq_index(int64_t i, size_t n, size_t *out)
{
    if (i < 0)
        i += (int64_t)n;
    if (i < 0 || (uint64_t)i >= n)
        return false;
    *out = (size_t)i;
    return true;
}

static slm_status no_element(slm_jctx *c, slm_jv obj, slm_jv key, slm_jv *out)
{
    slm_jbuf b = {0};
    char t[64];
    slm_jbuf_puts(&b, "'");
    slm_jbuf_puts(&b, type_repr(obj, t, sizeof t));
    slm_jbuf_puts(&b, "' has no element ");
    slm_jv_repr(&b, key);
    slm_jv msg;
    SLM_TRY(slm_jx_buf_done(c, &b, &msg));
    *out = (slm_jv){.kind = SLM_JV_UNDEF, .u.s = msg.u.s};
    return SLM_OK;
}

static slm_status index_item(slm_jctx *c, slm_jv obj, int64_t i, slm_jv *out, bool *found)
{
    size_t k;
    *found = false;
    if (obj.kind == SLM_JV_LIST && obj.u.l->flavor != SLM_JSEQ_GEN) {
        if ((*found = seq_index(i, obj.u.l->n, &k)))
            *out = slm_jv_retain(obj.u.l->v[k]);
        return SLM_OK;
    }
    if (obj.kind == SLM_JV_STR) {
        const slm_jv_str *s = obj.u.s;
        if (!seq_index(i, slm_utf8_count(s->s, s->len), &k))
            return SLM_OK;
        size_t b = slm_utf8_offset(s->s, s->len, k), e = slm_utf8_offset(s->s, s->len, k + 1);
        *found = true;
        return slm_jx_str(c, s->s + b, e - b, out);
    }
    return SLM_OK;
}

slm_status slm_jx_getitem(slm_jctx *c, slm_jv obj, slm_jv key, slm_jv *out)
{
    if (obj.kind == SLM_JV_DICT) {
        slm_jv *v = slm_jv_dict_get(obj.u.d, key);
        if (v) {
            *out = slm_jv_retain(*v);
            return SLM_OK;
        }
    } else if (key.kind == SLM_JV_INT || key.kind == SLM_JV_BOOL) {
        bool found;
        SLM_TRY(index_item(c, obj, key.kind == SLM_JV_BOOL ? key.u.b : key.u.i, out, &found));
        if (found)
            return SLM_OK;
    }
    if (key.kind == SLM_JV_STR) /* jinja falls back to the attribute */
        return slm_jx_getattr(c, obj, key.u.s->s, key.u.s->len, out);
    return no_element(c, obj, key, out);
}

/* ---------------------------------------------------------------- slices */

static bool slice_bound(slm_jv v, bool *given, int64_t *out)
{
    *given = v.kind != SLM_JV_NONE;
    if (v.kind == SLM_JV_INT || v.kind == SLM_JV_BOOL)
        *out = v.kind == SLM_JV_BOOL ? v.u.b : v.u.i;
    return v.kind == SLM_JV_NONE || v.kind == SLM_JV_INT || v.kind == SLM_JV_BOOL;
}

/* PySlice_AdjustIndices: the first index, step and item count. */
static void adjust(int64_t n, bool has_start, int64_t start, bool has_stop, int64_t stop,
                   int64_t step, int64_t *first, int64_t *count)
{
    int64_t lo = step < 0 ? -1 : 0, hi = step < 0 ? n - 1 : n;
    if (!has_start)
        start = step < 0 ? hi : 0;
    else if (start < 0 && (start += n) < 0)
        start = lo;
    else if (start > hi)
        start = hi;
    if (!has_stop)
        stop = step < 0 ? lo : hi;
    else if (stop < 0 && (stop += n) < 0)
        stop = lo;
    else if (stop > hi)
        stop = hi;
    *first = start;
    /* start and stop now lie in [-1, n], so their difference cannot
     * overflow; the step can be anything down to INT64_MIN, so the division
     * is unsigned (no -step, no stop - start + step) */
    if (step > 0)
        *count = stop > start ? (int64_t)(((uint64_t)(stop - start) - 1) / (uint64_t)step + 1) : 0;
    else
        *count = start > stop ? (int64_t)(((uint64_t)(start - stop) - 1) / (0 - (uint64_t)step) + 1) : 0;
}

/* Index of item i of a slice: first + i*step stays in [0, n) for i < count;
 * computed unsigned so no intermediate (nor the step past the end) overflows. */
static size_t slice_at(int64_t first, int64_t i, int64_t step)
{
    return (size_t)((uint64_t)first + (uint64_t)i * (uint64_t)step);
}

static slm_status slice_str(slm_jctx *c, const slm_jv_str *s, int64_t first, int64_t count,
                            int64_t step, slm_jv *out)
{
    size_t ncp = slm_utf8_count(s->s, s->len);
    SLM_TRY(slm_jx_work(c, (uint64_t)(ncp + 1) * sizeof(size_t), "slice"));
    size_t *offs = malloc((ncp + 1) * sizeof *offs); /* code point -> byte offset */
    if (!offs)
        return slm_jx_nomem(c);
    uint32_t cp;
    size_t k = 0;
    for (size_t i = 0; i < s->len; k++) {
        offs[k] = i;
        i = slm_utf8_next(s->s, s->len, i, &cp);
    }
    offs[ncp] = s->len;
    slm_jbuf b = {0};
    for (int64_t i = 0; i < count; i++) {
        size_t at = slice_at(first, i, step);
        slm_jbuf_put(&b, s->s + offs[at], offs[at + 1] - offs[at]);
    }
    free(offs);
    return slm_jx_buf_done(c, &b, out);
}

slm_status slm_jx_slice(slm_jctx *c, slm_jv obj, slm_jv start, slm_jv stop, slm_jv step,
                        slm_jv *out)
{
    bool has_start, has_stop, has_step;
    int64_t a = 0, b = 0, st = 1;
    bool ok = slice_bound(start, &has_start, &a) && slice_bound(stop, &has_stop, &b) &&
              slice_bound(step, &has_step, &st);
    bool sliceable = obj.kind == SLM_JV_STR ||
                     (obj.kind == SLM_JV_LIST && obj.u.l->flavor != SLM_JSEQ_GEN);
    /* jinja slices with Python's own obj[a:b:c], bypassing its getitem, so
     * every failure is an error rather than an Undefined */
    if (!sliceable)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "'%s' object is not subscriptable",
                           slm_jv_type_name(obj));
    if (!ok)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG,
                           "slice indices must be integers or None or have an __index__ method");
    if (st == 0)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "slice step cannot be zero");
    int64_t n = obj.kind == SLM_JV_STR ? (int64_t)slm_utf8_count(obj.u.s->s, obj.u.s->len)
                                       : (int64_t)obj.u.l->n;
    int64_t first, count;
    adjust(n, has_start, a, has_stop, b, st, &first, &count);
    if (obj.kind == SLM_JV_STR)
        return slice_str(c, obj.u.s, first, count, st, out);
    if (!slm_jv_list_new((size_t)count, obj.u.l->flavor, out))
        return slm_jx_nomem(c);
    for (int64_t i = 0; i < count; i++)
        if (!slm_jv_list_push(out->u.l, slm_jv_retain(obj.u.l->v[slice_at(first, i, st)])))
            return slm_jv_release(*out), slm_jx_nomem(c);
    return SLM_OK;
}

/* ------------------------------------------------------------- iteration */

static slm_status chars_of(slm_jctx *c, const slm_jv_str *s, slm_jv *out)
{
    if (!slm_jv_list_new(0, SLM_JSEQ_LIST, out))
        return slm_jx_nomem(c);
    uint32_t cp;
    for (size_t i = 0; i < s->len;) {
        size_t next = slm_utf8_next(s->s, s->len, i, &cp);
        slm_jv ch;
        if (!slm_jv_str_new(s->s + i, next - i, &ch) || !slm_jv_list_push(out->u.l, ch))
            return slm_jv_release(*out), slm_jx_nomem(c);
        i = next;
    }
    return SLM_OK;
}

slm_status slm_jx_iterate(slm_jctx *c, slm_jv v, slm_jv *out)
{
    switch (v.kind) {
    case SLM_JV_LIST: *out = slm_jv_retain(v); return SLM_OK; /* lists are immutable */
    case SLM_JV_STR: return chars_of(c, v.u.s, out);
    case SLM_JV_UNDEF: return slm_jv_list_new(0, SLM_JSEQ_LIST, out) ? SLM_OK : slm_jx_nomem(c);
    case SLM_JV_DICT:
        if (!slm_jv_list_new(v.u.d->n, SLM_JSEQ_LIST, out))
            return slm_jx_nomem(c);
        for (size_t i = 0; i < v.u.d->n; i++)
            if (!slm_jv_list_push(out->u.l, slm_jv_retain(v.u.d->k[i])))
                return slm_jv_release(*out), slm_jx_nomem(c);
        return SLM_OK;
    default:
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "'%s' object is not iterable",
                           slm_jv_type_name(v));
    }
}

slm_status slm_jx_length(slm_jctx *c, slm_jv v, int64_t *out)
{
    switch (v.kind) {
    case SLM_JV_UNDEF: *out = 0; return SLM_OK;
    case SLM_JV_STR: *out = (int64_t)slm_utf8_count(v.u.s->s, v.u.s->len); return SLM_OK;
    case SLM_JV_DICT: *out = (int64_t)v.u.d->n; return SLM_OK;
    case SLM_JV_LIST:
        if (v.u.l->flavor != SLM_JSEQ_GEN) {
            *out = (int64_t)v.u.l->n;
            return SLM_OK;
        }
        break;
    default: break;
    }
    return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "object of type '%s' has no len()",
                       slm_jv_type_name(v));
}

/* jinja's make_attrgetter: "a.b.0" looks up a, b, then item 0. */
slm_status slm_jx_attr_path(slm_jctx *c, slm_jv item, slm_jv path, slm_jv *out)
{
    if (path.kind != SLM_JV_STR)
        return slm_jx_getitem(c, item, path, out);
    slm_jv cur = slm_jv_retain(item);
    const char *p = path.u.s->s, *end = p + path.u.s->len;
    while (1) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *stop = dot ? dot : end;
        bool digits = stop > p;
        for (const char *q = p; q < stop; q++)
            digits = digits && *q >= '0' && *q <= '9';
        slm_jv key = slm_jv_none(), next;
        slm_status st = digits ? (key = slm_jv_int(strtoll(p, NULL, 10)), SLM_OK)
                               : slm_jx_str(c, p, (size_t)(stop - p), &key);
        if (st == SLM_OK)
            st = cur.kind == SLM_JV_UNDEF ? slm_jx_undefined(c, cur)
                                          : slm_jx_getitem(c, cur, key, &next);
        slm_jv_release(key);
        slm_jv_release(cur);
        if (st != SLM_OK)
            return st;
        cur = next;
        if (!dot)
            break;
        p = dot + 1;
    }
    *out = cur;
    return SLM_OK;
}
