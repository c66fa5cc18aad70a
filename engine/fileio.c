/* fileio.c — see fileio.h. */
#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "path_kind.h"

/* Opens path as a regular file and checks its size against max_bytes (0: no cap). */
static slm_status open_regular(const char *path, size_t max_bytes, FILE **out, size_t *size,
                               slm_error *err)
{
    /* O_NONBLOCK so that a FIFO in place of a file is refused instead of
     * blocking the open until some writer appears. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return slm_fail(err, SLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return slm_fail(err, SLM_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return slm_fail(err, SLM_ERR_IO, "%s: is %s, not a regular file", path,
                        slm_mode_kind(st.st_mode));
    }
    if (max_bytes && (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return slm_fail(err, SLM_ERR_FORMAT, "%s: %lld bytes, over slm's limit of %zu bytes for this file",
                        path, (long long)st.st_size, max_bytes);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return slm_fail_nomem(err, path);
    }
    *out = f;
    *size = (size_t)st.st_size;
    return SLM_OK;
}

slm_status slm_read_file_capped(const char *path, size_t max_bytes, char **data, size_t *len,
                                slm_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f;
    size_t size;
    SLM_TRY(open_regular(path, max_bytes, &f, &size, err));
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

slm_status slm_read_file(const char *path, char **data, size_t *len, slm_error *err)
{
    return slm_read_file_capped(path, 0, data, len, err);
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

/* Depth of [ and { open at byte `off`, outside strings: tells a too-deep
 * document from a malformed one, since cJSON reports both the same way. */
static int depth_at(const char *text, size_t off)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < off; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return depth;
}

static bool json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

slm_status slm_json_parse(const char *text, size_t len, const char *what, cJSON **out,
                          slm_error *err)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, false);
    size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    int line, col;
    if (!json) {
        line_col(text, off, &line, &col);
        if (depth_at(text, off) >= CJSON_NESTING_LIMIT)
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: JSON nested too deeply at line %d, column %d (limit %d levels)",
                            what, line, col, CJSON_NESTING_LIMIT);
        return slm_fail(err, SLM_ERR_FORMAT, "%s: malformed JSON at line %d, column %d", what,
                        line, col);
    }
    /* cJSON stops after the first value; anything but whitespace after it
     * (a second document, a NUL, garbage) means the file is not one JSON value. */
    while (off < len && json_space(text[off]))
        off++;
    if (off < len) {
        cJSON_Delete(json);
        line_col(text, off, &line, &col);
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: unexpected bytes after the JSON value at line %d, column %d", what,
                        line, col);
    }
    *out = json;
    return SLM_OK;
}

/* The JSON files slm reads and the largest size it accepts for each. cJSON
 * takes ~40 bytes of memory per byte of dense input, so these caps bound a
 * hostile file's cost; each is several times the largest published file. */
static const struct {
    const char *name;
    size_t max_bytes;
} json_limits[] = {
    {"tokenizer.json", SLM_JSON_MAX_TOKENIZER},
    {"tokenizer_config.json", SLM_JSON_MAX_TOKENIZER_CONFIG},
    {"model.safetensors.index.json", SLM_JSON_MAX_INDEX},
};

size_t slm_json_limit(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    for (size_t i = 0; i < sizeof json_limits / sizeof json_limits[0]; i++)
        if (strcmp(base, json_limits[i].name) == 0)
            return json_limits[i].max_bytes;
    /* Sharded indexes of other names (pytorch_model-style) end in .index.json. */
    size_t n = strlen(base), k = strlen(".index.json");
    if (n >= k && strcmp(base + n - k, ".index.json") == 0)
        return SLM_JSON_MAX_INDEX;
    return SLM_JSON_MAX_DEFAULT;
}

slm_status slm_json_load(const char *path, cJSON **out, slm_error *err)
{
    char *text;
    size_t len;
    *out = NULL;
    SLM_TRY(slm_read_file_capped(path, slm_json_limit(path), &text, &len, err));
    slm_status st = slm_json_parse(text, len, path, out, err);
    free(text);
    return st;
}
