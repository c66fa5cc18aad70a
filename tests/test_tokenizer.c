/*
 * test_tokenizer.c — the tokenizer against Hugging Face `tokenizers`, family by family:
 * SentencePiece-style BPE (stories260K, TinyLlama, Phi-3), byte-level BPE (GPT-2, SmolLM2) and
 * WordPiece (all-MiniLM / BERT uncased, DistilBERT SST-2).
 *
 * The fixtures tests/fixtures/tokenizers/NAME.jsonl come from tools/make_tokenizer_fixtures.py
 * (its header documents the format): for every string, the ids with and without special tokens
 * and three decodes; for random id sequences, the decodes. Every one must be identical here,
 * and the streaming decoder must produce the same text in whole UTF-8 characters. Tokenizers
 * that exist under tests/fixtures/models/ are used in place; variants (Metaspace layouts,
 * added-token flags, GPT-2, all-MiniLM) are rebuilt from such a folder as
 * tests/fixtures/tokenizers/variants.json says, in a scratch directory. truncation.jsonl checks
 * slm_tokenize_truncated and the pair encoder against Hugging Face's truncation, and llama.cpp's
 * vectors (llama-spm, phi-3, gpt-2, bert-bge) run against the matching tokenizer.
 * A failure prints the fixture line, the text and the first differing position.
 * Hand-written behaviour tests are in test_tokenizer_api.c and test_tokenizer_models.c.
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
#include "tokenizer/tokenizer_internal.h" /* slm_tokenize_pair, slm_detokenize_len */

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
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(variant, "model_delete"))
        cJSON_DeleteItemFromObjectCaseSensitive(model, e->valuestring);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(variant, "merges_as_strings")))
        return;
    cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    int n = cJSON_GetArraySize(merges);
    for (int i = 0; i < n; i++) {
        cJSON *pair = cJSON_GetArrayItem(merges, i);
        const char *a = cJSON_GetArrayItem(pair, 0)->valuestring;
        const char *b = cJSON_GetArrayItem(pair, 1)->valuestring;
        char *joined = malloc(strlen(a) + strlen(b) + 2);
        sprintf(joined, "%s %s", a, b);
        cJSON_ReplaceItemInArray(merges, i, cJSON_CreateString(joined));
        free(joined);
    }
}

static void write_or_fail(const char *dir, const char *name, const char *data, size_t len)
{
    char *p = test_write_file(dir, name, data, len);
    assert_non_null(p);
    free(p);
}

/* Builds the tokenizer folder of a variants.json entry in a fresh scratch directory: the
 * base folder's tokenizer.json with the changes applied, and its tokenizer_config.json (or
 * tests/fixtures/tokenizers/<config> when the entry names one). */
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
    const char *base_dir = cJSON_GetObjectItemCaseSensitive(v, "base")->valuestring;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(v, "config");
    snprintf(base, sizeof base, "%s/tokenizer.json", base_dir);
    if (cJSON_IsString(cfg))
        snprintf(config, sizeof config, "tests/fixtures/tokenizers/%s", cfg->valuestring);
    else
        snprintf(config, sizeof config, "%s/tokenizer_config.json", base_dir);
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
    char *text = NULL, *c_text = NULL;
    size_t text_len = 0;
    slm_error err = {0};
    slm_status st = slm_detokenize_len(tok, ids, n, skip, &text, &text_len, &err);
    /* The C-string form gives the same text, or refuses one holding a NUL byte. */
    bool has_nul = st == SLM_OK && memchr(text, '\0', text_len);
    slm_status c_st = slm_detokenize(tok, ids, n, skip, &c_text, &err);
    if (st != SLM_OK || text_len != len || memcmp(text, streamed, len) != 0) {
        if (report(t, "slm_detokenize_len vs stream"))
            fprintf(stderr, "    %s\n", st != SLM_OK ? err.msg : "different text");
    } else if (has_nul ? c_st != SLM_ERR_INVALID_ARG || c_text
                       : c_st != SLM_OK || strcmp(c_text, text) != 0) {
        if (report(t, "slm_detokenize vs slm_detokenize_len"))
            fprintf(stderr, "    %s\n", c_st != SLM_OK ? err.msg : "different text");
    } else if (len != nw || memcmp(streamed, want, nw) != 0) {
        if (report(t, what)) {
            print_ids("ids: ", ids, n);
            print_escaped("want:", want, nw);
            print_escaped("got: ", streamed, len);
        }
    }
    free(text);
    free(c_text);
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
    /* decode_skip defaults to the text, decode_plain to decode_skip */
    char *dec = field_bytes(rec, "decode", &len);
    check_decode(t, tok, special, ns, false, dec, len, "decode");
    size_t skip_len, plain_len;
    char *skip = field_bytes(rec, "decode_skip", &skip_len);
    const char *sk = skip ? skip : t->text;
    skip_len = skip ? skip_len : t->text_len;
    check_decode(t, tok, special, ns, true, sk, skip_len, "decode_skip");
    char *plain = field_bytes(rec, "decode_plain", &plain_len);
    check_decode(t, tok, ids, n, false, plain ? plain : sk, plain ? plain_len : skip_len,
                 "decode_plain");
    free(dec);
    free(skip);
    free(plain);
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
    run_fixture("tinyllama", test_source_path("tests/fixtures/models/tinyllama"));
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
    run_fixture("phi-3", test_source_path("tests/fixtures/models/phi3"));
}

