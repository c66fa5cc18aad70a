/*
 * kv_cache.h — keys and values of past positions, per layer, in f32, f16 or
 * int8 with one scale per position and KV head (slm_kv_format).
 * Layout: k[layer][pos][kv_head][head_dim] (v likewise); Q8 scales
 * [layer][pos][kv_head]. One attention head reads a strided column over
 * positions through an slm_kv_view.
 */
#ifndef SLM_KV_CACHE_H
#define SLM_KV_CACHE_H

#include <stddef.h>

#include "kernels.h"
#include "slm.h"

typedef struct {
    slm_kv_elem elem;
    int n_layers;
    int n_ctx;
    int n_kv_heads;
    int head_dim;
    size_t elem_size;
    void *k, *v;
    float *k_scale, *v_scale; /* Q8 only */
} slm_kv_cache;

slm_status slm_kv_cache_init(slm_kv_cache *kv, slm_kv_format format, int n_layers, int n_ctx,
                             int n_kv_heads, int head_dim, slm_error *err);
void slm_kv_cache_free(slm_kv_cache *kv);

/* Stores the keys and values (kv_dim floats each) of position pos. */
void slm_kv_store(slm_kv_cache *kv, int layer, int pos, const float *k, const float *v);

/* The keys (or values) of one KV head from position `first` on. */
slm_kv_view slm_kv_keys(const slm_kv_cache *kv, int layer, int head, int first);
slm_kv_view slm_kv_values(const slm_kv_cache *kv, int layer, int head, int first);

/* Bytes of cache per position (all layers, keys and values). */
size_t slm_kv_bytes_per_position(const slm_kv_cache *kv);

#endif
