/* tensor_info.c — see tensor_info.h. */
#include "tensor_info.h"

#include <string.h>

#include "quantize.h"

size_t cli_tensor_describe(const slm_safetensors *st, const slm_tensor *t, const char **type,
                           int64_t *shape)
{
    slm_weight_type q;
    int cols;
    memcpy(shape, t->shape, sizeof t->shape);
    *type = slm_dtype_name(t->dtype);
    if (slm_quantized_info(st, t, &q, &cols, NULL) != SLM_OK)
        return t->n_elements;
    *type = slm_weight_type_name(q);
    shape[1] = cols;
    return (size_t)t->shape[0] * (size_t)cols;
}

size_t cli_checkpoint_params(const slm_safetensors *st, const char **main_type)
{
    /* a checkpoint mixes few types (e.g. q4_0 matrices, F32 norms) */
    enum { MAX_TYPES = 16 };
    const char *names[MAX_TYPES];
    size_t counts[MAX_TYPES] = {0}, total = 0;
    int n_types = 0, best = -1;
    int64_t shape[SLM_MAX_DIMS];
    for (size_t i = 0; i < slm_safetensors_count(st); i++) {
        const char *type;
        size_t n = cli_tensor_describe(st, slm_safetensors_at(st, i), &type, shape);
        total += n;
        int k = 0;
        while (k < n_types && strcmp(names[k], type) != 0)
            k++;
        if (k == n_types && n_types < MAX_TYPES)
            names[n_types++] = type;
        if (k < n_types)
            counts[k] += n;
    }
    for (int k = 0; k < n_types; k++)
        if (best < 0 || counts[k] > counts[best])
            best = k;
    *main_type = best >= 0 ? names[best] : "?";
    return total;
}
