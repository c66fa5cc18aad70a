/*
 * ast.h — tokens and syntax tree of the Jinja2 subset (internal to
 * engine/jinja/). The lexer turns normalized source into tokens; the parser
 * builds nodes in an arena owned by the template, so freeing a template is
 * freeing its arena plus the constant values it holds.
 */
#ifndef SLM_JINJA_AST_H
#define SLM_JINJA_AST_H

#include "jinja.h"

/* ----------------------------------------------------------------- arena */

typedef struct slm_jarena_chunk slm_jarena_chunk;
typedef struct {
    slm_jarena_chunk *head;
} slm_jarena;

/* Zeroed, 16-byte aligned; NULL on allocation failure. */
void *slm_jarena_alloc(slm_jarena *a, size_t n);
char *slm_jarena_strdup(slm_jarena *a, const char *s, size_t n);
void slm_jarena_free(slm_jarena *a);

/* ---------------------------------------------------------------- tokens */

typedef enum {
    SLM_TK_DATA,
    SLM_TK_BLOCK_BEGIN,
    SLM_TK_BLOCK_END,
    SLM_TK_VAR_BEGIN,
    SLM_TK_VAR_END,
    SLM_TK_NAME,
    SLM_TK_STRING,
    SLM_TK_INT,
    SLM_TK_FLOAT,
    SLM_TK_OP,
    SLM_TK_EOF,
} slm_jtoken_type;

typedef enum {
    SLM_OP_ADD, SLM_OP_SUB, SLM_OP_DIV, SLM_OP_FLOORDIV, SLM_OP_MUL, SLM_OP_MOD, SLM_OP_POW,
    SLM_OP_TILDE, SLM_OP_LBRACKET, SLM_OP_RBRACKET, SLM_OP_LPAREN, SLM_OP_RPAREN,
    SLM_OP_LBRACE, SLM_OP_RBRACE, SLM_OP_EQ, SLM_OP_NE, SLM_OP_GT, SLM_OP_GTEQ, SLM_OP_LT,
    SLM_OP_LTEQ, SLM_OP_ASSIGN, SLM_OP_DOT, SLM_OP_COLON, SLM_OP_PIPE, SLM_OP_COMMA,
    SLM_OP_SEMICOLON,
    /* not produced by the lexer: comparison operators of the AST */
    SLM_OP_IN, SLM_OP_NOTIN,
} slm_jop;

typedef struct {
    uint8_t type; /* slm_jtoken_type */
    uint8_t op;   /* slm_jop for SLM_TK_OP */
    int line, col;
    const char *s; /* name / data / decoded string text (arena or source) */
    size_t len;
    int64_t i;
    double f;
} slm_jtoken;

typedef struct {
    slm_jtoken *v;
    size_t n, cap;
} slm_jtokens;

/* Tokenizes normalized source (newlines already "\n", the final newline
 * dropped) applying trim_blocks / lstrip_blocks / "-" and "+" markers the way
 * jinja2's lexer does. Token texts live in `src` or `arena`. */
slm_status slm_jinja_lex(const char *src, size_t len, slm_jarena *arena, slm_jtokens *out,
                         const char *what, slm_error *err);

/* ------------------------------------------------------------------ nodes */

typedef enum {
    /* expressions */
    SLM_N_CONST, SLM_N_NAME, SLM_N_GETATTR, SLM_N_GETITEM, SLM_N_SLICE, SLM_N_CALL,
    SLM_N_FILTER, SLM_N_TEST, SLM_N_NEG, SLM_N_POS, SLM_N_NOT, SLM_N_BIN, SLM_N_CONCAT,
    SLM_N_AND, SLM_N_OR, SLM_N_COMPARE, SLM_N_COND, SLM_N_LIST, SLM_N_TUPLE, SLM_N_DICT,
    SLM_N_NSREF,
    /* statements */
    SLM_N_BODY, SLM_N_TEXT, SLM_N_PRINT, SLM_N_IF, SLM_N_FOR, SLM_N_SET, SLM_N_SETBLOCK,
    SLM_N_MACRO, SLM_N_BREAK, SLM_N_CONTINUE, SLM_N_FILTERBLOCK, SLM_N_WITH,
} slm_jnode_kind;

/*
 * One node shape for everything; which fields mean what:
 *   CONST    val
 *   NAME     str (variable)           NSREF  str (namespace) . str2 (attribute)
 *   GETATTR  a . str                  GETITEM a [ b ]
 *   SLICE    a=start b=stop c=step (each may be NULL; only as GETITEM's b)
 *   CALL     a ( items, kw )          FILTER a | str ( items, kw ), id = filter
 *   TEST     a is str ( items, kw ), id = test
 *   NEG/POS/NOT a                     BIN a op b   CONCAT items (~)
 *   AND/OR   a, b                     COMPARE a, then items[i] with ops[i]
 *   COND     b if a else c (c may be NULL)
 *   LIST/TUPLE items                  DICT items = key, value, key, value, ...
 *   BODY     items (statements)       TEXT str/len   PRINT a
 *   IF       a (test) b (body) c (else: BODY, an IF for elif, or NULL)
 *   FOR      a (target) b (iterable) c (filter or NULL) d (body) e (else or NULL)
 *   SET      a (target: NAME, TUPLE of NAMEs, NSREF) = b
 *   SETBLOCK a (target) b (body) c (FILTER chain with a NULL innermost input, or NULL)
 *   MACRO    str (name) items (parameter NAMEs) items2 (defaults for the last n2) a (body)
 *   FILTERBLOCK a (FILTER chain) b (body)
 *   WITH     items (targets) items2 (values) a (body)
 */
typedef struct slm_jnode {
    uint8_t kind;
    uint8_t op;
    int id;
    int line;
    const char *str;
    size_t len;
    const char *str2;
    struct slm_jnode *a, *b, *c, *d, *e;
    struct slm_jnode **items;
    const char **kw; /* per item: keyword name, or NULL for a positional argument */
    size_t n;
    struct slm_jnode **items2;
    size_t n2;
    uint8_t *ops;
    slm_jv val;
} slm_jnode;

struct slm_jinja_template {
    slm_jarena arena;
    char *src;          /* normalized source the tokens point into */
    slm_jv consts;      /* a list holding every constant so they are freed once */
    slm_jnode *root;    /* BODY */
    char what[96];      /* prefix of error messages */
};

/* Ids of filters and tests known to jinja; the parser rejects names jinja
 * does not know (as jinja does at compile time) and those slm lacks. */
int slm_jinja_filter_id(const char *name, size_t len, bool *supported);
int slm_jinja_test_id(const char *name, size_t len, bool *supported);

#endif /* SLM_JINJA_AST_H */
