/*
 * remote.c — the OpenAI-compatible client on libcurl (see remote.h): one
 * easy handle per attempt, the body built and the answer read by
 * engine/serve/oai_client.c, the retry rules of retry.c, the first-byte
 * timeout from libcurl's progress callback (libcurl has none of its own).
 */
#define _POSIX_C_SOURCE 200809L
#include "remote.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "error.h"
#include "oai_client.h"
#include "retry.h"

#define MAX_BODY (8u << 20)

struct slm_remote {
    slm_remote_options o;
    char *base_url, *model, *api_key;
    pthread_mutex_t mu; /* guards failures, cooldown_until and rng */
    int failures;
    double cooldown_until; /* monotonic seconds */
    uint64_t rng;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static double next_uniform(slm_remote *r)
{
    pthread_mutex_lock(&r->mu);
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    double u = (double)(r->rng >> 11) / 9007199254740992.0;
    pthread_mutex_unlock(&r->mu);
    return u;
}

slm_remote_options slm_remote_options_default(void)
{
    slm_remote_options o = {0};
    o.base_url = "https://api.openai.com/v1";
    o.model = "gpt-4o";
    o.connect_s = 5;
    o.first_byte_s = 30;
    o.total_s = 120;
    o.retries = 2;
    o.backoff_initial_s = 0.5;
    o.backoff_max_s = 8;
    o.retry_after_max_s = 30;
    o.allowed_fails = 3;
    o.cooldown_s = 60;
    o.stream = true;
    return o;
}

static char *dup_s(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

slm_status slm_remote_new(const slm_remote_options *o, slm_remote **out, slm_error *err)
{
    *out = NULL;
    if (!o->base_url || strncmp(o->base_url, "http", 4) != 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "remote.base_url: expected an http:// or https:// URL");
    if (!o->model || !o->model[0])
        return slm_fail(err, SLM_ERR_INVALID_ARG, "remote.model: must not be empty");
    if (o->connect_s <= 0 || o->first_byte_s <= 0 || o->total_s <= 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "remote.timeout: every timeout must be > 0");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return slm_fail(err, SLM_ERR_IO, "libcurl failed to initialise");
    slm_remote *r = calloc(1, sizeof *r);
    if (!r)
        return slm_fail_nomem(err, "remote client");
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return slm_fail_nomem(err, "remote client");
    }
    r->o = *o;
    r->base_url = dup_s(o->base_url);
    r->model = dup_s(o->model);
    r->api_key = o->api_key && o->api_key[0] ? dup_s(o->api_key) : NULL;
    if (!r->base_url || !r->model || (o->api_key && o->api_key[0] && !r->api_key)) {
        slm_remote_free(r);
        return slm_fail_nomem(err, "remote client");
    }
    size_t n = strlen(r->base_url);
    while (n > 0 && r->base_url[n - 1] == '/')
        r->base_url[--n] = '\0';
    r->rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)r ^
             (uint64_t)(now_s() * 1e9);
    if (!r->rng)
        r->rng = 1;
    r->o.base_url = r->base_url;
    r->o.model = r->model;
    r->o.api_key = NULL; /* only r->api_key holds it */
    *out = r;
    return SLM_OK;
}

