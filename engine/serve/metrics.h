/*
 * metrics.h — the counters behind `GET /metrics`, in Prometheus' text
 * format: requests running and waiting, prompt / cached / generated token
 * counters, time-to-first-token and end-to-end latency histograms, and
 * responses by status. All names start with slm_ and have no colons.
 *
 * Contract: every call is thread-safe (one mutex; the scheduler and the HTTP
 * threads update it); the object is owned by the server, no globals.
 */
#ifndef SLM_SERVE_METRICS_H
#define SLM_SERVE_METRICS_H

#include <stddef.h>

typedef struct slm_metrics slm_metrics;

slm_metrics *slm_metrics_new(void);
void slm_metrics_free(slm_metrics *m);

/* Gauges, set by the scheduler after each change. */
void slm_metrics_set_load(slm_metrics *m, int running, int waiting);
/* One finished generation's counts. */
void slm_metrics_add_tokens(slm_metrics *m, int prompt, int cached, int generated);
void slm_metrics_observe_ttft(slm_metrics *m, double seconds);
/* One answered HTTP request: its status and end-to-end seconds. */
void slm_metrics_observe_request(slm_metrics *m, int status, double seconds);

/* The exposition text (malloc'd; NULL when out of memory). */
char *slm_metrics_render(slm_metrics *m);

#endif /* SLM_SERVE_METRICS_H */
