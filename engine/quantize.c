/*
 * quantize.c — writes a model folder with its weight matrices converted to
 * another format, loadable with no re-quantization (slm_quantize_folder).
 *
 * slm's convention for quantized tensors in safetensors (safetensors has no
 * block-quantized dtypes): the tensor keeps its name, is stored as dtype U8
 * with shape [rows, bytes per row] holding slm_weight's block layout
 * (kernels/weight.h), and the header's __metadata__ says what it is:
 *     "slm.quant.<tensor name>": "<q8_0|q4_0>:<cols>"
 *     "slm.weights": "<format>"   (informational)
 * F16/BF16/F32 targets use the standard dtypes. Matrices whose rows do not
 * split into 32-blocks, vectors and non-float tensors are copied unchanged.
 * An slm-quantized source converts too: its tensors are copied (same type) or
 * dequantized and re-encoded, their metadata rewritten to match.
 * Other files of the folder (config, tokenizer, generation config) are copied.
 * No output may be an input (compared by device and inode, so symlinks and
 * hard links count), and every file is replaced atomically (slm_output).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fileio.h"
#include "quantize.h"
#include "safetensors_write.h"
#include "weight.h"

static const char *const copied_files[] = {"config.json", "generation_config.json",
                                           "tokenizer.json", "tokenizer_config.json",
                                           "special_tokens_map.json", "chat_template.jinja"};

slm_weight_type slm_weight_type_of_format(slm_weights_format f)
{
    switch (f) {
    case SLM_WEIGHTS_F16: return SLM_WEIGHT_F16;
    case SLM_WEIGHTS_BF16: return SLM_WEIGHT_BF16;
    case SLM_WEIGHTS_Q8_0: return SLM_WEIGHT_Q8_0;
    case SLM_WEIGHTS_Q4_0: return SLM_WEIGHT_Q4_0;
    default: return SLM_WEIGHT_F32;
    }
}

static bool is_quantized(slm_weight_type t) { return t == SLM_WEIGHT_Q8_0 || t == SLM_WEIGHT_Q4_0; }

/* A source matrix as rows of some weight type: a plain float tensor, or an
   slm-quantized one (an earlier `slm quantize` output), decoded row by row. */
typedef struct {
    const uint8_t *data;
    slm_weight_type type;
    int rows, cols;
} source_matrix;

/* Fills m when t is a matrix this converter reads; false when t is copied
   unchanged (vectors, integer tensors, rows not splitting into blocks). */
static bool source_of(const slm_tensor *t, bool quantized, slm_weight_type qtype, int qcols,
                      slm_weight_type target, source_matrix *m)
{
    if (t->n_dims != 2 || t->shape[0] > INT32_MAX || t->shape[1] > INT32_MAX)
        return false;
    *m = (source_matrix){.data = t->data, .rows = (int)t->shape[0], .cols = (int)t->shape[1]};
    if (quantized) {
        m->type = qtype;
        m->cols = qcols;
        return true; /* cols % 32 == 0, checked by slm_quantized_info */
    }
    switch (t->dtype) {
    case SLM_DTYPE_F32: m->type = SLM_WEIGHT_F32; break;
    case SLM_DTYPE_F16: m->type = SLM_WEIGHT_F16; break;
    case SLM_DTYPE_BF16: m->type = SLM_WEIGHT_BF16; break;
    default: return false;
    }
    return !is_quantized(target) || m->cols % SLM_QBLOCK == 0;
}

/* Decodes m's rows and encodes them as the target type, into a new buffer. */
static void *encode(const source_matrix *m, slm_weight_type target, size_t *n_bytes)
{
    size_t row_bytes = slm_weight_row_bytes(target, m->cols);
    size_t src_row = slm_weight_row_bytes(m->type, m->cols);
    uint8_t *out = malloc(row_bytes * (size_t)m->rows + 1);
    float *tmp = malloc((size_t)m->cols * sizeof *tmp + 1);
    if (!out || !tmp) {
        free(out);
        free(tmp);
        return NULL;
    }
    for (int r = 0; r < m->rows; r++) {
        slm_dequantize_row(m->type, m->data + (size_t)r * src_row, tmp, m->cols);
        slm_encode_row(target, tmp, out + (size_t)r * row_bytes, m->cols);
    }
    free(tmp);
    *n_bytes = row_bytes * (size_t)m->rows;
    return out;
}

static slm_dtype plain_dtype(slm_weight_type t)
{
    return t == SLM_WEIGHT_F16 ? SLM_DTYPE_F16 : t == SLM_WEIGHT_BF16 ? SLM_DTYPE_BF16 : SLM_DTYPE_F32;
}

