/*
 * filters.c — jinja2's builtin filters on scalars and strings, the filter
 * name table, and dispatch (sequence filters live in filters_seq.c).
 *
 * Each filter binds its arguments to jinja's Python signature, so
 * `indent(2, first=true)` and `indent(width=2)` both work and unknown
 * keywords fail as in Python. String filters first apply jinja's soft_str
 * (str(), with Undefined as ""), exactly as the builtins do.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "eval.h"
#include "filters.h"

static const struct {
    const char *name;
    bool supported;
} FILTER_NAMES[SLM_F_COUNT_] = {
    {"abs", true}, {"attr", true}, {"batch", true}, {"capitalize", true}, {"center", true},
    {"count", true}, {"d", true}, {"default", true}, {"dictsort", true}, {"e", true},
    {"escape", true}, {"filesizeformat", false}, {"first", true}, {"float", true},
    {"forceescape", true}, {"format", false}, {"groupby", false}, {"indent", true},
    {"int", true}, {"join", true}, {"last", true}, {"length", true}, {"list", true},
    {"lower", true}, {"items", true}, {"map", true}, {"min", true}, {"max", true},
    {"pprint", false}, {"random", false}, {"reject", true}, {"rejectattr", true},
    {"replace", true}, {"reverse", true}, {"round", true}, {"safe", true}, {"select", true},
    {"selectattr", true}, {"slice", false}, {"sort", true}, {"string", true},
    {"striptags", false}, {"sum", true}, {"title", true}, {"trim", true}, {"truncate", false},
    {"unique", true}, {"upper", true}, {"urlencode", false}, {"urlize", false},
    {"wordcount", true}, {"wordwrap", false}, {"xmlattr", false}, {"tojson", true},
};

int slm_jinja_filter_id(const char *name, size_t len, bool *supported)
{
    for (int i = 0; i < SLM_F_COUNT_; i++) {
        if (strlen(FILTER_NAMES[i].name) == len && memcmp(FILTER_NAMES[i].name, name, len) == 0) {
            *supported = FILTER_NAMES[i].supported;
            return i;
        }
    }
    *supported = false;
    return -1;
}

/* ------------------------------------------------------------- helpers */

/* jinja's soft_str: str(v), Undefined printing as "". */
static slm_status soft_str(slm_jctx *c, slm_jv v, slm_jv *out)
{
    if (v.kind == SLM_JV_STR) {
        *out = slm_jv_retain(v);
        return SLM_OK;
    }
    slm_jbuf b = {0};
    slm_jv_to_str(&b, v);
    return slm_jx_buf_done(c, &b, out); /* a list printed past the limit says so */
}

static slm_status want_int(slm_jctx *c, const slm_jv *v, int64_t dflt, const char *what,
                           int64_t *out)
{
    if (!v || v->kind == SLM_JV_NONE) {
        *out = dflt;
        return SLM_OK;
    }
    if (v->kind == SLM_JV_INT || v->kind == SLM_JV_BOOL) {
        *out = v->kind == SLM_JV_BOOL ? v->u.b : v->u.i;
        return SLM_OK;
    }
    return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "%s must be an integer, not '%s'", what,
                       slm_jv_type_name(*v));
}

static slm_status no_args(slm_jctx *c, const slm_jargs *a, const char *name)
{
    static const char *const none[] = {NULL};
    return slm_jargs_bind(c, a, name, none, NULL);
}

/* ------------------------------------------------------- string filters */

static slm_status case_filter(slm_jctx *c, slm_jv in, slm_case_mode mode, slm_jv *out)
{
    slm_jv s;
    SLM_TRY(soft_str(c, in, &s));
    slm_jbuf b = {0};
    slm_py_case(&b, s.u.s->s, s.u.s->len, mode);
    slm_jv_release(s);
    return slm_jx_buf_done(c, &b, out);
}

