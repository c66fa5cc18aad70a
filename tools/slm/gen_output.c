/* gen_output.c — streaming to stdout and the stats line (see gen_output.h). */
#define _POSIX_C_SOURCE 200809L
#include "gen_output.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "interrupt.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cli_stream_start(cli_stream *s)
{
    *s = (cli_stream){.t_start = now_seconds()};
}

bool cli_stream_token(void *user, int32_t id, const char *text, size_t len)
{
    cli_stream *s = user;
    /* id -1 is the held-back tail after generation ended, not a token */
    if (id >= 0 && s->t_first == 0)
        s->t_first = now_seconds();
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    if (cli_interrupted())
        s->interrupted = true;
    return !s->interrupted;
}

int cli_generated_tokens(const slm_generate_stats *st)
{
    return st->n_generated - (st->stop_reason == SLM_STOP_EOS && st->n_generated > 0);
}

const char *cli_stop_reason_name(const slm_generate_stats *st, const cli_stream *s)
{
    switch (st->stop_reason) {
    case SLM_STOP_EOS:
        return "eos";
    case SLM_STOP_LENGTH:
        return "length (-n)";
    case SLM_STOP_STRING:
        return "stop string";
    case SLM_STOP_CONTEXT:
        return "context full";
    case SLM_STOP_CALLBACK:
        return s && s->interrupted ? "interrupted" : "stopped";
    }
    return "unknown";
}

static double per_second(double n, double seconds) { return seconds > 0 ? n / seconds : 0.0; }

static void print_prompt_part(const slm_generate_stats *st, const cli_stats_extra *x)
{
    int fresh = st->n_prompt - st->n_prompt_cached;
    if (x->cached_prompt)
        fprintf(stderr, "[slm] prompt %d tokens: %d cached, %d new prompt tokens evaluated, "
                        "%.1f tok/s",
                st->n_prompt, st->n_prompt_cached, fresh, per_second(fresh, st->prefill_seconds));
    else
        fprintf(stderr, "[slm] prompt %d tokens, %.1f tok/s", st->n_prompt,
                per_second(fresh, st->prefill_seconds));
}

void cli_print_stats(const slm_generate_stats *st, const cli_stream *s,
                     const cli_stats_extra *x)
{
    /* the text is complete on the terminal before the line that follows it */
    fflush(stdout);
    int n = cli_generated_tokens(st);
    print_prompt_part(st, x);
    fprintf(stderr, " | generated %d tokens, %.1f tok/s", n, per_second(n, st->decode_seconds));
    if (n > 0 && st->decode_seconds > 0)
        fprintf(stderr, ", %.2f ms/token", 1e3 * st->decode_seconds / n);
    /* time to first token: from the call to the first token streamed; a
       reply that is only an EOS never streams one, so it is the prompt's time */
    double ttft = s && s->t_first > 0 ? s->t_first - s->t_start : st->prefill_seconds;
    fprintf(stderr, " | first token %.1f ms", 1e3 * ttft);
    if (x->load_seconds >= 0)
        fprintf(stderr, " | load %.3f s", x->load_seconds);
    fprintf(stderr, " | stop: %s", cli_stop_reason_name(st, s));
    if (x->sampling && cli_sampling_is_random(x->sampling))
        fprintf(stderr, " | seed %" PRIu64, x->sampling->params.seed);
    fputc('\n', stderr);
}
