/* config.c — config.json / generation_config.json reading (see config.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fileio.h"

/* ============================================================ JSON getters */

slm_status slm_json_get_int(const cJSON *obj, const char *key, const char *path, int *out,
                            slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: missing required key \"%s\"", path, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        fabs(v->valuedouble) > 2147483647.0)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: \"%s\" must be an integer", path, key);
    *out = (int)v->valuedouble;
    return SLM_OK;
}

int slm_json_opt_int(const cJSON *obj, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && fabs(v->valuedouble) <= 2147483647.0 ? (int)v->valuedouble
                                                                     : dflt;
}

double slm_json_opt_num(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

bool slm_json_opt_bool(const cJSON *obj, const char *key, bool dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

void slm_json_opt_str(const cJSON *obj, const char *key, const char *dflt, char *buf, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    snprintf(buf, cap, "%s", cJSON_IsString(v) ? v->valuestring : dflt);
}

/* ============================================================ eos ids */

/* eos_token_id may be a number or a list of numbers. */
static slm_status read_eos(const cJSON *obj, const char *path, slm_config *cfg, slm_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "eos_token_id");
    if (!v || cJSON_IsNull(v))
        return SLM_OK;
    cfg->n_eos = 0;
    if (cJSON_IsNumber(v)) {
        cfg->eos_ids[cfg->n_eos++] = (int32_t)v->valuedouble;
        return SLM_OK;
    }
    if (!cJSON_IsArray(v))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: \"eos_token_id\" must be a number or a list",
                        path);
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsNumber(e))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: \"eos_token_id\" holds a non-number", path);
        if (cfg->n_eos == SLM_MAX_EOS)
            return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: more than %d eos_token_id values",
                            path, SLM_MAX_EOS);
        cfg->eos_ids[cfg->n_eos++] = (int32_t)e->valuedouble;
    }
    return SLM_OK;
}

/* ============================================================ config.json */

static slm_status read_architecture(const cJSON *root, const char *path, slm_config *cfg,
                                    slm_error *err)
{
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const cJSON *first = cJSON_IsArray(archs) ? cJSON_GetArrayItem(archs, 0) : NULL;
    slm_json_opt_str(root, "model_type", "", cfg->model_type, sizeof cfg->model_type);
    if (cJSON_IsString(first))
        snprintf(cfg->architecture, sizeof cfg->architecture, "%s", first->valuestring);
    else if (!cfg->model_type[0])
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: neither \"architectures\" nor \"model_type\" is given", path);
    return SLM_OK;
}

static slm_status read_sizes(const cJSON *root, const char *path, slm_config *cfg, slm_error *err)
{
    SLM_TRY(slm_json_get_int(root, "hidden_size", path, &cfg->hidden_size, err));
    SLM_TRY(slm_json_get_int(root, "intermediate_size", path, &cfg->intermediate_size, err));
    SLM_TRY(slm_json_get_int(root, "num_hidden_layers", path, &cfg->n_layers, err));
    SLM_TRY(slm_json_get_int(root, "num_attention_heads", path, &cfg->n_heads, err));
    SLM_TRY(slm_json_get_int(root, "vocab_size", path, &cfg->vocab_size, err));
    cfg->n_kv_heads = slm_json_opt_int(root, "num_key_value_heads", cfg->n_heads);
    cfg->max_positions = slm_json_opt_int(root, "max_position_embeddings", 2048);
    if (cfg->hidden_size <= 0 || cfg->intermediate_size <= 0 || cfg->n_layers <= 0 ||
        cfg->n_heads <= 0 || cfg->n_kv_heads <= 0 || cfg->vocab_size <= 0 ||
        cfg->max_positions <= 0)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: sizes and counts must be positive", path);
    int dflt_head = cfg->hidden_size / cfg->n_heads;
    cfg->head_dim = slm_json_opt_int(root, "head_dim", dflt_head);
    if (cfg->head_dim <= 0 || cfg->head_dim % 2 != 0)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: head_dim %d must be positive and even", path,
                        cfg->head_dim);
    if (cfg->n_heads % cfg->n_kv_heads != 0)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d",
                        path, cfg->n_heads, cfg->n_kv_heads);
    return SLM_OK;
}

static slm_status read_rope_scaling(const cJSON *root, const char *path, slm_config *cfg,
                                    slm_error *err)
{
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    cfg->rope_scaling_type[0] = '\0';
    if (!rs || cJSON_IsNull(rs))
        return SLM_OK;
    if (!cJSON_IsObject(rs))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: \"rope_scaling\" must be an object or null",
                        path);
    /* transformers accepts both spellings */
    slm_json_opt_str(rs, "rope_type", "", cfg->rope_scaling_type, sizeof cfg->rope_scaling_type);
    if (!cfg->rope_scaling_type[0])
        slm_json_opt_str(rs, "type", "", cfg->rope_scaling_type, sizeof cfg->rope_scaling_type);
    return SLM_OK;
}

static slm_status parse_config(const cJSON *root, const char *path, slm_config *cfg,
                               slm_error *err)
{
    if (!cJSON_IsObject(root))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: not a JSON object", path);
    SLM_TRY(read_architecture(root, path, cfg, err));
    SLM_TRY(read_sizes(root, path, cfg, err));
    cfg->norm_eps = (float)slm_json_opt_num(root, "rms_norm_eps", 1e-6);
    cfg->rope_theta = (float)slm_json_opt_num(root, "rope_theta", 10000.0);
    cfg->tie_word_embeddings = slm_json_opt_bool(root, "tie_word_embeddings", false);
    slm_json_opt_str(root, "hidden_act", "silu", cfg->hidden_act, sizeof cfg->hidden_act);
    SLM_TRY(read_rope_scaling(root, path, cfg, err));
    cfg->bos_id = slm_json_opt_int(root, "bos_token_id", -1);
    return read_eos(root, path, cfg, err);
}

slm_status slm_config_load(const char *dir, slm_config *cfg, slm_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->bos_id = -1;
    char *path = slm_path_join(dir, "config.json");
    char *gen_path = slm_path_join(dir, "generation_config.json");
    cJSON *root = NULL, *gen = NULL;
    slm_status s = path && gen_path ? slm_json_load(path, &root, err)
                                    : slm_fail_nomem(err, "path");
    if (s == SLM_OK)
        s = parse_config(root, path, cfg, err);
    if (s == SLM_OK && slm_file_exists(gen_path)) {
        s = slm_json_load(gen_path, &gen, err);
        if (s == SLM_OK)
            s = read_eos(gen, gen_path, cfg, err);
    }
    cJSON_Delete(root);
    cJSON_Delete(gen);
    free(path);
    free(gen_path);
    return s;
}
