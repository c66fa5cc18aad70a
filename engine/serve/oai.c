/*
 * oai.c — OpenAI request bodies to engine inputs and engine results to
 * OpenAI's JSON (see oai.h for the contract). No I/O, no engine calls: the
 * handlers and the scheduler decide what runs where.
 */
#include "oai.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fileio.h"

/* Limits on a request's parts, far above what any client sends. */
#define OAI_MAX_MESSAGES 4096
#define OAI_MAX_STOP 16
#define OAI_MAX_IDS (1 << 20)
#define OAI_MAX_TOKEN_ID 2147483646.0

bool slm_oai_fail(slm_oai_error *e, int status, const char *code, const char *param,
                  const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    switch (status) {
    case 401: e->type = "invalid_request_error"; break;
    case 404: e->type = "not_found_error"; break;
    case 429: e->type = "rate_limit_error"; break;
    case 500: e->type = "server_error"; break;
    case 503: e->type = "unavailable_error"; break;
    default: e->type = "invalid_request_error"; break;
    }
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return false;
}

/* ------------------------------------------------------------ parsing */

/* True when the body holds the escape \u0000 (an odd run of backslashes
 * before the u): cJSON would end that string at the NUL and silently drop
 * the rest, so such a request is refused instead. */
static bool has_escaped_nul(const char *body, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++) {
        if (body[i] != '\\' || body[i + 1] != 'u' || memcmp(body + i + 2, "0000", 4) != 0)
            continue;
        size_t run = 1;
        while (run <= i && body[i - run] == '\\')
            run++;
        if (run % 2 == 1)
            return true;
    }
    return false;
}

static bool parse_object(const char *body, size_t len, cJSON **out, slm_oai_error *e)
{
    slm_error err;
    *out = NULL;
    if (memchr(body, '\0', len))
        return slm_oai_fail(e, 400, "invalid_json", NULL, "request body: a NUL byte");
    if (has_escaped_nul(body, len))
        return slm_oai_fail(e, 400, "invalid_value", NULL,
                            "request body: strings must not contain U+0000");
    if (slm_json_parse(body, len, "request body", out, &err) != SLM_OK)
        return slm_oai_fail(e, 400, "invalid_json", NULL, "%s", err.msg);
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return slm_oai_fail(e, 400, "invalid_json", NULL,
                            "request body: expected a JSON object");
    }
    return true;
}

/* A field that is absent or null counts as not given. */
static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static bool get_number(const cJSON *obj, const char *name, double lo, double hi, double *out,
                       slm_oai_error *e)
{
    const cJSON *v = field(obj, name);
    if (!v)
        return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return slm_oai_fail(e, 400, "invalid_type", name, "%s: expected a number", name);
    if (v->valuedouble < lo || v->valuedouble > hi)
        return slm_oai_fail(e, 400, "invalid_value", name, "%s: %g is out of range [%g, %g]",
                            name, v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return true;
}

static bool is_integer(const cJSON *v)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && floor(v->valuedouble) == v->valuedouble;
}

