/*
 * oai_client.c — the client side of the OpenAI mapping (see oai_client.h):
 * request bodies built from slm_oai_request, answers parsed into oai.h's
 * types. oai.c's JSON helpers are file-local, so the few needed here are
 * small cJSON calls of their own; the shapes are oai.c's.
 */
#include "oai_client.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#define SSE_DEFAULT_MAX (16u << 20)

/* ------------------------------------------------------------ request */

char *slm_oai_chat_request_json(const slm_oai_request *r, const char *model)
{
    cJSON *o = cJSON_CreateObject(), *msgs = cJSON_AddArrayToObject(o, "messages");
    bool ok = o && msgs && cJSON_AddStringToObject(o, "model", model ? model : "");
    for (size_t i = 0; ok && i < r->n_messages; i++) {
        cJSON *m = cJSON_CreateObject();
        ok = m && cJSON_AddItemToArray(msgs, m) &&
             cJSON_AddStringToObject(m, "role", r->messages[i].role) &&
             cJSON_AddStringToObject(m, "content", r->messages[i].content);
    }
    if (ok && r->max_tokens >= 1)
        ok = cJSON_AddNumberToObject(o, "max_tokens", r->max_tokens) != NULL;
    if (ok)
        ok = cJSON_AddNumberToObject(o, "temperature", r->sampling.temperature) != NULL;
    if (ok && r->sampling.top_p < 1.0f)
        ok = cJSON_AddNumberToObject(o, "top_p", r->sampling.top_p) != NULL;
    if (ok && r->seed_given)
        ok = cJSON_AddNumberToObject(o, "seed", (double)r->sampling.seed) != NULL;
    if (ok && r->n_stop > 0) {
        cJSON *stop = cJSON_AddArrayToObject(o, "stop");
        for (size_t i = 0; ok && i < r->n_stop; i++) {
            cJSON *s = cJSON_CreateString(r->stop[i]);
            ok = stop && s && cJSON_AddItemToArray(stop, s);
        }
    }
    if (ok)
        ok = cJSON_AddBoolToObject(o, "stream", r->stream) != NULL;
    if (ok && r->stream && r->include_usage) {
        cJSON *so = cJSON_AddObjectToObject(o, "stream_options");
        ok = so && cJSON_AddBoolToObject(so, "include_usage", true);
    }
    char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

/* ------------------------------------------------------------ helpers */

static bool malformed(slm_oai_error *e, const char *what)
{
    return slm_oai_fail(e, 0, "malformed_response", NULL, "malformed response: %s", what);
}

static bool parse_json(const char *body, size_t len, cJSON **out, slm_oai_error *e)
{
    *out = cJSON_ParseWithLength(body, len);
    if (!*out)
        return malformed(e, "not JSON");
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return malformed(e, "not a JSON object");
    }
    return true;
}

static int count(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= 0 &&
                   v->valuedouble < 2e9
               ? (int)v->valuedouble
               : 0;
}

/* "usage": {...} or null/absent; a usage that is not an object is malformed. */
static bool parse_usage(const cJSON *o, bool *has, slm_oai_usage *u, slm_oai_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "usage");
    *has = false;
    memset(u, 0, sizeof *u);
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsObject(v))
        return malformed(e, "usage: expected an object");
    *has = true;
    u->prompt_tokens = count(v, "prompt_tokens");
    u->completion_tokens = count(v, "completion_tokens");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "prompt_tokens_details");
    if (cJSON_IsObject(d))
        u->cached_tokens = count(d, "cached_tokens");
    return true;
}

static void copy_finish(const cJSON *choice, char *out, size_t cap)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    snprintf(out, cap, "%s", cJSON_IsString(f) ? f->valuestring : "");
}

static char *dup_text(const char *s, size_t *len)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n + 1);
        *len = n;
    }
    return d;
}

/* The first choice's text: message.content / delta.content (chat) or text
 * (completions). A missing or null content is "" (a role-only delta). */
