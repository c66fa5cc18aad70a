/*
 * test_tokenizer_models.c — the tokenizer's components one at a time, and small hand-made models.
 *
 * tests/fixtures/tokenizers/components.jsonl (tools/make_tokenizer_fixtures.py) holds, for every
 * supported normalizer, pre-tokenizer and decoder, Hugging Face's output on ~120 varied inputs;
 * each component is loaded here through the engine's own loader (white box: tokenizer_internal.h)
 * and must give the same strings. The hand-made models pin down BPE, WordPiece and byte-level
 * details whose expected ids come from Hugging Face tokenizers 0.23 on the same JSON.
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

#include "fileio.h"
#include "slm.h"
#include "test_util.h"
#include "tokenizer/tokenizer_internal.h"

#define MAX_REPORTS 12

/* ------------------------------------------------------------------ helpers */

static void print_escaped(const char *label, const char *s, size_t n)
{
    fprintf(stderr, "    %s \"", label);
    for (size_t i = 0; i < n && i < 200; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02X", c);
    }
    fprintf(stderr, "%s\"\n", n > 200 ? "..." : "");
}

static void print_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "    %s [", label);
    for (size_t i = 0; i < n && i < 60; i++)
        fprintf(stderr, "%s%d", i ? " " : "", ids[i]);
    fprintf(stderr, "%s] (%zu ids)\n", n > 60 ? " ..." : "", n);
}

typedef struct {
    const char *what;
    int line;
    size_t checks, bad;
} tally;

static bool report(tally *t, const char *input, size_t n)
{
    t->bad++;
    if (t->bad > MAX_REPORTS)
        return false;
    fprintf(stderr, "  components.jsonl line %d (%s) differs\n", t->line, t->what);
    print_escaped("input:", input, n);
    return true;
}

static bool same(const char *a, size_t na, const char *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

/* ------------------------------------------------------------------ components */

static void check_normalizer(tally *t, const cJSON *json, const cJSON *cases)
{
    slm_normalizer nz;
    slm_error err = {0};
    if (slm_normalizer_load(&nz, json, "components.jsonl", &err) != SLM_OK)
        fail_msg("line %d: %s", t->line, err.msg);
    slm_tok_scratch sc = {0};
    slm_tok_buf out = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *in = cJSON_GetArrayItem(c, 0)->valuestring;
        const char *want = cJSON_GetArrayItem(c, 1)->valuestring;
        t->checks++;
        assert_int_equal(slm_normalizer_apply(&nz, in, strlen(in), &out, &sc, &err), SLM_OK);
        if (!same(out.data, out.len, want, strlen(want)) && report(t, in, strlen(in))) {
            print_escaped("want:", want, strlen(want));
            print_escaped("got: ", out.data ? out.data : "", out.len);
        }
    }
    slm_tok_buf_free(&out);
    slm_tok_scratch_free(&sc);
    slm_normalizer_free(&nz);
}

/* The splits of one input, each spelled as Hugging Face shows it (byte-level characters when the
 * last step is ByteLevel, which slm leaves for the model to apply). */
static bool splits_match(const slm_pretokenizer *pt, const slm_tok_split_list *l,
                         const cJSON *want)
{
    if ((size_t)cJSON_GetArraySize(want) != l->n)
        return false;
    slm_tok_buf w = {0};
    bool ok = true;
    for (size_t i = 0; i < l->n && ok; i++) {
        const char *s = l->text.data + l->v[i].off;
        const char *expect = cJSON_GetArrayItem(want, (int)i)->valuestring;
        slm_tok_buf_clear(&w);
        if (pt->byte_level)
            slm_tok_byte_level_map(s, l->v[i].len, &w);
        else
            slm_tok_buf_append(&w, s, l->v[i].len);
        ok = same(w.data, w.len, expect, strlen(expect));
    }
    slm_tok_buf_free(&w);
    return ok;
}

