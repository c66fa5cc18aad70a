/*
 * oai.h — the OpenAI JSON mapping of `slm serve`, with no I/O: request
 * bodies parsed into engine inputs (messages or a prompt, sampling, stops),
 * and the JSON the clients expect back (completions, SSE chunks, usage,
 * models, tokenize, classify, errors).
 *
 * Contract:
 *   - Every parse function takes the raw body (untrusted, any bytes) and
 *     either fills its output or an slm_oai_error naming the field at fault
 *     ("messages[1].content: ..."); it never echoes more than a field name
 *     back, so an error message never carries the client's content.
 *   - Unknown fields are ignored, as OpenAI does; known fields of the wrong
 *     type or out of range are 400s.
 *   - Every builder returns a malloc'd NUL-terminated string (NULL only when
 *     out of memory); text given as (pointer, length) may hold any bytes:
 *     NUL bytes become U+FFFD so no client sees a string cut short.
 */
#ifndef SLM_SERVE_OAI_H
#define SLM_SERVE_OAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm.h"

/* An HTTP error in OpenAI's shape: {"error": {"message", "type", "param", "code"}}. */
typedef struct {
    int status;       /* 400, 401, 404, ... */
    const char *type; /* "invalid_request_error", "server_error", ... (static) */
    const char *code; /* "context_length_exceeded", ... or NULL (static) */
    char param[64];   /* the offending field, "" when none */
    char message[512];
} slm_oai_error;

/* Fills e; returns false so a parse path reads `return slm_oai_fail(...)`. */
bool slm_oai_fail(slm_oai_error *e, int status, const char *code, const char *param,
                  const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

typedef enum { SLM_OAI_CHAT, SLM_OAI_COMPLETION } slm_oai_kind;

/* A parsed /v1/chat/completions or /v1/completions request; owns its strings. */
typedef struct {
    slm_oai_kind kind;
    slm_chat_message *messages; /* chat: n_messages >= 1, role and content owned */
    size_t n_messages;
    char *prompt;        /* completion given as text (owned; may be "") */
    int32_t *prompt_ids; /* completion given as token ids (owned) */
    size_t n_prompt_ids;
    int max_tokens;      /* -1: until the context is full */
    slm_sampler_params sampling;
    bool seed_given;     /* false: the caller picks a fresh seed */
    char **stop;         /* non-empty strings, owned */
    size_t n_stop;
    bool stream;
    bool include_usage;  /* stream_options.include_usage */
} slm_oai_request;

void slm_oai_request_free(slm_oai_request *r);

bool slm_oai_parse_chat(const char *body, size_t len, slm_oai_request *out, slm_oai_error *e);
bool slm_oai_parse_completion(const char *body, size_t len, slm_oai_request *out,
                              slm_oai_error *e);

/* /tokenize {"content": str, "add_special": bool}; /detokenize {"tokens": [int]}. */
typedef struct {
    char *content;
    bool add_special;
    int32_t *ids;
    size_t n_ids;
} slm_oai_tokens_request;

void slm_oai_tokens_request_free(slm_oai_tokens_request *r);
bool slm_oai_parse_tokenize(const char *body, size_t len, slm_oai_tokens_request *out,
                            slm_oai_error *e);
bool slm_oai_parse_detokenize(const char *body, size_t len, slm_oai_tokens_request *out,
                              slm_oai_error *e);

/* /v1/classify {"input": str | [str, ...]}: at most SLM_OAI_MAX_CLASSIFY texts. */
#define SLM_OAI_MAX_CLASSIFY 256
typedef struct {
    char **texts;
    size_t n;
} slm_oai_classify_request;

void slm_oai_classify_request_free(slm_oai_classify_request *r);
bool slm_oai_parse_classify(const char *body, size_t len, slm_oai_classify_request *out,
                            slm_oai_error *e);

/* What the client is told about a finished generation. */
typedef struct {
    int prompt_tokens;
    int cached_tokens; /* of prompt_tokens, served from the KV cache */
    int completion_tokens;
} slm_oai_usage;

/* "stop" or "length" for a stop reason (eos, stop string, callback: stop). */
const char *slm_oai_finish_reason(slm_stop_reason reason);

/* Identity of one response: every chunk of a stream carries the same. */
typedef struct {
    slm_oai_kind kind;
    const char *id;    /* "chatcmpl-..." / "cmpl-..." */
    long long created; /* Unix seconds */
    const char *model;
} slm_oai_meta;

/* The whole non-streamed answer. */
char *slm_oai_completion_json(const slm_oai_meta *m, const char *text, size_t len,
                              const char *finish_reason, const slm_oai_usage *u);

/* One SSE event "data: {...}\n\n" of a stream: `first` adds the chat
 * delta's role, finish_reason NULL means more follows, include_usage adds
 * "usage": null as OpenAI does on every chunk but the usage one. */
char *slm_oai_chunk_sse(const slm_oai_meta *m, const char *text, size_t len, bool first,
                        const char *finish_reason, bool include_usage);
/* The usage chunk (empty choices) and the closing event. */
char *slm_oai_usage_sse(const slm_oai_meta *m, const slm_oai_usage *u);
char *slm_oai_done_sse(void);
/* An error inside a stream that already sent its 200: "data: {"error": ...}\n\n". */
char *slm_oai_error_sse(const slm_oai_error *e);

char *slm_oai_error_json(const slm_oai_error *e);
char *slm_oai_models_json(const char *model, long long created);
char *slm_oai_model_json(const char *model, long long created);
char *slm_oai_tokens_json(const int32_t *ids, size_t n);
char *slm_oai_content_json(const char *text, size_t len);
/* probs: n x n_labels, labels[i] the name of label i. */
char *slm_oai_classify_json(const char *model, const float *probs, size_t n, int n_labels,
                            const char *const *labels);

#endif /* SLM_SERVE_OAI_H */
