/*
 * chat.c — `slm chat`: interactive multi-turn chat with the model's own chat
 * template (tokenizer_config.json), streaming each reply. The conversation is
 * the engine's (engine/conversation.h): each turn re-renders the whole
 * conversation, as transformers' apply_chat_template does, and only the
 * tokens after the longest prefix already in the KV cache are evaluated.
 * On a terminal, lines are edited with libedit (line_input.c); Ctrl-C stops
 * a reply, and at the prompt ends the program (exit 130, as llama-cli).
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gen_output.h"
#include "interrupt.h"
#include "line_input.h"
#include "token_piece.h"
#include "profile_output.h"

/* ============================================================ the chat loop */

typedef struct {
    slm_conversation *conv;
    slm_generate_params params;
    const cli_sampling *sampling;
    cli_line_input *in;
    size_t n_system; /* leading system messages, kept by /clear and when the context fills */
    int n_ctx;
    bool show_stats;
    bool verbose_prompt;
    const slm_model *model;
} chat_state;

/* Positions kept free for the reply when old turns are dropped: the reply's
   budget, but at most a quarter of the context so some history survives. */
static int reply_room(const chat_state *st)
{
    int quarter = st->n_ctx / 4 > 0 ? st->n_ctx / 4 : 1;
    return st->params.max_new_tokens < quarter ? st->params.max_new_tokens : quarter;
}

/* Makes room for the reply; a message too long for the context on its own
   is dropped (said on stderr) and the chat goes on. Returns false then. */
static bool fit_context(chat_state *st)
{
    slm_error err = {0};
    size_t dropped = 0;
    slm_status s = slm_conversation_fit(st->conv, reply_room(st), &dropped, &err);
    if (dropped)
        fprintf(stderr, "[slm] context full (%d positions): dropped the %zu oldest messages%s\n",
                st->n_ctx, dropped, st->n_system ? " (the system prompt is kept)" : "");
    if (s == SLM_OK)
        return true;
    fprintf(stderr, "slm chat: %s; message dropped\n", err.msg);
    slm_conversation_truncate(st->conv, slm_conversation_n_messages(st->conv) - 1);
    return false;
}

static void after_reply(const chat_state *st, const slm_generate_stats *stats,
                        const cli_stream *stream)
{
    fputc('\n', stdout);
    if (st->show_stats) {
        cli_stats_extra x = {.load_seconds = -1, .cached_prompt = true,
                             .sampling = st->sampling};
        cli_print_stats(stats, stream, &x);
    }
    fflush(stdout);
    if (stats->stop_reason == SLM_STOP_CONTEXT)
        fprintf(stderr, "[slm] context full (%d positions): the reply was cut; the oldest "
                        "turns are dropped before the next one\n", st->n_ctx);
}

/* --verbose-prompt: the conversation as this reply's prompt renders it (the
   engine renders the same again for the reply; only its uncached tail is
   evaluated). Nothing when it does not render: the reply says why. */
static void show_prompt(const chat_state *st)
{
    slm_tokens ids = {0};
    char *text = NULL;
    slm_error err = {0};
    if (slm_chat_render_tokens(st->model, slm_conversation_messages(st->conv),
                               slm_conversation_n_messages(st->conv), SLM_CHAT_TEMPLATE_REQUIRED,
                               &ids, &text, &err) == SLM_OK)
        cli_write_verbose_prompt(stderr, slm_model_tokenizer(st->model), text, &ids);
    free(text);
    slm_tokens_free(&ids);
}

/* One turn: the user's message in, the reply streamed out (Ctrl-C ends it
   early; what was streamed stays in the conversation). */
static slm_status chat_turn(chat_state *st, const char *text, slm_error *err)
{
    slm_generate_stats stats;
    cli_stream stream;
    slm_status s = slm_conversation_add(st->conv, "user", text, err);
    if (s != SLM_OK || !fit_context(st))
        return s;
    if (st->verbose_prompt)
        show_prompt(st);
    cli_interrupt_clear();
    cli_stream_start(&stream);
    st->params.user = &stream;
    s = slm_conversation_reply(st->conv, &st->params, &stats, err);
    if (s == SLM_OK)
        after_reply(st, &stats, &stream);
    cli_interrupt_clear();
    return s;
}