static slm_status f_trim(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"chars", NULL};
    const slm_jv *chars[1];
    SLM_TRY(slm_jargs_bind(c, a, "trim", P, chars));
    slm_jv s;
    SLM_TRY(soft_str(c, in, &s));
    size_t b, e;
    bool custom = chars[0] && chars[0]->kind == SLM_JV_STR;
    slm_py_strip(s.u.s->s, s.u.s->len, custom ? chars[0]->u.s->s : NULL,
                 custom ? chars[0]->u.s->len : 0, true, true, &b, &e);
    slm_status st = slm_jx_str(c, s.u.s->s + b, e - b, out);
    slm_jv_release(s);
    return st;
}

/* Python str.replace(old, new, count) on byte strings of valid UTF-8. */
slm_status slm_jx_replace(slm_jctx *c, const slm_jv_str *s, const slm_jv_str *old,
                          const slm_jv_str *rep, int64_t count, slm_jv *out)
{
    slm_jbuf b = {0};
    size_t i = 0;
    uint32_t cp;
    if (old->len == 0) { /* inserts `rep` before every character and at the end */
        for (; i < s->len && count != 0; count--) {
            slm_jbuf_put(&b, rep->s, rep->len);
            size_t next = slm_utf8_next(s->s, s->len, i, &cp);
            slm_jbuf_put(&b, s->s + i, next - i);
            i = next;
        }
        if (i == s->len && count != 0)
            slm_jbuf_put(&b, rep->s, rep->len);
    } else {
        while (count != 0 && i + old->len <= s->len) {
            const char *hit = slm_text_find(s->s + i, s->len - i, old->s, old->len);
            if (!hit)
                break;
            slm_jbuf_put(&b, s->s + i, (size_t)(hit - (s->s + i)));
            slm_jbuf_put(&b, rep->s, rep->len);
            i = (size_t)(hit - s->s) + old->len;
            count--;
        }
    }
    slm_jbuf_put(&b, s->s + i, s->len - i);
    return slm_jx_buf_done(c, &b, out);
}

static slm_status f_replace(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"old", "new", "count", NULL};
    const slm_jv *p[3];
    SLM_TRY(slm_jargs_bind(c, a, "replace", P, p));
    if (!p[0] || !p[1])
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "replace() needs 'old' and 'new'");
    int64_t count = -1;
    SLM_TRY(want_int(c, p[2], -1, "replace count", &count));
    slm_jv s, old, rep;
    SLM_TRY(soft_str(c, in, &s));
    slm_status st = soft_str(c, *p[0], &old);
    if (st == SLM_OK) {
        if ((st = soft_str(c, *p[1], &rep)) == SLM_OK) {
            st = slm_jx_replace(c, s.u.s, old.u.s, rep.u.s, count, out);
            slm_jv_release(rep);
        }
        slm_jv_release(old);
    }
    slm_jv_release(s);
    return st;
}

/* str.splitlines(): the [start, end) of each line, without its break. */
static size_t split_lines(const char *s, size_t n, size_t *starts, size_t *ends, size_t cap)
{
    size_t count = 0, start = 0;
    uint32_t cp;
    if (!slm_jwork_charge(n))
        return 0;
    for (size_t i = 0; i < n;) {
        size_t next = slm_utf8_next(s, n, i, &cp);
        if (slm_py_islinebreak(cp)) {
            if (count < cap)
                starts[count] = start, ends[count] = i;
            count++;
            if (cp == '\r' && next < n && s[next] == '\n')
                next++;
            start = next;
        }
        i = next;
    }
    if (start < n) {
        if (count < cap)
            starts[count] = start, ends[count] = n;
        count++;
    }
    return count;
}

static void indent_lines(slm_jbuf *b, const char *t, size_t n, const slm_jv_str *ind, bool blank)
{
    size_t cap = split_lines(t, n, NULL, NULL, 0);
    size_t *st = malloc((cap + 1) * sizeof *st), *en = malloc((cap + 1) * sizeof *en);
    if (!st || !en) {
        b->failed = true;
    } else {
        split_lines(t, n, st, en, cap);
        for (size_t i = 0; i < cap; i++) {
            if (i) {
                slm_jbuf_putc(b, '\n');
                if (blank || en[i] > st[i])
                    slm_jbuf_put(b, ind->s, ind->len);
            }
            slm_jbuf_put(b, t + st[i], en[i] - st[i]);
        }
    }
    free(st);
    free(en);
}

