/*
 * run.c — `slm run`: generate from a prompt, streaming text to stdout and a
 * stats line to stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "gen_output.h"
#include "interrupt.h"
#include "probs_output.h"
#include "profile_output.h"
#include "prompt_input.h"
#include "token_piece.h"

typedef struct {
    const char *model_dir;
    const char *prompt;      /* -p TEXT; "-" = stdin */
    const char *prompt_file; /* -f FILE */
    long n_predict;          /* -1 = until EOS or the context end */
    long n_ctx;
    cli_sampling sampling;
    slm_load_options load;
    cli_stops stops;
    bool no_special;
    bool chat;
    bool no_display_prompt;
    bool ignore_eos;
    cli_profile profile; /* --profile, --profile-json */
    bool verbose_prompt;
    long n_probs;             /* 0 = off */
    const char *n_probs_json; /* --n-probs-json FILE */
    const char *system;
} run_opts;

static void run_help(FILE *f)
{
    fprintf(f,
            "usage: slm run [-m DIR] [-p PROMPT | -f FILE] [-n N] [options]\n"
            "Generates text from PROMPT (default: empty, i.e. BOS only) and streams it to stdout;\n"
            "then a stats line on stderr: prompt and generation speed, ms per token, time to\n"
            "first token, why generation stopped (eos, length, stop string, context full,\n"
            "interrupted) and the seed when sampling. Ctrl-C stops generation (status 130).\n"
            "\n"
            "  -m, --model DIR      Hugging Face model folder (default: the bundled model)\n"
            "  -p, --prompt TEXT    prompt text; - reads it from stdin\n"
            "  -f, --file FILE      read the prompt from FILE (one trailing newline dropped)\n"
            "  -n, --n-predict N    tokens to generate; -1 = until EOS or the context end\n"
            "                       (default 256)\n"
            "  -c, --ctx-size N     context positions (default: the model's maximum)\n"
            "  --ignore-eos         never stop at (or sample) the model's EOS tokens\n"
            CLI_SAMPLING_HELP
            CLI_STOP_HELP
            CLI_REVERSE_PROMPT_HELP
            CLI_LOAD_HELP
            CLI_PROFILE_HELP
            "  --no-special         do not add BOS/special tokens to the prompt\n"
            "  --no-display-prompt  print only the generated text (the prompt is echoed by default)\n"
            "  --chat               wrap the prompt in the model's chat template (a user turn);\n"
            "                       only the reply is printed\n"
            "  --system TEXT        with --chat: a system message first\n"
            "  --verbose-prompt     print the prompt as rendered (after the chat template)\n"
            "                       and its tokens, id -> 'piece', on stderr first\n"
            "  --n-probs K          show the K most probable next tokens at every step, on\n"
            "                       stderr after the text: \"step S: id 'piece' p\" (the token\n"
            "                       chosen), then K lines \"id 'piece' p\"; K above the\n"
            "                       vocabulary size shows all of it; 0 = off (default).\n"
            "                       p is the model's own distribution: softmax of the logits\n"
            "                       at temperature 1, before --repeat-penalty, --ignore-eos\n"
            "                       and top-k/top-p/min-p (transformers' output_logits)\n"
            "  --n-probs-json FILE  with --n-probs: write them to FILE instead, JSON Lines,\n"
            "                       one {\"step\", \"token\", \"top\"} object per step\n");
}

static bool parse_n_predict(const char *a, const char *v, long *out)
{
    if (strcmp(v, "-1") == 0) {
        *out = -1;
        return true;
    }
    return cli_int("run", a, v, 0, 1 << 30, out);
}

/* The options that are not sampling, stop or load ones. Returns 1 when
   argv[*i] was one, 0 when unknown, -1 after a usage error. */
static int run_option(int argc, char **argv, int *i, run_opts *o)
{
    const char *a = argv[*i], *v;
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
        return (o->model_dir = cli_value("run", argc, argv, i)) ? 1 : -1;
    } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
        return (o->prompt = cli_value("run", argc, argv, i)) ? 1 : -1;
    } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
        return (o->prompt_file = cli_value("run", argc, argv, i)) ? 1 : -1;
    } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
        return (v = cli_value("run", argc, argv, i)) && parse_n_predict(a, v, &o->n_predict)
                   ? 1 : -1;
    } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
        return (v = cli_value("run", argc, argv, i)) && cli_int("run", a, v, 0, 1 << 24, &o->n_ctx)
                   ? 1 : -1;
    } else if (!strcmp(a, "--system")) {
        return (o->system = cli_value("run", argc, argv, i)) ? 1 : -1;
    } else if (!strcmp(a, "--n-probs")) {
        return (v = cli_value("run", argc, argv, i)) && cli_int("run", a, v, 0, INT_MAX,
                                                                 &o->n_probs)
                   ? 1 : -1;
    } else if (!strcmp(a, "--n-probs-json")) {
        return (o->n_probs_json = cli_value("run", argc, argv, i)) ? 1 : -1;
    }
    bool *flag = !strcmp(a, "--no-display-prompt") ? &o->no_display_prompt
                 : !strcmp(a, "--chat")            ? &o->chat
                 : !strcmp(a, "--no-special")      ? &o->no_special
                 : !strcmp(a, "--ignore-eos")      ? &o->ignore_eos
                 : !strcmp(a, "--verbose-prompt")  ? &o->verbose_prompt
                                                   : NULL;
    if (flag)
        *flag = true;
    return flag ? 1 : 0;
}