static bool get_int(const cJSON *obj, const char *name, double lo, double hi, double *out,
                    slm_oai_error *e)
{
    const cJSON *v = field(obj, name);
    if (!v)
        return true;
    if (!is_integer(v))
        return slm_oai_fail(e, 400, "invalid_type", name, "%s: expected an integer", name);
    if (v->valuedouble < lo || v->valuedouble > hi)
        return slm_oai_fail(e, 400, "invalid_value", name, "%s: %g is out of range [%.0f, %.0f]",
                            name, v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return true;
}

static bool get_bool(const cJSON *obj, const char *name, bool *out, slm_oai_error *e)
{
    const cJSON *v = field(obj, name);
    if (!v)
        return true;
    if (!cJSON_IsBool(v))
        return slm_oai_fail(e, 400, "invalid_type", name, "%s: expected true or false", name);
    *out = cJSON_IsTrue(v);
    return true;
}

static char *dup_or_null(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static bool nomem(slm_oai_error *e)
{
    return slm_oai_fail(e, 500, NULL, NULL, "out of memory while parsing the request");
}

/* "stop": a string or a list of strings; empty strings stop nothing and are dropped. */
static bool parse_stop(const cJSON *obj, slm_oai_request *r, slm_oai_error *e)
{
    const cJSON *v = field(obj, "stop");
    if (!v)
        return true;
    if (!cJSON_IsString(v) && !cJSON_IsArray(v))
        return slm_oai_fail(e, 400, "invalid_type", "stop",
                            "stop: expected a string or a list of strings");
    int n = cJSON_IsString(v) ? 1 : cJSON_GetArraySize(v);
    if (n > OAI_MAX_STOP)
        return slm_oai_fail(e, 400, "invalid_value", "stop", "stop: at most %d strings",
                            OAI_MAX_STOP);
    r->stop = calloc((size_t)n + 1, sizeof *r->stop);
    if (!r->stop)
        return nomem(e);
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_IsString(v) ? v : cJSON_GetArrayItem(v, i);
        if (!cJSON_IsString(s))
            return slm_oai_fail(e, 400, "invalid_type", "stop", "stop[%d]: expected a string", i);
        if (s->valuestring[0] == '\0')
            continue;
        if (!(r->stop[r->n_stop++] = dup_or_null(s->valuestring)))
            return nomem(e);
    }
    return true;
}

/* Sampling fields shared by chat and completions. OpenAI's penalties have no
 * exact counterpart in slm's sampler (a multiplicative repetition penalty),
 * so anything but 0 is refused rather than silently approximated. */
static bool parse_sampling(const cJSON *obj, slm_oai_request *r, slm_oai_error *e)
{
    slm_sampler_params *sp = &r->sampling;
    double t = sp->temperature, p = sp->top_p, k = sp->top_k, mp = sp->min_p;
    double rp = sp->repeat_penalty, pen = 0, seed = 0, n = 1;
    if (!get_number(obj, "temperature", 0, 2, &t, e) || !get_number(obj, "top_p", 0, 1, &p, e) ||
        !get_int(obj, "top_k", 0, 1 << 24, &k, e) || !get_number(obj, "min_p", 0, 1, &mp, e) ||
        !get_number(obj, "repeat_penalty", 0.01, 100, &rp, e))
        return false;
    const char *penalties[] = {"presence_penalty", "frequency_penalty"};
    for (int i = 0; i < 2; i++) {
        pen = 0;
        if (!get_number(obj, penalties[i], -2, 2, &pen, e))
            return false;
        if (pen != 0)
            return slm_oai_fail(e, 400, "unsupported_parameter", penalties[i],
                                "%s: only 0 is supported (use repeat_penalty)", penalties[i]);
    }
    if (!get_int(obj, "n", -1e15, 1e15, &n, e))
        return false;
    if (n != 1)
        return slm_oai_fail(e, 400, "unsupported_parameter", "n", "n: only 1 is supported");
    if (!get_int(obj, "seed", -9.2e18, 1.8e19, &seed, e))
        return false;
    r->seed_given = field(obj, "seed") != NULL;
    if (r->seed_given)
        sp->seed = seed < 0 ? (uint64_t)(int64_t)seed : (uint64_t)seed;
    sp->temperature = (float)t;
    /* top_p 0 keeps only the most likely token: greedy. */
    if (p == 0)
        sp->temperature = 0;
    sp->top_p = p == 0 ? 1.0f : (float)p;
    sp->top_k = (int)k;
    sp->min_p = (float)mp;
    sp->repeat_penalty = (float)rp;
    return true;
}

/* Fields every generation request has: limits, sampling, stops, streaming. */
static bool parse_common(const cJSON *obj, slm_oai_request *r, slm_oai_error *e)
{
    r->sampling = slm_sampler_params_default();
    r->max_tokens = -1;
    const char *names[] = {"max_tokens", "max_completion_tokens"};
    for (int i = 0; i < 2; i++) {
        double m = -1;
        if (!get_int(obj, names[i], -1e15, 1e15, &m, e))
            return false;
        if (field(obj, names[i]) && m < 1)
            return slm_oai_fail(e, 400, "invalid_value", names[i], "%s: must be at least 1",
                                names[i]);
        if (m >= 1)
            r->max_tokens = m > 1e9 ? 1000000000 : (int)m;
    }
    if (!parse_sampling(obj, r, e) || !parse_stop(obj, r, e) ||
        !get_bool(obj, "stream", &r->stream, e))
        return false;
    const cJSON *so = field(obj, "stream_options");
    if (so) {
        if (!cJSON_IsObject(so))
            return slm_oai_fail(e, 400, "invalid_type", "stream_options",
                                "stream_options: expected an object");
        if (!get_bool(so, "include_usage", &r->include_usage, e))
            return false;
    }
    return true;
}

/* A message's content: a string, or a list of {"type": "text", "text": str}
 * parts joined with newlines. */
static bool parse_content(const cJSON *c, size_t i, char **out, slm_oai_error *e)
{
    char param[64];
    snprintf(param, sizeof param, "messages[%zu].content", i);
    if (cJSON_IsString(c))
        return (*out = dup_or_null(c->valuestring)) ? true : nomem(e);
    if (!cJSON_IsArray(c))
        return slm_oai_fail(e, 400, "invalid_type", param,
                            "%s: expected a string or a list of text parts", param);
    size_t total = 1;
    int n = cJSON_GetArraySize(c);
    for (int j = 0; j < n; j++) {
        const cJSON *part = cJSON_GetArrayItem(c, j);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (!cJSON_IsObject(part) || !cJSON_IsString(type))
            return slm_oai_fail(e, 400, "invalid_type", param,
                                "%s[%d]: expected an object with a \"type\"", param, j);
        if (strcmp(type->valuestring, "text") != 0)
            return slm_oai_fail(e, 400, "unsupported_content", param,
                                "%s[%d]: only \"text\" parts are supported", param, j);
        if (!cJSON_IsString(text))
            return slm_oai_fail(e, 400, "invalid_type", param,
                                "%s[%d].text: expected a string", param, j);
        total += strlen(text->valuestring) + 1;
    }
    char *s = malloc(total), *w = s;
    if (!s)
        return nomem(e);
    for (int j = 0; j < n; j++) {
        const char *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(c, j), "text")->valuestring;
        if (j > 0)
            *w++ = '\n';
        size_t l = strlen(t);
        memcpy(w, t, l);
        w += l;
    }
    *w = '\0';
    *out = s;
    return true;
}

