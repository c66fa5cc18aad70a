/*
 * test_tokenizer_api.c — the tokenizer's public API by hand: queries, invalid input, round
 * trips, the streaming decoder, truncation, broken files (each error must name the file and the
 * field) and the `slm tokenize` / `slm detokenize` verbs on every family, including a folder that
 * holds only tokenizer files. Comparisons with Hugging Face are in test_tokenizer.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <pthread.h>

#include "fileio.h"
#include "slm.h"
#include "test_util.h"

/* ------------------------------------------------------------------ helpers */

static slm_tokenizer *load_or_fail(const char *dir)
{
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    if (slm_tokenizer_load(dir, &tok, &err) != SLM_OK)
        fail_msg("slm_tokenizer_load(%s): %s", dir, err.msg);
    return tok;
}

static void print_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "    %s [", label);
    for (size_t i = 0; i < n && i < 60; i++)
        fprintf(stderr, "%s%d", i ? " " : "", ids[i]);
    fprintf(stderr, "%s] (%zu ids)\n", n > 60 ? " ..." : "", n);
}

static void write_or_fail(const char *dir, const char *name, const char *data, size_t len)
{
    char *p = test_write_file(dir, name, data, len);
    assert_non_null(p);
    free(p);
}

/* Copies a fixture folder's tokenizer files (only those) into a fresh directory, with
 * tokenizer_config.json replaced by `config` when given. */
static char *tokenizer_only_dir(const char *rel, const char *config)
{
    char *dir = test_make_tmpdir();
    static const char *const names[] = {"tokenizer.json", "tokenizer_config.json"};
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", rel, names[i]);
        char *data;
        size_t len;
        slm_error err = {0};
        if (i == 1 && config) {
            write_or_fail(dir, names[i], config, strlen(config));
            continue;
        }
        if (slm_read_file(test_source_path(path), &data, &len, &err) != SLM_OK)
            fail_msg("%s", err.msg);
        write_or_fail(dir, names[i], data, len);
        free(data);
    }
    return dir;
}

/* Streams ids one at a time, checking every chunk is whole UTF-8 characters; returns the text. */
static char *stream_decode(const slm_tokenizer *tok, const int32_t *ids, size_t n, size_t *len)
{
    slm_stream_decoder *dec;
    slm_error err = {0};
    assert_int_equal(slm_stream_decoder_new(tok, false, &dec, &err), SLM_OK);
    char *all = malloc(1);
    size_t used = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *chunk;
        size_t k;
        slm_status st = i < n ? slm_stream_decoder_push(dec, ids[i], &chunk, &k, &err)
                              : slm_stream_decoder_finish(dec, &chunk, &k, &err);
        assert_int_equal(st, SLM_OK);
        for (size_t j = 0; j < k;) { /* whole characters only */
            unsigned char c = (unsigned char)chunk[j];
            size_t w = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            assert_true(j + w <= k);
            j += w;
        }
        all = realloc(all, used + k + 1);
        memcpy(all + used, chunk, k);
        used += k;
    }
    slm_stream_decoder_free(dec);
    all[used] = '\0';
    *len = used;
    return all;
}

/* ------------------------------------------------------------------ behaviour by hand */

static slm_tokens encode_or_fail(const slm_tokenizer *tok, const char *text, bool special)
{
    slm_tokens ids = {0};
    slm_error err = {0};
    if (slm_tokenize(tok, text, strlen(text), special, &ids, &err) != SLM_OK)
        fail_msg("slm_tokenize(\"%s\"): %s", text, err.msg);
    return ids;
}

static char *decode_or_fail(const slm_tokenizer *tok, const int32_t *ids, size_t n, bool skip)
{
    char *text = NULL;
    slm_error err = {0};
    if (slm_detokenize(tok, ids, n, skip, &text, &err) != SLM_OK)
        fail_msg("slm_detokenize: %s", err.msg);
    return text;
}

