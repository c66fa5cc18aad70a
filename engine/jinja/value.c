/*
 * value.c — the dynamic values of the Jinja evaluator: construction,
 * reference counting, list/dict storage, and the Python semantics of
 * truthiness, equality and ordering that templates rely on.
 *
 * Dicts keep insertion order (as Python's) and look keys up by a linear scan
 * with Python equality: chat-template dicts are messages and tool schemas
 * with a handful of keys, where a scan beats hashing.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

/* ------------------------------------------------------------ work budget */

_Thread_local slm_jwork *slm_jwork_current;

bool slm_jwork_charge(uint64_t units)
{
    slm_jwork *w = slm_jwork_current;
    if (!w)
        return true;
    if (w->exceeded || units > w->limit - w->used) {
        w->exceeded = true;
        return false;
    }
    w->used += units;
    return true;
}

bool slm_jwork_exceeded(void) { return slm_jwork_current && slm_jwork_current->exceeded; }

/* Charged per list item, dict entry or value compared: about the bytes touched. */
#define WORK_ITEM 16u
#define WORK_ENTRY 32u

/* ---------------------------------------------------------- construction */

slm_jv slm_jv_undef(void) { return (slm_jv){.kind = SLM_JV_UNDEF}; }
slm_jv slm_jv_none(void) { return (slm_jv){.kind = SLM_JV_NONE}; }
slm_jv slm_jv_bool(bool b) { return (slm_jv){.kind = SLM_JV_BOOL, .u.b = b}; }
slm_jv slm_jv_int(int64_t i) { return (slm_jv){.kind = SLM_JV_INT, .u.i = i}; }
slm_jv slm_jv_float(double f) { return (slm_jv){.kind = SLM_JV_FLOAT, .u.f = f}; }

bool slm_jv_str_new(const char *s, size_t len, slm_jv *out)
{
    *out = slm_jv_none();
    if (len > SLM_JINJA_MAX_STRING || !slm_jwork_charge(len))
        return false;
    slm_jv_str *str = malloc(sizeof *str + len + 1);
    if (!str)
        return false;
    str->rc = 1;
    str->len = len;
    if (len)
        memcpy(str->s, s, len);
    str->s[len] = '\0';
    *out = (slm_jv){.kind = SLM_JV_STR, .u.s = str};
    return true;
}

bool slm_jv_cstr(const char *s, slm_jv *out) { return slm_jv_str_new(s, strlen(s), out); }

/* An undefined value carrying the message jinja's UndefinedError would show. */
bool slm_jv_undef_msg(slm_jv *out, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    slm_jv s;
    if (!slm_jv_cstr(msg, &s)) {
        *out = slm_jv_undef();
        return false;
    }
    *out = (slm_jv){.kind = SLM_JV_UNDEF, .u.s = s.u.s};
    return true;
}

bool slm_jv_list_new(size_t cap, int flavor, slm_jv *out)
{
    *out = slm_jv_none();
    if (cap > SIZE_MAX / WORK_ITEM || !slm_jwork_charge(cap * WORK_ITEM))
        return false;
    slm_jv_list *l = calloc(1, sizeof *l);
    if (!l)
        return false;
    if (cap) {
        l->v = malloc(cap * sizeof *l->v);
        if (!l->v) {
            free(l);
            return false;
        }
        l->cap = cap;
    }
    l->rc = 1;
    l->flavor = (uint8_t)flavor;
    *out = (slm_jv){.kind = SLM_JV_LIST, .u.l = l};
    return true;
}

static bool dict_alloc(slm_jv *out, uint8_t kind)
{
    *out = slm_jv_none();
    slm_jv_dict *d = calloc(1, sizeof *d);
    if (!d)
        return false;
    d->rc = 1;
    *out = (slm_jv){.kind = kind, .u.d = d};
    return true;
}

bool slm_jv_dict_new(slm_jv *out) { return dict_alloc(out, SLM_JV_DICT); }
bool slm_jv_ns_new(slm_jv *out) { return dict_alloc(out, SLM_JV_NS); }

