/*
 * config.h — a model's hyper-parameters, read from config.json (and the stop
 * ids from generation_config.json). Nothing is hard-coded: a missing required
 * key is an error naming the file and the key; optional keys take the
 * defaults transformers gives them when absent or null. A present key of the
 * wrong type ("512" for an integer, 4.7 for a count) or outside its sane
 * range (config.c's MAX_* bounds) is an error naming the file and the key,
 * never a silent default or an unchecked cast.
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
    /* generation_config.json's sampling settings: the SLM_SAMPLING_* bits of
       the fields it gives (do_sample false gives temperature 0, greedy) */
    unsigned sampling_set;
    slm_sampler_params sampling;
} slm_config;

/* Reads dir/config.json, then dir/generation_config.json when present (its
 * eos_token_id list replaces config.json's, as transformers' generate does;
 * its do_sample, temperature, top_k, top_p and repetition_penalty are kept
 * in cfg->sampling, see slm_model_sampling_defaults).
 * A dir that is not a folder is refused saying what it is. */
slm_status slm_config_load(const char *dir, slm_config *cfg, slm_error *err);

/* The same from texts in memory (gen_text NULL: no generation_config.json);
 * `dir` only names the files in messages. Every value is type- and
 * range-checked and the shapes derived from them are cross-checked
 * (slm_config_check) before it returns SLM_OK. */
slm_status slm_config_parse(const char *config_text, size_t config_len, const char *gen_text,
                            size_t gen_len, const char *dir, slm_config *cfg, slm_error *err);

/* The cross-checks of one parsed config: head_dim against the hidden size and
 * head count, grouped-query divisibility, every projection's row count within
 * int, token ids inside the vocabulary, rope parameters (by building the
 * tables once). `path` names config.json in errors. */
slm_status slm_config_check(const slm_config *cfg, const char *path, slm_error *err);

/* A required integer key in [lo, hi]; `path` names the file in errors. A
 * missing key, a non-integer (a string, 4.7, a boolean) and a value out of
 * range are each SLM_ERR_FORMAT naming the file and the key. */
slm_status slm_json_get_int(const cJSON *obj, const char *key, const char *path, int64_t lo,
                            int64_t hi, int *out, slm_error *err);
/* The same for an optional key: absent or null gives dflt. */
slm_status slm_json_opt_int(const cJSON *obj, const char *key, const char *path, int64_t lo,
                            int64_t hi, int dflt, int *out, slm_error *err);

#endif
