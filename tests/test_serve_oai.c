/*
 * test_serve_oai.c — the server's OpenAI JSON mapping with no sockets and
 * no model (engine/serve/oai.c), plus its small HTTP helpers (http.c):
 * request parsing and the bad-input matrix, the response / chunk / usage /
 * error shapes, NUL bytes, the access-log line, the key comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "http.h"
#include "oai.h"

static bool parse_chat(const char *body, slm_oai_request *r, slm_oai_error *e)
{
    return slm_oai_parse_chat(body, strlen(body), r, e);
}

static void test_chat_minimal(void **state)
{
    (void)state;
    slm_oai_request r;
    slm_oai_error e;
    assert_true(parse_chat("{\"model\":\"x\",\"messages\":[{\"role\":\"system\",\"content\":\"S\"},"
                           "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                           "{\"type\":\"text\",\"text\":\"b\"}]}],\"unknown_field\":{\"x\":1}}",
                           &r, &e));
    assert_int_equal(r.kind, SLM_OAI_CHAT);
    assert_int_equal(r.n_messages, 2);
    assert_string_equal(r.messages[0].role, "system");
    assert_string_equal(r.messages[0].content, "S");
    assert_string_equal(r.messages[1].content, "a\nb");
    assert_int_equal(r.max_tokens, -1);
    assert_false(r.stream);
    assert_false(r.seed_given);
    slm_oai_request_free(&r);
}

static void test_chat_fields(void **state)
{
    (void)state;
    slm_oai_request r;
    slm_oai_error e;
    assert_true(parse_chat("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                           "\"max_completion_tokens\":7,\"temperature\":0.5,\"top_p\":0.9,"
                           "\"top_k\":3,\"min_p\":0.1,\"seed\":42,\"stop\":[\"x\",\"\",\"yz\"],"
                           "\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                           "\"presence_penalty\":0,\"n\":1}",
                           &r, &e));
    assert_int_equal(r.max_tokens, 7);
    assert_true(r.sampling.temperature == 0.5f);
    assert_true(r.sampling.top_p == 0.9f);
    assert_int_equal(r.sampling.top_k, 3);
    assert_true(r.seed_given);
    assert_int_equal(r.sampling.seed, 42);
    assert_int_equal(r.n_stop, 2); /* the empty one stops nothing */
    assert_string_equal(r.stop[1], "yz");
    assert_true(r.stream && r.include_usage);
    slm_oai_request_free(&r);
    /* a single stop string */
    assert_true(parse_chat("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":\".\"}",
                           &r, &e));
    assert_int_equal(r.n_stop, 1);
    slm_oai_request_free(&r);
}

