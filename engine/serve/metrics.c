/*
 * metrics.c — Prometheus counters of the server (see metrics.h).
 */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Latency buckets in seconds (upper bounds; +Inf is implicit). */
static const double bucket_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                       1,     2.5,  5,     10,   30,  60,  120};
#define N_BUCKETS (sizeof bucket_bounds / sizeof bucket_bounds[0])
#define N_STATUS 600

typedef struct {
    unsigned long long counts[N_BUCKETS + 1]; /* the last one is +Inf */
    unsigned long long n;
    double sum;
} histogram;

struct slm_metrics {
    pthread_mutex_t mu;
    int running, waiting;
    unsigned long long prompt_tokens, cached_tokens, generated_tokens, generations;
    histogram ttft, latency;
    unsigned long long by_status[N_STATUS];
};

slm_metrics *slm_metrics_new(void)
{
    slm_metrics *m = calloc(1, sizeof *m);
    if (m && pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

void slm_metrics_free(slm_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void slm_metrics_set_load(slm_metrics *m, int running, int waiting)
{
    pthread_mutex_lock(&m->mu);
    m->running = running;
    m->waiting = waiting;
    pthread_mutex_unlock(&m->mu);
}

void slm_metrics_add_tokens(slm_metrics *m, int prompt, int cached, int generated)
{
    pthread_mutex_lock(&m->mu);
    m->prompt_tokens += (unsigned long long)(prompt > 0 ? prompt : 0);
    m->cached_tokens += (unsigned long long)(cached > 0 ? cached : 0);
    m->generated_tokens += (unsigned long long)(generated > 0 ? generated : 0);
    m->generations++;
    pthread_mutex_unlock(&m->mu);
}

static void observe(histogram *h, double v)
{
    size_t i = 0;
    while (i < N_BUCKETS && v > bucket_bounds[i])
        i++;
    h->counts[i]++;
    h->n++;
    h->sum += v;
}

void slm_metrics_observe_ttft(slm_metrics *m, double seconds)
{
    pthread_mutex_lock(&m->mu);
    observe(&m->ttft, seconds);
    pthread_mutex_unlock(&m->mu);
}

void slm_metrics_observe_request(slm_metrics *m, int status, double seconds)
{
    pthread_mutex_lock(&m->mu);
    if (status >= 100 && status < N_STATUS)
        m->by_status[status]++;
    observe(&m->latency, seconds);
    pthread_mutex_unlock(&m->mu);
}

/* A growable text buffer; on allocation failure it drops the text. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} text_buf;

static void put(text_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void put_histogram(text_buf *b, const char *name, const char *help, const histogram *h)
{
    put(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cum += h->counts[i];
        put(b, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_bounds[i], cum);
    }
    cum += h->counts[N_BUCKETS];
    put(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, cum, name, h->sum,
        name, h->n);
}

static void put_counter(text_buf *b, const char *name, const char *help, unsigned long long v)
{
    put(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

char *slm_metrics_render(slm_metrics *m)
{
    text_buf b = {0};
    pthread_mutex_lock(&m->mu);
    put(&b, "# HELP slm_requests_running Generations decoding in a slot.\n"
            "# TYPE slm_requests_running gauge\nslm_requests_running %d\n", m->running);
    put(&b, "# HELP slm_requests_waiting Generations queued for a slot.\n"
            "# TYPE slm_requests_waiting gauge\nslm_requests_waiting %d\n", m->waiting);
    put_counter(&b, "slm_prompt_tokens_total", "Prompt tokens of finished generations.",
                m->prompt_tokens);
    put_counter(&b, "slm_prompt_tokens_cached_total",
                "Prompt tokens served from a slot's KV cache.", m->cached_tokens);
    put_counter(&b, "slm_generated_tokens_total", "Tokens generated.", m->generated_tokens);
    put_counter(&b, "slm_generations_total", "Finished generations.", m->generations);
    put_histogram(&b, "slm_time_to_first_token_seconds",
                  "From the request's arrival to its first generated token.", &m->ttft);
    put_histogram(&b, "slm_request_duration_seconds",
                  "End-to-end HTTP request latency (streams until their last byte).",
                  &m->latency);
    put(&b, "# HELP slm_http_requests_total HTTP requests answered, by status.\n"
            "# TYPE slm_http_requests_total counter\n");
    for (int s = 100; s < N_STATUS; s++)
        if (m->by_status[s])
            put(&b, "slm_http_requests_total{status=\"%d\"} %llu\n", s, m->by_status[s]);
    put(&b, "# HELP slm_errors_total HTTP error responses (status >= 400), by status.\n"
            "# TYPE slm_errors_total counter\n");
    for (int s = 400; s < N_STATUS; s++)
        if (m->by_status[s])
            put(&b, "slm_errors_total{status=\"%d\"} %llu\n", s, m->by_status[s]);
    pthread_mutex_unlock(&m->mu);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
