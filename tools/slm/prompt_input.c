/* prompt_input.c — texts from files and stdin (see prompt_input.h). */
#define _POSIX_C_SOURCE 200809L
#include "prompt_input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

/* All of stdin; a pipe has no size to read up front. */
static char *read_stdin(const char *verb, size_t *len)
{
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, stdin);
        if (n < cap - 1)
            break;
        char *b = realloc(buf, cap *= 2);
        if (!b)
            free(buf);
        buf = b;
    }
    if (!buf) {
        fprintf(stderr, "slm %s: out of memory reading stdin\n", verb);
        return NULL;
    }
    if (ferror(stdin)) {
        fprintf(stderr, "slm %s: cannot read stdin: %s\n", verb, strerror(errno));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

char *cli_read_text(const char *verb, const char *path, size_t *len)
{
    bool from_stdin = strcmp(path, "-") == 0;
    char *text = NULL;
    slm_error err = {0};
    if (from_stdin) {
        text = read_stdin(verb, len);
    } else if (slm_read_file(path, &text, len, &err) != SLM_OK) {
        fprintf(stderr, "slm %s: %s\n", verb, err.msg);
        return NULL;
    }
    if (!text)
        return NULL;
    const char *what = from_stdin ? "stdin" : path;
    const char *nul = memchr(text, '\0', *len);
    if (nul) {
        fprintf(stderr, "slm %s: %s contains a NUL byte at offset %zu (text must not contain "
                        "NULs)\n", verb, what, (size_t)(nul - text));
        free(text);
        return NULL;
    }
    if (*len > 0 && text[*len - 1] == '\n')
        text[--*len] = '\0';
    if (*len > 0 && text[*len - 1] == '\r')
        text[--*len] = '\0';
    return text;
}
