/*
 * methods.c — the Python methods templates call on values ('x'.strip(),
 * d.get('k'), d.items(), loop.cycle(...)).
 *
 * Like jinja's ImmutableSandboxedEnvironment, methods that mutate a list or
 * dict (append, pop, update, ...) are refused: looking them up yields an
 * Undefined whose use reports "access to attribute ... is unsafe".
 */
#include <string.h>

#include "eval.h"

enum {
    M_STRIP, M_LSTRIP, M_RSTRIP, M_SPLIT, M_RSPLIT, M_SPLITLINES, M_STARTSWITH, M_ENDSWITH,
    M_UPPER, M_LOWER, M_TITLE, M_CAPITALIZE, M_SWAPCASE, M_CASEFOLD, M_REPLACE, M_FIND, M_RFIND,
    M_COUNT, M_JOIN, M_ISDIGIT, M_ISALPHA, M_ISALNUM, M_ISSPACE, M_ISUPPER, M_ISLOWER,
    M_REMOVEPREFIX, M_REMOVESUFFIX,
    M_GET, M_ITEMS, M_KEYS, M_VALUES,
    M_INDEX, M_LCOUNT,
    M_CYCLE,
};

typedef struct {
    uint8_t kind; /* receiver */
    const char *name;
    int id;       /* -1: unsafe in the sandbox */
} method_entry;

static const method_entry METHODS[] = {
    {SLM_JV_STR, "strip", M_STRIP}, {SLM_JV_STR, "lstrip", M_LSTRIP},
    {SLM_JV_STR, "rstrip", M_RSTRIP}, {SLM_JV_STR, "split", M_SPLIT},
    {SLM_JV_STR, "rsplit", M_RSPLIT}, {SLM_JV_STR, "splitlines", M_SPLITLINES},
    {SLM_JV_STR, "startswith", M_STARTSWITH}, {SLM_JV_STR, "endswith", M_ENDSWITH},
    {SLM_JV_STR, "upper", M_UPPER}, {SLM_JV_STR, "lower", M_LOWER},
    {SLM_JV_STR, "title", M_TITLE}, {SLM_JV_STR, "capitalize", M_CAPITALIZE},
    {SLM_JV_STR, "swapcase", M_SWAPCASE}, {SLM_JV_STR, "casefold", M_CASEFOLD},
    {SLM_JV_STR, "replace", M_REPLACE}, {SLM_JV_STR, "find", M_FIND},
    {SLM_JV_STR, "rfind", M_RFIND}, {SLM_JV_STR, "count", M_COUNT},
    {SLM_JV_STR, "join", M_JOIN}, {SLM_JV_STR, "isdigit", M_ISDIGIT},
    {SLM_JV_STR, "isalpha", M_ISALPHA}, {SLM_JV_STR, "isalnum", M_ISALNUM},
    {SLM_JV_STR, "isspace", M_ISSPACE}, {SLM_JV_STR, "isupper", M_ISUPPER},
    {SLM_JV_STR, "islower", M_ISLOWER}, {SLM_JV_STR, "removeprefix", M_REMOVEPREFIX},
    {SLM_JV_STR, "removesuffix", M_REMOVESUFFIX},
    {SLM_JV_DICT, "get", M_GET}, {SLM_JV_DICT, "items", M_ITEMS},
    {SLM_JV_DICT, "keys", M_KEYS}, {SLM_JV_DICT, "values", M_VALUES},
    {SLM_JV_DICT, "pop", -1}, {SLM_JV_DICT, "popitem", -1}, {SLM_JV_DICT, "setdefault", -1},
    {SLM_JV_DICT, "update", -1}, {SLM_JV_DICT, "clear", -1},
    {SLM_JV_LIST, "index", M_INDEX}, {SLM_JV_LIST, "count", M_LCOUNT},
    {SLM_JV_LIST, "append", -1}, {SLM_JV_LIST, "extend", -1}, {SLM_JV_LIST, "insert", -1},
    {SLM_JV_LIST, "pop", -1}, {SLM_JV_LIST, "remove", -1}, {SLM_JV_LIST, "reverse", -1},
    {SLM_JV_LIST, "sort", -1}, {SLM_JV_LIST, "clear", -1},
    {SLM_JV_LOOP, "cycle", M_CYCLE},
};

