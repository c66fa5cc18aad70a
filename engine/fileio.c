/* fileio.c — see fileio.h. */
#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

slm_status slm_read_file(const char *path, char **data, size_t *len, slm_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return slm_fail(err, SLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return slm_fail(err, SLM_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        fclose(f);
        return slm_fail_nomem(err, path);
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        free(buf);
        return slm_fail(err, SLM_ERR_IO, "%s: short read (%zu of %zu bytes)", path, got, size);
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return SLM_OK;
}

char *slm_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] != '/';
    char *p = malloc(a + slash + b + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    if (slash)
        p[a] = '/';
    memcpy(p + a + slash, name, b + 1);
    return p;
}

bool slm_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Converts a byte offset into 1-based line and column for error messages. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

slm_status slm_json_parse(const char *text, size_t len, const char *what, cJSON **out,
                          slm_error *err)
{
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!json) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        int line, col;
        line_col(text, off, &line, &col);
        return slm_fail(err, SLM_ERR_FORMAT, "%s: malformed JSON at line %d, column %d", what,
                        line, col);
    }
    *out = json;
    return SLM_OK;
}

slm_status slm_json_load(const char *path, cJSON **out, slm_error *err)
{
    char *text;
    size_t len;
    SLM_TRY(slm_read_file(path, &text, &len, err));
    slm_status st = slm_json_parse(text, len, path, out, err);
    free(text);
    return st;
}