static slm_status f_indent(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"width", "first", "blank", NULL};
    const slm_jv *p[3];
    SLM_TRY(slm_jargs_bind(c, a, "indent", P, p));
    if (in.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, in);
    if (in.kind != SLM_JV_STR) /* jinja does s += "\n" first */
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "unsupported operand type(s) for +=: '%s' and 'str'",
                           slm_jv_type_name(in));
    slm_jv ind;
    if (p[0] && p[0]->kind == SLM_JV_STR) {
        ind = slm_jv_retain(*p[0]);
    } else {
        int64_t w = 0;
        SLM_TRY(want_int(c, p[0], 4, "indent width", &w));
        slm_jbuf sp = {0};
        for (int64_t i = 0; i < w && i < 4096; i++)
            slm_jbuf_putc(&sp, ' ');
        SLM_TRY(slm_jx_buf_done(c, &sp, &ind));
    }
    slm_jbuf text = {0}, b = {0};
    slm_jbuf_put(&text, in.u.s->s, in.u.s->len);
    slm_jbuf_putc(&text, '\n'); /* jinja's "quirk necessary for splitlines" */
    if (p[1] && slm_jv_truthy(*p[1]))
        slm_jbuf_put(&b, ind.u.s->s, ind.u.s->len);
    if (!text.failed)
        indent_lines(&b, text.p, text.n, ind.u.s, p[2] && slm_jv_truthy(*p[2]));
    b.failed |= text.failed;
    slm_jbuf_free(&text);
    slm_jv_release(ind);
    return slm_jx_buf_done(c, &b, out);
}

static slm_status f_center(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"width", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, "center", P, p));
    int64_t width = 0;
    SLM_TRY(want_int(c, p[0], 80, "center width", &width));
    slm_jv s;
    SLM_TRY(soft_str(c, in, &s));
    int64_t len = (int64_t)slm_utf8_count(s.u.s->s, s.u.s->len);
    slm_jbuf b = {0};
    if (width > len && width < (int64_t)SLM_JINJA_MAX_STRING) {
        int64_t marg = width - len, left = marg / 2 + (marg & width & 1); /* CPython's rule */
        for (int64_t i = 0; i < left; i++)
            slm_jbuf_putc(&b, ' ');
        slm_jbuf_put(&b, s.u.s->s, s.u.s->len);
        for (int64_t i = 0; i < marg - left; i++)
            slm_jbuf_putc(&b, ' ');
    } else {
        slm_jbuf_put(&b, s.u.s->s, s.u.s->len);
    }
    slm_jv_release(s);
    return slm_jx_buf_done(c, &b, out);
}

