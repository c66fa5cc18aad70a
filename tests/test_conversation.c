/*
 * test_conversation.c — the engine's conversations (engine/conversation.h):
 *   - the model's own chat template renders and tokenizes every fixture
 *     conversation exactly as transformers' apply_chat_template(tokenize=True)
 *     did (the ids and text of each tests/fixtures/chat/ file);
 *   - three turns in one session: each turn keeps exactly the longest prefix
 *     of its render that the cache holds (at least the common prefix of the
 *     previous render and the new one), and the greedy replies equal those
 *     of a fresh session that evaluates each full render from scratch (and
 *     so do seeded sampled replies);
 *   - the plain-text fallback on the bundled stories260K (no template);
 *   - errors: a missing template where one is required, a malformed one
 *     (the model still loads and generates; chat reports file, line,
 *     column), NULL/empty roles and contents, no messages.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fileio.h"
#include "slm.h"
#include "test_util.h"

#define STORIES "weights/stories260K"

static const char *const CHAT_MODELS[] = {"phi3", "smollm2", "tinyllama"};
#define N_CHAT_MODELS (sizeof CHAT_MODELS / sizeof CHAT_MODELS[0])

static cJSON *load_json(const char *rel)
{
    cJSON *j = NULL;
    slm_error err = {0};
    if (slm_json_load(test_source_path(rel), &j, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    return j;
}

static slm_model *load_fixture_model(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/models/%s", name);
    return test_load_model(test_source_path(rel));
}

static size_t common_prefix(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    return i;
}

/* ================================================ golden renders (fixtures) */

/* The messages of a fixture conversation (pointers into doc). */
static size_t fixture_messages(const cJSON *conv, slm_chat_message *msgs, size_t cap)
{
    size_t n = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(conv, "messages"))
    {
        assert_true(n < cap);
        msgs[n++] = (slm_chat_message){
            cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring,
            cJSON_GetObjectItemCaseSensitive(m, "content")->valuestring};
    }
    return n;
}

/* Renders every conversation of one fixture with the model's template and
   compares ids and text; returns how many matched. */
static size_t check_golden(const char *name, const cJSON *doc, size_t *total)
{
    slm_model *m = load_fixture_model(name);
    assert_non_null(slm_model_chat_template(m));
    size_t ok = 0;
    const cJSON *conv;
    cJSON_ArrayForEach(conv, cJSON_GetObjectItemCaseSensitive(doc, "conversations"))
    {
        const char *cname = cJSON_GetObjectItemCaseSensitive(conv, "name")->valuestring;
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(conv, "with_generation_prompt");
        const cJSON *want_ids = cJSON_GetObjectItemCaseSensitive(want, "ids");
        const char *want_text = cJSON_GetObjectItemCaseSensitive(want, "text")->valuestring;
        slm_chat_message msgs[16];
        size_t n = fixture_messages(conv, msgs, 16);
        slm_tokens ids = {0};
        char *text = NULL;
        slm_error err = {0};
        slm_status st = slm_chat_render_tokens(m, msgs, n, SLM_CHAT_TEMPLATE_REQUIRED, &ids,
                                               &text, &err);
        (*total)++;
        bool same = st == SLM_OK && strcmp(text, want_text) == 0 &&
                    ids.n == (size_t)cJSON_GetArraySize(want_ids);
        for (size_t i = 0; same && i < ids.n; i++)
            same = ids.ids[i] == cJSON_GetArrayItem(want_ids, (int)i)->valueint;
        if (same)
            ok++;
        else
            printf("%s/%s: %s (%zu ids, want %d)\n", name, cname,
                   st == SLM_OK ? "differs" : err.msg, ids.n, cJSON_GetArraySize(want_ids));
        free(text);
        slm_tokens_free(&ids);
    }
    slm_model_free(m);
    return ok;
}

static void test_render_matches_transformers(void **state)
{
    (void)state;
    size_t total = 0, ok = 0;
    for (size_t i = 0; i < N_CHAT_MODELS; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/fixtures/chat/%s.json", CHAT_MODELS[i]);
        cJSON *doc = load_json(rel);
        ok += check_golden(CHAT_MODELS[i], doc, &total);
        cJSON_Delete(doc);
    }
    printf("conversation renders: %zu/%zu equal transformers' ids and text\n", ok, total);
    assert_true(total >= 27);
    assert_int_equal(ok, total);
}

