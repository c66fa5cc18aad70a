/*
 * quantize.h — slm-quantized model folders: writing them, and recognising
 * their quantized tensors when loading (convention in quantize.c).
 */
#ifndef SLM_QUANTIZE_H
#define SLM_QUANTIZE_H

#include "safetensors.h"
#include "slm.h"
#include "weight.h"

slm_weight_type slm_weight_type_of_format(slm_weights_format f);

/* SLM_OK with the block type and logical column count when t is an
 * slm-quantized tensor; SLM_ERR_UNSUPPORTED (no message) when it is a plain
 * tensor; SLM_ERR_FORMAT when its metadata and shape disagree. */
slm_status slm_quantized_info(const slm_safetensors *st, const slm_tensor *t,
                              slm_weight_type *type, int *cols, slm_error *err);

#endif