/* Every bad request is a 400 naming the field, never a crash or a pass. */
static void test_chat_bad_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *code;
        const char *in_message;
    } cases[] = {
        {"{", "invalid_json", "malformed JSON"},
        {"", "invalid_json", "malformed"},
        {"[1,2]", "invalid_json", "object"},
        {"{\"messages\":[]} x", "invalid_json", "after the JSON"},
        {"{}", "missing_field", "messages"},
        {"{\"messages\":null}", "missing_field", "messages"},
        {"{\"messages\":[]}", "invalid_value", "empty"},
        {"{\"messages\":\"hi\"}", "invalid_type", "messages"},
        {"{\"messages\":[\"hi\"]}", "invalid_type", "messages[0]"},
        {"{\"messages\":[{\"content\":\"hi\"}]}", "invalid_type", "messages[0].role"},
        {"{\"messages\":[{\"role\":1,\"content\":\"hi\"}]}", "invalid_type", "role"},
        {"{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "invalid_value", "role"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "invalid_type", "content"},
        {"{\"messages\":[{\"role\":\"user\"}]}", "missing_field", "content"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}",
         "unsupported_content", "text"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":3}]}]}",
         "invalid_type", "text"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":-1}",
         "invalid_value", "max_tokens"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}",
         "invalid_value", "max_tokens"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1.5}",
         "invalid_type", "max_tokens"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":\"5\"}",
         "invalid_type", "max_tokens"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}",
         "invalid_value", "temperature"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":-0.1}",
         "invalid_value", "temperature"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":\"hot\"}",
         "invalid_type", "temperature"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":1.5}",
         "invalid_value", "top_p"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_k\":-2}",
         "invalid_value", "top_k"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"min_p\":2}", "invalid_value",
         "min_p"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":1.5}", "invalid_type",
         "seed"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}",
         "unsupported_parameter", "n"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"presence_penalty\":0.5}",
         "unsupported_parameter", "presence_penalty"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"frequency_penalty\":3}",
         "invalid_value", "frequency_penalty"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":5}", "invalid_type",
         "stop"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[\"a\",1]}",
         "invalid_type", "stop[1]"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}",
         "invalid_type", "stream"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":3}",
         "invalid_type", "stream_options"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        slm_oai_request r;
        slm_oai_error e = {0};
        bool ok = parse_chat(cases[i].body, &r, &e);
        if (ok || e.status != 400 || !e.code || strcmp(e.code, cases[i].code) != 0 ||
            !strstr(e.message, cases[i].in_message))
            fail_msg("case %zu (%s): ok=%d status=%d code=%s message=%s", i, cases[i].body, ok,
                     e.status, e.code ? e.code : "-", e.message);
    }
}

/* cJSON ends a string at U+0000: such bodies are refused, never cut short. */
static void test_nul_refused(void **state)
{
    (void)state;
    slm_oai_request r;
    slm_oai_error e;
    assert_false(parse_chat("{\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}",
                            &r, &e));
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message, "U+0000"));
    /* an escaped backslash before u0000 is just text */
    assert_true(parse_chat("{\"messages\":[{\"role\":\"user\",\"content\":\"a\\\\u0000b\"}]}",
                           &r, &e));
    assert_string_equal(r.messages[0].content, "a\\u0000b");
    slm_oai_request_free(&r);
    const char raw[] = "{\"messages\":[{\"role\":\"user\",\"content\":\"a\0b\"}]}";
    assert_false(slm_oai_parse_chat(raw, sizeof raw - 1, &r, &e));
    assert_string_equal(e.code, "invalid_json");
}

static void test_completion_prompts(void **state)
{
    (void)state;
    slm_oai_request r;
    slm_oai_error e;
    const char *b = "{\"prompt\":\"Once\",\"max_tokens\":3}";
    assert_true(slm_oai_parse_completion(b, strlen(b), &r, &e));
    assert_string_equal(r.prompt, "Once");
    slm_oai_request_free(&r);
    b = "{\"prompt\":[\"Once\"]}";
    assert_true(slm_oai_parse_completion(b, strlen(b), &r, &e));
    assert_string_equal(r.prompt, "Once");
    slm_oai_request_free(&r);
    b = "{\"prompt\":[1,2,3]}";
    assert_true(slm_oai_parse_completion(b, strlen(b), &r, &e));
    assert_int_equal(r.n_prompt_ids, 3);
    assert_int_equal(r.prompt_ids[2], 3);
    slm_oai_request_free(&r);
    const char *bad[] = {"{}", "{\"prompt\":5}", "{\"prompt\":[\"a\",\"b\"]}",
                         "{\"prompt\":[1,-2]}", "{\"prompt\":[1,2.5]}", "{\"prompt\":[]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (slm_oai_parse_completion(bad[i], strlen(bad[i]), &r, &e) || e.status != 400)
            fail_msg("%s accepted", bad[i]);
    }
}

