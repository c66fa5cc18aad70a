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

/* Some model types spell the common sizes their own way (transformers'
   attribute_map); each entry maps a standard key to the model's key. */
static const struct {
    const char *model_type, *standard, *own;
} key_aliases[] = {
    {"distilbert", "hidden_size", "dim"},
    {"distilbert", "intermediate_size", "hidden_dim"},
    {"distilbert", "num_hidden_layers", "n_layers"},
    {"distilbert", "num_attention_heads", "n_heads"},
};

static const char *key_for(const slm_config *cfg, const char *standard)
{
    for (size_t i = 0; i < sizeof key_aliases / sizeof key_aliases[0]; i++)
        if (strcmp(cfg->model_type, key_aliases[i].model_type) == 0 &&
            strcmp(standard, key_aliases[i].standard) == 0)
            return key_aliases[i].own;
    return standard;
}

static slm_status read_sizes(const cJSON *root, const char *path, slm_config *cfg, slm_error *err)
{
    SLM_TRY(slm_json_get_int(root, key_for(cfg, "hidden_size"), path, &cfg->hidden_size, err));
    SLM_TRY(slm_json_get_int(root, key_for(cfg, "intermediate_size"), path,
                             &cfg->intermediate_size, err));
    SLM_TRY(slm_json_get_int(root, key_for(cfg, "num_hidden_layers"), path, &cfg->n_layers, err));
    SLM_TRY(slm_json_get_int(root, key_for(cfg, "num_attention_heads"), path, &cfg->n_heads,
                             err));
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

/* A list of numbers into out[]; n_expected 0 = accept any length. */
static slm_status read_factors(const cJSON *rs, const char *key, const char *path, float *out,
                               int *n, slm_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rs, key);
    if (!cJSON_IsArray(arr))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: rope_scaling.%s must be a list of numbers", path,
                        key);
    int len = cJSON_GetArraySize(arr);
    if (len > SLM_MAX_ROPE_FACTORS || (*n && len != *n))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: rope_scaling.%s has %d entries (expected %d)",
                        path, key, len, *n ? *n : SLM_MAX_ROPE_FACTORS);
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: rope_scaling.%s holds a non-positive value",
                            path, key);
        out[i++] = (float)v->valuedouble;
    }
    *n = len;
    return SLM_OK;
}

static slm_status read_rope_scaling(const cJSON *root, const char *path, slm_config *cfg,
                                    slm_error *err)
{
    slm_rope_config *r = &cfg->rope;
    /* transformers 4 writes rope_scaling (and a top-level rope_theta);
       transformers 5 writes rope_parameters holding rope_theta too */
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    if (!rs || cJSON_IsNull(rs))
        rs = cJSON_GetObjectItemCaseSensitive(root, "rope_parameters");
    if (cJSON_IsObject(rs))
        cfg->rope_theta = (float)slm_json_opt_num(root, "rope_theta",
                                                  slm_json_opt_num(rs, "rope_theta", 10000.0));
    r->partial_rotary_factor = (float)slm_json_opt_num(root, "partial_rotary_factor", 1.0);
    r->original_max_positions =
        slm_json_opt_int(root, "original_max_position_embeddings", cfg->max_positions);
    if (!rs || cJSON_IsNull(rs))
        return SLM_OK;
    if (!cJSON_IsObject(rs))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: \"rope_scaling\"/\"rope_parameters\" must be an object or null", path);
    /* transformers accepts both spellings of the key */
    slm_json_opt_str(rs, "rope_type", "", r->type, sizeof r->type);
    if (!r->type[0])
        slm_json_opt_str(rs, "type", "default", r->type, sizeof r->type);
    if (strcmp(r->type, "su") == 0) /* the name Phi-3 128k first shipped with */
        snprintf(r->type, sizeof r->type, "longrope");
    r->factor = (float)slm_json_opt_num(rs, "factor", 0.0);
    r->attention_factor = (float)slm_json_opt_num(rs, "attention_factor", 0.0);
    /* Phi-3 keeps it at the top level, which wins (as in Phi3Config) */
    if (!cJSON_HasObjectItem(root, "original_max_position_embeddings"))
        r->original_max_positions =
            slm_json_opt_int(rs, "original_max_position_embeddings", r->original_max_positions);
    if (strcmp(r->type, "longrope") == 0) {
        SLM_TRY(read_factors(rs, "short_factor", path, r->short_factor, &r->n_factors, err));
        SLM_TRY(read_factors(rs, "long_factor", path, r->long_factor, &r->n_factors, err));
    } else if (strcmp(r->type, "linear") == 0 && !(r->factor > 0)) {
        return slm_fail(err, SLM_ERR_FORMAT, "%s: rope_scaling type linear needs a factor > 0",
                        path);
    }
    return SLM_OK;
}

/* id2label {"0": "NEGATIVE", "1": "POSITIVE"}: ids must be 0..n-1. */
static slm_status read_labels(const cJSON *root, const char *path, slm_config *cfg,
                              slm_error *err)
{
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "id2label");
    if (!map || cJSON_IsNull(map))
        return SLM_OK;
    int n = cJSON_GetArraySize(map);
    if (!cJSON_IsObject(map) || n > SLM_MAX_LABELS)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: \"id2label\" must be an object of at most %d "
                        "labels", path, SLM_MAX_LABELS);
    for (int i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);
        if (!cJSON_IsString(v))
            return slm_fail(err, SLM_ERR_FORMAT, "%s: id2label has no string for id %d", path, i);
        snprintf(cfg->labels[i], sizeof cfg->labels[i], "%s", v->valuestring);
    }
    cfg->n_labels = n;
    return SLM_OK;
}

static slm_status parse_config(const cJSON *root, const char *path, slm_config *cfg,
                               slm_error *err)
{
    if (!cJSON_IsObject(root))
        return slm_fail(err, SLM_ERR_FORMAT, "%s: not a JSON object", path);
    SLM_TRY(read_architecture(root, path, cfg, err));
    SLM_TRY(read_sizes(root, path, cfg, err));
    /* RMSNorm models say rms_norm_eps (default 1e-6), BERT-style ones
       layer_norm_eps; DistilBERT hard-codes 1e-12 in its modeling code */
    bool bert_like = strstr(cfg->model_type, "bert") != NULL;
    cfg->norm_eps = (float)(bert_like ? slm_json_opt_num(root, "layer_norm_eps", 1e-12)
                                      : slm_json_opt_num(root, "rms_norm_eps", 1e-6));
    cfg->rope_theta = (float)slm_json_opt_num(root, "rope_theta", 10000.0);
    cfg->tie_word_embeddings = slm_json_opt_bool(root, "tie_word_embeddings", false);
    /* DistilBERT calls it "activation" */
    slm_json_opt_str(root, cJSON_HasObjectItem(root, "activation") ? "activation" : "hidden_act",
                     bert_like ? "gelu" : "silu", cfg->hidden_act, sizeof cfg->hidden_act);
    SLM_TRY(read_labels(root, path, cfg, err));
    SLM_TRY(read_rope_scaling(root, path, cfg, err));
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(root, "sliding_window");
    cfg->sliding_window = cJSON_IsNumber(sw) && sw->valuedouble > 0 ? (int)sw->valuedouble : 0;
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
