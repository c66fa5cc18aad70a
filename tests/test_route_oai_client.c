/*
 * test_route_oai_client.c — the client direction of the OpenAI mapping
 * (engine/serve/oai_client.c) against the server's own builders (oai.c):
 * what the server writes, the client reads back; what the client sends,
 * the server parses. No sockets, no model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oai.h"
#include "oai_client.h"

static const slm_oai_meta chat_meta = {SLM_OAI_CHAT, "chatcmpl-1", 1700000000, "m"};

static void test_request_round_trip(void **state)
{
    (void)state;
    slm_chat_message msgs[2] = {{"system", "Be brief."}, {"user", "Say \"hi\"\n\u00e9"}};
    char *stops[] = {"END", "\n\n"};
    slm_oai_request q = {0};
    q.kind = SLM_OAI_CHAT;
    q.messages = msgs;
    q.n_messages = 2;
    q.max_tokens = 33;
    q.sampling = slm_sampler_params_default();
    q.sampling.temperature = 0.25f;
    q.sampling.top_p = 0.5f;
    q.seed_given = true;
    q.sampling.seed = 1234;
    q.stop = stops;
    q.n_stop = 2;
    q.stream = true;
    q.include_usage = true;
    char *body = slm_oai_chat_request_json(&q, "gpt-4o");
    assert_non_null(body);
    slm_oai_request back;
    slm_oai_error e;
    assert_true(slm_oai_parse_chat(body, strlen(body), &back, &e));
    assert_int_equal(back.n_messages, 2);
    assert_string_equal(back.messages[0].role, "system");
    assert_string_equal(back.messages[1].content, msgs[1].content);
    assert_int_equal(back.max_tokens, 33);
    assert_true(back.sampling.temperature == 0.25f);
    assert_true(back.sampling.top_p == 0.5f);
    assert_true(back.seed_given && back.sampling.seed == 1234);
    assert_int_equal(back.n_stop, 2);
    assert_string_equal(back.stop[1], "\n\n");
    assert_true(back.stream && back.include_usage);
    assert_non_null(strstr(body, "\"model\":\"gpt-4o\""));
    /* OpenAI refuses parameters it does not know: none of slm's own are sent */
    assert_null(strstr(body, "top_k"));
    assert_null(strstr(body, "min_p"));
    assert_null(strstr(body, "repeat_penalty"));
    slm_oai_request_free(&back);
    free(body);
}

static void test_completion_round_trip(void **state)
{
    (void)state;
    slm_oai_usage u = {12, 3, 34};
    const char text[] = "Paris\0is";
    char *json = slm_oai_completion_json(&chat_meta, text, sizeof text - 1, "stop", &u);
    slm_oai_response r;
    slm_oai_error e;
    assert_true(slm_oai_parse_response(json, strlen(json), &r, &e));
    assert_string_equal(r.text, "Paris\xEF\xBF\xBDis"); /* the server's NUL -> U+FFFD */
    assert_string_equal(r.finish_reason, "stop");
    assert_true(r.has_usage);
    assert_int_equal(r.usage.prompt_tokens, 12);
    assert_int_equal(r.usage.cached_tokens, 3);
    assert_int_equal(r.usage.completion_tokens, 34);
    assert_string_equal(r.model, "m");
    slm_oai_response_free(&r);
    free(json);
    slm_oai_meta cm = {SLM_OAI_COMPLETION, "cmpl-1", 1, "m"};
    json = slm_oai_completion_json(&cm, "text!", 5, "length", &u);
    assert_true(slm_oai_parse_response(json, strlen(json), &r, &e));
    assert_string_equal(r.text, "text!");
    assert_string_equal(r.finish_reason, "length");
    slm_oai_response_free(&r);
    free(json);
}

typedef struct {
    char text[256];
    int events, done, usage_prompt;
    char finish[32];
} stream_seen;

static bool on_event(void *user, const char *data, size_t len)
{
    stream_seen *s = user;
    slm_oai_chunk c;
    slm_oai_error e;
    assert_true(slm_oai_parse_chunk(data, len, &c, &e));
    s->events++;
    s->done += c.done;
    strncat(s->text, c.text, c.len);
    if (c.finish_reason[0])
        snprintf(s->finish, sizeof s->finish, "%s", c.finish_reason);
    if (c.has_usage)
        s->usage_prompt = c.usage.prompt_tokens;
    slm_oai_chunk_free(&c);
    return true;
}

