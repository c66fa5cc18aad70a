/*
 * test_serve_handlers.c — the server's endpoints with no sockets: requests
 * built in memory go through slm_serve_handle and a real scheduler on the
 * bundled model (weights/stories260K): routing (404, 405), the API key,
 * chat and completions (whole and streamed, the same text at temperature 0),
 * context_length_exceeded, 429 when slots and queue are full, prefix reuse
 * of a re-sent conversation, tokenize / detokenize, classify on a
 * generator (400), metrics, response ids unique across two servers.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "handlers.h"
#include "test_util.h"

typedef struct {
    slm_metrics *metrics;
    slm_sched *sched;
    slm_serve_app app;
} fixture;

static fixture *start_model(const char *dir, int n_parallel, int n_queue, const char *key);
static fixture *start_at(const char *path, int n_parallel, int n_queue, const char *key);

static fixture *start(int n_parallel, int n_queue, const char *key)
{
    return start_model("weights/stories260K", n_parallel, n_queue, key);
}

static fixture *start_model(const char *dir, int n_parallel, int n_queue, const char *key)
{
    return start_at(test_source_path(dir), n_parallel, n_queue, key);
}

static double next_timeout_s; /* the next fixture's --timeout (test-local setting) */

static fixture *start_at(const char *path, int n_parallel, int n_queue, const char *key)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->metrics = slm_metrics_new();
    slm_sched_config c = {
        .model_dir = path,
        .load = slm_load_options_default(),
        .n_parallel = n_parallel,
        .n_queue = n_queue,
        .timeout_s = next_timeout_s,
    };
    next_timeout_s = 0;
    c.load.n_threads = 1;
    slm_error err = {0};
    assert_int_equal(slm_sched_start(&c, f->metrics, &f->sched, &err), SLM_OK);
    for (int i = 0; i < 2000 && slm_sched_get_state(f->sched, NULL) == SLM_SCHED_LOADING; i++)
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    assert_int_equal(slm_sched_get_state(f->sched, &err), SLM_SCHED_READY);
    slm_serve_app_init(&f->app, f->sched, f->metrics, key);
    return f;
}

static void stop(fixture *f)
{
    slm_sched_free(f->sched);
    slm_metrics_free(f->metrics);
    free(f);
}

static void call(fixture *f, const char *method, const char *path, const char *body,
                 const char *auth, slm_http_response *resp)
{
    slm_http_request req = {
        .method = method,
        .path = path,
        .authorization = auth,
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
    };
    slm_serve_handle(&f->app, &req, resp);
}

/* The body as JSON (the test fails if it is not). */
static cJSON *json_of(const slm_http_response *resp)
{
    assert_non_null(resp->body);
    cJSON *j = cJSON_ParseWithLength(resp->body, resp->body_len);
    assert_non_null(j);
    return j;
}

static const char *error_code(const slm_http_response *resp, char *buf, size_t cap)
{
    cJSON *j = json_of(resp);
    cJSON *code = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "code");
    snprintf(buf, cap, "%s", cJSON_IsString(code) ? code->valuestring : "");
    cJSON_Delete(j);
    return buf;
}

/* Reads a whole stream into a malloc'd string. */
static char *drain(slm_http_stream *st)
{
    size_t len = 0, cap = 1 << 16;
    char *all = malloc(cap);
    for (;;) {
        char buf[4096];
        long n = st->read(st, buf, sizeof buf);
        if (n < 0)
            break;
        if (len + (size_t)n + 1 > cap)
            all = realloc(all, cap *= 2);
        memcpy(all + len, buf, (size_t)n);
        len += (size_t)n;
    }
    all[len] = '\0';
    return all;
}