bool slm_jv_list_push(slm_jv_list *l, slm_jv v)
{
    if (!slm_jwork_charge(WORK_ITEM)) {
        slm_jv_release(v);
        return false;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        slm_jv *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            slm_jv_release(v);
            return false;
        }
        l->v = nv;
        l->cap = cap;
    }
    uint32_t dv = slm_jv_depth(v) + 1;
    if (dv > l->depth)
        l->depth = dv;
    l->v[l->n++] = v;
    return true;
}

slm_jv *slm_jv_dict_get(const slm_jv_dict *d, slm_jv key)
{
    for (size_t i = 0; i < d->n; i++)
        if (slm_jv_equal(d->k[i], key))
            return &d->v[i];
    return NULL;
}

slm_jv *slm_jv_dict_get_str(const slm_jv_dict *d, const char *key, size_t len)
{
    for (size_t i = 0; i < d->n; i++) {
        const slm_jv *k = &d->k[i];
        if (k->kind == SLM_JV_STR && k->u.s->len == len && slm_jwork_charge(len) &&
            memcmp(k->u.s->s, key, len) == 0)
            return &d->v[i];
    }
    return NULL;
}

bool slm_jv_dict_set(slm_jv_dict *d, slm_jv key, slm_jv val)
{
    slm_jv *slot = slm_jwork_charge(WORK_ENTRY) ? slm_jv_dict_get(d, key) : NULL;
    if (slm_jwork_exceeded()) { /* the lookup may have stopped early */
        slm_jv_release(key);
        slm_jv_release(val);
        return false;
    }
    if (slot) { /* Python keeps the first key object and its position */
        uint32_t dv = slm_jv_depth(val) + 1;
        if (dv > d->depth)
            d->depth = dv;
        slm_jv_release(*slot);
        *slot = val;
        slm_jv_release(key);
        return true;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        slm_jv *nk = realloc(d->k, cap * sizeof *nk);
        if (nk)
            d->k = nk;
        slm_jv *nv = nk ? realloc(d->v, cap * sizeof *nv) : NULL;
        if (!nv) {
            slm_jv_release(key);
            slm_jv_release(val);
            return false;
        }
        d->v = nv;
        d->cap = cap;
    }
    uint32_t dv = slm_jv_depth(val) + 1, dk = slm_jv_depth(key) + 1;
    if (dv > d->depth)
        d->depth = dv;
    if (dk > d->depth)
        d->depth = dk;
    d->k[d->n] = key;
    d->v[d->n] = val;
    d->n++;
    return true;
}

bool slm_jv_dict_set_str(slm_jv_dict *d, const char *key, slm_jv val)
{
    slm_jv k;
    if (!slm_jv_cstr(key, &k)) {
        slm_jv_release(val);
        return false;
    }
    return slm_jv_dict_set(d, k, val);
}

void slm_jv_dict_clear(slm_jv_dict *d)
{
    size_t n = d->n;
    d->n = 0; /* first, so re-entrant releases see an empty dict */
    for (size_t i = 0; i < n; i++) {
        slm_jv_release(d->k[i]);
        slm_jv_release(d->v[i]);
    }
}

/* ------------------------------------------------------- reference counts */

static int *heap_rc(slm_jv v)
{
    switch (v.kind) {
    case SLM_JV_UNDEF:
    case SLM_JV_STR: return v.u.s ? &v.u.s->rc : NULL;
    case SLM_JV_LIST: return &v.u.l->rc;
    case SLM_JV_DICT:
    case SLM_JV_NS: return &v.u.d->rc;
    case SLM_JV_LOOP: return &v.u.loop->rc;
    case SLM_JV_MACRO: return &v.u.m->rc;
    case SLM_JV_METHOD: return &v.u.meth->rc;
    default: return NULL;
    }
}

slm_jv slm_jv_retain(slm_jv v)
{
    int *rc = heap_rc(v);
    if (rc && *rc < SLM_JV_IMMORTAL)
        (*rc)++;
    return v;
}

