/*
 * run.c — `slm run`: generate from a prompt, streaming text to stdout and a
 * stats line to stderr.
 */
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
    bool no_special;
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
            "  --temp T             temperature; 0 = greedy (default 0.8)\n"
            "  --top-k K            keep the K most likely tokens; 0 = off (default 40)\n"
            "  --top-p P            nucleus sampling; 1 = off (default 0.95)\n"
            "  --min-p P            drop tokens below P x the top probability; 0 = off (default 0.05)\n"
            "  --repeat-penalty R   repetition penalty; 1 = off (default 1.0)\n"
            "  --repeat-last-n N    tokens the penalty looks back; -1 = all (default 64)\n"
            "  --seed S             random seed (default: from the clock)\n"
            "  -t, --threads N      threads (default: all cores)\n"
            "  --mmap / --no-mmap   map weights instead of reading them in (default: --no-mmap)\n"
            "  --no-special         do not add BOS/special tokens to the prompt\n");
}

/* Parses sampling options; returns 1 if argv[*i] was one, 0 if not, -1 on error. */
static int parse_sampling(int argc, char **argv, int *i, slm_sampler_params *sp)
{
    const char *a = argv[*i], *v;
    double d;
    long l;
    if (strcmp(a, "--temp") == 0) {
        if (!(v = cli_value("run", argc, argv, i)) || !cli_float("run", a, v, 0, 100, &d))
            return -1;
        sp->temperature = (float)d;
    } else if (strcmp(a, "--top-k") == 0) {
        if (!(v = cli_value("run", argc, argv, i)) || !cli_int("run", a, v, 0, 1 << 30, &l))
            return -1;
        sp->top_k = (int)l;
    } else if (strcmp(a, "--top-p") == 0) {
        if (!(v = cli_value("run", argc, argv, i)) || !cli_float("run", a, v, 0, 1, &d))
            return -1;
        sp->top_p = (float)d;
    } else if (strcmp(a, "--min-p") == 0) {
        if (!(v = cli_value("run", argc, argv, i)) || !cli_float("run", a, v, 0, 1, &d))
            return -1;
        sp->min_p = (float)d;
    } else if (strcmp(a, "--repeat-penalty") == 0) {
        if (!(v = cli_value("run", argc, argv, i)) || !cli_float("run", a, v, 0.01, 100, &d))
            return -1;
        sp->repeat_penalty = (float)d;
    } else if (strcmp(a, "--repeat-last-n") == 0) {
        if (!(v = cli_value("run", argc, argv, i)) || !cli_int("run", a, v, -1, 1 << 30, &l))
            return -1;
        sp->repeat_last_n = (int)l;
    } else if (strcmp(a, "--seed") == 0) {
        if (!(v = cli_value("run", argc, argv, i)) || !cli_u64("run", a, v, &sp->seed))
            return -1;
    } else {
        return 0;
    }
    return 1;
}

/* Returns -1 to continue, else an exit code. */
static int parse_run(int argc, char **argv, run_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long l;
        int r = parse_sampling(argc, argv, &i, &o->sampling);
        if (r < 0)
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
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_value("run", argc, argv, &i)) || !cli_int("run", a, v, 1, 1024, &l))
                return CLI_USAGE;
            o->load.n_threads = (int)l;
        } else if (!strcmp(a, "--mmap")) {
            o->load.use_mmap = true;
        } else if (!strcmp(a, "--no-mmap")) {
            o->load.use_mmap = false;
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
    if (slm_tokenize(slm_model_tokenizer(model), o->prompt, strlen(o->prompt), !o->no_special,
                     &prompt, &err) != SLM_OK ||
        slm_session_new(model, (int)o->n_ctx, &session, &err) != SLM_OK)
        goto done;
    slm_generate_params gp = {.max_new_tokens = (int)o->n_predict,
                              .sampling = o->sampling,
                              .on_token = print_token};
    slm_generate_stats st;
    if (slm_generate(session, prompt.ids, prompt.n, &gp, &st, &err) != SLM_OK)
        goto done;
    fputc('\n', stdout);
    print_stats(&st, load_s);
    rc = CLI_OK;
done:
    if (rc != CLI_OK)
        cli_report(&err);
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
                  .load = slm_load_options_default()};
    o.sampling.seed = (uint64_t)time(NULL);
    int rc = parse_run(argc, argv, &o);
    return rc >= 0 ? rc : generate(&o);
}