/* The server's whole stream, fed to the SSE parser in pieces of every size. */
static void test_stream_round_trip(void **state)
{
    (void)state;
    slm_oai_usage u = {7, 0, 2};
    char *parts[] = {
        slm_oai_chunk_sse(&chat_meta, "Hel", 3, true, NULL, true),
        slm_oai_chunk_sse(&chat_meta, "lo", 2, false, NULL, true),
        slm_oai_chunk_sse(&chat_meta, "", 0, false, "stop", true),
        slm_oai_usage_sse(&chat_meta, &u),
        slm_oai_done_sse(),
    };
    char all[4096] = "";
    for (int i = 0; i < 5; i++) {
        assert_non_null(parts[i]);
        strcat(all, parts[i]);
        free(parts[i]);
    }
    size_t n = strlen(all);
    for (size_t step = 1; step <= n; step = step < 8 ? step + 1 : step * 3) {
        slm_sse_parser p;
        slm_sse_init(&p);
        stream_seen s = {0};
        for (size_t off = 0; off < n; off += step)
            assert_true(slm_sse_feed(&p, all + off, off + step > n ? n - off : step, on_event, &s));
        assert_int_equal(s.events, 5);
        assert_int_equal(s.done, 1);
        assert_string_equal(s.text, "Hello");
        assert_string_equal(s.finish, "stop");
        assert_int_equal(s.usage_prompt, 7);
        slm_sse_free(&p);
    }
}

static bool count_event(void *user, const char *data, size_t len)
{
    char *out = user;
    strncat(out, data, len);
    strcat(out, "|");
    return true;
}

static void test_sse_framing(void **state)
{
    (void)state;
    const char *in = ": comment\r\nevent: x\r\ndata: a\r\ndata:b\r\n\r\nid: 3\n\ndata: c\n\n";
    char seen[64] = "";
    slm_sse_parser p;
    slm_sse_init(&p);
    assert_true(slm_sse_feed(&p, in, strlen(in), count_event, seen));
    assert_string_equal(seen, "a\nb|c|");
    slm_sse_free(&p);
    /* a line above the cap fails the feed */
    slm_sse_init(&p);
    p.max_bytes = 16;
    assert_false(slm_sse_feed(&p, "data: 0123456789abcdef\n", 23, count_event, seen));
    slm_sse_free(&p);
}

static void test_error_round_trip(void **state)
{
    (void)state;
    slm_oai_error e, back;
    slm_oai_fail(&e, 429, "queue_full", "model", "server busy: %d waiting", 64);
    char *json = slm_oai_error_json(&e);
    slm_oai_parse_error_body(429, json, strlen(json), &back);
    assert_int_equal(back.status, 429);
    assert_string_equal(back.type, "rate_limit_error");
    assert_string_equal(back.code, "queue_full");
    assert_string_equal(back.param, "model");
    assert_string_equal(back.message, "server busy: 64 waiting");
    free(json);
    /* inside a stream */
    json = slm_oai_error_sse(&e);
    slm_oai_chunk c;
    slm_oai_error pe;
    assert_true(slm_oai_parse_chunk(json + 6, strlen(json + 6), &c, &pe));
    assert_true(c.is_error);
    assert_string_equal(c.error.message, "server busy: 64 waiting");
    slm_oai_chunk_free(&c);
    free(json);
    /* a proxy's HTML page: its first line, cut */
    slm_oai_parse_error_body(502, "<html>Bad gateway</html>\nmore", 29, &back);
    assert_string_equal(back.message, "<html>Bad gateway</html>");
    assert_string_equal(back.type, "api_error");
    slm_oai_parse_error_body(503, "", 0, &back);
    assert_string_equal(back.message, "(empty body)");
}

static void test_malformed_answers(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "{", "[]", "{\"choices\": 3}", "{\"choices\": []}",
        "{\"choices\": [{\"message\": 5}]}", "{\"choices\": [{\"message\": {\"content\": 5}}]}",
        "{\"choices\": [{\"message\": {\"content\": \"x\"}}], \"usage\": 3}",
        "{\"choices\": [{}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        slm_oai_response r;
        slm_oai_error e;
        assert_false(slm_oai_parse_response(bad[i], strlen(bad[i]), &r, &e));
        assert_non_null(strstr(e.message, "malformed") ? e.message : NULL);
    }
    slm_oai_chunk c;
    slm_oai_error e;
    assert_false(slm_oai_parse_chunk("{\"x\":1}", 7, &c, &e));
    assert_false(slm_oai_parse_chunk("nope", 4, &c, &e));
    assert_true(slm_oai_parse_chunk("[DONE]\r\n", 8, &c, &e));
    assert_true(c.done);
    /* a role-only delta and a null content are "" */
    const char *role = "{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null}}]}";
    assert_true(slm_oai_parse_chunk(role, strlen(role), &c, &e));
    assert_int_equal(c.len, 0);
    slm_oai_chunk_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip), cmocka_unit_test(test_completion_round_trip),
        cmocka_unit_test(test_stream_round_trip),  cmocka_unit_test(test_sse_framing),
        cmocka_unit_test(test_error_round_trip),   cmocka_unit_test(test_malformed_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
