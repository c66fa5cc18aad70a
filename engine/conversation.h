/*
 * conversation.h — chat conversations owned by the engine: the model's chat
 * template, messages rendered and tokenized as transformers'
 * apply_chat_template does, and the KV cache of a session reused across
 * turns (only the ids after the longest cached prefix are evaluated).
 *
 * Contract:
 *   - The model owns its chat template: slm_model_load reads it once, from
 *     the tokenizer's parse of tokenizer_config.json (chat_template.jinja
 *     wins when present), as slm_chat_template_load does. A folder without a
 *     template, or with one that fails to load, still loads: the template is
 *     NULL then and the reason (the files looked at; a malformed template's
 *     file, line and column) is reported when chat is used.
 *   - Rendering = slm_chat_template_apply(messages, add_generation_prompt =
 *     true), then tokenizing with add_special_tokens = false, exactly what
 *     apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
 *     gives (the template writes every special token itself).
 *   - The plain-text fallback, for a model without a template (a story model
 *     such as the bundled stories260K) when the caller allows it
 *     (SLM_CHAT_PLAIN_FALLBACK): the messages' contents, roles ignored,
 *     joined with "\n" in order, tokenized with the tokenizer's special tokens
 *     (add_special_tokens = true: a BOS first for Llama-style tokenizers). A
 *     single message is therefore the same prompt `slm run -p TEXT` gives,
 *     and a story prompt continues as a story. A template that exists but
 *     fails to load is an error in both modes, never a fallback.
 *   - A conversation owns its messages (copies) and uses, never owns, a
 *     session of the model; the session must not be used for anything else
 *     between replies if its cache is to be reused (it still works then,
 *     just with less reuse). Each reply re-renders the whole conversation and
 *     calls slm_generate with reuse_prefix: the longest prefix of the render
 *     already in the session's cache is kept and only the rest evaluated.
 *   - Errors: SLM_ERR_UNSUPPORTED when a template is required and the model
 *     has none (naming tokenizer_config.json and chat_template.jinja); the
 *     template's load error as it was (SLM_ERR_FORMAT with file, line,
 *     column...); SLM_ERR_INVALID_ARG naming the message index for a NULL or
 *     empty role, NULL content, empty content given to
 *     slm_conversation_add, or no messages. No global state; one conversation
 *     is used by one thread at a time (as its session is).
 */
#ifndef SLM_CONVERSATION_H
#define SLM_CONVERSATION_H

#include "slm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------ the model's template */

/* The model's chat template, or NULL when its folder has none or it failed
 * to load (slm_model_chat_template_status says which). */
const slm_chat_template *slm_model_chat_template(const slm_model *model);

/* SLM_OK when the model has a usable chat template. Otherwise the reason, in
 * *err: SLM_ERR_UNSUPPORTED "...tokenizer_config.json: no chat_template (and
 * no .../chat_template.jinja)" with *missing = true, or the error loading the
 * template gave (*missing = false). missing may be NULL. */
slm_status slm_model_chat_template_status(const slm_model *model, bool *missing,
                                          slm_error *err);

/* --------------------------------------------------------------- rendering */

typedef enum {
    /* the model's template; without one, the plain-text fallback above
       (what an OpenAI-style server offers every model) */
    SLM_CHAT_PLAIN_FALLBACK = 0,
    /* the model's template; without one, SLM_ERR_UNSUPPORTED (a chat UI) */
    SLM_CHAT_TEMPLATE_REQUIRED,
} slm_chat_mode;

/* Renders msgs[0..n) (n >= 1) with the generation prompt and tokenizes the
 * result as described above; out's previous contents are replaced. *text
 * (when text is not NULL) gets the rendered prompt, malloc'd. Empty contents
 * are rendered as they are (transformers accepts them). */
slm_status slm_chat_render_tokens(const slm_model *model, const slm_chat_message *msgs,
                                  size_t n, slm_chat_mode mode, slm_tokens *out, char **text,
                                  slm_error *err);

/* ----------------------------------------------------------- conversations */

typedef struct slm_conversation slm_conversation;

/* A conversation with no messages, answered in session (the caller keeps
 * ownership; it must outlive the conversation). In
 * SLM_CHAT_TEMPLATE_REQUIRED mode a model without a usable template is
 * refused here, before any message. */
slm_status slm_conversation_new(slm_session *session, slm_chat_mode mode,
                                slm_conversation **out, slm_error *err);
void slm_conversation_free(slm_conversation *conv);

/* Appends a copy of {role, content} (role e.g. "system", "user",
 * "assistant"; both non-empty). */
slm_status slm_conversation_add(slm_conversation *conv, const char *role, const char *content,
                                slm_error *err);

/* The messages so far, owned by the conversation (valid until the next add
 * or reply). */
size_t slm_conversation_n_messages(const slm_conversation *conv);
const slm_chat_message *slm_conversation_messages(const slm_conversation *conv);

/* Keeps the first n messages and forgets the others (n above the count
 * keeps all): e.g. n = 1 after a system message forgets the conversation but
 * keeps the system prompt. */
void slm_conversation_truncate(slm_conversation *conv, size_t n);

/* Makes the next reply fit the session's context: while rendering the
 * messages leaves fewer than `room` positions of the context free, the
 * oldest turn is dropped (a user message and the messages after it up to the
 * next user message; the system messages at the start are kept, and so is
 * the turn of the last user message). *n_dropped (may be NULL) counts the
 * messages dropped. SLM_ERR_RANGE, naming the token counts, when the kept
 * messages alone leave too little room; what was dropped stays dropped. */
slm_status slm_conversation_fit(slm_conversation *conv, int room, size_t *n_dropped,
                                slm_error *err);

/* Answers the conversation: renders every message (generation prompt on),
 * generates with params (max_new_tokens, sampling, stop strings, on_token
 * and user are the caller's; reuse_prefix is forced on and continue_text
 * off: the reply is decoded on its own), streams the reply through
 * params->on_token, then appends it as an "assistant" message: the text the
 * callback was given (stop strings cut), possibly empty. stats (may be
 * NULL): n_prompt is the whole render, n_prompt_cached the part the cache
 * already held. On an error nothing is appended. */
slm_status slm_conversation_reply(slm_conversation *conv, const slm_generate_params *params,
                                  slm_generate_stats *stats, slm_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SLM_CONVERSATION_H */