/* A message: one line, or several while each ends with a backslash (the
   backslash becomes a line break). *text is malloc'd. */
static cli_line_status read_message(chat_state *st, char **text)
{
    size_t n = 0, len;
    const char *line;
    cli_line_status r;
    *text = NULL;
    for (;;) {
        r = cli_line_input_read(st->in, n ? "... " : "> ", &line, &len);
        if (r != CLI_LINE_OK)
            break;
        bool more = len > 0 && line[len - 1] == '\\';
        char *t = realloc(*text, n + len + 2);
        if (!t) {
            fprintf(stderr, "slm chat: out of memory\n");
            r = CLI_LINE_ERROR;
            break;
        }
        *text = t;
        memcpy(t + n, line, len - more);
        n += len - more;
        t[n] = '\0';
        if (!more)
            return CLI_LINE_OK;
        t[n++] = '\n';
        t[n] = '\0';
    }
    free(*text);
    *text = NULL;
    return r;
}

/* /exit, /clear: true when `text` was one (*quit set for /exit). */
static bool chat_command(chat_state *st, const char *text, bool *quit)
{
    if (strcmp(text, "/exit") == 0) {
        *quit = true;
        return true;
    }
    if (strcmp(text, "/clear") == 0) {
        slm_conversation_truncate(st->conv, st->n_system);
        fprintf(stderr, "[slm] conversation cleared%s\n",
                st->n_system ? " (the system prompt is kept)" : "");
        return true;
    }
    return false;
}

/* The exit code when the input ends: Ctrl-D (a newline first, so the shell's
   prompt starts on its own line), a second Ctrl-C, or a read error. */
static int input_ended(const chat_state *st, cli_line_status r)
{
    bool tty = cli_line_input_is_tty(st->in);
    if (tty && r != CLI_LINE_ERROR)
        fputc('\n', stderr);
    return r == CLI_LINE_INTERRUPTED ? CLI_INTERRUPTED : r == CLI_LINE_EOF ? CLI_OK : CLI_FAIL;
}

static int chat_loop(chat_state *st)
{
    slm_error err = {0};
    for (;;) {
        char *text;
        cli_line_status r = read_message(st, &text);
        if (r != CLI_LINE_OK)
            return input_ended(st, r);
        cli_line_input_remember(st->in, text);
        bool quit = false, done = text[0] == '\0' || chat_command(st, text, &quit);
        slm_status s = done ? SLM_OK : chat_turn(st, text, &err);
        free(text);
        if (quit)
            return CLI_OK;
        if (s != SLM_OK)
            return cli_report(&err);
    }
}

/* ============================================================ slm chat */

static void chat_help(FILE *f)
{
    fprintf(f, "usage: slm chat [-m DIR] [--system TEXT] [options]\n"
               "Interactive chat in the model's chat template: one user message per line on\n"
               "stdin, each reply streamed to stdout. A line ending in \\ continues on the next\n"
               "one. /clear forgets the conversation (the system prompt stays), /exit ends.\n"
               "On a terminal: line editing and history; Ctrl-C stops a reply, Ctrl-C at the\n"
               "prompt exits (status 130), Ctrl-D exits (status 0). When the context is full\n"
               "the oldest turns are dropped (the system prompt stays), said on stderr.\n"
               "  -m, --model DIR      Hugging Face model folder with a chat_template\n"
               "  --system TEXT        a system message\n"
               "  -n, --n-predict N    at most N tokens per reply; -1 = until EOS or the\n"
               "                       context end (default 512)\n"
               "  -c, --ctx-size N     context positions (default: the model's maximum)\n"
               "  --ignore-eos         never end a reply at (or sample) the model's EOS tokens\n"
               "  --stats              after each reply, a line on stderr: prompt tokens cached\n"
               "                       vs evaluated, tokens generated, speed, time to first\n"
               "                       token, why it stopped, the seed\n"
               "  --verbose-prompt     before each reply, the conversation as rendered (the chat\n"
               "                       template's output) and its tokens, id -> 'piece', on\n"
               "                       stderr\n" CLI_STOP_HELP
                   CLI_LOAD_HELP CLI_SAMPLING_HELP CLI_PROFILE_HELP
               "                       (chat: over all replies, when the chat ends)\n");
}