static slm_status f_wordcount(slm_jctx *c, slm_jv in, slm_jv *out)
{
    slm_jv s;
    SLM_TRY(soft_str(c, in, &s));
    int64_t words = 0;
    bool in_word = false;
    uint32_t cp;
    slm_jwork_charge(s.u.s->len);
    for (size_t i = 0; i < s.u.s->len && !slm_jwork_exceeded();) {
        i = slm_utf8_next(s.u.s->s, s.u.s->len, i, &cp);
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
        bool w = cp == '_' || (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
                 (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
        words += w && !in_word;
        in_word = w;
    }
    slm_jv_release(s);
    *out = slm_jv_int(words);
    return SLM_OK;
}

static slm_status f_escape(slm_jctx *c, slm_jv in, slm_jv *out)
{
    slm_jv s;
    SLM_TRY(soft_str(c, in, &s));
    slm_jbuf b = {0};
    for (size_t i = 0; i < s.u.s->len; i++) {
        char ch = s.u.s->s[i];
        const char *rep = ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;"
                          : ch == '"' ? "&#34;" : ch == '\'' ? "&#39;" : NULL;
        if (rep)
            slm_jbuf_puts(&b, rep);
        else
            slm_jbuf_putc(&b, ch);
    }
    slm_jv_release(s);
    return slm_jx_buf_done(c, &b, out);
}

/* ------------------------------------------------------ number filters */

/* Python's int(text, base) for base 10/2/8/16; false when it would raise. */
static bool parse_py_int(const char *s, size_t n, int base, bool *overflow, int64_t *out)
{
    size_t b, e;
    slm_py_strip(s, n, NULL, 0, true, true, &b, &e);
    bool neg = false;
    if (b < e && (s[b] == '+' || s[b] == '-'))
        neg = s[b++] == '-';
    if (e - b > 2 && s[b] == '0') {
        char p = (char)(s[b + 1] | 0x20);
        if ((base == 16 && p == 'x') || (base == 8 && p == 'o') || (base == 2 && p == 'b'))
            b += 2;
    }
    uint64_t v = 0;
    bool any = false, prev_digit = false;
    *overflow = false;
    for (size_t i = b; i < e; i++) {
        char ch = s[i];
        if (ch == '_' && prev_digit && i + 1 < e) {
            prev_digit = false;
            continue;
        }
        int d = ch >= '0' && ch <= '9' ? ch - '0' : (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z' ? (ch | 0x20) - 'a' + 10 : 99;
        if (d >= base)
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            *overflow = true;
        v = v * (uint64_t)base + (uint64_t)d;
        any = prev_digit = true;
    }
    if (!any || !prev_digit)
        return false;
    if (v > (uint64_t)INT64_MAX + neg)
        *overflow = true;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Python's float(text): decimal literals, inf/infinity/nan, "_" between digits. */
static bool parse_py_float(const char *s, size_t n, double *out)
{
    size_t b, e;
    slm_py_strip(s, n, NULL, 0, true, true, &b, &e);
    char buf[128];
    size_t k = 0;
    if (e - b >= sizeof buf)
        return false;
    for (size_t i = b; i < e; i++) {
        char ch = s[i];
        if (ch == '_' && i > b && i + 1 < e && s[i - 1] >= '0' && s[i - 1] <= '9' &&
            s[i + 1] >= '0' && s[i + 1] <= '9')
            continue;
        if (!strchr("0123456789+-.eEinfatyINFATY", ch) || ch == '\0')
            return false;
        buf[k++] = ch;
    }
    buf[k] = '\0';
    if (k == 0)
        return false;
    char *end;
    *out = strtod(buf, &end);
    return *end == '\0';
}

static slm_status to_int(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"default", "base", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, "int", P, p));
    int64_t base = 10;
    SLM_TRY(want_int(c, p[1], 10, "int base", &base));
    slm_jv dflt = p[0] ? *p[0] : slm_jv_int(0);
    double f;
    bool of = false;
    int64_t i;
    switch (in.kind) {
    case SLM_JV_UNDEF: return slm_jx_undefined(c, in);
    case SLM_JV_BOOL:
    case SLM_JV_INT: *out = slm_jv_int(in.kind == SLM_JV_BOOL ? in.u.b : in.u.i); return SLM_OK;
    case SLM_JV_FLOAT: f = in.u.f; break;
    case SLM_JV_STR:
        if (base >= 2 && base <= 36 && parse_py_int(in.u.s->s, in.u.s->len, (int)base, &of, &i)) {
            if (of)
                return slm_jx_overflow(c);
            *out = slm_jv_int(i);
            return SLM_OK;
        }
        if (!parse_py_float(in.u.s->s, in.u.s->len, &f) || isnan(f) || isinf(f)) {
            *out = slm_jv_retain(dflt); /* "42.23"|int is 42, "x"|int the default */
            return SLM_OK;
        }
        break;
    default: *out = slm_jv_retain(dflt); return SLM_OK;
    }
    if (isnan(f) || isinf(f) || fabs(f) >= 9.2e18)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "cannot convert float %s to integer",
                           isnan(f) ? "NaN" : "infinity or a huge value");
    *out = slm_jv_int((int64_t)f);
    return SLM_OK;
}

static slm_status to_float(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"default", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, "float", P, p));
    double f;
    if (in.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, in);
    if (slm_jv_is_number(in))
        *out = slm_jv_float(slm_jv_as_double(in));
    else if (in.kind == SLM_JV_STR && parse_py_float(in.u.s->s, in.u.s->len, &f))
        *out = slm_jv_float(f);
    else
        *out = p[0] ? slm_jv_retain(*p[0]) : slm_jv_float(0.0);
    return SLM_OK;
}