static void test_api_basics(void **state)
{
    (void)state;
    slm_tokenizer *tok = load_or_fail(test_source_path("weights/stories260K"));
    assert_int_equal(slm_tokenizer_vocab_size(tok), 512);
    assert_int_equal(slm_tokenizer_bos_id(tok), 1);
    assert_int_equal(slm_tokenizer_eos_id(tok), 2);
    assert_int_equal(slm_tokenizer_token_id(tok, "<s>"), 1);
    assert_int_equal(slm_tokenizer_token_id(tok, "<unk>"), 0);
    assert_int_equal(slm_tokenizer_token_id(tok, "<0x0A>"), 13);
    assert_int_equal(slm_tokenizer_token_id(tok, "no such piece"), -1);

    /* slm_tokenize appends; an empty text is fine, with or without a pointer. */
    slm_tokens ids = {0};
    slm_error err = {0};
    assert_int_equal(slm_tokenize(tok, NULL, 0, true, &ids, &err), SLM_OK);
    assert_int_equal(ids.n, 1);
    assert_int_equal(slm_tokenize(tok, "Hi", 2, false, &ids, &err), SLM_OK);
    assert_true(ids.n > 1);
    assert_int_equal(ids.ids[0], 1);
    slm_tokens_free(&ids);
    slm_tokens_free(&ids); /* idempotent */
    slm_tokens_free(NULL);

    char *text = decode_or_fail(tok, NULL, 0, false);
    assert_string_equal(text, "");
    free(text);
    /* Ids that name nothing decode to nothing, as in Hugging Face. */
    int32_t odd[] = {-5, 99999, 1};
    text = decode_or_fail(tok, odd, 3, false);
    assert_string_equal(text, "<s>");
    free(text);
    slm_tokenizer_free(tok);
    slm_tokenizer_free(NULL);

    tok = load_or_fail(test_source_path("tests/fixtures/models/tinyllama"));
    assert_int_equal(slm_tokenizer_vocab_size(tok), 32000);
    assert_int_equal(slm_tokenizer_bos_id(tok), 1);
    assert_int_equal(slm_tokenizer_eos_id(tok), 2);
    assert_int_equal(slm_tokenizer_token_id(tok, "\xE2\x96\x81the"), 278);
    /* the genuine file keeps its no-break space pieces */
    assert_int_equal(slm_tokenizer_token_id(tok, "\xC2\xA0"), 30081);
    assert_int_equal(slm_tokenizer_model_max_length(tok), 2048);
    slm_tokenizer_free(tok);

    tok = load_or_fail(test_source_path("tests/fixtures/models/phi3"));
    assert_int_equal(slm_tokenizer_vocab_size(tok), 32011);
    assert_int_equal(slm_tokenizer_eos_id(tok), 32000); /* <|endoftext|> */
    assert_int_equal(slm_tokenizer_token_id(tok, "<|user|>"), 32010);
    ids = encode_or_fail(tok, "Hi", true);
    assert_true(ids.n > 0 && ids.ids[0] != 1); /* add_bos_token is false */
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);

    tok = load_or_fail(test_source_path("tests/fixtures/models/smollm2"));
    assert_int_equal(slm_tokenizer_vocab_size(tok), 50259);
    assert_int_equal(slm_tokenizer_bos_id(tok), 50257); /* <|im_start|> */
    assert_int_equal(slm_tokenizer_eos_id(tok), 50258); /* <|im_end|> */
    assert_int_equal(slm_tokenizer_token_id(tok, "\xC4\xA0the"), 262); /* "Ġthe" */
    assert_int_equal(slm_tokenizer_model_max_length(tok), 8192);
    slm_tokenizer_free(tok);

    tok = load_or_fail(test_source_path("tests/fixtures/models/distilbert_sst2"));
    assert_int_equal(slm_tokenizer_vocab_size(tok), 30522);
    assert_int_equal(slm_tokenizer_token_id(tok, "[CLS]"), 101);
    assert_int_equal(slm_tokenizer_token_id(tok, "##ing"), 2075);
    assert_int_equal(slm_tokenizer_model_max_length(tok), 512);
    ids = encode_or_fail(tok, "", true);
    assert_int_equal(ids.n, 2); /* [CLS] [SEP] */
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);
}

