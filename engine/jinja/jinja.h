/*
 * jinja.h — internal interface of slm's Jinja2-subset evaluator, the engine
 * behind chat templates (engine/chat_template.c).
 *
 * Contract:
 *   - Semantics follow jinja2 3.1 as transformers configures it for
 *     apply_chat_template: ImmutableSandboxedEnvironment(trim_blocks=True,
 *     lstrip_blocks=True, extensions=[loopcontrols]), the default Undefined
 *     (prints empty, is falsy, fails on attribute access / arithmetic), and
 *     transformers' globals raise_exception, strftime_now, namespace, dict
 *     and its tojson filter (ensure_ascii=False).
 *   - Values (slm_jv) are small structs; strings, lists, dicts and the other
 *     heap kinds are reference counted. Every function that returns a value
 *     through an out parameter hands the caller one reference. Lists and
 *     dicts are immutable once built (the sandbox forbids append/update), so
 *     the only cycles possible go through namespaces, which the renderer
 *     clears when it finishes.
 *   - Failures return an slm_status and fill the slm_error; nothing prints.
 *     Limits (nesting depth, string size, loop iterations, and one work
 *     budget per render) turn hostile templates into errors instead of
 *     crashes, hangs or balloons.
 */
#ifndef SLM_JINJA_H
#define SLM_JINJA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "slm.h"

#define SLM_JINJA_MAX_DEPTH 200           /* parser nesting and evaluator recursion */
#define SLM_JINJA_MAX_STRING (16u << 20)  /* bytes in any one string or the output */
#define SLM_JINJA_MAX_STEPS 1000000u      /* loop iterations + macro calls per render */
#define SLM_JINJA_MAX_RANGE 100000        /* as jinja2.sandbox.MAX_RANGE */
#define SLM_JINJA_MAX_ARGS 32             /* arguments of one call / filter / test */
#define SLM_JINJA_MAX_NEST 256            /* lists/dicts nested in a stored value */
/* Work per render, in units of about one byte touched: bytes written to any
 * string or scanned in one, 16 per list item stored or value compared, 32 per
 * dict entry. It bounds the time and the memory of every filter, method,
 * global and operator at once (a string filter on a 16 MiB string is fine
 * once, not a million times; values that share sublists cannot be compared
 * or printed exponentially long). */
#define SLM_JINJA_MAX_WORK (256ull << 20)

/* ------------------------------------------------------------ work budget */

/* The budget of the render running on this thread. The value layer (string
 * building, lists, dicts, comparison, UTF-8 scans) charges it directly, so
 * no builtin can escape it; once it is exhausted those operations fail (or
 * return early) and the render reports the limit (eval.c). Outside a render
 * nothing is charged. */
typedef struct {
    uint64_t used, limit;
    bool exceeded;
} slm_jwork;

extern _Thread_local slm_jwork *slm_jwork_current;

/* Adds units to the current budget; false once it is exhausted. */
bool slm_jwork_charge(uint64_t units);
bool slm_jwork_exceeded(void);

/* ------------------------------------------------------------------ values */

typedef enum {
    SLM_JV_UNDEF, /* u.s: the message an error about it would carry (may be NULL) */
    SLM_JV_NONE,
    SLM_JV_BOOL,
    SLM_JV_INT,
    SLM_JV_FLOAT,
    SLM_JV_STR,
    SLM_JV_LIST,   /* list, tuple or generator (see slm_jv_list.flavor) */
    SLM_JV_DICT,
    SLM_JV_NS,     /* namespace(): a dict whose attributes can be assigned */
    SLM_JV_LOOP,   /* the `loop` variable of a for loop */
    SLM_JV_MACRO,
    SLM_JV_FUNC,   /* a builtin global (range, namespace, ...): u.fn */
    SLM_JV_METHOD, /* a bound method such as 'abc'.strip */
} slm_jv_kind;

/* Python distinguishes these in repr, equality and len(); jinja's
 * select/map/... filters return generators, which are always truthy. */
enum { SLM_JSEQ_LIST, SLM_JSEQ_TUPLE, SLM_JSEQ_GEN };

struct slm_jv_str;
struct slm_jv_list;
struct slm_jv_dict;
struct slm_jv_loop;
struct slm_jv_macro;
struct slm_jv_method;