/* ======================================================= three turns, reuse */

/* Collects a reply's ids (and passes nothing on). */
static bool collect_ids(void *user, int32_t id, const char *text, size_t len)
{
    test_ids *c = user;
    (void)text, (void)len;
    if (id >= 0 && c->n < TEST_MAX_GENERATED)
        c->ids[c->n++] = id;
    return true;
}

/* One model: three user turns, each checked against the cache it found and
   against a fresh session's greedy reply to the same render. */
static void three_turns(const char *name)
{
    static const char *const turns[] = {"Hello! Who are you?", "Tell me a story.",
                                        "Thanks, and goodbye."};
    enum { N_NEW = 8 };
    slm_model *m = load_fixture_model(name);
    slm_session *s = NULL;
    slm_conversation *c = NULL;
    slm_error err = {0};
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_TEMPLATE_REQUIRED, &c, &err), SLM_OK);
    assert_int_equal(slm_conversation_add(c, "system", "You are terse.", &err), SLM_OK);
    slm_tokens prev = {0}, cached = {0}; /* the previous render; what the cache holds */
    for (int t = 0; t < 3; t++) {
        assert_int_equal(slm_conversation_add(c, "user", turns[t], &err), SLM_OK);
        slm_tokens render = {0};
        assert_int_equal(slm_chat_render_tokens(m, slm_conversation_messages(c),
                                                slm_conversation_n_messages(c),
                                                SLM_CHAT_TEMPLATE_REQUIRED, &render, NULL, &err),
                         SLM_OK);
        test_ids got = {0}, fresh;
        slm_generate_params p = {.max_new_tokens = N_NEW,
                                 .sampling = slm_sampler_params_default(),
                                 .on_token = collect_ids,
                                 .user = &got};
        p.sampling.temperature = 0.0f;
        slm_generate_stats st;
        if (slm_conversation_reply(c, &p, &st, &err) != SLM_OK)
            fail_msg("%s turn %d: %s", name, t + 1, err.msg);
        assert_int_equal(st.n_prompt, (int)render.n);
        size_t want = common_prefix(cached.ids, cached.n, render.ids, render.n);
        if (want == render.n) /* the last prompt id is always evaluated */
            want--;
        size_t floor = common_prefix(prev.ids, prev.n, render.ids, render.n);
        printf("%s turn %d: %zu prompt ids, %d cached (common prefix with the previous "
               "render %zu)\n", name, t + 1, render.n, st.n_prompt_cached, floor);
        assert_int_equal(st.n_prompt_cached, (int)want);
        assert_true(t == 0 || (size_t)st.n_prompt_cached >= (floor < render.n ? floor : floor - 1));
        assert_true(t == 0 || st.n_prompt_cached > 0);
        test_greedy(m, render.ids, render.n, N_NEW, &fresh);
        assert_int_equal(got.n, fresh.n);
        assert_memory_equal(got.ids, fresh.ids, got.n * sizeof got.ids[0]);
        /* the reply is the conversation's next message */
        assert_int_equal(slm_conversation_n_messages(c), (size_t)(3 + 2 * t));
        assert_string_equal(slm_conversation_messages(c)[2 + 2 * t].role, "assistant");
        /* the cache now holds the render and the reply ids it evaluated */
        cached.n = 0;
        for (size_t i = 0; i < render.n; i++)
            slm_tokens_push(&cached, render.ids[i]);
        for (size_t i = 0; i < got.n; i++)
            slm_tokens_push(&cached, got.ids[i]);
        assert_true(slm_session_n_past(s) <= (int)cached.n);
        cached.n = (size_t)slm_session_n_past(s);
        slm_tokens_free(&prev);
        prev = render;
    }
    slm_tokens_free(&prev);
    slm_tokens_free(&cached);
    slm_conversation_free(c);
    slm_session_free(s);
    slm_model_free(m);
}

static void test_three_turns_reuse_the_cache(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CHAT_MODELS; i++)
        three_turns(CHAT_MODELS[i]);
}

/* Sampled replies (a seed, every sampler stage on) equal a fresh session's
   generation from the full render with the same parameters: reusing the
   cache changes nothing but the work done. */
