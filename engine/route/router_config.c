/*
 * router_config.c — router.json into slm_router_config (see
 * router_config.h). Each object is read against a table of its keys, so an
 * unknown key, a wrong type and a value out of range are reported the same
 * way, with the key's full dotted name.
 */
#define _POSIX_C_SOURCE 200809L
#include "router_config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "fileio.h"

typedef enum { K_NUM, K_INT, K_BOOL, K_STR, K_OBJ } key_type;

typedef struct key {
    const char *name;
    key_type type;
    void *dst;       /* double*, int*, bool*, char** */
    double lo, hi;   /* numbers: allowed range (inclusive) */
    bool lo_open;    /* numbers: must be > lo */
    const struct key *sub; /* K_OBJ: its keys, ending with a NULL name */
} key;

static slm_status bad(slm_error *err, const char *file, const char *path, const char *what)
{
    return slm_fail(err, SLM_ERR_FORMAT, "%s: %s: %s", file, path, what);
}

static slm_status read_object(const cJSON *obj, const key *keys, const char *prefix,
                              const char *file, slm_error *err);

static slm_status read_value(const cJSON *v, const key *k, const char *path, const char *file,
                             slm_error *err)
{
    char what[160];
    switch (k->type) {
    case K_NUM:
    case K_INT:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
            (k->type == K_INT && floor(v->valuedouble) != v->valuedouble))
            return bad(err, file, path, k->type == K_INT ? "expected an integer" : "expected a number");
        if ((k->lo_open ? v->valuedouble <= k->lo : v->valuedouble < k->lo) || v->valuedouble > k->hi) {
            snprintf(what, sizeof what, "%g is out of range (%s %g .. %g)", v->valuedouble,
                     k->lo_open ? ">" : ">=", k->lo, k->hi);
            return bad(err, file, path, what);
        }
        if (k->type == K_INT)
            *(int *)k->dst = (int)v->valuedouble;
        else
            *(double *)k->dst = v->valuedouble;
        return SLM_OK;
    case K_BOOL:
        if (!cJSON_IsBool(v))
            return bad(err, file, path, "expected true or false");
        *(bool *)k->dst = cJSON_IsTrue(v);
        return SLM_OK;
    case K_STR: {
        if (!cJSON_IsString(v))
            return bad(err, file, path, "expected a string");
        if (!v->valuestring[0])
            return bad(err, file, path, "must not be empty");
        char *s = strdup(v->valuestring);
        if (!s)
            return slm_fail_nomem(err, path);
        free(*(char **)k->dst);
        *(char **)k->dst = s;
        return SLM_OK;
    }
    case K_OBJ:
        if (!cJSON_IsObject(v))
            return bad(err, file, path, "expected an object");
        if (k->dst)
            *(bool *)k->dst = true;
        return read_object(v, k->sub, path, file, err);
    }
    return SLM_OK;
}

static slm_status read_object(const cJSON *obj, const key *keys, const char *prefix,
                              const char *file, slm_error *err)
{
    for (const cJSON *v = obj->child; v; v = v->next) {
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", v->string);
        const key *k = keys;
        while (k->name && strcmp(k->name, v->string) != 0)
            k++;
        if (!k->name) {
            char known[512] = "";
            size_t n = 0;
            for (const key *q = keys; q->name && n < sizeof known - 1; q++)
                n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", n ? ", " : "", q->name);
            char what[600];
            snprintf(what, sizeof what, "unknown key (known: %s)", known);
            return bad(err, file, path, what);
        }
        slm_status st = read_value(v, k, path, file, err);
        if (st != SLM_OK)
            return st;
    }
    return SLM_OK;
}

static bool is_model_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    char *cfg = slm_path_join(dir, "config.json");
    bool ok = cfg && slm_file_exists(cfg);
    free(cfg);
    return ok;
}

