/*
 * classify.c — `slm classify`: sequence classification of texts given as
 * arguments (or one per line on stdin with "-"), printed like the
 * text-classification pipeline: LABEL (score) -> text.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "profile_output.h"

#define DEFAULT_CLASSIFIER SLM_DEFAULT_CLASSIFIER_DIR
/* An encoder has no KV cache, and one thread count serves the whole batch. */
#define CLASSIFY_LOAD (CLI_LOAD_THREADS | CLI_LOAD_WEIGHTS | CLI_LOAD_MMAP)

static void classify_help(FILE *f)
{
    fprintf(f, "usage: slm classify [-m DIR] [--json] [-t N] [--] TEXT... | -\n"
               "Classifies each TEXT (\"-\": one text per line from stdin, as one batch;\n"
               "after \"--\" every argument is a text, even one starting with '-').\n"
               "  -m, --model DIR  a sequence-classification folder (default: $SLM_CLASSIFIER or\n"
               "                   " DEFAULT_CLASSIFIER ")\n"
               "  --json           one JSON object per text: every label's score and the logits\n"
               "  -t, --threads N  threads (default: all cores)\n"
               CLI_WEIGHTS_HELP CLI_MMAP_HELP CLI_PROFILE_HELP);
}

typedef struct {
    char **items;
    size_t n, cap;
} text_list;

static bool list_push(text_list *l, char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return false;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return true;
}

static int push_text(text_list *l, const char *text)
{
    char *copy = strdup(text);
    if (!copy || !list_push(l, copy)) {
        free(copy);
        fprintf(stderr, "slm classify: out of memory\n");
        return CLI_FAIL;
    }
    return CLI_OK;
}

static void list_free(text_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

/* One text per line; false after printing why (a NUL byte, a read error). */
static bool read_stdin_lines(text_list *l)
{
    char *line = NULL;
    size_t cap = 0, len;
    int r;
    bool ok = true;
    for (long no = 1; ok && (r = cli_read_line(stdin, "classify", "stdin", no, &line, &cap,
                                               &len)) != 0; no++) {
        char *copy = r > 0 ? strdup(line) : NULL;
        ok = r > 0 && copy && list_push(l, copy);
        if (r > 0 && !ok) {
            free(copy);
            fprintf(stderr, "slm classify: out of memory reading stdin\n");
        }
    }
    free(line);
    return ok;
}

static int best_label(const float *p, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (p[i] > p[best])
            best = i;
    return best;
}

static void print_json(const slm_model *m, const char *text, const float *p, const float *lg)
{
    int L = slm_model_n_labels(m), best = best_label(p, L);
    cJSON *o = cJSON_CreateObject(), *scores = cJSON_CreateObject(), *logits = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "text", text);
    cJSON_AddStringToObject(o, "label", slm_model_label(m, best));
    cJSON_AddNumberToObject(o, "score", p[best]);
    for (int i = 0; i < L; i++) {
        cJSON_AddNumberToObject(scores, slm_model_label(m, i), p[i]);
        cJSON_AddItemToArray(logits, cJSON_CreateNumber(lg[i]));
    }
    cJSON_AddItemToObject(o, "scores", scores);
    cJSON_AddItemToObject(o, "logits", logits);
    char *s = cJSON_PrintUnformatted(o);
    puts(s);
    free(s);
    cJSON_Delete(o);
}

static int run_classify(const char *dir, const slm_load_options *lo, text_list *texts, bool json,
                        cli_profile *prof)
{
    slm_error err = {0};
    slm_model *m = NULL;
    slm_profile *pf = NULL;
    if (!cli_profile_new("classify", prof, &pf))
        return CLI_FAIL;
    if (slm_model_load(dir, lo, &m, &err) != SLM_OK) {
        cli_profile_close("classify", prof);
        slm_profile_free(pf);
        return cli_report_model(dir, &err);
    }
    int L = slm_model_n_labels(m), rc = CLI_OK;
    float *p = malloc((texts->n + 1) * (size_t)(L + 1) * sizeof *p);
    float *lg = malloc((texts->n + 1) * (size_t)(L + 1) * sizeof *lg);
    size_t truncated = 0;
    if (!p || !lg) {
        fprintf(stderr, "slm classify: out of memory\n");
        rc = CLI_FAIL;
    } else if (slm_classify_profiled(m, (const char *const *)texts->items, texts->n, p, lg,
                                     &truncated, pf, &err) != SLM_OK) {
        rc = cli_report(&err);
    } else {
        if (truncated)
            fprintf(stderr, "slm classify: warning: %zu text(s) longer than %zu tokens were "
                            "truncated\n", truncated, slm_classify_max_tokens(m));
        for (size_t i = 0; i < texts->n; i++) {
            if (json) {
                print_json(m, texts->items[i], p + i * L, lg + i * L);
                continue;
            }
            int b = best_label(p + i * L, L);
            printf("%s (%.2f) -> %s\n", slm_model_label(m, b), p[i * L + b], texts->items[i]);
        }
        if (!cli_profile_report("classify", prof, pf, NULL))
            rc = CLI_FAIL;
    }
    if (!cli_profile_close("classify", prof))
        rc = CLI_FAIL;
    free(p);
    free(lg);
    slm_profile_free(pf);
    slm_model_free(m);
    return rc;
}

int cmd_classify(int argc, char **argv)
{
    const char *env = getenv("SLM_CLASSIFIER");
    const char *dir = env && *env ? env : DEFAULT_CLASSIFIER;
    slm_load_options lo = cli_load_defaults();
    text_list texts = {0};
    bool json = false, from_stdin = false;
    cli_profile prof = {0};
    int rc = CLI_OK, r;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            classify_help(stdout);
            list_free(&texts);
            return CLI_OK;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(dir = cli_value("classify", argc, argv, &i)))
                rc = CLI_USAGE;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if ((r = cli_profile_option("classify", argc, argv, &i, &prof)) != 0) {
            rc = r < 0 ? CLI_USAGE : CLI_OK;
        } else if ((r = cli_load_option_in(CLASSIFY_LOAD, "classify", argc, argv, &i, &lo)) != 0) {
            rc = r < 0 ? CLI_USAGE : CLI_OK;
        } else if (!strcmp(a, "-")) {
            from_stdin = true;
        } else if (!strcmp(a, "--")) { /* texts that start with '-' follow */
            for (i++; i < argc && rc == CLI_OK; i++)
                rc = push_text(&texts, argv[i]);
        } else if (a[0] == '-') {
            rc = cli_unknown("classify", a);
        } else {
            rc = push_text(&texts, a);
        }
    }
    if (rc == CLI_OK && from_stdin && !read_stdin_lines(&texts))
        rc = CLI_FAIL;
    if (rc == CLI_OK && texts.n == 0) {
        fprintf(stderr, "slm classify: no text given (see slm classify --help)\n");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = run_classify(dir, &lo, &texts, json, &prof);
    list_free(&texts);
    return rc;
}
