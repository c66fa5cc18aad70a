/*
 * safetensors_write.c — writes a .safetensors file: the u64 header length,
 * the JSON header padded with spaces to a multiple of 8 bytes (so every
 * tensor's data stays aligned when the file is mapped), then the data.
 */
#define _POSIX_C_SOURCE 200809L
#include "safetensors_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static cJSON *build_header(const slm_st_entry *entries, size_t n, const cJSON *metadata)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    if (metadata)
        cJSON_AddItemToObject(root, "__metadata__", cJSON_Duplicate(metadata, true));
    size_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *t = cJSON_AddObjectToObject(root, entries[i].name);
        cJSON *shape = cJSON_AddArrayToObject(t, "shape");
        cJSON *offs = cJSON_AddArrayToObject(t, "data_offsets");
        cJSON_AddStringToObject(t, "dtype", slm_dtype_name(entries[i].dtype));
        for (int d = 0; d < entries[i].n_dims; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)entries[i].shape[d]));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        offset += entries[i].n_bytes;
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
    }
    return root;
}

static slm_status write_all(FILE *f, const void *data, size_t n, const char *path, slm_error *err)
{
    if (n && fwrite(data, 1, n, f) != n)
        return slm_fail(err, SLM_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return SLM_OK;
}

slm_status slm_safetensors_write(const char *path, const slm_st_entry *entries, size_t n,
                                 const cJSON *metadata, slm_error *err)
{
    cJSON *root = build_header(entries, n, metadata);
    char *json = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json)
        return slm_fail_nomem(err, "safetensors header");
    size_t len = strlen(json), padded = (len + 7) / 8 * 8;
    uint8_t lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    FILE *f = fopen(path, "wb");
    slm_status s = f ? SLM_OK : slm_fail(err, SLM_ERR_IO, "%s: cannot create: %s", path,
                                         strerror(errno));
    if (s == SLM_OK)
        s = write_all(f, lenbuf, 8, path, err);
    if (s == SLM_OK)
        s = write_all(f, json, len, path, err);
    for (size_t i = len; s == SLM_OK && i < padded; i++)
        s = write_all(f, " ", 1, path, err);
    for (size_t i = 0; s == SLM_OK && i < n; i++)
        s = write_all(f, entries[i].data, entries[i].n_bytes, path, err);
    if (f && fclose(f) != 0 && s == SLM_OK)
        s = slm_fail(err, SLM_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    free(json);
    return s;
}