static void test_tokens_push_grows(void **state)
{
    (void)state;
    slm_tokens t = {0};
    for (int32_t i = 0; i < 10000; i++)
        assert_int_equal(slm_tokens_push(&t, i), SLM_OK);
    assert_int_equal(t.n, 10000);
    for (int32_t i = 0; i < 10000; i++)
        assert_int_equal(t.ids[i], i);
    slm_tokens_free(&t);
    assert_null(t.ids);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len, offset;
    } cases[] = {
        {"abc\xFF", 4, 3},            /* never valid */
        {"\x80x", 2, 0},              /* stray continuation byte */
        {"ok \xC3", 4, 3},            /* truncated 2-byte character */
        {"\xE4\xBD", 2, 0},           /* truncated 3-byte character */
        {"a\xC0\xAF", 3, 1},          /* overlong '/' */
        {"\xE0\x80\xAF", 3, 0},       /* overlong, 3 bytes */
        {"xy\xED\xA0\x80", 5, 2},     /* UTF-16 surrogate */
        {"\xF4\x90\x80\x80", 4, 0},   /* above U+10FFFF */
        {"\xF0\x9F\x98", 3, 0},       /* truncated emoji */
        {"fine \xE2\x96\x81 then \xFE", 15, 14},
    };
    slm_tokenizer *tok = load_or_fail(test_source_path("weights/stories260K"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        slm_tokens ids = {0};
        slm_tokens_push(&ids, 42);
        slm_error err = {0};
        slm_status st = slm_tokenize(tok, cases[i].bytes, cases[i].len, true, &ids, &err);
        char where[64];
        snprintf(where, sizeof where, "byte offset %zu", cases[i].offset);
        if (st != SLM_ERR_INVALID_ARG || !strstr(err.msg, where))
            fail_msg("case %zu: status %d, message '%s' (want INVALID_ARG at %s)", i, st,
                     err.msg, where);
        assert_int_equal(ids.n, 1); /* the caller's list is untouched */
        slm_tokens_free(&ids);
    }
    slm_tokenizer_free(tok);
}

/* Texts that must come back byte for byte (no special tokens, no "▁" in the input). */
static const char *const round_trip_texts[] = {
    "Once upon a time, Lily saw a caf\xC3\xA9.",
    "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C", /* 你好，世界 */
    "\xF0\x9F\x98\x80 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD \xF0\x9F\x87\xBA\xF0\x9F\x87\xB8",
    "  two leading spaces, \ttabs\t and\nnewlines\n",
    "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D",
    "\xF0\x9D\x90\x80\xF0\xA0\x80\x80\xF4\x8F\xBF\xBD e\xCC\x81",
    "x\0y", /* an embedded NUL goes through <0x00> */
};

static void test_round_trips(void **state)
{
    (void)state;
    const char *dirs[] = {"weights/stories260K", "tests/fixtures/models/tinyllama",
                          "tests/fixtures/models/smollm2"};
    for (size_t d = 0; d < 3; d++) {
        slm_tokenizer *tok = load_or_fail(test_source_path(dirs[d]));
        int32_t byte_00 = slm_tokenizer_token_id(tok, "<0x00>");
        size_t byte_hits = 0;
        for (size_t i = 0; i < sizeof round_trip_texts / sizeof round_trip_texts[0]; i++) {
            const char *s = round_trip_texts[i];
            size_t n = i == 6 ? 3 : strlen(s);
            slm_tokens ids = {0};
            slm_error err = {0};
            assert_int_equal(slm_tokenize(tok, s, n, false, &ids, &err), SLM_OK);
            for (size_t k = 0; k < ids.n; k++)
                byte_hits += ids.ids[k] >= byte_00 && ids.ids[k] < byte_00 + 256;
            size_t len;
            char *back = stream_decode(tok, ids.ids, ids.n, &len);
            if (len != n || memcmp(back, s, n) != 0)
                fail_msg("%s: round trip of text %zu changed it to '%s'", dirs[d], i, back);
            free(back);
            slm_tokens_free(&ids);
        }
        /* Some of these characters are not pieces: they went through <0x..> byte pieces
         * (byte-level vocabularies have no such pieces: every byte is a character there). */
        assert_true(d == 2 || (byte_00 >= 0 && byte_hits > 0));
        slm_tokenizer_free(tok);
    }
}

