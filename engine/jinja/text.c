/*
 * text.c — UTF-8 text as Python's str sees it: a growable byte buffer,
 * code point iteration, Python's notion of whitespace and line breaks,
 * strip(), and case mapping (via utf8proc) for upper/lower/title/capitalize.
 *
 * Python strings are sequences of code points, so lengths, indices and
 * slices count code points, never bytes. Case mapping uses utf8proc's
 * simple (one-to-one) mappings: Python's full mappings differ only for a few
 * characters such as 'ß'.upper() == 'SS'.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "jinja.h"

/* --------------------------------------------------------------- buffer */

void slm_jbuf_put(slm_jbuf *b, const char *s, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->n + n > SLM_JINJA_MAX_STRING || !slm_jwork_charge(n)) {
        b->failed = true;
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void slm_jbuf_puts(slm_jbuf *b, const char *s) { slm_jbuf_put(b, s, strlen(s)); }
void slm_jbuf_putc(slm_jbuf *b, char c) { slm_jbuf_put(b, &c, 1); }

void slm_jbuf_put_cp(slm_jbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    slm_jbuf_put(b, u, n);
}

void slm_jbuf_free(slm_jbuf *b)
{
    free(b->p);
    *b = (slm_jbuf){0};
}

bool slm_jbuf_to_jv(slm_jbuf *b, slm_jv *out)
{
    bool ok = !b->failed && slm_jv_str_new(b->p ? b->p : "", b->n, out);
    slm_jbuf_free(b);
    return ok;
}

/* ---------------------------------------------------------------- UTF-8 */

size_t slm_utf8_next(const char *s, size_t n, size_t i, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) {
        *cp = c; /* a stray byte stands for itself so it round-trips */
        return i + 1;
    }
    uint32_t v = len == 1 ? c : (uint32_t)(c & (0x7F >> len));
    for (size_t k = 1; k < len; k++) {
        if ((u[i + k] & 0xC0) != 0x80) {
            *cp = c;
            return i + 1;
        }
        v = (v << 6) | (u[i + k] & 0x3F);
    }
    *cp = v;
    return i + len;
}

size_t slm_utf8_count(const char *s, size_t n)
{
    slm_jwork_charge(n);
    size_t count = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; count++)
        i = slm_utf8_next(s, n, i, &cp);
    return count;
}

size_t slm_utf8_offset(const char *s, size_t n, size_t k)
{
    slm_jwork_charge(k < n ? k : n);
    size_t i = 0;
    uint32_t cp;
    while (k-- > 0 && i < n)
        i = slm_utf8_next(s, n, i, &cp);
    return i;
}

const char *slm_text_find(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m > n || slm_jwork_exceeded())
        return NULL;
    if (m == 0)
        return hay;
    const char *hit = memmem(hay, n, needle, m); /* glibc's is linear (two-way) */
    slm_jwork_charge(hit ? (size_t)(hit - hay) + m : n); /* what was scanned */
    return hit;
}

bool slm_text_affix(const char *s, size_t n, const char *x, size_t m, bool end)
{
    return m <= n && slm_jwork_charge(m) && memcmp(s + (end ? n - m : 0), x, m) == 0;
}

/* ------------------------------------------------------ Python classes */

bool slm_py_isspace(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool slm_py_islinebreak(uint32_t cp)
{
    return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) ||
           cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

static bool in_chars(uint32_t cp, const char *chars, size_t nchars)
{
    uint32_t c;
    for (size_t i = 0; i < nchars;) {
        i = slm_utf8_next(chars, nchars, i, &c);
        if (c == cp)
            return true;
    }
    return false;
}

void slm_py_strip(const char *s, size_t n, const char *chars, size_t nchars, bool left,
                  bool right, size_t *b, size_t *e)
{
    size_t begin = 0, end = 0, i = 0;
    bool seen = false; /* a kept character has been seen */
    uint32_t cp;
    /* each character is looked up in `chars`: n * nchars */
    if (!slm_jwork_charge(n) || (chars && nchars && n > UINT64_MAX / nchars) ||
        (chars && !slm_jwork_charge((uint64_t)n * nchars)))
        n = 0; /* the render fails; strip nothing rather than scan on */
    while (i < n) {
        size_t next = slm_utf8_next(s, n, i, &cp);
        bool strip = chars ? in_chars(cp, chars, nchars) : slm_py_isspace(cp);
        if (!strip) {
            if (!seen)
                begin = i;
            seen = true;
            end = next;
        }
        i = next;
    }
    if (!seen) { /* nothing but strippable characters */
        *b = 0;
        *e = (left || right) ? 0 : n;
        return;
    }
    *b = left ? begin : 0;
    *e = right ? end : n;
}

/* -------------------------------------------------------- case mapping */

bool slm_py_is_cased(uint32_t cp, bool *upper)
{
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    if (upper)
        *upper = c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT;
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}

static uint32_t to_upper(uint32_t cp) { return (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp); }
static uint32_t to_lower(uint32_t cp) { return (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp); }
static uint32_t to_title(uint32_t cp) { return (uint32_t)utf8proc_totitle((utf8proc_int32_t)cp); }

/* jinja's title filter splits on runs of [-\s({\[<] and upper-cases the
 * first character after each run, lower-casing the rest. */
static bool jinja_title_sep(uint32_t cp)
{
    return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || slm_py_isspace(cp);
}

void slm_py_case(slm_jbuf *b, const char *s, size_t n, slm_case_mode mode)
{
    bool prev_cased = false, first = true, prev_sep = true;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        i = slm_utf8_next(s, n, i, &cp);
        uint32_t out = cp;
        bool upper = false;
        bool cased = slm_py_is_cased(cp, &upper);
        switch (mode) {
        case SLM_CASE_UPPER: out = to_upper(cp); break;
        case SLM_CASE_LOWER: out = to_lower(cp); break;
        case SLM_CASE_TITLE: /* str.title(): words are runs of cased characters */
            out = prev_cased ? to_lower(cp) : to_title(cp);
            prev_cased = cased;
            break;
        case SLM_CASE_CAPITALIZE: out = first ? to_title(cp) : to_lower(cp); break;
        case SLM_CASE_SWAP: out = cased ? (upper ? to_lower(cp) : to_upper(cp)) : cp; break;
        case SLM_CASE_JINJA_TITLE: {
            bool sep = jinja_title_sep(cp);
            out = sep ? cp : prev_sep ? to_upper(cp) : to_lower(cp);
            prev_sep = sep;
            break;
        }
        }
        first = false;
        slm_jbuf_put_cp(b, out);
    }
}