/* The metadata entry that marks a U8 tensor as holding `type` blocks. */
static slm_status add_quant_meta(cJSON *meta, const char *name, slm_weight_type type, int cols,
                                 slm_error *err)
{
    char key[512], value[64];
    snprintf(key, sizeof key, "slm.quant.%s", name);
    snprintf(value, sizeof value, "%s:%d", slm_weight_type_name(type), cols);
    return cJSON_AddStringToObject(meta, key, value) ? SLM_OK : slm_fail_nomem(err, "metadata");
}

/* Fills entry e for tensor t, converting when it applies. A tensor already
   quantized (an slm-quantized source) is copied when it holds the target type
   and otherwise dequantized and re-encoded; either way its metadata follows. */
static slm_status convert_tensor(const slm_safetensors *st, const slm_tensor *t,
                                 slm_weight_type target, slm_st_entry *e, void **owned,
                                 cJSON *meta, slm_error *err)
{
    *e = (slm_st_entry){.name = t->name, .dtype = t->dtype, .n_dims = t->n_dims,
                        .data = t->data, .n_bytes = t->n_bytes};
    memcpy(e->shape, t->shape, sizeof e->shape);
    *owned = NULL;
    slm_weight_type qtype = SLM_WEIGHT_F32;
    int qcols = 0;
    slm_status q = slm_quantized_info(st, t, &qtype, &qcols, err);
    if (q != SLM_OK && q != SLM_ERR_UNSUPPORTED)
        return q;
    bool quantized = q == SLM_OK;
    source_matrix m;
    if (!source_of(t, quantized, qtype, qcols, target, &m))
        return quantized ? slm_fail(err, SLM_ERR_UNSUPPORTED,
                                    "%s: tensor '%s': too many rows to convert", t->file, t->name)
                         : SLM_OK; /* copied as it is */
    if (quantized && qtype == target)
        return add_quant_meta(meta, t->name, qtype, qcols, err);
    *owned = encode(&m, target, &e->n_bytes);
    if (!*owned)
        return slm_fail_nomem(err, t->name);
    e->data = *owned;
    e->shape[1] = m.cols;
    if (!is_quantized(target)) {
        e->dtype = plain_dtype(target);
        return SLM_OK;
    }
    e->dtype = SLM_DTYPE_U8;
    e->shape[1] = (int64_t)slm_weight_row_bytes(target, m.cols);
    return add_quant_meta(meta, t->name, target, m.cols, err);
}

/* Every file the conversion reads: the tensor files (all shards), the index
   and the side files, so that no output can be one of them. */
static slm_status collect_inputs(const char *src, const slm_safetensors *st, slm_input_set *in,
                                 slm_error *err)
{
    for (size_t i = 0; i < slm_safetensors_count(st); i++)
        SLM_TRY(slm_input_set_add(in, slm_safetensors_at(st, i)->file, err));
    const char *names[] = {"model.safetensors", "model.safetensors.index.json"};
    for (size_t i = 0; i < 2 + sizeof copied_files / sizeof copied_files[0]; i++) {
        char *p = slm_path_join(src, i < 2 ? names[i] : copied_files[i - 2]);
        slm_status s = p ? slm_input_set_add(in, p, err) : slm_fail_nomem(err, "path");
        free(p);
        SLM_TRY(s);
    }
    return SLM_OK;
}

/* Refuses an output folder that is the source folder, or any output file that
   is an input (the weights are mapped: truncating them is SIGBUS and a lost
   model). */
static slm_status check_outputs(const char *src, const char *dst, const slm_input_set *in,
                                slm_error *err)
{
    struct stat s_dir, d_dir;
    if (stat(dst, &d_dir) != 0 || !S_ISDIR(d_dir.st_mode))
        return slm_fail(err, SLM_ERR_INVALID_ARG, "%s: the output must be a folder", dst);
    if (stat(src, &s_dir) == 0 && s_dir.st_dev == d_dir.st_dev && s_dir.st_ino == d_dir.st_ino)
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "%s: the output folder is the source folder %s; choose another output",
                        dst, src);
    for (size_t i = 0; i <= sizeof copied_files / sizeof copied_files[0]; i++) {
        char *p = slm_path_join(dst, i == 0 ? "model.safetensors" : copied_files[i - 1]);
        slm_status s = p ? slm_output_check(in, p, err) : slm_fail_nomem(err, "path");
        free(p);
        SLM_TRY(s);
    }
    return SLM_OK;
}

