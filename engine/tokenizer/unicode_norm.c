/*
 * unicode_norm.c — the Unicode rewriting normalizers: NFC / NFD / NFKC / NFKD (utf8proc),
 * Lowercase, StripAccents and BertNormalizer, each equal to Hugging Face's on the same text.
 *
 * Contract: every function rewrites well-formed UTF-8 s[0..n) into out (cleared first) and
 * returns false only when out of memory. Normal forms apply to the whole string (canonical
 * ordering crosses characters); Lowercase is per character (Rust char::to_lowercase, so no
 * final-sigma rule). BertNormalizer runs its four steps in Hugging Face's order — clean_text,
 * handle_chinese_chars, strip_accents (NFD, then drop non-spacing marks), lowercase — fused into
 * one pass per character plus, only when strip_accents meets non-ASCII text, one NFD pass.
 * Known gap: utf8proc's normal forms are those of its Unicode version; Hugging Face's
 * unicode-normalization tables differ on a few code points added since Unicode 13 (e.g. the
 * compatibility forms of U+10780..U+107BA, U+11938's decomposition).
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer_internal.h"

/* Decomposes s into sc->u32 (canonical order); returns the count or -1. */
static utf8proc_ssize_t decompose(const char *s, size_t n, bool compat, slm_tok_scratch *sc)
{
    utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0);
    for (;;) {
        utf8proc_ssize_t need =
            utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n,
                               (utf8proc_int32_t *)sc->u32, (utf8proc_ssize_t)sc->u32_cap, opt);
        if (need < 0)
            return -1;
        if ((size_t)need <= sc->u32_cap)
            return need;
        size_t cap = (size_t)need + 64;
        uint32_t *p = realloc(sc->u32, cap * sizeof *p);
        if (!p)
            return -1;
        sc->u32 = p;
        sc->u32_cap = cap;
    }
}

/* Appends code points as UTF-8. */
static bool encode_all(const uint32_t *cps, size_t n, slm_tok_buf *out)
{
    if (!slm_tok_buf_reserve(out, 4 * n))
        return false;
    char *p = out->data + out->len;
    for (size_t i = 0; i < n; i++)
        p += slm_tok_utf8_encode(cps[i], p);
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return true;
}

static bool all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

bool slm_tok_nf(slm_norm_kind kind, const char *s, size_t n, slm_tok_buf *out,
                slm_tok_scratch *sc)
{
    slm_tok_buf_clear(out);
    if (all_ascii(s, n)) /* ASCII is in every normal form */
        return slm_tok_buf_append(out, s, n);
    bool compat = kind == SLM_NORM_NFKC || kind == SLM_NORM_NFKD;
    utf8proc_ssize_t len = decompose(s, n, compat, sc);
    if (len < 0)
        return false;
    if (kind == SLM_NORM_NFC || kind == SLM_NORM_NFKC) {
        len = utf8proc_normalize_utf32((utf8proc_int32_t *)sc->u32, len,
                                       UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (len < 0)
            return false;
    }
    return encode_all(sc->u32, (size_t)len, out);
}

bool slm_tok_lowercase(const char *s, size_t n, slm_tok_buf *out)
{
    slm_tok_buf_clear(out);
    /* A character's lowercase form is at most 1.5 times as long (İ: 2 bytes -> 3). */
    if (!slm_tok_buf_reserve(out, n + n / 2 + 4))
        return false;
    char *p = out->data;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            *p++ = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        size_t len;
        uint32_t lower[2], cp = slm_tok_utf8_decode(s + i, &len);
        size_t k = slm_tok_unicode_lower(cp, lower);
        for (size_t j = 0; j < k; j++)
            p += slm_tok_utf8_encode(lower[j], p);
        i += len;
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return true;
}

/* StripAccents: drops combining marks (Mn, Mc, Me) as they are; it does not decompose. */
bool slm_tok_strip_accents(const char *s, size_t n, slm_tok_buf *out)
{
    slm_tok_buf_clear(out);
    if (!slm_tok_buf_reserve(out, n))
        return false;
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = slm_tok_utf8_decode(s + i, &len);
        utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
        if (c != UTF8PROC_CATEGORY_MN && c != UTF8PROC_CATEGORY_MC && c != UTF8PROC_CATEGORY_ME)
            slm_tok_buf_append(out, s + i, len); /* reserved above */
        i += len;
    }
    return true;
}

/* ------------------------------------------------------------------ BertNormalizer */