/* Byte pieces are held until their run ends; a broken run turns into U+FFFD per byte. */
static void test_stream_holds_byte_runs(void **state)
{
    (void)state;
    slm_tokenizer *tok = load_or_fail(test_source_path("weights/stories260K"));
    int32_t e4 = slm_tokenizer_token_id(tok, "<0xE4>");
    int32_t bd = slm_tokenizer_token_id(tok, "<0xBD>");
    int32_t a0 = slm_tokenizer_token_id(tok, "<0xA0>");
    int32_t sp = slm_tokenizer_token_id(tok, "\xE2\x96\x81");
    int32_t the = slm_tokenizer_token_id(tok, "\xE2\x96\x81the");
    assert_true(e4 >= 0 && bd >= 0 && a0 >= 0 && sp >= 0 && the >= 0);

    slm_stream_decoder *dec;
    slm_error err = {0};
    const char *t;
    size_t n;
    assert_int_equal(slm_stream_decoder_new(tok, false, &dec, &err), SLM_OK);
    int32_t seq[] = {the, e4, bd, a0, sp};
    const char *want[] = {"the", "", "", "", "\xE4\xBD\xA0 "};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(slm_stream_decoder_push(dec, seq[i], &t, &n, &err), SLM_OK);
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(t, want[i], n);
    }
    assert_int_equal(slm_stream_decoder_finish(dec, &t, &n, &err), SLM_OK);
    assert_int_equal(n, 0);
    /* A finished stream takes no more ids. */
    assert_int_equal(slm_stream_decoder_push(dec, the, &t, &n, &err), SLM_ERR_INVALID_ARG);
    slm_stream_decoder_free(dec);

    /* Valid 你 then a stray E4 in the same run: Hugging Face gives four U+FFFD. */
    int32_t broken[] = {e4, bd, a0, e4};
    char *text = decode_or_fail(tok, broken, 4, false);
    assert_string_equal(text, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    free(text);
    slm_stream_decoder_free(NULL);
    slm_tokenizer_free(tok);
}

/* ------------------------------------------------------------------ threads */

typedef struct {
    const slm_tokenizer *tok;
    const char *text;
    slm_tokens ids;
    slm_status st;
} thread_job;

static void *encode_many(void *arg)
{
    thread_job *j = arg;
    slm_error err = {0};
    for (int r = 0; r < 50 && j->st == SLM_OK; r++) {
        j->ids.n = 0;
        j->st = slm_tokenize(j->tok, j->text, strlen(j->text), true, &j->ids, &err);
    }
    return NULL;
}

/* One const tokenizer, four threads encoding at once: all scratch is per call, so every thread
 * gets the single-threaded ids (ASan / UBSan would catch shared scratch). */