static slm_status copy_side_files(const char *src, const char *dst, slm_error *err)
{
    for (size_t i = 0; i < sizeof copied_files / sizeof copied_files[0]; i++) {
        char *from = slm_path_join(src, copied_files[i]), *to = slm_path_join(dst, copied_files[i]);
        char *data = NULL;
        size_t len;
        slm_status s = from && to ? SLM_OK : slm_fail_nomem(err, "path");
        if (s == SLM_OK && slm_file_exists(from)) {
            s = slm_read_file(from, &data, &len, err);
            if (s == SLM_OK)
                s = slm_output_file(to, data, len, err);
        }
        free(data);
        free(from);
        free(to);
        SLM_TRY(s);
    }
    return SLM_OK;
}

/* The converted entries of every tensor and the header metadata. */
static slm_status convert_all(const slm_safetensors *st, slm_weights_format format,
                              slm_st_entry *entries, void **owned, cJSON *meta,
                              slm_progress_fn progress, void *user, slm_error *err)
{
    size_t n = slm_safetensors_count(st);
    slm_weight_type target = slm_weight_type_of_format(format);
    if (!cJSON_AddStringToObject(meta, "format", "pt") ||
        !cJSON_AddStringToObject(meta, "slm.weights", slm_weights_format_name(format)))
        return slm_fail_nomem(err, "metadata");
    for (size_t i = 0; i < n; i++) {
        SLM_TRY(convert_tensor(st, slm_safetensors_at(st, i), target, &entries[i], &owned[i],
                               meta, err));
        if (progress)
            progress(user, i + 1, n);
    }
    return SLM_OK;
}

slm_status slm_quantize_folder(const char *src, const char *dst, slm_weights_format format,
                               slm_progress_fn progress, void *user, slm_error *err)
{
    if (format == SLM_WEIGHTS_AUTO)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "quantize: give a target format (not auto)");
    slm_safetensors *st;
    SLM_TRY(slm_safetensors_open_dir(src, true, &st, err));
    slm_input_set inputs = {0};
    slm_status s = collect_inputs(src, st, &inputs, err);
    if (s == SLM_OK && mkdir(dst, 0755) != 0 && errno != EEXIST)
        s = slm_fail(err, SLM_ERR_IO, "%s: cannot create folder: %s", dst, strerror(errno));
    if (s == SLM_OK)
        s = check_outputs(src, dst, &inputs, err);
    size_t n = slm_safetensors_count(st);
    slm_st_entry *entries = calloc(n + 1, sizeof *entries);
    void **owned = calloc(n + 1, sizeof *owned);
    cJSON *meta = cJSON_CreateObject();
    if (s == SLM_OK && (!entries || !owned || !meta))
        s = slm_fail_nomem(err, "quantize tables");
    if (s == SLM_OK)
        s = convert_all(st, format, entries, owned, meta, progress, user, err);
    char *out = slm_path_join(dst, "model.safetensors");
    if (s == SLM_OK)
        s = out ? slm_safetensors_write(out, entries, n, meta, err) : slm_fail_nomem(err, "path");
    if (s == SLM_OK)
        s = copy_side_files(src, dst, err);
    for (size_t i = 0; owned && i < n; i++)
        free(owned[i]);
    free(out);
    free(owned);
    free(entries);
    cJSON_Delete(meta);
    slm_input_set_free(&inputs);
    slm_safetensors_free(st);
    return s;
}

slm_status slm_quantized_info(const slm_safetensors *st, const slm_tensor *t,
                              slm_weight_type *type, int *cols, slm_error *err)
{
    char key[512];
    snprintf(key, sizeof key, "slm.quant.%s", t->name);
    const char *v = slm_safetensors_metadata(st, key);
    if (!v)
        return SLM_ERR_UNSUPPORTED; /* not an slm-quantized tensor; no message needed */
    char name[16];
    long c;
    if (sscanf(v, "%15[^:]:%ld", name, &c) != 2 || slm_weight_type_parse(name, type) != 0 ||
        !is_quantized(*type) || c <= 0 || c > INT_MAX || c % SLM_QBLOCK != 0 || t->dtype != SLM_DTYPE_U8 ||
        t->n_dims != 2 || (size_t)t->shape[1] != slm_weight_row_bytes(*type, (int)c))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: tensor '%s': quantization metadata '%s' does not match its U8 shape",
                        t->file, t->name, v);
    *cols = (int)c;
    return SLM_OK;
}
