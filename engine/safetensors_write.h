/*
 * safetensors_write.h — writing .safetensors files (used by slm quantize).
 */
#ifndef SLM_SAFETENSORS_WRITE_H
#define SLM_SAFETENSORS_WRITE_H

#include <cjson/cJSON.h>

#include "safetensors.h"

typedef struct {
    const char *name;
    slm_dtype dtype;
    int n_dims;
    int64_t shape[SLM_MAX_DIMS];
    const void *data;
    size_t n_bytes;
} slm_st_entry;

/* Writes entries in order; metadata (an object of strings) may be NULL. */
slm_status slm_safetensors_write(const char *path, const slm_st_entry *entries, size_t n,
                                 const cJSON *metadata, slm_error *err);

#endif
