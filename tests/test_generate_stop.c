/*
 * test_generate_stop.c — slm_generate's stop strings on stories260K, greedy:
 * the streamed reply equals the reply without stop strings cut right before
 * the earliest occurrence of any of them (a stop spanning a token boundary,
 * one token's whole text, one that never occurs, and two listed out of text
 * order), no piece ever carries stop text, and callers without stop strings
 * stream exactly what they streamed before.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slm.h"
#include "test_util.h"

#define N_NEW 48
#define MAX_CALLS (N_NEW + 2)

/* Everything on_token was given, call by call. */
typedef struct {
    int32_t ids[MAX_CALLS];
    char *piece[MAX_CALLS];
    size_t n;
    char text[8192]; /* the pieces concatenated */
    size_t len;
} stream;

static bool record(void *user, int32_t id, const char *text, size_t len)
{
    stream *s = user;
    assert_non_null(text); /* callers pass it to fwrite and memcpy */
    assert_true(s->n < MAX_CALLS);
    assert_true(s->len + len < sizeof s->text);
    s->ids[s->n] = id;
    s->piece[s->n] = strndup(text, len);
    s->n++;
    memcpy(s->text + s->len, text, len);
    s->len += len;
    s->text[s->len] = '\0';
    return true;
}

static void stream_free(stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->piece[i]);
}

static slm_model *model;
static slm_tokens prompt;