static bool known_role(const char *role)
{
    static const char *const roles[] = {"system", "developer", "user", "assistant", "tool"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(role, roles[i]) == 0)
            return true;
    return false;
}

static bool parse_messages(const cJSON *obj, slm_oai_request *r, slm_oai_error *e)
{
    const cJSON *msgs = field(obj, "messages");
    if (!msgs)
        return slm_oai_fail(e, 400, "missing_field", "messages", "messages: required");
    if (!cJSON_IsArray(msgs))
        return slm_oai_fail(e, 400, "invalid_type", "messages",
                            "messages: expected a list of {role, content} objects");
    int n = cJSON_GetArraySize(msgs);
    if (n == 0)
        return slm_oai_fail(e, 400, "invalid_value", "messages", "messages: must not be empty");
    if (n > OAI_MAX_MESSAGES)
        return slm_oai_fail(e, 400, "invalid_value", "messages", "messages: at most %d",
                            OAI_MAX_MESSAGES);
    r->messages = calloc((size_t)n, sizeof *r->messages);
    if (!r->messages)
        return nomem(e);
    for (int i = 0; i < n; i++) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        char param[64];
        snprintf(param, sizeof param, "messages[%d]", i);
        if (!cJSON_IsObject(m))
            return slm_oai_fail(e, 400, "invalid_type", param,
                                "%s: expected a {role, content} object", param);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role) || !known_role(role->valuestring))
            return slm_oai_fail(e, 400, cJSON_IsString(role) ? "invalid_value" : "invalid_type",
                                param,
                                "%s.role: expected one of system, developer, user, assistant, tool",
                                param);
        const cJSON *content = field(m, "content");
        char *text = NULL;
        if (!content && strcmp(role->valuestring, "assistant") != 0)
            return slm_oai_fail(e, 400, "missing_field", param, "%s.content: required", param);
        if (content && !parse_content(content, (size_t)i, &text, e))
            return false;
        if (!text && !(text = dup_or_null("")))
            return nomem(e);
        r->messages[i].content = text;
        r->n_messages = (size_t)i + 1;
        if (!(r->messages[i].role = dup_or_null(role->valuestring)))
            return nomem(e);
    }
    return true;
}