static void test_threads(void **state)
{
    (void)state;
    static const char *const dirs[] = {"tests/fixtures/models/smollm2",
                                       "tests/fixtures/models/distilbert_sst2",
                                       "tests/fixtures/models/tinyllama"};
    static const char text[] = "Once upon a time, the caf\xC3\xA9 served 42 \xE4\xBD\xA0\xE5\xA5\xBD "
                               "and code: if (x == 1) { return y; } \xF0\x9F\x98\x80 tea.";
    for (size_t d = 0; d < 3; d++) {
        slm_tokenizer *tok = load_or_fail(test_source_path(dirs[d]));
        slm_tokens want = encode_or_fail(tok, text, true);
        thread_job jobs[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            jobs[i] = (thread_job){.tok = tok, .text = text, .st = SLM_OK};
            assert_int_equal(pthread_create(&th[i], NULL, encode_many, &jobs[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(jobs[i].st, SLM_OK);
            assert_int_equal(jobs[i].ids.n, want.n);
            assert_memory_equal(jobs[i].ids.ids, want.ids, want.n * sizeof *want.ids);
            slm_tokens_free(&jobs[i].ids);
        }
        slm_tokens_free(&want);
        slm_tokenizer_free(tok);
    }
}

/* ------------------------------------------------------------------ truncation */

static void expect_truncated(const slm_tokenizer *tok, const char *text, bool special,
                             size_t max_len, const int32_t *want, size_t n, bool want_cut)
{
    slm_tokens ids = {0};
    slm_error err = {0};
    bool cut = !want_cut;
    if (slm_tokenize_truncated(tok, text, strlen(text), special, max_len, &ids, &cut, &err) !=
        SLM_OK)
        fail_msg("slm_tokenize_truncated(\"%s\", %zu): %s", text, max_len, err.msg);
    if (ids.n != n || memcmp(ids.ids, want, n * sizeof *want) != 0 || cut != want_cut) {
        print_ids("want:", want, n);
        print_ids("got: ", ids.ids, ids.n);
        fail_msg("truncating \"%s\" to %zu (truncated %d)", text, max_len, cut);
    }
    slm_tokens_free(&ids);
}

#define TRUNC(tok, text, special, max_len, cut, ...)                                   \
    do {                                                                               \
        const int32_t want_[] = {__VA_ARGS__};                                         \
        expect_truncated(tok, text, special, max_len, want_, sizeof want_ / sizeof want_[0], \
                         cut);                                                         \
    } while (0)

/* Expected ids from Hugging Face (truncation=True, max_length=N) on DistilBERT's tokenizer:
 * "the quick brown fox jumps over the lazy dog" is 1996 4248 2829 4419 14523 2058 1996 13971
 * 3899. */
static void test_truncation(void **state)
{
    (void)state;
    static const char fox[] = "the quick brown fox jumps over the lazy dog";
    slm_tokenizer *tok = load_or_fail(test_source_path("tests/fixtures/models/distilbert_sst2"));
    TRUNC(tok, fox, true, 6, true, 101, 1996, 4248, 2829, 4419, 102);
    TRUNC(tok, fox, true, 11, false, 101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899,
          102);
    TRUNC(tok, fox, true, 2, true, 101, 102);
    TRUNC(tok, fox, false, 3, true, 1996, 4248, 2829);
    TRUNC(tok, "", true, 2, false, 101, 102);

    /* Too small for the special tokens: an error, and the caller's list is left alone. */
    slm_tokens ids = {0};
    slm_tokens_push(&ids, 7);
    slm_error err = {0};
    assert_int_equal(slm_tokenize_truncated(tok, fox, strlen(fox), true, 1, &ids, NULL, &err),
                     SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "max_len 1"));
    assert_int_equal(slm_tokenize_truncated(tok, "\xFF", 1, true, 10, &ids, NULL, &err),
                     SLM_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "byte offset 0"));
    assert_int_equal(ids.n, 1);
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);

    /* truncation_side "left" keeps the end of the text. */
    char *dir = tokenizer_only_dir("tests/fixtures/models/distilbert_sst2",
                                   "{\"truncation_side\": \"left\", \"model_max_length\": 1e30}");
    tok = load_or_fail(dir);
    TRUNC(tok, fox, true, 6, true, 101, 2058, 1996, 13971, 3899, 102);
    assert_int_equal(slm_tokenizer_model_max_length(tok), 0); /* transformers' "no limit" */
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ broken files */

/* Writes tokenizer.json (and, when given, tokenizer_config.json) into a fresh directory. */
static char *write_tokenizer(const char *json, const char *config)
{
    char *dir = test_make_tmpdir();
    write_or_fail(dir, "tokenizer.json", json, strlen(json));
    if (config)
        write_or_fail(dir, "tokenizer_config.json", config, strlen(config));
    return dir;
}

static void expect_load_error(const char *json, const char *config, slm_status want,
                              const char *needle1, const char *needle2)
{
    char *dir = write_tokenizer(json, config);
    slm_tokenizer *tok = (slm_tokenizer *)0x1;
    slm_error err = {0};
    slm_status st = slm_tokenizer_load(dir, &tok, &err);
    if (st != want || !strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
        fail_msg("loading %.80s: status %d (want %d), message '%s' (want '%s', '%s')", json, st,
                 want, err.msg, needle1, needle2 ? needle2 : "");
    assert_null(tok);
    test_rmtree(dir);
    free(dir);
}

#define GOOD_MODEL                                                                     \
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}"

static void test_bad_files(void **state)
{
    (void)state;
    slm_tokenizer *tok = (slm_tokenizer *)0x1;
    slm_error err = {0};
    assert_int_equal(slm_tokenizer_load("/nonexistent/slm-dir", &tok, &err), SLM_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/slm-dir/tokenizer.json"));
    assert_null(tok);

    expect_load_error("{\"model\": {\"type\": \"BPE\",,}}", NULL, SLM_ERR_FORMAT,
                      "tokenizer.json", "line 1");
    expect_load_error("[1, 2]", NULL, SLM_ERR_FORMAT, "tokenizer.json", "object");
    expect_load_error("{}", NULL, SLM_ERR_FORMAT, "tokenizer.json", "model");
    expect_load_error("{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", NULL,
                      SLM_ERR_UNSUPPORTED, "tokenizer.json", "'Unigram'");
    expect_load_error("{\"normalizer\":{\"type\":\"FancyNorm\"}," GOOD_MODEL "}", NULL,
                      SLM_ERR_UNSUPPORTED, "tokenizer.json", "normalizer type 'FancyNorm'");
    expect_load_error("{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":"
                      "\"Replace\",\"pattern\":{\"Regex\":\"(a\"},\"content\":\" \"}]},"
                      GOOD_MODEL "}",
                      NULL, SLM_ERR_FORMAT, "normalizer.normalizers[0].pattern.Regex",
                      "does not compile");
    expect_load_error("{\"normalizer\":{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"\"},"
                      GOOD_MODEL "}", NULL, SLM_ERR_UNSUPPORTED, "normalizer",
                      "normalizer type 'Precompiled'");
    expect_load_error("{\"normalizer\":{\"type\":\"BertNormalizer\",\"lowercase\":\"yes\"},"
                      GOOD_MODEL "}", NULL, SLM_ERR_FORMAT, "normalizer.lowercase",
                      "true or false");
    expect_load_error("{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},"
                      "\"behavior\":\"Sideways\",\"invert\":false}," GOOD_MODEL "}", NULL,
                      SLM_ERR_FORMAT, "pre_tokenizer.behavior", "MergedWithNext");
    expect_load_error("{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":"
                      "\"Split\",\"pattern\":{\"Regex\":\"[\"},\"behavior\":\"Isolated\"}]},"
                      GOOD_MODEL "}", NULL, SLM_ERR_FORMAT, "pre_tokenizer.pretokenizers[0].pattern",
                      "does not compile");
    expect_load_error("{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":7}," GOOD_MODEL "}",
                      NULL, SLM_ERR_FORMAT, "pre_tokenizer.pattern", "Regex");
    expect_load_error("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0},"
                      "\"max_input_chars_per_word\":\"x\"}}", NULL, SLM_ERR_FORMAT,
                      "model.max_input_chars_per_word", "integer");
    expect_load_error("{\"pre_tokenizer\":{\"type\":\"FancySplit\"}," GOOD_MODEL "}", NULL,
                      SLM_ERR_UNSUPPORTED, "tokenizer.json", "pre_tokenizer type 'FancySplit'");
    expect_load_error("{\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Fuse\"},"
                      "{\"type\":\"Mystery\"}]}," GOOD_MODEL "}", NULL, SLM_ERR_UNSUPPORTED,
                      "decoder.decoders[1]", "decoder type 'Mystery'");
    expect_load_error("{\"post_processor\":{\"type\":\"Nope\"}," GOOD_MODEL "}", NULL,
                      SLM_ERR_UNSUPPORTED, "tokenizer.json", "post_processor type 'Nope'");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a c\"]}}",
                      NULL, SLM_ERR_FORMAT, "model.merges[0]", "vocabulary");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"ac\"]}}",
                      NULL, SLM_ERR_FORMAT, "model.merges[0]", "one space");
    /* Several spaces (the shared TinyLlama copy's flattened U+00A0 merges): Hugging Face refuses
     * such a file, and so does slm, naming the merge. */
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\" \":0,\"  \":1,\"x\":2},"
                      "\"merges\":[\"   \"]}}",
                      NULL, SLM_ERR_FORMAT, "model.merges[0] \"   \"", "one space");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"x\"},\"merges\":[]}}",
                      NULL, SLM_ERR_FORMAT, "model.vocab", "'a'");
    expect_load_error("{\"decoder\":{\"type\":\"Strip\",\"content\":\"ab\",\"start\":1,\"stop\":0},"
                      GOOD_MODEL "}", NULL, SLM_ERR_FORMAT, "decoder.content", "single character");
    expect_load_error("{" GOOD_MODEL "}", "{\"add_bos_token\": tru", SLM_ERR_FORMAT,
                      "tokenizer_config.json", "line 1");
    expect_load_error("{" GOOD_MODEL "}", "{\"model_max_length\": \"512\"}", SLM_ERR_FORMAT,
                      "tokenizer_config.json", "model_max_length");
    expect_load_error("{" GOOD_MODEL "}", "{\"truncation_side\": \"middle\"}", SLM_ERR_FORMAT,
                      "tokenizer_config.json", "truncation_side");
}

