/*
 * router_config.h — router.json: the local model, the remote endpoint, the
 * classifier and the fallback switch (README "Routing" documents every key).
 *
 * Contract:
 *   - Every error is one line naming the file and the key at fault
 *     ("router.json: remote.timeout.connect: expected a number > 0"):
 *     unknown keys, wrong types, out-of-range values, and model folders
 *     that do not exist (naming the path tried) are all errors.
 *   - Relative model paths are tried from the current directory first, then
 *     from the config file's directory; the resolved path is stored.
 *   - The API key itself is never in the config: only the name of the
 *     environment variable holding it (remote.api_key_env).
 */
#ifndef SLM_ROUTE_ROUTER_CONFIG_H
#define SLM_ROUTE_ROUTER_CONFIG_H

#include <stdbool.h>

#include "remote.h"
#include "slm.h"

typedef struct {
    char *model; /* resolved folder */
    double price_in, price_out; /* USD per 1M tokens */
    int max_tokens;
    int ctx; /* 0: the model's positions */
    double temperature;
} slm_router_local;

typedef struct {
    char *base_url, *model, *api_key_env;
    double price_in, price_out;
    int max_tokens;
    double temperature;
    slm_remote_options options; /* base_url and model point at the strings above */
} slm_router_remote;

typedef struct {
    bool present;
    char *model; /* resolved folder */
    char *label;
    double threshold;
} slm_router_classifier;

typedef struct {
    slm_router_local local;
    slm_router_remote remote;
    slm_router_classifier classifier;
    bool fallback;
} slm_router_config;

/* Reads and checks path; on error *out is left empty (safe to free). */
slm_status slm_router_config_load(const char *path, slm_router_config *out, slm_error *err);
/* The same from text already read; `name` is what messages call it. */
slm_status slm_router_config_parse(const char *text, size_t len, const char *name,
                                   const char *base_dir, slm_router_config *out, slm_error *err);
void slm_router_config_free(slm_router_config *c);

#endif /* SLM_ROUTE_ROUTER_CONFIG_H */