static bool choice_text(const cJSON *choice, bool delta, const char **text, slm_oai_error *e)
{
    const cJSON *holder = cJSON_GetObjectItemCaseSensitive(choice, delta ? "delta" : "message");
    const cJSON *t = holder ? cJSON_GetObjectItemCaseSensitive(holder, "content")
                            : cJSON_GetObjectItemCaseSensitive(choice, "text");
    if (holder && !cJSON_IsObject(holder))
        return malformed(e, delta ? "choices[0].delta: expected an object"
                                  : "choices[0].message: expected an object");
    if (!holder && !t)
        return malformed(e, delta ? "choices[0]: no delta or text" : "choices[0]: no message or text");
    if (t && !cJSON_IsNull(t) && !cJSON_IsString(t))
        return malformed(e, "choices[0]: content is not a string");
    *text = cJSON_IsString(t) ? t->valuestring : "";
    return true;
}

/* ------------------------------------------------------------ responses */

static bool parse_error_object(const cJSON *o, int status, slm_oai_error *e);

bool slm_oai_parse_response(const char *body, size_t len, slm_oai_response *out,
                            slm_oai_error *e)
{
    memset(out, 0, sizeof *out);
    cJSON *o;
    if (!parse_json(body, len, &o, e))
        return false;
    bool ok = true;
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(o, "choices");
    const cJSON *choice = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    const char *text = NULL;
    if (cJSON_GetObjectItemCaseSensitive(o, "error"))
        ok = parse_error_object(o, 0, e);
    else if (!cJSON_IsObject(choice))
        ok = malformed(e, "choices: expected a list with one object");
    else
        ok = choice_text(choice, false, &text, e) &&
             parse_usage(o, &out->has_usage, &out->usage, e);
    if (ok) {
        copy_finish(choice, out->finish_reason, sizeof out->finish_reason);
        snprintf(out->model, sizeof out->model, "%s", cJSON_IsString(model) ? model->valuestring : "");
        if (!(out->text = dup_text(text, &out->len)))
            ok = slm_oai_fail(e, 0, NULL, NULL, "out of memory reading the response");
    }
    cJSON_Delete(o);
    if (!ok)
        slm_oai_response_free(out);
    return ok;
}

void slm_oai_response_free(slm_oai_response *r)
{
    if (r) {
        free(r->text);
        memset(r, 0, sizeof *r);
    }
}

bool slm_oai_parse_chunk(const char *data, size_t len, slm_oai_chunk *out, slm_oai_error *e)
{
    memset(out, 0, sizeof *out);
    out->text = "";
    while (len > 0 && (data[len - 1] == ' ' || data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        out->done = true;
        return true;
    }
    cJSON *o;
    if (!parse_json(data, len, &o, e))
        return false;
    bool ok = true;
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(o, "choices");
    const cJSON *choice = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    const char *text = "";
    if (cJSON_GetObjectItemCaseSensitive(o, "error")) {
        out->is_error = true;
        parse_error_object(o, 0, &out->error);
    } else if (!cJSON_IsArray(choices)) {
        ok = malformed(e, "stream chunk: no choices list");
    } else {
        ok = (!choice || choice_text(choice, true, &text, e)) &&
             parse_usage(o, &out->has_usage, &out->usage, e);
        if (ok && choice)
            copy_finish(choice, out->finish_reason, sizeof out->finish_reason);
    }
    if (ok && !(out->buf = dup_text(text, &out->len)))
        ok = slm_oai_fail(e, 0, NULL, NULL, "out of memory reading the stream");
    if (ok)
        out->text = out->buf;
    cJSON_Delete(o);
    if (!ok)
        slm_oai_chunk_free(out);
    return ok;
}

void slm_oai_chunk_free(slm_oai_chunk *c)
{
    if (c) {
        free(c->buf);
        memset(c, 0, sizeof *c);
        c->text = "";
    }
}

/* ------------------------------------------------------------ errors */

/* error.type / error.code strings mapped to static ones (the struct holds
 * static pointers); anything else is "api_error" / NULL. */
static const char *static_name(const cJSON *v, const char *const *names, size_t n,
                               const char *other)
{
    if (!cJSON_IsString(v))
        return other;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v->valuestring, names[i]) == 0)
            return names[i];
    return other;
}