/* Options that only make sense together. */
static int check_run(const run_opts *o)
{
    if (o->system && !o->chat) {
        fprintf(stderr, "slm run: --system needs --chat (the system message is a turn of the "
                        "chat template)\n");
        return CLI_USAGE;
    }
    if (o->n_probs_json && o->n_probs == 0) {
        fprintf(stderr, "slm run: --n-probs-json needs --n-probs K (how many tokens per step)\n");
        return CLI_USAGE;
    }
    if (o->prompt_file && o->prompt) {
        fprintf(stderr, "slm run: give the prompt with -p or -f, not both\n");
        return CLI_USAGE;
    }
    return -1;
}

/* Returns -1 to continue, else an exit code. */
static int parse_run(int argc, char **argv, run_opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            run_help(stdout);
            return CLI_OK;
        }
        int r = cli_sampling_option("run", argc, argv, &i, &o->sampling);
        if (!r)
            r = cli_load_option("run", argc, argv, &i, &o->load);
        if (!r)
            r = cli_stop_option("run", argc, argv, &i, true, &o->stops);
        if (!r)
            r = cli_profile_option("run", argc, argv, &i, &o->profile);
        if (!r)
            r = run_option(argc, argv, &i, o);
        if (r < 0)
            return CLI_USAGE;
        if (r == 0)
            return cli_unknown("run", argv[i]);
    }
    return check_run(o);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* --profile: the prompt's tokenization (with --chat, its render too) since
   t0, as the tokenize phase. True, so it can sit in a chain of steps. */
static bool profile_tokenize(slm_profile *pf, const struct timespec *t0, size_t n)
{
    if (pf) {
        double secs = seconds_since(t0);
        slm_profile_add(pf, SLM_PROFILE_TOKENIZE, SLM_PROF_TOKENIZER, secs);
        slm_profile_add_phase(pf, SLM_PROFILE_TOKENIZE, secs, n);
    }
    return true;
}

/* The prompt's ids: plain text, or a one-turn conversation in the model's
   chat template (rendered by the engine; a model without one is an error).
   *rendered: what was tokenized, the template's output with --chat (then
   malloc'd), else text itself. */
static slm_status prompt_tokens(const run_opts *o, const char *text, const slm_model *m,
                                slm_tokens *out, char **rendered, slm_error *err)
{
    *rendered = NULL;
    if (!o->chat)
        return slm_tokenize(slm_model_tokenizer(m), text, strlen(text), !o->no_special, out,
                            err);
    slm_chat_message msgs[2];
    size_t n = 0;
    if (o->system)
        msgs[n++] = (slm_chat_message){"system", o->system};
    msgs[n++] = (slm_chat_message){"user", text};
    return slm_chat_render_tokens(m, msgs, n, SLM_CHAT_TEMPLATE_REQUIRED, out, rendered, err);
}

/* The prompt text: -p TEXT, -p - (stdin) or -f FILE; malloc'd, NULL after
   printing why. */
static char *prompt_text(const run_opts *o)
{
    size_t len;
    const char *path = o->prompt_file ? o->prompt_file
                       : o->prompt && !strcmp(o->prompt, "-") ? "-" : NULL;
    if (path)
        return cli_read_text("run", path, &len);
    char *t = strdup(o->prompt ? o->prompt : "");
    if (!t)
        fprintf(stderr, "slm run: out of memory\n");
    return t;
}

/* What the callbacks of one run write to: the streamed text and, with
   --n-probs, the per-step probabilities. */
typedef struct {
    cli_stream stream;
    cli_probs_out probs;
} run_output;

static bool run_token(void *user, int32_t id, const char *text, size_t len)
{
    return cli_stream_token(&((run_output *)user)->stream, id, text, len);
}

static void run_probs(void *user, const slm_step_probs *sp)
{
    cli_probs_write(&((run_output *)user)->probs, sp);
}

/* Generates and prints; the --n-probs table (or file) and the stats line
   follow the text. *interrupted: Ctrl-C ended it. Returns CLI_OK, or
   CLI_FAIL with the engine's error in *err, or after printing why the
   --n-probs output failed (err left empty). */
