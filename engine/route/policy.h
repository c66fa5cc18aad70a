/*
 * policy.h — where a query goes, and what an answer cost, as pure
 * functions of the config and what is known about the query (no model, no
 * network), so tests/test_route_policy.c checks every rule.
 *
 * Rules, in order: --force wins; a prompt whose tokens plus the local
 * max_tokens do not fit the local context goes remote; no classifier
 * configured goes remote; otherwise the classifier's probability of the
 * configured label above the threshold goes local, anything else remote.
 */
#ifndef SLM_ROUTE_POLICY_H
#define SLM_ROUTE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "router_config.h"

typedef enum { SLM_ROUTE_LOCAL, SLM_ROUTE_REMOTE } slm_route_side;
typedef enum { SLM_FORCE_NONE, SLM_FORCE_LOCAL, SLM_FORCE_REMOTE } slm_route_force;

const char *slm_route_side_name(slm_route_side s);
/* "local" / "remote" (and "auto" as none); false when unknown. */
bool slm_route_force_parse(const char *s, slm_route_force *out);

typedef struct {
    bool counted;      /* n_prompt / n_ctx known (the local model was loaded) */
    int n_prompt, n_ctx;
    bool classified;   /* the classifier ran */
    char top_label[64]; /* its most probable label and that probability */
    double top_score;
    double label_score; /* the probability of the configured label */
} slm_route_facts;

/* The side and a one-line reason ("classifier: SIMPLE 0.93 > 0.85"). */
slm_route_side slm_route_decide(const slm_router_config *c, slm_route_force force,
                                const slm_route_facts *f, char *reason, size_t cap);

/* USD for tokens at prices in USD per 1M tokens. */
double slm_cost_usd(long long tokens_in, long long tokens_out, double price_in, double price_out);

#endif /* SLM_ROUTE_POLICY_H */
