/* kv_cache.c — the KV cache in its element formats (see kv_cache.h). */
#include "kv_cache.h"

#include <stdlib.h>

#include "error.h"

static const struct {
    slm_kv_elem elem;
    size_t size;
} formats[] = {
    [SLM_KV_F32] = {SLM_KV_ELEM_F32, 4},
    [SLM_KV_F16] = {SLM_KV_ELEM_F16, 2},
    [SLM_KV_Q8] = {SLM_KV_ELEM_Q8, 1},
};

slm_status slm_kv_cache_init(slm_kv_cache *kv, slm_kv_format format, int n_layers, int n_ctx,
                             int n_kv_heads, int head_dim, slm_error *err)
{
    *kv = (slm_kv_cache){.elem = formats[format].elem,
                         .n_layers = n_layers,
                         .n_ctx = n_ctx,
                         .n_kv_heads = n_kv_heads,
                         .head_dim = head_dim,
                         .elem_size = formats[format].size};
    size_t n = (size_t)n_layers * n_ctx * n_kv_heads * head_dim;
    size_t n_scales = (size_t)n_layers * n_ctx * n_kv_heads;
    kv->k = calloc(n, kv->elem_size);
    kv->v = calloc(n, kv->elem_size);
    bool ok = kv->k && kv->v;
    if (ok && kv->elem == SLM_KV_ELEM_Q8) {
        kv->k_scale = calloc(n_scales, sizeof(float));
        kv->v_scale = calloc(n_scales, sizeof(float));
        ok = kv->k_scale && kv->v_scale;
    }
    if (!ok) {
        slm_kv_cache_free(kv);
        return slm_fail(err, SLM_ERR_NOMEM,
                        "cannot allocate a KV cache of %d positions (%.1f MB): use a smaller "
                        "context (slm -c N, or n_ctx of slm_session_new) or --kv q8",
                        n_ctx, 2.0 * (double)n * (double)formats[format].size / 1e6);
    }
    return SLM_OK;
}

void slm_kv_cache_free(slm_kv_cache *kv)
{
    free(kv->k);
    free(kv->v);
    free(kv->k_scale);
    free(kv->v_scale);
    kv->k = kv->v = NULL;
    kv->k_scale = kv->v_scale = NULL;
}

/* Index of (layer, pos, head) in units of heads. */
static size_t head_index(const slm_kv_cache *kv, int layer, int pos, int head)
{
    return ((size_t)layer * kv->n_ctx + pos) * kv->n_kv_heads + head;
}

void slm_kv_store(slm_kv_cache *kv, int layer, int pos, const float *k, const float *v)
{
    size_t row = (size_t)kv->head_dim * kv->elem_size;
    for (int h = 0; h < kv->n_kv_heads; h++) {
        size_t i = head_index(kv, layer, pos, h);
        const float *kh = k + (size_t)h * kv->head_dim, *vh = v + (size_t)h * kv->head_dim;
        slm_kv_encode(kv->elem, kh, (char *)kv->k + i * row, kv->k_scale ? kv->k_scale + i : NULL,
                      kv->head_dim);
        slm_kv_encode(kv->elem, vh, (char *)kv->v + i * row, kv->v_scale ? kv->v_scale + i : NULL,
                      kv->head_dim);
    }
}

static slm_kv_view view(const slm_kv_cache *kv, const void *data, const float *scale, int layer,
                        int head, int first)
{
    size_t i = head_index(kv, layer, first, head);
    size_t row = (size_t)kv->head_dim * kv->elem_size;
    return (slm_kv_view){.type = kv->elem,
                         .data = (const char *)data + i * row,
                         .stride = row * kv->n_kv_heads,
                         .scale = scale ? scale + i : NULL,
                         .scale_stride = (size_t)kv->n_kv_heads};
}

slm_kv_view slm_kv_keys(const slm_kv_cache *kv, int layer, int head, int first)
{
    return view(kv, kv->k, kv->k_scale, layer, head, first);
}

slm_kv_view slm_kv_values(const slm_kv_cache *kv, int layer, int head, int first)
{
    return view(kv, kv->v, kv->v_scale, layer, head, first);
}

size_t slm_kv_bytes_per_position(const slm_kv_cache *kv)
{
    size_t per = (size_t)kv->n_layers * kv->n_kv_heads *
                 ((size_t)kv->head_dim * kv->elem_size + (kv->k_scale ? sizeof(float) : 0));
    return 2 * per;
}
