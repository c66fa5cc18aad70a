/*
 * http_mhd.c — the libmicrohttpd transport (see http_server.h). The only
 * file that knows libmicrohttpd: each request's headers and body become an
 * slm_http_request, the handler's slm_http_response becomes an MHD
 * response (a buffer, or a callback reading the SSE stream), and the
 * completion callback writes the access-log line and the metrics.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include "http_server.h"

#include <netdb.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "error.h"

struct slm_http_server {
    slm_http_config cfg;
    struct MHD_Daemon *daemon;
    int port;
    MHD_socket listen_fd;
    atomic_int in_flight; /* requests begun and not yet completed */
};

/* One request on a connection. */
typedef struct {
    slm_http_server *srv;
    struct MHD_Connection *conn;
    double t_start;
    char method[16];
    char *path;
    char *body;
    size_t len, cap;
    bool too_large;
    bool responded;
    int status;
    int prompt_tokens, completion_tokens;
    struct stream_box *box; /* while a streamed response is out */
} request_ctx;

/* The SSE stream of a response, owned by MHD's response object: freed by
 * stream_free whenever MHD destroys the response, which may come before or
 * after the request's completion callback frees its request_ctx (both run
 * on the connection's own thread). */
typedef struct stream_box {
    slm_http_stream *stream;
    request_ctx *rc; /* NULL once the request completed */
} stream_box;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The peer hung up (or the socket failed): there is nobody left to answer. */
static bool peer_gone(void *ctx)
{
    request_ctx *rc = ctx;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rc->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
        return true;
    char c;
    return recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_box *box = cls;
    request_ctx *rc = box->rc;
    if (!rc || peer_gone(rc))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    long n = box->stream->read(box->stream, buf, max);
    rc->prompt_tokens = box->stream->prompt_tokens;
    rc->completion_tokens = box->stream->completion_tokens;
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream_box *box = cls;
    box->stream->close(box->stream);
    if (box->rc)
        box->rc->box = NULL;
    free(box);
}

static void add_headers(struct MHD_Response *r, const slm_http_response *resp)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    char v[32];
    if (resp->retry_after > 0) {
        snprintf(v, sizeof v, "%d", resp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (resp->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
}

/* Sends resp (taking its body or stream) and records its status. */
static enum MHD_Result send_response(request_ctx *rc, slm_http_response *resp)
{
    struct MHD_Response *r = NULL;
    bool streamed = resp->stream != NULL;
    if (streamed) {
        stream_box *box = malloc(sizeof *box);
        if (box) {
            *box = (stream_box){resp->stream, rc};
            r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader,
                                                  box, stream_free);
            if (!r)
                free(box);
        }
        if (r) {
            rc->box = box;
            resp->stream = NULL; /* stream_free closes it */
        }
    } else {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body ? resp->body : (char *)"",
                                            resp->body ? MHD_RESPMEM_MUST_FREE
                                                       : MHD_RESPMEM_PERSISTENT);
        if (r)
            resp->body = NULL;
    }
    if (!r) {
        slm_http_response_free(resp);
        return MHD_NO;
    }
    add_headers(r, resp);
    if (streamed) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
    }
    rc->status = resp->status;
    if (!streamed) {
        rc->prompt_tokens = resp->prompt_tokens;
        rc->completion_tokens = resp->completion_tokens;
    }
    rc->responded = true;
    enum MHD_Result ok = MHD_queue_response(rc->conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    slm_http_response_free(resp);
    return ok;
}

static enum MHD_Result send_error(request_ctx *rc, int status, const char *code, const char *msg)
{
    slm_oai_error e;
    slm_oai_fail(&e, status, code, NULL, "%s", msg);
    slm_http_response resp = {0};
    slm_serve_error_response(&e, &resp);
    return send_response(rc, &resp);
}

static request_ctx *begin(slm_http_server *srv, struct MHD_Connection *conn, const char *url,
                          const char *method)
{
    request_ctx *rc = calloc(1, sizeof *rc);
    if (!rc)
        return NULL;
    rc->srv = srv;
    rc->conn = conn;
    rc->t_start = now_s();
    snprintf(rc->method, sizeof rc->method, "%s", method);
    rc->path = strdup(url ? url : "");
    atomic_fetch_add(&srv->in_flight, 1);
    return rc;
}

