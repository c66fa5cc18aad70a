/*
 * test_tokenizer.c — the tokenizer against Hugging Face `tokenizers`.
 *
 * The fixtures tests/fixtures/tokenizers/NAME.jsonl come from tools/make_tokenizer_fixtures.py
 * (its header documents the format): for every string, the ids with and without special tokens
 * and three decodes; for random id sequences, the decodes. Every one must be identical here,
 * and the streaming decoder must produce the same text in whole UTF-8 characters. Tokenizer
 * variants (Metaspace layouts, added-token flags, Phi-3) are rebuilt from the TinyLlama file
 * as tests/fixtures/tokenizers/variants.json says, in a scratch directory. Also: llama.cpp's
 * llama-spm vectors, invalid input, broken files, small hand-made models and the CLI verbs.
 * A failure prints the fixture line, the text and the first differing position.
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

#define MAX_REPORTS 12

/* ------------------------------------------------------------------ small helpers */

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

/* The test's own UTF-8 check, independent of the library's. */
static bool whole_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = s[i] < 0x80 ? 1 : s[i] >= 0xC2 && s[i] < 0xE0 ? 2
                 : s[i] >= 0xE0 && s[i] < 0xF0 ? 3 : s[i] >= 0xF0 && s[i] < 0xF5 ? 4 : 0;
        if (k == 0 || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

/* Prints s with control and non-ASCII bytes escaped, for failure messages. */
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

/* A text field of a fixture record: "key", or "key_hex" (bytes in hex); NULL when absent. */
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

/* ------------------------------------------------------------------ tokenizer variants */

static void replace_key(cJSON *obj, const char *key, const cJSON *value)
{
    cJSON *copy = cJSON_Duplicate(value, true);
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, copy);
    else
        cJSON_AddItemToObject(obj, key, copy);
}

/* Mirrors apply_variant() in tools/make_tokenizer_fixtures.py. */
static void apply_variant(cJSON *tok, const cJSON *variant)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(variant, "replace"))
        replace_key(tok, e->string, e);
    cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(variant, "vocab_rename"))
    {
        cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(vocab, e->string);
        assert_non_null(item);
        cJSON_AddItemToObject(vocab, e->valuestring, item);
    }
    cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(variant, "merges_set"))
        cJSON_ReplaceItemInArray(merges, atoi(e->string), cJSON_CreateString(e->valuestring));
}

static void write_or_fail(const char *dir, const char *name, const char *data, size_t len)
{
    char *p = test_write_file(dir, name, data, len);
    assert_non_null(p);
    free(p);
}

/* Builds the tokenizer folder of a variants.json entry in a fresh scratch directory. */
static char *make_variant(const char *name)
{
    size_t len;
    char *text = slurp_or_fail(test_source_path("tests/fixtures/tokenizers/variants.json"), &len);
    cJSON *all = cJSON_Parse(text);
    free(text);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(all, name);
    if (!v)
        fail_msg("variants.json has no '%s'", name);
    char base[512], config[512];
    const char *base_name = cJSON_GetObjectItemCaseSensitive(v, "base")->valuestring;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(v, "config");
    snprintf(base, sizeof base, "tests/fixtures/tokenizers/%s/tokenizer.json", base_name);
    if (cJSON_IsString(cfg))
        snprintf(config, sizeof config, "tests/fixtures/tokenizers/%s", cfg->valuestring);
    else
        snprintf(config, sizeof config, "tests/fixtures/tokenizers/%s/tokenizer_config.json",
                 base_name);
    text = slurp_or_fail(test_source_path(base), &len);
    cJSON *tok = cJSON_Parse(text);
    free(text);
    apply_variant(tok, v);
    char *dir = test_make_tmpdir();
    char *out = cJSON_PrintUnformatted(tok);
    write_or_fail(dir, "tokenizer.json", out, strlen(out));
    text = slurp_or_fail(test_source_path(config), &len);
    write_or_fail(dir, "tokenizer_config.json", text, len);
    free(text);
    free(out);
    cJSON_Delete(tok);
    cJSON_Delete(all);
    return dir;
}

/* ------------------------------------------------------------------ comparisons */

typedef struct {
    const char *name;
    size_t line;        /* fixture line being checked */
    const char *text;   /* its input text (NULL for id sequences) */
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
                      const slm_tokens *got)
{
    t->checks++;
    size_t i = 0;
    while (i < nw && i < got->n && want[i] == got->ids[i])
        i++;
    if (i == nw && nw == got->n)
        return;
    if (!report(t, what))
        return;
    fprintf(stderr, "    first difference at index %zu\n", i);
    print_ids("want:", want, nw);
    print_ids("got: ", got->ids, got->n);
}