void slm_jx_method_lookup(slm_jv obj, const char *name, size_t len, int *id, bool *unsafe)
{
    *id = -1;
    *unsafe = false;
    bool gen = obj.kind == SLM_JV_LIST && obj.u.l->flavor == SLM_JSEQ_GEN;
    bool tuple = obj.kind == SLM_JV_LIST && obj.u.l->flavor == SLM_JSEQ_TUPLE;
    for (size_t i = 0; !gen && i < sizeof METHODS / sizeof METHODS[0]; i++) {
        const method_entry *m = &METHODS[i];
        if (m->kind != obj.kind || strlen(m->name) != len || memcmp(m->name, name, len) != 0)
            continue;
        if (tuple && m->id < 0)
            return; /* tuples simply have no such attribute */
        *id = m->id;
        *unsafe = m->id < 0;
        return;
    }
}

/* ------------------------------------------------------------- strings */

static const slm_jv *str_arg(const slm_jv *v) { return v && v->kind == SLM_JV_STR ? v : NULL; }

static slm_status m_strip(slm_jctx *c, const slm_jv_str *s, const slm_jv *chars, bool l, bool r,
                          slm_jv *out)
{
    const slm_jv *ch = str_arg(chars);
    size_t b, e;
    slm_py_strip(s->s, s->len, ch ? ch->u.s->s : NULL, ch ? ch->u.s->len : 0, l, r, &b, &e);
    return slm_jx_str(c, s->s + b, e - b, out);
}

static slm_status push_piece(slm_jctx *c, slm_jv list, const char *s, size_t n)
{
    slm_jv v;
    SLM_TRY(slm_jx_str(c, s, n, &v));
    return slm_jv_list_push(list.u.l, v) ? SLM_OK : slm_jx_nomem(c);
}

/* str.split() without a separator: runs of whitespace, ends ignored. */
static slm_status split_ws(slm_jctx *c, const slm_jv_str *s, int64_t maxsplit, slm_jv list)
{
    size_t i = 0, n = s->len;
    uint32_t cp;
    if (!slm_jwork_charge(n)) /* whitespace makes no pieces to charge */
        return slm_jx_work_error(c);
    while (i < n) {
        while (i < n) { /* skip whitespace */
            size_t next = slm_utf8_next(s->s, n, i, &cp);
            if (!slm_py_isspace(cp))
                break;
            i = next;
        }
        if (i >= n)
            break;
        size_t start = i;
        if (maxsplit == 0) { /* the rest, with trailing whitespace stripped */
            size_t b, e;
            slm_py_strip(s->s + start, n - start, NULL, 0, false, true, &b, &e);
            return push_piece(c, list, s->s + start, e);
        }
        while (i < n) {
            size_t next = slm_utf8_next(s->s, n, i, &cp);
            if (slm_py_isspace(cp))
                break;
            i = next;
        }
        SLM_TRY(push_piece(c, list, s->s + start, i - start));
        maxsplit--;
    }
    return SLM_OK;
}

static slm_status split_sep(slm_jctx *c, const slm_jv_str *s, const slm_jv_str *sep,
                            int64_t maxsplit, slm_jv list)
{
    size_t start = 0;
    const char *hit;
    while (maxsplit != 0 &&
           (hit = slm_text_find(s->s + start, s->len - start, sep->s, sep->len)) != NULL) {
        size_t at = (size_t)(hit - s->s);
        SLM_TRY(push_piece(c, list, s->s + start, at - start));
        start = at + sep->len;
        maxsplit--;
    }
    return push_piece(c, list, s->s + start, s->len - start);
}

static slm_status m_split(slm_jctx *c, const slm_jv_str *s, const slm_jargs *a, bool right,
                          slm_jv *out)
{
    static const char *const P[] = {"sep", "maxsplit", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, right ? "rsplit" : "split", P, p));
    int64_t maxsplit = p[1] && p[1]->kind == SLM_JV_INT ? p[1]->u.i : -1;
    const slm_jv *sep = str_arg(p[0]);
    if (sep && sep->u.s->len == 0)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "empty separator");
    if (right && maxsplit >= 0)
        return slm_jx_fail(c, SLM_ERR_UNSUPPORTED, "rsplit() with maxsplit is not supported");
    if (!slm_jv_list_new(0, SLM_JSEQ_LIST, out))
        return slm_jx_nomem(c);
    slm_status st = sep ? split_sep(c, s, sep->u.s, maxsplit, *out) : split_ws(c, s, maxsplit, *out);
    if (st != SLM_OK)
        slm_jv_release(*out);
    return st;
}

