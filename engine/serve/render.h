/*
 * render.h — a generation request's prompt as token ids: the one place the
 * server turns chat messages or a completion prompt into ids.
 *
 * Contract: chat messages go through the engine's conversation rendering
 * (engine/conversation.h, slm_chat_render_tokens with
 * SLM_CHAT_PLAIN_FALLBACK): the model's chat template with the generation
 * prompt, tokenized without extra special tokens, as transformers'
 * apply_chat_template(tokenize=True) does; a model without a template (the
 * bundled stories260K) gets the engine's documented plain-text fallback
 * (the contents, roles ignored, joined with "\n", tokenized with the
 * special tokens: a BOS first), so one message is the prompt `slm run -p
 * TEXT` gives. A completion's text is tokenized with the special tokens, as
 * `slm run -p` does; a completion given as ids is used as it is. Runs on the
 * scheduler thread only.
 */
#ifndef SLM_SERVE_RENDER_H
#define SLM_SERVE_RENDER_H

#include "oai.h"
#include "slm.h"

/* out's previous contents are replaced. */
slm_status slm_serve_render_prompt(const slm_model *model, const slm_oai_request *r,
                                   slm_tokens *out, slm_error *err);

#endif /* SLM_SERVE_RENDER_H */