/* *dir resolved against the current directory, then base_dir. */
static slm_status resolve_model(char **dir, const char *key_name, const char *file,
                                const char *base_dir, slm_error *err)
{
    if (is_model_dir(*dir))
        return SLM_OK;
    char *alt = (*dir)[0] != '/' && base_dir ? slm_path_join(base_dir, *dir) : NULL;
    if (alt && is_model_dir(alt)) {
        free(*dir);
        *dir = alt;
        return SLM_OK;
    }
    slm_status st = slm_fail(err, SLM_ERR_IO,
                             "%s: %s: no model folder (a folder with config.json) at %s%s%s", file,
                             key_name, alt ? alt : *dir, alt ? " nor at ./" : "", alt ? *dir : "");
    free(alt);
    return st;
}

static void defaults(slm_router_config *c)
{
    memset(c, 0, sizeof *c);
    c->local.price_in = 0.02;
    c->local.price_out = 0.05;
    c->local.max_tokens = 200;
    c->remote.price_in = 2.50;
    c->remote.price_out = 10.00;
    c->remote.max_tokens = 1000;
    c->remote.options = slm_remote_options_default();
    c->classifier.threshold = 0.85;
    c->fallback = true;
}

static slm_status dup_default(char **dst, const char *s, slm_error *err)
{
    if (*dst)
        return SLM_OK;
    return (*dst = strdup(s)) ? SLM_OK : slm_fail_nomem(err, "router config");
}