static slm_status m_splitlines(slm_jctx *c, const slm_jv_str *s, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"keepends", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, "splitlines", P, p));
    bool keep = p[0] && slm_jv_truthy(*p[0]);
    if (!slm_jv_list_new(0, SLM_JSEQ_LIST, out))
        return slm_jx_nomem(c);
    size_t start = 0;
    uint32_t cp;
    slm_status st = slm_jwork_charge(s->len) ? SLM_OK : slm_jx_work_error(c);
    for (size_t i = 0; st == SLM_OK && i < s->len;) {
        size_t next = slm_utf8_next(s->s, s->len, i, &cp);
        if (slm_py_islinebreak(cp)) {
            if (cp == '\r' && next < s->len && s->s[next] == '\n')
                next++;
            st = push_piece(c, *out, s->s + start, (keep ? next : i) - start);
            start = next;
        }
        i = next;
    }
    if (st == SLM_OK && start < s->len)
        st = push_piece(c, *out, s->s + start, s->len - start);
    if (st != SLM_OK)
        slm_jv_release(*out);
    return st;
}

static bool affix_match(const slm_jv_str *s, const slm_jv_str *x, bool end)
{
    return slm_text_affix(s->s, s->len, x->s, x->len, end);
}

static slm_status m_affix(slm_jctx *c, const slm_jv_str *s, const slm_jargs *a, bool end,
                          slm_jv *out)
{
    static const char *const P[] = {"prefix", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, end ? "endswith" : "startswith", P, p));
    bool yes = false;
    if (p[0] && p[0]->kind == SLM_JV_STR) {
        yes = affix_match(s, p[0]->u.s, end);
    } else if (p[0] && p[0]->kind == SLM_JV_LIST && p[0]->u.l->flavor == SLM_JSEQ_TUPLE) {
        for (size_t i = 0; !yes && i < p[0]->u.l->n; i++) {
            slm_jv x = p[0]->u.l->v[i];
            if (x.kind != SLM_JV_STR)
                return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "tuple for %s must only contain str",
                                   end ? "endswith" : "startswith");
            yes = affix_match(s, x.u.s, end);
        }
    } else {
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "%s first arg must be str or a tuple of str",
                           end ? "endswith" : "startswith");
    }
    *out = slm_jv_bool(yes);
    return SLM_OK;
}

/* find / rfind / count of a substring, in code points as Python reports. */
static slm_status m_search(slm_jctx *c, const slm_jv_str *s, const slm_jargs *a, int id, slm_jv *out)
{
    static const char *const P[] = {"sub", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, "find", P, p));
    const slm_jv *sub = str_arg(p[0]);
    if (!sub)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "must be str");
    const slm_jv_str *x = sub->u.s;
    int64_t found = -1, count = 0;
    size_t last = 0;
    for (size_t i = 0; i + x->len <= s->len;) {
        const char *hit = slm_text_find(s->s + i, s->len - i, x->s, x->len);
        if (!hit)
            break;
        last = (size_t)(hit - s->s);
        found = 0;
        count++;
        if (id == M_FIND)
            break;
        /* count: non-overlapping; rfind: the last start, overlaps included */
        i = last + (x->len && id == M_COUNT ? x->len : 1);
    }
    if (found == 0) /* a code point index, as Python reports it */
        found = (int64_t)slm_utf8_count(s->s, last);
    if (id == M_COUNT && x->len == 0)
        count = (int64_t)slm_utf8_count(s->s, s->len) + 1;
    *out = slm_jv_int(id == M_COUNT ? count : found);
    return SLM_OK;
}

static slm_status m_join(slm_jctx *c, const slm_jv_str *s, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"iterable", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, "join", P, p));
    if (!p[0])
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "join() takes exactly one argument");
    slm_jv items;
    SLM_TRY(slm_jx_iterate(c, *p[0], &items));
    slm_jbuf b = {0};
    slm_status st = SLM_OK;
    for (size_t i = 0; i < items.u.l->n && st == SLM_OK; i++) {
        slm_jv v = items.u.l->v[i];
        if (v.kind != SLM_JV_STR)
            st = slm_jx_fail(c, SLM_ERR_INVALID_ARG, "sequence item %zu: expected str instance, %s found",
                             i, slm_jv_type_name(v));
        if (i)
            slm_jbuf_put(&b, s->s, s->len);
        if (st == SLM_OK)
            slm_jbuf_put(&b, v.u.s->s, v.u.s->len);
    }
    slm_jv_release(items);
    if (st != SLM_OK) {
        slm_jbuf_free(&b);
        return st;
    }
    return slm_jx_buf_done(c, &b, out);
}

