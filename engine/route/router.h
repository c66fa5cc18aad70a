/*
 * router.h — the hybrid router: one query answered by the local model or
 * the remote one (policy.h decides), with the fallbacks of router.json and
 * what the answer cost.
 *
 * Contract:
 *   - The local model and the classifier are loaded on first use (a
 *   --force remote query loads neither); the remote client on first use.
 *   - Fallback (config "fallback": true): the remote failing before any
 *     answer byte was passed on (refused, timeout, retries exhausted, 4xx,
 *     malformed answer, cooldown) -> answered locally; the local side
 *     failing -> remote. fallback = true and reason says which and why.
 *     A remote stream cut after its first byte is never retried nor fallen
 *     back from: answered = false, cut = true, the partial text kept.
 *   - Costs: remote usage from the server's answer (estimated with the local
 *     tokenizer when the server sends none: usage_estimated) times the
 *     remote prices; local from the local token counts times the local
 *     prices; cost_if_remote prices this answer's token counts remotely.
 *   - The API key is read from the environment variable the config names,
 *     once, and handed to the remote client; nothing here prints or keeps it.
 *   - A router made by slm_router_new is used by one thread at a time. One
 *     made by slm_router_new_with (a local backend: `slm serve --router`
 *     answers locally through its scheduler) may be used by many threads
 *     at once: the classifier and the remote client are created and the
 *     classifier run under the router's mutex; the remote client is
 *     thread-safe itself.
 */
#ifndef SLM_ROUTE_ROUTER_H
#define SLM_ROUTE_ROUTER_H

#include "policy.h"
#include "remote.h"
#include "router_config.h"

typedef struct slm_router slm_router;

typedef struct {
    bool answered, cut;
    slm_route_side route; /* the side that answered (or last tried) */
    slm_route_side decided; /* the side the policy chose */
    bool fallback;
    char reason[1024];
    bool classified;
    char label[64];
    double score;
    char *answer; /* malloc'd, NUL-terminated ("" when none) */
    size_t len;
    int prompt_tokens, completion_tokens;
    bool usage_estimated;
    int attempts; /* remote HTTP attempts (0 when the remote was not asked) */
    double latency_ms;
    double cost_usd, cost_if_remote_usd;
    char error[1024]; /* when !answered: one line */
} slm_route_result;

void slm_route_result_free(slm_route_result *r);

/* Text of the answer as it is produced (local tokens, remote SSE deltas). */
typedef bool (*slm_route_text_fn)(void *user, const char *text, size_t len);

/* cfg must outlive the router. */
slm_status slm_router_new(const slm_router_config *cfg, slm_router **out, slm_error *err);

/* Local answers from elsewhere than the router's own session. Every
 * function may be called from several threads at once. */
typedef struct {
    void *user;
    /* The rendered messages' token count and the local context; false with
     * why (the local side cannot answer). */
    bool (*count)(void *user, const slm_chat_message *msgs, size_t n, int *n_prompt, int *n_ctx,
                  char *why, size_t cap);
    /* The answer: text to on_text as produced, the token counts; false with
     * why. */
    bool (*generate)(void *user, const slm_chat_message *msgs, size_t n, int max_tokens,
                     slm_route_text_fn on_text, void *text_user, int *n_prompt, int *n_generated,
                     char *why, size_t cap);
    /* Tokens of text in the local tokenizer; -1 when unknown. */
    int (*count_text)(void *user, const char *text);
} slm_router_local_backend;

/* A router whose local side is *local (copied; its user must outlive the
 * router). The classifier and the remote client are made now, so a bad
 * classifier is an error here. */
slm_status slm_router_new_with(const slm_router_config *cfg, const slm_router_local_backend *local,
                               slm_router **out, slm_error *err);
void slm_router_free(slm_router *r);

/* Answers system (may be NULL) + prompt. max_tokens > 0 overrides both
 * sides' max_tokens. */
void slm_router_answer(slm_router *r, const char *system, const char *prompt,
                       slm_route_force force, int max_tokens, slm_route_text_fn on_text,
                       void *user, slm_route_result *res);

/* Called once, just before the first answer byte is passed on, with the
 * result so far: route, fallback, reason and classifier are final then;
 * usage and costs are not known yet. */
typedef void (*slm_route_first_fn)(void *user, const slm_route_result *so_far);

/* The same for a conversation: the classifier reads the last user message.
 * on_first may be NULL. */
void slm_router_answer_messages(slm_router *r, const slm_chat_message *msgs, size_t n,
                                slm_route_force force, int max_tokens, slm_route_text_fn on_text,
                                slm_route_first_fn on_first, void *user, slm_route_result *res);

/* The classifier alone (loading it if needed): facts->classified etc. */
slm_status slm_router_classify(slm_router *r, const char *prompt, slm_route_facts *facts,
                               slm_error *err);

/* Tokens of text in the local model's tokenizer (an estimate of another
 * model's count); -1 when the local model cannot be loaded. */
int slm_router_count_tokens(slm_router *r, const char *text);

const slm_router_config *slm_router_config_of(const slm_router *r);

/* The local context (config ctx or the model's positions); 0 when the local
 * model cannot be loaded. */
int slm_router_local_ctx(slm_router *r);

#endif /* SLM_ROUTE_ROUTER_H */
