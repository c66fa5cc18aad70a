/*
 * test_tokenizer_vocab.c — BERT-family folders as the hub publishes them: vocab.txt +
 * tokenizer_config.json (+ special_tokens_map.json) and no tokenizer.json
 * (engine/tokenizer/from_vocab.c).
 *
 * The fixtures tests/fixtures/wordpiece/<name>/ and <name>.jsonl come from
 * tools/make_wordpiece_fixtures.py: transformers' AutoTokenizer.from_pretrained on each folder
 * (which converts vocab.txt itself), over 2,200 strings. For every string the ids with special
 * tokens, both decodes, the streamed decode and the ids cut to model_max_length must be
 * identical here; the folders cover the real DistilBERT SST-2 uncased vocabulary and a cased
 * one, accents stripped or kept, tokenize_chinese_chars off, special tokens from
 * special_tokens_map.json (strings or AddedToken objects) or from added_tokens_decoder, and
 * model_max_length 512 / 128 / 64 / absent.
 * Also: vocab.txt's line rules as tokenizers reads the file, the errors of broken folders (one
 * naming both files when neither exists), and the CLI on such folders: tokenize, detokenize,
 * inspect, and classify on a copy of the DistilBERT SST-2 fixture whose tokenizer.json is
 * replaced by vocab.txt, which must print exactly what the original prints.
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
#include "tokenizer/tokenizer_internal.h" /* slm_tokenizer_load_vocab */

#define MAX_REPORTS 10
#define MIN_STRINGS 2000
/* a string literal and its length (it may hold NUL bytes) */
#define BYTES(lit) (lit), sizeof(lit) - 1

/* ------------------------------------------------------------------ helpers */

static char *slurp_or_fail(const char *path, size_t *len)
{
    char *data;
    slm_error err = {0};
    if (slm_read_file(path, &data, len, &err) != SLM_OK)
        fail_msg("%s", err.msg);
    return data;
}

static slm_tokenizer *load_or_fail(const char *dir)
{
    slm_tokenizer *tok = NULL;
    slm_error err = {0};
    if (slm_tokenizer_load(dir, &tok, &err) != SLM_OK)
        fail_msg("slm_tokenizer_load(%s): %s", dir, err.msg);
    return tok;
}

static void write_or_fail(const char *dir, const char *name, const char *data, size_t len)
{
    char *p = test_write_file(dir, name, data, len);
    assert_non_null(p);
    free(p);
}

static void print_escaped(const char *label, const char *s, size_t n)
{
    fprintf(stderr, "    %s \"", label);
    for (size_t i = 0; i < n && i < 300; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02X", c);
    }
    fprintf(stderr, "%s\"\n", n > 300 ? "..." : "");
}

static void print_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "    %s [", label);
    for (size_t i = 0; i < n && i < 60; i++)
        fprintf(stderr, "%s%d", i ? " " : "", ids[i]);
    fprintf(stderr, "%s] (%zu ids)\n", n > 60 ? " ..." : "", n);
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A text field of a record: "key", or "key_hex" (UTF-8 bytes in hex); NULL when absent. */
static char *field_bytes(const cJSON *o, const char *key, size_t *len)
{
    char hex_key[64];
    snprintf(hex_key, sizeof hex_key, "%s_hex", key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, hex_key);
    if (cJSON_IsString(v)) {
        *len = strlen(v->valuestring);
        return strdup(v->valuestring);
    }
    if (!cJSON_IsString(h))
        return NULL;
    size_t n = strlen(h->valuestring) / 2;
    char *out = malloc(n + 1);
    const char *x = h->valuestring;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(hex_value(x[2 * i]) * 16 + hex_value(x[2 * i + 1]));
    out[n] = '\0';
    *len = n;
    return out;
}

static int32_t *json_ids(const cJSON *arr, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(arr);
    int32_t *ids = malloc((*n + 1) * sizeof *ids);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
        ids[i++] = (int32_t)e->valuedouble;
    return ids;
}

/* ------------------------------------------------------------------ fixture comparison */

