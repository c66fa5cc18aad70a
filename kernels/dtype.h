/*
 * dtype.h — element types of tensors, their sizes, and conversions to f32.
 * Pure data definitions: no knowledge of files or models.
 */
#ifndef SLM_DTYPE_H
#define SLM_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SLM_DTYPE_F32,
    SLM_DTYPE_F16,
    SLM_DTYPE_BF16,
    SLM_DTYPE_F64,
    SLM_DTYPE_I8,
    SLM_DTYPE_U8,
    SLM_DTYPE_I16,
    SLM_DTYPE_I32,
    SLM_DTYPE_I64,
    SLM_DTYPE_BOOL,
    SLM_DTYPE_COUNT
} slm_dtype;

/* Bytes per element. */
size_t slm_dtype_size(slm_dtype t);
/* The safetensors spelling ("F32", "BF16", ...). */
const char *slm_dtype_name(slm_dtype t);
/* Parses a safetensors dtype name; returns 0 on success, -1 if unknown. */
int slm_dtype_parse(const char *name, slm_dtype *out);

float slm_f16_to_f32(uint16_t h);
uint16_t slm_f32_to_f16(float f);
float slm_bf16_to_f32(uint16_t b);
uint16_t slm_f32_to_bf16(float f); /* round to nearest even, like torch */

/* Converts n elements of type `t` (F32, F16 or BF16) at src to f32 at dst. */
void slm_convert_to_f32(float *dst, const void *src, slm_dtype t, size_t n);

#endif