static void test_seeded_replies_equal_fresh_sessions(void **state)
{
    (void)state;
    slm_model *m = load_fixture_model("tinyllama");
    slm_session *s = NULL, *fresh = NULL;
    slm_conversation *c = NULL;
    slm_error err = {0};
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_TEMPLATE_REQUIRED, &c, &err), SLM_OK);
    static const char *const turns[] = {"Hi!", "What is 2+2?", "Why?"};
    for (int t = 0; t < 3; t++) {
        assert_int_equal(slm_conversation_add(c, "user", turns[t], &err), SLM_OK);
        slm_tokens render = {0};
        assert_int_equal(slm_chat_render_tokens(m, slm_conversation_messages(c),
                                                slm_conversation_n_messages(c),
                                                SLM_CHAT_TEMPLATE_REQUIRED, &render, NULL, &err),
                         SLM_OK);
        test_ids got = {0}, want = {0};
        slm_generate_params p = {.max_new_tokens = 10,
                                 .sampling = slm_sampler_params_default(),
                                 .on_token = collect_ids,
                                 .user = &got};
        p.sampling.seed = 1234 + (uint64_t)t;
        p.sampling.temperature = 1.3f;
        p.sampling.repeat_penalty = 1.2f;
        assert_int_equal(slm_conversation_reply(c, &p, NULL, &err), SLM_OK);
        p.user = &want;
        assert_int_equal(slm_session_new(m, 0, &fresh, &err), SLM_OK);
        assert_int_equal(slm_generate(fresh, render.ids, render.n, &p, NULL, &err), SLM_OK);
        slm_session_free(fresh);
        assert_int_equal(got.n, want.n);
        assert_memory_equal(got.ids, want.ids, got.n * sizeof got.ids[0]);
        slm_tokens_free(&render);
    }
    slm_conversation_free(c);
    slm_session_free(s);
    slm_model_free(m);
}

/* The reply streamed equals the message appended; stop strings cut both. */
typedef struct {
    char text[4096];
    size_t len;
} text_buf;

static bool collect_text(void *user, int32_t id, const char *text, size_t len)
{
    text_buf *b = user;
    (void)id;
    assert_true(b->len + len < sizeof b->text);
    memcpy(b->text + b->len, text, len);
    b->len += len;
    b->text[b->len] = '\0';
    return true;
}

/* ================================================ fallback (stories260K) */