/* ------------------------------------------------------------------ the CLI */

static void test_cli(void **state)
{
    (void)state;
    char args[4096], *out = NULL, *err = NULL;
    const char *model = test_source_path("weights/stories260K");
    snprintf(args, sizeof args, "tokenize -m '%s' 'Hello <s> world'", model);
    assert_int_equal(test_run_cli(args, &out, &err), 0);
    assert_string_equal(out, "1 346 306 414 410 1 410 263 304 341\n");
    free(out);
    free(err);

    snprintf(args, sizeof args, "tokenize --model '%s' --no-special 'Hello'", model);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "346 306 414\n");
    free(out);

    snprintf(args, sizeof args, "detokenize -m '%s' 1 346 306 414 410 1", model);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "<s> Hello <s>\n");
    free(out);

    snprintf(args, sizeof args, "detokenize -m '%s' --skip-special '1,346, 306 414'", model);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "Hello\n");
    free(out);

    snprintf(args, sizeof args, "tokenize -m '%s' -- '--not-an-option'", model);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_true(strlen(out) > 2);
    free(out);

    assert_int_equal(test_run_cli("tokenize --help", &out, NULL), 0);
    assert_non_null(strstr(out, "usage: slm tokenize"));
    free(out);
    assert_int_equal(test_run_cli("detokenize -h", &out, NULL), 0);
    assert_non_null(strstr(out, "usage: slm detokenize"));
    free(out);

    assert_int_equal(test_run_cli("tokenize --bogus x", NULL, &err), 2);
    assert_non_null(strstr(err, "--bogus"));
    free(err);
    assert_int_equal(test_run_cli("tokenize", NULL, NULL), 2);
    assert_int_equal(test_run_cli("detokenize", NULL, NULL), 2);
    snprintf(args, sizeof args, "detokenize -m '%s' 1 512", model);
    assert_int_equal(test_run_cli(args, NULL, &err), 2);
    assert_non_null(strstr(err, "512"));
    free(err);
    snprintf(args, sizeof args, "detokenize -m '%s' 1 x2", model);
    assert_int_equal(test_run_cli(args, NULL, NULL), 2);
    assert_int_equal(test_run_cli("tokenize -m /nonexistent/dir hi", NULL, &err), 1);
    assert_non_null(strstr(err, "/nonexistent/dir/tokenizer.json"));
    free(err);
}