typedef struct slm_jv {
    uint8_t kind;
    union {
        bool b;
        int64_t i;
        double f;
        int fn;
        struct slm_jv_str *s;
        struct slm_jv_list *l;
        struct slm_jv_dict *d;
        struct slm_jv_loop *loop;
        struct slm_jv_macro *m;
        struct slm_jv_method *meth;
    } u;
} slm_jv;

/* Every heap kind starts with its reference count. */
typedef struct slm_jv_str {
    int rc;
    size_t len;
    char s[]; /* NUL-terminated */
} slm_jv_str;

typedef struct slm_jv_list {
    int rc;
    uint8_t flavor;
    uint32_t depth; /* nesting of lists/dicts inside, so assignments can cap it */
    size_t n, cap;
    slm_jv *v;
} slm_jv_list;

typedef struct slm_jv_dict {
    int rc;
    uint32_t depth;
    size_t n, cap;
    slm_jv *k, *v;
} slm_jv_dict;

typedef struct slm_jv_loop {
    int rc;
    slm_jv_list *items;
    size_t i; /* index0 of the current item */
} slm_jv_loop;

struct slm_jnode;
struct slm_jscope;

typedef struct slm_jv_macro {
    int rc;
    const struct slm_jnode *node;
    struct slm_jscope *scope; /* where it was defined; kept alive by the render */
} slm_jv_macro;

typedef struct slm_jv_method {
    int rc;
    int id;
    slm_jv self;
} slm_jv_method;

slm_jv slm_jv_undef(void);
slm_jv slm_jv_none(void);
slm_jv slm_jv_bool(bool b);
slm_jv slm_jv_int(int64_t i);
slm_jv slm_jv_float(double f);
/* Constructors return false on allocation failure or when a string would
 * exceed SLM_JINJA_MAX_STRING. */
bool slm_jv_str_new(const char *s, size_t len, slm_jv *out);
bool slm_jv_cstr(const char *s, slm_jv *out);
bool slm_jv_undef_msg(slm_jv *out, const char *fmt, ...);
bool slm_jv_list_new(size_t cap, int flavor, slm_jv *out);
bool slm_jv_dict_new(slm_jv *out);
bool slm_jv_ns_new(slm_jv *out);

/* Appends (takes ownership of v, releasing it on failure). */
bool slm_jv_list_push(slm_jv_list *l, slm_jv v);
/* Borrowed pointer to the value stored under key (Python equality), or NULL. */
slm_jv *slm_jv_dict_get(const slm_jv_dict *d, slm_jv key);
slm_jv *slm_jv_dict_get_str(const slm_jv_dict *d, const char *key, size_t len);
/* Stores (taking ownership of key and val; both released on failure). */
bool slm_jv_dict_set(slm_jv_dict *d, slm_jv key, slm_jv val);
bool slm_jv_dict_set_str(slm_jv_dict *d, const char *key, slm_jv val);
/* Drops every entry (how namespaces are cleared to break cycles). */
void slm_jv_dict_clear(slm_jv_dict *d);

slm_jv slm_jv_retain(slm_jv v);
void slm_jv_release(slm_jv v);
/* A template's constants are immortal: retain/release never write their
 * count, so several threads may render one template at once. Only strings
 * are made immortal (they hold no references); free them explicitly. */
#define SLM_JV_IMMORTAL (1 << 30)
void slm_jv_make_immortal(slm_jv v);
void slm_jv_free_immortal(slm_jv v);

/* 1 + the deepest list/dict inside a list or dict (namespaces count 0). */
uint32_t slm_jv_depth(slm_jv v);
bool slm_jv_truthy(slm_jv v);
bool slm_jv_is_seq(slm_jv v); /* list, tuple or generator */
bool slm_jv_equal(slm_jv a, slm_jv b);
/* Python ordering: *cmp < 0, 0, > 0. Returns false when the types do not
 * order (str vs int, ...). */
bool slm_jv_compare(slm_jv a, slm_jv b, int *cmp);
/* Python's type(v).__name__ ("str", "NoneType", ...). */
const char *slm_jv_type_name(slm_jv v);
/* Python's number coercion: bool/int/float to double. */
bool slm_jv_is_number(slm_jv v);
double slm_jv_as_double(slm_jv v);

