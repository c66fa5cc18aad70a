/*
 * main.c — `slm`: dispatches to one verb per file (run.c, tokenize.c, ...).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} verb;

int cmd_serve(int argc, char **argv); /* serve.c (engine/serve/) */
int cmd_route(int argc, char **argv); /* route.c (engine/route/) */
int cmd_eval(int argc, char **argv);  /* eval.c (engine/route/) */

static const verb verbs[] = {
    {"run", cmd_run, "generate text from a prompt, streaming to stdout"},
    {"tokenize", cmd_tokenize, "print the token ids of a text"},
    {"detokenize", cmd_detokenize, "print the text of token ids"},
    {"chat", cmd_chat, "interactive chat in the model's chat template"},
    {"classify", cmd_classify, "classify texts with a sequence-classification model"},
    {"logits", cmd_logits, "print the last position's logits for given ids"},
    {"quantize", cmd_quantize, "write a copy of a model with converted/quantized weights"},
    {"perplexity", cmd_perplexity, "perplexity of a text file"},
    {"bench", cmd_bench, "measure prompt and generation tokens/s (like llama-bench)"},
    {"inspect", cmd_inspect, "show a model's architecture, sizes and tensors"},
    {"serve", cmd_serve, "OpenAI-compatible HTTP server (chat, completions, SSE)"},
    {"route", cmd_route, "answer locally or with a remote LLM, as a classifier decides"},
    {"eval", cmd_eval, "compare the local and the remote model on a prompts file"},
};

#define N_VERBS (sizeof verbs / sizeof verbs[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: slm <command> [options]   (slm help <command> or slm <command> --help)\n"
               "       slm --version\n\ncommands:\n");
    for (size_t i = 0; i < N_VERBS; i++)
        fprintf(f, "  %-11s %s\n", verbs[i].name, verbs[i].summary);
}

static const verb *find_verb(const char *name)
{
    for (size_t i = 0; i < N_VERBS; i++)
        if (strcmp(name, verbs[i].name) == 0)
            return &verbs[i];
    return NULL;
}

/* `slm help` lists the commands; `slm help VERB` is `slm VERB --help`, so
   there is one help text per verb. */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        usage(stdout);
        return CLI_OK;
    }
    const verb *v = find_verb(argv[2]);
    if (!v) {
        fprintf(stderr, "slm help: unknown command '%s'\n", argv[2]);
        usage(stderr);
        return CLI_USAGE;
    }
    char *args[] = {argv[2], "--help", NULL};
    return v->fn(2, args);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))
        return cli_print_version();
    if (!strcmp(argv[1], "help"))
        return help(argc, argv);
    const verb *v = find_verb(argv[1]);
    if (v)
        return cli_check_isa_env() ? v->fn(argc - 1, argv + 1) : CLI_USAGE;
    fprintf(stderr, "slm: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
