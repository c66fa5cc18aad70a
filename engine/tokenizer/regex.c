/*
 * regex.c — the regular expressions of tokenizer.json (Split patterns, Replace patterns, the
 * ByteLevel word regex), run with PCRE2 the way Hugging Face runs them with Oniguruma.
 *
 * Contract:
 *   - Patterns compile once at load, in UTF mode with Unicode properties (PCRE2_UCP), so \p{L},
 *     \p{N}, \s and \w mean what they mean to Oniguruma; JIT-compiled when PCRE2 has a JIT.
 *     A {"String": ...} pattern is matched literally (Hugging Face escapes it).
 *   - A compiled pattern is read-only; all matching state lives in the caller's slm_tok_scratch
 *     (one pcre2_match_data per call), so one tokenizer serves several threads.
 *   - slm_tok_regex_next enumerates matches like rust-onig's find_iter: leftmost, then from the
 *     end of the previous match; an empty match right where the previous match ended is skipped
 *     by moving one character on.
 *   - Oniguruma and PCRE2 differ in two ways, so the pattern is rewritten before compiling (see
 *     rewrite_pattern): their Unicode versions (tokenizers 0.23's Oniguruma knows Unicode 16,
 *     PCRE2 10.42 Unicode 14), and what \w means (Oniguruma: letters, marks, Nd, Nl, Pc; PCRE2:
 *     letters, numbers, '_'). \s, \d, \w (and \S \D \W outside classes) and \p{L} / \p{N}
 *     become explicit sets with Oniguruma's meaning, adding what Unicode 15-16 assigned; \s leaves
 *     out U+180E (not White_Space since Unicode 6.3; PCRE2 still counts it). The sets were checked
 *     against tokenizers 0.23 on every code point. \S \D \W inside a class are left alone.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tokenizer_internal.h"

struct slm_tok_regex {
    pcre2_code *code;
    bool jit;
    char origin[320]; /* "tokenizer.json: pre_tokenizer.pattern", for messages at match time */
};

/* The White_Space property (Rust char::is_whitespace, Oniguruma \s), spelled out. */
#define WS_SET "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}" \
               "\\x{202F}\\x{205F}\\x{3000}"
/* Letters and numbers Unicode 15 and 16 added (PCRE2 10.42 has Unicode 14); harmless for a
 * newer PCRE2 that already knows them. */
#define NEW_L "\\x{1C89}-\\x{1C8A}\\x{A7CB}-\\x{A7CD}\\x{A7DA}-\\x{A7DC}\\x{105C0}-\\x{105F3}" \
              "\\x{10D4A}-\\x{10D65}\\x{10D6F}-\\x{10D85}\\x{10EC2}-\\x{10EC4}"             \
              "\\x{1123F}-\\x{11240}\\x{11380}-\\x{11389}\\x{1138B}\\x{1138E}"               \
              "\\x{11390}-\\x{113B5}\\x{113B7}\\x{113D1}\\x{113D3}\\x{11BC0}-\\x{11BE0}"      \
              "\\x{11F02}\\x{11F04}-\\x{11F10}\\x{11F12}-\\x{11F33}\\x{1342F}"               \
              "\\x{13441}-\\x{13446}\\x{13460}-\\x{143FA}\\x{16100}-\\x{1611D}"              \
              "\\x{16D40}-\\x{16D6C}\\x{18CFF}\\x{1B132}\\x{1B155}\\x{1DF25}-\\x{1DF2A}"      \
              "\\x{1E030}-\\x{1E06D}\\x{1E4D0}-\\x{1E4EB}\\x{1E5D0}-\\x{1E5ED}\\x{1E5F0}"    \
              "\\x{2B739}\\x{2EBF0}-\\x{2EE5D}\\x{31350}-\\x{323AF}"
/* Decimal digits Unicode 15 and 16 added (\d). */
#define NEW_ND "\\x{10D40}-\\x{10D49}\\x{116D0}-\\x{116E3}\\x{11BF0}-\\x{11BF9}"             \
               "\\x{11F50}-\\x{11F59}\\x{16130}-\\x{16139}\\x{16D70}-\\x{16D79}"              \
               "\\x{1CCF0}-\\x{1CCF9}\\x{1E4F0}-\\x{1E4F9}\\x{1E5F1}-\\x{1E5FA}"
/* Oniguruma's \w is letters, marks, Nd, Nl and Pc (PCRE2's is letters, numbers and '_'), plus
 * these: superscript digits and vulgar fractions, circled Latin letters, and what Unicode 15-16
 * added. Derived by probing every code point through tokenizers 0.23. */
