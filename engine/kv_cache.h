/*
 * kv_cache.h — keys and values of past positions, per layer, in f32.
 * Layout: k[layer][pos][kv_dim], v likewise, so one attention head reads a
 * strided column (stride kv_dim) over positions.
 */
#ifndef SLM_KV_CACHE_H
#define SLM_KV_CACHE_H

#include <stddef.h>

#include "slm.h"

typedef struct {
    int n_layers;
    int n_ctx;
    int kv_dim;
    float *k;
    float *v;
} slm_kv_cache;

slm_status slm_kv_cache_init(slm_kv_cache *kv, int n_layers, int n_ctx, int kv_dim,
                             slm_error *err);
void slm_kv_cache_free(slm_kv_cache *kv);

static inline float *slm_kv_k(const slm_kv_cache *kv, int layer, int pos)
{
    return kv->k + ((size_t)layer * kv->n_ctx + pos) * kv->kv_dim;
}

static inline float *slm_kv_v(const slm_kv_cache *kv, int layer, int pos)
{
    return kv->v + ((size_t)layer * kv->n_ctx + pos) * kv->kv_dim;
}

#endif
