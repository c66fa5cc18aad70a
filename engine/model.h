/*
 * model.h — what a loaded model is inside the engine, and how architectures
 * plug in. Each architecture (engine/models/<name>.c) provides an slm_arch:
 * it maps the checkpoint's tensors to its weights (checking every shape
 * against config.json) and runs a forward pass through kernels/.
 */
#ifndef SLM_MODEL_H
#define SLM_MODEL_H

#include "config.h"
#include "weight.h"
#include "rope.h"
#include "safetensors.h"
#include "weight_alloc.h"
#include "slm.h"

typedef struct slm_arch slm_arch;
struct slm_scratch_;  /* scratch.h */
struct slm_seq_step_; /* session.h */
struct cJSON;

/* The chat template of model folder dir from its tokenizer_config.json as
 * already parsed (config; NULL when the folder has none): what
 * slm_chat_template_load does, without reading that file again
 * (chat_template.jinja still wins). *absent: the folder has no template at
 * all (SLM_ERR_UNSUPPORTED naming the files looked at). chat_template.c. */
slm_status slm_chat_template_from_config(const char *dir, const struct cJSON *config,
                                         bool *absent, slm_chat_template **out,
                                         slm_error *err);

struct slm_model {
    char *dir;
    slm_config cfg;
    slm_safetensors *st;
    slm_tokenizer *tok;
    const slm_arch *arch;
    void *weights; /* the architecture's own weight struct */
    slm_load_options opts;
    /* load-time thread counts (never changed after load: sessions copy them
       and keep their own, slm_classify and loading use them) */
    int n_threads;       /* decode */
    int n_threads_batch; /* prompt processing */
    /* the workers its sessions' products run on (kernels/team.h), started at
       load; shared by sessions, one job at a time (a second caller runs
       serially); NULL with one thread */
    struct slm_team *team;
    size_t weight_bytes; /* bytes of the weights as computed with */
    bool pack_x8;        /* interleave quantized matrices (the kernels prefer it) */
    bool pack_x16;       /* interleave a decoder's float matrices (likewise) */
    size_t n_loaded;     /* tensors mapped so far (progress) */
    slm_rope rope;
    slm_weight_arena owned; /* buffers of converted tensors, freed with the model */
    /* The chat template, read at load from the tokenizer's parse of
       tokenizer_config.json (or chat_template.jinja). NULL when the folder
       has none (chat_template_absent) or it failed to load: chat_template_err
       keeps why, reported when chat is used, so a model used for plain
       generation still loads. */
    slm_chat_template *chat_template;
    bool chat_template_absent;
    slm_error chat_template_err;
};

/* What an architecture provides: its tensor mapping and its forward pass. */
struct slm_arch {
    const char *architecture; /* config.json architectures[0] */
    const char *model_type;   /* config.json model_type, used when architectures is absent */
    slm_status (*load)(slm_model *m, slm_error *err);
    void (*free_weights)(void *weights);
    /* Decoders: one forward pass over the steps of n_seqs sequences (each
       its ids at its positions n_past.., logits of its last n_logits
       positions; session.h slm_seq_step) in the scratch sc. The caller has
       checked ids, room and sizes. NULL for encoders. */
    slm_status (*forward)(struct slm_scratch_ *sc, const struct slm_seq_step_ *seqs,
                          int n_seqs, slm_error *err);
    /* Sequence classifiers: `batch` sequences of lengths[b] ids stored back to
       back; writes batch x n_labels logits, timing its parts into profile
       (NULL: not profiled; profile.h). NULL for decoders. */
    slm_status (*classify)(const slm_model *m, const int32_t *ids, const int *lengths, int batch,
                           float *logits, slm_profile *profile, slm_error *err);
};

/* The architecture dir/config.json names (architectures[0], else
 * model_type), checked before anything else is read: SLM_ERR_UNSUPPORTED
 * naming it and the supported ones. SLM_OK when it is supported, and also
 * when config.json is missing, malformed or names none (slm_config_load
 * reports those). */
slm_status slm_model_check_architecture(const char *dir, slm_error *err);

extern const slm_arch slm_arch_llama;
extern const slm_arch slm_arch_phi3;
extern const slm_arch slm_arch_distilbert;

/* Returns the tensor `name` as f32 with exactly the given shape, converting
 * F16/BF16 (or misaligned F32) into memory the model owns. Errors name the
 * tensor, the expected and the found shape or dtype. */
slm_status slm_model_weight_f32(slm_model *m, const char *name, const int64_t *shape,
                                int n_dims, const float **out, slm_error *err);

/* A weight matrix [rows, cols] for products, held in the load options' format
 * (AUTO: as stored when F32/F16/BF16). Zero copy when the file already holds
 * that type; quantized formats need cols % 32 == 0 and otherwise keep F32.
 * Absent tensors fail unless `optional`, which leaves out->data NULL. */
slm_status slm_model_matrix(slm_model *m, const char *name, int64_t rows, int64_t cols,
                            bool optional, slm_weight *out, slm_error *err);

/* A fused matrix [Σ part_rows, cols] (Phi-3's qkv_proj, gate_up_proj) split
 * into n_parts matrices of consecutive rows. Split before the x8 packing
 * (kernels/pack.c), so each part packs on its own whatever its row count. */
slm_status slm_model_matrix_parts(slm_model *m, const char *name, const int64_t *part_rows,
                                  int n_parts, int64_t cols, slm_weight *parts, slm_error *err);

#endif
