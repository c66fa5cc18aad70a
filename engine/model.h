/*
 * model.h — what a loaded model is inside the engine, and how architectures
 * plug in. Each architecture (engine/models/<name>.c) provides an slm_arch:
 * it maps the checkpoint's tensors to its weights (checking every shape
 * against config.json) and runs a forward pass through kernels/.
 */
#ifndef SLM_MODEL_H
#define SLM_MODEL_H

#include "config.h"
#include "safetensors.h"
#include "slm.h"

typedef struct slm_arch slm_arch;

struct slm_model {
    char *dir;
    slm_config cfg;
    slm_safetensors *st;
    slm_tokenizer *tok;
    const slm_arch *arch;
    void *weights; /* the architecture's own weight struct */
    int n_threads;
    float *rope_inv_freq; /* [head_dim/2] */
    void **owned;         /* buffers of converted tensors, freed with the model */
    size_t n_owned;
};

/* Per-session state an architecture needs beyond the generic KV cache. */
struct slm_arch {
    const char *architecture; /* config.json architectures[0] */
    const char *model_type;   /* config.json model_type, used when architectures is absent */
    slm_status (*load)(slm_model *m, slm_error *err);
    void (*free_weights)(void *weights);
    /* Runs ids[0..n) at positions session->n_past.. and writes the logits of
       the last position into logits[vocab]. */
    slm_status (*forward)(slm_session *s, const int32_t *ids, int n, float *logits,
                          slm_error *err);
};

extern const slm_arch slm_arch_llama;

/* Returns the tensor `name` as f32 with exactly the given shape, converting
 * F16/BF16 (or misaligned F32) into memory the model owns. Errors name the
 * tensor, the expected and the found shape or dtype. */
slm_status slm_model_weight_f32(slm_model *m, const char *name, const int64_t *shape,
                                int n_dims, const float **out, slm_error *err);

/* The same for a tensor that may be absent (tied weights): *out = NULL then. */
slm_status slm_model_weight_f32_opt(slm_model *m, const char *name, const int64_t *shape,
                                    int n_dims, const float **out, slm_error *err);

#endif
