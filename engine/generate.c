/*
 * generate.c — the generation loop: prefill the prompt in batches, then
 * sample one token at a time, stream its text through the callback, and
 * stop at an EOS id, the token budget, the context end, the callback or a
 * stop string.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "sampler.h"
#include "session.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Stop strings: streamed text is held here while it could still be the
   start of a stop string, so a stop that spans tokens or streamed pieces is
   never printed. Invariant: no stop string occurs in the text already
   emitted plus the held text, except at the moment a push finds one. */
typedef struct {
    const char *const *stop;
    size_t n_stop;
    char *buf; /* held text, not yet passed to on_token */
    size_t len, cap;
} stop_filter;

static slm_status check_stops(const slm_generate_params *p, slm_error *err)
{
    if (p->n_stop && !p->stop)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "stop: n_stop is %zu but the list is NULL",
                        p->n_stop);
    for (size_t i = 0; i < p->n_stop; i++)
        if (!p->stop[i] || !p->stop[i][0])
            return slm_fail(err, SLM_ERR_INVALID_ARG, "stop[%zu]: a stop string must not be %s",
                            i, p->stop[i] ? "empty" : "NULL");
    return SLM_OK;
}

/* Position of the earliest stop string in the held text, or SIZE_MAX. */
static size_t find_stop(const stop_filter *f)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < f->n_stop; i++) {
        size_t sl = strlen(f->stop[i]);
        for (size_t at = 0; at + sl <= f->len && at < best; at++)
            if (memcmp(f->buf + at, f->stop[i], sl) == 0) {
                best = at;
                break;
            }
    }
    return best;
}

/* Length of the longest tail of the held text that begins some stop string. */
static size_t ambiguous_tail(const stop_filter *f)
{
    for (size_t k = f->len; k > 0; k--)
        for (size_t i = 0; i < f->n_stop; i++)
            if (strlen(f->stop[i]) > k && memcmp(f->buf + f->len - k, f->stop[i], k) == 0)
                return k;
    return 0;
}

/* Appends text; *safe = how much of the held text may be passed on, *hit =
   a stop string starts right there (everything from *safe on is dropped). */
static slm_status stop_filter_push(stop_filter *f, const char *text, size_t len, size_t *safe,
                                   bool *hit, slm_error *err)
{
    if (f->len + len > f->cap) {
        size_t cap = f->cap ? f->cap : 64;
        while (cap < f->len + len)
            cap *= 2;
        char *buf = realloc(f->buf, cap);
        if (!buf)
            return slm_fail(err, SLM_ERR_NOMEM, "stop strings: out of memory holding %zu bytes",
                            f->len + len);
        f->buf = buf;
        f->cap = cap;
    }
    if (len)
        memcpy(f->buf + f->len, text, len);
    f->len += len;
    size_t at = find_stop(f);
    *hit = at != SIZE_MAX;
    *safe = *hit ? at : f->len - ambiguous_tail(f);
    return SLM_OK;
}

/* Forgets the first n held bytes (they were passed on). */
static void stop_filter_consume(stop_filter *f, size_t n)
{
    if (n == 0)
        return; /* also keeps a never-allocated buffer out of memmove */
    memmove(f->buf, f->buf + n, f->len - n);
    f->len -= n;
}

static slm_status emit(slm_stream_decoder *dec, stop_filter *f, const slm_generate_params *p,
                       int32_t id, bool *keep_going, bool *hit, slm_error *err)
{
    const char *text;
    size_t len, safe;
    SLM_TRY(slm_stream_decoder_push(dec, id, &text, &len, err));
    SLM_TRY(stop_filter_push(f, text, len, &safe, hit, err));
    /* the callback always gets a string, empty before anything was held */
    const char *out = f->buf ? f->buf : "";
    *keep_going = p->on_token ? p->on_token(p->user, id, out, safe) : true;
    stop_filter_consume(f, *hit ? f->len : safe);
    return SLM_OK;
}

