/*
 * chat_template.c — loading a model's chat template and rendering
 * conversations with it (see chat_template.h for the contract). The Jinja
 * work is done by engine/jinja/; this file finds the template and the
 * special tokens the way transformers' tokenizer loading does and builds
 * the variables apply_chat_template passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_template.h"
#include "error.h"
#include "model.h"
#include "fileio.h"
#include "jinja/jinja.h"

/* transformers' SPECIAL_TOKENS_ATTRIBUTES: the names templates receive. */
static const char *const SPECIAL_TOKENS[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                             "pad_token", "cls_token", "mask_token"};
#define N_SPECIAL (sizeof SPECIAL_TOKENS / sizeof SPECIAL_TOKENS[0])

struct slm_chat_template {
    slm_jinja_template *tpl;
    char *tokens[N_SPECIAL]; /* NULL: not defined for this tokenizer */
};

void slm_chat_template_free(slm_chat_template *t)
{
    if (!t)
        return;
    slm_jinja_free(t->tpl);
    for (size_t i = 0; i < N_SPECIAL; i++)
        free(t->tokens[i]);
    free(t);
}

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static slm_status create(const char *source, size_t len, const char *what,
                         slm_chat_template **out, slm_error *err)
{
    slm_chat_template *t = calloc(1, sizeof *t);
    if (!t)
        return slm_fail_nomem(err, "chat template");
    slm_status st = slm_jinja_parse(source, len, what, &t->tpl, err);
    if (st != SLM_OK) {
        free(t);
        return st;
    }
    *out = t;
    return SLM_OK;
}

slm_status slm_chat_template_parse(const char *source, const char *bos, const char *eos,
                                   slm_chat_template **out, slm_error *err)
{
    *out = NULL;
    if (!source)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "chat template: no source text");
    return slm_chat_template_parse_n(source, strlen(source), "chat template", bos, eos, out, err);
}

slm_status slm_chat_template_parse_n(const char *source, size_t len, const char *what,
                                     const char *bos, const char *eos, slm_chat_template **out,
                                     slm_error *err)
{
    *out = NULL;
    slm_chat_template *t = NULL;
    SLM_TRY(create(source, len, what, &t, err));
    t->tokens[0] = dup_str(bos);
    t->tokens[1] = dup_str(eos);
    if ((bos && !t->tokens[0]) || (eos && !t->tokens[1])) {
        slm_chat_template_free(t);
        return slm_fail_nomem(err, "chat template tokens");
    }
    *out = t;
    return SLM_OK;
}

/* ------------------------------------------------------------------ load */

/* A special token entry: "text" or {"content": "text", ...}; NULL otherwise. */
static const char *token_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    const cJSON *content = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "content") : NULL;
    return cJSON_IsString(content) ? content->valuestring : NULL;
}

static slm_status set_tokens(slm_chat_template *t, const cJSON *obj, slm_error *err)
{
    for (size_t i = 0; i < N_SPECIAL; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, SPECIAL_TOKENS[i]);
        if (!v)
            continue;
        free(t->tokens[i]);
        t->tokens[i] = dup_str(token_text(v)); /* null clears it */
        if (token_text(v) && !t->tokens[i])
            return slm_fail_nomem(err, "chat template tokens");
    }
    return SLM_OK;
}

/* transformers reads special_tokens_map.json only for configs without an
 * added_tokens_decoder (the legacy layout); its entries then win. */
static slm_status load_tokens(slm_chat_template *t, const char *dir, const cJSON *config,
                              slm_error *err)
{
    SLM_TRY(set_tokens(t, config, err));
    if (cJSON_GetObjectItemCaseSensitive(config, "added_tokens_decoder"))
        return SLM_OK;
    char *path = slm_path_join(dir, "special_tokens_map.json");
    if (!path)
        return slm_fail_nomem(err, "path");
    slm_status st = SLM_OK;
    if (slm_file_exists(path)) {
        cJSON *map = NULL;
        st = slm_json_load(path, &map, err);
        if (st == SLM_OK && cJSON_IsObject(map))
            st = set_tokens(t, map, err);
        cJSON_Delete(map);
    }
    free(path);
    return st;
}

/* The template text in tokenizer_config.json: a string, or the "default"
 * entry of a [{name, template}] list. */
static const char *config_template(const cJSON *config)
{
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(config, "chat_template");
    if (cJSON_IsString(ct))
        return ct->valuestring;
    if (!cJSON_IsArray(ct))
        return NULL;
    for (const cJSON *e = ct->child; e; e = e->next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(e, "template");
        if (cJSON_IsString(name) && !strcmp(name->valuestring, "default") && cJSON_IsString(text))
            return text->valuestring;
    }
    return NULL;
}

/* The template's source: dir/chat_template.jinja when present (transformers
 * prefers the separate file), else the config's chat_template. *absent: the
 * folder has neither (SLM_ERR_UNSUPPORTED naming both). */
