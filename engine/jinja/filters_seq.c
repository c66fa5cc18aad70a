/*
 * filters_seq.c — jinja2's filters over sequences and mappings: first,
 * last, join, list, length, map, select/reject(attr), sort, unique,
 * min/max, sum, items, dictsort, reverse, batch.
 *
 * jinja returns generators from map/select/reject/unique/items/reverse;
 * here they are lists flagged SLM_JSEQ_GEN, which keeps the Python
 * behaviour templates can observe (always truthy, no len(), not
 * subscriptable) without lazy evaluation. Sorting is a stable merge sort
 * with Python's ordering, like sorted().
 */
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "filters.h"

static slm_status new_list(slm_jctx *c, size_t cap, int flavor, slm_jv *out)
{
    return slm_jv_list_new(cap, flavor, out) ? SLM_OK : slm_jx_nomem(c);
}

static slm_status push(slm_jctx *c, slm_jv list, slm_jv item)
{
    return slm_jv_list_push(list.u.l, item) ? SLM_OK : slm_jx_nomem(c);
}

/* jinja's ignore_case postprocessing: strings are compared lower-cased. */
static slm_status fold_case(slm_jctx *c, slm_jv *v)
{
    if (v->kind != SLM_JV_STR)
        return SLM_OK;
    slm_jbuf b = {0};
    slm_py_case(&b, v->u.s->s, v->u.s->len, SLM_CASE_LOWER);
    slm_jv lower;
    SLM_TRY(slm_jx_buf_done(c, &b, &lower));
    slm_jv_release(*v);
    *v = lower;
    return SLM_OK;
}

/* make_attrgetter / make_multi_attrgetter: the sort key of one item.
 * `multi` splits the attribute on "," into a tuple key. */
static slm_status item_key(slm_jctx *c, slm_jv item, const slm_jv *attr, bool fold, bool multi,
                           slm_jv *out)
{
    if (!attr || attr->kind == SLM_JV_NONE) {
        *out = slm_jv_retain(item);
        return fold ? fold_case(c, out) : SLM_OK;
    }
    if (!multi || attr->kind != SLM_JV_STR || !memchr(attr->u.s->s, ',', attr->u.s->len)) {
        SLM_TRY(slm_jx_attr_path(c, item, *attr, out));
        return fold ? fold_case(c, out) : SLM_OK;
    }
    SLM_TRY(new_list(c, 2, SLM_JSEQ_TUPLE, out));
    const char *p = attr->u.s->s, *end = p + attr->u.s->len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        slm_jv part, v;
        slm_status st = slm_jx_str(c, p, (size_t)(stop - p), &part);
        if (st == SLM_OK) {
            st = item_key(c, item, &part, fold, false, &v);
            slm_jv_release(part);
        }
        if (st == SLM_OK)
            st = push(c, *out, v);
        if (st != SLM_OK)
            return slm_jv_release(*out), st;
        if (!comma)
            return SLM_OK;
        p = comma + 1;
    }
}

static slm_status order(slm_jctx *c, slm_jv a, slm_jv b, int *cmp)
{
    if (a.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, a);
    if (b.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, b);
    if (!slm_jv_compare(a, b, cmp))
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "'<' not supported between instances of '%s' and '%s'",
                           slm_jv_type_name(a), slm_jv_type_name(b));
    return SLM_OK;
}

/* Stable merge sort of idx[] by keys[] (descending when `reverse`). */
static slm_status merge_sort(slm_jctx *c, const slm_jv *keys, size_t *idx, size_t *tmp, size_t n,
                             bool reverse)
{
    if (n < 2)
        return SLM_OK;
    size_t h = n / 2;
    SLM_TRY(merge_sort(c, keys, idx, tmp, h, reverse));
    SLM_TRY(merge_sort(c, keys, idx + h, tmp, n - h, reverse));
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int cmp;
        SLM_TRY(order(c, keys[idx[j]], keys[idx[i]], &cmp));
        bool take_right = reverse ? cmp > 0 : cmp < 0;
        tmp[k++] = take_right ? idx[j++] : idx[i++];
    }
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
    return SLM_OK;
}

