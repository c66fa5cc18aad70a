/*
 * lexer.c — template text to tokens, reproducing jinja2's lexer with
 * trim_blocks and lstrip_blocks enabled:
 *   - "{%-" / "{{-" / "{#-" strip all whitespace before the tag, "-%}" /
 *     "-}}" / "-#}" all whitespace after it;
 *   - trim_blocks: a block or comment end ("%}", "#}") eats one "\n";
 *   - lstrip_blocks: spaces/tabs between a line start and "{%" or "{#" go
 *     (never before "{{"); "{%+" / "+%}" opt a tag out of either rule;
 *   - {% raw %}...{% endraw %} is data, with the same stripping rules.
 * Inside tags, end markers are only recognised while brackets balance, so
 * `{{ {'a': {'b': 1}} }}` works. String literals are decoded here (Python
 * escapes); identifiers, numbers and operators follow jinja's regexes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "error.h"

typedef struct {
    const char *s;
    size_t n, pos;
    int line;
    size_t line_start; /* offset of the current line, for columns */
    bool line_starting; /* the previous match ended with "\n" (jinja's flag) */
    slm_jarena *arena;
    slm_jtokens *out;
    const char *what;
    slm_error *err;
} lexer;

static slm_status lex_fail(lexer *lx, size_t at, const char *fmt, const char *arg)
{
    int line = 1;
    size_t ls = 0;
    for (size_t i = 0; i < at && i < lx->n; i++)
        if (lx->s[i] == '\n')
            line++, ls = i + 1;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    return slm_fail(lx->err, SLM_ERR_FORMAT, "%s: line %d column %zu: %s", lx->what, line,
                    at - ls + 1, msg);
}

/* Moves to `to`, counting lines. */
static void advance(lexer *lx, size_t to)
{
    for (size_t i = lx->pos; i < to; i++)
        if (lx->s[i] == '\n')
            lx->line++, lx->line_start = i + 1;
    lx->pos = to;
}

static slm_jtoken *push(lexer *lx, slm_jtoken_type type, size_t at)
{
    slm_jtokens *t = lx->out;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        slm_jtoken *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    slm_jtoken *tk = &t->v[t->n++];
    *tk = (slm_jtoken){.type = (uint8_t)type, .line = lx->line};
    tk->col = (int)(at >= lx->line_start ? at - lx->line_start + 1 : 1);
    return tk;
}

static slm_status push_data(lexer *lx, size_t from, size_t len)
{
    if (len == 0)
        return SLM_OK;
    slm_jtoken *tk = push(lx, SLM_TK_DATA, from);
    if (!tk)
        return slm_fail_nomem(lx->err, "template tokens");
    tk->s = lx->s + from;
    tk->len = len;
    return SLM_OK;
}

/* Length of the Python whitespace character at i (0 if none). */
static size_t space_at(const lexer *lx, size_t i)
{
    if (i >= lx->n)
        return 0;
    uint32_t cp;
    size_t next = slm_utf8_next(lx->s, lx->n, i, &cp);
    return slm_py_isspace(cp) ? next - i : 0;
}

static size_t skip_space(const lexer *lx, size_t i)
{
    size_t k;
    while ((k = space_at(lx, i)) > 0)
        i += k;
    return i;
}

static bool at(const lexer *lx, size_t i, const char *lit)
{
    size_t k = strlen(lit);
    return i + k <= lx->n && memcmp(lx->s + i, lit, k) == 0;
}

/* jinja's OptionalLStrip: the data [from, to) before a tag whose strip sign
 * is `sign`, trimmed per "-" / lstrip_blocks. Returns the kept length. */
static size_t strip_before(const lexer *lx, size_t from, size_t to, char sign, bool is_var)
{
    if (sign == '-') { /* text.rstrip() */
        size_t b, e;
        slm_py_strip(lx->s + from, to - from, NULL, 0, false, true, &b, &e);
        return e;
    }
    if (sign == '+' || is_var)
        return to - from;
    size_t l_pos = to;
    while (l_pos > from && lx->s[l_pos - 1] != '\n')
        l_pos--;
    if (l_pos == from && !lx->line_starting)
        return to - from;
    if (l_pos == to)
        return to - from; /* nothing between the line start and the tag */
    for (size_t i = l_pos; i < to;) {
        size_t k = space_at(lx, i);
        if (k == 0)
            return to - from;
        i += k;
    }
    return l_pos - from;
}