static const char *const error_types[] = {
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
    "rate_limit_error", "server_error", "unavailable_error", "api_error", "insufficient_quota",
};
static const char *const error_codes[] = {
    "context_length_exceeded", "invalid_api_key", "rate_limit_exceeded", "insufficient_quota",
    "model_not_found", "invalid_json", "invalid_value", "invalid_type", "missing_field",
    "unsupported_parameter", "timeout", "queue_full", "server_busy",
};

static bool parse_error_object(const cJSON *o, int status, slm_oai_error *e)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *msg = cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "message") : err;
    const cJSON *param = cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "param") : NULL;
    memset(e, 0, sizeof *e);
    e->status = status;
    e->type = static_name(cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "type") : NULL,
                          error_types, sizeof error_types / sizeof *error_types, "api_error");
    e->code = static_name(cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "code") : NULL,
                          error_codes, sizeof error_codes / sizeof *error_codes, NULL);
    snprintf(e->param, sizeof e->param, "%s", cJSON_IsString(param) ? param->valuestring : "");
    snprintf(e->message, sizeof e->message, "%.200s",
             cJSON_IsString(msg) ? msg->valuestring : "(no message)");
    return false;
}

void slm_oai_parse_error_body(int status, const char *body, size_t len, slm_oai_error *e)
{
    cJSON *o = len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
    if (cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, "error")) {
        parse_error_object(o, status, e);
    } else {
        memset(e, 0, sizeof *e);
        e->status = status;
        e->type = "api_error";
        /* a plain-text body (a proxy's HTML page): its first line, printable bytes only */
        size_t n = 0;
        for (size_t i = 0; i < len && n < 200 && body[i] != '\n'; i++)
            e->message[n++] = (unsigned char)body[i] >= 0x20 ? body[i] : ' ';
        e->message[n] = '\0';
        if (n == 0)
            snprintf(e->message, sizeof e->message, "(empty body)");
    }
    cJSON_Delete(o);
}

/* ------------------------------------------------------------ SSE framing */

void slm_sse_init(slm_sse_parser *p)
{
    memset(p, 0, sizeof *p);
}

void slm_sse_free(slm_sse_parser *p)
{
    free(p->line);
    free(p->data);
    memset(p, 0, sizeof *p);
}

static bool append(char **buf, size_t *n, size_t *cap, const char *s, size_t len, size_t max)
{
    if (*n + len + 1 > max)
        return false;
    if (*n + len + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *n + len + 1)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return false;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *n, s, len);
    *n += len;
    (*buf)[*n] = '\0';
    return true;
}

/* One complete line (without its line end). */
static bool sse_line(slm_sse_parser *p, slm_sse_event_fn fn, void *user, size_t max)
{
    const char *l = p->line ? p->line : "";
    size_t n = p->n;
    if (n > 0 && l[n - 1] == '\r')
        n--;
    if (n == 0) { /* blank line: the event ends */
        bool ok = true;
        if (p->has_data)
            ok = fn(user, p->data ? p->data : "", p->dn);
        p->dn = 0;
        p->has_data = false;
        return ok;
    }
    if (n < 5 || memcmp(l, "data:", 5) != 0)
        return true; /* comment, event:, id:, retry: */
    size_t off = n > 5 && l[5] == ' ' ? 6 : 5;
    if (p->has_data && !append(&p->data, &p->dn, &p->dcap, "\n", 1, max))
        return false;
    p->has_data = true;
    return append(&p->data, &p->dn, &p->dcap, l + off, n - off, max);
}

bool slm_sse_feed(slm_sse_parser *p, const char *bytes, size_t len, slm_sse_event_fn fn,
                  void *user)
{
    size_t max = p->max_bytes ? p->max_bytes : SSE_DEFAULT_MAX;
    while (len > 0) {
        const char *nl = memchr(bytes, '\n', len);
        size_t take = nl ? (size_t)(nl - bytes) : len;
        if (take > 0 && !append(&p->line, &p->n, &p->cap, bytes, take, max))
            return false;
        if (!nl)
            return true;
        bool ok = sse_line(p, fn, user, max);
        p->n = 0;
        if (!ok)
            return false;
        bytes += take + 1;
        len -= take + 1;
    }
    return true;
}