typedef struct {
    const char *name;
    size_t line;
    const char *text;
    size_t text_len;
    size_t checks, bad;
} tally;

static bool report(tally *t, const char *what)
{
    t->bad++;
    if (t->bad > MAX_REPORTS)
        return false;
    fprintf(stderr, "  %s line %zu: %s differs\n", t->name, t->line, what);
    if (t->text)
        print_escaped("text:", t->text, t->text_len);
    return true;
}

static void check_ids(tally *t, const char *what, const int32_t *want, size_t nw,
                      const int32_t *got, size_t ng)
{
    t->checks++;
    size_t i = 0;
    while (i < nw && i < ng && want[i] == got[i])
        i++;
    if (i == nw && nw == ng)
        return;
    if (!report(t, what))
        return;
    fprintf(stderr, "    first difference at index %zu\n", i);
    print_ids("want:", want, nw);
    print_ids("got: ", got, ng);
}

static void check_text(tally *t, const char *what, const char *want, size_t nw, const char *got,
                       size_t ng)
{
    t->checks++;
    if (nw == ng && memcmp(want, got, nw) == 0)
        return;
    if (report(t, what)) {
        print_escaped("want:", want, nw);
        print_escaped("got: ", got, ng);
    }
}

/* The ids streamed one at a time through slm_stream_decoder (malloc'd, *len bytes). */
static char *stream_decode(const slm_tokenizer *tok, const int32_t *ids, size_t n, bool skip,
                           size_t *len)
{
    slm_stream_decoder *dec;
    slm_error err = {0};
    assert_int_equal(slm_stream_decoder_new(tok, skip, &dec, &err), SLM_OK);
    size_t cap = 64, used = 0;
    char *all = malloc(cap);
    for (size_t i = 0; i <= n; i++) {
        const char *chunk;
        size_t k;
        slm_status st = i < n ? slm_stream_decoder_push(dec, ids[i], &chunk, &k, &err)
                              : slm_stream_decoder_finish(dec, &chunk, &k, &err);
        if (st != SLM_OK)
            fail_msg("stream decoder: %s", err.msg);
        while (used + k + 1 > cap)
            all = realloc(all, cap *= 2);
        memcpy(all + used, chunk, k);
        used += k;
    }
    slm_stream_decoder_free(dec);
    *len = used;
    return all;
}

static void check_decode(tally *t, const slm_tokenizer *tok, const int32_t *ids, size_t n,
                         bool skip, const cJSON *rec, const char *key)
{
    size_t nw;
    char *want = field_bytes(rec, key, &nw);
    assert_non_null(want);
    char *got = NULL;
    size_t ng = 0;
    slm_error err = {0};
    if (slm_detokenize_len(tok, ids, n, skip, &got, &ng, &err) != SLM_OK) {
        t->checks++;
        if (report(t, key))
            fprintf(stderr, "    %s\n", err.msg);
    } else {
        check_text(t, key, want, nw, got, ng);
    }
    free(got);
    got = stream_decode(tok, ids, n, skip, &ng);
    check_text(t, skip ? "streamed decode_skip" : "streamed decode", want, nw, got, ng);
    free(got);
    free(want);
}

/* One text record: ids with special tokens, decodes, and the ids cut to model_max_length
 * (max_len 0: no limit, the ids must come out whole). */
