/*
 * tojson.c — transformers' tojson filter: json.dumps(x, ensure_ascii=False,
 * indent=None, separators=None, sort_keys=False), byte for byte.
 *
 * Python's defaults: separators (", ", ": "), or (",", ": ") once indent is
 * given; floats as float.__repr__ (NaN / Infinity spelled as json does);
 * tuples as arrays; dict keys of type int/float/bool/None turned into
 * strings; anything else is "not JSON serializable".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

typedef struct {
    slm_jctx *c;
    slm_jbuf *b;
    const slm_jv_str *indent; /* NULL: no newlines */
    const char *item_sep, *key_sep;
    size_t item_sep_len, key_sep_len;
    bool sort_keys, ensure_ascii;
} json_out;

static void put_u16(slm_jbuf *b, uint32_t u)
{
    char tmp[16]; /* u is a UTF-16 unit, so 6 bytes suffice; room for the compiler's worst case */
    snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)u & 0xffffu);
    slm_jbuf_puts(b, tmp);
}

static void put_string(json_out *o, const char *s, size_t n)
{
    slm_jbuf *b = o->b;
    slm_jbuf_putc(b, '"');
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t next = slm_utf8_next(s, n, i, &cp);
        const char *esc = cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : cp == '\n' ? "\\n"
                          : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : cp == '\b' ? "\\b"
                          : cp == '\f' ? "\\f" : NULL;
        if (esc) {
            slm_jbuf_puts(b, esc);
        } else if (cp < 0x20 || (o->ensure_ascii && cp >= 0x80)) {
            if (cp >= 0x10000) { /* a UTF-16 surrogate pair, as Python writes it */
                put_u16(b, 0xD800 + ((cp - 0x10000) >> 10));
                put_u16(b, 0xDC00 + ((cp - 0x10000) & 0x3FF));
            } else {
                put_u16(b, cp);
            }
        } else {
            slm_jbuf_put(b, s + i, next - i);
        }
        i = next;
    }
    slm_jbuf_putc(b, '"');
}

static void put_float(slm_jbuf *b, double f)
{
    if (f != f)
        slm_jbuf_puts(b, "NaN");
    else if (f > 1.7976931348623157e308)
        slm_jbuf_puts(b, "Infinity");
    else if (f < -1.7976931348623157e308)
        slm_jbuf_puts(b, "-Infinity");
    else
        slm_jv_fmt_float(b, f);
}

static void newline(json_out *o, int level)
{
    if (!o->indent)
        return;
    slm_jbuf_putc(o->b, '\n');
    for (int i = 0; i < level; i++)
        slm_jbuf_put(o->b, o->indent->s, o->indent->len);
}

static slm_status dump(json_out *o, slm_jv v, int level);

static slm_status dump_list(json_out *o, const slm_jv_list *l, int level)
{
    if (l->n == 0) {
        slm_jbuf_puts(o->b, "[]");
        return SLM_OK;
    }
    slm_jbuf_putc(o->b, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            slm_jbuf_put(o->b, o->item_sep, o->item_sep_len);
        newline(o, level + 1);
        SLM_TRY(dump(o, l->v[i], level + 1));
    }
    newline(o, level);
    slm_jbuf_putc(o->b, ']');
    return SLM_OK;
}

static slm_status dump_key(json_out *o, slm_jv k)
{
    switch (k.kind) {
    case SLM_JV_STR: put_string(o, k.u.s->s, k.u.s->len); return SLM_OK;
    case SLM_JV_NONE: slm_jbuf_puts(o->b, "\"null\""); return SLM_OK;
    case SLM_JV_BOOL: slm_jbuf_puts(o->b, k.u.b ? "\"true\"" : "\"false\""); return SLM_OK;
    case SLM_JV_INT:
    case SLM_JV_FLOAT:
        slm_jbuf_putc(o->b, '"');
        if (k.kind == SLM_JV_INT)
            slm_jv_to_str(o->b, k);
        else
            put_float(o->b, k.u.f);
        slm_jbuf_putc(o->b, '"');
        return SLM_OK;
    default:
        return slm_jx_fail(o->c, SLM_ERR_INVALID_ARG, "keys must be str, int, float, bool or None, not %s",
                           slm_jv_type_name(k));
    }
}

