/*
 * perplexity.c — `slm perplexity`: perplexity of a text file under the model,
 * over consecutive windows of the context size (each window scored from its
 * start, like llama.cpp's perplexity without overlap).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"

static void ppl_help(FILE *f)
{
    fprintf(f, "usage: slm perplexity [-m DIR] -f FILE [-c CTX] [options]\n"
               "Prints the perplexity of FILE's text (tokenized with special tokens).\n"
               "  -m, --model DIR      model folder (default: $SLM_MODEL or the bundled model)\n"
               "  -f, --file FILE      text file\n"
               "  -c, --ctx-size N     window length (default: min(512, the model's maximum))\n"
               CLI_LOAD_HELP);
}

static int score(const char *dir, const slm_load_options *lo, const char *file, long n_ctx)
{
    slm_error err = {0};
    slm_model *m = NULL;
    slm_session *s = NULL;
    slm_tokens ids = {0};
    char *text = NULL;
    size_t len;
    int rc = CLI_FAIL;
    if (slm_read_file(file, &text, &len, &err) != SLM_OK ||
        slm_model_load(dir, lo, &m, &err) != SLM_OK ||
        slm_tokenize(slm_model_tokenizer(m), text, len, true, &ids, &err) != SLM_OK)
        goto done;
    /* the default window is 512 or the model's maximum when that is smaller;
       an explicit -c above the maximum is clamped with a warning */
    int max = slm_model_max_positions(m);
    int ctx = n_ctx > 0 ? cli_context_size("perplexity", m, n_ctx) : (max < 512 ? max : 512);
    if (slm_session_new(m, ctx, &s, &err) != SLM_OK)
        goto done;
    double nll = 0.0;
    size_t scored = 0;
    for (size_t start = 0; start + 1 < ids.n; start += (size_t)ctx) {
        size_t n = ids.n - start < (size_t)ctx ? ids.n - start : (size_t)ctx;
        double w_nll;
        size_t w_n;
        if (n < 2)
            break;
        if (slm_session_nll(s, ids.ids + start, n, &w_nll, &w_n, &err) != SLM_OK)
            goto done;
        nll += w_nll;
        scored += w_n;
    }
    if (scored == 0) {
        fprintf(stderr, "slm perplexity: %s: too short to score\n", file);
        rc = CLI_USAGE;
        goto cleanup;
    }
    printf("perplexity %.4f over %zu tokens (%zu windows of %d)\n", exp(nll / scored), scored,
           (ids.n + (size_t)ctx - 1) / (size_t)ctx, ctx);
    rc = CLI_OK;
done:
    if (rc != CLI_OK)
        rc = cli_report_model(dir, &err);
cleanup:
    free(text);
    slm_tokens_free(&ids);
    slm_session_free(s);
    slm_model_free(m);
    return rc;
}

int cmd_perplexity(int argc, char **argv)
{
    const char *dir = cli_default_model_dir(), *file = NULL, *v;
    slm_load_options lo = cli_load_defaults();
    long n_ctx = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (cli_is_help(a)) {
            ppl_help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(dir = cli_value("perplexity", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (!(file = cli_value("perplexity", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!(v = cli_value("perplexity", argc, argv, &i)) ||
                !cli_int("perplexity", a, v, 2, 1 << 20, &n_ctx))
                return CLI_USAGE;
        } else if ((r = cli_load_option("perplexity", argc, argv, &i, &lo)) != 0) {
            if (r < 0)
                return CLI_USAGE;
        } else {
            return cli_unknown("perplexity", a);
        }
    }
    if (!file) {
        fprintf(stderr, "slm perplexity: -f FILE is required (see slm perplexity --help)\n");
        return CLI_USAGE;
    }
    return score(dir, &lo, file, n_ctx);
}