static void check_pretokenizer(tally *t, const cJSON *json, const cJSON *cases)
{
    slm_pretokenizer pt;
    slm_error err = {0};
    if (slm_pretokenizer_load(&pt, json, "components.jsonl", &err) != SLM_OK)
        fail_msg("line %d: %s", t->line, err.msg);
    slm_tok_scratch sc = {0};
    slm_tok_split_list io = {0}, tmp = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *in = cJSON_GetArrayItem(c, 0)->valuestring;
        size_t n = strlen(in);
        t->checks++;
        slm_tok_buf_clear(&io.text);
        io.n = 0;
        slm_tok_buf_append(&io.text, in, n);
        if (n)
            slm_tok_split_list_push(&io, 0, n, true);
        assert_int_equal(slm_pretokenizer_apply(&pt, &io, &tmp, &sc, &err), SLM_OK);
        if (!splits_match(&pt, &io, cJSON_GetArrayItem(c, 1)) && report(t, in, n)) {
            char *want = cJSON_PrintUnformatted(cJSON_GetArrayItem(c, 1));
            fprintf(stderr, "    want %s\n    got ", want);
            for (size_t i = 0; i < io.n; i++)
                fprintf(stderr, "[%.*s] ", (int)io.v[i].len, io.text.data + io.v[i].off);
            fprintf(stderr, "\n");
            free(want);
        }
    }
    slm_tok_split_list_free(&io);
    slm_tok_split_list_free(&tmp);
    slm_tok_scratch_free(&sc);
    slm_pretokenizer_free(&pt);
}

static void check_decoder(tally *t, const cJSON *json, const cJSON *cases)
{
    slm_detok d;
    slm_error err = {0};
    if (slm_detok_load(&d, json, "components.jsonl", &err) != SLM_OK)
        fail_msg("line %d: %s", t->line, err.msg);
    slm_tok_buf out = {0}, text = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        slm_detok_run *run = slm_detok_run_new(&d);
        assert_non_null(run);
        slm_tok_buf_clear(&out);
        const cJSON *piece;
        cJSON_ArrayForEach(piece, cJSON_GetArrayItem(c, 0))
            assert_true(slm_detok_run_push(run, piece->valuestring, strlen(piece->valuestring),
                                           &out));
        assert_true(slm_detok_run_finish(run, &out));
        slm_detok_run_free(run);
        slm_tok_buf_clear(&text); /* Hugging Face's result is a String */
        slm_tok_utf8_append_lossy(&text, out.data ? out.data : "", out.len);
        const char *want = cJSON_GetArrayItem(c, 1)->valuestring;
        t->checks++;
        if (!same(text.data, text.len, want, strlen(want))) {
            char *pieces = cJSON_PrintUnformatted(cJSON_GetArrayItem(c, 0));
            if (report(t, pieces, strlen(pieces))) {
                print_escaped("want:", want, strlen(want));
                print_escaped("got: ", text.data ? text.data : "", text.len);
            }
            free(pieces);
        }
    }
    slm_tok_buf_free(&out);
    slm_tok_buf_free(&text);
    slm_detok_free(&d);
}

static void test_components(void **state)
{
    (void)state;
    size_t len;
    char *data;
    slm_error err = {0};
    if (slm_read_file(test_source_path("tests/fixtures/tokenizers/components.jsonl"), &data, &len,
                      &err) != SLM_OK)
        fail_msg("%s", err.msg);
    size_t counts[3] = {0}, checks = 0, bad = 0;
    int line = 0;
    for (char *p = data, *end; *p; p = end + 1) {
        end = strchr(p, '\n');
        *end = '\0';
        cJSON *rec = cJSON_Parse(p);
        assert_non_null(rec);
        const char *kind = cJSON_GetObjectItemCaseSensitive(rec, "kind")->valuestring;
        const cJSON *json = cJSON_GetObjectItemCaseSensitive(rec, "json");
        const cJSON *cases = cJSON_GetObjectItemCaseSensitive(rec, "cases");
        tally t = {.what = kind, .line = ++line};
        int k = strcmp(kind, "normalizer") == 0 ? 0 : strcmp(kind, "pre_tokenizer") == 0 ? 1 : 2;
        if (k == 0)
            check_normalizer(&t, json, cases);
        else if (k == 1)
            check_pretokenizer(&t, json, cases);
        else
            check_decoder(&t, json, cases);
        counts[k]++;
        checks += t.checks;
        bad += t.bad;
        cJSON_Delete(rec);
    }
    fprintf(stderr, "  components: %zu normalizers, %zu pre-tokenizers, %zu decoders: %zu checks, "
                    "%zu differ\n", counts[0], counts[1], counts[2], checks, bad);
    free(data);
    assert_true(counts[0] >= 15 && counts[1] >= 30 && counts[2] >= 5);
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ hand-made models */

static char *write_tokenizer(const char *json, const char *config)
{
    char *dir = test_make_tmpdir();
    free(test_write_file(dir, "tokenizer.json", json, strlen(json)));
    if (config)
        free(test_write_file(dir, "tokenizer_config.json", config, strlen(config)));
    return dir;
}

static slm_tokenizer *load_json(const char *json, const char *config, char **dir)
{
    *dir = write_tokenizer(json, config);
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    if (slm_tokenizer_load(*dir, &tok, &err) != SLM_OK)
        fail_msg("loading %.100s: %s", json, err.msg);
    return tok;
}

static void drop(slm_tokenizer *tok, char *dir)
{
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);
}

