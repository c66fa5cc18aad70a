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
 * Other files of the folder (config, tokenizer, generation config) are copied.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
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

static bool convertible(const slm_tensor *t, slm_weight_type target)
{
    bool float_type = t->dtype == SLM_DTYPE_F32 || t->dtype == SLM_DTYPE_F16 ||
                      t->dtype == SLM_DTYPE_BF16;
    return float_type && t->n_dims == 2 && (!is_quantized(target) || t->shape[1] % SLM_QBLOCK == 0);
}

/* Encodes t's rows into a new buffer of the target type. */
static void *encode(const slm_tensor *t, slm_weight_type target, size_t *n_bytes)
{
    int rows = (int)t->shape[0], cols = (int)t->shape[1];
    size_t row_bytes = slm_weight_row_bytes(target, cols);
    size_t src_row = (size_t)cols * slm_dtype_size(t->dtype);
    uint8_t *out = malloc(row_bytes * (size_t)rows + 1);
    float *tmp = malloc((size_t)cols * sizeof *tmp);
    if (!out || !tmp) {
        free(out);
        free(tmp);
        return NULL;
    }
    for (int r = 0; r < rows; r++) {
        slm_convert_to_f32(tmp, (const uint8_t *)t->data + (size_t)r * src_row, t->dtype,
                           (size_t)cols);
        slm_encode_row(target, tmp, out + (size_t)r * row_bytes, cols);
    }
    free(tmp);
    *n_bytes = row_bytes * (size_t)rows;
    return out;
}

static slm_dtype plain_dtype(slm_weight_type t)
{
    return t == SLM_WEIGHT_F16 ? SLM_DTYPE_F16 : t == SLM_WEIGHT_BF16 ? SLM_DTYPE_BF16 : SLM_DTYPE_F32;
}

/* Fills entry e for tensor t, converting when it applies. */
static slm_status convert_tensor(const slm_tensor *t, slm_weight_type target, slm_st_entry *e,
                                 void **owned, cJSON *meta, slm_error *err)
{
    *e = (slm_st_entry){.name = t->name, .dtype = t->dtype, .n_dims = t->n_dims,
                        .data = t->data, .n_bytes = t->n_bytes};
    memcpy(e->shape, t->shape, sizeof e->shape);
    *owned = NULL;
    if (!convertible(t, target))
        return SLM_OK;
    *owned = encode(t, target, &e->n_bytes);
    if (!*owned)
        return slm_fail_nomem(err, t->name);
    e->data = *owned;
    if (!is_quantized(target)) {
        e->dtype = plain_dtype(target);
        return SLM_OK;
    }
    e->dtype = SLM_DTYPE_U8;
    e->shape[1] = (int64_t)slm_weight_row_bytes(target, (int)t->shape[1]);
    char key[512], value[64];
    snprintf(key, sizeof key, "slm.quant.%s", t->name);
    snprintf(value, sizeof value, "%s:%lld", slm_weight_type_name(target), (long long)t->shape[1]);
    return cJSON_AddStringToObject(meta, key, value) ? SLM_OK : slm_fail_nomem(err, "metadata");
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
            FILE *f = s == SLM_OK ? fopen(to, "wb") : NULL;
            if (s == SLM_OK && (!f || fwrite(data, 1, len, f) != len))
                s = slm_fail(err, SLM_ERR_IO, "%s: cannot write: %s", to, strerror(errno));
            if (f)
                fclose(f);
        }
        free(data);
        free(from);
        free(to);
        SLM_TRY(s);
    }
    return SLM_OK;
}

slm_status slm_quantize_folder(const char *src, const char *dst, slm_weights_format format,
                               slm_progress_fn progress, void *user, slm_error *err)
{
    if (format == SLM_WEIGHTS_AUTO)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "quantize: give a target format (not auto)");
    if (mkdir(dst, 0755) != 0 && errno != EEXIST)
        return slm_fail(err, SLM_ERR_IO, "%s: cannot create folder: %s", dst, strerror(errno));
    slm_safetensors *st;
    SLM_TRY(slm_safetensors_open_dir(src, true, &st, err));
    size_t n = slm_safetensors_count(st);
    slm_st_entry *entries = calloc(n + 1, sizeof *entries);
    void **owned = calloc(n + 1, sizeof *owned);
    cJSON *meta = cJSON_CreateObject();
    slm_weight_type target = slm_weight_type_of_format(format);
    slm_status s = entries && owned && meta ? SLM_OK : slm_fail_nomem(err, "quantize tables");
    if (s == SLM_OK && (!cJSON_AddStringToObject(meta, "format", "pt") ||
                        !cJSON_AddStringToObject(meta, "slm.weights",
                                                 slm_weights_format_name(format))))
        s = slm_fail_nomem(err, "metadata");
    for (size_t i = 0; s == SLM_OK && i < n; i++) {
        s = convert_tensor(slm_safetensors_at(st, i), target, &entries[i], &owned[i], meta, err);
        if (progress)
            progress(user, i + 1, n);
    }
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
        !is_quantized(*type) || c <= 0 || c % SLM_QBLOCK != 0 || t->dtype != SLM_DTYPE_U8 ||
        t->n_dims != 2 || (size_t)t->shape[1] != slm_weight_row_bytes(*type, (int)c))
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: tensor '%s': quantization metadata '%s' does not match its U8 shape",
                        t->file, t->name, v);
    *cols = (int)c;
    return SLM_OK;
}