/* Sorts `items` (a list) by the keys of `keys` (same length) into out. */
static slm_status sorted_by(slm_jctx *c, slm_jv items, const slm_jv *keys, bool reverse, int flavor,
                            slm_jv *out)
{
    size_t n = items.u.l->n;
    size_t *idx = malloc((n + 1) * sizeof *idx), *tmp = malloc((n + 1) * sizeof *tmp);
    slm_status st = idx && tmp ? SLM_OK : slm_jx_nomem(c);
    for (size_t i = 0; st == SLM_OK && i < n; i++)
        idx[i] = i;
    if (st == SLM_OK)
        st = merge_sort(c, keys, idx, tmp, n, reverse);
    if (st == SLM_OK)
        st = new_list(c, n, flavor, out);
    for (size_t i = 0; st == SLM_OK && i < n; i++)
        if ((st = push(c, *out, slm_jv_retain(items.u.l->v[idx[i]]))) != SLM_OK)
            slm_jv_release(*out);
    free(idx);
    free(tmp);
    return st;
}

static void release_keys(slm_jv *keys, size_t n)
{
    for (size_t i = 0; keys && i < n; i++)
        slm_jv_release(keys[i]);
    free(keys);
}

static slm_status compute_keys(slm_jctx *c, slm_jv items, const slm_jv *attr, bool fold,
                               bool multi, slm_jv **out)
{
    size_t n = items.u.l->n;
    slm_jv *keys = calloc(n + 1, sizeof *keys);
    if (!keys)
        return slm_jx_nomem(c);
    for (size_t i = 0; i < n; i++) {
        slm_status st = item_key(c, items.u.l->v[i], attr, fold, multi, &keys[i]);
        if (st != SLM_OK) {
            release_keys(keys, i);
            return st;
        }
    }
    *out = keys;
    return SLM_OK;
}

/* ---------------------------------------------------------- the filters */

static slm_status f_sort(slm_jctx *c, slm_jv items, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"reverse", "case_sensitive", "attribute", NULL};
    const slm_jv *p[3];
    SLM_TRY(slm_jargs_bind(c, a, "sort", P, p));
    slm_jv *keys;
    bool fold = !(p[1] && slm_jv_truthy(*p[1]));
    SLM_TRY(compute_keys(c, items, p[2], fold, true, &keys));
    slm_status st = sorted_by(c, items, keys, p[0] && slm_jv_truthy(*p[0]), SLM_JSEQ_LIST, out);
    release_keys(keys, items.u.l->n);
    return st;
}

static slm_status f_dictsort(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"case_sensitive", "by", "reverse", NULL};
    const slm_jv *p[3];
    SLM_TRY(slm_jargs_bind(c, a, "dictsort", P, p));
    if (in.kind != SLM_JV_DICT)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "dictsort needs a mapping, not '%s'",
                           slm_jv_type_name(in));
    int pos = 0;
    if (p[1]) {
        bool is_str = p[1]->kind == SLM_JV_STR;
        if (is_str && !strcmp(p[1]->u.s->s, "value"))
            pos = 1;
        else if (!is_str || strcmp(p[1]->u.s->s, "key") != 0)
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG,
                               "You can only sort by either \"key\" or \"value\"");
    }
    slm_jv pairs;
    SLM_TRY(new_list(c, in.u.d->n, SLM_JSEQ_LIST, &pairs));
    slm_jv *keys = calloc(in.u.d->n + 1, sizeof *keys);
    slm_status st = keys ? SLM_OK : slm_jx_nomem(c);
    for (size_t i = 0; st == SLM_OK && i < in.u.d->n; i++) {
        slm_jv pair;
        if ((st = new_list(c, 2, SLM_JSEQ_TUPLE, &pair)) != SLM_OK)
            break;
        slm_jv_list_push(pair.u.l, slm_jv_retain(in.u.d->k[i]));
        slm_jv_list_push(pair.u.l, slm_jv_retain(in.u.d->v[i]));
        if ((st = push(c, pairs, pair)) != SLM_OK)
            break;
        keys[i] = slm_jv_retain(pos ? in.u.d->v[i] : in.u.d->k[i]);
        if (!(p[0] && slm_jv_truthy(*p[0])))
            st = fold_case(c, &keys[i]);
    }
    if (st == SLM_OK)
        st = sorted_by(c, pairs, keys, p[2] && slm_jv_truthy(*p[2]), SLM_JSEQ_LIST, out);
    release_keys(keys, in.u.d->n);
    slm_jv_release(pairs);
    return st;
}