static void check_record(tally *t, const slm_tokenizer *tok, size_t max_len, const cJSON *rec)
{
    size_t nw;
    int32_t *want = json_ids(cJSON_GetObjectItemCaseSensitive(rec, "ids"), &nw);
    slm_tokens got = {0};
    slm_error err = {0};
    if (slm_tokenize(tok, t->text, t->text_len, true, &got, &err) != SLM_OK) {
        t->checks++;
        if (report(t, "encode status"))
            fprintf(stderr, "    %s\n", err.msg);
    } else {
        check_ids(t, "ids", want, nw, got.ids, got.n);
    }
    slm_tokens_free(&got);
    check_decode(t, tok, want, nw, false, rec, "decode");
    check_decode(t, tok, want, nw, true, rec, "decode_skip");

    const cJSON *cut = cJSON_GetObjectItemCaseSensitive(rec, "ids_truncated");
    size_t nc = nw;
    int32_t *cut_ids = cut ? json_ids(cut, &nc) : NULL;
    if (cut)
        assert_true(max_len > 0);
    if (max_len > 0) {
        bool truncated = false;
        slm_tokens c = {0};
        if (slm_tokenize_truncated(tok, t->text, t->text_len, true, max_len, &c, &truncated,
                                   &err) != SLM_OK) {
            t->checks++;
            if (report(t, "truncated encode status"))
                fprintf(stderr, "    %s\n", err.msg);
        } else {
            check_ids(t, "ids_truncated", cut ? cut_ids : want, nc, c.ids, c.n);
            t->checks++;
            if (truncated != (cut != NULL) && report(t, "truncated flag"))
                fprintf(stderr, "    want %d\n", cut != NULL);
        }
        slm_tokens_free(&c);
    }
    free(cut_ids);
    free(want);
}

typedef struct {
    size_t n_strings, n_truncated;
} fixture_counts;

/* Checks every record of tests/fixtures/wordpiece/<name>.jsonl against tok. */
static fixture_counts check_fixture_with(const char *name, const slm_tokenizer *tok,
                                         size_t limit, tally *t)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/wordpiece/%s.jsonl", name);
    size_t len;
    char *data = slurp_or_fail(test_source_path(rel), &len);
    fixture_counts c = {0};
    size_t max_len = 0;
    for (char *line = data, *end; *line && (limit == 0 || c.n_strings < limit); line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end);
        *end = '\0';
        t->line++;
        cJSON *rec = cJSON_Parse(line);
        if (!rec)
            fail_msg("%s line %zu: not JSON", name, t->line);
        const cJSON *head = cJSON_GetObjectItemCaseSensitive(rec, "header");
        if (head) {
            /* transformers' model_max_length; its 1e30 "no limit" is 0 here */
            double want = cJSON_GetObjectItemCaseSensitive(head, "model_max_length")->valuedouble;
            max_len = want >= 1e18 ? 0 : (size_t)want;
            assert_int_equal(slm_tokenizer_model_max_length(tok), max_len);
            cJSON_Delete(rec);
            continue;
        }
        char *text = field_bytes(rec, "text", &t->text_len);
        assert_non_null(text);
        t->text = text;
        check_record(t, tok, max_len, rec);
        c.n_truncated += cJSON_GetObjectItemCaseSensitive(rec, "ids_truncated") != NULL;
        t->text = NULL;
        free(text);
        c.n_strings++;
        cJSON_Delete(rec);
    }
    free(data);
    return c;
}

static void run_fixture(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/wordpiece/%s", name);
    const char *dir = test_source_path(rel);
    char probe[600];
    snprintf(probe, sizeof probe, "%s/tokenizer.json", dir);
    assert_false(slm_file_exists(probe)); /* the vocab.txt path is what is under test */
    slm_tokenizer *tok = load_or_fail(dir);
    tally t = {.name = name};
    fixture_counts c = check_fixture_with(name, tok, 0, &t);
    fprintf(stderr,
            "  %s: %zu strings (%zu cut to model_max_length %zu), %zu checks, %zu differ "
            "(%.2f%% identical)\n",
            name, c.n_strings, c.n_truncated, slm_tokenizer_model_max_length(tok), t.checks,
            t.bad, t.checks ? 100.0 * (double)(t.checks - t.bad) / (double)t.checks : 0.0);
    slm_tokenizer_free(tok);
    assert_true(c.n_strings >= MIN_STRINGS);
    assert_int_equal(t.bad, 0);
}

static void test_fixture_uncased(void **state)
{
    (void)state;
    run_fixture("uncased");
}

static void test_fixture_uncased_accents(void **state)
{
    (void)state;
    run_fixture("uncased_accents");
}