static void check_encode(tally *t, const slm_tokenizer *tok, bool special, const int32_t *want,
                         size_t nw)
{
    slm_tokens got = {0};
    slm_error err = {0};
    slm_status st = slm_tokenize(tok, t->text, t->text_len, special, &got, &err);
    if (st != SLM_OK) {
        t->checks++;
        if (report(t, "encode status"))
            fprintf(stderr, "    %s\n", err.msg);
    } else {
        check_ids(t, special ? "ids with special tokens" : "ids", want, nw, &got);
    }
    slm_tokens_free(&got);
}

/* Streams ids one at a time: every chunk must be whole UTF-8 characters. Returns the
 * concatenation (malloc'd, length in *len) or NULL after reporting a problem. */
static char *stream_decode(tally *t, const slm_tokenizer *tok, const int32_t *ids, size_t n,
                           bool skip, size_t *len)
{
    slm_stream_decoder *dec;
    slm_error err = {0};
    assert_int_equal(slm_stream_decoder_new(tok, skip, &dec, &err), SLM_OK);
    size_t cap = 64, used = 0;
    char *all = malloc(cap);
    bool ok = true;
    for (size_t i = 0; i <= n && ok; i++) {
        const char *chunk;
        size_t k;
        slm_status st = i < n ? slm_stream_decoder_push(dec, ids[i], &chunk, &k, &err)
                              : slm_stream_decoder_finish(dec, &chunk, &k, &err);
        if (st != SLM_OK || !whole_utf8((const unsigned char *)chunk, k)) {
            ok = false;
            if (report(t, "stream decoder chunk"))
                fprintf(stderr, "    after id #%zu: %s\n", i, st != SLM_OK ? err.msg
                                                                          : "split a character");
            break;
        }
        while (used + k + 1 > cap)
            all = realloc(all, cap *= 2);
        memcpy(all + used, chunk, k);
        used += k;
    }
    slm_stream_decoder_free(dec);
    all[used] = '\0';
    *len = used;
    if (!ok) {
        free(all);
        return NULL;
    }
    return all;
}

/* Decodes ids both ways and compares with Hugging Face's text. */
static void check_decode(tally *t, const slm_tokenizer *tok, const int32_t *ids, size_t n,
                         bool skip, const char *want, size_t nw, const char *what)
{
    t->checks++;
    size_t len;
    char *streamed = stream_decode(t, tok, ids, n, skip, &len);
    if (!streamed)
        return;
    char *text = NULL;
    slm_error err = {0};
    slm_status st = slm_detokenize(tok, ids, n, skip, &text, &err);
    if (st != SLM_OK || strlen(text) != strlen(streamed) || strcmp(text, streamed) != 0) {
        if (report(t, "slm_detokenize vs stream"))
            fprintf(stderr, "    %s\n", st != SLM_OK ? err.msg : "different text");
    } else if (len != nw || memcmp(streamed, want, nw) != 0) {
        if (report(t, what)) {
            print_ids("ids: ", ids, n);
            print_escaped("want:", want, nw);
            print_escaped("got: ", streamed, len);
        }
    }
    free(text);
    free(streamed);
}

/* ------------------------------------------------------------------ fixture records */

typedef struct {
    int32_t *prefix, *suffix;
    size_t n_prefix, n_suffix;
    size_t n_texts, n_random;
} fixture_header;

static void check_text_record(tally *t, const slm_tokenizer *tok, const fixture_header *h,
                              const cJSON *rec)
{
    size_t n, ns, len;
    int32_t *ids = json_ids(cJSON_GetObjectItemCaseSensitive(rec, "ids"), &n);
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(rec, "ids_special");
    int32_t *special;
    if (sp) {
        special = json_ids(sp, &ns);
    } else {
        ns = h->n_prefix + n + h->n_suffix;
        special = malloc((ns + 1) * sizeof *special);
        memcpy(special, h->prefix, h->n_prefix * sizeof *special);
        memcpy(special + h->n_prefix, ids, n * sizeof *special);
        memcpy(special + h->n_prefix + n, h->suffix, h->n_suffix * sizeof *special);
    }
    check_encode(t, tok, false, ids, n);
    check_encode(t, tok, true, special, ns);
    static const char *const keys[] = {"decode", "decode_skip", "decode_plain"};
    for (int k = 0; k < 3; k++) {
        char *want = field_bytes(rec, keys[k], &len);
        const char *w = want ? want : t->text;
        size_t wl = want ? len : t->text_len;
        if (k < 2)
            check_decode(t, tok, special, ns, k == 1, w, wl, keys[k]);
        else
            check_decode(t, tok, ids, n, false, w, wl, keys[k]);
        free(want);
    }
    free(ids);
    free(special);
}

