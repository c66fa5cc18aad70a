/*
 * id_list.h — the parser of token-id lists the CLI takes (`slm logits --ids`,
 * `slm detokenize`): decimal ids separated by any mix of spaces, commas, tabs
 * and line breaks, e.g. "1 403, 407". Self-contained (it needs only the
 * engine's slm_tokens and slm_fail), so tests/fuzz/fuzz_ids.c includes the .c.
 */
#ifndef SLM_CLI_ID_LIST_H
#define SLM_CLI_ID_LIST_H

#include <stdint.h>

#include "slm.h"

/* Appends every id of the NUL-terminated `s` to `out`. Each id must be in
 * [0, limit) (limit <= 2^31: ids are int32); `what` says where the limit
 * comes from in messages ("the tokenizer's ids", "int32 token ids"). On failure `out`
 * keeps what it had plus the ids before the bad one, and err names the bad
 * item and the reason: SLM_ERR_INVALID_ARG for text that is not a list of
 * ids, SLM_ERR_RANGE for an id out of range, and SLM_ERR_INVALID_ARG when
 * the list is empty. */
slm_status cli_parse_id_list(const char *s, int64_t limit, const char *what, slm_tokens *out,
                             slm_error *err);

#endif