void slm_remote_free(slm_remote *r)
{
    if (!r)
        return;
    free(r->base_url);
    free(r->model);
    if (r->api_key) {
        volatile char *k = r->api_key;
        while (*k)
            *k++ = 0;
        free(r->api_key);
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int slm_remote_failures(slm_remote *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->failures;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* With r->mu held: skipped now, and for how many more seconds. */
static bool cooling_locked(const slm_remote *r, double *left)
{
    double t = now_s();
    *left = r->cooldown_until - t;
    return r->o.allowed_fails > 0 && r->failures >= r->o.allowed_fails && t < r->cooldown_until;
}

bool slm_remote_cooling(slm_remote *r)
{
    double left;
    pthread_mutex_lock(&r->mu);
    bool c = cooling_locked(r, &left);
    pthread_mutex_unlock(&r->mu);
    return c;
}

void slm_remote_result_free(slm_remote_result *r)
{
    if (r) {
        free(r->text);
        memset(r, 0, sizeof *r);
    }
}

/* Replaces every occurrence of the key in s with "***" (in place; shorter
 * or equal in length only when the key is at least 3 bytes, else the key
 * is blanked by '*'s of its own length). */
static void scrub(char *s, const char *key)
{
    if (!key || !key[0])
        return;
    size_t k = strlen(key);
    char *p;
    while ((p = strstr(s, key)) != NULL) {
        size_t stars = k < 3 ? k : 3;
        memset(p, '*', stars);
        memmove(p + stars, p + k, strlen(p + k) + 1);
    }
}

/* ------------------------------------------------------------ one attempt */

typedef struct {
    slm_remote *r;
    slm_remote_result *res;
    slm_remote_text_fn on_text;
    void *user;
    double t0;
    long status; /* from the status line */
    bool got_byte, first_byte_timeout, sse, delivered, user_stopped;
    bool done, stream_error, bad_chunk, too_big;
    char ra[64], ra_ms[64];
    char *body;
    size_t blen, bcap;
    slm_sse_parser parser;
    slm_oai_error serr;
    char *text;
    size_t tlen, tcap;
} attempt;

static bool buf_add(char **b, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (*n + len + 1 > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < *n + len + 1)
            c *= 2;
        char *nb = realloc(*b, c);
        if (!nb)
            return false;
        *b = nb;
        *cap = c;
    }
    memcpy(*b + *n, s, len);
    *n += len;
    (*b)[*n] = '\0';
    return true;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    attempt *a = user;
    size_t len = size * n;
    a->got_byte = true;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
        a->ra[0] = a->ra_ms[0] = '\0';
        a->sse = false;
        const char *sp = memchr(data, ' ', len);
        a->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    }
    header_value(data, len, "retry-after", a->ra, sizeof a->ra);
    header_value(data, len, "retry-after-ms", a->ra_ms, sizeof a->ra_ms);
    char ct[128] = "";
    header_value(data, len, "content-type", ct, sizeof ct);
    if (ct[0])
        a->sse = strncasecmp(ct, "text/event-stream", 17) == 0;
    return len;
}

static bool on_event(void *user, const char *data, size_t len)
{
    attempt *a = user;
    slm_oai_chunk c;
    slm_oai_error e;
    if (a->done)
        return true;
    if (!slm_oai_parse_chunk(data, len, &c, &e)) {
        a->bad_chunk = true;
        a->serr = e;
        return false;
    }
    bool ok = true;
    if (c.done) {
        a->done = true;
    } else if (c.is_error) {
        a->stream_error = true;
        a->serr = c.error;
        ok = false;
    } else {
        if (c.has_usage) {
            a->res->has_usage = true;
            a->res->usage = c.usage;
        }
        if (c.finish_reason[0])
            snprintf(a->res->finish_reason, sizeof a->res->finish_reason, "%s", c.finish_reason);
        if (c.len > 0) {
            ok = buf_add(&a->text, &a->tlen, &a->tcap, c.text, c.len);
            if (ok && a->on_text) {
                a->delivered = true;
                if (!a->on_text(a->user, c.text, c.len)) {
                    a->user_stopped = true;
                    ok = false;
                }
            }
        }
    }
    slm_oai_chunk_free(&c);
    return ok;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    attempt *a = user;
    size_t len = size * n;
    a->got_byte = true;
    if (a->sse && a->status == 200 && a->r->o.stream) {
        return slm_sse_feed(&a->parser, data, len, on_event, a) ? len : 0;
    }
    if (a->blen + len > MAX_BODY) {
        a->too_big = true;
        return 0;
    }
    return buf_add(&a->body, &a->blen, &a->bcap, data, len) ? len : 0;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    attempt *a = user;
    if (!a->got_byte && now_s() - a->t0 > a->r->o.first_byte_s) {
        a->first_byte_timeout = true;
        return 1;
    }
    return 0;
}

static bool retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_ABORTED_BY_CALLBACK: /* the first-byte timeout */
        return true;
    default:
        return false;
    }
}

typedef enum { ATTEMPT_OK, ATTEMPT_RETRY, ATTEMPT_FAIL, ATTEMPT_CUT } attempt_end;

