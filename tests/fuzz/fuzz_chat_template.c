/*
 * fuzz_chat_template.c — libFuzzer harness for chat-template rendering
 * (engine/chat_template.c over the Jinja evaluator in engine/jinja/).
 *
 * Input: byte 0 chooses the variant, the rest is the template source.
 *   bit 0     add_generation_prompt
 *   bits 1-2  which fixed conversation is rendered (see CONVERSATIONS)
 *   bit 3     bos/eos defined or left undefined
 * The source may hold any bytes, NULs included (as a chat_template.jinja
 * file can). Parsing or rendering must succeed or fail with one of the
 * documented statuses; the evaluator's own limits (depth, string size,
 * steps, work budget) must keep every input fast and small, which libFuzzer
 * checks with -timeout and -rss_limit_mb. A success must be a C string with
 * no NUL inside (slm_chat_template_apply refuses those).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat_template.h"

typedef struct {
    const slm_chat_message *msgs;
    size_t n;
} conversation;

static const slm_chat_message ONE[] = {{"user", "Hello!"}};
static const slm_chat_message THREE[] = {
    {"system", "You are terse."}, {"user", "2+2?"}, {"assistant", " 4 "}};
static const slm_chat_message ALTERNATING[] = {
    {"user", "héllo {{ x }} <|im_end|>"}, {"assistant", "hi\n\tthere"}, {"user", "ça va? ✓"}};
static const slm_chat_message ODD[] = {{"assistant", NULL}, {NULL, "no role"}, {"tool", ""}};

static const conversation CONVERSATIONS[4] = {
    {ONE, 1}, {THREE, 3}, {ALTERNATING, 3}, {ODD, 3}};

/* Failures are the documented kinds (raise_exception's message is the
 * template's own and may be empty, so only the status is checked). */
static void check_failure(slm_status st)
{
    if (st != SLM_ERR_FORMAT && st != SLM_ERR_UNSUPPORTED && st != SLM_ERR_INVALID_ARG &&
        st != SLM_ERR_RANGE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const conversation *conv = &CONVERSATIONS[(mode >> 1) & 3];
    bool tokens = !(mode & 8);
    slm_chat_template *t = NULL;
    slm_error err = {0};
    slm_status st = slm_chat_template_parse_n((const char *)data + 1, size - 1, "fuzz template",
                                              tokens ? "<s>" : NULL, tokens ? "</s>" : NULL,
                                              &t, &err);
    if (st != SLM_OK) {
        check_failure(st);
        return 0;
    }
    char *out = NULL;
    st = slm_chat_template_apply(t, conv->msgs, conv->n, mode & 1, &out, &err);
    if (st != SLM_OK) {
        check_failure(st);
        if (out)
            abort(); /* failures hand back nothing */
    } else if (!out) {
        abort();
    }
    free(out);
    slm_chat_template_free(t);
    return 0;
}
