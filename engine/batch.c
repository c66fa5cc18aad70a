/*
 * batch.c — slm_batch: several sessions of one model evaluated in one forward
 * pass (see slm.h). The batch owns the scratch sized for its token budget;
 * each session keeps its own KV cache, positions, history and logits. The
 * ids are checked for every session before anything is evaluated, so a bad
 * request in a step leaves every session as it was.
 */
#include <stdlib.h>

#include "error.h"
#include "scratch.h"
#include "session.h"

#define DEFAULT_MAX_TOKENS 512

struct slm_batch {
    slm_model *model;
    slm_scratch sc;
    slm_seq_step *steps; /* [max_tokens]: at most one sequence per token */
};

slm_status slm_batch_new(slm_model *model, int max_tokens, slm_batch **out, slm_error *err)
{
    *out = NULL;
    if (!model->arch->forward)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s: %s is not a text-generation model (try slm classify)", model->dir,
                        model->arch->architecture);
    if (max_tokens == 0)
        max_tokens = DEFAULT_MAX_TOKENS;
    if (max_tokens < SLM_MAX_BATCH || max_tokens > (1 << 16))
        return slm_fail(err, SLM_ERR_INVALID_ARG,
                        "batch max_tokens %d: must be %d..65536 (a prompt chunk is up to %d)",
                        max_tokens, SLM_MAX_BATCH, SLM_MAX_BATCH);
    slm_batch *b = calloc(1, sizeof *b);
    if (!b)
        return slm_fail_nomem(err, "batch");
    b->model = model;
    slm_status st = slm_scratch_init(&b->sc, model, max_tokens, err);
    if (st == SLM_OK && !(b->steps = calloc((size_t)max_tokens, sizeof *b->steps)))
        st = slm_fail_nomem(err, "batch steps");
    if (st != SLM_OK) {
        slm_batch_free(b);
        return st;
    }
    *out = b;
    return SLM_OK;
}

void slm_batch_free(slm_batch *b)
{
    if (!b)
        return;
    slm_scratch_free(&b->sc);
    free(b->steps);
    free(b);
}

void slm_batch_set_threads(slm_batch *b, int n_threads, int n_threads_batch)
{
    if (n_threads > 0)
        b->sc.n_threads = n_threads;
    if (n_threads_batch > 0)
        b->sc.n_threads_batch = n_threads_batch;
}

int slm_batch_max_tokens(const slm_batch *b) { return b->sc.cap; }

void slm_batch_set_profile(slm_batch *b, slm_profile *profile) { b->sc.profile = profile; }

static slm_status check_step(const slm_batch *b, slm_session *const *sessions,
                             const int32_t *const *ids, const size_t *n_ids, size_t count,
                             slm_error *err)
{
    if (count == 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "batch step: no sessions");
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        slm_session *s = sessions[i];
        if (!s || s->model != b->model)
            return slm_fail(err, SLM_ERR_INVALID_ARG,
                            "batch step: session %zu is %s", i,
                            s ? "of another model than the batch's" : "NULL");
        for (size_t j = 0; j < i; j++)
            if (sessions[j] == s)
                return slm_fail(err, SLM_ERR_INVALID_ARG,
                                "batch step: session %zu appears twice (also at %zu)", i, j);
        if (n_ids[i] > SLM_MAX_BATCH)
            return slm_fail(err, SLM_ERR_RANGE,
                            "batch step: session %zu has %zu ids (at most %d per step)", i,
                            n_ids[i], SLM_MAX_BATCH);
        slm_error why = {0};
        slm_status st = slm_session_check_ids(s, ids[i], n_ids[i], &why);
        if (st != SLM_OK)
            return slm_fail(err, st, "batch step: session %zu: %s", i, why.msg);
        total += n_ids[i];
    }
    if (total > (size_t)b->sc.cap)
        return slm_fail(err, SLM_ERR_RANGE, "batch step: %zu ids in all, the batch holds %d",
                        total, b->sc.cap);
    return SLM_OK;
}

slm_status slm_batch_eval(slm_batch *b, slm_session *const *sessions, const int32_t *const *ids,
                          const size_t *n_ids, size_t count, slm_error *err)
{
    SLM_TRY(check_step(b, sessions, ids, n_ids, count, err));
    for (size_t i = 0; i < count; i++)
        SLM_TRY(slm_session_prepare_rope(sessions[i], n_ids[i], err));
    for (size_t i = 0; i < count; i++)
        b->steps[i] = (slm_seq_step){.s = sessions[i], .ids = ids[i], .n = (int)n_ids[i],
                                     .n_logits = 1, .logits = sessions[i]->logits};
    SLM_TRY(b->model->arch->forward(&b->sc, b->steps, (int)count, err));
    for (size_t i = 0; i < count; i++) {
        SLM_TRY(slm_session_advance(sessions[i], ids[i], (int)n_ids[i]));
        sessions[i]->has_logits = true;
    }
    return SLM_OK;
}
