/*
 * report.h — what `slm route`, `slm eval` and the server report about
 * routed answers: a result as the documented --json object, and the
 * latency percentiles of a batch.
 */
#ifndef SLM_ROUTE_REPORT_H
#define SLM_ROUTE_REPORT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "router.h"

/* {"route", "fallback", "reason", "classifier": {"label", "score"} | null,
 *  "answer", "usage": {"prompt_tokens", "completion_tokens"}, "attempts",
 *  "latency_ms", "cost_usd", "cost_if_remote_usd"} plus "error" and "cut"
 * when not answered; with_answer false leaves "answer" out (the server's
 * "slm" object). NULL when out of memory. */
cJSON *slm_route_result_json(const slm_route_result *r, bool with_answer);

/* The p-th percentile (0..100, nearest rank) of v[0..n) (sorted in place);
 * 0 when n is 0. */
double slm_percentile(double *v, size_t n, double p);

#endif /* SLM_ROUTE_REPORT_H */