static void expect_ids(const slm_tokenizer *tok, const char *text, const int32_t *want, size_t n)
{
    slm_tokens ids = {0};
    slm_error err = {0};
    if (slm_tokenize(tok, text, strlen(text), false, &ids, &err) != SLM_OK)
        fail_msg("slm_tokenize(\"%s\"): %s", text, err.msg);
    if (ids.n != n || (n && memcmp(ids.ids, want, n * sizeof *want) != 0)) {
        print_ids("want:", want, n);
        print_ids("got: ", ids.ids, ids.n);
        fail_msg("ids of \"%s\"", text);
    }
    slm_tokens_free(&ids);
}

#define EXPECT(tok, text, ...)                                                         \
    do {                                                                               \
        const int32_t want_[] = {__VA_ARGS__};                                         \
        expect_ids(tok, text, want_, sizeof want_ / sizeof want_[0]);                  \
    } while (0)

static char *decode(const slm_tokenizer *tok, const int32_t *ids, size_t n, bool skip)
{
    char *text = NULL;
    slm_error err = {0};
    if (slm_detokenize(tok, ids, n, skip, &text, &err) != SLM_OK)
        fail_msg("slm_detokenize: %s", err.msg);
    return text;
}

/* Expected values come from Hugging Face tokenizers 0.23 on the same JSON. */
static void test_small_bpe_models(void **state)
{
    (void)state;
    char *dir;
    slm_tokenizer *tok = load_json(
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}}",
        NULL, &dir);
    EXPECT(tok, "ab", 2);
    EXPECT(tok, "ba", 1, 0);
    EXPECT(tok, "abab", 2, 2);
    EXPECT(tok, "aXb", 2); /* no unk_token: unknown characters vanish */
    expect_ids(tok, "", NULL, 0);
    int32_t ids[] = {2, 0, 1};
    char *text = decode(tok, ids, 3, false);
    assert_string_equal(text, "ab a b"); /* no decoder: pieces joined by spaces */
    free(text);
    assert_int_equal(slm_tokenizer_bos_id(tok), -1); /* no tokenizer_config.json */
    assert_int_equal(slm_tokenizer_model_max_length(tok), 0);
    drop(tok, dir);

    tok = load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<unk>\":0,\"a\":1},"
                    "\"merges\":[],\"unk_token\":\"<unk>\",\"fuse_unk\":true}}", NULL, &dir);
    EXPECT(tok, "axxa", 1, 0, 1);
    EXPECT(tok, "x\xC3\xA9", 0);
    drop(tok, dir);

    tok = load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<unk>\":0,\"a\":1},"
                    "\"merges\":[],\"unk_token\":\"<unk>\",\"fuse_unk\":false}}", NULL, &dir);
    EXPECT(tok, "axxa", 1, 0, 0, 1);
    drop(tok, dir);

    /* byte_fallback with an incomplete byte table: a pending unk outlives the bytes. */
    tok = load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<unk>\":0,\"a\":1,"
                    "\"<0x78>\":2},\"merges\":[],\"unk_token\":\"<unk>\",\"fuse_unk\":true,"
                    "\"byte_fallback\":true}}", NULL, &dir);
    EXPECT(tok, "axya", 1, 2, 0, 1);
    EXPECT(tok, "yxy", 2, 0);
    drop(tok, dir);

    tok = load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"##b\":1,\"a##b\":2,"
                    "\"ab\":3},\"merges\":[[\"a\",\"##b\"]],"
                    "\"continuing_subword_prefix\":\"##\"}}", NULL, &dir);
    EXPECT(tok, "ab", 3);
    EXPECT(tok, "abb", 3, 1);
    drop(tok, dir);

    tok = load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,"
                    "\"abab\":3,\"ba\":4},\"merges\":[\"a b\",\"b a\"],"
                    "\"ignore_merges\":true}}", NULL, &dir);
    EXPECT(tok, "abab", 3);
    EXPECT(tok, "ababa", 2, 2, 0);
    drop(tok, dir);

    /* SentencePiece-style words are cut before a "▁" that follows another character, unless a
     * merge joins across such a cut (here "a" + "▁b"): the ids are Hugging Face's either way. */
    tok = load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"\u2581\":1,\"b\":2,"
                    "\"\u2581b\":3,\"a\u2581b\":4},\"merges\":[\"\u2581 b\",\"a \u2581b\"]}}",
                    NULL, &dir);
    EXPECT(tok, "a\xE2\x96\x81" "b\xE2\x96\x81\xE2\x96\x81" "b", 4, 1, 3);
    drop(tok, dir);
    tok = load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"\u2581\":1,\"b\":2,"
                    "\"\u2581b\":3,\"\u2581\u2581\":4},\"merges\":[\"\u2581 b\",\"\u2581 \u2581\"]}}",
                    NULL, &dir);
    EXPECT(tok, "a\xE2\x96\x81" "b\xE2\x96\x81\xE2\x96\x81" "b", 0, 3, 1, 3);
    drop(tok, dir);

    /* A word longer than the short-word path (48 symbols) takes the heap: same ids. */
    tok = load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"aa\":1,\"aaaa\":2},"
                    "\"merges\":[\"a a\",\"aa aa\"]}}", NULL, &dir);
    EXPECT(tok, "aaaaaaa", 2, 1, 0);
    EXPECT(tok, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaa", /* 100 */
           2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2);
    drop(tok, dir);
}