static void test_plain_fallback_on_a_story_model(void **state)
{
    (void)state;
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_error err = {0};
    bool missing = false;
    assert_null(slm_model_chat_template(m));
    assert_int_equal(slm_model_chat_template_status(m, &missing, &err), SLM_ERR_UNSUPPORTED);
    assert_true(missing);
    assert_non_null(strstr(err.msg, "tokenizer_config.json: no chat_template"));
    assert_non_null(strstr(err.msg, "chat_template.jinja"));

    /* one message: exactly the ids of `slm run -p TEXT` (BOS + the text) */
    const char *story = "Once upon a time, there was a little dog";
    slm_chat_message one = {"user", story};
    slm_tokens ids = {0}, plain = {0};
    char *text = NULL;
    assert_int_equal(slm_chat_render_tokens(m, &one, 1, SLM_CHAT_PLAIN_FALLBACK, &ids, &text,
                                            &err), SLM_OK);
    assert_string_equal(text, story);
    assert_int_equal(slm_tokenize(slm_model_tokenizer(m), story, strlen(story), true, &plain,
                                  &err), SLM_OK);
    assert_int_equal(ids.ids[0], slm_tokenizer_bos_id(slm_model_tokenizer(m)));
    assert_int_equal(ids.n, plain.n);
    assert_memory_equal(ids.ids, plain.ids, ids.n * sizeof ids.ids[0]);
    free(text);

    /* several: contents joined with "\n", roles ignored */
    slm_chat_message two[] = {{"system", "A story."}, {"user", story}};
    assert_int_equal(slm_chat_render_tokens(m, two, 2, SLM_CHAT_PLAIN_FALLBACK, &ids, &text,
                                            &err), SLM_OK);
    assert_string_equal(text, "A story.\nOnce upon a time, there was a little dog");
    free(text);

    /* required: the same message the CLI always gave */
    assert_int_equal(slm_chat_render_tokens(m, &one, 1, SLM_CHAT_TEMPLATE_REQUIRED, &ids, NULL,
                                            &err), SLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "tokenizer_config.json"));
    assert_int_equal(ids.n, 0);

    /* a conversation in fallback mode continues the story like slm run */
    slm_session *s = NULL;
    slm_conversation *c = NULL;
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_TEMPLATE_REQUIRED, &c, &err),
                     SLM_ERR_UNSUPPORTED);
    assert_null(c);
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_PLAIN_FALLBACK, &c, &err), SLM_OK);
    assert_int_equal(slm_conversation_add(c, "user", story, &err), SLM_OK);
    text_buf reply = {0};
    slm_generate_params p = {.max_new_tokens = 24,
                             .sampling = slm_sampler_params_default(),
                             .on_token = collect_text,
                             .user = &reply};
    p.sampling.temperature = 0.0f;
    slm_generate_stats st;
    assert_int_equal(slm_conversation_reply(c, &p, &st, &err), SLM_OK);
    assert_int_equal(st.n_prompt, (int)plain.n);
    assert_int_equal(st.n_prompt_cached, 0);
    test_ids fresh;
    test_greedy(m, plain.ids, plain.n, 24, &fresh);
    char *want = NULL;
    assert_int_equal(slm_detokenize(slm_model_tokenizer(m), fresh.ids, fresh.n, true, &want,
                                    &err), SLM_OK);
    printf("fallback reply: '%s'\n", reply.text);
    assert_true(reply.len > 0);
    assert_string_equal(reply.text, want);
    assert_int_equal(slm_conversation_n_messages(c), 2);
    assert_string_equal(slm_conversation_messages(c)[1].role, "assistant");
    assert_string_equal(slm_conversation_messages(c)[1].content, reply.text);

    /* a second turn: the render starts with the first one, which stays cached */
    assert_int_equal(slm_conversation_add(c, "user", "The dog ran.", &err), SLM_OK);
    reply.len = 0;
    assert_int_equal(slm_conversation_reply(c, &p, &st, &err), SLM_OK);
    assert_true(st.n_prompt_cached >= (int)plain.n);

    free(want);
    slm_tokens_free(&ids);
    slm_tokens_free(&plain);
    slm_conversation_free(c);
    slm_session_free(s);
    slm_model_free(m);
}

/* Stop strings reach the conversation: the reply and the appended message
   both end before the stop text. */
static void test_reply_stop_string(void **state)
{
    (void)state;
    slm_model *m = test_load_model(test_source_path(STORIES));
    slm_session *s = NULL;
    slm_conversation *c = NULL;
    slm_error err = {0};
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_PLAIN_FALLBACK, &c, &err), SLM_OK);
    assert_int_equal(slm_conversation_add(c, "user", "Once upon a time", &err), SLM_OK);
    text_buf full = {0}, cut = {0};
    slm_generate_params p = {.max_new_tokens = 40,
                             .sampling = slm_sampler_params_default(),
                             .on_token = collect_text,
                             .user = &full};
    p.sampling.temperature = 0.0f;
    assert_int_equal(slm_conversation_reply(c, &p, NULL, &err), SLM_OK);
    const char *at = strstr(full.text, "girl");
    assert_non_null(at); /* the bundled model's greedy story has a girl */
    slm_conversation_free(c);
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_PLAIN_FALLBACK, &c, &err), SLM_OK);
    assert_int_equal(slm_conversation_add(c, "user", "Once upon a time", &err), SLM_OK);
    const char *stop[] = {"girl"};
    p.stop = stop;
    p.n_stop = 1;
    p.user = &cut;
    slm_generate_stats st;
    assert_int_equal(slm_conversation_reply(c, &p, &st, &err), SLM_OK);
    assert_int_equal(st.stop_reason, SLM_STOP_STRING);
    assert_int_equal(cut.len, (size_t)(at - full.text));
    assert_memory_equal(cut.text, full.text, cut.len);
    assert_string_equal(slm_conversation_messages(c)[1].content, cut.text);
    slm_conversation_free(c);
    slm_session_free(s);
    slm_model_free(m);
}

/* ============================================================ errors */