static slm_status f_join(slm_jctx *c, slm_jv items, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"d", "attribute", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, "join", P, p));
    slm_jbuf b = {0};
    for (size_t i = 0; i < items.u.l->n; i++) {
        if (i && p[0])
            slm_jv_to_str(&b, *p[0]);
        slm_jv v;
        slm_status st = item_key(c, items.u.l->v[i], p[1], false, false, &v);
        if (st != SLM_OK) {
            slm_jbuf_free(&b);
            return st;
        }
        slm_jv_to_str(&b, v);
        slm_jv_release(v);
    }
    return slm_jx_buf_done(c, &b, out);
}

static slm_status f_minmax(slm_jctx *c, slm_jv items, const slm_jargs *a, bool max, slm_jv *out)
{
    static const char *const P[] = {"case_sensitive", "attribute", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, max ? "max" : "min", P, p));
    if (items.u.l->n == 0)
        return slm_jv_undef_msg(out, "No aggregated item, sequence was empty.") ? SLM_OK
                                                                             : slm_jx_nomem(c);
    slm_jv *keys;
    SLM_TRY(compute_keys(c, items, p[1], !(p[0] && slm_jv_truthy(*p[0])), false, &keys));
    size_t best = 0;
    slm_status st = SLM_OK;
    for (size_t i = 1; st == SLM_OK && i < items.u.l->n; i++) {
        int cmp;
        st = order(c, keys[i], keys[best], &cmp);
        if (st == SLM_OK && (max ? cmp > 0 : cmp < 0))
            best = i;
    }
    if (st == SLM_OK)
        *out = slm_jv_retain(items.u.l->v[best]);
    release_keys(keys, items.u.l->n);
    return st;
}

static slm_status f_unique(slm_jctx *c, slm_jv items, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"case_sensitive", "attribute", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, "unique", P, p));
    slm_jv *keys;
    SLM_TRY(compute_keys(c, items, p[1], !(p[0] && slm_jv_truthy(*p[0])), false, &keys));
    slm_status st = new_list(c, items.u.l->n, SLM_JSEQ_GEN, out);
    for (size_t i = 0; st == SLM_OK && i < items.u.l->n; i++) {
        bool seen = false;
        if (slm_jwork_exceeded()) /* quadratic: stop as soon as the budget is gone */
            st = slm_jx_work_error(c);
        for (size_t k = 0; st == SLM_OK && k < i && !seen; k++)
            seen = slm_jv_equal(keys[k], keys[i]);
        if (!seen && (st = push(c, *out, slm_jv_retain(items.u.l->v[i]))) != SLM_OK)
            slm_jv_release(*out);
    }
    release_keys(keys, items.u.l->n);
    return st;
}

static slm_status f_sum(slm_jctx *c, slm_jv items, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"attribute", "start", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, "sum", P, p));
    slm_jv total = p[1] ? slm_jv_retain(*p[1]) : slm_jv_int(0);
    for (size_t i = 0; i < items.u.l->n; i++) {
        slm_jv v, next;
        slm_status st = item_key(c, items.u.l->v[i], p[0], false, false, &v);
        if (st == SLM_OK) {
            st = slm_jx_binop(c, SLM_OP_ADD, total, v, &next);
            slm_jv_release(v);
        }
        slm_jv_release(total);
        if (st != SLM_OK)
            return st;
        total = next;
    }
    *out = total;
    return SLM_OK;
}

/* --------------------------------------------------- select and map */

/* A test (by name) applied through select/reject: *keep = test(v, args). */
static slm_status run_test(slm_jctx *c, const slm_jv *name, const slm_jargs *extra, slm_jv v,
                           bool *keep)
{
    if (!name) {
        *keep = slm_jv_truthy(v);
        return SLM_OK;
    }
    bool supported;
    int id = name->kind == SLM_JV_STR ? slm_jinja_test_id(name->u.s->s, name->u.s->len, &supported)
                                      : -1;
    if (id < 0 || !supported)
        return slm_jx_fail(c, id < 0 ? SLM_ERR_INVALID_ARG : SLM_ERR_UNSUPPORTED,
                           "No test named '%s'.", name->kind == SLM_JV_STR ? name->u.s->s : "?");
    return slm_jx_test(c, id, v, extra, keep);
}