/* ------------------------------------------------------ string builder */

typedef struct {
    char *p;
    size_t n, cap;
    bool failed; /* sticky: allocation failure or SLM_JINJA_MAX_STRING exceeded */
} slm_jbuf;

void slm_jbuf_put(slm_jbuf *b, const char *s, size_t n);
void slm_jbuf_puts(slm_jbuf *b, const char *s);
void slm_jbuf_putc(slm_jbuf *b, char c);
void slm_jbuf_put_cp(slm_jbuf *b, uint32_t cp); /* UTF-8 encodes */
void slm_jbuf_free(slm_jbuf *b);
/* Moves the contents into a string value (the buffer is emptied). */
bool slm_jbuf_to_jv(slm_jbuf *b, slm_jv *out);

/* str(v) and repr(v) as Python spells them; undefined prints as "". */
void slm_jv_to_str(slm_jbuf *b, slm_jv v);
void slm_jv_repr(slm_jbuf *b, slm_jv v);
void slm_jv_fmt_float(slm_jbuf *b, double f); /* float.__repr__ */
/* str(v) as a new string value (strings are returned as they are). */
bool slm_jv_str_of(slm_jv v, slm_jv *out);

/* ------------------------------------------------------- text helpers */

/* Decodes the code point at s[i] (i < n); returns the index after it.
 * A byte that starts no valid sequence stands for itself. */
size_t slm_utf8_next(const char *s, size_t n, size_t i, uint32_t *cp);
size_t slm_utf8_count(const char *s, size_t n);
/* Byte offset of code point number k (clamped to n). */
size_t slm_utf8_offset(const char *s, size_t n, size_t k);
/* Where needle first occurs in hay (memmem), NULL if nowhere; linear and
 * charged to the work budget like every other scan. */
const char *slm_text_find(const char *hay, size_t n, const char *needle, size_t m);
/* s starts (end: ends) with x. */
bool slm_text_affix(const char *s, size_t n, const char *x, size_t m, bool end);
/* Python's str.isspace() for one code point. */
bool slm_py_isspace(uint32_t cp);
/* Python's str.splitlines() boundaries (\n \r \v \f \x1c-\x1e \x85 \u2028 \u2029). */
bool slm_py_islinebreak(uint32_t cp);
/* Byte range [*b, *e) of s with leading/trailing characters removed: Python
 * whitespace when chars is NULL, else any code point of chars. */
void slm_py_strip(const char *s, size_t n, const char *chars, size_t nchars, bool left,
                  bool right, size_t *b, size_t *e);
typedef enum { SLM_CASE_UPPER, SLM_CASE_LOWER, SLM_CASE_TITLE, SLM_CASE_CAPITALIZE,
               SLM_CASE_SWAP, SLM_CASE_JINJA_TITLE } slm_case_mode;
void slm_py_case(slm_jbuf *b, const char *s, size_t n, slm_case_mode mode);
bool slm_py_is_cased(uint32_t cp, bool *upper);

/* ---------------------------------------------------------- templates */

typedef struct slm_jinja_template slm_jinja_template;

/* Parses template source. Syntax errors are SLM_ERR_FORMAT, constructs of
 * jinja that slm does not implement SLM_ERR_UNSUPPORTED; both name the
 * line (and column) and prefix the message with `what`. */
slm_status slm_jinja_parse(const char *src, size_t len, const char *what,
                           slm_jinja_template **out, slm_error *err);
void slm_jinja_free(slm_jinja_template *t);

/* Renders with the variables of `vars` (a dict; borrowed). Runtime errors
 * (undefined misuse, type errors, raise_exception) are SLM_ERR_INVALID_ARG;
 * a raise_exception message is reported verbatim. Limits give SLM_ERR_RANGE. */
slm_status slm_jinja_render(const slm_jinja_template *t, const slm_jv_dict *vars, char **out,
                            size_t *len, slm_error *err);

/* JSON to values (integral numbers become ints). */
bool slm_jv_from_json(const cJSON *j, slm_jv *out);

#endif /* SLM_JINJA_H */