static int setup(void **state)
{
    (void)state;
    slm_load_options o = slm_load_options_default();
    slm_error err = {0};
    if (slm_model_load(test_source_path("weights/stories260K"), &o, &model, &err) != SLM_OK)
        fail_msg("load: %s", err.msg);
    const char *text = "Once upon a time, there was a little";
    if (slm_tokenize(slm_model_tokenizer(model), text, strlen(text), true, &prompt, &err) != SLM_OK)
        fail_msg("tokenize: %s", err.msg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    slm_tokens_free(&prompt);
    slm_model_free(model);
    return 0;
}

static slm_status run(const char *const *stop, size_t n_stop, stream *out,
                      slm_generate_stats *st, slm_error *err)
{
    slm_session *s;
    if (slm_session_new(model, 0, &s, err) != SLM_OK)
        fail_msg("session: %s", err->msg);
    slm_generate_params p = {.max_new_tokens = N_NEW,
                             .sampling = slm_sampler_params_default(),
                             .on_token = record,
                             .user = out,
                             .stop = stop,
                             .n_stop = n_stop};
    p.sampling.temperature = 0.0f;
    memset(out, 0, sizeof *out);
    slm_status rc = slm_generate(s, prompt.ids, prompt.n, &p, st, err);
    slm_session_free(s);
    return rc;
}

/* The reply without stop strings, streamed piece by piece. */
static void reference(stream *ref)
{
    slm_generate_stats st;
    slm_error err = {0};
    assert_int_equal(run(NULL, 0, ref, &st, &err), SLM_OK);
    assert_int_equal(st.stop_reason, SLM_STOP_LENGTH); /* the test needs the whole budget */
    assert_true(ref->len > 60);
}

/* Runs with stop strings and checks the stream against the reference cut
   before the earliest occurrence of any of them; returns the cut. */
static size_t expect_cut(const stream *ref, const char *const *stop, size_t n_stop)
{
    size_t cut = ref->len;
    for (size_t i = 0; i < n_stop; i++) {
        const char *at = strstr(ref->text, stop[i]);
        if (at && (size_t)(at - ref->text) < cut)
            cut = (size_t)(at - ref->text);
    }
    stream got;
    slm_generate_stats st;
    slm_error err = {0};
    assert_int_equal(run(stop, n_stop, &got, &st, &err), SLM_OK);
    assert_int_equal(got.len, cut);
    assert_memory_equal(got.text, ref->text, cut);
    assert_int_equal(st.stop_reason, cut < ref->len ? SLM_STOP_STRING : SLM_STOP_LENGTH);
    for (size_t i = 0; i < n_stop; i++)
        assert_null(strstr(got.text, stop[i]));
    assert_int_equal(st.n_prompt, (int)prompt.n);
    assert_int_equal(st.n_prompt_cached, 0);
    stream_free(&got);
    return cut;
}

/* Index of the first reference piece with at least min_len bytes, from `from`. */
static size_t piece_at_least(const stream *ref, size_t from, size_t min_len)
{
    for (size_t i = from; i < ref->n; i++)
        if (strlen(ref->piece[i]) >= min_len)
            return i;
    fail_msg("no piece of %zu bytes from call %zu", min_len, from);
    return 0;
}

static void test_stop_spans_token_boundary(void **state)
{
    (void)state;
    stream ref;
    reference(&ref);
    size_t i = piece_at_least(&ref, 4, 2);
    while (i + 1 < ref.n && strlen(ref.piece[i + 1]) < 2)
        i = piece_at_least(&ref, i + 1, 2);
    assert_true(i + 1 < ref.n);
    /* the last two bytes of one piece and the first two of the next */
    char stop[5];
    const char *a = ref.piece[i];
    snprintf(stop, sizeof stop, "%s%.2s", a + strlen(a) - 2, ref.piece[i + 1]);
    for (size_t j = 0; j < ref.n; j++) /* it really needs two pieces */
        assert_null(strstr(ref.piece[j], stop));
    const char *list[] = {stop};
    assert_true(expect_cut(&ref, list, 1) < ref.len);
    stream_free(&ref);
}

static void test_stop_is_one_token(void **state)
{
    (void)state;
    stream ref;
    reference(&ref);
    const char *list[] = {ref.piece[piece_at_least(&ref, 6, 3)]};
    assert_true(expect_cut(&ref, list, 1) < ref.len);
    stream_free(&ref);
}

static void test_stop_never_occurs(void **state)
{
    (void)state;
    stream ref;
    reference(&ref);
    /* "Once" would begin matching at every capital O: held, then released */
    const char *list[] = {"Once upon a zebra", "\x01"};
    assert_int_equal(expect_cut(&ref, list, 2), ref.len);
    stream got;
    slm_generate_stats st;
    slm_error err = {0};
    assert_int_equal(run(list, 2, &got, &st, &err), SLM_OK);
    assert_int_equal(st.n_generated, N_NEW);
    stream_free(&got);
    stream_free(&ref);
}

static void test_earliest_of_two_wins(void **state)
{
    (void)state;
    stream ref;
    reference(&ref);
    const char *early = ref.piece[piece_at_least(&ref, 2, 3)];
    size_t k = piece_at_least(&ref, ref.n / 2, 3);
    while (strstr(ref.text, ref.piece[k]) <= strstr(ref.text, early))
        k = piece_at_least(&ref, k + 1, 3);
    const char *list[] = {ref.piece[k], early}; /* the later one first */
    assert_int_equal(expect_cut(&ref, list, 2), (size_t)(strstr(ref.text, early) - ref.text));
    stream_free(&ref);
}

/* Without stop strings every token's piece comes in its own call, as a
   stream decoder over the greedy ids gives it. */
static void test_no_stop_streams_as_before(void **state)
{
    (void)state;
    stream ref;
    reference(&ref);
    test_ids ids;
    test_greedy(model, prompt.ids, prompt.n, N_NEW, &ids);
    assert_int_equal(ids.n, N_NEW);
    slm_stream_decoder *dec;
    slm_error err = {0};
    assert_int_equal(slm_stream_decoder_new(slm_model_tokenizer(model), true, &dec, &err), SLM_OK);
    for (size_t i = 0; i < ids.n; i++) {
        const char *text;
        size_t len;
        assert_int_equal(slm_stream_decoder_push(dec, ids.ids[i], &text, &len, &err), SLM_OK);
        assert_int_equal(ref.ids[i], ids.ids[i]);
        assert_int_equal(strlen(ref.piece[i]), len);
        assert_memory_equal(ref.piece[i], text, len);
    }
    const char *tail;
    size_t tail_len;
    assert_int_equal(slm_stream_decoder_finish(dec, &tail, &tail_len, &err), SLM_OK);
    assert_int_equal(ref.n, ids.n + (tail_len ? 1 : 0));
    slm_stream_decoder_free(dec);
    stream_free(&ref);
}

/* stats.stop_index names the stop string found: the earliest in the text,
   whatever its place in the list; -1 when no stop string ended it. */
static void test_stop_index_names_the_string(void **state)
{
    (void)state;
    stream ref, got;
    reference(&ref);
    const char *early = ref.piece[piece_at_least(&ref, 2, 3)];
    const char *list[] = {"never in this story", early};
    slm_generate_stats st;
    slm_error err = {0};
    assert_int_equal(run(list, 2, &got, &st, &err), SLM_OK);
    assert_int_equal(st.stop_reason, SLM_STOP_STRING);
    assert_int_equal(st.stop_index, 1);
    stream_free(&got);
    assert_int_equal(run(list, 1, &got, &st, &err), SLM_OK);
    assert_int_equal(st.stop_reason, SLM_STOP_LENGTH);
    assert_int_equal(st.stop_index, -1);
    stream_free(&got);
    stream_free(&ref);
}

/* A long greedy run's ids and text (the stream struct holds N_NEW calls). */
typedef struct {
    int32_t ids[600];
    size_t n;
    char text[8192];
    size_t len;
} long_run;

static bool record_long(void *user, int32_t id, const char *text, size_t len)
{
    long_run *r = user;
    assert_true(r->n < 600 && r->len + len < sizeof r->text);
    r->ids[r->n++] = id;
    memcpy(r->text + r->len, text, len);
    r->len += len;
    return true;
}

static void greedy_from_bos(bool ignore_eos, long_run *out, slm_generate_stats *st)
{
    slm_session *s;
    slm_error err = {0};
    slm_tokens bos = {0};
    assert_int_equal(slm_tokenize(slm_model_tokenizer(model), "", 0, true, &bos, &err), SLM_OK);
    assert_int_equal(slm_session_new(model, 0, &s, &err), SLM_OK);
    slm_generate_params p = {.max_new_tokens = 400,
                             .sampling = slm_sampler_params_default(),
                             .on_token = record_long,
                             .user = out,
                             .ignore_eos = ignore_eos};
    p.sampling.temperature = 0.0f;
    memset(out, 0, sizeof *out);
    assert_int_equal(slm_generate(s, bos.ids, bos.n, &p, st, &err), SLM_OK);
    slm_session_free(s);
    slm_tokens_free(&bos);
}

/* ignore_eos: where greedy decoding stops at an EOS, it goes on to the
   budget instead, with the same text up to there and never an EOS id. */
static void test_ignore_eos(void **state)
{
    (void)state;
    long_run *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    slm_generate_stats sa, sb;
    greedy_from_bos(false, a, &sa);
    greedy_from_bos(true, b, &sb);
    /* the bundled model's greedy story from BOS ends (EOS) before 400 tokens */
    assert_int_equal(sa.stop_reason, SLM_STOP_EOS);
    assert_int_equal(sb.stop_reason, SLM_STOP_LENGTH);
    assert_int_equal(sb.n_generated, 400);
    assert_true(b->len > a->len);
    assert_memory_equal(a->text, b->text, a->len);
    for (size_t i = 0; i < b->n; i++)
        assert_false(b->ids[i] >= 0 && slm_model_is_eos(model, b->ids[i]));
    free(a);
    free(b);
}

static void test_bad_stop_lists(void **state)
{
    (void)state;
    stream got;
    slm_error err = {0};
    const char *empty[] = {"fine", ""};
    assert_int_equal(run(empty, 2, &got, NULL, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "stop[1]"));
    assert_int_equal(got.n, 0);
    err = (slm_error){0};
    assert_int_equal(run(NULL, 1, &got, NULL, &err), SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "n_stop"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_spans_token_boundary),
        cmocka_unit_test(test_stop_is_one_token),
        cmocka_unit_test(test_stop_never_occurs),
        cmocka_unit_test(test_earliest_of_two_wins),
        cmocka_unit_test(test_no_stop_streams_as_before),
        cmocka_unit_test(test_bad_stop_lists),
        cmocka_unit_test(test_stop_index_names_the_string),
        cmocka_unit_test(test_ignore_eos),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