void slm_jv_make_immortal(slm_jv v)
{
    int *rc = heap_rc(v);
    if (rc)
        *rc = SLM_JV_IMMORTAL;
}

void slm_jv_free_immortal(slm_jv v)
{
    int *rc = heap_rc(v);
    if (rc) {
        *rc = 1;
        slm_jv_release(v);
    }
}

static void free_list(slm_jv_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        slm_jv_release(l->v[i]);
    free(l->v);
    free(l);
}

static void free_dict(slm_jv_dict *d)
{
    slm_jv_dict_clear(d);
    free(d->k);
    free(d->v);
    free(d);
}

void slm_jv_release(slm_jv v)
{
    int *rc = heap_rc(v);
    if (!rc || *rc >= SLM_JV_IMMORTAL || --*rc > 0)
        return;
    switch (v.kind) {
    case SLM_JV_LIST: free_list(v.u.l); break;
    case SLM_JV_DICT:
    case SLM_JV_NS: free_dict(v.u.d); break;
    case SLM_JV_LOOP:
        slm_jv_release((slm_jv){.kind = SLM_JV_LIST, .u.l = v.u.loop->items});
        free(v.u.loop);
        break;
    case SLM_JV_METHOD:
        slm_jv_release(v.u.meth->self);
        free(v.u.meth);
        break;
    case SLM_JV_MACRO: free(v.u.m); break;
    default: free(v.u.s); break; /* strings and undefined messages */
    }
}

/* ----------------------------------------------------- Python semantics */

uint32_t slm_jv_depth(slm_jv v)
{
    if (v.kind == SLM_JV_LIST)
        return v.u.l->depth;
    if (v.kind == SLM_JV_DICT)
        return v.u.d->depth;
    return 0;
}

bool slm_jv_truthy(slm_jv v)
{
    switch (v.kind) {
    case SLM_JV_UNDEF:
    case SLM_JV_NONE: return false;
    case SLM_JV_BOOL: return v.u.b;
    case SLM_JV_INT: return v.u.i != 0;
    case SLM_JV_FLOAT: return v.u.f != 0.0;
    case SLM_JV_STR: return v.u.s->len > 0;
    case SLM_JV_LIST: return v.u.l->flavor == SLM_JSEQ_GEN || v.u.l->n > 0;
    case SLM_JV_DICT: return v.u.d->n > 0;
    default: return true;
    }
}

bool slm_jv_is_seq(slm_jv v) { return v.kind == SLM_JV_LIST; }

bool slm_jv_is_number(slm_jv v)
{
    return v.kind == SLM_JV_BOOL || v.kind == SLM_JV_INT || v.kind == SLM_JV_FLOAT;
}

double slm_jv_as_double(slm_jv v)
{
    switch (v.kind) {
    case SLM_JV_BOOL: return v.u.b ? 1.0 : 0.0;
    case SLM_JV_INT: return (double)v.u.i;
    case SLM_JV_FLOAT: return v.u.f;
    default: return 0.0;
    }
}

static bool num_equal(slm_jv a, slm_jv b)
{
    if (a.kind != SLM_JV_FLOAT && b.kind != SLM_JV_FLOAT) {
        int64_t x = a.kind == SLM_JV_BOOL ? a.u.b : a.u.i;
        int64_t y = b.kind == SLM_JV_BOOL ? b.u.b : b.u.i;
        return x == y;
    }
    return slm_jv_as_double(a) == slm_jv_as_double(b);
}

static bool dict_equal(const slm_jv_dict *a, const slm_jv_dict *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const slm_jv *o = slm_jv_dict_get(b, a->k[i]);
        if (!o || !slm_jv_equal(a->v[i], *o))
            return false;
    }
    return true;
}