static void test_message_errors(void **state)
{
    (void)state;
    slm_model *m = load_fixture_model("phi3");
    slm_session *s = NULL;
    slm_conversation *c = NULL;
    slm_error err = {0};
    assert_int_equal(slm_conversation_new(NULL, SLM_CHAT_PLAIN_FALLBACK, &c, &err),
                     SLM_ERR_INVALID_ARG);
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_conversation_new(s, (slm_chat_mode)7, &c, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "mode"));
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_TEMPLATE_REQUIRED, &c, &err), SLM_OK);

    /* nothing to answer yet */
    slm_generate_params p = {.max_new_tokens = 2, .sampling = slm_sampler_params_default()};
    assert_int_equal(slm_conversation_reply(c, &p, NULL, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "no messages"));
    assert_int_equal(slm_conversation_reply(c, NULL, NULL, &err), SLM_ERR_INVALID_ARG);

    assert_int_equal(slm_conversation_add(c, NULL, "hi", &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "message 0 has a NULL role"));
    assert_int_equal(slm_conversation_add(c, "", "hi", &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "empty role"));
    assert_int_equal(slm_conversation_add(c, "user", NULL, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "message 0 (user) has NULL content"));
    assert_int_equal(slm_conversation_add(c, "user", "", &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "message 0 (user) has empty content"));
    assert_int_equal(slm_conversation_n_messages(c), 0);
    assert_int_equal(slm_conversation_add(c, "user", "hi", &err), SLM_OK);
    assert_int_equal(slm_conversation_n_messages(c), 1);

    /* rendering: no messages, a NULL role or content names the message */
    slm_tokens ids = {0};
    slm_chat_message bad[] = {{"user", "hi"}, {"assistant", NULL}};
    assert_int_equal(slm_chat_render_tokens(m, bad, 0, SLM_CHAT_PLAIN_FALLBACK, &ids, NULL, &err),
                     SLM_ERR_INVALID_ARG);
    assert_int_equal(slm_chat_render_tokens(m, bad, 2, SLM_CHAT_PLAIN_FALLBACK, &ids, NULL, &err),
                     SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "message 1 (assistant) has NULL content"));
    bad[1] = (slm_chat_message){NULL, "x"};
    assert_int_equal(slm_chat_render_tokens(m, bad, 2, SLM_CHAT_PLAIN_FALLBACK, &ids, NULL, &err),
                     SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "message 1 has a NULL role"));
    /* empty content renders, as in transformers (the fixtures' empty_content) */
    slm_chat_message empty = {"user", ""};
    assert_int_equal(slm_chat_render_tokens(m, &empty, 1, SLM_CHAT_TEMPLATE_REQUIRED, &ids,
                                            NULL, &err), SLM_OK);
    assert_true(ids.n > 0);

    /* a prompt that does not fit the context: the engine's error, nothing appended */
    slm_session *tiny = NULL;
    slm_conversation *c2 = NULL;
    assert_int_equal(slm_session_new(m, 4, &tiny, &err), SLM_OK);
    assert_int_equal(slm_conversation_new(tiny, SLM_CHAT_TEMPLATE_REQUIRED, &c2, &err), SLM_OK);
    assert_int_equal(slm_conversation_add(c2, "user", "a longer question than four ids", &err),
                     SLM_OK);
    assert_int_equal(slm_conversation_reply(c2, &p, NULL, &err), SLM_ERR_RANGE);
    assert_int_equal(slm_conversation_n_messages(c2), 1);

    slm_tokens_free(&ids);
    slm_conversation_free(c2);
    slm_session_free(tiny);
    slm_conversation_free(c);
    slm_session_free(s);
    slm_model_free(m);
}

/* A copy of the phi3 fixture (weights linked) whose tokenizer_config.json has
   chat_template `tmpl` (NULL: none), plus chat_template.jinja when jinja. */
static char *phi3_with_template(const char *tmpl, const char *jinja)
{
    char *dir = test_make_tmpdir();
    static const char *const linked[] = {"config.json", "model.safetensors", "tokenizer.json"};
    for (size_t i = 0; i < 3; i++) {
        char src[1024], dst[1024];
        snprintf(src, sizeof src, "%s/%s", test_source_path("tests/fixtures/models/phi3"),
                 linked[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, linked[i]);
        assert_int_equal(symlink(src, dst), 0);
    }
    cJSON *cfg = load_json("tests/fixtures/models/phi3/tokenizer_config.json");
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "chat_template");
    if (tmpl)
        cJSON_AddStringToObject(cfg, "chat_template", tmpl);
    char *text = cJSON_Print(cfg);
    free(test_write_file(dir, "tokenizer_config.json", text, strlen(text)));
    if (jinja)
        free(test_write_file(dir, "chat_template.jinja", jinja, strlen(jinja)));
    free(text);
    cJSON_Delete(cfg);
    return dir;
}