/* The arguments after the first `skip` positional ones (borrowed values). */
static void args_after(const slm_jargs *a, size_t skip, slm_jargs *out)
{
    out->n = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (!a->kw[i] && i < skip)
            continue;
        out->v[out->n] = a->v[i];
        out->kw[out->n++] = a->kw[i];
    }
}

static size_t n_positional(const slm_jargs *a)
{
    size_t n = 0;
    while (n < a->n && !a->kw[n])
        n++;
    return n;
}

static slm_status f_select(slm_jctx *c, slm_jv in, slm_jv items, const slm_jargs *a, bool attr,
                           bool want, slm_jv *out)
{
    SLM_TRY(new_list(c, 0, SLM_JSEQ_GEN, out));
    if (!slm_jv_truthy(in)) /* jinja: `if value:` before anything else */
        return SLM_OK;
    size_t npos = n_positional(a), off = attr ? 1 : 0;
    if (attr && npos == 0) {
        slm_jv_release(*out);
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "Missing parameter for attribute name");
    }
    slm_jargs extra;
    args_after(a, off + 1, &extra);
    const slm_jv *test = npos > off ? &a->v[off] : NULL;
    slm_status st = SLM_OK;
    for (size_t i = 0; st == SLM_OK && i < items.u.l->n; i++) {
        slm_jv v;
        bool keep = false;
        st = item_key(c, items.u.l->v[i], attr ? &a->v[0] : NULL, false, false, &v);
        if (st == SLM_OK) {
            st = run_test(c, test, &extra, v, &keep);
            slm_jv_release(v);
        }
        if (st == SLM_OK && keep == want)
            st = push(c, *out, slm_jv_retain(items.u.l->v[i]));
    }
    if (st != SLM_OK)
        slm_jv_release(*out);
    return st;
}

static slm_status map_one(slm_jctx *c, slm_jv item, const slm_jargs *a, slm_jv *out)
{
    size_t npos = n_positional(a);
    if (npos == 0) { /* map(attribute=..., default=...) */
        static const char *const P[] = {"attribute", "default", NULL};
        const slm_jv *p[2];
        SLM_TRY(slm_jargs_bind(c, a, "map", P, p));
        if (!p[0])
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "map requires a filter argument");
        SLM_TRY(slm_jx_attr_path(c, item, *p[0], out));
        if (p[1] && p[1]->kind != SLM_JV_NONE && out->kind == SLM_JV_UNDEF) {
            slm_jv_release(*out);
            *out = slm_jv_retain(*p[1]);
        }
        return SLM_OK;
    }
    const slm_jv *name = &a->v[0];
    bool supported;
    int id = name->kind == SLM_JV_STR ? slm_jinja_filter_id(name->u.s->s, name->u.s->len, &supported)
                                      : -1;
    if (id < 0 || !supported)
        return slm_jx_fail(c, id < 0 ? SLM_ERR_INVALID_ARG : SLM_ERR_UNSUPPORTED,
                           "No filter named '%s'.", name->kind == SLM_JV_STR ? name->u.s->s : "?");
    slm_jargs rest;
    args_after(a, 1, &rest);
    return slm_jx_filter(c, id, item, &rest, out);
}

static slm_status f_map(slm_jctx *c, slm_jv in, slm_jv items, const slm_jargs *a, slm_jv *out)
{
    SLM_TRY(new_list(c, items.u.l->n, SLM_JSEQ_GEN, out));
    if (!slm_jv_truthy(in))
        return SLM_OK;
    slm_status st = SLM_OK;
    for (size_t i = 0; st == SLM_OK && i < items.u.l->n; i++) {
        slm_jv v;
        if ((st = map_one(c, items.u.l->v[i], a, &v)) == SLM_OK)
            st = push(c, *out, v);
    }
    if (st != SLM_OK)
        slm_jv_release(*out);
    return st;
}

/* ------------------------------------------------------------ the rest */