/* Matches an end marker at i: "+END" | "-END\s*" | "END" plus "\n" when
 * `trim` (trim_blocks). Returns the end offset or 0. */
static size_t match_end(const lexer *lx, size_t i, const char *end, bool plus_ok, bool trim)
{
    if (plus_ok && lx->s[i] == '+' && at(lx, i + 1, end))
        return i + 1 + strlen(end);
    if (lx->s[i] == '-' && at(lx, i + 1, end))
        return skip_space(lx, i + 1 + strlen(end));
    if (at(lx, i, end)) {
        size_t e = i + strlen(end);
        if (trim && e < lx->n && lx->s[e] == '\n')
            e++;
        return e;
    }
    return 0;
}

/* "{%" [-+] \s* "raw" \s* ("-%}" \s* | "%}") at i; returns the end or 0. */
static size_t match_raw_begin(const lexer *lx, size_t i)
{
    size_t p = i + 2;
    if (p < lx->n && (lx->s[p] == '-' || lx->s[p] == '+'))
        p++;
    p = skip_space(lx, p);
    if (!at(lx, p, "raw"))
        return 0;
    p = skip_space(lx, p + 3);
    if (at(lx, p, "-%}"))
        return skip_space(lx, p + 3);
    return at(lx, p, "%}") ? p + 2 : 0;
}

/* The next "{%...endraw...%}" after i: sets *tag (its "{%") and *end. */
static bool find_raw_end(const lexer *lx, size_t i, size_t *tag, size_t *end)
{
    for (; i + 1 < lx->n; i++) {
        if (!at(lx, i, "{%"))
            continue;
        size_t p = i + 2;
        if (p < lx->n && (lx->s[p] == '-' || lx->s[p] == '+'))
            p++;
        p = skip_space(lx, p);
        if (!at(lx, p, "endraw"))
            continue;
        p = skip_space(lx, p + 6);
        size_t e = p < lx->n ? match_end(lx, p, "%}", true, true) : 0;
        if (e) {
            *tag = i;
            *end = e;
            return true;
        }
    }
    return false;
}

static slm_status lex_raw(lexer *lx, size_t body)
{
    size_t tag, end;
    if (body >= lx->n) { /* jinja's lexer simply stops at the end of the source */
        advance(lx, lx->n);
        return SLM_OK;
    }
    if (!find_raw_end(lx, body, &tag, &end))
        return lex_fail(lx, body, "%s", "Missing end of raw directive");
    lx->line_starting = lx->s[body - 1] == '\n';
    char sign = tag + 2 < lx->n ? lx->s[tag + 2] : 0;
    size_t keep = strip_before(lx, body, tag, sign, false);
    advance(lx, body);
    SLM_TRY(push_data(lx, body, keep));
    advance(lx, end);
    lx->line_starting = lx->s[end - 1] == '\n';
    return SLM_OK;
}

static slm_status lex_comment(lexer *lx, size_t body)
{
    if (body >= lx->n) { /* "{#" as the very last characters: jinja stops quietly */
        advance(lx, lx->n);
        return SLM_OK;
    }
    for (size_t i = body; i + 1 < lx->n; i++) {
        size_t e = match_end(lx, i, "#}", true, true);
        if (e) {
            advance(lx, e);
            lx->line_starting = lx->s[e - 1] == '\n';
            return SLM_OK;
        }
    }
    return lex_fail(lx, body, "%s", "Missing end of comment tag");
}


/* ------------------------------------------------------- inside tags */

/* End of jinja's `(\d+_)*\d+` at i, or i when there is no digit. */
static size_t digits(const lexer *lx, size_t i)
{
    size_t e = i;
    while (e < lx->n && isdigit((unsigned char)lx->s[e])) {
        e++;
        if (e + 1 < lx->n && lx->s[e] == '_' && isdigit((unsigned char)lx->s[e + 1]))
            e++;
    }
    return e;
}

/* jinja's float_re at i (never right after a "."); returns the end or 0. */
static size_t match_float(const lexer *lx, size_t i)
{
    if (i > 0 && lx->s[i - 1] == '.')
        return 0;
    size_t p = digits(lx, i);
    if (p == i)
        return 0;
    size_t frac = 0;
    if (p < lx->n && lx->s[p] == '.') {
        size_t q = digits(lx, p + 1);
        if (q > p + 1)
            frac = q;
    }
    size_t q = frac ? frac : p;
    if (q < lx->n && (lx->s[q] == 'e' || lx->s[q] == 'E')) {
        size_t r = q + 1;
        if (r < lx->n && (lx->s[r] == '+' || lx->s[r] == '-'))
            r++;
        size_t r2 = digits(lx, r);
        if (r2 > r)
            return r2;
    }
    return frac;
}