static void test_other_requests(void **state)
{
    (void)state;
    slm_oai_tokens_request t;
    slm_oai_error e;
    const char *b = "{\"content\":\"hi\",\"add_special\":true}";
    assert_true(slm_oai_parse_tokenize(b, strlen(b), &t, &e));
    assert_string_equal(t.content, "hi");
    assert_true(t.add_special);
    slm_oai_tokens_request_free(&t);
    b = "{\"tokens\":[5,6]}";
    assert_true(slm_oai_parse_detokenize(b, strlen(b), &t, &e));
    assert_int_equal(t.n_ids, 2);
    slm_oai_tokens_request_free(&t);
    b = "{\"tokens\":\"5\"}";
    assert_false(slm_oai_parse_detokenize(b, strlen(b), &t, &e));
    b = "{\"content\":3}";
    assert_false(slm_oai_parse_tokenize(b, strlen(b), &t, &e));
    slm_oai_classify_request c;
    b = "{\"input\":[\"good\",\"bad\"]}";
    assert_true(slm_oai_parse_classify(b, strlen(b), &c, &e));
    assert_int_equal(c.n, 2);
    slm_oai_classify_request_free(&c);
    b = "{\"input\":[\"good\",2]}";
    assert_false(slm_oai_parse_classify(b, strlen(b), &c, &e));
    assert_int_equal(e.status, 400);
}

static cJSON *parse_json(const char *s)
{
    assert_non_null(s);
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

static const char *str_at(const cJSON *o, const char *path)
{
    /* "a.b.0.c" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur = (*tok >= '0' && *tok <= '9') ? cJSON_GetArrayItem(cur, atoi(tok))
                                           : cJSON_GetObjectItemCaseSensitive(cur, tok);
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static void test_response_shapes(void **state)
{
    (void)state;
    slm_oai_meta m = {SLM_OAI_CHAT, "chatcmpl-1", 1700000000, "stories260K"};
    slm_oai_usage u = {5, 2, 3};
    char *s = slm_oai_completion_json(&m, "a\0b", 3, "stop", &u);
    cJSON *j = parse_json(s);
    assert_string_equal(str_at(j, "object"), "chat.completion");
    assert_string_equal(str_at(j, "choices.0.message.role"), "assistant");
    /* the NUL byte came back as U+FFFD, not as the end of the string */
    assert_string_equal(str_at(j, "choices.0.message.content"), "a\xEF\xBF\xBD" "b");
    assert_string_equal(str_at(j, "choices.0.finish_reason"), "stop");
    cJSON *usage = cJSON_GetObjectItem(j, "usage");
    assert_int_equal(cJSON_GetObjectItem(usage, "total_tokens")->valueint, 8);
    cJSON_Delete(j);
    free(s);

    s = slm_oai_chunk_sse(&m, "", 0, true, NULL, true);
    assert_memory_equal(s, "data: {", 7);
    assert_string_equal(s + strlen(s) - 2, "\n\n");
    s[strlen(s) - 2] = '\0';
    j = parse_json(s + 6);
    assert_string_equal(str_at(j, "object"), "chat.completion.chunk");
    assert_string_equal(str_at(j, "choices.0.delta.role"), "assistant");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "usage")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "finish_reason")));
    cJSON_Delete(j);
    free(s);

    s = slm_oai_usage_sse(&m, &u);
    s[strlen(s) - 2] = '\0';
    j = parse_json(s + 6);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "choices")), 0);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "usage"), "prompt_tokens")->valueint, 5);
    cJSON_Delete(j);
    free(s);

    s = slm_oai_done_sse();
    assert_string_equal(s, "data: [DONE]\n\n");
    free(s);

    slm_oai_meta mc = {SLM_OAI_COMPLETION, "cmpl-1", 1, "m"};
    s = slm_oai_chunk_sse(&mc, " there", 6, false, "length", false);
    s[strlen(s) - 2] = '\0';
    j = parse_json(s + 6);
    assert_string_equal(str_at(j, "object"), "text_completion");
    assert_string_equal(str_at(j, "choices.0.text"), " there");
    assert_string_equal(str_at(j, "choices.0.finish_reason"), "length");
    assert_null(cJSON_GetObjectItem(j, "usage"));
    cJSON_Delete(j);
    free(s);

    slm_oai_error e;
    slm_oai_fail(&e, 400, "context_length_exceeded", "messages", "too long: %d", 9);
    s = slm_oai_error_json(&e);
    j = parse_json(s);
    assert_string_equal(str_at(j, "error.message"), "too long: 9");
    assert_string_equal(str_at(j, "error.type"), "invalid_request_error");
    assert_string_equal(str_at(j, "error.code"), "context_length_exceeded");
    assert_string_equal(str_at(j, "error.param"), "messages");
    cJSON_Delete(j);
    free(s);

    s = slm_oai_models_json("stories260K", 5);
    j = parse_json(s);
    assert_string_equal(str_at(j, "object"), "list");
    assert_string_equal(str_at(j, "data.0.id"), "stories260K");
    cJSON_Delete(j);
    free(s);

    const char *labels[] = {"NEG", "POS"};
    float probs[] = {0.2f, 0.8f, 0.9f, 0.1f};
    s = slm_oai_classify_json("m", probs, 2, 2, labels);
    j = parse_json(s);
    assert_string_equal(str_at(j, "data.0.label"), "POS");
    assert_string_equal(str_at(j, "data.1.label"), "NEG");
    assert_string_equal(str_at(j, "data.1.labels.1.label"), "POS");
    cJSON_Delete(j);
    free(s);
    assert_string_equal(slm_oai_finish_reason(SLM_STOP_EOS), "stop");
    assert_string_equal(slm_oai_finish_reason(SLM_STOP_STRING), "stop");
    assert_string_equal(slm_oai_finish_reason(SLM_STOP_CONTEXT), "length");
}