/* Appends a piece of the body, or marks the request too large. */
static void take_body(request_ctx *rc, const char *data, size_t n)
{
    if (rc->too_large)
        return;
    if (rc->len + n > rc->srv->cfg.max_body) {
        rc->too_large = true;
        free(rc->body);
        rc->body = NULL;
        rc->len = rc->cap = 0;
        return;
    }
    if (rc->len + n + 1 > rc->cap) {
        size_t cap = rc->cap ? rc->cap * 2 : 4096;
        while (cap < rc->len + n + 1)
            cap *= 2;
        if (cap > rc->srv->cfg.max_body + 1)
            cap = rc->srv->cfg.max_body + 1;
        char *b = realloc(rc->body, cap);
        if (!b) {
            rc->too_large = true; /* answered with 413: nothing else fits either */
            return;
        }
        rc->body = b;
        rc->cap = cap;
    }
    memcpy(rc->body + rc->len, data, n);
    rc->len += n;
    rc->body[rc->len] = '\0';
}

static bool declared_too_large(const request_ctx *rc)
{
    const char *cl = MHD_lookup_connection_value(rc->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return false;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > rc->srv->cfg.max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    slm_http_server *srv = cls;
    request_ctx *rc = *con_cls;
    if (!rc) {
        if (!(rc = begin(srv, conn, url, method)))
            return MHD_NO;
        *con_cls = rc;
        if (declared_too_large(rc))
            return send_error(rc, 413, "request_too_large", "the request body is too large");
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!rc->responded)
            take_body(rc, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rc->responded)
        return MHD_YES;
    if (rc->too_large)
        return send_error(rc, 413, "request_too_large", "the request body is too large");
    slm_http_request req = {
        .method = method,
        .path = url,
        .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION),
        .x_api_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Api-Key"),
        .body = rc->body ? rc->body : "",
        .body_len = rc->len,
        .client_gone = peer_gone,
        .client_ctx = rc,
    };
    slm_http_response resp;
    slm_serve_handle(srv->cfg.app, &req, &resp);
    return send_response(rc, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    slm_http_server *srv = cls;
    request_ctx *rc = *con_cls;
    if (!rc)
        return;
    *con_cls = NULL;
    /* A request that never got a response (the client left early). */
    int status = rc->responded ? rc->status : 499;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && rc->box)
        status = 499;
    double seconds = now_s() - rc->t_start;
    slm_metrics_observe_request(srv->cfg.metrics, status, seconds);
    if (srv->cfg.log) {
        char line[512];
        slm_http_log_line(line, sizeof line, rc->method, rc->path, status, rc->prompt_tokens,
                          rc->completion_tokens, seconds);
        srv->cfg.log(srv->cfg.log_user, line);
    }
    /* MHD frees the response (closing the stream through stream_free) on
     * its own schedule; from here on the stream must not see rc. */
    if (rc->box)
        rc->box->rc = NULL;
    free(rc->path);
    free(rc->body);
    free(rc);
    atomic_fetch_sub(&srv->in_flight, 1);
}

slm_status slm_http_start(const slm_http_config *cfg, slm_http_server **out, slm_error *err)
{
    *out = NULL;
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0 || !ai)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "--host %s: %s", host, gai_strerror(rc));
    slm_http_server *s = calloc(1, sizeof *s);
    if (!s) {
        freeaddrinfo(ai);
        return slm_fail_nomem(err, "the HTTP server");
    }
    s->cfg = *cfg;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ITC | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(cfg->max_connections > 0 ? cfg->max_connections : 256),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        free(s);
        return slm_fail(err, SLM_ERR_IO, "could not listen on %s port %d (in use?)", host,
                        cfg->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    s->listen_fd = MHD_INVALID_SOCKET;
    atomic_init(&s->in_flight, 0);
    *out = s;
    return SLM_OK;
}

int slm_http_port(const slm_http_server *s)
{
    return s->port;
}

void slm_http_quiesce(slm_http_server *s)
{
    if (s && s->listen_fd == MHD_INVALID_SOCKET)
        s->listen_fd = MHD_quiesce_daemon(s->daemon);
}

void slm_http_drain(slm_http_server *s, double seconds)
{
    if (!s)
        return;
    double until = now_s() + seconds;
    while (atomic_load(&s->in_flight) > 0 && now_s() < until)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
}

void slm_http_stop(slm_http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    if (s->listen_fd != MHD_INVALID_SOCKET)
        close(s->listen_fd);
    free(s);
}