static bool parse_ids(const cJSON *arr, const char *name, int32_t **ids, size_t *n,
                      slm_oai_error *e)
{
    int count = cJSON_GetArraySize(arr);
    if (count > OAI_MAX_IDS)
        return slm_oai_fail(e, 400, "invalid_value", name, "%s: at most %d ids", name, OAI_MAX_IDS);
    *ids = malloc(((size_t)count + 1) * sizeof **ids);
    if (!*ids)
        return nomem(e);
    int i = 0;
    for (const cJSON *v = arr->child; v; v = v->next, i++) {
        if (!is_integer(v) || v->valuedouble < 0 || v->valuedouble > OAI_MAX_TOKEN_ID)
            return slm_oai_fail(e, 400, "invalid_value", name,
                                "%s[%d]: expected a token id (an integer >= 0)", name, i);
        (*ids)[i] = (int32_t)v->valuedouble;
    }
    *n = (size_t)count;
    return true;
}

/* "prompt": a string, a list of one string, or a list of token ids. */
static bool parse_prompt(const cJSON *obj, slm_oai_request *r, slm_oai_error *e)
{
    const cJSON *p = field(obj, "prompt");
    if (!p)
        return slm_oai_fail(e, 400, "missing_field", "prompt", "prompt: required");
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && cJSON_IsString(p->child))
        p = p->child;
    if (cJSON_IsString(p))
        return (r->prompt = dup_or_null(p->valuestring)) ? true : nomem(e);
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) > 0 && cJSON_IsNumber(p->child))
        return parse_ids(p, "prompt", &r->prompt_ids, &r->n_prompt_ids, e);
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) > 1)
        return slm_oai_fail(e, 400, "unsupported_parameter", "prompt",
                            "prompt: only one prompt per request is supported");
    return slm_oai_fail(e, 400, "invalid_type", "prompt",
                        "prompt: expected a string or a list of token ids");
}

static bool parse_generation(const char *body, size_t len, slm_oai_kind kind,
                             slm_oai_request *out, slm_oai_error *e)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    cJSON *obj = NULL;
    if (!parse_object(body, len, &obj, e))
        return false;
    bool ok = parse_common(obj, out, e) &&
              (kind == SLM_OAI_CHAT ? parse_messages(obj, out, e) : parse_prompt(obj, out, e));
    cJSON_Delete(obj);
    if (!ok)
        slm_oai_request_free(out);
    return ok;
}

bool slm_oai_parse_chat(const char *body, size_t len, slm_oai_request *out, slm_oai_error *e)
{
    return parse_generation(body, len, SLM_OAI_CHAT, out, e);
}

bool slm_oai_parse_completion(const char *body, size_t len, slm_oai_request *out,
                              slm_oai_error *e)
{
    return parse_generation(body, len, SLM_OAI_COMPLETION, out, e);
}

void slm_oai_request_free(slm_oai_request *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_messages; i++) {
        free((char *)r->messages[i].role);
        free((char *)r->messages[i].content);
    }
    free(r->messages);
    free(r->prompt);
    free(r->prompt_ids);
    for (size_t i = 0; i < r->n_stop; i++)
        free(r->stop[i]);
    free(r->stop);
    memset(r, 0, sizeof *r);
}

bool slm_oai_parse_tokenize(const char *body, size_t len, slm_oai_tokens_request *out,
                            slm_oai_error *e)
{
    memset(out, 0, sizeof *out);
    cJSON *obj = NULL;
    if (!parse_object(body, len, &obj, e))
        return false;
    const cJSON *c = field(obj, "content");
    bool ok = true;
    if (!c)
        ok = slm_oai_fail(e, 400, "missing_field", "content", "content: required");
    else if (!cJSON_IsString(c))
        ok = slm_oai_fail(e, 400, "invalid_type", "content", "content: expected a string");
    else if (!get_bool(obj, "add_special", &out->add_special, e))
        ok = false;
    else if (!(out->content = dup_or_null(c->valuestring)))
        ok = nomem(e);
    cJSON_Delete(obj);
    if (!ok)
        slm_oai_tokens_request_free(out);
    return ok;
}