static slm_status load_source(const char *dir, const cJSON *config, const char *config_path,
                              bool *absent, slm_chat_template **out, slm_error *err)
{
    char *jinja_path = slm_path_join(dir, "chat_template.jinja");
    if (!jinja_path)
        return slm_fail_nomem(err, "path");
    slm_status st;
    if (slm_file_exists(jinja_path)) {
        char *text = NULL;
        size_t len = 0;
        st = slm_read_file_capped(jinja_path, SLM_TEMPLATE_MAX_BYTES, &text, &len, err);
        if (st == SLM_OK)
            st = create(text, len, jinja_path, out, err);
        free(text);
    } else {
        const char *text = config ? config_template(config) : NULL;
        char what[600];
        snprintf(what, sizeof what, "%s chat_template", config_path);
        *absent = !text;
        st = text ? create(text, strlen(text), what, out, err)
                  : slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: no chat_template (and no %s)",
                             config_path, jinja_path);
    }
    free(jinja_path);
    return st;
}

slm_status slm_chat_template_from_config(const char *dir, const cJSON *config, bool *absent,
                                         slm_chat_template **out, slm_error *err)
{
    *out = NULL;
    *absent = false;
    char *config_path = slm_path_join(dir, "tokenizer_config.json");
    if (!config_path)
        return slm_fail_nomem(err, "path");
    slm_status st = SLM_OK;
    if (config && !cJSON_IsObject(config))
        st = slm_fail(err, SLM_ERR_FORMAT, "%s: not a JSON object", config_path);
    slm_chat_template *t = NULL;
    if (st == SLM_OK)
        st = load_source(dir, config, config_path, absent, &t, err);
    if (st == SLM_OK && config)
        st = load_tokens(t, dir, config, err);
    free(config_path);
    if (st != SLM_OK) {
        slm_chat_template_free(t);
        return st;
    }
    *out = t;
    return SLM_OK;
}

slm_status slm_chat_template_load(const char *dir, slm_chat_template **out, slm_error *err)
{
    *out = NULL;
    char *config_path = slm_path_join(dir, "tokenizer_config.json");
    if (!config_path)
        return slm_fail_nomem(err, "path");
    cJSON *config = NULL;
    slm_status st = SLM_OK;
    if (slm_file_exists(config_path))
        st = slm_json_load(config_path, &config, err);
    bool absent;
    if (st == SLM_OK)
        st = slm_chat_template_from_config(dir, config, &absent, out, err);
    cJSON_Delete(config);
    free(config_path);
    return st;
}

/* ----------------------------------------------------------------- apply */

static bool put_str(slm_jv_dict *d, const char *key, const char *value)
{
    slm_jv v;
    return slm_jv_cstr(value, &v) && slm_jv_dict_set_str(d, key, v);
}

/* transformers drops None-valued keys from messages before rendering. */
static bool build_messages(const slm_chat_message *msgs, size_t n, slm_jv *out)
{
    if (!slm_jv_list_new(n, SLM_JSEQ_LIST, out))
        return false;
    for (size_t i = 0; i < n; i++) {
        slm_jv m;
        if (!slm_jv_dict_new(&m) || !slm_jv_list_push(out->u.l, m))
            return false;
        if ((msgs[i].role && !put_str(m.u.d, "role", msgs[i].role)) ||
            (msgs[i].content && !put_str(m.u.d, "content", msgs[i].content)))
            return false;
    }
    return true;
}

static bool build_vars(const slm_chat_template *t, const slm_chat_message *msgs, size_t n,
                       bool add_generation_prompt, slm_jv vars)
{
    for (size_t i = 0; i < N_SPECIAL; i++)
        if (t->tokens[i] && !put_str(vars.u.d, SPECIAL_TOKENS[i], t->tokens[i]))
            return false;
    slm_jv list = slm_jv_none();
    bool ok = build_messages(msgs, n, &list);
    if (!ok) {
        slm_jv_release(list);
        return false;
    }
    /* render_jinja_template passes tools=None and documents=None when there
     * are none, so `tools is defined` holds and `tools is none` too */
    return slm_jv_dict_set_str(vars.u.d, "messages", list) &&
           slm_jv_dict_set_str(vars.u.d, "tools", slm_jv_none()) &&
           slm_jv_dict_set_str(vars.u.d, "documents", slm_jv_none()) &&
           slm_jv_dict_set_str(vars.u.d, "add_generation_prompt", slm_jv_bool(add_generation_prompt));
}

slm_status slm_chat_template_apply(const slm_chat_template *t, const slm_chat_message *msgs,
                                   size_t n, bool add_generation_prompt, char **out,
                                   slm_error *err)
{
    *out = NULL;
    if (!t || !msgs)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "chat template: no template or messages");
    if (n == 0) /* transformers refuses these before rendering, too */
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "Cannot apply chat template to an empty conversation");
    slm_jv vars;
    if (!slm_jv_dict_new(&vars))
        return slm_fail_nomem(err, "chat template variables");
    size_t len = 0;
    slm_status st = build_vars(t, msgs, n, add_generation_prompt, vars)
                        ? slm_jinja_render(t->tpl, vars.u.d, out, &len, err)
                        : slm_fail_nomem(err, "chat template variables");
    slm_jv_release(vars);
    /* callers get a C string and tokenize strlen(out) bytes: a NUL inside
     * would silently drop the rest of the prompt, so it is an error */
    const char *nul = st == SLM_OK ? memchr(*out, '\0', len) : NULL;
    if (nul) {
        st = slm_fail(err, SLM_ERR_FORMAT,
                      "chat template: the rendered prompt contains a NUL byte at offset %zu "
                      "(of %zu bytes); it would truncate the prompt", (size_t)(nul - *out), len);
        free(*out);
        *out = NULL;
    }
    return st;
}