/* Insertion order, or sorted(d.items()) order for sort_keys. */
static slm_status key_order(json_out *o, const slm_jv_dict *d, size_t *idx)
{
    for (size_t i = 0; i < d->n; i++)
        idx[i] = i;
    if (!o->sort_keys)
        return SLM_OK;
    for (size_t i = 1; i < d->n; i++) { /* insertion sort: stable, dicts are small */
        size_t cur = idx[i], j = i;
        while (j > 0) {
            int cmp;
            if (!slm_jv_compare(d->k[cur], d->k[idx[j - 1]], &cmp))
                return slm_jx_fail(o->c, SLM_ERR_INVALID_ARG, "'<' not supported between instances of '%s' and '%s'",
                                   slm_jv_type_name(d->k[cur]), slm_jv_type_name(d->k[idx[j - 1]]));
            if (cmp >= 0)
                break;
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = cur;
    }
    return SLM_OK;
}

static slm_status dump_dict(json_out *o, const slm_jv_dict *d, int level)
{
    if (d->n == 0) {
        slm_jbuf_puts(o->b, "{}");
        return SLM_OK;
    }
    size_t *idx = malloc(d->n * sizeof *idx);
    if (!idx)
        return slm_jx_nomem(o->c);
    slm_status st = key_order(o, d, idx);
    slm_jbuf_putc(o->b, '{');
    for (size_t i = 0; st == SLM_OK && i < d->n; i++) {
        if (i)
            slm_jbuf_put(o->b, o->item_sep, o->item_sep_len);
        newline(o, level + 1);
        st = dump_key(o, d->k[idx[i]]);
        slm_jbuf_put(o->b, o->key_sep, o->key_sep_len);
        if (st == SLM_OK)
            st = dump(o, d->v[idx[i]], level + 1);
    }
    free(idx);
    SLM_TRY(st);
    newline(o, level);
    slm_jbuf_putc(o->b, '}');
    return SLM_OK;
}

static slm_status dump(json_out *o, slm_jv v, int level)
{
    if (o->b->failed) /* too long or over budget: slm_jx_buf_done reports it */
        return SLM_OK;
    if (level > SLM_JINJA_MAX_DEPTH)
        return slm_jx_fail(o->c, SLM_ERR_RANGE, "value nested too deeply for tojson");
    switch (v.kind) {
    case SLM_JV_NONE: slm_jbuf_puts(o->b, "null"); return SLM_OK;
    case SLM_JV_BOOL: slm_jbuf_puts(o->b, v.u.b ? "true" : "false"); return SLM_OK;
    case SLM_JV_INT: slm_jv_to_str(o->b, v); return SLM_OK;
    case SLM_JV_FLOAT: put_float(o->b, v.u.f); return SLM_OK;
    case SLM_JV_STR: put_string(o, v.u.s->s, v.u.s->len); return SLM_OK;
    case SLM_JV_DICT: return dump_dict(o, v.u.d, level);
    case SLM_JV_LIST:
        if (v.u.l->flavor != SLM_JSEQ_GEN)
            return dump_list(o, v.u.l, level);
        break;
    default: break;
    }
    return slm_jx_fail(o->c, SLM_ERR_INVALID_ARG, "Object of type %s is not JSON serializable",
                       v.kind == SLM_JV_NS ? "TemplateNamespace" : slm_jv_type_name(v));
}

static slm_status indent_text(slm_jctx *c, const slm_jv *v, slm_jv *out)
{
    if (v->kind == SLM_JV_STR) {
        *out = slm_jv_retain(*v);
        return SLM_OK;
    }
    if (v->kind != SLM_JV_INT && v->kind != SLM_JV_BOOL)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "can't multiply sequence by non-int of type '%s'",
                           slm_jv_type_name(*v));
    int64_t n = v->kind == SLM_JV_BOOL ? v->u.b : v->u.i;
    slm_jbuf b = {0};
    for (int64_t i = 0; i < n && i < 4096; i++)
        slm_jbuf_putc(&b, ' ');
    return slm_jx_buf_done(c, &b, out);
}

static slm_status separators(slm_jctx *c, const slm_jv *v, json_out *o)
{
    bool ok = v->kind == SLM_JV_LIST && v->u.l->flavor != SLM_JSEQ_GEN && v->u.l->n == 2 &&
              v->u.l->v[0].kind == SLM_JV_STR && v->u.l->v[1].kind == SLM_JV_STR;
    if (!ok)
        return slm_jx_fail(c, SLM_ERR_INVALID_ARG, "tojson separators must be two strings");
    o->item_sep = v->u.l->v[0].u.s->s;
    o->item_sep_len = v->u.l->v[0].u.s->len;
    o->key_sep = v->u.l->v[1].u.s->s;
    o->key_sep_len = v->u.l->v[1].u.s->len;
    return SLM_OK;
}

slm_status slm_jx_tojson(slm_jctx *c, slm_jv v, const slm_jargs *a, slm_jv *out)
{
    static const char *const P[] = {"ensure_ascii", "indent", "separators", "sort_keys", NULL};
    const slm_jv *p[4];
    SLM_TRY(slm_jargs_bind(c, a, "tojson", P, p));
    slm_jbuf b = {0};
    json_out o = {.c = c, .b = &b, .ensure_ascii = p[0] && slm_jv_truthy(*p[0]),
                  .sort_keys = p[3] && slm_jv_truthy(*p[3])};
    slm_jv indent = slm_jv_none();
    bool has_indent = p[1] && p[1]->kind != SLM_JV_NONE;
    if (has_indent)
        SLM_TRY(indent_text(c, p[1], &indent));
    o.indent = has_indent ? indent.u.s : NULL;
    o.item_sep = has_indent ? "," : ", ";
    o.item_sep_len = strlen(o.item_sep);
    o.key_sep = ": ";
    o.key_sep_len = 2;
    slm_status st = p[2] && p[2]->kind != SLM_JV_NONE ? separators(c, p[2], &o) : SLM_OK;
    if (st == SLM_OK)
        st = dump(&o, v, 0);
    slm_jv_release(indent);
    if (st != SLM_OK) {
        slm_jbuf_free(&b);
        return st;
    }
    return slm_jx_buf_done(c, &b, out);
}
