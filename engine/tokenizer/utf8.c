/*
 * utf8.c — UTF-8 checks, encoding and decoding, and White_Space (Rust's char::is_whitespace,
 * the regex crate's \s), a fixed list that has not changed since Unicode 6.3.
 *
 * Well-formed means RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
 * The lossy conversion follows Rust's String::from_utf8_lossy (which Hugging Face decoders
 * use): each maximal ill-formed subpart becomes one U+FFFD.
 */
#include "tokenizer_internal.h"

/* Valid range of the byte after a lead byte; the third and fourth are always 80..BF. */
static bool second_byte_ok(unsigned char lead, unsigned char b)
{
    switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF; /* no overlongs */
    case 0xED: return b >= 0x80 && b <= 0x9F; /* no surrogates */
    case 0xF0: return b >= 0x90 && b <= 0xBF; /* no overlongs */
    case 0xF4: return b >= 0x80 && b <= 0x8F; /* nothing above U+10FFFF */
    default: return b >= 0x80 && b <= 0xBF;
    }
}

/* The length a lead byte announces, or 0 when it cannot start a character. */
static size_t announced_len(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

/* How many bytes at s form a valid prefix of a character (the whole of it when complete). */
static size_t valid_prefix(const unsigned char *s, size_t n, size_t want)
{
    size_t k = 1;
    while (k < want && k < n) {
        bool ok = k == 1 ? second_byte_ok(s[0], s[1]) : (s[k] & 0xC0) == 0x80;
        if (!ok)
            break;
        k++;
    }
    return k;
}

size_t slm_tok_utf8_char_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0)
        return 0;
    size_t want = announced_len(u[0]);
    if (want == 0)
        return 0;
    return valid_prefix(u, n, want) == want ? want : 0;
}

bool slm_tok_utf8_valid(const char *s, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = slm_tok_utf8_char_len(s + i, n - i);
        if (k == 0) {
            if (bad)
                *bad = i;
            return false;
        }
        i += k;
    }
    return true;
}

uint32_t slm_tok_utf8_decode(const char *s, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) {
        *len = 1;
        return u[0];
    }
    if (u[0] < 0xE0) {
        *len = 2;
        return (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
    }
    if (u[0] < 0xF0) {
        *len = 3;
        return (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
    }
    *len = 4;
    return (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3F) << 12 |
           (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
}

size_t slm_tok_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool slm_tok_utf8_append_lossy(slm_tok_buf *out, const char *s, size_t n)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    if (n == 0)
        return true;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: start of the pending well-formed stretch */
    while (i < n) {
        size_t want = announced_len(u[i]);
        size_t got = want ? valid_prefix(u + i, n - i, want) : 0;
        if (want && got == want) {
            i += want;
            continue;
        }
        if (!slm_tok_buf_append(out, s + run, i - run) || !slm_tok_buf_append(out, fffd, 3))
            return false;
        i += got ? got : 1; /* the maximal ill-formed subpart */
        run = i;
    }
    return slm_tok_buf_append(out, s + run, n - run);
}

bool slm_tok_unicode_is_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

size_t slm_tok_utf8_incomplete_tail(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    /* Only the last three bytes can be the start of an unfinished character. */
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        size_t j = n - back;
        size_t want = announced_len(u[j]);
        if (want == 0) {
            if ((u[j] & 0xC0) == 0x80)
                continue; /* a continuation byte: its lead may be further back */
            return 0;
        }
        return want > back && valid_prefix(u + j, back, want) == back ? back : 0;
    }
    return 0;
}