static bool char_class(const slm_jv_str *s, int id)
{
    if (!slm_jwork_charge(s->len))
        return false; /* the render fails with the work limit */
    if (id == M_ISUPPER || id == M_ISLOWER) {
        bool any = false;
        uint32_t cp;
        for (size_t i = 0; i < s->len;) {
            i = slm_utf8_next(s->s, s->len, i, &cp);
            bool upper;
            if (slm_py_is_cased(cp, &upper)) {
                if (upper != (id == M_ISUPPER))
                    return false;
                any = true;
            }
        }
        return any;
    }
    if (s->len == 0)
        return false;
    uint32_t cp;
    for (size_t i = 0; i < s->len;) {
        i = slm_utf8_next(s->s, s->len, i, &cp);
        bool digit = cp < 0x80 && cp >= '0' && cp <= '9';
        bool alpha = cp < 0x80 ? ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') : slm_py_is_cased(cp, NULL);
        bool ok = id == M_ISDIGIT ? digit : id == M_ISALPHA ? alpha : id == M_ISALNUM ? digit || alpha
                                                                   : slm_py_isspace(cp);
        if (!ok)
            return false;
    }
    return true;
}

static slm_status m_case(slm_jctx *c, const slm_jv_str *s, slm_case_mode mode, slm_jv *out)
{
    slm_jbuf b = {0};
    slm_py_case(&b, s->s, s->len, mode);
    return slm_jx_buf_done(c, &b, out);
}

static slm_status m_trim_affix(slm_jctx *c, const slm_jv_str *s, const slm_jargs *a, bool end,
                               slm_jv *out)
{
    static const char *const P[] = {"affix", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, end ? "removesuffix" : "removeprefix", P, p));
    const slm_jv *x = str_arg(p[0]);
    if (!x)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "%s() argument must be str",
                           end ? "removesuffix" : "removeprefix");
    if (!affix_match(s, x->u.s, end))
        return slm_jx_str(c, s->s, s->len, out);
    return slm_jx_str(c, s->s + (end ? 0 : x->u.s->len), s->len - x->u.s->len, out);
}

static slm_status m_replace(slm_jctx *c, const slm_jv_str *s, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"old", "new", "count", NULL};
    const slm_jv *p[3];
    SLM_TRY(slm_jargs_bind(c, a, "replace", P, p));
    if (!str_arg(p[0]) || !str_arg(p[1]))
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "replace() arguments must be str");
    int64_t count = p[2] && p[2]->kind == SLM_JV_INT ? p[2]->u.i : -1;
    return slm_jx_replace(c, s, p[0]->u.s, p[1]->u.s, count, out);
}

static slm_status no_args(slm_jctx *c, const slm_jargs *a, const char *name)
{
    static const char *const none[] = {NULL};
    return slm_jargs_bind(c, a, name, none, NULL);
}

static slm_status str_method(slm_jctx *c, const slm_jv_str *s, int id, const slm_jargs *a,
                             slm_jv *out)
{
    static const char *const P_CHARS[] = {"chars", NULL};
    const slm_jv *p[1];
    switch (id) {
    case M_STRIP:
    case M_LSTRIP:
    case M_RSTRIP:
        SLM_TRY(slm_jargs_bind(c, a, "strip", P_CHARS, p));
        return m_strip(c, s, p[0], id != M_RSTRIP, id != M_LSTRIP, out);
    case M_SPLIT:
    case M_RSPLIT: return m_split(c, s, a, id == M_RSPLIT, out);
    case M_SPLITLINES: return m_splitlines(c, s, a, out);
    case M_STARTSWITH:
    case M_ENDSWITH: return m_affix(c, s, a, id == M_ENDSWITH, out);
    case M_REPLACE: return m_replace(c, s, a, out);
    case M_FIND:
    case M_RFIND:
    case M_COUNT: return m_search(c, s, a, id, out);
    case M_JOIN: return m_join(c, s, a, out);
    case M_REMOVEPREFIX:
    case M_REMOVESUFFIX: return m_trim_affix(c, s, a, id == M_REMOVESUFFIX, out);
    default: break;
    }
    SLM_TRY(no_args(c, a, "str method"));
    switch (id) {
    case M_UPPER: return m_case(c, s, SLM_CASE_UPPER, out);
    case M_LOWER:
    case M_CASEFOLD: return m_case(c, s, SLM_CASE_LOWER, out);
    case M_TITLE: return m_case(c, s, SLM_CASE_TITLE, out);
    case M_CAPITALIZE: return m_case(c, s, SLM_CASE_CAPITALIZE, out);
    case M_SWAPCASE: return m_case(c, s, SLM_CASE_SWAP, out);
    default: *out = slm_jv_bool(char_class(s, id)); return SLM_OK;
    }
}

