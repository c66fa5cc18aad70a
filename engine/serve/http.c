/*
 * http.c — helpers of the request/response types (see http.h): freeing,
 * the constant-time key comparison, the access-log line.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void slm_http_response_free(slm_http_response *r)
{
    if (!r)
        return;
    free(r->body);
    if (r->stream)
        r->stream->close(r->stream);
    memset(r, 0, sizeof *r);
}

bool slm_http_key_equal(const char *given, const char *expected)
{
    size_t n = strlen(expected);
    /* Read `given` up to its end without branching on its bytes; the loop
     * runs n times whatever was presented. */
    size_t glen = 0;
    while (given[glen] != '\0' && glen <= n)
        glen++;
    volatile unsigned char diff = (unsigned char)(glen != n);
    for (size_t i = 0; i < n; i++) {
        unsigned char g = i < glen ? (unsigned char)given[i] : 0;
        diff |= (unsigned char)(g ^ (unsigned char)expected[i]);
    }
    return diff == 0 && n > 0;
}

/* Appends s (at most max bytes of it) with non-printable bytes escaped. */
static size_t put_clean(char *buf, size_t cap, size_t at, const char *s, size_t max)
{
    for (size_t i = 0; s && s[i] && i < max && at + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            buf[at++] = (char)c;
        } else {
            snprintf(buf + at, cap - at, "\\x%02x", c);
            at += 4;
        }
    }
    if (s && strlen(s) > max && at + 4 < cap) {
        memcpy(buf + at, "...", 3);
        at += 3;
    }
    buf[at] = '\0';
    return at;
}

void slm_http_log_line(char *buf, size_t cap, const char *method, const char *path, int status,
                       int prompt_tokens, int completion_tokens, double seconds)
{
    if (cap < 64) {
        if (cap)
            buf[0] = '\0';
        return;
    }
    size_t at = put_clean(buf, cap - 48, 0, method ? method : "-", 16);
    buf[at++] = ' ';
    at = put_clean(buf, cap - 48, at, path ? path : "-", 200);
    snprintf(buf + at, cap - at, " %d prompt=%d gen=%d %.3fs", status, prompt_tokens,
             completion_tokens, seconds);
}
