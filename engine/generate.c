/*
 * generate.c — the generation loop: prefill the prompt in batches, then
 * sample one token at a time, stream its text through the callback, and
 * stop at an EOS id, the token budget, the context end or the callback.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
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

static slm_status emit(slm_stream_decoder *dec, const slm_generate_params *p, int32_t id,
                       bool *keep_going, slm_error *err)
{
    const char *text;
    size_t len;
    SLM_TRY(slm_stream_decoder_push(dec, id, &text, &len, err));
    *keep_going = p->on_token ? p->on_token(p->user, id, text, len) : true;
    return SLM_OK;
}

static slm_status decode_loop(slm_session *s, const slm_generate_params *p, slm_sampler *smp,
                              slm_stream_decoder *dec, const float *logits,
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
        bool keep_going;
        SLM_TRY(emit(dec, p, id, &keep_going, err));
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

/* Prints what the stream decoder still holds (an unfinished UTF-8 tail). */
static slm_status flush(slm_stream_decoder *dec, const slm_generate_params *p, slm_error *err)
{
    const char *text;
    size_t len;
    SLM_TRY(slm_stream_decoder_finish(dec, &text, &len, err));
    if (len && p->on_token)
        p->on_token(p->user, -1, text, len);
    return SLM_OK;
}

slm_status slm_generate(slm_session *s, const int32_t *prompt, size_t n_prompt,
                        const slm_generate_params *p, slm_generate_stats *stats, slm_error *err)
{
    slm_generate_stats st = {.n_prompt = (int)n_prompt};
    if (n_prompt == 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "empty prompt: at least one token is needed");
    SLM_TRY(slm_model_check_ids(s->model, prompt, n_prompt, err));
    if (n_prompt >= (size_t)(s->n_ctx - s->n_past))
        return slm_fail(err, SLM_ERR_RANGE,
                        "prompt of %zu tokens does not fit the context of %d positions "
                        "(%d in use)", n_prompt, s->n_ctx, s->n_past);
    slm_sampler *smp = NULL;
    slm_stream_decoder *dec = NULL;
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
        rc = decode_loop(s, p, smp, dec, logits, &st, err);
    if (rc == SLM_OK)
        rc = flush(dec, p, err);
    st.prefill_seconds = t1 - t0;
    st.decode_seconds = now_seconds() - t1;
    if (stats)
        *stats = st;
    slm_sampler_free(smp);
    slm_stream_decoder_free(dec);
    return rc;
}
