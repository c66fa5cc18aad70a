/*
 * chat.h — chat-template plumbing shared by `slm chat` and `slm run --chat`.
 */
#ifndef SLM_CLI_CHAT_H
#define SLM_CLI_CHAT_H

#include "chat_template.h"
#include "cli.h"

typedef struct {
    slm_model *model;
    slm_session *session;
    const slm_chat_template *tmpl;
    slm_generate_params params;
    slm_tokens cached; /* the ids whose keys/values the session holds */
    bool show_stats;
} chat_state;

/* Renders msgs with the generation prompt and tokenizes the result as
 * apply_chat_template(tokenize=True) does (no extra special tokens). */
slm_status chat_render_tokens(const slm_model *m, const slm_chat_template *t,
                              const slm_chat_message *msgs, size_t n, slm_tokens *out,
                              slm_error *err);

/* Reads user lines from stdin until EOF, answering each. */
int chat_loop(chat_state *st, const char *system);

#endif
