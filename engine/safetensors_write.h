/*
 * safetensors_write.h — writing .safetensors files (used by slm quantize),
 * and the two rules every file slm writes follows:
 *   - it never is (or resolves to) one of the command's inputs: a mapped
 *     source truncated under its reader is destroyed (slm_output_check);
 *   - it is written whole or not at all: the bytes go to a temporary file in
 *     the same directory, fsync'd and renamed over the destination, and any
 *     failure removes the temporary file (slm_output_*).
 */
#ifndef SLM_SAFETENSORS_WRITE_H
#define SLM_SAFETENSORS_WRITE_H

#include <stdio.h>
#include <sys/types.h>

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

/* Writes entries in order; metadata (an object of strings) may be NULL.
 * Goes through slm_output, so `path` is replaced atomically. */
slm_status slm_safetensors_write(const char *path, const slm_st_entry *entries, size_t n,
                                 const cJSON *metadata, slm_error *err);

/* ---------------------------------------------------- atomic output files */

typedef struct {
    char *path; /* the destination */
    char *tmp;  /* the temporary file beside it, while open */
    FILE *f;
} slm_output;

/* Creates the temporary file "<path>.tmp-XXXXXX" (mode 0644). */
slm_status slm_output_open(slm_output *o, const char *path, slm_error *err);
slm_status slm_output_write(slm_output *o, const void *data, size_t n, slm_error *err);
/* Flushes, fsyncs, renames over o->path and fsyncs the directory. On failure
 * the temporary file is removed (o is released either way). */
slm_status slm_output_commit(slm_output *o, slm_error *err);
/* Removes the temporary file and releases o (safe on a zeroed or released o). */
void slm_output_abort(slm_output *o);

/* Writes len bytes to path through slm_output. */
slm_status slm_output_file(const char *path, const void *data, size_t len, slm_error *err);

/* ------------------------------------------------- outputs vs inputs */

/* The identities (device, inode) of a command's input files, resolved
 * through symlinks, so an output can be compared with all of them. */
typedef struct {
    dev_t dev;
    ino_t ino;
    char *path;
} slm_file_id;

typedef struct {
    slm_file_id *items;
    size_t n, cap;
} slm_input_set;

/* Adds `path` (an existing file or folder; symlinks followed). A path that
 * does not exist is skipped: it cannot be written over. */
slm_status slm_input_set_add(slm_input_set *set, const char *path, slm_error *err);
void slm_input_set_free(slm_input_set *set);

/* SLM_ERR_INVALID_ARG naming both paths when `out` (followed through
 * symlinks, hard links included since they share the inode) is one of the
 * inputs; SLM_OK when it is not or does not exist yet. */
slm_status slm_output_check(const slm_input_set *inputs, const char *out, slm_error *err);

#endif