/* ------------------------------------------------------ dicts and lists */

static slm_status dict_view(slm_jctx *c, const slm_jv_dict *d, int id, slm_jv *out)
{
    if (!slm_jv_list_new(d->n, SLM_JSEQ_LIST, out))
        return slm_jx_nomem(c);
    for (size_t i = 0; i < d->n; i++) {
        slm_jv item;
        if (id == M_ITEMS) {
            if (!slm_jv_list_new(2, SLM_JSEQ_TUPLE, &item))
                return slm_jv_release(*out), slm_jx_nomem(c);
            slm_jv_list_push(item.u.l, slm_jv_retain(d->k[i]));
            slm_jv_list_push(item.u.l, slm_jv_retain(d->v[i]));
        } else {
            item = slm_jv_retain(id == M_KEYS ? d->k[i] : d->v[i]);
        }
        if (!slm_jv_list_push(out->u.l, item))
            return slm_jv_release(*out), slm_jx_nomem(c);
    }
    return SLM_OK;
}

static slm_status dict_method(slm_jctx *c, const slm_jv_dict *d, int id, const slm_jargs *a,
                              slm_jv *out)
{
    if (id != M_GET) {
        SLM_TRY(no_args(c, a, "dict method"));
        return dict_view(c, d, id, out);
    }
    static const char *const P[] = {"key", "default", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, "get", P, p));
    if (!p[0])
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "get expected at least 1 argument, got 0");
    const slm_jv *v = slm_jv_dict_get(d, *p[0]);
    *out = slm_jv_retain(v ? *v : p[1] ? *p[1] : slm_jv_none());
    return SLM_OK;
}

static slm_status list_method(slm_jctx *c, const slm_jv_list *l, int id, const slm_jargs *a,
                              slm_jv *out)
{
    static const char *const P[] = {"value", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, id == M_INDEX ? "index" : "count", P, p));
    if (!p[0])
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "method takes exactly one argument (0 given)");
    int64_t count = 0, first = -1;
    for (size_t i = 0; i < l->n; i++) {
        if (slm_jv_equal(l->v[i], *p[0])) {
            count++;
            if (first < 0)
                first = (int64_t)i;
        }
    }
    if (id == M_INDEX && first < 0)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "list.index(x): x not in list");
    *out = slm_jv_int(id == M_INDEX ? first : count);
    return SLM_OK;
}

static slm_status method_inner(slm_jctx *c, slm_jv self, int id, const slm_jargs *a, slm_jv *out)
{
    switch (self.kind) {
    case SLM_JV_STR: return str_method(c, self.u.s, id, a, out);
    case SLM_JV_DICT: return dict_method(c, self.u.d, id, a, out);
    case SLM_JV_LIST: return list_method(c, self.u.l, id, a, out);
    case SLM_JV_LOOP: /* loop.cycle(a, b, ...): the argument for this iteration */
        if (a->n == 0)
            return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "no items for cycling given");
        for (size_t i = 0; i < a->n; i++)
            if (a->kw[i])
                return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "cycle() takes no keyword arguments");
        *out = slm_jv_retain(a->v[self.u.loop->i % a->n]);
        return SLM_OK;
    default: return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "method call on '%s'", slm_jv_type_name(self));
    }
}

static const char *method_name(int id)
{
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (METHODS[i].id == id)
            return METHODS[i].name;
    return "?";
}

slm_status slm_jx_method(slm_jctx *c, slm_jv self, int id, const slm_jargs *a, slm_jv *out)
{
    slm_jrunning prev = slm_jx_op(c, "method", method_name(id));
    slm_status st = method_inner(c, self, id, a, out);
    slm_jx_op_restore(c, prev);
    if (st != SLM_OK) /* whatever was built is released: never hand it out */
        *out = slm_jv_none();
    return st;
}