static void test_fixture_uncased_no_chinese(void **state)
{
    (void)state;
    run_fixture("uncased_no_chinese");
}

static void test_fixture_cased(void **state)
{
    (void)state;
    run_fixture("cased");
}

static void test_fixture_cased_strip(void **state)
{
    (void)state;
    run_fixture("cased_strip");
}

/* A folder's file, or NULL with *len 0 when it has none. */
static char *fixture_file(const char *folder, const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/wordpiece/%s/%s", folder, name);
    *len = 0;
    const char *path = test_source_path(rel);
    return slm_file_exists(path) ? slurp_or_fail(path, len) : NULL;
}

/* slm_tokenizer_load_vocab (the fuzz harness's entry point) from the files' bytes makes the
 * same tokenizer as the folder. */
static void test_memory_loader(void **state)
{
    (void)state;
    static const char *const folders[] = {"cased_strip", "cased", "uncased_no_chinese"};
    for (size_t f = 0; f < sizeof folders / sizeof *folders; f++) {
        size_t nv, nc, nm;
        char *vocab = fixture_file(folders[f], "vocab.txt", &nv);
        char *cfg = fixture_file(folders[f], "tokenizer_config.json", &nc);
        char *map = fixture_file(folders[f], "special_tokens_map.json", &nm);
        slm_tokenizer *tok = NULL;
        slm_error err = {0};
        if (slm_tokenizer_load_vocab(vocab, nv, cfg, nc, map, nm, "mem", &tok, &err) != SLM_OK)
            fail_msg("%s from memory: %s", folders[f], err.msg);
        tally t = {.name = folders[f]};
        fixture_counts c = check_fixture_with(folders[f], tok, 400, &t);
        assert_int_equal(c.n_strings, 400);
        assert_int_equal(t.bad, 0);
        slm_tokenizer_free(tok);
        free(vocab);
        free(cfg);
        free(map);
    }
}

/* The vocab folder and the SST-2 fixture's tokenizer.json (the same vocabulary, as
 * transformers saves it) agree on the vocabulary and the special ids. */
static void test_same_as_tokenizer_json(void **state)
{
    (void)state;
    slm_tokenizer *a = load_or_fail(test_source_path("tests/fixtures/wordpiece/uncased"));
    slm_tokenizer *b = load_or_fail(test_source_path("tests/fixtures/models/distilbert_sst2"));
    assert_int_equal(slm_tokenizer_vocab_size(a), 30522);
    assert_int_equal(slm_tokenizer_vocab_size(a), slm_tokenizer_vocab_size(b));
    static const char *const pieces[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",
                                         "##ing", "[unused0]", "中", "##～"};
    for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++)
        assert_int_equal(slm_tokenizer_token_id(a, pieces[i]),
                         slm_tokenizer_token_id(b, pieces[i]));
    assert_int_equal(slm_tokenizer_token_id(a, "[CLS]"), 101);
    assert_int_equal(slm_tokenizer_model_max_length(a), slm_tokenizer_model_max_length(b));
    slm_tokenizer_free(a);
    slm_tokenizer_free(b);
}

/* ------------------------------------------------------------------ vocab.txt rules */

/* A scratch folder with vocab.txt (vocab_len bytes; NULL: none), tokenizer_config.json and
 * special_tokens_map.json (NULL: none). */
static char *vocab_dir(const char *vocab, size_t vocab_len, const char *config, const char *map)
{
    char *dir = test_make_tmpdir();
    if (vocab)
        write_or_fail(dir, "vocab.txt", vocab, vocab_len);
    if (config)
        write_or_fail(dir, "tokenizer_config.json", config, strlen(config));
    if (map)
        write_or_fail(dir, "special_tokens_map.json", map, strlen(map));
    return dir;
}