static bool is_digit_in(char c, int base)
{
    int v = isdigit((unsigned char)c) ? c - '0'
            : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10 : 99;
    return v < base;
}

/* jinja's integer_re at i: sets *base; returns the end or 0. */
static size_t match_int(const lexer *lx, size_t i, int *base)
{
    const char *s = lx->s;
    *base = 10;
    if (s[i] == '0' && i + 1 < lx->n && strchr("bBoOxX", s[i + 1]) && s[i + 1]) {
        char c = (char)tolower((unsigned char)s[i + 1]);
        *base = c == 'b' ? 2 : c == 'o' ? 8 : 16;
        size_t p = i + 2, end = 0;
        for (;;) {
            size_t q = p < lx->n && s[p] == '_' ? p + 1 : p;
            if (q >= lx->n || !is_digit_in(s[q], *base))
                break;
            p = end = q + 1;
        }
        if (end)
            return end;
        *base = 10; /* "0x" without digits is the integer 0 followed by a name */
    }
    if (!isdigit((unsigned char)s[i]))
        return 0;
    char first = s[i];
    size_t p = i + 1;
    for (;;) {
        size_t q = p < lx->n && s[p] == '_' ? p + 1 : p;
        if (q >= lx->n || !isdigit((unsigned char)s[q]) || (first == '0' && s[q] != '0'))
            break;
        p = q + 1;
    }
    return p;
}

static slm_status push_number(lexer *lx, size_t i, size_t end, bool is_float, int base)
{
    char buf[128];
    size_t k = 0;
    size_t from = i + (base != 10 ? 2 : 0);
    for (size_t p = from; p < end && k + 1 < sizeof buf; p++)
        if (lx->s[p] != '_')
            buf[k++] = lx->s[p];
    buf[k] = '\0';
    if (end - i >= sizeof buf - 1)
        return lex_fail(lx, i, "%s", "number literal too long");
    slm_jtoken *tk = push(lx, is_float ? SLM_TK_FLOAT : SLM_TK_INT, i);
    if (!tk)
        return slm_fail_nomem(lx->err, "template tokens");
    if (is_float) {
        tk->f = strtod(buf, NULL);
    } else {
        char *e;
        unsigned long long v = strtoull(buf, &e, base);
        if (v > INT64_MAX)
            return lex_fail(lx, i, "%s", "integer literal too large");
        tk->i = (int64_t)v;
    }
    advance(lx, end);
    return SLM_OK;
}

static bool name_char(unsigned char c, bool first)
{
    return c == '_' || isalpha(c) || c >= 0x80 || (!first && isdigit(c));
}

