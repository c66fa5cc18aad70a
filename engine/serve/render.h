/*
 * render.h — a generation request's prompt as token ids: the one place the
 * server turns chat messages or a completion prompt into ids (swap here if
 * the rendering rules change).
 *
 * Contract: chat messages are rendered with the model's chat template
 * (tokenizer_config.json / chat_template.jinja) with the generation prompt
 * and tokenized without extra special tokens, as transformers'
 * apply_chat_template(tokenize=True) does. A model without a template (the
 * bundled stories260K) gets the plain-text fallback of engine/conversation.h:
 * the contents, roles ignored, joined with "\n", tokenized with the
 * tokenizer's special tokens (a BOS first), so one message is the prompt
 * `slm run -p TEXT` gives. A completion's text is tokenized with the special
 * tokens, as `slm run -p` does; a completion given as ids is used as it is.
 * Runs on the scheduler thread only.
 * (Interim: when engine/conversation.h's slm_chat_render_tokens lands, the
 * chat branch becomes that one call and the renderer its model.)
 */
#ifndef SLM_SERVE_RENDER_H
#define SLM_SERVE_RENDER_H

#include "oai.h"
#include "slm.h"

typedef struct slm_serve_renderer slm_serve_renderer;

/* Loads model_dir's chat template; a folder without one gets the fallback.
 * A template that exists but does not load is an error. */
slm_status slm_serve_renderer_new(const char *model_dir, slm_serve_renderer **out,
                                  slm_error *err);
void slm_serve_renderer_free(slm_serve_renderer *r);

/* out's previous contents are replaced. */
slm_status slm_serve_render_prompt(const slm_serve_renderer *rd, const slm_model *model,
                                   const slm_oai_request *r, slm_tokens *out, slm_error *err);

#endif /* SLM_SERVE_RENDER_H */