/* The model loads and generates; chat reports the template's own error. */
static void check_broken_template(const char *dir, const char *file, const char *where)
{
    slm_model *m = test_load_model(dir);
    slm_error err = {0};
    bool missing = true;
    assert_null(slm_model_chat_template(m));
    assert_int_equal(slm_model_chat_template_status(m, &missing, &err), SLM_ERR_FORMAT);
    assert_false(missing);
    printf("broken template: %s\n", err.msg);
    assert_non_null(strstr(err.msg, file));
    assert_non_null(strstr(err.msg, where));
    /* plain generation is unaffected */
    int32_t bos = 1;
    test_ids out;
    test_greedy(m, &bos, 1, 3, &out);
    /* chat is not: a broken template is never replaced by the fallback */
    slm_chat_message msg = {"user", "hi"};
    slm_tokens ids = {0};
    slm_error err2 = {0};
    assert_int_equal(slm_chat_render_tokens(m, &msg, 1, SLM_CHAT_PLAIN_FALLBACK, &ids, NULL,
                                            &err2), SLM_ERR_FORMAT);
    assert_string_equal(err2.msg, err.msg);
    slm_session *s = NULL;
    slm_conversation *c = NULL;
    assert_int_equal(slm_session_new(m, 0, &s, &err), SLM_OK);
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_PLAIN_FALLBACK, &c, &err2),
                     SLM_ERR_FORMAT);
    assert_null(c);
    slm_tokens_free(&ids);
    slm_session_free(s);
    slm_model_free(m);
}

static void test_malformed_template_reported_when_chatting(void **state)
{
    (void)state;
    char *dir = phi3_with_template("{% for m in messages %}{{ m.content }}\n{% if %}", NULL);
    check_broken_template(dir, "tokenizer_config.json chat_template", "line 2");
    test_rmtree(dir);
    free(dir);
    /* chat_template.jinja wins over the config's (valid) template, and is named */
    dir = phi3_with_template("{{ messages[0].content }}", "ok\n\n  {{ messages[0].content ");
    check_broken_template(dir, "chat_template.jinja", "line 3");
    test_rmtree(dir);
    free(dir);
    /* no template at all: the folder still chats in fallback mode */
    dir = phi3_with_template(NULL, NULL);
    slm_model *m = test_load_model(dir);
    bool missing = false;
    slm_error err = {0};
    assert_int_equal(slm_model_chat_template_status(m, &missing, &err), SLM_ERR_UNSUPPORTED);
    assert_true(missing);
    slm_chat_message msg = {"user", "hi"};
    slm_tokens ids = {0};
    assert_int_equal(slm_chat_render_tokens(m, &msg, 1, SLM_CHAT_PLAIN_FALLBACK, &ids, NULL,
                                            &err), SLM_OK);
    assert_true(ids.n >= 1);
    slm_tokens_free(&ids);
    slm_model_free(m);
    test_rmtree(dir);
    free(dir);
}

/* The model's template is the one slm_chat_template_load reads on its own. */
static void test_model_template_equals_standalone_load(void **state)
{
    (void)state;
    slm_chat_message msgs[] = {{"system", "Be brief."}, {"user", "Hi there"}};
    for (size_t i = 0; i < N_CHAT_MODELS; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/fixtures/models/%s", CHAT_MODELS[i]);
        slm_model *m = test_load_model(test_source_path(rel));
        slm_chat_template *t = NULL;
        slm_error err = {0};
        assert_int_equal(slm_chat_template_load(test_source_path(rel), &t, &err), SLM_OK);
        char *a = NULL, *b = NULL;
        assert_int_equal(slm_chat_template_apply(t, msgs, 2, true, &a, &err), SLM_OK);
        assert_int_equal(slm_chat_template_apply(slm_model_chat_template(m), msgs, 2, true, &b,
                                                 &err), SLM_OK);
        assert_string_equal(a, b);
        free(a);
        free(b);
        slm_chat_template_free(t);
        slm_model_free(m);
    }
}

/* ===================================================== a context that fills */