/* Python's round(x, nd) on floats: correctly rounded through decimal text. */
static double round_digits(double x, int64_t nd)
{
    if (!isfinite(x))
        return x;
    if (nd >= 0) {
        char buf[512];
        snprintf(buf, sizeof buf, "%.*f", (int)(nd > 300 ? 300 : nd), x);
        return strtod(buf, NULL);
    }
    if (nd < -308) /* 10**-nd exceeds every double: Python rounds to a signed zero */
        return x * 0.0;
    double p = pow(10.0, (double)-nd);
    return nearbyint(x / p) * p;
}

static slm_status f_round(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"precision", "method", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, "round", P, p));
    int64_t prec = 0;
    SLM_TRY(want_int(c, p[0], 0, "round precision", &prec));
    const char *method = p[1] && p[1]->kind == SLM_JV_STR ? p[1]->u.s->s : "common";
    if (strcmp(method, "common") && strcmp(method, "ceil") && strcmp(method, "floor"))
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "method must be common, ceil or floor");
    if (!slm_jv_is_number(in))
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "type %s doesn't define __round__ method",
                           slm_jv_type_name(in));
    if (!strcmp(method, "common")) {
        if (in.kind != SLM_JV_FLOAT && prec >= 0) { /* round(int, n) stays an int */
            *out = slm_jv_int(in.kind == SLM_JV_BOOL ? in.u.b : in.u.i);
            return SLM_OK;
        }
        double r = round_digits(slm_jv_as_double(in), prec);
        if (in.kind == SLM_JV_FLOAT) {
            *out = slm_jv_float(r);
            return SLM_OK;
        }
        /* round(int, -n) rounds in the integer's own scale, which can leave
         * int64 (round(2**63 - 1, -1) is 2**63 + 3); casting that is UB */
        if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
            return slm_jx_overflow(c);
        *out = slm_jv_int((int64_t)r);
        return SLM_OK;
    }
    double scale = pow(10.0, (double)prec), x = slm_jv_as_double(in) * scale;
    *out = slm_jv_float((method[0] == 'c' ? ceil(x) : floor(x)) / scale);
    return SLM_OK;
}

static slm_status f_abs(slm_jctx *c, slm_jv in, slm_jv *out)
{
    if (in.kind == SLM_JV_INT || in.kind == SLM_JV_BOOL) {
        int64_t i = in.kind == SLM_JV_BOOL ? in.u.b : in.u.i;
        if (i == INT64_MIN)
            return slm_jx_overflow(c);
        *out = slm_jv_int(i < 0 ? -i : i);
    } else if (in.kind == SLM_JV_FLOAT) {
        *out = slm_jv_float(fabs(in.u.f));
    } else if (in.kind == SLM_JV_UNDEF) {
        return slm_jx_undefined(c, in);
    } else {
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "bad operand type for abs(): '%s'",
                           slm_jv_type_name(in));
    }
    return SLM_OK;
}