/* slm_tokenizer_id_piece against the folder's own tokenizer.json: every model.vocab entry
   (a map for BPE and WordPiece) and every added token spells its id back, as transformers'
   convert_ids_to_tokens; ids past the vocabulary name nothing. */
static void check_id_pieces(const char *rel)
{
    char path[4096], *data = NULL;
    size_t len = 0;
    slm_error err = {0};
    snprintf(path, sizeof path, "%s/tokenizer.json", rel);
    assert_int_equal(slm_read_file(test_source_path(path), &data, &len, &err), SLM_OK);
    cJSON *root = cJSON_ParseWithLength(data, len);
    assert_non_null(root);
    slm_tokenizer *tok;
    assert_int_equal(slm_tokenizer_load(test_source_path(rel), &tok, &err), SLM_OK);
    const cJSON *vocab = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "model"), "vocab");
    size_t checked = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab)
    {
        size_t n = 0;
        const char *p = slm_tokenizer_id_piece(tok, (int32_t)e->valuedouble, &n);
        if (!p || n != strlen(e->string) || memcmp(p, e->string, n) != 0)
            fail_msg("%s: id %d is '%s', got '%.*s'", rel, (int)e->valuedouble, e->string,
                     p ? (int)n : 6, p ? p : "(none)");
        checked++;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "added_tokens"))
    {
        const char *content = cJSON_GetObjectItem(e, "content")->valuestring;
        size_t n = 0;
        const char *p = slm_tokenizer_id_piece(tok, cJSON_GetObjectItem(e, "id")->valueint, &n);
        assert_non_null(p);
        assert_int_equal(n, strlen(content));
        assert_memory_equal(p, content, n);
        checked++;
    }
    assert_true(checked > 100);
    size_t n = 0;
    assert_null(slm_tokenizer_id_piece(tok, (int32_t)slm_tokenizer_vocab_size(tok), &n));
    assert_null(slm_tokenizer_id_piece(tok, -1, &n));
    slm_tokenizer_free(tok);
    cJSON_Delete(root);
    free(data);
}

