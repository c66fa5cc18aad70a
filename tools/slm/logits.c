/*
 * logits.c — `slm logits`: the logits of the last position for given ids,
 * one per line (%.6e), for comparison with a reference implementation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "id_list.h"
#include "session.h"

static void logits_help(FILE *f)
{
    fprintf(f, "usage: slm logits [-m DIR] (--ids \"1 2 3\" | -p TEXT) [options]\n"
               "Prints the logits of the last position, one value per line (%%.6e);\n"
               "for a sequence classifier, the label logits of the whole sequence.\n"
               "  -m, --model DIR      model folder (default: $SLM_MODEL or the bundled model)\n"
               "  --ids IDS            token ids, space or comma separated\n"
               "  -p, --prompt TEXT    tokenize TEXT (with special tokens) instead\n"
               CLI_LOAD_HELP);
}

static int print_logits(const char *dir, const slm_load_options *lo, const char *ids,
                        const char *prompt)
{
    slm_error err = {0};
    slm_model *model = NULL;
    slm_session *session = NULL;
    slm_tokens toks = {0};
    const float *logits;
    int rc = CLI_FAIL;
    /* the syntax first (a usage error before any loading); the range against
       the model's vocab_size once it is loaded */
    if (ids && cli_parse_id_list(ids, (int64_t)INT32_MAX + 1, "int32 token ids", &toks, &err) !=
                   SLM_OK) {
        fprintf(stderr, "slm logits: --ids: %s\n", err.msg);
        rc = CLI_USAGE;
        goto done;
    }
    if (slm_model_load(dir, lo, &model, &err) != SLM_OK ||
        slm_model_check_ids(model, toks.ids, toks.n, &err) != SLM_OK)
        goto fail;
    if (prompt && slm_tokenize(slm_model_tokenizer(model), prompt, strlen(prompt), true, &toks,
                               &err) != SLM_OK)
        goto fail;
    if (slm_model_n_labels(model) > 0) { /* a classifier: its label scores */
        int n_labels = slm_model_n_labels(model), len = (int)toks.n;
        float *scores = malloc(sizeof(float) * (size_t)n_labels);
        if (!scores || slm_classify_ids(model, toks.ids, &len, 1, scores, &err) != SLM_OK) {
            free(scores);
            goto fail;
        }
        for (int i = 0; i < n_labels; i++)
            printf("%.6e\n", scores[i]);
        free(scores);
        rc = CLI_OK;
        goto done;
    }
    if (slm_session_new(model, 0, &session, &err) != SLM_OK ||
        slm_session_eval(session, toks.ids, toks.n, &logits, &err) != SLM_OK)
        goto fail;
    for (int i = 0; i < slm_model_vocab_size(model); i++)
        printf("%.6e\n", logits[i]);
    rc = CLI_OK;
    goto done;
fail:
    rc = cli_report_model(dir, &err);
done:
    slm_tokens_free(&toks);
    slm_session_free(session);
    slm_model_free(model);
    return rc;
}

int cmd_logits(int argc, char **argv)
{
    const char *dir = cli_default_model_dir(), *ids = NULL, *prompt = NULL;
    slm_load_options lo = cli_load_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            logits_help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(dir = cli_value("logits", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "--ids")) {
            if (!(ids = cli_value("logits", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            if (!(prompt = cli_value("logits", argc, argv, &i)))
                return CLI_USAGE;
        } else {
            int r = cli_load_option("logits", argc, argv, &i, &lo);
            if (r < 0)
                return CLI_USAGE;
            if (r > 0)
                continue;
            return cli_unknown("logits", a);
        }
    }
    if (!ids == !prompt) {
        fprintf(stderr, "slm logits: give exactly one of --ids or -p (see slm logits --help)\n");
        return CLI_USAGE;
    }
    return print_logits(dir, &lo, ids, prompt);
}