typedef struct {
    const char *dir, *system;
    long n_predict, n_ctx;
    slm_load_options load;
    cli_sampling sampling;
    cli_stops stops;
    cli_profile profile;
    bool stats;
    bool ignore_eos;
    bool verbose_prompt;
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
            (!r && (r = cli_stop_option("chat", argc, argv, &i, false, &o->stops)) < 0) ||
            (!r && (r = cli_profile_option("chat", argc, argv, &i, &o->profile)) < 0))
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
                (strcmp(v, "-1") != 0 && !cli_int("chat", a, v, 1, 1 << 30, &o->n_predict)))
                return CLI_USAGE;
            if (!strcmp(v, "-1"))
                o->n_predict = INT_MAX; /* the context end stops it */
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!(v = cli_value("chat", argc, argv, &i)) ||
                !cli_int("chat", a, v, 0, 1 << 24, &o->n_ctx))
                return CLI_USAGE;
        } else if (!strcmp(a, "--stats")) {
            o->stats = true;
        } else if (!strcmp(a, "--ignore-eos")) {
            o->ignore_eos = true;
        } else if (!strcmp(a, "--verbose-prompt")) {
            o->verbose_prompt = true;
        } else {
            return cli_unknown("chat", a);
        }
    }
    return -1;
}

/* Loads the model, its session and the conversation (with the system
   message); false after reporting an error. */
static bool start_chat(chat_opts *o, slm_model **model, slm_session **session, chat_state *st)
{
    slm_error err = {0};
    if (slm_model_load(o->dir, &o->load, model, &err) != SLM_OK) {
        cli_report_model(o->dir, &err);
        return false;
    }
    cli_sampling_resolve(&o->sampling, *model);
    st->params.sampling = o->sampling.params;
    st->n_ctx = cli_context_size("chat", *model, o->n_ctx);
    if (slm_session_new(*model, st->n_ctx, session, &err) != SLM_OK ||
        slm_conversation_new(*session, SLM_CHAT_TEMPLATE_REQUIRED, &st->conv, &err) != SLM_OK ||
        (o->system && slm_conversation_add(st->conv, "system", o->system, &err) != SLM_OK)) {
        cli_report(&err);
        return false;
    }
    st->n_system = o->system ? 1 : 0;
    st->model = *model;
    return (st->in = cli_line_input_new("chat")) != NULL;
}

int cmd_chat(int argc, char **argv)
{
    chat_opts o = {.dir = cli_default_model_dir(),
                   .n_predict = 512,
                   .load = cli_load_defaults(),
                   .sampling = cli_sampling_init()};
    int rc = parse_chat(argc, argv, &o);
    if (rc >= 0)
        return rc;
    slm_model *model = NULL;
    slm_session *session = NULL;
    slm_profile *profile = NULL;
    chat_state st = {.params = {.max_new_tokens = (int)o.n_predict,
                                .on_token = cli_stream_token,
                                .stop = o.stops.items,
                                .n_stop = o.stops.n,
                                .ignore_eos = o.ignore_eos},
                     .sampling = &o.sampling,
                     .show_stats = o.stats,
                     .verbose_prompt = o.verbose_prompt};
    if (start_chat(&o, &model, &session, &st) && cli_profile_new("chat", &o.profile, &profile)) {
        slm_session_set_profile(session, profile);
        cli_interrupt_install();
        rc = chat_loop(&st);
        cli_interrupt_uninstall();
        /* what every reply of the chat spent, as llama-cli's timings at exit */
        if (!cli_profile_report("chat", &o.profile, profile, NULL))
            rc = rc == CLI_OK ? CLI_FAIL : rc;
    } else {
        rc = CLI_FAIL;
    }
    if (!cli_profile_close("chat", &o.profile) && rc == CLI_OK)
        rc = CLI_FAIL;
    cli_line_input_free(st.in);
    slm_conversation_free(st.conv);
    slm_session_free(session);
    slm_profile_free(profile);
    slm_model_free(model);
    return rc;
}
