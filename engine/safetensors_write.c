/*
 * safetensors_write.c — writes a .safetensors file: the u64 header length,
 * the JSON header padded with spaces to a multiple of 8 bytes (so every
 * tensor's data stays aligned when the file is mapped), then the data.
 * Every file goes through an slm_output (see safetensors_write.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "safetensors_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* ------------------------------------------------------------ slm_output */

static void output_release(slm_output *o)
{
    if (o->f)
        fclose(o->f);
    free(o->path);
    free(o->tmp);
    *o = (slm_output){0};
}

slm_status slm_output_open(slm_output *o, const char *path, slm_error *err)
{
    *o = (slm_output){0};
    size_t n = strlen(path) + sizeof ".tmp-XXXXXX";
    o->path = strdup(path);
    o->tmp = malloc(n);
    if (!o->path || !o->tmp) {
        output_release(o);
        return slm_fail_nomem(err, path);
    }
    snprintf(o->tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        slm_status s = slm_fail(err, SLM_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                                path, strerror(errno));
        output_release(o);
        return s;
    }
    /* mkstemp makes 0600; model files are meant to be shared like their sources */
    if (fchmod(fd, 0644) != 0 || !(o->f = fdopen(fd, "wb"))) {
        slm_status s = slm_fail(err, SLM_ERR_IO, "%s: cannot open: %s", o->tmp, strerror(errno));
        if (!o->f)
            close(fd);
        slm_output_abort(o);
        return s;
    }
    return SLM_OK;
}

slm_status slm_output_write(slm_output *o, const void *data, size_t n, slm_error *err)
{
    if (n && fwrite(data, 1, n, o->f) != n)
        return slm_fail(err, SLM_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
    return SLM_OK;
}

void slm_output_abort(slm_output *o)
{
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
    }
    if (o->tmp)
        unlink(o->tmp);
    output_release(o);
}

/* The directory entry of a rename is durable only once its directory is synced. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse fsync on a directory */
        close(fd);
    }
    free(dir);
}

slm_status slm_output_commit(slm_output *o, slm_error *err)
{
    slm_status s = SLM_OK;
    if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0)
        s = slm_fail(err, SLM_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
    int rc = fclose(o->f);
    o->f = NULL;
    if (s == SLM_OK && rc != 0)
        s = slm_fail(err, SLM_ERR_IO, "%s: close failed: %s", o->path, strerror(errno));
    if (s == SLM_OK && rename(o->tmp, o->path) != 0)
        s = slm_fail(err, SLM_ERR_IO, "%s: cannot replace: %s", o->path, strerror(errno));
    if (s != SLM_OK) {
        slm_output_abort(o);
        return s;
    }
    sync_parent_dir(o->path);
    output_release(o);
    return SLM_OK;
}

slm_status slm_output_file(const char *path, const void *data, size_t len, slm_error *err)
{
    slm_output o;
    SLM_TRY(slm_output_open(&o, path, err));
    slm_status s = slm_output_write(&o, data, len, err);
    if (s != SLM_OK) {
        slm_output_abort(&o);
        return s;
    }
    return slm_output_commit(&o, err);
}

/* -------------------------------------------------------- inputs vs outputs */

slm_status slm_input_set_add(slm_input_set *set, const char *path, slm_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return SLM_OK;
    for (size_t i = 0; i < set->n; i++)
        if (set->items[i].dev == st.st_dev && set->items[i].ino == st.st_ino)
            return SLM_OK;
    if (set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 16;
        slm_file_id *items = realloc(set->items, cap * sizeof *items);
        if (!items)
            return slm_fail_nomem(err, "input list");
        set->items = items;
        set->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return slm_fail_nomem(err, "input list");
    set->items[set->n++] = (slm_file_id){.dev = st.st_dev, .ino = st.st_ino, .path = copy};
    return SLM_OK;
}

void slm_input_set_free(slm_input_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->items[i].path);
    free(set->items);
    *set = (slm_input_set){0};
}

slm_status slm_output_check(const slm_input_set *inputs, const char *out, slm_error *err)
{
    struct stat st;
    if (stat(out, &st) != 0)
        return SLM_OK; /* not there yet (or a dangling symlink, which rename replaces) */
    for (size_t i = 0; i < inputs->n; i++) {
        const slm_file_id *in = &inputs->items[i];
        if (in->dev == st.st_dev && in->ino == st.st_ino)
            return slm_fail(err, SLM_ERR_INVALID_ARG,
                            "%s: the output is the input %s (same file through a symlink, hard "
                            "link or the same path); writing it would destroy the input, choose "
                            "another output",
                            out, in->path);
    }
    return SLM_OK;
}

/* ------------------------------------------------------------ safetensors */

static cJSON *build_header(const slm_st_entry *entries, size_t n, const cJSON *metadata)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    bool ok = true;
    if (metadata) {
        cJSON *copy = cJSON_Duplicate(metadata, true);
        ok = copy && cJSON_AddItemToObject(root, "__metadata__", copy);
    }
    size_t offset = 0;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *t = cJSON_AddObjectToObject(root, entries[i].name);
        cJSON *shape = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
        cJSON *offs = t ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
        ok = shape && offs && cJSON_AddStringToObject(t, "dtype", slm_dtype_name(entries[i].dtype));
        for (int d = 0; ok && d < entries[i].n_dims; d++)
            ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)entries[i].shape[d]));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        offset += entries[i].n_bytes;
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
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
    slm_output o;
    slm_status s = slm_output_open(&o, path, err);
    if (s == SLM_OK)
        s = slm_output_write(&o, lenbuf, 8, err);
    if (s == SLM_OK)
        s = slm_output_write(&o, json, len, err);
    if (s == SLM_OK)
        s = slm_output_write(&o, "       ", padded - len, err);
    for (size_t i = 0; s == SLM_OK && i < n; i++)
        s = slm_output_write(&o, entries[i].data, entries[i].n_bytes, err);
    free(json);
    if (s != SLM_OK) {
        slm_output_abort(&o);
        return s;
    }
    return slm_output_commit(&o, err);
}