static attempt_end fail(attempt *a, attempt_end end, const char *fmt, const char *detail)
{
    snprintf(a->res->reason, sizeof a->res->reason, fmt, detail);
    a->res->retryable = end == ATTEMPT_RETRY;
    return a->delivered ? ATTEMPT_CUT : end;
}

/* What the finished transfer means (see remote.h's contract). */
static attempt_end judge(attempt *a, CURLcode rc, long status, const char *curl_msg)
{
    char msg[400];
    if (a->user_stopped)
        return fail(a, ATTEMPT_CUT, "%s", "the answer was stopped by the caller");
    if (rc != CURLE_OK && !a->bad_chunk && !a->stream_error) {
        if (a->first_byte_timeout)
            snprintf(msg, sizeof msg, "no response within the first-byte timeout (%g s)",
                     a->r->o.first_byte_s);
        else if (a->too_big)
            snprintf(msg, sizeof msg, "response body above %u bytes", MAX_BODY);
        else
            snprintf(msg, sizeof msg, "%s%s%s", curl_easy_strerror(rc), curl_msg[0] ? ": " : "",
                     curl_msg);
        return fail(a, retryable_curl(rc) && !a->too_big ? ATTEMPT_RETRY : ATTEMPT_FAIL, "%s", msg);
    }
    if (status != 200) {
        slm_oai_error e;
        slm_oai_parse_error_body((int)status, a->body ? a->body : "", a->blen, &e);
        snprintf(msg, sizeof msg, "HTTP %ld%s: %.300s", status,
                 slm_retry_status((int)status) ? "" : " (not retried)", e.message);
        return fail(a, slm_retry_status((int)status) ? ATTEMPT_RETRY : ATTEMPT_FAIL, "%s", msg);
    }
    if (a->sse && a->status == 200 && a->r->o.stream) {
        if (a->bad_chunk || a->stream_error) {
            snprintf(msg, sizeof msg, "%s: %.300s", a->bad_chunk ? "bad stream chunk" : "error in the stream",
                     a->serr.message);
            return fail(a, ATTEMPT_FAIL, "%s", msg);
        }
        if (!a->done && !a->res->finish_reason[0])
            return fail(a, ATTEMPT_RETRY, "%s", "the stream ended before its last chunk ([DONE])");
    } else {
        slm_oai_response resp;
        slm_oai_error e;
        if (!slm_oai_parse_response(a->body ? a->body : "", a->blen, &resp, &e))
            return fail(a, ATTEMPT_FAIL, "%s", e.message);
        free(a->text);
        a->text = resp.text;
        a->tlen = resp.len;
        a->tcap = resp.len + 1;
        resp.text = NULL;
        a->res->has_usage = resp.has_usage;
        a->res->usage = resp.usage;
        snprintf(a->res->finish_reason, sizeof a->res->finish_reason, "%s", resp.finish_reason);
        slm_oai_response_free(&resp);
        if (a->on_text && a->tlen > 0) {
            a->delivered = true;
            if (!a->on_text(a->user, a->text, a->tlen))
                a->user_stopped = true;
        }
    }
    return ATTEMPT_OK;
}

static attempt_end run_attempt(slm_remote *r, const char *url, const char *body,
                               struct curl_slist *headers, attempt *a)
{
    CURL *h = curl_easy_init();
    if (!h)
        return fail(a, ATTEMPT_FAIL, "%s", "libcurl: cannot create a handle");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(r->o.connect_s * 1000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(r->o.total_s * 1000));
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    a->t0 = now_s();
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    a->res->http_status = (int)status;
    return judge(a, rc, status, errbuf);
}

static struct curl_slist *make_headers(const slm_remote *r, bool *ok)
{
    struct curl_slist *hd = NULL, *t;
    const char *fixed[] = {"Content-Type: application/json", "Expect:",
                           r->o.stream ? "Accept: text/event-stream" : "Accept: application/json"};
    *ok = true;
    for (size_t i = 0; i < 3 && *ok; i++) {
        if ((t = curl_slist_append(hd, fixed[i])))
            hd = t;
        else
            *ok = false;
    }
    if (*ok && r->api_key) {
        size_t n = strlen(r->api_key) + 32;
        char *auth = malloc(n);
        if (auth) {
            snprintf(auth, n, "Authorization: Bearer %s", r->api_key);
            if ((t = curl_slist_append(hd, auth)))
                hd = t;
            else
                *ok = false;
            memset(auth, 0, n);
            free(auth);
        } else {
            *ok = false;
        }
    }
    return hd;
}

