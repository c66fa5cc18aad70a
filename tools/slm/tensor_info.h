/*
 * tensor_info.h — what a checkpoint's tensors hold, as inspect and bench
 * show it: slm-quantized tensors are stored as U8 rows of blocks, so their
 * logical type and shape come from the quantization metadata.
 */
#ifndef SLM_CLI_TENSOR_INFO_H
#define SLM_CLI_TENSOR_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

/* Logical element count of t; *type its type name ("BF16", "q8_0"), shape
 * its logical shape (SLM_MAX_DIMS entries). */
size_t cli_tensor_describe(const slm_safetensors *st, const slm_tensor *t, const char **type,
                           int64_t *shape);

/* Parameters of the whole checkpoint (logical elements), and the type that
 * holds most of them (what "auto" weights compute with). */
size_t cli_checkpoint_params(const slm_safetensors *st, const char **main_type);

#endif
