/*
 * render.c — prompt ids of a generation request (see render.h).
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

struct slm_serve_renderer {
    slm_chat_template *tmpl; /* NULL: the plain-text fallback */
};

slm_status slm_serve_renderer_new(const char *model_dir, slm_serve_renderer **out,
                                  slm_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return slm_fail_nomem(err, "the chat renderer");
    slm_error e = {0};
    slm_status s = slm_chat_template_load(model_dir, &(*out)->tmpl, &e);
    /* UNSUPPORTED: the folder has no template (or one slm cannot run). */
    if (s == SLM_ERR_UNSUPPORTED)
        return SLM_OK;
    if (s != SLM_OK) {
        slm_serve_renderer_free(*out);
        *out = NULL;
        if (err)
            *err = e;
    }
    return s;
}

void slm_serve_renderer_free(slm_serve_renderer *r)
{
    if (!r)
        return;
    slm_chat_template_free(r->tmpl);
    free(r);
}

/* The fallback: contents joined with "\n", tokenized with special tokens. */
static slm_status render_plain(const slm_model *model, const slm_oai_request *r,
                               slm_tokens *out, slm_error *err)
{
    size_t total = 1;
    for (size_t i = 0; i < r->n_messages; i++)
        total += strlen(r->messages[i].content) + 1;
    char *text = malloc(total), *w = text;
    if (!text)
        return slm_fail_nomem(err, "the rendered prompt");
    for (size_t i = 0; i < r->n_messages; i++) {
        if (i > 0)
            *w++ = '\n';
        size_t n = strlen(r->messages[i].content);
        memcpy(w, r->messages[i].content, n);
        w += n;
    }
    *w = '\0';
    slm_status s = slm_tokenize(slm_model_tokenizer(model), text, (size_t)(w - text), true, out,
                                err);
    free(text);
    return s;
}

static slm_status render_chat(const slm_serve_renderer *rd, const slm_model *model,
                              const slm_oai_request *r, slm_tokens *out, slm_error *err)
{
    if (!rd->tmpl)
        return render_plain(model, r, out, err);
    char *text = NULL;
    SLM_TRY(slm_chat_template_apply(rd->tmpl, r->messages, r->n_messages, true, &text, err));
    /* the template writes every special token itself */
    slm_status s = slm_tokenize(slm_model_tokenizer(model), text, strlen(text), false, out, err);
    free(text);
    return s;
}

slm_status slm_serve_render_prompt(const slm_serve_renderer *rd, const slm_model *model,
                                   const slm_oai_request *r, slm_tokens *out, slm_error *err)
{
    out->n = 0;
    if (r->kind == SLM_OAI_CHAT)
        return render_chat(rd, model, r, out, err);
    if (r->prompt_ids) {
        for (size_t i = 0; i < r->n_prompt_ids; i++)
            if (slm_tokens_push(out, r->prompt_ids[i]) != SLM_OK)
                return slm_fail_nomem(err, "the prompt's ids");
        return SLM_OK;
    }
    const char *p = r->prompt ? r->prompt : "";
    return slm_tokenize(slm_model_tokenizer(model), p, strlen(p), true, out, err);
}