static void finish_call(slm_remote *r, slm_remote_result *res, slm_remote_outcome outcome,
                        double t_start)
{
    res->outcome = outcome;
    res->seconds = now_s() - t_start;
    scrub(res->reason, r->api_key);
    pthread_mutex_lock(&r->mu);
    if (outcome == SLM_REMOTE_OK) {
        r->failures = 0;
    } else if (outcome != SLM_REMOTE_COOLDOWN) {
        r->failures++;
        if (r->o.allowed_fails > 0 && r->failures >= r->o.allowed_fails)
            r->cooldown_until = now_s() + r->o.cooldown_s;
    }
    pthread_mutex_unlock(&r->mu);
}

void slm_remote_chat(slm_remote *r, const slm_oai_request *req, slm_remote_text_fn on_text,
                     void *user, slm_remote_result *res)
{
    double t_start = now_s();
    memset(res, 0, sizeof *res);
    double left;
    pthread_mutex_lock(&r->mu);
    bool cooling = cooling_locked(r, &left);
    int failures = r->failures;
    pthread_mutex_unlock(&r->mu);
    if (cooling) {
        snprintf(res->reason, sizeof res->reason,
                 "skipped: %d consecutive failures, cooling down for %.0f s more", failures, left);
        finish_call(r, res, SLM_REMOTE_COOLDOWN, t_start);
        return;
    }
    slm_oai_request q = *req;
    q.kind = SLM_OAI_CHAT;
    q.stream = r->o.stream;
    q.include_usage = r->o.stream;
    char *body = slm_oai_chat_request_json(&q, r->model);
    size_t ul = strlen(r->base_url) + 32;
    char *url = malloc(ul);
    bool hok;
    struct curl_slist *headers = make_headers(r, &hok);
    if (!body || !url || !hok) {
        snprintf(res->reason, sizeof res->reason, "out of memory building the request");
        free(body);
        free(url);
        curl_slist_free_all(headers);
        finish_call(r, res, SLM_REMOTE_UNAVAILABLE, t_start);
        return;
    }
    snprintf(url, ul, "%s/chat/completions", r->base_url);
    attempt_end end = ATTEMPT_FAIL;
    char *text = NULL;
    size_t tlen = 0;
    for (int i = 0; i <= r->o.retries; i++) {
        attempt a = {.r = r, .res = res, .on_text = on_text, .user = user};
        slm_sse_init(&a.parser);
        res->has_usage = false;
        res->finish_reason[0] = '\0';
        res->attempts = i + 1;
        end = run_attempt(r, url, body, headers, &a);
        free(text);
        text = a.text;
        tlen = a.tlen;
        free(a.body);
        slm_sse_free(&a.parser);
        if (end != ATTEMPT_RETRY || i == r->o.retries)
            break;
        double hint = -1, s;
        if (slm_parse_retry_after_ms(a.ra_ms, &s))
            hint = s;
        else if (slm_parse_retry_after(a.ra, time(NULL), &s))
            hint = s;
        double backoff = slm_backoff_seconds(i, r->o.backoff_initial_s, r->o.backoff_max_s,
                                             next_uniform(r));
        sleep_s(slm_retry_wait(hint, r->o.retry_after_max_s, backoff));
    }
    free(body);
    free(url);
    curl_slist_free_all(headers);
    res->text = text;
    res->len = tlen;
    if (end == ATTEMPT_RETRY && res->attempts > 1) {
        char tmp[sizeof res->reason];
        snprintf(tmp, sizeof tmp, "%.450s (after %d attempts)", res->reason, res->attempts);
        memcpy(res->reason, tmp, sizeof tmp);
    }
    finish_call(r, res,
                end == ATTEMPT_OK    ? SLM_REMOTE_OK
                : end == ATTEMPT_CUT ? SLM_REMOTE_CUT
                                     : SLM_REMOTE_UNAVAILABLE,
                t_start);
}