slm_status slm_router_config_parse(const char *text, size_t len, const char *file,
                                   const char *base_dir, slm_router_config *c, slm_error *err)
{
    defaults(c);
    slm_remote_options *ro = &c->remote.options;
    bool has_local = false, has_remote = false;
    const key timeout_keys[] = {
        {"connect", K_NUM, &ro->connect_s, 0, 3600, true, NULL},
        {"first_byte", K_NUM, &ro->first_byte_s, 0, 3600, true, NULL},
        {"total", K_NUM, &ro->total_s, 0, 86400, true, NULL},
        {NULL, 0, NULL, 0, 0, false, NULL},
    };
    const key backoff_keys[] = {
        {"initial", K_NUM, &ro->backoff_initial_s, 0, 600, false, NULL},
        {"max", K_NUM, &ro->backoff_max_s, 0, 3600, false, NULL},
        {NULL, 0, NULL, 0, 0, false, NULL},
    };
    const key local_keys[] = {
        {"model", K_STR, &c->local.model, 0, 0, false, NULL},
        {"price_in", K_NUM, &c->local.price_in, 0, 1e6, false, NULL},
        {"price_out", K_NUM, &c->local.price_out, 0, 1e6, false, NULL},
        {"max_tokens", K_INT, &c->local.max_tokens, 1, 1 << 20, false, NULL},
        {"ctx", K_INT, &c->local.ctx, 0, 1 << 24, false, NULL},
        {"temperature", K_NUM, &c->local.temperature, 0, 2, false, NULL},
        {NULL, 0, NULL, 0, 0, false, NULL},
    };
    const key remote_keys[] = {
        {"base_url", K_STR, &c->remote.base_url, 0, 0, false, NULL},
        {"model", K_STR, &c->remote.model, 0, 0, false, NULL},
        {"api_key_env", K_STR, &c->remote.api_key_env, 0, 0, false, NULL},
        {"price_in", K_NUM, &c->remote.price_in, 0, 1e6, false, NULL},
        {"price_out", K_NUM, &c->remote.price_out, 0, 1e6, false, NULL},
        {"max_tokens", K_INT, &c->remote.max_tokens, 1, 1 << 20, false, NULL},
        {"temperature", K_NUM, &c->remote.temperature, 0, 2, false, NULL},
        {"retries", K_INT, &ro->retries, 0, 20, false, NULL},
        {"timeout", K_OBJ, NULL, 0, 0, false, timeout_keys},
        {"backoff", K_OBJ, NULL, 0, 0, false, backoff_keys},
        {"retry_after_max", K_NUM, &ro->retry_after_max_s, 0, 3600, false, NULL},
        {"allowed_fails", K_INT, &ro->allowed_fails, 0, 1000, false, NULL},
        {"cooldown", K_NUM, &ro->cooldown_s, 0, 86400, false, NULL},
        {"stream", K_BOOL, &ro->stream, 0, 0, false, NULL},
        {NULL, 0, NULL, 0, 0, false, NULL},
    };
    const key classifier_keys[] = {
        {"model", K_STR, &c->classifier.model, 0, 0, false, NULL},
        {"label", K_STR, &c->classifier.label, 0, 0, false, NULL},
        {"threshold", K_NUM, &c->classifier.threshold, 0, 1, false, NULL},
        {NULL, 0, NULL, 0, 0, false, NULL},
    };
    const key top_keys[] = {
        {"local", K_OBJ, &has_local, 0, 0, false, local_keys},
        {"remote", K_OBJ, &has_remote, 0, 0, false, remote_keys},
        {"classifier", K_OBJ, &c->classifier.present, 0, 0, false, classifier_keys},
        {"fallback", K_BOOL, &c->fallback, 0, 0, false, NULL},
        {NULL, 0, NULL, 0, 0, false, NULL},
    };
    cJSON *root = NULL;
    slm_status st = slm_json_parse(text, len, file, &root, err);
    if (st == SLM_OK && !cJSON_IsObject(root))
        st = slm_fail(err, SLM_ERR_FORMAT, "%s: expected a JSON object", file);
    if (st == SLM_OK)
        st = read_object(root, top_keys, "", file, err);
    cJSON_Delete(root);
    if (st == SLM_OK && (!has_local || !c->local.model))
        st = bad(err, file, has_local ? "local.model" : "local", "required");
    if (st == SLM_OK && !has_remote)
        st = bad(err, file, "remote", "required");
    if (st == SLM_OK && c->classifier.present && !c->classifier.model)
        st = bad(err, file, "classifier.model", "required");
    if (st == SLM_OK && ro->backoff_max_s < ro->backoff_initial_s)
        st = bad(err, file, "remote.backoff.max", "must be >= remote.backoff.initial");
    if (st == SLM_OK)
        st = dup_default(&c->remote.base_url, "https://api.openai.com/v1", err);
    if (st == SLM_OK)
        st = dup_default(&c->remote.model, "gpt-4o", err);
    if (st == SLM_OK)
        st = dup_default(&c->remote.api_key_env, "OPENAI_API_KEY", err);
    if (st == SLM_OK && c->classifier.present)
        st = dup_default(&c->classifier.label, "SIMPLE", err);
    if (st == SLM_OK && strncmp(c->remote.base_url, "http://", 7) != 0 &&
        strncmp(c->remote.base_url, "https://", 8) != 0)
        st = bad(err, file, "remote.base_url", "expected an http:// or https:// URL");
    if (st == SLM_OK)
        st = resolve_model(&c->local.model, "local.model", file, base_dir, err);
    if (st == SLM_OK && c->classifier.present)
        st = resolve_model(&c->classifier.model, "classifier.model", file, base_dir, err);
    if (st != SLM_OK) {
        slm_router_config_free(c);
        return st;
    }
    ro->base_url = c->remote.base_url;
    ro->model = c->remote.model;
    return SLM_OK;
}

slm_status slm_router_config_load(const char *path, slm_router_config *out, slm_error *err)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    slm_status st = slm_read_file_capped(path, 1 << 20, &text, &len, err);
    if (st != SLM_OK)
        return st;
    char *base = strdup(path);
    if (!base) {
        free(text);
        return slm_fail_nomem(err, path);
    }
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(base, ".");
    st = slm_router_config_parse(text, len, path, base, out, err);
    free(base);
    free(text);
    return st;
}

void slm_router_config_free(slm_router_config *c)
{
    if (!c)
        return;
    free(c->local.model);
    free(c->remote.base_url);
    free(c->remote.model);
    free(c->remote.api_key_env);
    free(c->classifier.model);
    free(c->classifier.label);
    memset(c, 0, sizeof *c);
}
