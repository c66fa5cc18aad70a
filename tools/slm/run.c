/*
 * run.c — `slm run`: generate from a prompt, streaming text to stdout and a
 * stats line to stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

typedef struct {
    const char *model_dir;
    const char *prompt;
    long n_predict;
    long n_ctx;
    slm_sampler_params sampling;
    slm_load_options load;
    cli_stops stops;
    bool no_special;
    bool chat;
    bool no_display_prompt;
    const char *system;
} run_opts;

static void run_help(FILE *f)
{
    fprintf(f,
            "usage: slm run [-m DIR] [-p PROMPT] [-n N] [options]\n"
            "Generates text from PROMPT (default: empty, i.e. BOS only) and streams it to stdout.\n"
            "\n"
            "  -m, --model DIR      Hugging Face model folder (default: the bundled model)\n"
            "  -p, --prompt TEXT    prompt text\n"
            "  -n, --n-predict N    tokens to generate (default 256)\n"
            "  -c, --ctx-size N     context positions (default: the model's maximum)\n"
            CLI_SAMPLING_HELP
            CLI_STOP_HELP
            CLI_LOAD_HELP
            "  --no-special         do not add BOS/special tokens to the prompt\n"
            "  --no-display-prompt  print only the generated text (the prompt is echoed by default)\n"
            "  --chat               wrap the prompt in the model's chat template (a user turn);\n"
            "                       only the reply is printed\n"
            "  --system TEXT        with --chat: a system message first\n");
}

/* Returns -1 to continue, else an exit code. */
static int parse_run(int argc, char **argv, run_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r = cli_sampling_option("run", argc, argv, &i, &o->sampling);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        if ((r = cli_load_option("run", argc, argv, &i, &o->load)) < 0 ||
            (!r && (r = cli_stop_option("run", argc, argv, &i, &o->stops)) < 0))
            return CLI_USAGE;
        if (r > 0)
            continue;
        if (cli_is_help(a)) {
            run_help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(o->model_dir = cli_value("run", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            if (!(o->prompt = cli_value("run", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            if (!(v = cli_value("run", argc, argv, &i)) || !cli_int("run", a, v, 0, 1 << 30, &o->n_predict))
                return CLI_USAGE;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!(v = cli_value("run", argc, argv, &i)) || !cli_int("run", a, v, 0, 1 << 24, &o->n_ctx))
                return CLI_USAGE;
        } else if (!strcmp(a, "--no-display-prompt")) {
            o->no_display_prompt = true;
        } else if (!strcmp(a, "--chat")) {
            o->chat = true;
        } else if (!strcmp(a, "--system")) {
            if (!(o->system = cli_value("run", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "--no-special")) {
            o->no_special = true;
        } else {
            return cli_unknown("run", a);
        }
    }
    return -1;
}

static bool print_token(void *user, int32_t id, const char *text, size_t len)
{
    (void)user, (void)id;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void print_stats(const slm_generate_stats *st, double load_s)
{
    fprintf(stderr,
            "\n[slm] prompt %d tokens, %.1f tok/s | generated %d tokens, %.1f tok/s | "
            "load %.3f s\n",
            st->n_prompt, st->prefill_seconds > 0 ? st->n_prompt / st->prefill_seconds : 0.0,
            st->n_generated, st->decode_seconds > 0 ? st->n_generated / st->decode_seconds : 0.0,
            load_s);
}

/* The prompt's ids: plain text, or a one-turn conversation in the model's
   chat template (rendered by the engine; a model without one is an error). */
static slm_status prompt_tokens(const run_opts *o, const slm_model *m, slm_tokens *out,
                                slm_error *err)
{
    if (!o->chat)
        return slm_tokenize(slm_model_tokenizer(m), o->prompt, strlen(o->prompt),
                            !o->no_special, out, err);
    slm_chat_message msgs[2];
    size_t n = 0;
    if (o->system)
        msgs[n++] = (slm_chat_message){"system", o->system};
    msgs[n++] = (slm_chat_message){"user", o->prompt};
    return slm_chat_render_tokens(m, msgs, n, SLM_CHAT_TEMPLATE_REQUIRED, out, NULL, err);
}

static int generate(const run_opts *o)
{
    slm_error err = {0};
    slm_model *model = NULL;
    slm_session *session = NULL;
    slm_tokens prompt = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = CLI_FAIL;
    if (slm_model_load(o->model_dir, &o->load, &model, &err) != SLM_OK)
        goto done;
    double load_s = seconds_since(&t0);
    if (prompt_tokens(o, model, &prompt, &err) != SLM_OK ||
        slm_session_new(model, cli_context_size("run", model, o->n_ctx), &session, &err) != SLM_OK)
        goto done;
    /* like llama.cpp, the prompt is shown and the generation continues it */
    bool echo = !o->chat && !o->no_display_prompt;
    slm_generate_params gp = {.max_new_tokens = (int)o->n_predict,
                              .sampling = o->sampling,
                              .on_token = print_token,
                              .continue_text = echo,
                              .stop = o->stops.items,
                              .n_stop = o->stops.n};
    if (echo)
        fputs(o->prompt, stdout);
    slm_generate_stats st;
    if (slm_generate(session, prompt.ids, prompt.n, &gp, &st, &err) != SLM_OK)
        goto done;
    fputc('\n', stdout);
    print_stats(&st, load_s);
    rc = CLI_OK;
done:
    if (rc != CLI_OK)
        cli_report_model(o->model_dir, &err);
    slm_tokens_free(&prompt);
    slm_session_free(session);
    slm_model_free(model);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_opts o = {.model_dir = cli_default_model_dir(),
                  .prompt = "",
                  .n_predict = 256,
                  .sampling = slm_sampler_params_default(),
                  .load = cli_load_defaults()};
    o.sampling.seed = (uint64_t)time(NULL);
    int rc = parse_run(argc, argv, &o);
    return rc >= 0 ? rc : generate(&o);
}