static void test_fixture_gpt2(void **state)
{
    (void)state;
    run_variant_fixture("gpt2");
}

static void test_fixture_smollm2(void **state)
{
    (void)state;
    run_fixture("smollm2", test_source_path("tests/fixtures/models/smollm2"));
}

static void test_fixture_all_minilm(void **state)
{
    (void)state;
    run_variant_fixture("all-minilm");
}

static void test_fixture_distilbert(void **state)
{
    (void)state;
    run_fixture("distilbert_sst2", test_source_path("tests/fixtures/models/distilbert_sst2"));
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

static char *vector_file(const char *set, const char *ext, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/tokenizer-vectors/ggml-vocab-%s.%s", set, ext);
    return slurp_or_fail(test_source_path(rel), len);
}

/* Runs llama.cpp's vector set `set` through tok (named `label`); returns the string count. */
static size_t check_vectors(const char *set, const char *label, const slm_tokenizer *tok)
{
    size_t len;
    char *inp = vector_file(set, "gguf.inp", &len);
    char *out = vector_file(set, "gguf.out", &len);
    char *exc_text = vector_file(set, "exceptions.json", &len);
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
    fprintf(stderr, "  %s vectors with %s: %zu strings, %zu exceptions, %zu differ\n", set, label,
            index, (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(exceptions,
                                                                              "exceptions")),
            t.bad);
    assert_int_equal(t.bad, 0);
    assert_true(index >= 40);
    cJSON_Delete(exceptions);
    free(exc_text);
    free(inp);
    free(out);
    return index;
}

static void vectors_in_dir(const char *set, const char *label, const char *dir)
{
    slm_tokenizer *tok = load_or_fail(dir);
    check_vectors(set, label, tok);
    slm_tokenizer_free(tok);
}

static void vectors_in_variant(const char *set, const char *variant)
{
    char *dir = make_variant(variant);
    vectors_in_dir(set, variant, dir);
    test_rmtree(dir);
    free(dir);
}

static void test_llama_cpp_vectors(void **state)
{
    (void)state;
    vectors_in_dir("llama-spm", "tinyllama", test_source_path("tests/fixtures/models/tinyllama"));
    vectors_in_dir("llama-spm", "phi-3", test_source_path("tests/fixtures/models/phi3"));
    vectors_in_dir("phi-3", "phi-3", test_source_path("tests/fixtures/models/phi3"));
    vectors_in_variant("gpt-2", "gpt2");
    vectors_in_variant("bert-bge", "all-minilm");
    /* The files are kept (tests/fixtures/tokenizer-vectors/) for when the tokenizers arrive. */
    fprintf(stderr, "  llama-bpe vectors: SKIPPED - no Llama 3 tokenizer.json in the repository "
                    "(128256-piece vocabulary and merges needed; none is available here)\n");
    fprintf(stderr, "  qwen2 vectors: SKIPPED - no Qwen2 tokenizer.json in the repository "
                    "(151643-piece vocabulary and merges needed; none is available here)\n");
}

/* ------------------------------------------------------------------ truncation */

/* One truncation.jsonl record: slm_tokenize_truncated (single texts) or slm_tokenize_pair must
 * give Hugging Face's ids for truncation=True, max_length. */
static void check_truncation_record(tally *t, const slm_tokenizer *tok, const cJSON *rec)
{
    size_t nw;
    int32_t *want = json_ids(cJSON_GetObjectItemCaseSensitive(rec, "ids"), &nw);
    size_t max_len = (size_t)cJSON_GetObjectItemCaseSensitive(rec, "max_length")->valuedouble;
    bool special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "add_special"));
    const cJSON *pair = cJSON_GetObjectItemCaseSensitive(rec, "pair");
    slm_tokens got = {0};
    slm_error err = {0};
    bool cut = false;
    slm_status st;
    if (pair) {
        const char *a = cJSON_GetArrayItem(pair, 0)->valuestring;
        const char *b = cJSON_GetArrayItem(pair, 1)->valuestring;
        t->text = a;
        t->text_len = strlen(a);
        st = slm_tokenize_pair(tok, a, strlen(a), b, strlen(b), special, max_len, &got, &cut,
                               &err);
    } else {
        t->text = cJSON_GetObjectItemCaseSensitive(rec, "text")->valuestring;
        t->text_len = strlen(t->text);
        st = slm_tokenize_truncated(tok, t->text, t->text_len, special, max_len, &got, &cut,
                                    &err);
    }
    if (st != SLM_OK) {
        t->checks++;
        if (report(t, "truncated encode status"))
            fprintf(stderr, "    %s\n", err.msg);
    } else {
        check_ids(t, pair ? "truncated pair ids" : "truncated ids", want, nw, &got);
        if (got.n > max_len && report(t, "length limit"))
            fprintf(stderr, "    %zu ids > max_length %zu\n", got.n, max_len);
    }
    t->text = NULL;
    slm_tokens_free(&got);
    free(want);
}