static void test_routing_and_auth(void **state)
{
    (void)state;
    fixture *f = start(1, 0, "k3y");
    slm_http_response r;
    char code[64];
    call(f, "GET", "/nope", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    slm_http_response_free(&r);
    call(f, "GET", "/v1/chat/completions", NULL, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "POST");
    slm_http_response_free(&r);
    call(f, "POST", "/v1/models", NULL, NULL, &r);
    assert_int_equal(r.status, 405);
    slm_http_response_free(&r);
    /* /health and /metrics need no key */
    call(f, "GET", "/health", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    slm_http_response_free(&r);
    call(f, "GET", "/metrics", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "slm_requests_running 0"));
    slm_http_response_free(&r);
    call(f, "GET", "/v1/models", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(error_code(&r, code, sizeof code), "invalid_api_key");
    slm_http_response_free(&r);
    call(f, "GET", "/v1/models", NULL, "Bearer wrong", &r);
    assert_int_equal(r.status, 401);
    slm_http_response_free(&r);
    call(f, "GET", "/v1/models", NULL, "Bearer k3y", &r);
    assert_int_equal(r.status, 200);
    slm_http_response_free(&r);
    slm_http_request req = {.method = "GET", .path = "/v1/models", .x_api_key = "k3y"};
    slm_serve_handle(&f->app, &req, &r);
    assert_int_equal(r.status, 200);
    slm_http_response_free(&r);
    call(f, "GET", "/v1/models/stories260K", NULL, "Bearer k3y", &r);
    assert_int_equal(r.status, 200);
    slm_http_response_free(&r);
    call(f, "GET", "/v1/models/other", NULL, "Bearer k3y", &r);
    assert_int_equal(r.status, 404);
    slm_http_response_free(&r);
    stop(f);
}

#define CHAT "{\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]," \
             "\"max_tokens\":24,\"temperature\":0,\"seed\":1"

static char *whole_text(fixture *f, const char *path, const char *body, cJSON **usage)
{
    slm_http_response r;
    call(f, "POST", path, body, NULL, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = json_of(&r);
    cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    cJSON *msg = cJSON_GetObjectItem(choice, "message");
    cJSON *text = msg ? cJSON_GetObjectItem(msg, "content") : cJSON_GetObjectItem(choice, "text");
    assert_true(cJSON_IsString(text));
    char *s = strdup(text->valuestring);
    if (usage)
        *usage = cJSON_DetachItemFromObject(j, "usage");
    cJSON_Delete(j);
    slm_http_response_free(&r);
    return s;
}

/* Concatenates the streamed deltas and checks the stream's invariants. */
static char *streamed_text(fixture *f, const char *path, const char *body, bool chat)
{
    slm_http_response r;
    call(f, "POST", path, body, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.stream);
    assert_string_equal(r.content_type, "text/event-stream");
    char *all = drain(r.stream);
    slm_http_response_free(&r);
    char *text = calloc(1, strlen(all) + 1), *id = NULL;
    int n_events = 0, n_finish = 0, n_usage = 0;
    bool done = false;
    for (char *ev = all; *ev;) {
        char *end = strstr(ev, "\n\n");
        assert_non_null(end);
        *end = '\0';
        assert_memory_equal(ev, "data: ", 6);
        assert_false(done); /* nothing after [DONE] */
        if (strcmp(ev + 6, "[DONE]") == 0) {
            done = true;
        } else {
            cJSON *j = cJSON_Parse(ev + 6);
            assert_non_null(j);
            const char *this_id = cJSON_GetObjectItem(j, "id")->valuestring;
            if (!id)
                id = strdup(this_id);
            assert_string_equal(id, this_id); /* every chunk the same id */
            cJSON *choices = cJSON_GetObjectItem(j, "choices");
            if (cJSON_GetArraySize(choices) == 0) {
                n_usage++;
            } else {
                cJSON *c = cJSON_GetArrayItem(choices, 0);
                cJSON *delta = cJSON_GetObjectItem(c, "delta");
                if (chat && n_events == 0)
                    assert_string_equal(cJSON_GetObjectItem(delta, "role")->valuestring,
                                        "assistant");
                cJSON *t = chat ? cJSON_GetObjectItem(delta, "content")
                                : cJSON_GetObjectItem(c, "text");
                if (cJSON_IsString(t))
                    strcat(text, t->valuestring);
                assert_int_equal(n_finish, 0); /* finish_reason only on the last */
                if (cJSON_IsString(cJSON_GetObjectItem(c, "finish_reason")))
                    n_finish++;
            }
            n_events++;
            cJSON_Delete(j);
        }
        ev = end + 2;
    }
    assert_true(done);
    assert_int_equal(n_finish, 1);
    assert_int_equal(n_usage, strstr(body, "include_usage") ? 1 : 0);
    free(id);
    free(all);
    return text;
}

static void test_generation(void **state)
{
    (void)state;
    fixture *f = start(2, 4, NULL);
    cJSON *usage = NULL;
    char *whole = whole_text(f, "/v1/chat/completions", CHAT "}", &usage);
    assert_true(strlen(whole) > 10);
    assert_int_equal(cJSON_GetObjectItem(usage, "completion_tokens")->valueint, 24);
    int prompt_tokens = cJSON_GetObjectItem(usage, "prompt_tokens")->valueint;
    assert_true(prompt_tokens > 1);
    cJSON_Delete(usage);
    char *streamed = streamed_text(f, "/v1/chat/completions", CHAT ",\"stream\":true}", true);
    assert_string_equal(whole, streamed);
    free(streamed);
    streamed = streamed_text(f, "/v1/chat/completions",
                             CHAT ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
                             true);
    assert_string_equal(whole, streamed);
    free(streamed);
    free(whole);

    const char *comp = "{\"prompt\":\"Once upon a time\",\"max_tokens\":16,\"temperature\":0}";
    whole = whole_text(f, "/v1/completions", comp, NULL);
    assert_true(whole[0] != '\0');
    streamed = streamed_text(f, "/v1/completions",
                             "{\"prompt\":\"Once upon a time\",\"max_tokens\":16,"
                             "\"temperature\":0,\"stream\":true}",
                             false);
    assert_string_equal(whole, streamed);
    free(streamed);
    free(whole);
    stop(f);
}

/* The "id" of a whole answer (malloc'd). */
static char *answer_id(fixture *f, const char *path, const char *body)
{
    slm_http_response r;
    call(f, "POST", path, body, NULL, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = json_of(&r);
    cJSON *id = cJSON_GetObjectItem(j, "id");
    assert_true(cJSON_IsString(id));
    char *s = strdup(id->valuestring);
    cJSON_Delete(j);
    slm_http_response_free(&r);
    return s;
}

/* prefix-<29 base-62 characters>, as OpenAI's ids look. */
static void assert_id_shape(const char *id, const char *prefix)
{
    size_t n = strlen(prefix);
    assert_memory_equal(id, prefix, n);
    assert_int_equal(strlen(id + n), SLM_RESPONSE_ID_KEY_LEN + SLM_RESPONSE_ID_COUNTER_LEN);
    for (const char *c = id + n; *c; c++)
        assert_true((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
                    (*c >= 'A' && *c <= 'Z'));
}

/* Two servers started in the same second (replicas behind one nginx) hand
 * out different ids: the ids do not come from the start time. Both apps get
 * the same clock value, so an id built from it and a counter collides. */
static void test_ids_unique_across_servers(void **state)
{
    (void)state;
    fixture *f[2] = {start(1, 0, NULL), start(1, 0, NULL)};
    f[1]->app.created = f[0]->app.created;
    const char *chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":1}";
    const char *comp = "{\"prompt\":\"Hi\",\"max_tokens\":1}";
    char *ids[8];
    int n = 0;
    for (int round = 0; round < 2; round++)
        for (int s = 0; s < 2; s++) {
            ids[n] = answer_id(f[s], "/v1/chat/completions", chat);
            assert_id_shape(ids[n++], "chatcmpl-");
            ids[n] = answer_id(f[s], "/v1/completions", comp);
            assert_id_shape(ids[n++], "cmpl-");
        }
    /* Unique also after the kind prefix (the random key differs). */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            assert_string_not_equal(strchr(ids[i], '-'), strchr(ids[j], '-'));
    for (int i = 0; i < n; i++)
        free(ids[i]);
    stop(f[0]);
    stop(f[1]);

    /* The source itself: two keys differ; one source never repeats. */
    slm_response_id_source a, b;
    slm_response_id_source_init(&a);
    slm_response_id_source_init(&b);
    assert_string_not_equal(a.key, b.key);
    char x[48], y[48], z[48];
    slm_response_id_make(&a, "cmpl", x, sizeof x);
    slm_response_id_make(&a, "cmpl", y, sizeof y);
    slm_response_id_make(&b, "cmpl", z, sizeof z);
    assert_string_not_equal(x, y);
    assert_string_not_equal(x, z);
    assert_memory_equal(x, y, 5 + SLM_RESPONSE_ID_KEY_LEN); /* same key, next count */
}

static void test_context_and_reuse(void **state)
{
    (void)state;
    fixture *f = start(1, 2, NULL);
    /* 512 positions: a prompt of ~2000 words cannot fit */
    size_t n = 12000;
    char *body = malloc(n + 200);
    strcpy(body, "{\"messages\":[{\"role\":\"user\",\"content\":\"");
    for (size_t i = 0; i < 2000; i++)
        strcat(body, "time ");
    strcat(body, "\"}],\"stream\":true}");
    slm_http_response r;
    char code[64];
    call(f, "POST", "/v1/chat/completions", body, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_null(r.stream);
    assert_string_equal(error_code(&r, code, sizeof code), "context_length_exceeded");
    slm_http_response_free(&r);
    free(body);

    /* A conversation re-sent with one more turn reuses the slot's cache. */
    const char *turn1 = "{\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}],"
                        "\"max_tokens\":8,\"temperature\":0}";
    char *reply = whole_text(f, "/v1/chat/completions", turn1, NULL);
    char turn2[1024];
    snprintf(turn2, sizeof turn2,
             "{\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"},"
             "{\"role\":\"assistant\",\"content\":\"%s\"},"
             "{\"role\":\"user\",\"content\":\"and then\"}],\"max_tokens\":8,\"temperature\":0}",
             reply);
    cJSON *usage = NULL;
    free(whole_text(f, "/v1/chat/completions", turn2, &usage));
    int cached = cJSON_GetObjectItem(cJSON_GetObjectItem(usage, "prompt_tokens_details"),
                                     "cached_tokens")->valueint;
    int prompt = cJSON_GetObjectItem(usage, "prompt_tokens")->valueint;
    assert_true(cached >= 5);
    assert_true(prompt > cached); /* usage still counts the whole prompt */
    cJSON_Delete(usage);
    free(reply);
    stop(f);
}

static void test_queue_full(void **state)
{
    (void)state;
    fixture *f = start(1, 0, NULL);
    /* One stream holds the only slot while it is not read to the end. */
    slm_http_response r1, r2;
    char code[64];
    call(f, "POST", "/v1/completions",
         "{\"prompt\":\"Once\",\"max_tokens\":400,\"stream\":true,\"temperature\":0}", NULL, &r1);
    assert_int_equal(r1.status, 200);
    call(f, "POST", "/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2}", NULL, &r2);
    assert_int_equal(r2.status, 429);
    assert_int_equal(r2.retry_after, 1);
    assert_string_equal(error_code(&r2, code, sizeof code), "rate_limit_exceeded");
    slm_http_response_free(&r2);
    /* Closing the stream early (a client that left) frees the slot. */
    slm_http_response_free(&r1);
    int status = 429;
    for (int i = 0; i < 200 && status == 429; i++) {
        call(f, "POST", "/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2}", NULL, &r2);
        status = r2.status;
        slm_http_response_free(&r2);
        if (status == 429)
            nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    assert_int_equal(status, 200);
    stop(f);
}

static void test_tokens_and_classify(void **state)
{
    (void)state;
    fixture *f = start(1, 0, NULL);
    slm_http_response r;
    call(f, "POST", "/tokenize", "{\"content\":\"Once upon a time\"}", NULL, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = json_of(&r);
    cJSON *ids = cJSON_GetObjectItem(j, "tokens");
    assert_true(cJSON_GetArraySize(ids) > 1);
    char *printed = cJSON_PrintUnformatted(ids);
    cJSON_Delete(j);
    slm_http_response_free(&r);
    char body[512];
    snprintf(body, sizeof body, "{\"tokens\":%s}", printed);
    free(printed);
    call(f, "POST", "/detokenize", body, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Once upon a time"));
    slm_http_response_free(&r);
    call(f, "POST", "/detokenize", "{\"tokens\":[99999]}", NULL, &r);
    assert_int_equal(r.status, 400);
    slm_http_response_free(&r);
    call(f, "POST", "/v1/classify", "{\"input\":\"good\"}", NULL, &r);
    assert_int_equal(r.status, 400);
    char code[64];
    assert_string_equal(error_code(&r, code, sizeof code), "model_not_supported");
    slm_http_response_free(&r);
    call(f, "POST", "/v1/completions", "{\"prompt\":[1, 99999]}", NULL, &r);
    assert_int_equal(r.status, 400);
    slm_http_response_free(&r);
    stop(f);
}

/* A model with a chat template (the tinyllama fixture): the prompt is the
 * template's render, longer than the message itself. */
static void test_template_model(void **state)
{
    (void)state;
    fixture *f = start_model("tests/fixtures/models/tinyllama", 1, 0, NULL);
    cJSON *usage = NULL;
    free(whole_text(f, "/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                    "\"max_tokens\":3,\"temperature\":0}",
                    &usage));
    int prompt = cJSON_GetObjectItem(usage, "prompt_tokens")->valueint;
    assert_true(prompt > 5); /* <|user|>\nhi</s>\n<|assistant|>\n and a BOS */
    cJSON_Delete(usage);
    stop(f);
}

/* A classifier answers /v1/classify and refuses to generate. */
static void test_classifier_model(void **state)
{
    (void)state;
    fixture *f = start_model("tests/fixtures/models/distilbert_sst2", 1, 0, NULL);
    slm_http_response r;
    char code[64];
    call(f, "POST", "/v1/classify", "{\"input\":[\"a great movie\",\"awful\"]}", NULL, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = json_of(&r);
    cJSON *data = cJSON_GetObjectItem(j, "data");
    assert_int_equal(cJSON_GetArraySize(data), 2);
    cJSON *first = cJSON_GetArrayItem(data, 0);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(first, "label")));
    double sum = 0;
    cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(first, "labels"))
        sum += cJSON_GetObjectItem(l, "score")->valuedouble;
    assert_true(sum > 0.999 && sum < 1.001);
    cJSON_Delete(j);
    slm_http_response_free(&r);
    call(f, "POST", "/v1/chat/completions",
         "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(error_code(&r, code, sizeof code), "model_not_supported");
    slm_http_response_free(&r);
    call(f, "POST", "/v1/completions", "{\"prompt\":\"hi\"}", NULL, &r);
    assert_int_equal(r.status, 400);
    slm_http_response_free(&r);
    stop(f);
}

/* A chat template that exists but does not load: the model still serves
 * completions; chat is a 500 naming the template (never the fallback). */
static void test_broken_template(void **state)
{
    (void)state;
    char *dir = test_make_tmpdir();
    const char *files[] = {"config.json", "model.safetensors", "tokenizer.json",
                           "tokenizer_config.json", "generation_config.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/%s", test_source_path("weights/stories260K"), files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        assert_int_equal(symlink(src, dst), 0);
    }
    const char *bad = "{% if %}broken";
    free(test_write_file(dir, "chat_template.jinja", bad, strlen(bad)));
    fixture *f = start_at(dir, 1, 0, NULL);
    slm_http_response r;
    char code[64];
    call(f, "POST", "/v1/chat/completions",
         "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}", NULL, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(error_code(&r, code, sizeof code), "chat_template_error");
    assert_non_null(strstr(r.body, "chat_template.jinja"));
    slm_http_response_free(&r);
    call(f, "POST", "/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2}", NULL, &r);
    assert_int_equal(r.status, 200);
    slm_http_response_free(&r);
    stop(f);
    test_rmtree(dir);
    free(dir);
}

static bool always_gone(void *ctx)
{
    (void)ctx;
    return true;
}

/* A non-streamed request whose client hung up is ended at the next step the
 * handler sees: fewer tokens than the same request's whole reply (342
 * tokens to its EOS). How many fewer depends on when the handler thread
 * runs, not on the server: at ~50,000 tok/s a 2 ms scheduler delay is 100
 * tokens, so a fixed bound would fail on a loaded machine. */
static void test_client_gone_whole(void **state)
{
    (void)state;
    fixture *f = start(1, 0, NULL);
    const char *body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":500,\"temperature\":0}";
    slm_http_response r;
    call(f, "POST", "/v1/completions", body, NULL, &r);
    assert_int_equal(r.status, 200);
    int whole = r.completion_tokens;
    assert_true(whole > 200); /* long enough for the cancellation to show */
    slm_http_response_free(&r);
    slm_http_request req = {.method = "POST", .path = "/v1/completions", .body = body,
                            .body_len = strlen(body), .client_gone = always_gone};
    slm_serve_handle(&f->app, &req, &r);
    if (r.status == 200)
        assert_true(r.completion_tokens < whole);
    else
        assert_int_equal(r.status, 499); /* gone before its prompt was even read */
    slm_http_response_free(&r);
    /* the slot is free again */
    call(f, "POST", "/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2}", NULL, &r);
    assert_int_equal(r.status, 200);
    slm_http_response_free(&r);
    stop(f);
}

/* --timeout: a request still waiting for a slot when its time is up gets a
 * 503 timeout; one already running is ended with finish_reason "length". */
static void test_timeout(void **state)
{
    (void)state;
    next_timeout_s = 1e-9;
    fixture *f = start(1, 1, NULL);
    slm_http_response r;
    char code[64];
    call(f, "POST", "/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":50}", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(error_code(&r, code, sizeof code), "timeout");
    slm_http_response_free(&r);
    stop(f);

    /* A running one: its natural length first, then the same under 5 ms. */
    const char *body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":500,\"temperature\":0}";
    f = start(1, 1, NULL);
    call(f, "POST", "/v1/completions", body, NULL, &r);
    assert_int_equal(r.status, 200);
    int natural = r.completion_tokens;
    slm_http_response_free(&r);
    stop(f);
    assert_true(natural > 100);
    next_timeout_s = 0.005;
    f = start(1, 1, NULL);
    call(f, "POST", "/v1/completions", body, NULL, &r);
    print_message("--timeout 0.005: status %d, %d of %d tokens\n", r.status, r.completion_tokens,
                  natural);
    if (r.status == 200) {
        assert_true(r.completion_tokens < natural);
        assert_non_null(strstr(r.body, "\"finish_reason\":\"length\""));
    } else { /* the scheduler thread was slower than 5 ms to give it a slot */
        assert_int_equal(r.status, 503);
    }
    slm_http_response_free(&r);
    stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing_and_auth),  cmocka_unit_test(test_generation),
        cmocka_unit_test(test_context_and_reuse), cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_tokens_and_classify), cmocka_unit_test(test_template_model),
        cmocka_unit_test(test_classifier_model), cmocka_unit_test(test_broken_template),
        cmocka_unit_test(test_client_gone_whole), cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_ids_unique_across_servers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
