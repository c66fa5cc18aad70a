/*
 * retry.h — the remote client's retry rules as pure functions (no clock,
 * no randomness of their own), so tests/test_route_policy.c checks the
 * schedule exactly: which outcomes are retried, the capped exponential
 * backoff with jitter, and Retry-After / retry-after-ms.
 */
#ifndef SLM_ROUTE_RETRY_H
#define SLM_ROUTE_RETRY_H

#include <stdbool.h>
#include <time.h>

/* Statuses worth another attempt: 408, 409, 429 and 5xx. Other 4xx are the
 * request's own fault and never retried. */
bool slm_retry_status(int http_status);

/* Delay before retry number `retry` (0 = the first retry): the base delay
 * initial * 2^retry capped at max, then "equal jitter": half of it fixed,
 * the other half scaled by u in [0, 1) (the caller's random number), so
 * retries of many clients spread out but never wait less than half. */
double slm_backoff_seconds(int retry, double initial, double max, double u);

/* Parses a Retry-After value: delay-seconds ("120", "1.5") or an HTTP date
 * (RFC 9110: IMF-fixdate, RFC 850, asctime) relative to `now`. false when
 * unparseable; a date in the past is 0. */
bool slm_parse_retry_after(const char *value, time_t now, double *seconds);
/* retry-after-ms (OpenAI's, milliseconds, may be fractional). */
bool slm_parse_retry_after_ms(const char *value, double *seconds);

/* The wait before the next attempt: the server's hint (hint < 0: none),
 * capped at hint_max, else the backoff. */
double slm_retry_wait(double hint, double hint_max, double backoff);

#endif /* SLM_ROUTE_RETRY_H */
