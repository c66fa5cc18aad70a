/*
 * chat.c — `slm chat`: interactive multi-turn chat with the model's own chat
 * template (tokenizer_config.json), streaming each reply. The conversation is
 * the engine's (engine/conversation.h): each turn re-renders the whole
 * conversation, as transformers' apply_chat_template does, and only the
 * tokens after the longest prefix already in the KV cache are evaluated.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ============================================================ the chat loop */

typedef struct {
    slm_conversation *conv;
    slm_generate_params params;
    bool show_stats;
} chat_state;

static bool print_piece(void *user, int32_t id, const char *text, size_t len)
{
    (void)user, (void)id;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true;
}

/* One turn: the user's line in, the reply streamed out. */
static slm_status chat_turn(chat_state *st, const char *line, slm_error *err)
{
    slm_generate_stats stats;
    slm_status s = slm_conversation_add(st->conv, "user", line, err);
    if (s == SLM_OK)
        s = slm_conversation_reply(st->conv, &st->params, &stats, err);
    if (s == SLM_OK && st->show_stats)
        fprintf(stderr,
                "\n[slm] prompt %d tokens: %d cached, %d new prompt tokens evaluated | "
                "%d generated, %.1f tok/s\n",
                stats.n_prompt, stats.n_prompt_cached, stats.n_prompt - stats.n_prompt_cached,
                stats.n_generated,
                stats.decode_seconds > 0 ? stats.n_generated / stats.decode_seconds : 0.0);
    fputc('\n', stdout);
    return s;
}

static int chat_loop(chat_state *st)
{
    slm_error err = {0};
    int rc = CLI_OK;
    bool tty = isatty(STDIN_FILENO);
    char *line = NULL;
    size_t cap = 0, len;
    for (long no = 1; rc == CLI_OK; no++) {
        if (tty)
            fputs("> ", stderr);
        int r = cli_read_line(stdin, "chat", "stdin", no, &line, &cap, &len);
        if (r <= 0) {
            rc = r < 0 ? CLI_FAIL : rc;
            break;
        }
        if (len == 0)
            continue;
        if (chat_turn(st, line, &err) != SLM_OK)
            rc = cli_report(&err);
    }
    free(line);
    return rc;
}

/* ============================================================ slm chat */

static void chat_help(FILE *f)
{
    fprintf(f, "usage: slm chat [-m DIR] [--system TEXT] [options]\n"
               "Interactive chat in the model's chat template: one user message per line on\n"
               "stdin, each reply streamed to stdout. Ends at end of input.\n"
               "  -m, --model DIR      Hugging Face model folder with a chat_template\n"
               "  --system TEXT        a system message\n"
               "  -n, --n-predict N    at most N tokens per reply (default 512)\n"
               "  -c, --ctx-size N     context positions (default: the model's maximum)\n"
               "  --stats              after each reply, a line on stderr: prompt tokens cached\n"
               "                       vs evaluated, tokens generated, speed\n" CLI_STOP_HELP
                   CLI_LOAD_HELP CLI_SAMPLING_HELP);
}

typedef struct {
    const char *dir, *system;
    long n_predict, n_ctx;
    slm_load_options load;
    slm_sampler_params sampling;
    cli_stops stops;
    bool stats;
} chat_opts;

static int parse_chat(int argc, char **argv, chat_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r = cli_sampling_option("chat", argc, argv, &i, &o->sampling);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        if ((r = cli_load_option("chat", argc, argv, &i, &o->load)) < 0 ||
            (!r && (r = cli_stop_option("chat", argc, argv, &i, &o->stops)) < 0))
            return CLI_USAGE;
        if (r > 0)
            continue;
        if (cli_is_help(a)) {
            chat_help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(o->dir = cli_value("chat", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "--system")) {
            if (!(o->system = cli_value("chat", argc, argv, &i)))
                return CLI_USAGE;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            if (!(v = cli_value("chat", argc, argv, &i)) ||
                !cli_int("chat", a, v, 1, 1 << 30, &o->n_predict))
                return CLI_USAGE;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!(v = cli_value("chat", argc, argv, &i)) ||
                !cli_int("chat", a, v, 0, 1 << 24, &o->n_ctx))
                return CLI_USAGE;
        } else if (!strcmp(a, "--stats")) {
            o->stats = true;
        } else {
            return cli_unknown("chat", a);
        }
    }
    return -1;
}

int cmd_chat(int argc, char **argv)
{
    chat_opts o = {.dir = cli_default_model_dir(),
                   .n_predict = 512,
                   .load = cli_load_defaults(),
                   .sampling = slm_sampler_params_default()};
    o.sampling.seed = (uint64_t)time(NULL);
    int rc = parse_chat(argc, argv, &o);
    if (rc >= 0)
        return rc;
    slm_error err = {0};
    slm_model *model = NULL;
    slm_session *session = NULL;
    chat_state st = {.params = {.max_new_tokens = (int)o.n_predict,
                                .sampling = o.sampling,
                                .on_token = print_piece,
                                .stop = o.stops.items,
                                .n_stop = o.stops.n},
                     .show_stats = o.stats};
    if (slm_model_load(o.dir, &o.load, &model, &err) != SLM_OK ||
        slm_session_new(model, cli_context_size("chat", model, o.n_ctx), &session, &err) !=
            SLM_OK ||
        slm_conversation_new(session, SLM_CHAT_TEMPLATE_REQUIRED, &st.conv, &err) != SLM_OK ||
        (o.system && slm_conversation_add(st.conv, "system", o.system, &err) != SLM_OK))
        rc = cli_report_model(o.dir, &err);
    else
        rc = chat_loop(&st);
    slm_conversation_free(st.conv);
    slm_session_free(session);
    slm_model_free(model);
    return rc;
}
