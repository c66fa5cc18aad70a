/*
 * byte_level.c — GPT-2's byte-level alphabet: every byte is spelled as one printable
 * character, so a vocabulary of such characters can encode any text without unknowns.
 *
 * The table (bytes_to_unicode in GPT-2's encoder.py, bytes_char in Hugging Face) keeps the
 * bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF as the characters of the same value and gives the
 * other 68 bytes, in increasing order, the characters U+0100, U+0101, ...: bytes 0..32 become
 * U+0100..U+0120 (so ' ' is 'Ġ' U+0120), 127..160 become U+0121..U+0142 and 173 becomes U+0143.
 * Being arithmetic, it needs no table and no state.
 */
#include <string.h>

#include "tokenizer_internal.h"

uint32_t slm_tok_byte_to_char(uint8_t b)
{
    if (b <= 32)
        return 256u + b;
    if (b >= 127 && b <= 160)
        return 256u + 33 + (b - 127u);
    if (b == 173)
        return 256u + 67;
    return b;
}

int slm_tok_char_to_byte(uint32_t cp)
{
    if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 255 && cp != 173))
        return (int)cp;
    if (cp >= 256 && cp <= 288)
        return (int)(cp - 256);
    if (cp >= 289 && cp <= 322)
        return (int)(cp - 289 + 127);
    if (cp == 323)
        return 173;
    return -1;
}

bool slm_tok_byte_level_map(const char *s, size_t n, slm_tok_buf *out)
{
    if (!slm_tok_buf_reserve(out, 2 * n)) /* every character is 1 or 2 bytes */
        return false;
    char *p = out->data + out->len;
    for (size_t i = 0; i < n; i++)
        p += slm_tok_utf8_encode(slm_tok_byte_to_char((uint8_t)s[i]), p);
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
    return true;
}

/* pre_tokenizers/byte_level.rs: contractions, letter runs, digit runs, other runs (each with an
 * optional leading space), then whitespace not followed by a non-space, then whitespace. */
static const char GPT2_WORDS[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

slm_status slm_tok_byte_level_regex(const char *path, const char *where, slm_tok_regex **out,
                                    slm_error *err)
{
    return slm_tok_regex_new(GPT2_WORDS, strlen(GPT2_WORDS), false, path, where, out, err);
}
