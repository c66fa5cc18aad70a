/*
 * render.c — prompt ids of a generation request (see render.h).
 */
#include "render.h"

#include <string.h>

#include "error.h"

slm_status slm_serve_render_prompt(const slm_model *model, const slm_oai_request *r,
                                   slm_tokens *out, slm_error *err)
{
    out->n = 0;
    if (r->kind == SLM_OAI_CHAT)
        return slm_chat_render_tokens(model, r->messages, r->n_messages,
                                      SLM_CHAT_PLAIN_FALLBACK, out, NULL, err);
    if (r->prompt_ids) {
        for (size_t i = 0; i < r->n_prompt_ids; i++)
            if (slm_tokens_push(out, r->prompt_ids[i]) != SLM_OK)
                return slm_fail_nomem(err, "the prompt's ids");
        return SLM_OK;
    }
    const char *p = r->prompt ? r->prompt : "";
    return slm_tokenize(slm_model_tokenizer(model), p, strlen(p), true, out, err);
}
