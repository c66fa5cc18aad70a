/* rope.c — RoPE frequency tables per rope type (see rope.h). */
#include "rope.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* 1 / (ext[i] * theta^(2i/dim)), in f32 like torch (ext NULL = 1). */
static float *make_inv_freq(float theta, int dim, const float *ext, float divide)
{
    float *f = malloc((size_t)(dim / 2) * sizeof(float));
    if (!f)
        return NULL;
    for (int i = 0; i < dim / 2; i++) {
        float expo = (float)(2 * i) / (float)dim;
        f[i] = 1.0f / ((ext ? ext[i] : 1.0f) * powf(theta, expo)) / divide;
    }
    return f;
}

static slm_status init_longrope(slm_rope *r, const slm_config *cfg, const char *where,
                                slm_error *err)
{
    const slm_rope_config *rc = &cfg->rope;
    if (rc->n_factors != r->rot_dim / 2)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: rope_scaling factors have %d entries, rotary dim %d needs %d", where,
                        rc->n_factors, r->rot_dim, r->rot_dim / 2);
    if (rc->original_max_positions <= 0)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: longrope needs original_max_position_embeddings > 0", where);
    r->original_max = rc->original_max_positions;
    r->inv_freq = make_inv_freq(cfg->rope_theta, r->rot_dim, rc->short_factor, 1.0f);
    r->inv_freq_long = make_inv_freq(cfg->rope_theta, r->rot_dim, rc->long_factor, 1.0f);
    if (!r->inv_freq || !r->inv_freq_long)
        return slm_fail_nomem(err, "rope tables");
    double factor = rc->factor > 0 ? rc->factor : (double)cfg->max_positions / r->original_max;
    if (rc->attention_factor > 0)
        r->scale = rc->attention_factor;
    else
        r->scale = factor <= 1.0 ? 1.0f
                                 : (float)sqrt(1.0 + log(factor) / log((double)r->original_max));
    /* original_max 1 divides by log(1) = 0 (transformers raises there) */
    if (!isfinite(r->scale))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: longrope attention factor is not finite (factor %g, "
                        "original_max_position_embeddings %d)",
                        where, factor, r->original_max);
    return SLM_OK;
}

slm_status slm_rope_init(slm_rope *r, const slm_config *cfg, const char *where, slm_error *err)
{
    memset(r, 0, sizeof *r);
    r->scale = 1.0f;
    r->rot_dim = (int)(cfg->head_dim * cfg->rope.partial_rotary_factor);
    if (r->rot_dim <= 0 || r->rot_dim > cfg->head_dim || r->rot_dim % 2)
        return slm_fail(err, SLM_ERR_FORMAT, "%s: partial_rotary_factor %g gives rotary dim %d",
                        where, cfg->rope.partial_rotary_factor, r->rot_dim);
    const char *type = cfg->rope.type;
    if (!type[0] || strcmp(type, "default") == 0)
        r->inv_freq = make_inv_freq(cfg->rope_theta, r->rot_dim, NULL, 1.0f);
    else if (strcmp(type, "linear") == 0)
        r->inv_freq = make_inv_freq(cfg->rope_theta, r->rot_dim, NULL, cfg->rope.factor);
    else if (strcmp(type, "longrope") == 0)
        return init_longrope(r, cfg, where, err);
    else
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: rope_scaling type '%s' is not supported (supported: default, "
                        "linear, longrope/su)",
                        where, type);
    return r->inv_freq ? SLM_OK : slm_fail_nomem(err, "rope tables");
}

void slm_rope_free(slm_rope *r)
{
    free(r->inv_freq);
    free(r->inv_freq_long);
    r->inv_freq = r->inv_freq_long = NULL;
}