bool slm_oai_parse_detokenize(const char *body, size_t len, slm_oai_tokens_request *out,
                              slm_oai_error *e)
{
    memset(out, 0, sizeof *out);
    cJSON *obj = NULL;
    if (!parse_object(body, len, &obj, e))
        return false;
    const cJSON *t = field(obj, "tokens");
    bool ok;
    if (!t)
        ok = slm_oai_fail(e, 400, "missing_field", "tokens", "tokens: required");
    else if (!cJSON_IsArray(t))
        ok = slm_oai_fail(e, 400, "invalid_type", "tokens", "tokens: expected a list of ids");
    else
        ok = parse_ids(t, "tokens", &out->ids, &out->n_ids, e);
    cJSON_Delete(obj);
    if (!ok)
        slm_oai_tokens_request_free(out);
    return ok;
}

void slm_oai_tokens_request_free(slm_oai_tokens_request *r)
{
    if (!r)
        return;
    free(r->content);
    free(r->ids);
    memset(r, 0, sizeof *r);
}

bool slm_oai_parse_classify(const char *body, size_t len, slm_oai_classify_request *out,
                            slm_oai_error *e)
{
    memset(out, 0, sizeof *out);
    cJSON *obj = NULL;
    if (!parse_object(body, len, &obj, e))
        return false;
    const cJSON *in = field(obj, "input");
    bool ok = true;
    int n = in && cJSON_IsArray(in) ? cJSON_GetArraySize(in) : 1;
    if (!in)
        ok = slm_oai_fail(e, 400, "missing_field", "input", "input: required");
    else if (!cJSON_IsString(in) && !cJSON_IsArray(in))
        ok = slm_oai_fail(e, 400, "invalid_type", "input",
                          "input: expected a string or a list of strings");
    else if (n < 1 || n > SLM_OAI_MAX_CLASSIFY)
        ok = slm_oai_fail(e, 400, "invalid_value", "input", "input: 1 to %d texts",
                          SLM_OAI_MAX_CLASSIFY);
    else if (!(out->texts = calloc((size_t)n, sizeof *out->texts)))
        ok = nomem(e);
    for (int i = 0; ok && i < n; i++) {
        const cJSON *s = cJSON_IsString(in) ? in : cJSON_GetArrayItem(in, i);
        if (!cJSON_IsString(s))
            ok = slm_oai_fail(e, 400, "invalid_type", "input", "input[%d]: expected a string", i);
        else if (!(out->texts[out->n++] = dup_or_null(s->valuestring)))
            ok = nomem(e);
    }
    cJSON_Delete(obj);
    if (!ok)
        slm_oai_classify_request_free(out);
    return ok;
}

void slm_oai_classify_request_free(slm_oai_classify_request *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->texts[i]);
    free(r->texts);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------ building */

const char *slm_oai_finish_reason(slm_stop_reason reason)
{
    return reason == SLM_STOP_LENGTH || reason == SLM_STOP_CONTEXT ? "length" : "stop";
}

/* A JSON string of len bytes; NUL bytes become U+FFFD (cJSON strings end at NUL). */
static cJSON *string_n(const char *text, size_t len)
{
    size_t nuls = 0;
    for (size_t i = 0; i < len; i++)
        nuls += text[i] == '\0';
    char *s = malloc(len + 2 * nuls + 1), *w = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\0') {
            memcpy(w, "\xEF\xBF\xBD", 3);
            w += 3;
        } else {
            *w++ = text[i];
        }
    }
    *w = '\0';
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

/* Adds item to obj; a NULL item (out of memory) poisons the object by
 * flagging `ok`, so builders check once at the end. */
static void add(cJSON *obj, const char *name, cJSON *item, bool *ok)
{
    if (!item || !cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        *ok = false;
    }
}

static char *print_and_free(cJSON *j, bool ok)
{
    char *s = ok && j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return s;
}

static cJSON *usage_object(const slm_oai_usage *u, bool *ok)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        *ok = false;
        return NULL;
    }
    add(o, "prompt_tokens", cJSON_CreateNumber(u->prompt_tokens), ok);
    add(o, "completion_tokens", cJSON_CreateNumber(u->completion_tokens), ok);
    add(o, "total_tokens", cJSON_CreateNumber(u->prompt_tokens + u->completion_tokens), ok);
    cJSON *details = cJSON_CreateObject();
    if (details)
        add(details, "cached_tokens", cJSON_CreateNumber(u->cached_tokens), ok);
    add(o, "prompt_tokens_details", details, ok);
    return o;
}