/* A byte-level vocabulary of the 256 byte characters plus "Ġa" and "ab". */
static char *byte_level_json(const char *pre_tokenizer)
{
    cJSON *vocab = cJSON_CreateObject();
    for (int b = 0; b < 256; b++) {
        char c[5] = {0};
        slm_tok_utf8_encode(slm_tok_byte_to_char((uint8_t)b), c);
        cJSON_AddNumberToObject(vocab, c, b);
    }
    cJSON_AddNumberToObject(vocab, "\xC4\xA0" "a", 256);
    cJSON_AddNumberToObject(vocab, "ab", 257);
    char *v = cJSON_PrintUnformatted(vocab);
    cJSON_Delete(vocab);
    size_t n = strlen(v) + strlen(pre_tokenizer) + 400;
    char *json = malloc(n);
    snprintf(json, n, "{\"pre_tokenizer\":%s,\"decoder\":{\"type\":\"ByteLevel\"},"
                      "\"added_tokens\":[{\"id\":258,\"content\":\"<|x|>\",\"special\":true}],"
                      "\"model\":{\"type\":\"BPE\",\"vocab\":%s,"
                      "\"merges\":[\"\xC4\xA0 a\",\"a b\"]}}", pre_tokenizer, v);
    free(v);
    return json;
}

static void test_byte_level_model(void **state)
{
    (void)state;
    char *dir, *json = byte_level_json("{\"type\":\"ByteLevel\",\"add_prefix_space\":true}");
    slm_tokenizer *tok = load_json(json, NULL, &dir);
    free(json);
    /* add_prefix_space: " ab" -> Ġa b (the lower-ranked merge wins); each segment between
     * added tokens gets its own space. */
    EXPECT(tok, "ab", 256, 98);
    EXPECT(tok, "a<|x|>ab", 256, 258, 256, 98);
    EXPECT(tok, "\xC3\xA9", 32, 195, 169);
    /* Decoding: byte pieces come back as the bytes, an invalid sequence as U+FFFD. */
    int32_t ids[] = {32, 228, 189, 160, 228, 258};
    char *text = decode(tok, ids, 6, false);
    assert_string_equal(text, " \xE4\xBD\xA0\xEF\xBF\xBD<|x|>");
    free(text);
    text = decode(tok, ids, 6, true);
    assert_string_equal(text, " \xE4\xBD\xA0\xEF\xBF\xBD");
    free(text);
    drop(tok, dir);

    json = byte_level_json("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                           "\"use_regex\":false}");
    tok = load_json(json, NULL, &dir);
    free(json);
    EXPECT(tok, "ab ab", 257, 256, 98); /* one word: " a" merges first */
    drop(tok, dir);
}

