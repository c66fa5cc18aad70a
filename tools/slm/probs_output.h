/*
 * probs_output.h — `slm run --n-probs K`: the K most probable next tokens at
 * every generated step (slm_generate_params.on_probs), as text on stderr
 * after the generated text (so stdout stays the text, for pipes), or with
 * --n-probs-json FILE as JSON Lines in FILE, one object per step:
 *   {"step":0,"token":{"id":..,"piece":..,"p":..},"top":[{"id":..,"piece":..,"p":..},...]}
 * The text form, one block per step:
 *   step 0: 403 '▁upon' 0.912345
 *     403 '▁upon' 0.912345
 *     ...K lines "id 'piece' p"
 * Both are written as the steps come: the JSON straight to FILE, the text to
 * a temporary file copied to stderr at the end (interleaved with the
 * streamed text it would be unreadable on a terminal).
 */
#ifndef SLM_CLI_PROBS_OUTPUT_H
#define SLM_CLI_PROBS_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "slm.h"

typedef struct {
    const slm_tokenizer *tok;
    FILE *f;          /* the JSON file, or the text's temporary file */
    const char *path; /* the JSON file's name; NULL for text */
    bool failed;      /* a write or an allocation failed (reported by finish) */
} cli_probs_out;

/* Opens the output (json_path NULL: the text form). False after printing
 * why, naming `verb`. */
bool cli_probs_open(cli_probs_out *o, const char *verb, const slm_tokenizer *tok,
                    const char *json_path);

/* Writes one step (an slm_probs_callback's work; o is its state). */
void cli_probs_write(cli_probs_out *o, const slm_step_probs *sp);

/* The text form goes to stderr now (after the generated text, before the
 * stats line); the file is closed. False after printing a write error. */
bool cli_probs_finish(cli_probs_out *o, const char *verb);

/* Closes without output (generation failed). NULL-safe on a closed one. */
void cli_probs_close(cli_probs_out *o);

#endif