static size_t render_len(const slm_model *m, const slm_chat_message *msgs, size_t n)
{
    slm_tokens ids = {0};
    slm_error err = {0};
    if (slm_chat_render_tokens(m, msgs, n, SLM_CHAT_TEMPLATE_REQUIRED, &ids, NULL, &err) != SLM_OK)
        fail_msg("render: %s", err.msg);
    size_t len = ids.n;
    slm_tokens_free(&ids);
    return len;
}

/* slm_conversation_fit drops whole turns, oldest first, keeping the system
   message and the last user message, and no more than needed; when the kept
   messages alone do not fit it says so. slm_conversation_truncate keeps a
   prefix (/clear keeps the system message). */
static void test_fit_drops_the_oldest_turns(void **state)
{
    enum { N_CTX = 160, ROOM = 16, TURNS = 6 };
    slm_model *m = load_fixture_model("phi3");
    slm_session *s;
    slm_conversation *c;
    slm_error err = {0};
    assert_int_equal(slm_session_new(m, N_CTX, &s, &err), SLM_OK);
    assert_int_equal(slm_conversation_new(s, SLM_CHAT_TEMPLATE_REQUIRED, &c, &err), SLM_OK);
    char text[2 * TURNS + 2][96];
    slm_chat_message all[2 * TURNS + 2];
    size_t n = 0;
    all[n++] = (slm_chat_message){"system", "Be brief."};
    for (int t = 0; t < TURNS; t++) {
        snprintf(text[n], sizeof text[n], "Tell me about turn %d of this conversation, please.", t);
        all[n] = (slm_chat_message){"user", text[n]}, n++;
        snprintf(text[n], sizeof text[n], "Here is the answer to turn %d, in a few words.", t);
        all[n] = (slm_chat_message){"assistant", text[n]}, n++;
    }
    all[n++] = (slm_chat_message){"user", "And the last question?"};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(slm_conversation_add(c, all[i].role, all[i].content, &err), SLM_OK);
    assert_true(render_len(m, all, n) + ROOM > N_CTX); /* the test needs a full context */
    size_t dropped = 99;
    assert_int_equal(slm_conversation_fit(c, ROOM, &dropped, &err), SLM_OK);
    assert_true(dropped > 0 && dropped % 2 == 0 && dropped < n - 2);
    size_t kept = slm_conversation_n_messages(c);
    const slm_chat_message *got = slm_conversation_messages(c);
    assert_int_equal(kept, n - dropped);
    assert_string_equal(got[0].content, "Be brief.");
    for (size_t i = 1; i < kept; i++) /* the newest turns, in order */
        assert_string_equal(got[i].content, all[i + dropped].content);
    assert_true(render_len(m, got, kept) + ROOM <= N_CTX);
    /* one turn fewer dropped would not have fitted */
    slm_chat_message one_more[2 * TURNS + 2];
    one_more[0] = all[0];
    memcpy(one_more + 1, all + 1 + dropped - 2, (kept + 1) * sizeof *one_more);
    assert_true(render_len(m, one_more, kept + 2) + ROOM > N_CTX);
    /* nothing left to drop: an error naming the sizes, the last turn kept */
    assert_int_equal(slm_conversation_fit(c, N_CTX - 4, &dropped, &err), SLM_ERR_RANGE);
    assert_non_null(strstr(err.msg, "context of 160 positions"));
    assert_int_equal(slm_conversation_n_messages(c), 2);
    assert_string_equal(slm_conversation_messages(c)[1].content, "And the last question?");
    slm_conversation_truncate(c, 1);
    assert_int_equal(slm_conversation_n_messages(c), 1);
    assert_string_equal(slm_conversation_messages(c)[0].role, "system");
    slm_conversation_truncate(c, 5); /* above the count: all kept */
    assert_int_equal(slm_conversation_n_messages(c), 1);
    slm_conversation_free(c);
    slm_session_free(s);
    slm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_matches_transformers),
        cmocka_unit_test(test_model_template_equals_standalone_load),
        cmocka_unit_test(test_fit_drops_the_oldest_turns),
        cmocka_unit_test(test_three_turns_reuse_the_cache),
        cmocka_unit_test(test_seeded_replies_equal_fresh_sessions),
        cmocka_unit_test(test_plain_fallback_on_a_story_model),
        cmocka_unit_test(test_reply_stop_string),
        cmocka_unit_test(test_message_errors),
        cmocka_unit_test(test_malformed_template_reported_when_chatting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
