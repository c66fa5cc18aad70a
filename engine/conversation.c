/*
 * conversation.c — rendering messages with the model's chat template (or the
 * plain-text fallback) into prompt ids, and conversations whose every reply
 * re-renders the whole history and lets slm_generate keep the longest cached
 * prefix (see conversation.h for the contract).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conversation.h"
#include "error.h"
#include "model.h"
#include "profile.h"
#include "session.h"

/* ================================================================ rendering */

static slm_status check_messages(const slm_chat_message *msgs, size_t n, slm_error *err)
{
    if (!msgs || n == 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "chat: no messages to render");
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i].role || !msgs[i].role[0])
            return slm_fail(err, SLM_ERR_INVALID_ARG, "chat: message %zu has %s role", i,
                            msgs[i].role ? "an empty" : "a NULL");
        if (!msgs[i].content)
            return slm_fail(err, SLM_ERR_INVALID_ARG, "chat: message %zu (%s) has NULL content",
                            i, msgs[i].role);
    }
    return SLM_OK;
}

/* The fallback's text: the contents joined with "\n" (roles ignored). */
static slm_status plain_text(const slm_chat_message *msgs, size_t n, char **out, slm_error *err)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(msgs[i].content) + 1;
    char *text = malloc(len + 1), *p = text;
    if (!text)
        return slm_fail_nomem(err, "chat prompt");
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = '\n';
        size_t l = strlen(msgs[i].content);
        memcpy(p, msgs[i].content, l);
        p += l;
    }
    *p = '\0';
    *out = text;
    return SLM_OK;
}

/* The prompt text and whether the tokenizer adds its special tokens: the
 * template writes them itself, the fallback relies on the tokenizer's BOS. */
static slm_status render_text(const slm_model *m, const slm_chat_message *msgs, size_t n,
                              slm_chat_mode mode, char **text, bool *add_special, slm_error *err)
{
    bool missing;
    slm_status st = slm_model_chat_template_status(m, &missing, err);
    if (st == SLM_OK) {
        *add_special = false;
        return slm_chat_template_apply(m->chat_template, msgs, n, true, text, err);
    }
    if (!missing || mode == SLM_CHAT_TEMPLATE_REQUIRED)
        return st;
    *add_special = true;
    return plain_text(msgs, n, text, err);
}

slm_status slm_chat_render_tokens(const slm_model *model, const slm_chat_message *msgs,
                                  size_t n, slm_chat_mode mode, slm_tokens *out, char **text,
                                  slm_error *err)
{
    if (text)
        *text = NULL;
    out->n = 0;
    SLM_TRY(check_messages(msgs, n, err));
    char *prompt = NULL;
    bool add_special = false;
    slm_status st = render_text(model, msgs, n, mode, &prompt, &add_special, err);
    if (st == SLM_OK)
        st = slm_tokenize(model->tok, prompt, strlen(prompt), add_special, out, err);
    if (st == SLM_OK && text)
        *text = prompt;
    else
        free(prompt);
    if (st != SLM_OK)
        out->n = 0;
    return st;
}

/* ============================================================ conversations */

struct slm_conversation {
    slm_session *session;
    const slm_model *model;
    slm_chat_mode mode;
    slm_chat_message *msgs; /* role and content strings owned */
    size_t n, cap;
};

slm_status slm_conversation_new(slm_session *session, slm_chat_mode mode,
                                slm_conversation **out, slm_error *err)
{
    *out = NULL;
    if (!session)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "conversation: no session given");
    if (mode != SLM_CHAT_PLAIN_FALLBACK && mode != SLM_CHAT_TEMPLATE_REQUIRED)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "conversation: unknown chat mode %d",
                        (int)mode);
    const slm_model *m = session->model;
    bool missing;
    slm_status st = slm_model_chat_template_status(m, &missing, err);
    if (st != SLM_OK && (!missing || mode == SLM_CHAT_TEMPLATE_REQUIRED))
        return st;
    slm_conversation *c = calloc(1, sizeof *c);
    if (!c)
        return slm_fail_nomem(err, "conversation");
    *c = (slm_conversation){.session = session, .model = m, .mode = mode};
    *out = c;
    return SLM_OK;
}

void slm_conversation_free(slm_conversation *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->msgs[i].role);
        free((char *)c->msgs[i].content);
    }
    free(c->msgs);
    free(c);
}

static char *copy_bytes(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* Appends without checking the content (a reply may be empty). */
static slm_status append(slm_conversation *c, const char *role, const char *content,
                         size_t content_len, slm_error *err)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        slm_chat_message *msgs = realloc(c->msgs, cap * sizeof *msgs);
        if (!msgs)
            return slm_fail_nomem(err, "conversation messages");
        c->msgs = msgs;
        c->cap = cap;
    }
    char *r = copy_bytes(role, strlen(role)), *t = copy_bytes(content, content_len);
    if (!r || !t) {
        free(r);
        free(t);
        return slm_fail_nomem(err, "conversation message");
    }
    c->msgs[c->n++] = (slm_chat_message){r, t};
    return SLM_OK;
}