static void check_random_record(tally *t, const slm_tokenizer *tok, const cJSON *rec)
{
    size_t n, len;
    int32_t *ids = json_ids(cJSON_GetObjectItemCaseSensitive(rec, "random_ids"), &n);
    char *want = field_bytes(rec, "decode", &len);
    check_decode(t, tok, ids, n, false, want, len, "decode of random ids");
    free(want);
    want = field_bytes(rec, "decode_skip", &len);
    check_decode(t, tok, ids, n, true, want, len, "decode_skip of random ids");
    free(want);
    free(ids);
}

static void read_header(const cJSON *rec, fixture_header *h)
{
    const cJSON *hd = cJSON_GetObjectItemCaseSensitive(rec, "header");
    assert_non_null(hd);
    h->prefix = json_ids(cJSON_GetObjectItemCaseSensitive(hd, "special_prefix"), &h->n_prefix);
    h->suffix = json_ids(cJSON_GetObjectItemCaseSensitive(hd, "special_suffix"), &h->n_suffix);
}

static void check_record(tally *t, const slm_tokenizer *tok, fixture_header *h, const char *line)
{
    cJSON *rec = cJSON_Parse(line);
    if (!rec)
        fail_msg("%s line %zu: not JSON", t->name, t->line);
    if (t->line == 1) {
        read_header(rec, h);
    } else if (cJSON_GetObjectItemCaseSensitive(rec, "random_ids")) {
        t->text = NULL;
        check_random_record(t, tok, rec);
        h->n_random++;
    } else {
        char *text = field_bytes(rec, "text", &t->text_len);
        assert_non_null(text);
        t->text = text;
        check_text_record(t, tok, h, rec);
        t->text = NULL;
        free(text);
        h->n_texts++;
    }
    cJSON_Delete(rec);
}

/* Checks every record of tests/fixtures/tokenizers/<name>.jsonl with the tokenizer in dir. */
static void run_fixture(const char *name, const char *dir)
{
    slm_tokenizer *tok = load_or_fail(dir);
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/tokenizers/%s.jsonl", name);
    size_t len;
    char *data = slurp_or_fail(test_source_path(rel), &len);
    tally t = {.name = name};
    fixture_header h = {0};
    for (char *line = data, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end);
        *end = '\0';
        t.line++;
        check_record(&t, tok, &h, line);
    }
    fprintf(stderr, "  %s: %zu strings (ids with and without special tokens, 3 decodes each), "
                    "%zu random id sequences: %zu checks, %zu differ\n",
            name, h.n_texts, h.n_random, t.checks, t.bad);
    free(h.prefix);
    free(h.suffix);
    free(data);
    slm_tokenizer_free(tok);
    assert_true(h.n_texts > 0);
    assert_int_equal(t.bad, 0);
}

static void run_variant_fixture(const char *name)
{
    char *dir = make_variant(name);
    run_fixture(name, dir);
    test_rmtree(dir);
    free(dir);
}

static void test_fixture_stories260K(void **state)
{
    (void)state;
    run_fixture("stories260K", test_source_path("weights/stories260K"));
}

static void test_fixture_tinyllama(void **state)
{
    (void)state;
    run_fixture("tinyllama", test_source_path("tests/fixtures/tokenizers/tinyllama"));
}

static void test_fixture_tinyllama_metaspace_first(void **state)
{
    (void)state;
    run_variant_fixture("tinyllama-metaspace-first");
}

static void test_fixture_tinyllama_metaspace_split(void **state)
{
    (void)state;
    run_variant_fixture("tinyllama-metaspace-split");
}

static void test_fixture_tinyllama_added_flags(void **state)
{
    (void)state;
    run_variant_fixture("tinyllama-added-flags");
}

static void test_fixture_phi3(void **state)
{
    (void)state;
    run_variant_fixture("phi-3");
}

/* ------------------------------------------------------------------ llama.cpp vectors */

/* Expected ids of vector `index`: the recorded Hugging Face ids when the vector disagrees. */
static int32_t *vector_expected(const cJSON *exceptions, size_t index, const char *out_line,
                                size_t *n)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(exceptions, "exceptions"))
        if ((size_t)cJSON_GetObjectItemCaseSensitive(e, "index")->valuedouble == index)
            return json_ids(cJSON_GetObjectItemCaseSensitive(e, "hf_ids"), n);
    return test_parse_ids(out_line, n);
}

