/*
 * route_serve.h — `slm serve --router F`: the OpenAI-compatible server of
 * engine/serve/ in front of the hybrid router. It plugs into the server as
 * its router hook (handlers.h's slm_serve_router): POST
 * /v1/chat/completions goes through the router, everything else is the
 * plain server's.
 *
 * Contract:
 *   - The request's "model" picks the policy: "auto" (or absent) routes,
 *     "local" / "remote" force a side (so do the local model's folder name
 *     and the remote model's name); anything else is a 404 model_not_found.
 *   - Local answers are jobs of the server's own scheduler (the model of
 *     router.json's local.model, batched with the other slots); remote ones
 *     go through the router's remote client, shared by every request (so
 *     its cooldown counts failures across requests). Fallbacks and costs
 *     are the router's (router.h), the sampling of each side router.json's.
 *   - Every answer carries "slm": {"route", "fallback", "reason",
 *     "classifier", "cost_usd", "cost_if_remote_usd"} (plus "usage" of the
 *     side that answered, and "error"/"cut" when it failed). A stream's
 *     first chunk carries it as soon as the answering side is known, with
 *     cost_usd and cost_if_remote_usd null (not known yet; no usage, latency_ms
 *     or attempts either); its last chunk
 *     (the one with finish_reason) carries it complete.
 *   - The HTTP status is decided before the first byte: neither side
 *     answering is a 502 route_failed error body with the "slm" object; a
 *     remote stream cut after its first byte ends the SSE stream with an
 *     error event and [DONE].
 *   - /metrics gains slm_router_* counters: requests, fallbacks, tokens and
 *     cost per answering route, failures, and what all would have cost
 *     remotely.
 *   - Each request runs on a thread of its own; slm_route_service_free waits
 *     for those still running.
 */
#ifndef SLM_ROUTE_ROUTE_SERVE_H
#define SLM_ROUTE_ROUTE_SERVE_H

#include "handlers.h"
#include "router_config.h"

typedef struct slm_route_service slm_route_service;

/* cfg must outlive the service. Loads the classifier (its errors name the
 * key) and makes the remote client. */
slm_status slm_route_service_new(const slm_router_config *cfg, slm_route_service **out,
                                 slm_error *err);
/* The hook for slm_serve_config.router (valid while s lives). */
const slm_serve_router *slm_route_service_hook(slm_route_service *s);
/* Call after the server stopped: waits for running requests, frees. */
void slm_route_service_free(slm_route_service *s);

#endif /* SLM_ROUTE_ROUTE_SERVE_H */