/* Error messages name fields, never the client's content. */
static void test_errors_do_not_echo(void **state)
{
    (void)state;
    slm_oai_request r;
    slm_oai_error e;
    assert_false(parse_chat("{\"messages\":[{\"role\":\"SECRET-ROLE\",\"content\":\"SECRET\"}]}",
                            &r, &e));
    assert_null(strstr(e.message, "SECRET"));
    assert_false(parse_chat("{\"messages\":\"SECRET\"}", &r, &e));
    assert_null(strstr(e.message, "SECRET"));
}

static void test_log_line(void **state)
{
    (void)state;
    char line[512];
    slm_http_log_line(line, sizeof line, "POST", "/v1/x\r\nFAKE 200\x1b[31m\\", 400, 3, 4, 0.5);
    assert_null(strchr(line, '\n'));
    assert_null(strchr(line, '\r'));
    assert_null(strchr(line, '\x1b'));
    assert_non_null(strstr(line, "/v1/x\\x0d\\x0aFAKE 200\\x1b[31m\\x5c 400 prompt=3 gen=4"));
    char path[2000];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    slm_http_log_line(line, sizeof line, "GET", path, 404, 0, 0, 0.001);
    assert_true(strlen(line) < 300);
    assert_non_null(strstr(line, "... 404"));
}

static void test_key_equal(void **state)
{
    (void)state;
    assert_true(slm_http_key_equal("sekrit", "sekrit"));
    assert_false(slm_http_key_equal("sekri", "sekrit"));
    assert_false(slm_http_key_equal("sekritt", "sekrit"));
    assert_false(slm_http_key_equal("", "sekrit"));
    assert_false(slm_http_key_equal("Sekrit", "sekrit"));
    assert_false(slm_http_key_equal("", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_minimal),       cmocka_unit_test(test_chat_fields),
        cmocka_unit_test(test_chat_bad_inputs),    cmocka_unit_test(test_completion_prompts),
        cmocka_unit_test(test_other_requests),     cmocka_unit_test(test_response_shapes),
        cmocka_unit_test(test_errors_do_not_echo), cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_key_equal),          cmocka_unit_test(test_nul_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
