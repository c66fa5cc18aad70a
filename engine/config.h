/*
 * config.h — a model's hyper-parameters, read from config.json (and the stop
 * ids from generation_config.json). Nothing is hard-coded: a missing required
 * key is an error naming the file and the key; optional keys take the
 * defaults transformers gives them.
 */
#ifndef SLM_CONFIG_H
#define SLM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "slm.h"

#define SLM_MAX_EOS 8

typedef struct {
    char architecture[64]; /* architectures[0], e.g. "LlamaForCausalLM" */
    char model_type[32];   /* e.g. "llama" */
    int hidden_size;
    int intermediate_size;
    int n_layers;
    int n_heads;
    int n_kv_heads;
    int head_dim;
    int vocab_size;
    int max_positions;
    float norm_eps;
    float rope_theta;
    bool tie_word_embeddings;
    char hidden_act[32];
    char rope_scaling_type[32]; /* "" when rope_scaling is null */
    int32_t bos_id;             /* -1 when absent */
    int32_t eos_ids[SLM_MAX_EOS];
    int n_eos;
} slm_config;

/* Reads dir/config.json, then dir/generation_config.json when present (its
 * eos_token_id list replaces config.json's, as transformers' generate does). */
slm_status slm_config_load(const char *dir, slm_config *cfg, slm_error *err);

/* Typed getters for required and optional keys; `path` names the file in errors. */
slm_status slm_json_get_int(const cJSON *obj, const char *key, const char *path, int *out,
                            slm_error *err);
int slm_json_opt_int(const cJSON *obj, const char *key, int dflt);
double slm_json_opt_num(const cJSON *obj, const char *key, double dflt);
bool slm_json_opt_bool(const cJSON *obj, const char *key, bool dflt);
/* Copies the string value of key into buf (or dflt when absent/not a string). */
void slm_json_opt_str(const cJSON *obj, const char *key, const char *dflt, char *buf, size_t cap);

#endif
