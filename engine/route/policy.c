/*
 * policy.c — the routing rules and the cost formula (see policy.h).
 */
#include "policy.h"

#include <stdio.h>
#include <string.h>

const char *slm_route_side_name(slm_route_side s)
{
    return s == SLM_ROUTE_LOCAL ? "local" : "remote";
}

bool slm_route_force_parse(const char *s, slm_route_force *out)
{
    if (strcmp(s, "local") == 0)
        *out = SLM_FORCE_LOCAL;
    else if (strcmp(s, "remote") == 0)
        *out = SLM_FORCE_REMOTE;
    else if (strcmp(s, "auto") == 0)
        *out = SLM_FORCE_NONE;
    else
        return false;
    return true;
}

slm_route_side slm_route_decide(const slm_router_config *c, slm_route_force force,
                                const slm_route_facts *f, char *reason, size_t cap)
{
    if (force != SLM_FORCE_NONE) {
        snprintf(reason, cap, "forced %s", force == SLM_FORCE_LOCAL ? "local" : "remote");
        return force == SLM_FORCE_LOCAL ? SLM_ROUTE_LOCAL : SLM_ROUTE_REMOTE;
    }
    if (f->counted && (long long)f->n_prompt + c->local.max_tokens > f->n_ctx) {
        snprintf(reason, cap,
                 "context: the prompt's %d tokens + max_tokens %d do not fit the local context of %d",
                 f->n_prompt, c->local.max_tokens, f->n_ctx);
        return SLM_ROUTE_REMOTE;
    }
    if (!c->classifier.present || !f->classified) {
        snprintf(reason, cap, "no classifier configured: remote by default");
        return SLM_ROUTE_REMOTE;
    }
    if (f->label_score > c->classifier.threshold) {
        snprintf(reason, cap, "classifier: %s %.3f > threshold %.2f", c->classifier.label,
                 f->label_score, c->classifier.threshold);
        return SLM_ROUTE_LOCAL;
    }
    snprintf(reason, cap, "classifier: %s %.3f <= threshold %.2f (top label %s %.3f)",
             c->classifier.label, f->label_score, c->classifier.threshold, f->top_label,
             f->top_score);
    return SLM_ROUTE_REMOTE;
}

double slm_cost_usd(long long tokens_in, long long tokens_out, double price_in, double price_out)
{
    return ((double)tokens_in * price_in + (double)tokens_out * price_out) / 1e6;
}
