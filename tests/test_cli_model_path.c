/*
 * test_cli_model_path.c — what `slm` says about -m paths that are not a
 * runnable model folder: a GGUF file, a hub repo id, a hub cache entry get a
 * hint (for every verb that takes -m); `slm inspect` on a classifier shows
 * its labels and no decoder lines, on a tokenizer-only folder the tokenizer,
 * and on another model family names the architecture as unsupported.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fileio.h"
#include "test_util.h"

#define DISTILBERT "tests/fixtures/models/distilbert_sst2"

/* Runs slm, expecting exit `want_rc`; returns stdout, *err_out stderr. */
static char *run(const char *args, int want_rc, char **err_out)
{
    char *out, *err;
    int rc = test_run_cli(args, &out, &err);
    if (rc != want_rc)
        fail_msg("slm %s: exit %d, wanted %d\nstdout: %s\nstderr: %s", args, rc, want_rc, out,
                 err);
    if (err_out)
        *err_out = err;
    else
        free(err);
    return out;
}

static void expect_in(const char *text, const char *what, const char *args)
{
    if (!strstr(text, what))
        fail_msg("slm %s: wanted '%s' in:\n%s", args, what, text);
}

static void expect_not_in(const char *text, const char *what, const char *args)
{
    if (strstr(text, what))
        fail_msg("slm %s: did not want '%s' in:\n%s", args, what, text);
}

/* The verbs that take -m, each with the arguments it needs to get as far
   as loading. */
static const char *const verbs_with_m[] = {
    "run -n 1 -m",   "classify hi -m", "logits -p hi -m", "perplexity -f /dev/null -m",
    "bench -r 1 -m", "inspect -m",     "tokenize hi -m",  "detokenize 1 -m",
    "chat -m",       "quantize -o /nonexistent/out --weights q8_0 -m",
};
#define N_VERBS (sizeof verbs_with_m / sizeof verbs_with_m[0])

static void test_gguf_hint(void **state)
{
    char *dir = test_make_tmpdir(), args[4400], *err;
    char *gguf = test_write_file(dir, "model.gguf", "GGUF\3\0\0\0", 8);
    char *renamed = test_write_file(dir, "weights.bin", "GGUF\3\0\0\0", 8);
    for (size_t i = 0; i < N_VERBS; i++) {
        const char *path = i % 2 ? renamed : gguf; /* by name, and by magic */
        snprintf(args, sizeof args, "%s %s", verbs_with_m[i], path);
        free(run(args, 1, &err));
        expect_in(err, "is a GGUF file", args);
        expect_in(err, "hf download ", args);
        free(err);
    }
    free(gguf);
    free(renamed);
    test_rmtree(dir);
    free(dir);
}

static void test_repo_id_hint(void **state)
{
    char args[512], *err;
    for (size_t i = 0; i < N_VERBS; i++) {
        snprintf(args, sizeof args, "%s TinyLlama/TinyLlama-1.1B-Chat-v1.0", verbs_with_m[i]);
        free(run(args, 1, &err));
        expect_in(err, "looks like a Hugging Face hub repo id", args);
        expect_in(err, "hf download TinyLlama/TinyLlama-1.1B-Chat-v1.0 --local-dir", args);
        free(err);
    }
    /* a path that merely does not exist gets no hub hint */
    free(run("run -n 1 -m ./no/such-folder", 1, &err));
    expect_not_in(err, "hint", "run -m ./no/such-folder");
    free(err);
}

/* A hub cache: models--org--name/{refs/main, snapshots/<hash>/}. */
static char *make_cache_entry(const char *cache, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", cache, name);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/snapshots", cache, name);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/snapshots/aaa111", cache, name);
    mkdir(path, 0700);
    free(test_write_file(path, "config.json", "{}", 2));
    snprintf(path, sizeof path, "%s/%s/snapshots/bbb222", cache, name);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/refs", cache, name);
    mkdir(path, 0700);
    free(test_write_file(path, "main", "aaa111\n", 7));
    snprintf(path, sizeof path, "%s/%s", cache, name);
    return strdup(path);
}