static slm_status f_items(slm_jctx *c, slm_jv in, slm_jv *out)
{
    if (in.kind != SLM_JV_DICT && in.kind != SLM_JV_UNDEF)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "Can only get item pairs from a mapping.");
    size_t n = in.kind == SLM_JV_DICT ? in.u.d->n : 0;
    SLM_TRY(new_list(c, n, SLM_JSEQ_GEN, out));
    for (size_t i = 0; i < n; i++) {
        slm_jv pair;
        slm_status st = new_list(c, 2, SLM_JSEQ_TUPLE, &pair);
        if (st == SLM_OK) {
            slm_jv_list_push(pair.u.l, slm_jv_retain(in.u.d->k[i]));
            slm_jv_list_push(pair.u.l, slm_jv_retain(in.u.d->v[i]));
            st = push(c, *out, pair);
        }
        if (st != SLM_OK)
            return slm_jv_release(*out), st;
    }
    return SLM_OK;
}

static slm_status f_reverse(slm_jctx *c, slm_jv in, slm_jv items, slm_jv *out)
{
    if (in.kind == SLM_JV_STR) {
        slm_jbuf b = {0};
        for (size_t i = items.u.l->n; i-- > 0;)
            slm_jv_to_str(&b, items.u.l->v[i]);
        return slm_jx_buf_done(c, &b, out);
    }
    /* reversed() of a list is an iterator; of a generator, jinja builds a list */
    bool gen = in.kind == SLM_JV_LIST && in.u.l->flavor == SLM_JSEQ_GEN;
    SLM_TRY(new_list(c, items.u.l->n, gen ? SLM_JSEQ_LIST : SLM_JSEQ_GEN, out));
    for (size_t i = items.u.l->n; i-- > 0;)
        if (!slm_jv_list_push(out->u.l, slm_jv_retain(items.u.l->v[i])))
            return slm_jv_release(*out), slm_jx_nomem(c);
    return SLM_OK;
}

static slm_status f_batch(slm_jctx *c, slm_jv items, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"linecount", "fill_with", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, "batch", P, p));
    if (!p[0] || (p[0]->kind != SLM_JV_INT) || p[0]->u.i <= 0)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "batch() needs a positive line count");
    uint64_t per = (uint64_t)p[0]->u.i, n = items.u.l->n;
    /* the last row is padded to `per` items with fill_with: charge that row
     * before building it (a huge count is an error, not a balloon) */
    uint64_t pad = p[1] && n % per ? per - n % per : 0;
    SLM_TRY(slm_jx_work(c, pad > UINT64_MAX / 16 ? UINT64_MAX : pad * 16, "batch"));
    SLM_TRY(new_list(c, 0, SLM_JSEQ_GEN, out));
    for (uint64_t i = 0; i < n; i += per) {
        slm_jv row;
        uint64_t have = n - i < per ? n - i : per; /* items left for this row */
        slm_status st = new_list(c, (size_t)(have < 64 ? have : 64), SLM_JSEQ_LIST, &row);
        for (uint64_t k = 0; st == SLM_OK && k < have; k++)
            st = push(c, row, slm_jv_retain(items.u.l->v[i + k]));
        for (uint64_t k = have; st == SLM_OK && p[1] && k < per; k++)
            st = push(c, row, slm_jv_retain(*p[1]));
        if (st == SLM_OK)
            st = push(c, *out, row);
        else
            slm_jv_release(row);
        if (st != SLM_OK)
            return slm_jv_release(*out), st;
    }
    return SLM_OK;
}

static slm_status f_first_last(slm_jctx *c, slm_jv in, slm_jv items, bool last, slm_jv *out)
{
    if (last && in.kind == SLM_JV_LIST && in.u.l->flavor == SLM_JSEQ_GEN)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "'generator' object is not reversible");
    if (items.u.l->n == 0)
        return slm_jv_undef_msg(out, last ? "No last item, sequence was empty."
                                          : "No first item, sequence was empty.")
                   ? SLM_OK : slm_jx_nomem(c);
    *out = slm_jv_retain(items.u.l->v[last ? items.u.l->n - 1 : 0]);
    return SLM_OK;
}