static void expect_ids(const slm_tokenizer *tok, const char *text, const int32_t *want,
                       size_t n)
{
    slm_tokens got = {0};
    slm_error err = {0};
    if (slm_tokenize(tok, text, strlen(text), true, &got, &err) != SLM_OK)
        fail_msg("tokenize '%s': %s", text, err.msg);
    if (got.n != n || memcmp(got.ids, want, n * sizeof *want) != 0) {
        print_ids("want:", want, n);
        print_ids("got: ", got.ids, got.n);
        fail_msg("tokenize '%s'", text);
    }
    slm_tokens_free(&got);
}

/* tokenizers reads vocab.txt line by line at \n, trimming trailing White_Space; the
 * expectations were checked against transformers 5.23.0 on the same bytes:
 * {'[PAD]': 0, ..., '[MASK]': 4, 'ab': 5, 'c\rd': 6, ' x': 7, 'y': 8, 'last': 9}. */
static void test_vocab_lines(void **state)
{
    (void)state;
    static const char vocab[] = "[PAD]\r\n[UNK]\r\n[CLS]\n[SEP]\n[MASK]\nab \nc\rd\n x\ny\xe3\x80\x80\r\nlast";
    char *dir = vocab_dir(vocab, sizeof vocab - 1, "{\"do_lower_case\":true}", NULL);
    slm_tokenizer *tok = load_or_fail(dir);
    assert_int_equal(slm_tokenizer_vocab_size(tok), 10);
    assert_int_equal(slm_tokenizer_token_id(tok, "[UNK]"), 1);
    assert_int_equal(slm_tokenizer_token_id(tok, "ab"), 5);
    assert_int_equal(slm_tokenizer_token_id(tok, "ab "), -1);
    assert_int_equal(slm_tokenizer_token_id(tok, "c\rd"), 6);
    assert_int_equal(slm_tokenizer_token_id(tok, " x"), 7);
    assert_int_equal(slm_tokenizer_token_id(tok, "y"), 8);
    assert_int_equal(slm_tokenizer_token_id(tok, "last"), 9);
    /* no special tokens map and no names in the config: the BertTokenizer defaults */
    expect_ids(tok, "AB y Last q", (const int32_t[]){2, 5, 8, 9, 1, 3}, 6);
    assert_int_equal(slm_tokenizer_model_max_length(tok), 0);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);
}

static const char *const SMALL_VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\n";

/* Loads a scratch folder that must fail with `status`, its message holding every
 * NULL-terminated fragment (a fragment "@" stands for the folder's path). */
static void expect_fail(const char *vocab, size_t vocab_len, const char *config, const char *map,
                        slm_status status, ...)
{
    char *dir = vocab_dir(vocab, vocab_len, config, map);
    slm_tokenizer *tok = (slm_tokenizer *)0x1;
    slm_error err = {0};
    slm_status st = slm_tokenizer_load(dir, &tok, &err);
    if (st != status)
        fail_msg("status %s (want %s): %s", slm_status_name(st), slm_status_name(status),
                 err.msg);
    assert_null(tok);
    va_list ap;
    va_start(ap, status);
    for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;) {
        const char *want = strcmp(frag, "@") == 0 ? dir : frag;
        if (!strstr(err.msg, want))
            fail_msg("message lacks '%s': %s", want, err.msg);
    }
    va_end(ap);
    test_rmtree(dir);
    free(dir);
}