static void test_truncation_fixture(void **state)
{
    (void)state;
    static const struct {
        const char *name, *dir, *variant;
    } toks[] = {{"tinyllama", "tests/fixtures/models/tinyllama", NULL},
                {"gpt2", NULL, "gpt2"},
                {"all-minilm", NULL, "all-minilm"},
                {"distilbert_sst2", "tests/fixtures/models/distilbert_sst2", NULL}};
    size_t len;
    char *data = slurp_or_fail(test_source_path("tests/fixtures/tokenizers/truncation.jsonl"),
                               &len);
    for (size_t k = 0; k < sizeof toks / sizeof toks[0]; k++) {
        char *dir = toks[k].variant ? make_variant(toks[k].variant) : NULL;
        slm_tokenizer *tok = load_or_fail(dir ? dir : test_source_path(toks[k].dir));
        tally t = {.name = toks[k].name};
        size_t n = 0, line = 0;
        for (char *p = data, *end; *p; p = end + 1) {
            end = strchr(p, '\n');
            *end = '\0';
            line++;
            cJSON *rec = cJSON_Parse(p);
            *end = '\n';
            const char *owner = cJSON_GetObjectItemCaseSensitive(rec, "tokenizer")->valuestring;
            if (strcmp(owner, toks[k].name) == 0) {
                t.line = line;
                check_truncation_record(&t, tok, rec);
                n++;
            }
            cJSON_Delete(rec);
        }
        fprintf(stderr, "  truncation with %s: %zu texts and pairs, %zu differ\n", toks[k].name,
                n, t.bad);
        assert_true(n >= 100);
        assert_int_equal(t.bad, 0);
        slm_tokenizer_free(tok);
        if (dir)
            test_rmtree(dir);
        free(dir);
    }
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_stories260K),
        cmocka_unit_test(test_fixture_tinyllama),
        cmocka_unit_test(test_fixture_tinyllama_metaspace_first),
        cmocka_unit_test(test_fixture_tinyllama_metaspace_split),
        cmocka_unit_test(test_fixture_tinyllama_added_flags),
        cmocka_unit_test(test_fixture_phi3),
        cmocka_unit_test(test_fixture_gpt2),
        cmocka_unit_test(test_fixture_smollm2),
        cmocka_unit_test(test_fixture_all_minilm),
        cmocka_unit_test(test_fixture_distilbert),
        cmocka_unit_test(test_truncation_fixture),
        cmocka_unit_test(test_llama_cpp_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
