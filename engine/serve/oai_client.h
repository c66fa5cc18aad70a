/*
 * oai_client.h — the client direction of oai.h's OpenAI JSON mapping, used by
 * the router's remote client (engine/route/remote.c): a chat request body
 * written from the same slm_oai_request the server parses, and the server's
 * answers (a whole completion, SSE events and their chunks, error bodies)
 * read back into oai.h's types. No I/O.
 *
 * Contract:
 *   - What slm_oai_completion_json / slm_oai_chunk_sse / slm_oai_usage_sse /
 *     slm_oai_error_json write, these parsers read back unchanged
 *     (tests/test_route_oai_client.c checks the round trips); any
 *     OpenAI-compatible server's answers parse the same way.
 *   - Parsers take untrusted bytes; a malformed answer is false with an
 *     slm_oai_error (status 0) whose message names the part at fault, never
 *     more than 200 bytes of what the server sent.
 *   - Builders return malloc'd strings (NULL only when out of memory).
 */
#ifndef SLM_SERVE_OAI_CLIENT_H
#define SLM_SERVE_OAI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "oai.h"

/* The body of POST /chat/completions for r (kind SLM_OAI_CHAT): model,
 * messages, and only the sampling fields OpenAI itself accepts
 * (temperature, top_p, seed, stop, max_tokens, stream, stream_options). */
char *slm_oai_chat_request_json(const slm_oai_request *r, const char *model);

/* A non-streamed chat or text completion: the first choice's text. */
typedef struct {
    char *text; /* malloc'd, NUL-terminated */
    size_t len;
    char finish_reason[32]; /* "" when null */
    bool has_usage;
    slm_oai_usage usage;
    char model[128];
} slm_oai_response;

void slm_oai_response_free(slm_oai_response *r);
bool slm_oai_parse_response(const char *body, size_t len, slm_oai_response *out,
                            slm_oai_error *e);

/* One SSE event's data: "[DONE]", a chunk, a usage chunk or an error. */
typedef struct {
    bool done;           /* data: [DONE] */
    bool is_error;       /* {"error": ...}: `error` filled */
    const char *text;    /* delta content (chat) or text (completions); points into `buf` */
    size_t len;
    char finish_reason[32];
    bool has_usage;
    slm_oai_usage usage;
    slm_oai_error error;
    char *buf;           /* owned */
} slm_oai_chunk;

void slm_oai_chunk_free(slm_oai_chunk *c);
bool slm_oai_parse_chunk(const char *data, size_t len, slm_oai_chunk *out, slm_oai_error *e);

/* An error body {"error": {"message", "type", "param", "code"}} (or any
 * other text) of an HTTP status into e; type and code point at static
 * strings ("server_error" ...), the message is cut to fit. */
void slm_oai_parse_error_body(int status, const char *body, size_t len, slm_oai_error *e);

/* Server-Sent Events framing: bytes in, one callback per event with its
 * data lines joined by "\n" (comments, event:, id: and retry: ignored;
 * LF or CRLF line ends). */
typedef bool (*slm_sse_event_fn)(void *user, const char *data, size_t len);
typedef struct {
    char *line;      /* the line being read */
    size_t n, cap;
    char *data;      /* the event's data so far */
    size_t dn, dcap;
    bool has_data;
    size_t max_bytes; /* a line or event above this fails the feed (0: 16 MiB) */
} slm_sse_parser;

void slm_sse_init(slm_sse_parser *p);
void slm_sse_free(slm_sse_parser *p);
/* false when out of memory, over max_bytes, or when fn returned false. */
bool slm_sse_feed(slm_sse_parser *p, const char *bytes, size_t len, slm_sse_event_fn fn,
                  void *user);

#endif /* SLM_SERVE_OAI_CLIENT_H */