static void test_bad_folders(void **state)
{
    (void)state;
    size_t sv = strlen(SMALL_VOCAB);
    /* neither file: one error naming both paths */
    char *dir = test_make_tmpdir();
    slm_tokenizer *tok = (slm_tokenizer *)0x1;
    slm_error err = {0};
    assert_int_equal(slm_tokenizer_load(dir, &tok, &err), SLM_ERR_IO);
    assert_null(tok);
    char want[1024];
    snprintf(want, sizeof want, "%s/tokenizer.json: cannot open", dir);
    assert_non_null(strstr(err.msg, want));
    snprintf(want, sizeof want, "%s/vocab.txt", dir);
    assert_non_null(strstr(err.msg, want));
    assert_null(strchr(err.msg, '\n'));
    test_rmtree(dir);
    free(dir);

    expect_fail(BYTES(""), NULL, NULL, SLM_ERR_FORMAT, "@", "vocab.txt", "empty", NULL);
    expect_fail(BYTES("[PAD]\n[UNK]\n\n[CLS]\n"), NULL, NULL, SLM_ERR_FORMAT, "vocab.txt",
                "line 3 is empty", NULL);
    expect_fail(BYTES("[PAD]\n[UNK]\n \t\n[CLS]\n"), NULL, NULL, SLM_ERR_FORMAT, "vocab.txt",
                "line 3 is empty or only whitespace", NULL);
    expect_fail(BYTES("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\nx\nab \n"), NULL, NULL,
                SLM_ERR_FORMAT, "vocab.txt", "line 8 repeats the token of line 6", NULL);
    expect_fail(BYTES("[PAD]\n[UNK]\nb\xff\n"), NULL, NULL, SLM_ERR_FORMAT, "vocab.txt",
                "line 3 is not valid UTF-8", NULL);
    expect_fail(BYTES("[PAD]\n[UNK]\n[CLS]\na\0b\n"), NULL, NULL, SLM_ERR_FORMAT, "vocab.txt",
                "line 4 holds a NUL byte", NULL);
    expect_fail(BYTES("[PAD]\n[UNK]\n[CLS]\n[MASK]\n"), NULL, NULL, SLM_ERR_FORMAT,
                "tokenizer_config.json", "sep_token \"[SEP]\" is not a line of", "vocab.txt",
                NULL);
    expect_fail(SMALL_VOCAB, sv, "{\"unk_token\":\"<unk>\"}", NULL, SLM_ERR_FORMAT,
                "unk_token \"<unk>\" is not a line", NULL);
    expect_fail(SMALL_VOCAB, sv, "{\"tokenizer_class\":\"RobertaTokenizer\"}", NULL,
                SLM_ERR_UNSUPPORTED, "tokenizer_config.json", "'RobertaTokenizer'", NULL);
    expect_fail(SMALL_VOCAB, sv, "{\"tokenizer_class\":7}", NULL, SLM_ERR_FORMAT,
                "tokenizer_class must be a string", NULL);
    expect_fail(SMALL_VOCAB, sv, "{\"do_lower_case\":\"yes\"}", NULL, SLM_ERR_FORMAT,
                "tokenizer_config.json", "do_lower_case", NULL);
    expect_fail(SMALL_VOCAB, sv, "{\"additional_special_tokens\":[\"hello\"]}", NULL,
                SLM_ERR_UNSUPPORTED, "additional_special_tokens", NULL);
    expect_fail(SMALL_VOCAB, sv, NULL,
                "{\"unk_token\":\"[UNK]\",\"additional_special_tokens\":[\"<x>\"]}",
                SLM_ERR_UNSUPPORTED, "special_tokens_map.json", "additional_special_tokens",
                NULL);
    expect_fail(SMALL_VOCAB, sv,
                "{\"added_tokens_decoder\":{\"7\":{\"content\":\"<new>\",\"special\":true}}}",
                NULL, SLM_ERR_UNSUPPORTED, "added_tokens_decoder.7", "\"<new>\"",
                "tokens beyond vocab.txt", NULL);
    expect_fail(SMALL_VOCAB, sv, "{\"added_tokens_decoder\":{\"x\":{\"content\":\"a\"}}}", NULL,
                SLM_ERR_FORMAT, "the key must be a token id", NULL);
    expect_fail(SMALL_VOCAB, sv, "{\"do_lower_case\": tru", NULL, SLM_ERR_FORMAT,
                "tokenizer_config.json", NULL);
    expect_fail(SMALL_VOCAB, sv, NULL, "[1,2]", SLM_ERR_FORMAT, "special_tokens_map.json",
                NULL);
    expect_fail(SMALL_VOCAB, sv, "{\"cls_token\":null}", NULL, SLM_ERR_FORMAT,
                "cls_token must not be null", NULL);

    /* added_tokens.json would add ids beyond vocab.txt */
    dir = vocab_dir(SMALL_VOCAB, sv, NULL, NULL);
    write_or_fail(dir, "added_tokens.json", "{\"<x>\": 7}", 10);
    assert_int_equal(slm_tokenizer_load(dir, &tok, &err), SLM_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "added_tokens.json"));
    test_rmtree(dir);
    free(dir);

    /* tokenizer.json wins when a folder has both (transformers reads it and not vocab.txt) */
    dir = vocab_dir(BYTES("not a vocabulary\n\n\n"), NULL, NULL);
    size_t len;
    char *json = slurp_or_fail(
        test_source_path("tests/fixtures/models/distilbert_sst2/tokenizer.json"), &len);
    write_or_fail(dir, "tokenizer.json", json, len);
    free(json);
    tok = load_or_fail(dir);
    assert_int_equal(slm_tokenizer_vocab_size(tok), 30522);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);

    /* special_tokens_map.json's tokens as AddedToken objects (transformers 5.23.0 gives the
     * same ids: [2, 5, 6, 4, 3] and [2, 5, 1, 3]) */
    static const char map[] = "{\"unk_token\":{\"content\":\"[UNK]\",\"lstrip\":false},"
                              "\"mask_token\":{\"content\":\"[MASK]\",\"lstrip\":true}}";
    dir = vocab_dir(SMALL_VOCAB, sv, "{\"do_lower_case\":true}", map);
    tok = load_or_fail(dir);
    expect_ids(tok, "Hellos [MASK]", (const int32_t[]){2, 5, 6, 4, 3}, 5);
    expect_ids(tok, "hello x", (const int32_t[]){2, 5, 1, 3}, 4);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ the CLI */