#define W_EXTRA "\\x{B2}-\\x{B3}\\x{B9}\\x{BC}-\\x{BE}\\x{897}\\x{CF3}\\x{ECE}" \
                "\\x{1C89}-\\x{1C8A}\\x{24B6}-\\x{24E9}\\x{A7CB}-\\x{A7CD}\\x{A7DA}-\\x{A7DC}" \
                "\\x{105C0}-\\x{105F3}\\x{10D40}-\\x{10D65}\\x{10D69}-\\x{10D6D}" \
                "\\x{10D6F}-\\x{10D85}\\x{10EC2}-\\x{10EC4}\\x{10EFC}-\\x{10EFF}" \
                "\\x{1123F}-\\x{11241}\\x{11380}-\\x{11389}\\x{1138B}\\x{1138E}" \
                "\\x{11390}-\\x{113B5}\\x{113B7}-\\x{113C0}\\x{113C2}\\x{113C5}" \
                "\\x{113C7}-\\x{113CA}\\x{113CC}-\\x{113D3}\\x{113E1}-\\x{113E2}" \
                "\\x{116D0}-\\x{116E3}\\x{11BC0}-\\x{11BE0}\\x{11BF0}-\\x{11BF9}" \
                "\\x{11F00}-\\x{11F10}\\x{11F12}-\\x{11F3A}\\x{11F3E}-\\x{11F42}" \
                "\\x{11F50}-\\x{11F5A}\\x{1342F}\\x{13440}-\\x{13455}\\x{13460}-\\x{143FA}" \
                "\\x{16100}-\\x{16139}\\x{16D40}-\\x{16D6C}\\x{16D70}-\\x{16D79}\\x{18CFF}" \
                "\\x{1B132}\\x{1B155}\\x{1CCF0}-\\x{1CCF9}\\x{1DF25}-\\x{1DF2A}" \
                "\\x{1E030}-\\x{1E06D}\\x{1E08F}\\x{1E4D0}-\\x{1E4F9}\\x{1E5D0}-\\x{1E5FA}" \
                "\\x{1F130}-\\x{1F149}\\x{1F150}-\\x{1F169}\\x{1F170}-\\x{1F189}\\x{2B739}" \
                "\\x{2EBF0}-\\x{2EE5D}\\x{31350}-\\x{323AF}"
#define NEW_N "\\x{10D40}-\\x{10D49}\\x{116D0}-\\x{116E3}\\x{11BF0}-\\x{11BF9}"             \
              "\\x{11F50}-\\x{11F59}\\x{16130}-\\x{16139}\\x{16D70}-\\x{16D79}"              \
              "\\x{1CCF0}-\\x{1CCF9}\\x{1D2C0}-\\x{1D2D3}\\x{1E4F0}-\\x{1E4F9}\\x{1E5F1}-\\x{1E5FA}"

#define WORD_SET "\\p{L}\\p{M}\\p{Nd}\\p{Nl}\\p{Pc}" W_EXTRA

/* One escape the rewrite knows: its spelling and what replaces it outside / inside a class
 * (NULL inside: left alone, as a negated set cannot be merged into a class). */
typedef struct {
    const char *esc, *outside, *inside;
} rewrite_rule;

static const rewrite_rule RULES[] = {
    {"\\s", "[" WS_SET "]", WS_SET},
    {"\\S", "[^" WS_SET "]", NULL},
    {"\\d", "[\\p{Nd}" NEW_ND "]", "\\p{Nd}" NEW_ND},
    {"\\D", "[^\\p{Nd}" NEW_ND "]", NULL},
    {"\\w", "[" WORD_SET "]", WORD_SET},
    {"\\W", "[^" WORD_SET "]", NULL},
    {"\\p{L}", "[\\p{L}" NEW_L "]", "\\p{L}" NEW_L},
    {"\\p{N}", "[\\p{N}" NEW_N "]", "\\p{N}" NEW_N},
};

/* Length of the escape sequence at p[0] == '\\' (so it is copied whole). */
static size_t escape_len(const char *p, size_t n)
{
    if (n < 2)
        return n;
    if ((p[1] == 'p' || p[1] == 'P' || p[1] == 'x') && n > 2 && p[2] == '{') {
        const char *close = memchr(p, '}', n);
        return close ? (size_t)(close - p) + 1 : n;
    }
    return 2;
}

/* Copies pattern into out, rewriting the escapes of RULES (see the file comment). Character
 * classes are tracked so an escape inside [...] is replaced by class members. */
