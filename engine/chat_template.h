/*
 * chat_template.h — chat templates rendered exactly as transformers'
 * tokenizer.apply_chat_template(messages, tokenize=False, ...) renders them.
 *
 * Contract:
 *   - A template is the Jinja2 source from the model folder (the
 *     chat_template of tokenizer_config.json, or chat_template.jinja), run by
 *     slm's own evaluator with transformers' environment: trim_blocks,
 *     lstrip_blocks, loop controls, the sandbox, raise_exception,
 *     strftime_now, namespace and tojson. Nothing is hard-coded per model.
 *   - The template sees `messages` (a list of {role, content}; a NULL field
 *     is left out, as transformers drops None values), `add_generation_prompt`,
 *     and every special token of the tokenizer (bos_token, eos_token,
 *     unk_token, sep_token, pad_token, cls_token, mask_token) it defines;
 *     `tools` and `documents` are none (transformers' render_jinja_template
 *     passes tools=None, documents=None when the caller gives none).
 *   - Errors: no template → SLM_ERR_UNSUPPORTED naming the file; malformed
 *     template → SLM_ERR_FORMAT with line and column; jinja features slm
 *     does not implement → SLM_ERR_UNSUPPORTED naming them; errors while
 *     rendering (raise_exception, misuse of undefined values, type errors)
 *     → SLM_ERR_INVALID_ARG, raise_exception's message verbatim.
 *   - A template is immutable after loading; apply may run concurrently.
 */
/* slm.h includes this file at its end, and conversation.h after it, which
 * needs the types below: so slm.h comes first, and when this file is the one
 * included first the nested inclusion from slm.h's end declares everything
 * before conversation.h is read. */
#ifndef SLM_CHAT_TEMPLATE_H
#include "slm.h"
#endif
#ifndef SLM_CHAT_TEMPLATE_H
#define SLM_CHAT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_chat_template slm_chat_template;

typedef struct {
    const char *role;
    const char *content;
} slm_chat_message;

/* Reads dir/tokenizer_config.json: chat_template (a string, or a list of
 * {name, template} where "default" is used; dir/chat_template.jinja wins
 * when present, as in transformers) and the special token strings (a string
 * or {"content": ...}). */
slm_status slm_chat_template_load(const char *dir, slm_chat_template **out, slm_error *err);

/* Parses a template given as text; bos / eos become bos_token / eos_token
 * (NULL leaves them undefined). */
slm_status slm_chat_template_parse(const char *source, const char *bos, const char *eos,
                                   slm_chat_template **out, slm_error *err);

/* The same for len bytes of source that need not be NUL-terminated (a
 * template file's text; the fuzz harness). `what` prefixes error messages. */
slm_status slm_chat_template_parse_n(const char *source, size_t len, const char *what,
                                     const char *bos, const char *eos, slm_chat_template **out,
                                     slm_error *err);

void slm_chat_template_free(slm_chat_template *t);

/* Renders n (>= 1, as transformers requires) messages; *out is a malloc'd
 * NUL-terminated string. A rendered prompt containing a NUL byte (which
 * would cut it short for every C-string consumer) is SLM_ERR_FORMAT naming
 * the offset. */
slm_status slm_chat_template_apply(const slm_chat_template *t, const slm_chat_message *msgs,
                                   size_t n, bool add_generation_prompt, char **out,
                                   slm_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SLM_CHAT_TEMPLATE_H */
