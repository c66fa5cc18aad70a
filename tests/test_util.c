/* test_util.c — see test_util.h. */
#define _XOPEN_SOURCE 700
#include "test_util.h"

#include <assert.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

const char *test_source_path(const char *rel)
{
    static char bufs[8][4096];
    static int slot;
    char *b = bufs[slot++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", SLM_SOURCE_DIR, rel);
    return b;
}

char *test_make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/slm-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void test_rmtree(const char *dir)
{
    if (dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    assert(path != NULL);
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(path);
        return NULL;
    }
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

char *test_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

int test_run_cli(const char *args, char **out, char **err_out)
{
    return test_run_cli_stdin(args, NULL, out, err_out);
}

int test_run_cli_stdin(const char *args, const char *input, char **out, char **err_out)
{
    char *dir = test_make_tmpdir();
    assert(dir != NULL && "cannot create a scratch directory under $TMPDIR");
    char in_path[4200] = "/dev/null";
    if (input) {
        free(test_write_file(dir, "in", input, strlen(input)));
        snprintf(in_path, sizeof in_path, "%s/in", dir);
    }
    size_t n = strlen(args) + 3 * strlen(dir) + strlen(SLM_CLI_PATH) + 64;
    char *cmd = malloc(n);
    snprintf(cmd, n, "%s %s >%s/out 2>%s/err <%s", SLM_CLI_PATH, args, dir, dir, in_path);
    int rc = system(cmd);
    free(cmd);
    char path[4200];
    if (out) {
        snprintf(path, sizeof path, "%s/out", dir);
        *out = test_read_text(path);
    }
    if (err_out) {
        snprintf(path, sizeof path, "%s/err", dir);
        *err_out = test_read_text(path);
    }
    test_rmtree(dir);
    free(dir);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int32_t *test_parse_ids(const char *text, size_t *n)
{
    size_t cap = 16;
    int32_t *ids = malloc(cap * sizeof *ids);
    *n = 0;
    const char *p = text;
    char *end;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t')
            p++;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (*n == cap)
            ids = realloc(ids, (cap *= 2) * sizeof *ids);
        assert(ids != NULL);
        ids[(*n)++] = (int32_t)v;
        p = end;
    }
    return ids;
}

static bool collect_id(void *user, int32_t id, const char *text, size_t len)
{
    test_ids *c = user;
    (void)text, (void)len;
    if (id >= 0 && c->n < TEST_MAX_GENERATED) /* id -1: a held-back UTF-8 tail */
        c->ids[c->n++] = id;
    return true;
}

void test_greedy(slm_model *m, const int32_t *prompt, size_t n_prompt, int n_new, test_ids *out)
{
    slm_session *s;
    slm_error err = {0};
    if (slm_session_new(m, 0, &s, &err) != SLM_OK)
        fail_msg("session: %s", err.msg);
    slm_generate_params p = {.max_new_tokens = n_new,
                             .sampling = slm_sampler_params_default(),
                             .on_token = collect_id,
                             .user = out};
    p.sampling.temperature = 0.0f;
    out->n = 0;
    if (slm_generate(s, prompt, n_prompt, &p, NULL, &err) != SLM_OK)
        fail_msg("generate: %s", err.msg);
    slm_session_free(s);
}

slm_model *test_load_model(const char *dir)
{
    slm_load_options o = slm_load_options_default();
    slm_model *m = NULL;
    slm_error err = {0};
    if (slm_model_load(dir, &o, &m, &err) != SLM_OK)
        fail_msg("load %s: %s", dir, err.msg);
    return m;
}
