/*
 * perplexity.c — negative log-likelihood of a token sequence under the model,
 * the quantity behind `slm perplexity` (exp of the mean NLL).
 */
#include <math.h>
#include <stdlib.h>

#include "error.h"
#include "session.h"

/* log softmax(logits)[target], stably. */
static double log_prob(const float *logits, int vocab, int32_t target)
{
    float max = logits[0];
    for (int i = 1; i < vocab; i++)
        max = logits[i] > max ? logits[i] : max;
    double sum = 0.0;
    for (int i = 0; i < vocab; i++)
        sum += exp((double)logits[i] - max);
    return (double)logits[target] - max - log(sum);
}

slm_status slm_session_nll(slm_session *s, const int32_t *ids, size_t n, double *nll_sum,
                           size_t *n_scored, slm_error *err)
{
    int V = s->model->cfg.vocab_size;
    *nll_sum = 0.0;
    *n_scored = 0;
    if (n < 2)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "perplexity needs at least 2 tokens");
    /* every id, the last one too: it is only ever a target, an index into the
       logits, and never goes through slm_session_eval_all's own check */
    SLM_TRY(slm_model_check_ids(s->model, ids, n, err));
    float *logits = malloc((size_t)SLM_MAX_BATCH * V * sizeof *logits);
    if (!logits)
        return slm_fail_nomem(err, "logits");
    slm_session_reset(s);
    slm_status st = SLM_OK;
    /* position i's logits predict ids[i + 1]; the last id predicts nothing */
    for (size_t done = 0; st == SLM_OK && done < n - 1;) {
        size_t chunk = n - 1 - done < SLM_MAX_BATCH ? n - 1 - done : SLM_MAX_BATCH;
        st = slm_session_eval_all(s, ids + done, chunk, logits, err);
        for (size_t i = 0; st == SLM_OK && i < chunk; i++)
            *nll_sum -= log_prob(logits + i * V, V, ids[done + i + 1]);
        done += chunk;
    }
    if (st == SLM_OK)
        *n_scored = n - 1;
    free(logits);
    return st;
}
