/*
 * chat.c — `slm chat`: interactive multi-turn chat with the model's own chat
 * template (tokenizer_config.json), streaming each reply. Each turn re-renders
 * the whole conversation, as transformers' apply_chat_template does, and only
 * the tokens after the longest prefix already in the KV cache are evaluated.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat.h"

/* ============================================================ shared with run --chat */

slm_status chat_render_tokens(const slm_model *m, const slm_chat_template *t,
                              const slm_chat_message *msgs, size_t n, slm_tokens *out,
                              slm_error *err)
{
    char *text = NULL;
    slm_status s = slm_chat_template_apply(t, msgs, n, true, &text, err);
    /* the template writes every special token itself: tokenize like
       apply_chat_template(tokenize=True), i.e. add_special_tokens=False */
    out->n = 0;
    if (s == SLM_OK)
        s = slm_tokenize(slm_model_tokenizer(m), text, strlen(text), false, out, err);
    free(text);
    return s;
}

/* ============================================================ the chat loop */

typedef struct {
    slm_chat_message *items;
    size_t n, cap;
} conversation;

static bool conv_add(conversation *c, const char *role, const char *content)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        slm_chat_message *items = realloc(c->items, cap * sizeof *items);
        if (!items)
            return false;
        c->items = items;
        c->cap = cap;
    }
    char *r = strdup(role), *t = strdup(content);
    if (!r || !t) {
        free(r);
        free(t);
        return false;
    }
    c->items[c->n++] = (slm_chat_message){r, t};
    return true;
}

static void conv_free(conversation *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->items[i].role);
        free((char *)c->items[i].content);
    }
    free(c->items);
}

/* Collects the reply while streaming it to stdout. */
typedef struct {
    char *text;
    size_t len, cap;
} reply_buf;

static bool on_reply_token(void *user, int32_t id, const char *text, size_t len)
{
    reply_buf *r = user;
    (void)id;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    if (r->len + len + 1 > r->cap) {
        size_t cap = (r->len + len + 1) * 2;
        char *t = realloc(r->text, cap);
        if (!t)
            return false;
        r->text = t;
        r->cap = cap;
    }
    memcpy(r->text + r->len, text, len);
    r->len += len;
    r->text[r->len] = '\0';
    return true;
}

/* Number of leading ids shared by a and b. */
static size_t common_prefix(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i])
        i++;
    return i;
}

/* One turn: render, reuse the cached prefix, generate, remember the reply. */
static slm_status chat_turn(chat_state *st, conversation *conv, slm_error *err)
{
    slm_tokens prompt = {0};
    reply_buf reply = {0};
    slm_status s = chat_render_tokens(st->model, st->tmpl, conv->items, conv->n, &prompt, err);
    size_t keep = 0;
    if (s == SLM_OK) {
        keep = common_prefix(st->cached.ids, st->cached.n, prompt.ids, prompt.n);
        if (keep == prompt.n && keep > 0) /* at least one token must be evaluated */
            keep--;
        s = slm_session_truncate(st->session, (int)keep, err);
    }
    slm_generate_params gp = st->params;
    gp.on_token = on_reply_token;
    gp.user = &reply;
    slm_generate_stats stats;
    if (s == SLM_OK)
        s = slm_generate(st->session, prompt.ids + keep, prompt.n - keep, &gp, &stats, err);
    /* the cache now holds the prompt and the reply's tokens; the next render
       will share at least the prompt part */
    st->cached.n = 0;
    for (size_t i = 0; s == SLM_OK && i < prompt.n; i++)
        s = slm_tokens_push(&st->cached, prompt.ids[i]);
    if (s == SLM_OK && !conv_add(conv, "assistant", reply.text ? reply.text : "")) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        s = err->status = SLM_ERR_NOMEM;
    }
    if (s == SLM_OK && st->show_stats)
        fprintf(stderr, "\n[slm] %d new prompt tokens, %d generated, %.1f tok/s\n",
                stats.n_prompt, stats.n_generated,
                stats.decode_seconds > 0 ? stats.n_generated / stats.decode_seconds : 0.0);
    fputc('\n', stdout);
    free(reply.text);
    slm_tokens_free(&prompt);
    return s;
}

int chat_loop(chat_state *st, const char *system)
{
    conversation conv = {0};
    slm_error err = {0};
    int rc = CLI_OK;
    bool tty = isatty(STDIN_FILENO);
    if (system && !conv_add(&conv, "system", system))
        rc = CLI_FAIL;
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
        if (!conv_add(&conv, "user", line))
            rc = CLI_FAIL;
        else if (chat_turn(st, &conv, &err) != SLM_OK)
            rc = cli_report(&err);
    }
    free(line);
    conv_free(&conv);
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
               "  --stats              a stats line on stderr after each reply\n" CLI_LOAD_HELP
                   CLI_SAMPLING_HELP);
}

typedef struct {
    const char *dir, *system;
    long n_predict, n_ctx;
    slm_load_options load;
    slm_sampler_params sampling;
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
        if ((r = cli_load_option("chat", argc, argv, &i, &o->load)) < 0)
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
    slm_chat_template *tmpl = NULL;
    chat_state st = {.params = {.max_new_tokens = (int)o.n_predict, .sampling = o.sampling},
                     .show_stats = o.stats};
    if (slm_model_load(o.dir, &o.load, &st.model, &err) != SLM_OK ||
        slm_chat_template_load(o.dir, &tmpl, &err) != SLM_OK ||
        slm_session_new(st.model, cli_context_size("chat", st.model, o.n_ctx), &st.session,
                        &err) != SLM_OK) {
        rc = cli_report(&err);
    } else {
        st.tmpl = tmpl;
        rc = chat_loop(&st, o.system);
    }
    slm_tokens_free(&st.cached);
    slm_session_free(st.session);
    slm_chat_template_free(tmpl);
    slm_model_free(st.model);
    return rc;
}