static slm_status push_name(lexer *lx, size_t i)
{
    size_t e = i + 1;
    while (e < lx->n && name_char((unsigned char)lx->s[e], false))
        e++;
    slm_jtoken *tk = push(lx, SLM_TK_NAME, i);
    if (!tk)
        return slm_fail_nomem(lx->err, "template tokens");
    tk->s = lx->s + i;
    tk->len = e - i;
    advance(lx, e);
    return SLM_OK;
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/* Decodes one escape after a backslash at s[i] (i indexes the character
 * after "\"); Python's unicode-escape rules. Returns the next index. */
static size_t decode_escape(lexer *lx, slm_jbuf *b, size_t i, size_t end, bool *bad)
{
    const char *s = lx->s;
    char c = s[i];
    static const char simple_in[] = "\\'\"abfnrtv";
    static const char simple_out[] = "\\'\"\a\b\f\n\r\t\v";
    const char *k = c ? strchr(simple_in, c) : NULL;
    if (k) {
        slm_jbuf_putc(b, simple_out[k - simple_in]);
        return i + 1;
    }
    if (c == '\n')
        return i + 1; /* line continuation */
    if (c >= '0' && c <= '7') {
        uint32_t v = 0;
        size_t p = i;
        while (p < end && p < i + 3 && s[p] >= '0' && s[p] <= '7')
            v = v * 8 + (uint32_t)(s[p++] - '0');
        slm_jbuf_put_cp(b, v);
        return p;
    }
    int width = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (width == 0) { /* unknown escapes stay as written */
        slm_jbuf_putc(b, '\\');
        return i;
    }
    uint32_t v = 0;
    for (int d = 1; d <= width; d++) {
        if (i + (size_t)d >= end || !isxdigit((unsigned char)s[i + (size_t)d])) {
            *bad = true;
            return end;
        }
        v = v * 16 + (uint32_t)hexval(s[i + (size_t)d]);
    }
    if (v > 0x10FFFF) {
        *bad = true;
        return end;
    }
    slm_jbuf_put_cp(b, v);
    return i + 1 + (size_t)width;
}

/* A quoted string at i; on success pushes it decoded. *matched is false
 * when it is unterminated (jinja then fails on the quote character). */
static slm_status push_string(lexer *lx, size_t i, bool *matched)
{
    char q = lx->s[i];
    size_t e = i + 1;
    while (e < lx->n && lx->s[e] != q)
        e += lx->s[e] == '\\' ? 2 : 1;
    *matched = e < lx->n;
    if (!*matched)
        return SLM_OK;
    slm_jbuf b = {0};
    bool bad = false;
    for (size_t p = i + 1; p < e && !bad;) {
        if (lx->s[p] == '\\')
            p = decode_escape(lx, &b, p + 1, e, &bad);
        else
            slm_jbuf_putc(&b, lx->s[p++]);
    }
    if (bad) {
        slm_jbuf_free(&b);
        return lex_fail(lx, i, "%s", "truncated or invalid \\x, \\u or \\U escape");
    }
    if (b.failed) {
        slm_jbuf_free(&b);
        return slm_fail_nomem(lx->err, "string literal");
    }
    slm_jtoken *tk = push(lx, SLM_TK_STRING, i);
    char *text = slm_jarena_strdup(lx->arena, b.p ? b.p : "", b.n);
    size_t n = b.n;
    slm_jbuf_free(&b);
    if (!tk || !text)
        return slm_fail_nomem(lx->err, "string literal");
    tk->s = text;
    tk->len = n;
    advance(lx, e + 1);
    return SLM_OK;
}

static const struct {
    const char *text;
    slm_jop op;
} OPERATORS[] = {
    {"**", SLM_OP_POW}, {"//", SLM_OP_FLOORDIV}, {"==", SLM_OP_EQ}, {"!=", SLM_OP_NE},
    {">=", SLM_OP_GTEQ}, {"<=", SLM_OP_LTEQ}, {"+", SLM_OP_ADD}, {"-", SLM_OP_SUB},
    {"/", SLM_OP_DIV}, {"*", SLM_OP_MUL}, {"%", SLM_OP_MOD}, {"~", SLM_OP_TILDE},
    {"[", SLM_OP_LBRACKET}, {"]", SLM_OP_RBRACKET}, {"(", SLM_OP_LPAREN},
    {")", SLM_OP_RPAREN}, {"{", SLM_OP_LBRACE}, {"}", SLM_OP_RBRACE}, {">", SLM_OP_GT},
    {"<", SLM_OP_LT}, {"=", SLM_OP_ASSIGN}, {".", SLM_OP_DOT}, {":", SLM_OP_COLON},
    {"|", SLM_OP_PIPE}, {",", SLM_OP_COMMA}, {";", SLM_OP_SEMICOLON},
};

typedef struct {
    char expect[SLM_JINJA_MAX_DEPTH];
    int depth;
} balance;

static slm_status track_brackets(lexer *lx, balance *bal, char c, size_t i)
{
    const char *open = "([{", *close = ")]}";
    const char *o = strchr(open, c), *cl = strchr(close, c);
    if (o && c) {
        if (bal->depth == SLM_JINJA_MAX_DEPTH)
            return lex_fail(lx, i, "%s", "brackets nested too deeply");
        bal->expect[bal->depth++] = close[o - open];
    } else if (cl && c) {
        char what[48];
        if (bal->depth == 0) {
            snprintf(what, sizeof what, "unexpected '%c'", c);
            return lex_fail(lx, i, "%s", what);
        }
        char want = bal->expect[--bal->depth];
        if (want != c) {
            snprintf(what, sizeof what, "unexpected '%c', expected '%c'", c, want);
            return lex_fail(lx, i, "%s", what);
        }
    }
    return SLM_OK;
}

static slm_status push_operator(lexer *lx, balance *bal, size_t i)
{
    for (size_t k = 0; k < sizeof OPERATORS / sizeof OPERATORS[0]; k++) {
        if (!at(lx, i, OPERATORS[k].text))
            continue;
        SLM_TRY(track_brackets(lx, bal, OPERATORS[k].text[0], i));
        slm_jtoken *tk = push(lx, SLM_TK_OP, i);
        if (!tk)
            return slm_fail_nomem(lx->err, "template tokens");
        tk->op = (uint8_t)OPERATORS[k].op;
        advance(lx, i + strlen(OPERATORS[k].text));
        return SLM_OK;
    }
    char c[8] = {lx->s[i], 0};
    return lex_fail(lx, i, "unexpected char '%s'", c);
}

/* One token (or whitespace) inside a tag at lx->pos. *done when the tag ended. */
static slm_status lex_tag_step(lexer *lx, bool block, balance *bal, bool *done)
{
    size_t i = lx->pos;
    if (bal->depth == 0) {
        size_t e = block ? match_end(lx, i, "%}", true, true) : match_end(lx, i, "}}", false, false);
        if (e) {
            if (!push(lx, block ? SLM_TK_BLOCK_END : SLM_TK_VAR_END, i))
                return slm_fail_nomem(lx->err, "template tokens");
            advance(lx, e);
            lx->line_starting = lx->s[e - 1] == '\n';
            *done = true;
            return SLM_OK;
        }
    }
    size_t k = skip_space(lx, i);
    if (k > i) {
        advance(lx, k);
        return SLM_OK;
    }
    size_t e = match_float(lx, i);
    if (e)
        return push_number(lx, i, e, true, 10);
    int base;
    e = match_int(lx, i, &base);
    if (e)
        return push_number(lx, i, e, false, base);
    if (name_char((unsigned char)lx->s[i], true))
        return push_name(lx, i);
    if (lx->s[i] == '\'' || lx->s[i] == '"') {
        bool matched;
        SLM_TRY(push_string(lx, i, &matched));
        if (matched)
            return SLM_OK;
    }
    return push_operator(lx, bal, i);
}

static slm_status lex_tag(lexer *lx, bool block, size_t body)
{
    if (!push(lx, block ? SLM_TK_BLOCK_BEGIN : SLM_TK_VAR_BEGIN, lx->pos))
        return slm_fail_nomem(lx->err, "template tokens");
    advance(lx, body);
    lx->line_starting = false;
    balance bal = {.depth = 0};
    bool done = false;
    while (!done && lx->pos < lx->n)
        SLM_TRY(lex_tag_step(lx, block, &bal, &done));
    return SLM_OK; /* an unterminated tag ends at EOF; the parser reports it */
}

/* The root state: data up to the next "{%", "{{" or "{#", then the tag. */
static slm_status lex_root(lexer *lx)
{
    size_t i = lx->pos;
    while (i + 1 < lx->n &&
           !(lx->s[i] == '{' && (lx->s[i + 1] == '%' || lx->s[i + 1] == '{' || lx->s[i + 1] == '#')))
        i++;
    if (i + 1 >= lx->n) { /* no more tags: the rest is data */
        SLM_TRY(push_data(lx, lx->pos, lx->n - lx->pos));
        advance(lx, lx->n);
        return SLM_OK;
    }
    char kind = lx->s[i + 1];
    char sign = i + 2 < lx->n && (lx->s[i + 2] == '-' || lx->s[i + 2] == '+') ? lx->s[i + 2] : 0;
    size_t raw_end = kind == '%' ? match_raw_begin(lx, i) : 0;
    size_t keep = strip_before(lx, lx->pos, i, sign, kind == '{');
    SLM_TRY(push_data(lx, lx->pos, keep));
    advance(lx, i);
    size_t body = i + 2 + (sign ? 1 : 0);
    if (raw_end)
        return lex_raw(lx, raw_end);
    if (kind == '#')
        return lex_comment(lx, body);
    return lex_tag(lx, kind == '%', body);
}

slm_status slm_jinja_lex(const char *src, size_t len, slm_jarena *arena, slm_jtokens *out,
                         const char *what, slm_error *err)
{
    lexer lx = {.s = src, .n = len, .line = 1, .line_starting = true, .arena = arena,
                .out = out, .what = what, .err = err};
    while (lx.pos < lx.n)
        SLM_TRY(lex_root(&lx));
    if (!push(&lx, SLM_TK_EOF, lx.pos))
        return slm_fail_nomem(err, "template tokens");
    return SLM_OK;
}