static cJSON *envelope(const slm_oai_meta *m, bool chunk, bool *ok)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        *ok = false;
        return NULL;
    }
    const char *object = m->kind == SLM_OAI_CHAT
                             ? (chunk ? "chat.completion.chunk" : "chat.completion")
                             : "text_completion";
    add(o, "id", cJSON_CreateString(m->id), ok);
    add(o, "object", cJSON_CreateString(object), ok);
    add(o, "created", cJSON_CreateNumber((double)m->created), ok);
    add(o, "model", cJSON_CreateString(m->model), ok);
    return o;
}

static cJSON *finish_value(const char *finish_reason)
{
    return finish_reason ? cJSON_CreateString(finish_reason) : cJSON_CreateNull();
}

char *slm_oai_completion_json(const slm_oai_meta *m, const char *text, size_t len,
                              const char *finish_reason, const slm_oai_usage *u)
{
    bool ok = true;
    cJSON *o = envelope(m, false, &ok);
    cJSON *choices = cJSON_CreateArray(), *choice = cJSON_CreateObject();
    if (choice) {
        add(choice, "index", cJSON_CreateNumber(0), &ok);
        if (m->kind == SLM_OAI_CHAT) {
            cJSON *msg = cJSON_CreateObject();
            if (msg) {
                add(msg, "role", cJSON_CreateString("assistant"), &ok);
                add(msg, "content", string_n(text, len), &ok);
            }
            add(choice, "message", msg, &ok);
        } else {
            add(choice, "text", string_n(text, len), &ok);
        }
        add(choice, "logprobs", cJSON_CreateNull(), &ok);
        add(choice, "finish_reason", finish_value(finish_reason), &ok);
    }
    if (!choice || !choices || !cJSON_AddItemToArray(choices, choice)) {
        cJSON_Delete(choice);
        ok = false;
    }
    if (o) {
        add(o, "choices", choices, &ok);
        add(o, "usage", usage_object(u, &ok), &ok);
    } else {
        cJSON_Delete(choices);
    }
    return print_and_free(o, ok);
}

/* "data: " + JSON + "\n\n". */
static char *sse(char *json)
{
    if (!json)
        return NULL;
    size_t n = strlen(json);
    char *s = malloc(n + 9);
    if (s) {
        memcpy(s, "data: ", 6);
        memcpy(s + 6, json, n);
        memcpy(s + 6 + n, "\n\n", 3);
    }
    free(json);
    return s;
}

char *slm_oai_chunk_sse(const slm_oai_meta *m, const char *text, size_t len, bool first,
                        const char *finish_reason, bool include_usage)
{
    bool ok = true;
    cJSON *o = envelope(m, true, &ok);
    cJSON *choices = cJSON_CreateArray(), *choice = cJSON_CreateObject();
    if (choice) {
        add(choice, "index", cJSON_CreateNumber(0), &ok);
        if (m->kind == SLM_OAI_CHAT) {
            cJSON *delta = cJSON_CreateObject();
            if (delta && first)
                add(delta, "role", cJSON_CreateString("assistant"), &ok);
            if (delta && (len > 0 || first))
                add(delta, "content", string_n(text, len), &ok);
            add(choice, "delta", delta, &ok);
        } else {
            add(choice, "text", string_n(text, len), &ok);
        }
        add(choice, "logprobs", cJSON_CreateNull(), &ok);
        add(choice, "finish_reason", finish_value(finish_reason), &ok);
    }
    if (!choice || !choices || !cJSON_AddItemToArray(choices, choice)) {
        cJSON_Delete(choice);
        ok = false;
    }
    if (o) {
        add(o, "choices", choices, &ok);
        if (include_usage)
            add(o, "usage", cJSON_CreateNull(), &ok);
    } else {
        cJSON_Delete(choices);
    }
    return sse(print_and_free(o, ok));
}

char *slm_oai_usage_sse(const slm_oai_meta *m, const slm_oai_usage *u)
{
    bool ok = true;
    cJSON *o = envelope(m, true, &ok);
    if (o) {
        add(o, "choices", cJSON_CreateArray(), &ok);
        add(o, "usage", usage_object(u, &ok), &ok);
    }
    return sse(print_and_free(o, ok));
}

char *slm_oai_done_sse(void)
{
    return dup_or_null("data: [DONE]\n\n");
}

