/*
 * model.c — loading a Hugging Face model folder: config.json picks the
 * architecture, the architecture maps the safetensors tensors, and the
 * tokenizer comes from the same folder.
 */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static const slm_arch *const arch_table[] = {&slm_arch_llama};
#define N_ARCH (sizeof arch_table / sizeof arch_table[0])

slm_load_options slm_load_options_default(void)
{
    /* Read-in weights by default: on a VM, decode over mmapped weights ran
       ~2x slower and erratically, read-in weights stream at memory speed. */
    return (slm_load_options){.use_mmap = false, .n_threads = 0};
}

/* Physical cores: logical CPUs / SMT siblings would be better, but the
   SMT width is not portable to query; logical count is a safe default. */
static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static slm_status pick_arch(const slm_config *cfg, const char *dir, const slm_arch **out,
                            slm_error *err)
{
    for (size_t i = 0; i < N_ARCH; i++) {
        if (cfg->architecture[0] ? strcmp(cfg->architecture, arch_table[i]->architecture) == 0
                                 : strcmp(cfg->model_type, arch_table[i]->model_type) == 0) {
            *out = arch_table[i];
            return SLM_OK;
        }
    }
    char list[256] = "";
    for (size_t i = 0; i < N_ARCH; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 arch_table[i]->architecture);
    return slm_fail(err, SLM_ERR_UNSUPPORTED,
                    "%s/config.json: unsupported architecture '%s' (model_type '%s'); "
                    "supported: %s",
                    dir, cfg->architecture[0] ? cfg->architecture : "?", cfg->model_type, list);
}

/* inv_freq[i] = theta^(-2i/d), as transformers' default rope initialisation. */
static slm_status init_rope(slm_model *m, slm_error *err)
{
    int half = m->cfg.head_dim / 2;
    m->rope_inv_freq = malloc((size_t)half * sizeof(float));
    if (!m->rope_inv_freq)
        return slm_fail_nomem(err, "rope table");
    for (int i = 0; i < half; i++) {
        float expo = (float)(2 * i) / (float)m->cfg.head_dim;
        m->rope_inv_freq[i] = 1.0f / powf(m->cfg.rope_theta, expo);
    }
    return SLM_OK;
}

slm_status slm_model_load(const char *dir, const slm_load_options *opts, slm_model **out,
                          slm_error *err)
{
    *out = NULL;
    slm_load_options o = opts ? *opts : slm_load_options_default();
    slm_model *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(dir))) {
        free(m);
        return slm_fail_nomem(err, "model");
    }
    m->n_threads = o.n_threads > 0 ? o.n_threads : default_threads();
    slm_status s = slm_config_load(dir, &m->cfg, err);
    if (s == SLM_OK)
        s = pick_arch(&m->cfg, dir, &m->arch, err);
    if (s == SLM_OK)
        s = slm_tokenizer_load(dir, &m->tok, err);
    if (s == SLM_OK)
        s = slm_safetensors_open_dir(dir, o.use_mmap, &m->st, err);
    if (s == SLM_OK)
        s = init_rope(m, err);
    if (s == SLM_OK)
        s = m->arch->load(m, err);
    if (s != SLM_OK) {
        slm_model_free(m);
        return s;
    }
    *out = m;
    return SLM_OK;
}

void slm_model_free(slm_model *m)
{
    if (!m)
        return;
    if (m->arch && m->weights)
        m->arch->free_weights(m->weights);
    for (size_t i = 0; i < m->n_owned; i++)
        free(m->owned[i]);
    free(m->owned);
    free(m->rope_inv_freq);
    slm_safetensors_free(m->st);
    slm_tokenizer_free(m->tok);
    free(m->dir);
    free(m);
}

/* ============================================================ weights */

static slm_status check_shape(const slm_tensor *t, const int64_t *shape, int n_dims,
                              slm_error *err)
{
    bool same = t->n_dims == n_dims;
    for (int i = 0; same && i < n_dims; i++)
        same = t->shape[i] == shape[i];
    if (same)
        return SLM_OK;
    char want[128], got[128];
    return slm_fail(err, SLM_ERR_FORMAT,
                    "%s: tensor '%s' has shape %s but config.json implies %s", t->file, t->name,
                    slm_shape_str(t->shape, t->n_dims, got, sizeof got),
                    slm_shape_str(shape, n_dims, want, sizeof want));
}

slm_status slm_model_weight_f32_opt(slm_model *m, const char *name, const int64_t *shape,
                                    int n_dims, const float **out, slm_error *err)
{
    *out = NULL;
    const slm_tensor *t = slm_safetensors_find(m->st, name);
    if (!t)
        return SLM_OK;
    SLM_TRY(check_shape(t, shape, n_dims, err));
    if (t->dtype != SLM_DTYPE_F32 && t->dtype != SLM_DTYPE_F16 && t->dtype != SLM_DTYPE_BF16)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16",
                        t->file, name, slm_dtype_name(t->dtype));
    if (t->dtype == SLM_DTYPE_F32 && (uintptr_t)t->data % _Alignof(float) == 0) {
        *out = t->data; /* zero copy */
        return SLM_OK;
    }
    void **owned = realloc(m->owned, (m->n_owned + 1) * sizeof *owned);
    if (!owned)
        return slm_fail_nomem(err, name);
    m->owned = owned;
    float *buf = malloc(t->n_elements * sizeof(float) + 1);
    if (!buf)
        return slm_fail_nomem(err, name);
    m->owned[m->n_owned++] = buf;
    if (t->dtype == SLM_DTYPE_F32)
        memcpy(buf, t->data, t->n_bytes);
    else
        slm_convert_to_f32(buf, t->data, t->dtype, t->n_elements);
    *out = buf;
    return SLM_OK;
}

slm_status slm_model_weight_f32(slm_model *m, const char *name, const int64_t *shape,
                                int n_dims, const float **out, slm_error *err)
{
    SLM_TRY(slm_model_weight_f32_opt(m, name, shape, n_dims, out, err));
    if (!*out)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: missing tensor '%s'", m->dir, name);
    return SLM_OK;
}

/* ============================================================ queries */

const slm_tokenizer *slm_model_tokenizer(const slm_model *m) { return m->tok; }
const char *slm_model_architecture(const slm_model *m) { return m->arch->architecture; }
int slm_model_vocab_size(const slm_model *m) { return m->cfg.vocab_size; }
int slm_model_max_positions(const slm_model *m) { return m->cfg.max_positions; }

bool slm_model_is_eos(const slm_model *m, int32_t id)
{
    for (int i = 0; i < m->cfg.n_eos; i++)
        if (m->cfg.eos_ids[i] == id)
            return true;
    return false;
}
