/*
 * safetensors.h — reads Hugging Face .safetensors files, single or sharded.
 *
 * File layout: u64 little-endian header length N, N bytes of JSON
 *   { "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *     "__metadata__": {...} }
 * then the data section, offsets relative to its start.
 *
 * Everything is validated before any tensor is handed out: header length within
 * the file and below a cap, well-formed JSON, known dtypes, byte span equal to
 * product(shape) x dtype size, spans inside the data section and not
 * overlapping (zero-size tensors may sit anywhere in bounds), no duplicate
 * names (also across shards), every index entry in the shard it names. Each
 * failure is one message naming the file, the tensor and the problem.
 * Opening, duplicate detection and lookup are O(n log n) in the tensors,
 * index entries and metadata pairs.
 *
 * Tensor data is either mmapped (MAP_PRIVATE, read-only) or read into
 * anonymous memory advised MADV_HUGEPAGE; see slm_load_options.use_mmap.
 */
#ifndef SLM_SAFETENSORS_H
#define SLM_SAFETENSORS_H

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"
#include "slm.h"

#define SLM_MAX_DIMS 8
/* Headers above this are refused: real ones are a few hundred KB. */
#define SLM_SAFETENSORS_MAX_HEADER (100u * 1024 * 1024)

typedef struct {
    char *name;
    slm_dtype dtype;
    int n_dims;
    int64_t shape[SLM_MAX_DIMS];
    size_t n_elements;
    size_t n_bytes;
    const void *data;  /* valid while the slm_safetensors is open */
    const char *file;  /* the file it came from, for messages */
} slm_tensor;

typedef struct slm_safetensors slm_safetensors;

/* Opens one .safetensors file. */
slm_status slm_safetensors_open(const char *path, bool use_mmap, slm_safetensors **out,
                                slm_error *err);

/* Opens a model folder: model.safetensors, or the shards listed by
 * model.safetensors.index.json ("weight_map": {tensor: file}). */
slm_status slm_safetensors_open_dir(const char *dir, bool use_mmap, slm_safetensors **out,
                                    slm_error *err);

/* For tests and fuzzing: a .safetensors file held in memory (`name` only
 * names it in messages). Tensor data points into `bytes`, which must
 * outlive the result. */
slm_status slm_safetensors_open_memory(const void *bytes, size_t len, const char *name,
                                       slm_safetensors **out, slm_error *err);

/* For tests and fuzzing: an index.json text; every shard it names is read
 * from the same `shard` bytes (kept by the caller, as above). */
slm_status slm_safetensors_open_index_memory(const char *index_text, size_t index_len,
                                             const char *index_name, const void *shard,
                                             size_t shard_len, slm_safetensors **out,
                                             slm_error *err);

void slm_safetensors_free(slm_safetensors *st);

size_t slm_safetensors_count(const slm_safetensors *st);
const slm_tensor *slm_safetensors_at(const slm_safetensors *st, size_t i);
/* NULL when absent. */
const slm_tensor *slm_safetensors_find(const slm_safetensors *st, const char *name);
/* Gives the memory pages that hold only tensor t's bytes back to the OS: for
 * a tensor the loader has converted into a buffer of its own, so a model
 * computed in another format does not also keep its source resident. t's
 * bytes must not be read afterwards (read-in data would then read as zeros;
 * a mapped file's would be read from disk again). */
void slm_safetensors_release(const slm_tensor *t);

/* Total bytes of tensor data. */
size_t slm_safetensors_data_bytes(const slm_safetensors *st);

/* A "__metadata__" value (string) of any of the files, or NULL. */
const char *slm_safetensors_metadata(const slm_safetensors *st, const char *key);

/* Formats a shape as "[a, b, c]" into buf. */
const char *slm_shape_str(const int64_t *shape, int n_dims, char *buf, size_t cap);

#endif