static bool rewrite_pattern(const char *p, size_t n, slm_tok_buf *out)
{
    bool in_class = false;
    for (size_t i = 0; i < n;) {
        if (p[i] == '\\') {
            size_t k = escape_len(p + i, n - i);
            const char *with = NULL;
            for (size_t r = 0; r < sizeof RULES / sizeof RULES[0] && !with; r++)
                if (strlen(RULES[r].esc) == k && memcmp(p + i, RULES[r].esc, k) == 0)
                    with = in_class ? RULES[r].inside : RULES[r].outside;
            if (!(with ? slm_tok_buf_append_str(out, with) : slm_tok_buf_append(out, p + i, k)))
                return false;
            i += k;
            continue;
        }
        if (!in_class && p[i] == '[') {
            in_class = true;
            /* "[]...]" and "[^]...]" start with a literal ']' */
            size_t j = i + 1 < n && p[i + 1] == '^' ? i + 2 : i + 1;
            if (j < n && p[j] == ']')
                j++;
            if (!slm_tok_buf_append(out, p + i, j - i))
                return false;
            i = j;
            continue;
        }
        if (in_class && p[i] == ']')
            in_class = false;
        if (!slm_tok_buf_append(out, p + i, 1))
            return false;
        i++;
    }
    return slm_tok_buf_append(out, "", 0);
}

slm_status slm_tok_regex_new(const char *pattern, size_t len, bool literal, const char *path,
                             const char *where, slm_tok_regex **out, slm_error *err)
{
    *out = NULL;
    slm_tok_buf text = {0};
    if (!literal && !rewrite_pattern(pattern, len, &text)) {
        slm_tok_buf_free(&text);
        return slm_fail_nomem(err, "regex");
    }
    int code;
    PCRE2_SIZE at;
    /* PCRE2 takes no Unicode-property option with a literal pattern (nor needs one) */
    uint32_t opts = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
    pcre2_code *re = literal ? pcre2_compile((PCRE2_SPTR)pattern, len, opts, &code, &at, NULL)
                             : pcre2_compile((PCRE2_SPTR)text.data, text.len, opts, &code, &at,
                                             NULL);
    slm_tok_buf_free(&text);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %s: regex /%.200s/ does not compile: %s",
                        path, where, pattern, (const char *)msg);
    }
    slm_tok_regex *r = malloc(sizeof *r);
    if (!r) {
        pcre2_code_free(re);
        return slm_fail_nomem(err, "regex");
    }
    r->code = re;
    r->jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
    snprintf(r->origin, sizeof r->origin, "%s: %s", path, where);
    *out = r;
    return SLM_OK;
}

const char *slm_tok_regex_origin(const slm_tok_regex *re)
{
    return re->origin;
}

void slm_tok_regex_free(slm_tok_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re);
}

void slm_tok_scratch_free(slm_tok_scratch *sc)
{
    pcre2_match_data_free(sc->match_data);
    free(sc->u32);
    free(sc->pieces);
    slm_tok_buf_free(&sc->tmp);
    slm_tok_buf_free(&sc->chain);
    memset(sc, 0, sizeof *sc);
}

/* One search from `from`; 1 = match in ovector, 0 = none, -1 = failure. */
static int search(const slm_tok_regex *re, const char *s, size_t n, size_t from,
                  pcre2_match_data *md)
{
    int rc = PCRE2_ERROR_JIT_STACKLIMIT;
    if (re->jit)
        rc = pcre2_jit_match(re->code, (PCRE2_SPTR)s, n, from, 0, md, NULL);
    /* Without a JIT, or when a pathological input exhausts the JIT stack, the interpreter
     * (which keeps its backtracking state on the heap) takes over. */
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, from, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                         md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return rc >= 0 ? 1 : -1; /* 0 only means the ovector was too small for the groups */
}

int slm_tok_regex_next(const slm_tok_regex *re, const char *s, size_t n, slm_tok_regex_iter *it,
                       slm_tok_scratch *sc, size_t *start, size_t *end)
{
    if (!sc->match_data && !(sc->match_data = pcre2_match_data_create(1, NULL)))
        return -1;
    pcre2_match_data *md = sc->match_data;
    for (;;) {
        if (it->pos > n)
            return 0;
        int rc = search(re, s, n, it->pos, md);
        if (rc <= 0)
            return rc;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t a = ov[0], b = ov[1];
        if (a == b && it->has_last && it->last_end == b) {
            size_t step = it->pos < n ? slm_tok_utf8_char_len(s + it->pos, n - it->pos) : 1;
            it->pos += step ? step : 1;
            continue;
        }
        it->pos = b;
        it->last_end = b;
        it->has_last = true;
        *start = a;
        *end = b;
        return 1;
    }
}