static slm_status f_default(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"default_value", "boolean", NULL};
    const slm_jv *p[2];
    SLM_TRY(slm_jargs_bind(c, a, "default", P, p));
    bool use = in.kind == SLM_JV_UNDEF || (p[1] && slm_jv_truthy(*p[1]) && !slm_jv_truthy(in));
    if (!use)
        *out = slm_jv_retain(in);
    else if (p[0])
        *out = slm_jv_retain(*p[0]);
    else
        return slm_jx_str(c, "", 0, out);
    return SLM_OK;
}

static slm_status f_attr(slm_jctx *c, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"name", NULL};
    const slm_jv *p[1];
    SLM_TRY(slm_jargs_bind(c, a, "attr", P, p));
    if (!p[0] || p[0]->kind != SLM_JV_STR)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "attr() needs an attribute name");
    if (in.kind == SLM_JV_UNDEF)
        return slm_jx_undefined(c, in);
    if (in.kind == SLM_JV_DICT) /* attr() never falls back to items */
        return slm_jv_undef_msg(out, "'dict object' has no attribute '%s'", p[0]->u.s->s)
                   ? SLM_OK : slm_jx_nomem(c);
    return slm_jx_getattr(c, in, p[0]->u.s->s, p[0]->u.s->len, out);
}

/* ------------------------------------------------------------- dispatch */

static slm_status filter_inner(slm_jctx *c, int id, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    bool handled = false;
    SLM_TRY(slm_jx_filter_seq(c, id, in, a, out, &handled));
    if (handled)
        return SLM_OK;
    const char *name = FILTER_NAMES[id].name;
    switch (id) {
    case SLM_F_ABS: SLM_TRY(no_args(c, a, name)); return f_abs(c, in, out);
    case SLM_F_ATTR: return f_attr(c, in, a, out);
    case SLM_F_CAPITALIZE: SLM_TRY(no_args(c, a, name)); return case_filter(c, in, SLM_CASE_CAPITALIZE, out);
    case SLM_F_CENTER: return f_center(c, in, a, out);
    case SLM_F_D:
    case SLM_F_DEFAULT: return f_default(c, in, a, out);
    case SLM_F_E:
    case SLM_F_ESCAPE:
    case SLM_F_FORCEESCAPE: SLM_TRY(no_args(c, a, name)); return f_escape(c, in, out);
    case SLM_F_FLOAT: return to_float(c, in, a, out);
    case SLM_F_INDENT: return f_indent(c, in, a, out);
    case SLM_F_INT: return to_int(c, in, a, out);
    case SLM_F_LOWER: SLM_TRY(no_args(c, a, name)); return case_filter(c, in, SLM_CASE_LOWER, out);
    case SLM_F_REPLACE: return f_replace(c, in, a, out);
    case SLM_F_ROUND: return f_round(c, in, a, out);
    case SLM_F_SAFE:
    case SLM_F_STRING: SLM_TRY(no_args(c, a, name)); return soft_str(c, in, out);
    case SLM_F_TITLE: SLM_TRY(no_args(c, a, name)); return case_filter(c, in, SLM_CASE_JINJA_TITLE, out);
    case SLM_F_TRIM: return f_trim(c, in, a, out);
    case SLM_F_UPPER: SLM_TRY(no_args(c, a, name)); return case_filter(c, in, SLM_CASE_UPPER, out);
    case SLM_F_WORDCOUNT: SLM_TRY(no_args(c, a, name)); return f_wordcount(c, in, out);
    case SLM_F_TOJSON: return slm_jx_tojson(c, in, a, out);
    default:
        return slm_jx_fail(c, SLM_ERR_UNSUPPORTED, "filter '%s' is not supported", name);
    }
}

slm_status slm_jx_filter(slm_jctx *c, int id, slm_jv in, const slm_jargs *a, slm_jv *out)
{
    slm_jrunning prev = slm_jx_op(c, "filter", FILTER_NAMES[id].name);
    slm_status st = filter_inner(c, id, in, a, out);
    slm_jx_op_restore(c, prev);
    if (st != SLM_OK) /* whatever was built is released: never hand it out */
        *out = slm_jv_none();
    return st;
}
