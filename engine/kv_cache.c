/* kv_cache.c — allocation of the f32 KV cache (see kv_cache.h). */
#include "kv_cache.h"

#include <stdlib.h>

#include "error.h"

slm_status slm_kv_cache_init(slm_kv_cache *kv, int n_layers, int n_ctx, int kv_dim,
                             slm_error *err)
{
    size_t n = (size_t)n_layers * n_ctx * kv_dim;
    kv->n_layers = n_layers;
    kv->n_ctx = n_ctx;
    kv->kv_dim = kv_dim;
    kv->k = calloc(n, sizeof(float));
    kv->v = calloc(n, sizeof(float));
    if (!kv->k || !kv->v) {
        slm_kv_cache_free(kv);
        return slm_fail(err, SLM_ERR_NOMEM, "cannot allocate a KV cache of %d positions (%.1f MB)",
                        n_ctx, 2.0 * n * sizeof(float) / 1e6);
    }
    return SLM_OK;
}

void slm_kv_cache_free(slm_kv_cache *kv)
{
    free(kv->k);
    free(kv->v);
    kv->k = kv->v = NULL;
}