static int stream(const run_opts *o, slm_session *session, const slm_tokenizer *tok,
                  const char *text, const slm_tokens *prompt, double load_s, bool *interrupted,
                  slm_error *err)
{
    /* like llama.cpp, the prompt is shown and the generation continues it */
    bool echo = !o->chat && !o->no_display_prompt;
    run_output out;
    slm_generate_params gp = {.max_new_tokens = o->n_predict < 0 ? INT_MAX : (int)o->n_predict,
                              .sampling = o->sampling.params,
                              .on_token = run_token,
                              .user = &out,
                              .continue_text = echo,
                              .stop = o->stops.items,
                              .n_stop = o->stops.n,
                              .ignore_eos = o->ignore_eos,
                              .n_probs = (int)o->n_probs,
                              .on_probs = o->n_probs > 0 ? run_probs : NULL};
    if (o->n_probs > 0 && !cli_probs_open(&out.probs, "run", tok, o->n_probs_json))
        return CLI_FAIL;
    if (echo)
        fputs(text, stdout);
    slm_generate_stats st;
    cli_stream_start(&out.stream);
    if (slm_generate(session, prompt->ids, prompt->n, &gp, &st, err) != SLM_OK) {
        cli_probs_close(&out.probs);
        return CLI_FAIL;
    }
    /* a reverse prompt ends the text and is shown, as llama-cli does */
    if (st.stop_reason == SLM_STOP_STRING && o->stops.printed[st.stop_index])
        fputs(o->stops.items[st.stop_index], stdout);
    fputc('\n', stdout);
    bool probs_ok = o->n_probs == 0 || cli_probs_finish(&out.probs, "run");
    cli_stats_extra x = {.load_seconds = load_s, .sampling = &o->sampling};
    cli_print_stats(&st, &out.stream, &x);
    *interrupted = out.stream.interrupted;
    return probs_ok ? CLI_OK : CLI_FAIL;
}

/* --n-probs above the vocabulary size shows the whole vocabulary (the
   engine clamps); said once, so a typo is not silently taken. */
static void note_n_probs(const run_opts *o, const slm_model *m)
{
    if (o->n_probs > slm_model_vocab_size(m))
        fprintf(stderr, "slm run: --n-probs %ld is more than the vocabulary's %d tokens; "
                        "showing all of them\n", o->n_probs, slm_model_vocab_size(m));
}

static int generate(run_opts *o)
{
    slm_error err = {0};
    slm_model *model = NULL;
    slm_session *session = NULL;
    slm_tokens prompt = {0};
    slm_profile *profile = NULL;
    char *rendered = NULL; /* --chat: the template's output */
    char *text = prompt_text(o);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!text)
        return CLI_FAIL;
    if (!cli_profile_new("run", &o->profile, &profile)) {
        free(text);
        return CLI_FAIL;
    }
    int rc = CLI_FAIL;
    if (slm_model_load(o->model_dir, &o->load, &model, &err) != SLM_OK)
        goto done;
    double load_s = seconds_since(&t0);
    cli_sampling_resolve(&o->sampling, model);
    struct timespec t_tok;
    clock_gettime(CLOCK_MONOTONIC, &t_tok);
    if (prompt_tokens(o, text, model, &prompt, &rendered, &err) != SLM_OK ||
        !profile_tokenize(profile, &t_tok, prompt.n) ||
        slm_session_new(model, cli_context_size("run", model, o->n_ctx), &session, &err) != SLM_OK)
        goto done;
    slm_session_set_profile(session, profile);
    const slm_tokenizer *tok = slm_model_tokenizer(model);
    if (o->verbose_prompt)
        cli_write_verbose_prompt(stderr, tok, rendered ? rendered : text, &prompt);
    note_n_probs(o, model);
    bool interrupted = false;
    cli_interrupt_install();
    rc = stream(o, session, tok, text, &prompt, load_s, &interrupted, &err);
    cli_interrupt_uninstall();
    if (rc == CLI_OK && interrupted)
        rc = CLI_INTERRUPTED;
done:
    /* an engine error is in err; the CLI's own were printed already */
    if (rc == CLI_FAIL && err.msg[0])
        cli_report_model(o->model_dir, &err);
    /* the table follows the stats line, also after Ctrl-C */
    if ((rc == CLI_OK || rc == CLI_INTERRUPTED) &&
        !cli_profile_report("run", &o->profile, profile, NULL))
        rc = CLI_FAIL;
    if (!cli_profile_close("run", &o->profile))
        rc = CLI_FAIL;
    free(text);
    free(rendered);
    slm_tokens_free(&prompt);
    slm_session_free(session);
    slm_profile_free(profile);
    slm_model_free(model);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_opts o = {.model_dir = cli_default_model_dir(),
                  .n_predict = 256,
                  .sampling = cli_sampling_init(),
                  .load = cli_load_defaults()};
    int rc = parse_run(argc, argv, &o);
    return rc >= 0 ? rc : generate(&o);
}