static void test_wordpiece_model(void **state)
{
    (void)state;
    char *dir;
    slm_tokenizer *tok = load_json(
        "{\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
        "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},"
        "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"max_input_chars_per_word\":5,"
        "\"vocab\":{\"[UNK]\":0,\"un\":1,\"##aff\":2,\"##able\":3,\"a\":4,\"##a\":5,\".\":6,"
        "\"unaff\":7}}}",
        NULL, &dir);
    EXPECT(tok, "unaffable", 0); /* 9 characters > max_input_chars_per_word */
    EXPECT(tok, "unaff", 7);     /* longest match first */
    EXPECT(tok, "aaa.", 4, 5, 5, 6);
    EXPECT(tok, "ab", 0);        /* no piece for "##b": the whole word is [UNK] */
    int32_t ids[] = {4, 5, 6, 1, 2};
    char *text = decode(tok, ids, 5, false);
    assert_string_equal(text, "aa. unaff");
    free(text);
    drop(tok, dir);

    /* An unk_token missing from the vocabulary is a clear load error. */
    const char *bad = "{\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\","
                      "\"vocab\":{\"a\":0}}}";
    dir = write_tokenizer(bad, NULL);
    slm_tokenizer *t2 = (slm_tokenizer *)0x1;
    slm_error err = {0};
    assert_int_equal(slm_tokenizer_load(dir, &t2, &err), SLM_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "model.unk_token"));
    assert_null(t2);
    test_rmtree(dir);
    free(dir);
}

/* Templates for pairs: BertProcessing, RobertaProcessing, a Sequence, and no processor. */
static void test_pair_templates(void **state)
{
    (void)state;
    static const struct {
        const char *post;
        int32_t want[8];
        size_t n;
    } cases[] = {
        {"{\"type\":\"BertProcessing\",\"cls\":[\"c\",2],\"sep\":[\"s\",3]}", {2, 0, 3, 1, 3}, 5},
        {"{\"type\":\"RobertaProcessing\",\"cls\":[\"c\",2],\"sep\":[\"s\",3]}",
         {2, 0, 3, 3, 1, 3}, 6},
        {"{\"type\":\"Sequence\",\"processors\":[{\"type\":\"ByteLevel\"},{\"type\":"
         "\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\"}}],\"pair\":["
         "{\"SpecialToken\":{\"id\":\"c\"}},{\"Sequence\":{\"id\":\"A\"}},{\"Sequence\":"
         "{\"id\":\"B\"}},{\"SpecialToken\":{\"id\":\"s\"}}],\"special_tokens\":{\"c\":{\"ids\":"
         "[2]},\"s\":{\"ids\":[3]}}}]}",
         {2, 0, 1, 3}, 4},
        {"null", {0, 1}, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json, "{\"post_processor\":%s,\"model\":{\"type\":\"BPE\","
                                    "\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"s\":3},\"merges\":[]}}",
                 cases[i].post);
        char *dir;
        slm_tokenizer *tok = load_json(json, NULL, &dir);
        slm_tokens ids = {0};
        slm_error err = {0};
        assert_int_equal(slm_tokenize_pair(tok, "a", 1, "b", 1, true, SIZE_MAX, &ids, NULL, &err),
                         SLM_OK);
        if (ids.n != cases[i].n || memcmp(ids.ids, cases[i].want, ids.n * sizeof *ids.ids)) {
            print_ids("want:", cases[i].want, cases[i].n);
            print_ids("got: ", ids.ids, ids.n);
            fail_msg("pair template %zu", i);
        }
        slm_tokens_free(&ids);
        drop(tok, dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_components),
        cmocka_unit_test(test_small_bpe_models),
        cmocka_unit_test(test_byte_level_model),
        cmocka_unit_test(test_wordpiece_model),
        cmocka_unit_test(test_pair_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
