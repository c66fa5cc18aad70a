/*
 * gen_output.h — what `slm run` and `slm chat` print while generating: the
 * streamed text on stdout (flushed per piece, stopped by Ctrl-C), and the
 * stats line on stderr, llama-cli style: prompt and generation speed, time
 * to first token, ms per token, why generation stopped, the seed.
 */
#ifndef SLM_CLI_GEN_OUTPUT_H
#define SLM_CLI_GEN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sampling.h"
#include "slm.h"

/* The streaming callback's state: when generation started and when the
 * first token came out. */
typedef struct {
    double t_start;
    double t_first; /* 0 until the first generated token */
    bool interrupted;  /* Ctrl-C stopped the stream */
} cli_stream;

/* Starts the clock (right before slm_generate / slm_conversation_reply). */
void cli_stream_start(cli_stream *s);

/* slm_token_callback with a cli_stream as user: writes and flushes the text;
 * returns false (stop) once Ctrl-C was pressed. */
bool cli_stream_token(void *user, int32_t id, const char *text, size_t len);

/* Tokens generated, not counting the EOS id that ended generation (the
 * engine's n_generated includes it, as the ids a server bills do). */
int cli_generated_tokens(const slm_generate_stats *st);

/* "eos", "length", "stop string", "context full", "interrupted", ... */
const char *cli_stop_reason_name(const slm_generate_stats *st, const cli_stream *s);

/* What the stats line shows beyond the counts. */
typedef struct {
    double load_seconds;       /* < 0: not shown */
    bool cached_prompt;        /* chat: "N cached, M new prompt tokens evaluated" */
    const cli_sampling *sampling; /* the seed is shown when it samples */
} cli_stats_extra;

/* Flushes stdout, then writes one line on stderr, e.g.
 * "[slm] prompt 5 tokens, 812.3 tok/s | generated 20 tokens, 310.2 tok/s,
 *  3.22 ms/token | first token 6.1 ms | load 0.012 s | stop: eos | seed 42" */
void cli_print_stats(const slm_generate_stats *st, const cli_stream *s,
                     const cli_stats_extra *extra);

#endif