slm_status slm_conversation_add(slm_conversation *c, const char *role, const char *content,
                                slm_error *err)
{
    if (!role || !role[0])
        return slm_fail(err, SLM_ERR_INVALID_ARG, "conversation: message %zu has %s role", c->n,
                        role ? "an empty" : "a NULL");
    if (!content || !content[0])
        return slm_fail(err, SLM_ERR_INVALID_ARG, "conversation: message %zu (%s) has %s content",
                        c->n, role, content ? "empty" : "NULL");
    return append(c, role, content, strlen(content), err);
}

size_t slm_conversation_n_messages(const slm_conversation *c)
{
    return c->n;
}

const slm_chat_message *slm_conversation_messages(const slm_conversation *c)
{
    return c->msgs;
}

/* ----------------------------------------------------- forgetting messages */

/* Frees messages [from, to) and closes the gap. */
static void remove_messages(slm_conversation *c, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        free((char *)c->msgs[i].role);
        free((char *)c->msgs[i].content);
    }
    memmove(c->msgs + from, c->msgs + to, (c->n - to) * sizeof *c->msgs);
    c->n -= to - from;
}

void slm_conversation_truncate(slm_conversation *c, size_t n)
{
    if (n < c->n)
        remove_messages(c, n, c->n);
}

static bool is_user(const slm_chat_message *m) { return strcmp(m->role, "user") == 0; }

/* The oldest droppable turn [*from, *to): after the leading system
   messages, up to the next user message; false when the only turn left
   is the last user message's. */
static bool oldest_turn(const slm_conversation *c, size_t *from, size_t *to)
{
    size_t k = 0;
    while (k < c->n && strcmp(c->msgs[k].role, "system") == 0)
        k++;
    size_t end = k + 1;
    while (end < c->n && !is_user(&c->msgs[end]))
        end++;
    if (end >= c->n)
        return false; /* no later user message: this turn is the one to answer */
    *from = k;
    *to = end;
    return true;
}

slm_status slm_conversation_fit(slm_conversation *c, int room, size_t *n_dropped,
                                slm_error *err)
{
    int n_ctx = c->session->n_ctx;
    size_t dropped = 0, from, to;
    slm_tokens ids = {0};
    slm_status st;
    while ((st = slm_chat_render_tokens(c->model, c->msgs, c->n, c->mode, &ids, NULL, err)) ==
               SLM_OK &&
           (long)ids.n + room > n_ctx && oldest_turn(c, &from, &to)) {
        remove_messages(c, from, to);
        dropped += to - from;
    }
    if (st == SLM_OK && (long)ids.n + room > n_ctx)
        st = slm_fail(err, SLM_ERR_RANGE,
                      "conversation: its last turn (with the system messages) takes %zu tokens; "
                      "with %d kept for the reply that exceeds the context of %d positions",
                      ids.n, room, n_ctx);
    if (n_dropped)
        *n_dropped = dropped;
    slm_tokens_free(&ids);
    return st;
}

/* ------------------------------------------------------------------- reply */

/* The caller's callback, and the reply text collected on the way. */
typedef struct {
    slm_token_callback on_token;
    void *user;
    char *text;
    size_t len, cap;
    bool nomem;
} reply_sink;

static bool collect(void *user, int32_t id, const char *text, size_t len)
{
    reply_sink *r = user;
    if (r->len + len + 1 > r->cap) {
        size_t cap = 2 * (r->len + len + 1);
        char *t = realloc(r->text, cap);
        if (!t) {
            r->nomem = true;
            return false;
        }
        r->text = t;
        r->cap = cap;
    }
    memcpy(r->text + r->len, text, len);
    r->len += len;
    r->text[r->len] = '\0';
    return r->on_token ? r->on_token(r->user, id, text, len) : true;
}

slm_status slm_conversation_reply(slm_conversation *c, const slm_generate_params *params,
                                  slm_generate_stats *stats, slm_error *err)
{
    if (!params)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "conversation: no generation parameters");
    slm_tokens prompt = {0};
    slm_profile *pf = c->session->profile;
    uint64_t t = slm_prof_start(pf);
    SLM_TRY(slm_chat_render_tokens(c->model, c->msgs, c->n, c->mode, &prompt, NULL, err));
    if (pf) { /* the prompt's render and tokenization: a phase of its own */
        double secs = (slm_profile_clock_ns() - t) * 1e-9;
        slm_profile_add(pf, SLM_PROFILE_TOKENIZE, SLM_PROF_TOKENIZER, secs);
        slm_profile_add_phase(pf, SLM_PROFILE_TOKENIZE, secs, prompt.n);
    }
    reply_sink sink = {.on_token = params->on_token, .user = params->user};
    slm_generate_params gp = *params;
    gp.on_token = collect;
    gp.user = &sink;
    gp.reuse_prefix = true;
    gp.continue_text = false;
    slm_generate_stats st = {0};
    slm_status rc = slm_generate(c->session, prompt.ids, prompt.n, &gp, &st, err);
    if (rc == SLM_OK && sink.nomem)
        rc = slm_fail_nomem(err, "conversation reply");
    if (rc == SLM_OK)
        rc = append(c, "assistant", sink.text ? sink.text : "", sink.len, err);
    if (stats)
        *stats = st;
    free(sink.text);
    slm_tokens_free(&prompt);
    return rc;
}