static size_t check_vectors(const char *label, const slm_tokenizer *tok)
{
    size_t len;
    char *inp = slurp_or_fail(
        test_source_path("tests/fixtures/tokenizer-vectors/ggml-vocab-llama-spm.gguf.inp"), &len);
    char *out = slurp_or_fail(
        test_source_path("tests/fixtures/tokenizer-vectors/ggml-vocab-llama-spm.gguf.out"), &len);
    char *exc_text = slurp_or_fail(
        test_source_path("tests/fixtures/tokenizer-vectors/ggml-vocab-llama-spm.exceptions.json"),
        &len);
    cJSON *exceptions = cJSON_Parse(exc_text);
    static const char sep[] = "\n__ggml_vocab_test__\n";
    tally t = {.name = label};
    size_t index = 0;
    char *text = inp, *line = out;
    for (char *end; (end = strstr(text, sep)) != NULL; text = end + strlen(sep), index++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        size_t n;
        int32_t *want = vector_expected(exceptions, index, line, &n);
        t.line = index + 1;
        t.text = text;
        t.text_len = (size_t)(end - text);
        check_encode(&t, tok, false, want, n);
        free(want);
        line = nl + 1;
    }
    fprintf(stderr, "  llama-spm vectors with %s: %zu strings, %zu differ\n", label, index, t.bad);
    assert_int_equal(t.bad, 0);
    cJSON_Delete(exceptions);
    free(exc_text);
    free(inp);
    free(out);
    return index;
}

static void test_llama_spm_vectors(void **state)
{
    (void)state;
    slm_tokenizer *tok = load_or_fail(test_source_path("tests/fixtures/tokenizers/tinyllama"));
    assert_true(check_vectors("tinyllama", tok) >= 40);
    slm_tokenizer_free(tok);
    char *dir = make_variant("phi-3");
    tok = load_or_fail(dir);
    check_vectors("phi-3", tok);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);
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

    tok = load_or_fail(test_source_path("tests/fixtures/tokenizers/tinyllama"));
    assert_int_equal(slm_tokenizer_vocab_size(tok), 32000);
    assert_int_equal(slm_tokenizer_bos_id(tok), 1);
    assert_int_equal(slm_tokenizer_eos_id(tok), 2);
    assert_int_equal(slm_tokenizer_token_id(tok, "\xE2\x96\x81the"), 278);
    slm_tokenizer_free(tok);

    char *dir = make_variant("phi-3");
    tok = load_or_fail(dir);
    assert_int_equal(slm_tokenizer_vocab_size(tok), 32011);
    assert_int_equal(slm_tokenizer_eos_id(tok), 32000); /* <|endoftext|> */
    assert_int_equal(slm_tokenizer_token_id(tok, "<|user|>"), 32010);
    ids = encode_or_fail(tok, "Hi", true);
    assert_true(ids.n > 0 && ids.ids[0] != 1); /* add_bos_token is false */
    slm_tokens_free(&ids);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);
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
    const char *dirs[] = {"weights/stories260K", "tests/fixtures/tokenizers/tinyllama"};
    for (size_t d = 0; d < 2; d++) {
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
            tally t = {.name = dirs[d], .line = i};
            size_t len;
            char *back = stream_decode(&t, tok, ids.ids, ids.n, false, &len);
            assert_non_null(back);
            if (len != n || memcmp(back, s, n) != 0)
                fail_msg("%s: round trip of text %zu changed it to '%s'", dirs[d], i, back);
            free(back);
            slm_tokens_free(&ids);
        }
        /* Some of these characters are not pieces: they went through <0x..> byte pieces. */
        assert_true(byte_00 >= 0 && byte_hits > 0);
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

/* ------------------------------------------------------------------ hand-made models */

/* Writes tokenizer.json (and, when given, tokenizer_config.json) into a fresh directory. */
static char *write_tokenizer(const char *json, const char *config)
{
    char *dir = test_make_tmpdir();
    write_or_fail(dir, "tokenizer.json", json, strlen(json));
    if (config)
        write_or_fail(dir, "tokenizer_config.json", config, strlen(config));
    return dir;
}

