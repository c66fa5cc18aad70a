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
#define SLM_MAX_LABELS 64
#define SLM_MAX_ROPE_FACTORS 256

/* rope_scaling (plus the RoPE keys that live beside it in config.json). */
typedef struct {
    char type[32];               /* "" / "default", "linear", "longrope" ("su" is read as it) */
    float factor;                /* linear: positions / factor; longrope: context ratio */
    float attention_factor;      /* longrope: cos/sin multiplier; 0 = derive from factor */
    int original_max_positions;  /* longrope threshold: longer sequences use long_factor */
    int n_factors;
    float short_factor[SLM_MAX_ROPE_FACTORS];
    float long_factor[SLM_MAX_ROPE_FACTORS];
    float partial_rotary_factor; /* fraction of head_dim that is rotated (1 = all) */
} slm_rope_config;

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
    slm_rope_config rope;
    int sliding_window;         /* 0 = full causal attention */
    int n_labels;               /* classifiers: id2label entries, else 0 */
    char labels[SLM_MAX_LABELS][48];
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