static slm_status decode_loop(slm_session *s, const slm_generate_params *p, slm_sampler *smp,
                              slm_stream_decoder *dec, stop_filter *f, const float *logits,
                              slm_generate_stats *st, slm_error *err)
{
    for (;;) {
        if (st->n_generated >= p->max_new_tokens) {
            st->stop_reason = SLM_STOP_LENGTH;
            return SLM_OK;
        }
        /* the repetition penalty looks at every id in the cache (the prompt,
           earlier turns and what was generated), as HF does over input_ids */
        int32_t id = slm_sampler_sample(smp, logits, s->history.ids, s->history.n);
        st->n_generated++;
        if (slm_model_is_eos(s->model, id)) {
            st->stop_reason = SLM_STOP_EOS;
            return SLM_OK;
        }
        bool keep_going, hit;
        SLM_TRY(emit(dec, f, p, id, &keep_going, &hit, err));
        if (hit) {
            st->stop_reason = SLM_STOP_STRING;
            return SLM_OK;
        }
        if (!keep_going) {
            st->stop_reason = SLM_STOP_CALLBACK;
            return SLM_OK;
        }
        if (s->n_past >= s->n_ctx) {
            st->stop_reason = SLM_STOP_CONTEXT;
            return SLM_OK;
        }
        SLM_TRY(slm_session_eval(s, &id, 1, &logits, err));
    }
}

/* Prints what is still held: the stream decoder's unfinished UTF-8 tail and
   text that could have begun a stop string, cut before one if it does. */
static slm_status flush(slm_stream_decoder *dec, stop_filter *f, const slm_generate_params *p,
                        slm_generate_stats *st, slm_error *err)
{
    const char *text;
    size_t len = 0, safe;
    bool hit;
    if (st->stop_reason != SLM_STOP_STRING) {
        SLM_TRY(slm_stream_decoder_finish(dec, &text, &len, err));
        SLM_TRY(stop_filter_push(f, text, len, &safe, &hit, err));
        if (hit)
            st->stop_reason = SLM_STOP_STRING;
        else
            safe = f->len; /* nothing follows: an ambiguous tail is plain text */
        if (safe && p->on_token)
            p->on_token(p->user, -1, f->buf, safe);
    }
    return SLM_OK;
}

slm_status slm_generate(slm_session *s, const int32_t *prompt, size_t n_prompt,
                        const slm_generate_params *p, slm_generate_stats *stats, slm_error *err)
{
    slm_generate_stats st = {.n_prompt = (int)n_prompt};
    if (n_prompt == 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "empty prompt: at least one token is needed");
    SLM_TRY(check_stops(p, err));
    if (n_prompt >= (size_t)(s->n_ctx - s->n_past))
        return slm_fail(err, SLM_ERR_RANGE,
                        "prompt of %zu tokens does not fit the context of %d positions "
                        "(%d in use)", n_prompt, s->n_ctx, s->n_past);
    slm_sampler *smp = NULL;
    slm_stream_decoder *dec = NULL;
    stop_filter f = {.stop = p->stop, .n_stop = p->n_stop};
    slm_status rc = slm_sampler_new(&p->sampling, slm_model_vocab_size(s->model), &smp, err);
    if (rc == SLM_OK)
        rc = slm_stream_decoder_new(s->model->tok, true, &dec, err);
    for (size_t i = 0; rc == SLM_OK && p->continue_text && i < n_prompt; i++) {
        const char *ignored;
        size_t len;
        rc = slm_stream_decoder_push(dec, prompt[i], &ignored, &len, err);
    }
    const float *logits = NULL;
    double t0 = now_seconds();
    if (rc == SLM_OK)
        rc = slm_session_eval(s, prompt, n_prompt, &logits, err);
    double t1 = now_seconds();
    if (rc == SLM_OK)
        rc = decode_loop(s, p, smp, dec, &f, logits, &st, err);
    if (rc == SLM_OK)
        rc = flush(dec, &f, p, &st, err);
    st.prefill_seconds = t1 - t0;
    st.decode_seconds = now_seconds() - t1;
    if (stats)
        *stats = st;
    slm_sampler_free(smp);
    slm_stream_decoder_free(dec);
    free(f.buf);
    return rc;
}
