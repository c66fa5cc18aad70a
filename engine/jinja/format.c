/*
 * format.c — values to text exactly as Python writes them: str() (what
 * `{{ }}` prints), repr() (how lists and dicts print their items),
 * float.__repr__ (shortest round-trip digits), and json.dumps as
 * transformers' tojson filter calls it (ensure_ascii=False). Also the
 * reverse direction: cJSON trees to values.
 *
 * Traversals stop at SLM_JINJA_MAX_DEPTH levels: a namespace can be made to
 * contain itself, which Python would print as an endless recursion error.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "ast.h"

/* ----------------------------------------------------------- floats */

/* Shortest "%.*e" digits that read back as f: (digits, decimal exponent). */
static void shortest_digits(double f, char *digits, int *exp10)
{
    char tmp[40];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, f);
        if (strtod(tmp, NULL) == f || prec == 17)
            break;
    }
    /* tmp is d[.ddd]e[+-]XX */
    char *e = strchr(tmp, 'e');
    *exp10 = atoi(e + 1);
    size_t k = 0;
    for (char *p = tmp; p < e; p++)
        if (*p >= '0' && *p <= '9')
            digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0') /* trailing zeros carry no information */
        k--;
    digits[k] = '\0';
}

void slm_jv_fmt_float(slm_jbuf *b, double f)
{
    if (isnan(f)) {
        slm_jbuf_puts(b, "nan");
        return;
    }
    if (isinf(f)) {
        slm_jbuf_puts(b, f < 0 ? "-inf" : "inf");
        return;
    }
    if (signbit(f)) {
        slm_jbuf_putc(b, '-');
        f = -f;
    }
    char d[24];
    int e;
    shortest_digits(f, d, &e);
    int nd = (int)strlen(d);
    if (e >= -4 && e < 16) { /* Python's repr switches to exponents outside this range */
        if (e < 0) {
            slm_jbuf_puts(b, "0.");
            for (int i = 0; i < -e - 1; i++)
                slm_jbuf_putc(b, '0');
            slm_jbuf_puts(b, d);
            return;
        }
        for (int i = 0; i <= e; i++)
            slm_jbuf_putc(b, i < nd ? d[i] : '0');
        slm_jbuf_putc(b, '.');
        if (nd > e + 1)
            slm_jbuf_puts(b, d + e + 1);
        else
            slm_jbuf_putc(b, '0');
        return;
    }
    slm_jbuf_putc(b, d[0]);
    if (nd > 1) {
        slm_jbuf_putc(b, '.');
        slm_jbuf_puts(b, d + 1);
    }
    char ex[16];
    snprintf(ex, sizeof ex, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    slm_jbuf_puts(b, ex);
}

static void fmt_int(slm_jbuf *b, int64_t i)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%" PRId64, i);
    slm_jbuf_puts(b, tmp);
}

/* ------------------------------------------------------------ repr */

/* Python's str.isprintable() for one code point. */
static bool py_printable(uint32_t cp)
{
    if (cp == ' ')
        return true;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS: return false;
    default: return true;
    }
}

static void repr_str(slm_jbuf *b, const char *s, size_t n)
{
    char quote = '\'';
    if (memchr(s, '\'', n) && !memchr(s, '"', n))
        quote = '"';
    slm_jbuf_putc(b, quote);
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t next = slm_utf8_next(s, n, i, &cp);
        char esc[16] = "";
        if (cp == (uint32_t)quote || cp == '\\')
            snprintf(esc, sizeof esc, "\\%c", (char)cp);
        else if (cp == '\n')
            strcpy(esc, "\\n");
        else if (cp == '\r')
            strcpy(esc, "\\r");
        else if (cp == '\t')
            strcpy(esc, "\\t");
        else if (!py_printable(cp))
            snprintf(esc, sizeof esc, cp < 0x100 ? "\\x%02x" : cp < 0x10000 ? "\\u%04x" : "\\U%08x",
                     (unsigned)cp);
        if (esc[0])
            slm_jbuf_puts(b, esc);
        else
            slm_jbuf_put(b, s + i, next - i);
        i = next;
    }
    slm_jbuf_putc(b, quote);
}

static void repr_depth(slm_jbuf *b, slm_jv v, int depth);

static void repr_dict(slm_jbuf *b, const slm_jv_dict *d, int depth)
{
    slm_jbuf_putc(b, '{');
    for (size_t i = 0; i < d->n && !b->failed; i++) {
        if (i)
            slm_jbuf_puts(b, ", ");
        repr_depth(b, d->k[i], depth + 1);
        slm_jbuf_puts(b, ": ");
        repr_depth(b, d->v[i], depth + 1);
    }
    slm_jbuf_putc(b, '}');
}