static void expect_ids(const slm_tokenizer *tok, const char *text, const int32_t *want, size_t n)
{
    slm_tokens ids = encode_or_fail(tok, text, false);
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

/* Expected values come from Hugging Face tokenizers 0.23 on the same JSON. */
static void test_small_bpe_models(void **state)
{
    (void)state;
    char *dir = write_tokenizer(
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}}",
        NULL);
    slm_tokenizer *tok = load_or_fail(dir);
    EXPECT(tok, "ab", 2);
    EXPECT(tok, "ba", 1, 0);
    EXPECT(tok, "abab", 2, 2);
    EXPECT(tok, "aXb", 2); /* no unk_token: unknown characters vanish */
    expect_ids(tok, "", NULL, 0);
    int32_t ids[] = {2, 0, 1};
    char *text = decode_or_fail(tok, ids, 3, false);
    assert_string_equal(text, "ab a b"); /* no decoder: pieces joined by spaces */
    free(text);
    assert_int_equal(slm_tokenizer_bos_id(tok), -1); /* no tokenizer_config.json */
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);

    dir = write_tokenizer("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<unk>\":0,\"a\":1},"
                          "\"merges\":[],\"unk_token\":\"<unk>\",\"fuse_unk\":true}}", NULL);
    tok = load_or_fail(dir);
    EXPECT(tok, "axxa", 1, 0, 1);
    EXPECT(tok, "x\xC3\xA9", 0);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);

    dir = write_tokenizer("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<unk>\":0,\"a\":1},"
                          "\"merges\":[],\"unk_token\":\"<unk>\",\"fuse_unk\":false}}", NULL);
    tok = load_or_fail(dir);
    EXPECT(tok, "axxa", 1, 0, 0, 1);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);

    /* byte_fallback with an incomplete byte table: a pending unk outlives the bytes. */
    dir = write_tokenizer("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"<unk>\":0,\"a\":1,"
                          "\"<0x78>\":2},\"merges\":[],\"unk_token\":\"<unk>\",\"fuse_unk\":true,"
                          "\"byte_fallback\":true}}", NULL);
    tok = load_or_fail(dir);
    EXPECT(tok, "axya", 1, 2, 0, 1);
    EXPECT(tok, "yxy", 2, 0);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);

    dir = write_tokenizer("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"##b\":1,\"a##b\":2,"
                          "\"ab\":3},\"merges\":[[\"a\",\"##b\"]],"
                          "\"continuing_subword_prefix\":\"##\"}}", NULL);
    tok = load_or_fail(dir);
    EXPECT(tok, "ab", 3);
    EXPECT(tok, "abb", 3, 1);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);

    dir = write_tokenizer("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,"
                          "\"abab\":3,\"ba\":4},\"merges\":[\"a b\",\"b a\"],"
                          "\"ignore_merges\":true}}", NULL);
    tok = load_or_fail(dir);
    EXPECT(tok, "abab", 3);
    EXPECT(tok, "ababa", 2, 2, 0);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);

    /* A merge string with two spaces, as in the shipped TinyLlama file: " " + " ". */
    dir = write_tokenizer("{\"model\":{\"type\":\"BPE\",\"vocab\":{\" \":0,\"  \":1,\"x\":2},"
                          "\"merges\":[\"   \"]}}", NULL);
    tok = load_or_fail(dir);
    EXPECT(tok, "x  x", 2, 1, 2);
    slm_tokenizer_free(tok);
    test_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ broken files */

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
                      "\"Replace\",\"pattern\":{\"Regex\":\" +\"},\"content\":\" \"}]},"
                      GOOD_MODEL "}",
                      NULL, SLM_ERR_UNSUPPORTED, "normalizer.normalizers[0]", "Regex");
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
    /* Several spaces: resolvable only when exactly one cut gives known pieces. */
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\" \":0,\"  \":1,\"   \":2,"
                      "\"    \":3},\"merges\":[\"     \"]}}",
                      NULL, SLM_ERR_FORMAT, "model.merges[0]", "one space");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"x\"},\"merges\":[]}}",
                      NULL, SLM_ERR_FORMAT, "model.vocab", "'a'");
    expect_load_error("{\"decoder\":{\"type\":\"Strip\",\"content\":\"ab\",\"start\":1,\"stop\":0},"
                      GOOD_MODEL "}", NULL, SLM_ERR_FORMAT, "decoder.content", "single character");
    expect_load_error("{" GOOD_MODEL "}", "{\"add_bos_token\": tru", SLM_ERR_FORMAT,
                      "tokenizer_config.json", "line 1");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_basics),
        cmocka_unit_test(test_tokens_push_grows),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_stream_holds_byte_runs),
        cmocka_unit_test(test_small_bpe_models),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_fixture_stories260K),
        cmocka_unit_test(test_fixture_tinyllama),
        cmocka_unit_test(test_fixture_tinyllama_metaspace_first),
        cmocka_unit_test(test_fixture_tinyllama_metaspace_split),
        cmocka_unit_test(test_fixture_tinyllama_added_flags),
        cmocka_unit_test(test_fixture_phi3),
        cmocka_unit_test(test_llama_spm_vectors),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