static cJSON *error_object(const slm_oai_error *e, bool *ok)
{
    cJSON *o = cJSON_CreateObject(), *err = cJSON_CreateObject();
    if (err) {
        add(err, "message", cJSON_CreateString(e->message), ok);
        add(err, "type", cJSON_CreateString(e->type ? e->type : "server_error"), ok);
        add(err, "param", e->param[0] ? cJSON_CreateString(e->param) : cJSON_CreateNull(), ok);
        add(err, "code", e->code ? cJSON_CreateString(e->code) : cJSON_CreateNull(), ok);
    }
    if (o)
        add(o, "error", err, ok);
    else
        cJSON_Delete(err);
    return o;
}

char *slm_oai_error_json(const slm_oai_error *e)
{
    bool ok = true;
    cJSON *o = error_object(e, &ok);
    return print_and_free(o, ok);
}

char *slm_oai_error_sse(const slm_oai_error *e)
{
    return sse(slm_oai_error_json(e));
}

static cJSON *model_object(const char *model, long long created, bool *ok)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        *ok = false;
        return NULL;
    }
    add(o, "id", cJSON_CreateString(model), ok);
    add(o, "object", cJSON_CreateString("model"), ok);
    add(o, "created", cJSON_CreateNumber((double)created), ok);
    add(o, "owned_by", cJSON_CreateString("slm"), ok);
    return o;
}

char *slm_oai_model_json(const char *model, long long created)
{
    bool ok = true;
    return print_and_free(model_object(model, created, &ok), ok);
}

char *slm_oai_models_json(const char *model, long long created)
{
    bool ok = true;
    cJSON *o = cJSON_CreateObject(), *data = cJSON_CreateArray();
    cJSON *m = model_object(model, created, &ok);
    if (!data || !m || !cJSON_AddItemToArray(data, m)) {
        cJSON_Delete(m);
        ok = false;
    }
    if (o) {
        add(o, "object", cJSON_CreateString("list"), &ok);
        add(o, "data", data, &ok);
    } else {
        cJSON_Delete(data);
    }
    return print_and_free(o, ok);
}

char *slm_oai_tokens_json(const int32_t *ids, size_t n)
{
    bool ok = true;
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *v = cJSON_CreateNumber(ids[i]);
        if (!v || !cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            ok = false;
            break;
        }
    }
    if (o)
        add(o, "tokens", arr, &ok);
    else
        cJSON_Delete(arr);
    return print_and_free(o, ok);
}

char *slm_oai_content_json(const char *text, size_t len)
{
    bool ok = true;
    cJSON *o = cJSON_CreateObject();
    if (o)
        add(o, "content", string_n(text, len), &ok);
    return print_and_free(o, ok);
}

char *slm_oai_classify_json(const char *model, const float *probs, size_t n, int n_labels,
                            const char *const *labels)
{
    bool ok = true;
    cJSON *o = cJSON_CreateObject(), *data = cJSON_CreateArray();
    for (size_t i = 0; data && ok && i < n; i++) {
        const float *p = probs + i * (size_t)n_labels;
        int best = 0;
        for (int l = 1; l < n_labels; l++)
            if (p[l] > p[best])
                best = l;
        cJSON *item = cJSON_CreateObject(), *scores = cJSON_CreateArray();
        for (int l = 0; scores && l < n_labels; l++) {
            cJSON *s = cJSON_CreateObject();
            if (s) {
                add(s, "label", cJSON_CreateString(labels[l]), &ok);
                add(s, "score", cJSON_CreateNumber(p[l]), &ok);
            }
            if (!s || !cJSON_AddItemToArray(scores, s)) {
                cJSON_Delete(s);
                ok = false;
            }
        }
        if (item) {
            add(item, "index", cJSON_CreateNumber((double)i), &ok);
            add(item, "label", cJSON_CreateString(labels[best]), &ok);
            add(item, "score", cJSON_CreateNumber(p[best]), &ok);
            add(item, "labels", scores, &ok);
        } else {
            cJSON_Delete(scores);
        }
        if (!item || !cJSON_AddItemToArray(data, item)) {
            cJSON_Delete(item);
            ok = false;
        }
    }
    if (o) {
        add(o, "object", cJSON_CreateString("list"), &ok);
        add(o, "model", cJSON_CreateString(model), &ok);
        add(o, "data", data, &ok);
    } else {
        cJSON_Delete(data);
    }
    return print_and_free(o, ok);
}