/* Writes cp lowercased (when asked) at p; returns the new end. */
static char *put_char(char *p, uint32_t cp, bool lower)
{
    if (!lower)
        return p + slm_tok_utf8_encode(cp, p);
    uint32_t l[2];
    size_t k = slm_tok_unicode_lower(cp, l);
    for (size_t j = 0; j < k; j++)
        p += slm_tok_utf8_encode(l[j], p);
    return p;
}

/* clean_text and handle_chinese_chars (and lowercase when nothing comes in between) in one
 * pass; *ascii tells whether the result is plain ASCII. */
static bool bert_first_pass(const slm_norm_step *st, const char *s, size_t n, bool lower,
                            slm_tok_buf *out, bool *ascii)
{
    slm_tok_buf_clear(out);
    /* Worst growth: a 3-byte CJK character padded with two spaces. */
    if (!slm_tok_buf_reserve(out, 2 * n + 4))
        return false;
    char *p = out->data;
    *ascii = true;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
            if (st->clean && c != '\t' && c != '\n' && c != '\r' && (c < 0x20 || c == 0x7F))
                continue; /* control characters go, \t \n \r become spaces below */
            if (st->clean && (c == '\t' || c == '\n' || c == '\r'))
                c = ' ';
            *p++ = (char)(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
            continue;
        }
        size_t len;
        uint32_t cp = slm_tok_utf8_decode(s + i, &len);
        i += len;
        if (st->clean && (cp == 0xFFFD || slm_tok_bert_is_control(cp)))
            continue;
        if (st->clean && slm_tok_unicode_is_space(cp)) {
            *p++ = ' ';
            continue;
        }
        *ascii = false;
        bool pad = st->chinese && slm_tok_bert_is_chinese(cp);
        if (pad)
            *p++ = ' ';
        p = put_char(p, cp, lower);
        if (pad)
            *p++ = ' ';
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return true;
}

/* True when cp is its own NFD and a starter: canonical reordering never moves anything across
 * it, so the text around it can be decomposed piece by piece. */
static bool nfd_inert(uint32_t cp)
{
    if (cp < 0x80)
        return true;
    if (cp >= 0xAC00 && cp <= 0xD7A3) /* Hangul syllables decompose algorithmically */
        return false;
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
    return p->combining_class == 0 && p->decomp_seqindex == UINT16_MAX;
}

/* NFD, drop non-spacing marks, lowercase (when asked): strip_accents on non-ASCII text. Only the
 * stretches between inert characters go through utf8proc. */
static bool bert_strip(const slm_norm_step *st, const char *s, size_t n, slm_tok_buf *out,
                       slm_tok_scratch *sc)
{
    slm_tok_buf_clear(out);
    if (!slm_tok_buf_reserve(out, 2 * n + 4)) /* İ (2 bytes) -> i + U+0307 (3 bytes) */
        return false;
    char *p = out->data;
    for (size_t i = 0, len; i < n;) {
        uint32_t cp = slm_tok_utf8_decode(s + i, &len);
        if (nfd_inert(cp)) {
            if (!slm_tok_bert_is_nonspacing(cp))
                p = put_char(p, cp, st->lowercase);
            i += len;
            continue;
        }
        size_t j = i + len, k;
        while (j < n && !nfd_inert(slm_tok_utf8_decode(s + j, &k)))
            j += k;
        utf8proc_ssize_t m = decompose(s + i, j - i, false, sc);
        size_t used = (size_t)(p - out->data);
        /* a decomposed code point writes at most 8 bytes, the rest of s at most 2n + 4 */
        if (m < 0 || !slm_tok_buf_reserve(out, used + 8 * (size_t)m + 2 * (n - j) + 4))
            return false;
        p = out->data + used;
        for (utf8proc_ssize_t q = 0; q < m; q++)
            if (!slm_tok_bert_is_nonspacing(sc->u32[q]))
                p = put_char(p, sc->u32[q], st->lowercase);
        i = j;
    }
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return true;
}

bool slm_tok_bert_normalize(const slm_norm_step *st, const char *s, size_t n, slm_tok_buf *out,
                            slm_tok_scratch *sc)
{
    bool ascii;
    if (!st->strip_accents || all_ascii(s, n))
        return bert_first_pass(st, s, n, st->lowercase, out, &ascii);
    if (!bert_first_pass(st, s, n, false, &sc->tmp, &ascii))
        return false;
    return bert_strip(st, sc->tmp.data, sc->tmp.len, out, sc);
}