static char *cli_out(const char *args)
{
    char *out = NULL, *err = NULL;
    int rc = test_run_cli(args, &out, &err);
    if (rc != 0)
        fail_msg("slm %s: exit %d: %s", args, rc, err);
    free(err);
    return out;
}

/* Copies tests/fixtures/models/distilbert_sst2 into a fresh directory with tokenizer.json
 * replaced by the SST-2 vocab.txt (and its special_tokens_map.json), as the hub ships it. */
static char *sst2_vocab_copy(void)
{
    char *dir = test_make_tmpdir();
    static const char *const copy[][2] = {
        {"tests/fixtures/models/distilbert_sst2", "config.json"},
        {"tests/fixtures/models/distilbert_sst2", "model.safetensors"},
        {"tests/fixtures/models/distilbert_sst2", "tokenizer_config.json"},
        {"tests/fixtures/wordpiece/uncased", "vocab.txt"},
        {"tests/fixtures/wordpiece/uncased", "special_tokens_map.json"},
    };
    for (size_t i = 0; i < sizeof copy / sizeof *copy; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "%s/%s", copy[i][0], copy[i][1]);
        size_t len;
        char *data = slurp_or_fail(test_source_path(rel), &len);
        write_or_fail(dir, copy[i][1], data, len);
        free(data);
    }
    return dir;
}

