/*
 * weight.c — names, row sizes and bit widths of the weight storage types,
 * and row slices (see weight.h). Pure functions: no allocation, no state.
 */
#include <string.h>

#include "weight.h"

static const char *const type_names[SLM_WEIGHT_TYPE_COUNT] = {"f32", "f16", "bf16", "q8_0",
                                                              "q4_0"};

const char *slm_weight_type_name(slm_weight_type t)
{
    return (unsigned)t < SLM_WEIGHT_TYPE_COUNT ? type_names[t] : "?";
}

int slm_weight_type_parse(const char *name, slm_weight_type *out)
{
    if (!name)
        return -1;
    for (int t = 0; t < SLM_WEIGHT_TYPE_COUNT; t++) {
        if (strcmp(name, type_names[t]) == 0) {
            *out = (slm_weight_type)t;
            return 0;
        }
    }
    return -1;
}

size_t slm_weight_row_bytes(slm_weight_type t, int cols)
{
    size_t n = cols > 0 ? (size_t)cols : 0;
    switch (t) {
    case SLM_WEIGHT_F32:
        return n * 4;
    case SLM_WEIGHT_F16:
    case SLM_WEIGHT_BF16:
        return n * 2;
    case SLM_WEIGHT_Q8_0:
        return n / SLM_QBLOCK * SLM_Q8_0_BYTES;
    case SLM_WEIGHT_Q4_0:
        return n / SLM_QBLOCK * SLM_Q4_0_BYTES;
    default:
        return 0;
    }
}

double slm_weight_bits(slm_weight_type t)
{
    switch (t) {
    case SLM_WEIGHT_F32:
        return 32.0;
    case SLM_WEIGHT_F16:
    case SLM_WEIGHT_BF16:
        return 16.0;
    case SLM_WEIGHT_Q8_0:
        return 8.0 * SLM_Q8_0_BYTES / SLM_QBLOCK;
    case SLM_WEIGHT_Q4_0:
        return 8.0 * SLM_Q4_0_BYTES / SLM_QBLOCK;
    default:
        return 0.0;
    }
}

slm_weight slm_weight_rows(const slm_weight *w, int first, int count)
{
    slm_weight s = *w;
    /* a packed group of 8 rows takes the bytes of its 8 rows: same offset */
    s.data = (const uint8_t *)w->data + (size_t)first * slm_weight_row_bytes(w->type, w->cols);
    s.rows = count;
    return s;
}
