/* sampling.c — sampling and stop-string options (see sampling.h). */
#define _DEFAULT_SOURCE /* getentropy */
#include "sampling.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

cli_sampling cli_sampling_init(void)
{
    return (cli_sampling){.params = slm_sampler_params_default()};
}

/* A seed nobody chose: the kernel's entropy, else the clock and pid mixed
   (a run must not fail for want of randomness). */
static uint64_t random_seed(void)
{
    uint64_t seed;
    if (getentropy(&seed, sizeof seed) == 0)
        return seed;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
           ((uint64_t)getpid() << 32);
}

static int seed_option(const char *verb, const char *a, const char *v, cli_sampling *s)
{
    if (strcmp(v, "-1") == 0) {
        s->seed_given = false;
        return 1;
    }
    if (!cli_u64(verb, a, v, &s->params.seed)) {
        fprintf(stderr, "slm %s: (--seed -1 picks a random seed)\n", verb);
        return -1;
    }
    s->seed_given = true;
    return 1;
}

int cli_sampling_option(const char *verb, int argc, char **argv, int *i, cli_sampling *s)
{
    const char *a = argv[*i], *v;
    slm_sampler_params *sp = &s->params;
    double d;
    long l;
    if (strcmp(a, "--temp") == 0) {
        if (!(v = cli_value(verb, argc, argv, i)) || !cli_float(verb, a, v, 0, 100, &d))
            return -1;
        sp->temperature = (float)d;
        s->user_set |= SLM_SAMPLING_TEMPERATURE;
    } else if (strcmp(a, "--top-k") == 0) {
        if (!(v = cli_value(verb, argc, argv, i)) || !cli_int(verb, a, v, 0, 1 << 30, &l))
            return -1;
        sp->top_k = (int)l;
        s->user_set |= SLM_SAMPLING_TOP_K;
    } else if (strcmp(a, "--top-p") == 0) {
        if (!(v = cli_value(verb, argc, argv, i)) || !cli_float(verb, a, v, 0, 1, &d))
            return -1;
        sp->top_p = (float)d;
        s->user_set |= SLM_SAMPLING_TOP_P;
    } else if (strcmp(a, "--min-p") == 0) {
        if (!(v = cli_value(verb, argc, argv, i)) || !cli_float(verb, a, v, 0, 1, &d))
            return -1;
        sp->min_p = (float)d;
    } else if (strcmp(a, "--repeat-penalty") == 0) {
        if (!(v = cli_value(verb, argc, argv, i)) || !cli_float(verb, a, v, 0.01, 100, &d))
            return -1;
        sp->repeat_penalty = (float)d;
        s->user_set |= SLM_SAMPLING_REPEAT_PENALTY;
    } else if (strcmp(a, "--repeat-last-n") == 0) {
        if (!(v = cli_value(verb, argc, argv, i)) || !cli_int(verb, a, v, -1, 1 << 30, &l))
            return -1;
        sp->repeat_last_n = (int)l;
    } else if (strcmp(a, "--seed") == 0) {
        if (!(v = cli_value(verb, argc, argv, i)))
            return -1;
        return seed_option(verb, a, v, s);
    } else {
        return 0;
    }
    return 1;
}

void cli_sampling_resolve(cli_sampling *s, const slm_model *model)
{
    /* the model's values go under the user's: apply them to a copy, then
       put back every field the user gave */
    slm_sampler_params merged = s->params;
    slm_model_sampling_defaults(model, &merged);
    const slm_sampler_params *u = &s->params;
    if (s->user_set & SLM_SAMPLING_TEMPERATURE)
        merged.temperature = u->temperature;
    if (s->user_set & SLM_SAMPLING_TOP_K)
        merged.top_k = u->top_k;
    if (s->user_set & SLM_SAMPLING_TOP_P)
        merged.top_p = u->top_p;
    if (s->user_set & SLM_SAMPLING_REPEAT_PENALTY)
        merged.repeat_penalty = u->repeat_penalty;
    if (!s->seed_given)
        merged.seed = random_seed();
    s->params = merged;
}

bool cli_sampling_is_random(const cli_sampling *s)
{
    return s->params.temperature > 0;
}

int cli_stop_option(const char *verb, int argc, char **argv, int *i, bool reverse_prompts,
                    cli_stops *stops)
{
    const char *a = argv[*i];
    bool reverse = reverse_prompts && (!strcmp(a, "-r") || !strcmp(a, "--reverse-prompt"));
    if (!reverse && strcmp(a, "--stop") != 0)
        return 0;
    const char *v = cli_value(verb, argc, argv, i);
    if (!v)
        return -1;
    if (!v[0]) {
        fprintf(stderr, "slm %s: %s needs a non-empty text\n", verb, a);
        return -1;
    }
    if (stops->n == CLI_MAX_STOP) {
        fprintf(stderr, "slm %s: at most %d --stop/-r texts\n", verb, CLI_MAX_STOP);
        return -1;
    }
    stops->printed[stops->n] = reverse;
    stops->items[stops->n++] = v;
    return 1;
}