static void test_cli_vocab_folder(void **state)
{
    (void)state;
    char args[8192];
    const char *uncased = test_source_path("tests/fixtures/wordpiece/uncased");
    snprintf(args, sizeof args, "tokenize -m '%s' 'Hello, World! naïve 中文'", uncased);
    char *out = cli_out(args);
    assert_string_equal(out, "101 7592 1010 2088 999 15743 1746 1861 102\n");
    free(out);
    snprintf(args, sizeof args, "detokenize -m '%s' --skip-special 101 7592 1010 2088 999 102",
             uncased);
    out = cli_out(args);
    assert_string_equal(out, "hello, world!\n");
    free(out);
    const char *cased = test_source_path("tests/fixtures/wordpiece/cased_strip");
    snprintf(args, sizeof args, "tokenize -m '%s' --no-special 'Naïve'", cased);
    char *a = cli_out(args);
    snprintf(args, sizeof args, "tokenize -m '%s' --no-special 'Naive'", cased);
    char *b = cli_out(args);
    assert_string_equal(a, b); /* strip_accents true */
    free(a);
    free(b);

    /* classify, tokenize and inspect on the SST-2 fixture with vocab.txt for tokenizer.json */
    char *copy = sst2_vocab_copy();
    const char *orig = test_source_path("tests/fixtures/models/distilbert_sst2");
    static const char *const texts[] = {
        "This movie was amazing!", "This is the worst movie ever.", "naïve café, Zürich",
        "中文 and 日本語", "[MASK] hello [SEP] world", "UNBELIEVABLE!!! 😀", "so-so , really .",
        "",
    };
    size_t n_texts = sizeof texts / sizeof *texts;
    char quoted[2048] = "";
    for (size_t i = 0; i < n_texts; i++)
        snprintf(quoted + strlen(quoted), sizeof quoted - strlen(quoted), " '%s'", texts[i]);
    char *long_text = malloc(8000);
    long_text[0] = '\0';
    for (int i = 0; i < 150; i++)
        strcat(long_text, "great fun "); /* 302 ids: under max_positions 512 */
    for (int i = 0; i < 300; i++)
        strcat(long_text, "ok "); /* 602: cut to 512 the same way */
    char *outs[2][3 + 8];
    const char *dirs[2] = {orig, copy};
    for (int d = 0; d < 2; d++) {
        snprintf(args, sizeof args, "classify -m '%s' --json%s '%s'", dirs[d], quoted,
                 long_text);
        outs[d][0] = cli_out(args);
        snprintf(args, sizeof args, "classify -m '%s'%s", dirs[d], quoted);
        outs[d][1] = cli_out(args);
        snprintf(args, sizeof args, "tokenize -m '%s' '%s'", dirs[d], long_text);
        outs[d][2] = cli_out(args);
        for (size_t i = 0; i < n_texts; i++) {
            snprintf(args, sizeof args, "tokenize -m '%s' '%s'", dirs[d], texts[i]);
            outs[d][3 + i] = cli_out(args);
        }
    }
    free(long_text);
    for (size_t k = 0; k < 3 + n_texts; k++) {
        assert_true(strlen(outs[0][k]) > 4);
        assert_string_equal(outs[0][k], outs[1][k]);
        free(outs[0][k]);
        free(outs[1][k]);
    }
    snprintf(args, sizeof args, "inspect -m '%s'", copy);
    out = cli_out(args);
    assert_non_null(strstr(out, "DistilBertForSequenceClassification"));
    assert_non_null(strstr(out, "vocab.txt"));
    free(out);

    /* neither tokenizer file: one line naming both */
    char *p = slm_path_join(copy, "vocab.txt");
    assert_int_equal(remove(p), 0);
    free(p);
    char *err_text = NULL;
    snprintf(args, sizeof args, "classify -m '%s' 'hello'", copy);
    assert_int_equal(test_run_cli(args, NULL, &err_text), 1);
    char want[1024];
    snprintf(want, sizeof want, "%s/tokenizer.json", copy);
    assert_non_null(strstr(err_text, want));
    snprintf(want, sizeof want, "%s/vocab.txt", copy);
    assert_non_null(strstr(err_text, want));
    char *nl = strchr(err_text, '\n');
    assert_true(nl && nl[1] == '\0');
    free(err_text);
    snprintf(args, sizeof args, "tokenize -m '%s' 'hello'", copy);
    assert_int_equal(test_run_cli(args, NULL, &err_text), 1);
    assert_non_null(strstr(err_text, want));
    free(err_text);
    test_rmtree(copy);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_uncased),
        cmocka_unit_test(test_fixture_uncased_accents),
        cmocka_unit_test(test_fixture_uncased_no_chinese),
        cmocka_unit_test(test_fixture_cased),
        cmocka_unit_test(test_fixture_cased_strip),
        cmocka_unit_test(test_memory_loader),
        cmocka_unit_test(test_same_as_tokenizer_json),
        cmocka_unit_test(test_vocab_lines),
        cmocka_unit_test(test_bad_folders),
        cmocka_unit_test(test_cli_vocab_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