static void test_cache_hints(void **state)
{
    char *cache = test_make_tmpdir(), args[4400], want[4400], *err;
    char *entry = make_cache_entry(cache, "models--org--name");
    for (size_t i = 0; i < N_VERBS; i++) {
        snprintf(args, sizeof args, "%s %s", verbs_with_m[i], entry);
        free(run(args, 1, &err));
        expect_in(err, "is a Hugging Face cache entry", args);
        snprintf(want, sizeof want, "-m %s/snapshots/aaa111   (refs/main)", entry);
        expect_in(err, want, args);
        snprintf(want, sizeof want, "-m %s/snapshots/bbb222   (incomplete: no config.json)",
                 entry);
        expect_in(err, want, args);
        free(err);
    }
    /* a repo id that is in the cache: its snapshot is named too */
    snprintf(args, sizeof args, "env HF_HUB_CACHE=%s %s inspect -m org/name", cache,
             SLM_CLI_PATH);
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "%s >/dev/null 2>%s/err", args, cache);
    assert_int_equal(WEXITSTATUS(system(cmd)), 1);
    snprintf(want, sizeof want, "%s/err", cache);
    FILE *f = fopen(want, "r");
    assert_non_null(f);
    char text[8192] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    expect_in(text, "it is in the Hugging Face cache", args);
    snprintf(want, sizeof want, "%s/snapshots/aaa111", entry);
    expect_in(text, want, args);
    free(entry);
    test_rmtree(cache);
    free(cache);
}

static void test_inspect_classifier(void **state)
{
    char args[4200];
    snprintf(args, sizeof args, "inspect -m %s", test_source_path(DISTILBERT));
    char *out = run(args, 0, NULL);
    expect_in(out, "DistilBertForSequenceClassification", args);
    expect_in(out, "labels            2: 0 NEGATIVE, 1 POSITIVE", args);
    expect_not_in(out, "rope", args);
    expect_not_in(out, "bos", args);
    expect_in(out, "tokenizer         tokenizer.json", args);
    free(out);
    /* a decoder still shows them */
    snprintf(args, sizeof args, "inspect -m %s", test_source_path("tests/fixtures/models/tinyllama"));
    out = run(args, 0, NULL);
    expect_in(out, "rope_theta", args);
    expect_in(out, "bos / eos ids", args);
    expect_not_in(out, "labels", args);
    free(out);
}

static void test_inspect_tokenizer_folder(void **state)
{
    char args[4200];
    snprintf(args, sizeof args, "inspect -m %s",
             test_source_path("tests/fixtures/wordpiece/uncased"));
    char *out = run(args, 0, NULL);
    expect_in(out, "a tokenizer-only folder", args);
    expect_in(out, "vocab.txt (as transformers' BertTokenizer)", args);
    free(out);
    /* the same with a tokenizer.json: a decoder's tokenizer files copied alone */
    char *dir = test_make_tmpdir(), *text;
    size_t len;
    slm_error e = {0};
    const char *files[] = {"tokenizer.json", "tokenizer_config.json"};
    for (int i = 0; i < 2; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/fixtures/models/tinyllama/%s", files[i]);
        assert_int_equal(slm_read_file(test_source_path(rel), &text, &len, &e), SLM_OK);
        free(test_write_file(dir, files[i], text, len));
        free(text);
    }
    snprintf(args, sizeof args, "inspect -m %s", dir);
    out = run(args, 0, NULL);
    expect_in(out, "a tokenizer-only folder", args);
    expect_in(out, "tokenizer         tokenizer.json, 32000 tokens", args);
    free(out);
    test_rmtree(dir);
    free(dir);
}

static void test_inspect_unsupported_architecture(void **state)
{
    char *dir = test_make_tmpdir(), args[4200], *err;
    const char *gpt2 = "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", "
                       "\"n_embd\": 768, \"n_layer\": 12, \"vocab_size\": 50257}";
    free(test_write_file(dir, "config.json", gpt2, strlen(gpt2)));
    snprintf(args, sizeof args, "inspect -m %s", dir);
    free(run(args, 1, &err));
    expect_in(err, "architecture 'GPT2LMHeadModel' (model_type 'gpt2') is not supported", args);
    expect_in(err, "slm runs LlamaForCausalLM", args);
    expect_not_in(err, "missing", args);
    free(err);
    /* run says the same */
    snprintf(args, sizeof args, "run -n 1 -m %s", dir);
    free(run(args, 1, &err));
    expect_in(err, "'GPT2LMHeadModel' (model_type 'gpt2') is not supported", args);
    free(err);
    test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gguf_hint),
        cmocka_unit_test(test_repo_id_hint),
        cmocka_unit_test(test_cache_hints),
        cmocka_unit_test(test_inspect_classifier),
        cmocka_unit_test(test_inspect_tokenizer_folder),
        cmocka_unit_test(test_inspect_unsupported_architecture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
