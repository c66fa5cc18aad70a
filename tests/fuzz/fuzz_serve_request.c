/*
 * fuzz_serve_request.c — libFuzzer harness for the server's request parsing
 * (engine/serve/oai.c: every body a client can send) and its access-log
 * line (engine/serve/http.c). The first byte picks the endpoint (chat,
 * completion, tokenize, detokenize, classify, log line); the rest is the
 * body. A parse must succeed or give a 400 naming a field (500 only for
 * memory); what parses is built into the responses a client would get,
 * which must be valid JSON; a log line never holds a control byte.
 *
 * The fuzz and replay targets link only slm_engine, so the two server
 * files are compiled into this harness (until the build links slm_serve
 * here; then define SLM_FUZZ_LINKS_SERVE).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#ifndef SLM_FUZZ_LINKS_SERVE
#include "../../engine/serve/http.c"
#include "../../engine/serve/oai.c"
#else
#include "http.h"
#include "oai.h"
#endif

static void must_be_json(char *s)
{
    if (!s)
        return; /* out of memory is allowed, nothing else */
    cJSON *j = cJSON_Parse(s);
    if (!j)
        abort();
    cJSON_Delete(j);
    free(s);
}

/* "data: {...}\n\n" events must hold JSON too. */
static void must_be_sse(char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (n < 8 || memcmp(s, "data: ", 6) != 0 || strcmp(s + n - 2, "\n\n") != 0)
        abort();
    s[n - 2] = '\0';
    cJSON *j = cJSON_Parse(s + 6);
    if (!j)
        abort();
    cJSON_Delete(j);
    free(s);
}

static void check_error(const slm_oai_error *e)
{
    if (e->status != 400 && e->status != 500)
        abort();
    if (e->message[0] == '\0')
        abort();
    must_be_json(slm_oai_error_json(e));
}

static void build_generation(const slm_oai_request *r)
{
    slm_oai_meta m = {r->kind, "id-1", 1, "model"};
    slm_oai_usage u = {3, 1, 2};
    const char *text = "";
    size_t len = 0;
    if (r->kind == SLM_OAI_CHAT) {
        text = r->messages[r->n_messages - 1].content;
        len = strlen(text);
    } else if (r->prompt) {
        text = r->prompt;
        len = strlen(text);
    }
    must_be_json(slm_oai_completion_json(&m, text, len, "stop", &u));
    must_be_sse(slm_oai_chunk_sse(&m, text, len, true, NULL, r->include_usage));
    must_be_sse(slm_oai_chunk_sse(&m, "", 0, false, "length", r->include_usage));
    must_be_sse(slm_oai_usage_sse(&m, &u));
    for (size_t i = 0; i < r->n_stop; i++)
        if (r->stop[i][0] == '\0')
            abort(); /* empty stops are dropped */
}

static void fuzz_log_line(const char *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    char line[512];
    slm_http_log_line(line, sizeof line, s, s + size / 2, 200, 1, 2, 0.5);
    for (const char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            abort();
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    slm_oai_error e = {0};
    switch (data[0] % 6) {
    case 0:
    case 1: {
        slm_oai_request r;
        bool ok = data[0] % 6 == 0 ? slm_oai_parse_chat(body, len, &r, &e)
                                   : slm_oai_parse_completion(body, len, &r, &e);
        if (!ok) {
            check_error(&e);
            break;
        }
        build_generation(&r);
        slm_oai_request_free(&r);
        break;
    }
    case 2:
    case 3: {
        slm_oai_tokens_request t;
        bool ok = data[0] % 6 == 2 ? slm_oai_parse_tokenize(body, len, &t, &e)
                                   : slm_oai_parse_detokenize(body, len, &t, &e);
        if (!ok) {
            check_error(&e);
            break;
        }
        if (t.ids)
            must_be_json(slm_oai_tokens_json(t.ids, t.n_ids));
        if (t.content)
            must_be_json(slm_oai_content_json(t.content, strlen(t.content)));
        slm_oai_tokens_request_free(&t);
        break;
    }
    case 4: {
        slm_oai_classify_request c;
        if (!slm_oai_parse_classify(body, len, &c, &e)) {
            check_error(&e);
            break;
        }
        if (c.n < 1 || c.n > SLM_OAI_MAX_CLASSIFY)
            abort();
        slm_oai_classify_request_free(&c);
        break;
    }
    default:
        fuzz_log_line(body, len);
        break;
    }
    return 0;
}