bool slm_jv_equal(slm_jv a, slm_jv b)
{
    if (!slm_jwork_charge(WORK_ITEM))
        return false; /* the render fails: the answer no longer matters */
    if (slm_jv_is_number(a) && slm_jv_is_number(b))
        return num_equal(a, b);
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case SLM_JV_UNDEF:
    case SLM_JV_NONE: return true;
    case SLM_JV_STR:
        return a.u.s->len == b.u.s->len && slm_jwork_charge(a.u.s->len) &&
               memcmp(a.u.s->s, b.u.s->s, a.u.s->len) == 0;
    case SLM_JV_LIST: {
        const slm_jv_list *x = a.u.l, *y = b.u.l;
        if (x == y)
            return true;
        if (x->flavor != y->flavor || x->flavor == SLM_JSEQ_GEN || x->n != y->n)
            return false;
        for (size_t i = 0; i < x->n; i++)
            if (!slm_jv_equal(x->v[i], y->v[i]))
                return false;
        return true;
    }
    case SLM_JV_DICT: return a.u.d == b.u.d || dict_equal(a.u.d, b.u.d);
    case SLM_JV_FUNC: return a.u.fn == b.u.fn;
    case SLM_JV_METHOD:
        return a.u.meth->id == b.u.meth->id && slm_jv_equal(a.u.meth->self, b.u.meth->self);
    default: return a.u.d == b.u.d; /* identity for namespaces, loops, macros */
    }
}

static int cmp_bytes(const slm_jv_str *a, const slm_jv_str *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    slm_jwork_charge(n);
    int c = memcmp(a->s, b->s, n); /* UTF-8 byte order is code point order */
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

bool slm_jv_compare(slm_jv a, slm_jv b, int *cmp)
{
    *cmp = 0;
    if (!slm_jwork_charge(WORK_ITEM))
        return true; /* "equal": the render fails anyway, see slm_jwork_charge */
    if (slm_jv_is_number(a) && slm_jv_is_number(b)) {
        if (a.kind != SLM_JV_FLOAT && b.kind != SLM_JV_FLOAT) {
            int64_t x = a.kind == SLM_JV_BOOL ? a.u.b : a.u.i;
            int64_t y = b.kind == SLM_JV_BOOL ? b.u.b : b.u.i;
            *cmp = (x > y) - (x < y);
        } else {
            double x = slm_jv_as_double(a), y = slm_jv_as_double(b);
            *cmp = (x > y) - (x < y);
        }
        return true;
    }
    if (a.kind == SLM_JV_STR && b.kind == SLM_JV_STR) {
        *cmp = cmp_bytes(a.u.s, b.u.s);
        return true;
    }
    if (a.kind == SLM_JV_LIST && b.kind == SLM_JV_LIST && a.u.l->flavor == b.u.l->flavor &&
        a.u.l->flavor != SLM_JSEQ_GEN) {
        const slm_jv_list *x = a.u.l, *y = b.u.l;
        for (size_t i = 0; i < x->n && i < y->n; i++) {
            if (slm_jv_equal(x->v[i], y->v[i]))
                continue;
            return slm_jv_compare(x->v[i], y->v[i], cmp);
        }
        *cmp = (x->n > y->n) - (x->n < y->n);
        return true;
    }
    return false;
}

const char *slm_jv_type_name(slm_jv v)
{
    switch (v.kind) {
    case SLM_JV_UNDEF: return "Undefined";
    case SLM_JV_NONE: return "NoneType";
    case SLM_JV_BOOL: return "bool";
    case SLM_JV_INT: return "int";
    case SLM_JV_FLOAT: return "float";
    case SLM_JV_STR: return "str";
    case SLM_JV_LIST:
        return v.u.l->flavor == SLM_JSEQ_TUPLE ? "tuple"
               : v.u.l->flavor == SLM_JSEQ_GEN ? "generator" : "list";
    case SLM_JV_DICT: return "dict";
    case SLM_JV_NS: return "Namespace";
    case SLM_JV_LOOP: return "LoopContext";
    case SLM_JV_MACRO: return "Macro";
    case SLM_JV_FUNC: return "function";
    default: return "builtin_function_or_method";
    }
}