static slm_status f_list(slm_jctx *c, slm_jv items, slm_jv *out)
{
    SLM_TRY(new_list(c, items.u.l->n, SLM_JSEQ_LIST, out));
    for (size_t i = 0; i < items.u.l->n; i++)
        if (!slm_jv_list_push(out->u.l, slm_jv_retain(items.u.l->v[i])))
            return slm_jv_release(*out), slm_jx_nomem(c);
    return SLM_OK;
}

static bool is_seq_filter(int id)
{
    switch (id) {
    case SLM_F_FIRST: case SLM_F_LAST: case SLM_F_JOIN: case SLM_F_LIST: case SLM_F_MAP:
    case SLM_F_SELECT: case SLM_F_REJECT: case SLM_F_SELECTATTR: case SLM_F_REJECTATTR:
    case SLM_F_SORT: case SLM_F_UNIQUE: case SLM_F_MIN: case SLM_F_MAX: case SLM_F_SUM:
    case SLM_F_REVERSE: case SLM_F_BATCH: return true;
    default: return false;
    }
}

static slm_status no_args(slm_jctx *c, const slm_jargs *a, const char *name)
{
    static const char *const none[] = {NULL};
    return slm_jargs_bind(c, a, name, none, NULL);
}

static slm_status seq_dispatch(slm_jctx *c, int id, slm_jv in, slm_jv items, const slm_jargs *a,
                               slm_jv *out)
{
    switch (id) {
    case SLM_F_FIRST: SLM_TRY(no_args(c, a, "first")); return f_first_last(c, in, items, false, out);
    case SLM_F_LAST: SLM_TRY(no_args(c, a, "last")); return f_first_last(c, in, items, true, out);
    case SLM_F_JOIN: return f_join(c, items, a, out);
    case SLM_F_LIST: SLM_TRY(no_args(c, a, "list")); return f_list(c, items, out);
    case SLM_F_MAP: return f_map(c, in, items, a, out);
    case SLM_F_SELECT: return f_select(c, in, items, a, false, true, out);
    case SLM_F_REJECT: return f_select(c, in, items, a, false, false, out);
    case SLM_F_SELECTATTR: return f_select(c, in, items, a, true, true, out);
    case SLM_F_REJECTATTR: return f_select(c, in, items, a, true, false, out);
    case SLM_F_SORT: return f_sort(c, items, a, out);
    case SLM_F_UNIQUE: return f_unique(c, items, a, out);
    case SLM_F_MIN: return f_minmax(c, items, a, false, out);
    case SLM_F_MAX: return f_minmax(c, items, a, true, out);
    case SLM_F_SUM: return f_sum(c, items, a, out);
    case SLM_F_REVERSE: SLM_TRY(no_args(c, a, "reverse")); return f_reverse(c, in, items, out);
    default: return f_batch(c, items, a, out);
    }
}

slm_status slm_jx_filter_seq(slm_jctx *c, int id, slm_jv in, const slm_jargs *a, slm_jv *out,
                             bool *handled)
{
    *handled = true;
    if (id == SLM_F_LENGTH || id == SLM_F_COUNT) {
        int64_t n;
        SLM_TRY(no_args(c, a, "length"));
        SLM_TRY(slm_jx_length(c, in, &n));
        *out = slm_jv_int(n);
        return SLM_OK;
    }
    if (id == SLM_F_ITEMS) {
        SLM_TRY(no_args(c, a, "items"));
        return f_items(c, in, out);
    }
    if (id == SLM_F_DICTSORT)
        return f_dictsort(c, in, a, out);
    if (!is_seq_filter(id)) {
        *handled = false;
        return SLM_OK;
    }
    bool lazy = id == SLM_F_MAP || id == SLM_F_SELECT || id == SLM_F_REJECT ||
                id == SLM_F_SELECTATTR || id == SLM_F_REJECTATTR;
    if (lazy && !slm_jv_truthy(in)) /* jinja checks `if value:` before iterating */
        return new_list(c, 0, SLM_JSEQ_GEN, out);
    slm_jv items;
    SLM_TRY(slm_jx_iterate(c, in, &items));
    slm_status st = seq_dispatch(c, id, in, items, a, out);
    slm_jv_release(items);
    return st;
}