static void repr_list(slm_jbuf *b, const slm_jv_list *l, int depth)
{
    if (l->flavor == SLM_JSEQ_GEN) {
        slm_jbuf_puts(b, "<generator object>");
        return;
    }
    bool tuple = l->flavor == SLM_JSEQ_TUPLE;
    slm_jbuf_putc(b, tuple ? '(' : '[');
    for (size_t i = 0; i < l->n && !b->failed; i++) {
        if (i)
            slm_jbuf_puts(b, ", ");
        repr_depth(b, l->v[i], depth + 1);
    }
    if (tuple && l->n == 1)
        slm_jbuf_putc(b, ',');
    slm_jbuf_putc(b, tuple ? ')' : ']');
}

static void repr_depth(slm_jbuf *b, slm_jv v, int depth)
{
    if (b->failed) /* too long or over budget: stop walking (shared sublists make it exponential) */
        return;
    if (depth > SLM_JINJA_MAX_DEPTH) {
        slm_jbuf_puts(b, "...");
        return;
    }
    switch (v.kind) {
    case SLM_JV_UNDEF: slm_jbuf_puts(b, "Undefined"); break;
    case SLM_JV_STR: repr_str(b, v.u.s->s, v.u.s->len); break;
    case SLM_JV_LIST: repr_list(b, v.u.l, depth); break;
    case SLM_JV_DICT: repr_dict(b, v.u.d, depth); break;
    case SLM_JV_NS:
        slm_jbuf_puts(b, "<Namespace ");
        repr_dict(b, v.u.d, depth);
        slm_jbuf_putc(b, '>');
        break;
    case SLM_JV_LOOP: {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "<LoopContext %zu/%zu>", v.u.loop->i + 1, v.u.loop->items->n);
        slm_jbuf_puts(b, tmp);
        break;
    }
    case SLM_JV_MACRO:
        slm_jbuf_puts(b, "<Macro '");
        slm_jbuf_puts(b, v.u.m->node->str);
        slm_jbuf_puts(b, "'>");
        break;
    case SLM_JV_FUNC: slm_jbuf_puts(b, "<function>"); break;
    case SLM_JV_METHOD: slm_jbuf_puts(b, "<built-in method>"); break;
    default: slm_jv_to_str(b, v); break;
    }
}

void slm_jv_repr(slm_jbuf *b, slm_jv v) { repr_depth(b, v, 0); }

void slm_jv_to_str(slm_jbuf *b, slm_jv v)
{
    switch (v.kind) {
    case SLM_JV_UNDEF: break;
    case SLM_JV_NONE: slm_jbuf_puts(b, "None"); break;
    case SLM_JV_BOOL: slm_jbuf_puts(b, v.u.b ? "True" : "False"); break;
    case SLM_JV_INT: fmt_int(b, v.u.i); break;
    case SLM_JV_FLOAT: slm_jv_fmt_float(b, v.u.f); break;
    case SLM_JV_STR: slm_jbuf_put(b, v.u.s->s, v.u.s->len); break;
    default: slm_jv_repr(b, v); break;
    }
}

bool slm_jv_str_of(slm_jv v, slm_jv *out)
{
    if (v.kind == SLM_JV_STR) {
        *out = slm_jv_retain(v);
        return true;
    }
    slm_jbuf b = {0};
    slm_jv_to_str(&b, v);
    return slm_jbuf_to_jv(&b, out);
}

/* ------------------------------------------------------------ JSON in */

bool slm_jv_from_json(const cJSON *j, slm_jv *out)
{
    if (cJSON_IsNull(j)) {
        *out = slm_jv_none();
    } else if (cJSON_IsBool(j)) {
        *out = slm_jv_bool(cJSON_IsTrue(j));
    } else if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        /* JSON does not say int or float; integral values are ints as Python's
         * json.loads reads "3" (fixtures never write floats like 3.0) */
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            *out = slm_jv_int((int64_t)d);
        else
            *out = slm_jv_float(d);
    } else if (cJSON_IsString(j)) {
        return slm_jv_cstr(j->valuestring, out);
    } else if (cJSON_IsArray(j)) {
        if (!slm_jv_list_new((size_t)cJSON_GetArraySize(j), SLM_JSEQ_LIST, out))
            return false;
        for (const cJSON *c = j->child; c; c = c->next) {
            slm_jv item;
            if (!slm_jv_from_json(c, &item) || !slm_jv_list_push(out->u.l, item))
                goto fail;
        }
    } else if (cJSON_IsObject(j)) {
        if (!slm_jv_dict_new(out))
            return false;
        for (const cJSON *c = j->child; c; c = c->next) {
            slm_jv item;
            if (!slm_jv_from_json(c, &item) || !slm_jv_dict_set_str(out->u.d, c->string, item))
                goto fail;
        }
    } else {
        *out = slm_jv_none();
    }
    return true;
fail:
    slm_jv_release(*out);
    *out = slm_jv_none();
    return false;
}
