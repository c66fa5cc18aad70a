/*
 * token_piece.h — how the CLI shows tokens: the piece (the token as the
 * vocabulary spells it, slm_tokenizer_id_piece) in single quotes, the
 * "id -> 'piece'" lines of `slm tokenize --pieces` (as llama-tokenize) and
 * of --verbose-prompt, and the piece as a C string for JSON output.
 */
#ifndef SLM_CLI_TOKEN_PIECE_H
#define SLM_CLI_TOKEN_PIECE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slm.h"

/* 'piece', its bytes as they are ('' for an id that names no token). */
void cli_write_piece(FILE *f, const slm_tokenizer *tok, int32_t id);

/* One "id -> 'piece'" line per id. */
void cli_write_id_pieces(FILE *f, const slm_tokenizer *tok, const int32_t *ids, size_t n);

/* The piece as a malloc'd C string (cut at a NUL byte, as JSON strings
 * through cJSON would be); NULL when out of memory. */
char *cli_piece_dup(const slm_tokenizer *tok, int32_t id);

/* --verbose-prompt of run and chat, on f (stderr: stdout stays the
 * generated text): the prompt as rendered (after the chat template when one
 * applies), its token count, then its "id -> 'piece'" lines. */
void cli_write_verbose_prompt(FILE *f, const slm_tokenizer *tok, const char *rendered,
                              const slm_tokens *ids);

#endif
