/*
 * remote.h — the router's client of an OpenAI-compatible server (OpenAI,
 * vLLM, llama-server, LiteLLM, `slm serve`): POST {base_url}/chat/completions
 * on libcurl, streamed (SSE) or not.
 *
 * Contract:
 *   - Timeouts: connect, first byte (no response byte yet: the attempt is
 *     ended), total (the whole attempt).
 *   - Retries (at most `retries` more attempts) on connection errors,
 *     timeouts, 408, 409, 429 and 5xx, after slm_backoff_seconds (capped
 *     exponential, jittered) or the server's Retry-After / retry-after-ms
 *     capped at retry_after_max. Never on other 4xx or a malformed answer,
 *     and never once a byte of a streamed answer was passed to on_text: a
 *     failure after that is SLM_REMOTE_CUT with the partial text kept.
 *   - After allowed_fails consecutive failed calls the remote is skipped
 *     (SLM_REMOTE_COOLDOWN, no request made) for cooldown seconds; the first
 *     call after that is tried, and a success clears the count.
 *   - The API key is sent only as "Authorization: Bearer KEY". It is never
 *     copied into a result, reason or error: text the server sends back is
 *     scrubbed of it before it is kept.
 *   - One slm_remote may be used by several threads at once (`slm serve
 *     --router`): its failure count, cooldown and the jitter's random state
 *     are under its own mutex; each call has its own libcurl handles.
 *     Nothing global.
 */
#ifndef SLM_ROUTE_REMOTE_H
#define SLM_ROUTE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "oai.h"
#include "slm.h"

typedef struct {
    const char *base_url; /* ".../v1" (a trailing slash is fine) */
    const char *model;
    const char *api_key; /* NULL or "": no Authorization header */
    double connect_s, first_byte_s, total_s;
    int retries;
    double backoff_initial_s, backoff_max_s;
    double retry_after_max_s;
    int allowed_fails;
    double cooldown_s;
    bool stream;
} slm_remote_options;

/* The defaults of router.json (README "Routing"). */
slm_remote_options slm_remote_options_default(void);

typedef enum {
    SLM_REMOTE_OK,          /* answered */
    SLM_REMOTE_UNAVAILABLE, /* failed before any answer byte was passed on: a fallback may answer */
    SLM_REMOTE_CUT,         /* failed after part of the answer was passed on: no retry, no fallback */
    SLM_REMOTE_COOLDOWN,    /* skipped: too many consecutive failures lately */
} slm_remote_outcome;

typedef struct {
    slm_remote_outcome outcome;
    char *text; /* the answer, or the part received (CUT); malloc'd, may be NULL */
    size_t len;
    bool has_usage; /* usage came from the server */
    slm_oai_usage usage;
    char finish_reason[32];
    int attempts;    /* HTTP requests made */
    int http_status; /* of the last attempt; 0 when none arrived */
    bool retryable;  /* the last failure was of a retried kind */
    char reason[512]; /* one line: why it failed (never the key) */
    double seconds;   /* wall time of the call */
} slm_remote_result;

void slm_remote_result_free(slm_remote_result *r);

typedef struct slm_remote slm_remote;

/* Streamed answer text, as it arrives; return false to stop (counts as a cut). */
typedef bool (*slm_remote_text_fn)(void *user, const char *text, size_t len);

/* Copies o's strings. SLM_ERR_INVALID_ARG names the option at fault. */
slm_status slm_remote_new(const slm_remote_options *o, slm_remote **out, slm_error *err);
void slm_remote_free(slm_remote *r);

/* Sends req (its messages and sampling; stream and include_usage are the
 * options') and fills res. on_text (may be NULL) gets streamed text. */
void slm_remote_chat(slm_remote *r, const slm_oai_request *req, slm_remote_text_fn on_text,
                     void *user, slm_remote_result *res);

/* Consecutive failed calls so far, and whether a call now would be skipped. */
int slm_remote_failures(slm_remote *r);
bool slm_remote_cooling(slm_remote *r);

#endif /* SLM_ROUTE_REMOTE_H */