static void test_id_pieces(void **state)
{
    (void)state;
    check_id_pieces("tests/fixtures/models/tinyllama");      /* SentencePiece-style BPE */
    check_id_pieces("tests/fixtures/models/smollm2");        /* byte-level BPE + ChatML */
    check_id_pieces("tests/fixtures/models/distilbert_sst2"); /* WordPiece */
}

/* tokenize --pieces / --json: the same ids as the plain output, each with its piece. */
static void test_cli_pieces(void **state)
{
    (void)state;
    char args[4096], *plain = NULL, *out = NULL, *err = NULL;
    const char *model = test_source_path("tests/fixtures/models/smollm2");
    snprintf(args, sizeof args, "tokenize -m '%s' 'Hello world, again'", model);
    assert_int_equal(test_run_cli(args, &plain, NULL), 0);
    snprintf(args, sizeof args, "tokenize -m '%s' --pieces 'Hello world, again'", model);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    slm_tokenizer *tok;
    slm_error e = {0};
    assert_int_equal(slm_tokenizer_load(model, &tok, &e), SLM_OK);
    char *want = calloc(1, 4096), *rest = plain;
    size_t used = 0;
    for (char *id; (id = strtok_r(rest, " \n", &rest));) {
        size_t n = 0;
        const char *p = slm_tokenizer_id_piece(tok, (int32_t)atoi(id), &n);
        assert_non_null(p);
        used += (size_t)snprintf(want + used, 4096 - used, "%s -> '%.*s'\n", id, (int)n, p);
    }
    assert_true(used > 0);
    assert_string_equal(out, want);
    free(out);
    snprintf(args, sizeof args, "tokenize -m '%s' --json 'Hello world'", model);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "{\"ids\":[15496,995],\"pieces\":[\"Hello\",\"\xc4\xa0" "world\"]}\n");
    free(out);
    snprintf(args, sizeof args, "tokenize -m '%s' --json --pieces x", model);
    assert_int_equal(test_run_cli(args, NULL, &err), 2);
    assert_non_null(strstr(err, "--pieces and --json"));
    free(err);
    slm_tokenizer_free(tok);
    free(want);
    free(plain);
}

/* The verbs on a byte-level BPE folder and on a WordPiece folder holding only tokenizer files. */
static void test_cli_families(void **state)
{
    (void)state;
    char args[4096], *out = NULL, *err = NULL;
    const char *smol = test_source_path("tests/fixtures/models/smollm2");
    snprintf(args, sizeof args, "tokenize -m '%s' 'Hello world<|im_end|>'", smol);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "15496 995 50258\n");
    free(out);
    snprintf(args, sizeof args, "detokenize -m '%s' --skip-special 15496 995 50258", smol);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "Hello world\n");
    free(out);

    char *bert = tokenizer_only_dir("tests/fixtures/models/distilbert_sst2", NULL);
    snprintf(args, sizeof args, "tokenize -m '%s' 'Hello, World!'", bert);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "101 7592 1010 2088 999 102\n");
    free(out);
    snprintf(args, sizeof args, "detokenize -m '%s' 101 7592 1010 2088 999 102", bert);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "[CLS] hello, world! [SEP]\n");
    free(out);
    snprintf(args, sizeof args, "detokenize -m '%s' --skip-special 101,7592,1010,2088,999,102",
             bert);
    assert_int_equal(test_run_cli(args, &out, NULL), 0);
    assert_string_equal(out, "hello, world!\n");
    free(out);
    snprintf(args, sizeof args, "tokenize -m '%s' --max-length 4 'Hello, World!'", bert);
    assert_int_equal(test_run_cli(args, &out, &err), 0);
    assert_string_equal(out, "101 7592 1010 102\n");
    assert_non_null(strstr(err, "truncated"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "tokenize -m '%s' --max-length 1 'Hello'", bert);
    assert_int_equal(test_run_cli(args, NULL, &err), 1);
    assert_non_null(strstr(err, "max_len 1"));
    free(err);
    snprintf(args, sizeof args, "tokenize -m '%s' --max-length -3 'Hello'", bert);
    assert_int_equal(test_run_cli(args, NULL, NULL), 2);
    test_rmtree(bert);
    free(bert);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_basics),
        cmocka_unit_test(test_tokens_push_grows),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_stream_holds_byte_runs),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_id_pieces),
        cmocka_unit_test(test_cli_pieces),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_cli_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
