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

static void usage(FILE *f)
{
    fprintf(f, "usage: slm <command> [options]   (slm <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-11s %s\n", verbs[i].name, verbs[i].summary);
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
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return cli_check_isa_env() ? verbs[i].fn(argc - 1, argv + 1) : CLI_USAGE;
    fprintf(stderr, "slm: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
