/*
 * classify.c — sequence classification: tokenize a batch of texts (with
 * their special tokens, the content truncated to the model's positions as
 * transformers' truncation=True does), run the architecture's classifier,
 * and turn logits into probabilities.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"
#include "model.h"
#include "profile.h"
#include "session.h"

int slm_model_n_labels(const slm_model *m) { return m->arch->classify ? m->cfg.n_labels : 0; }

const char *slm_model_label(const slm_model *m, int i)
{
    return i >= 0 && i < m->cfg.n_labels ? m->cfg.labels[i] : NULL;
}

static slm_status check_classifier(const slm_model *m, slm_error *err)
{
    if (!m->arch->classify)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s: %s is not a sequence classifier", m->dir,
                        m->arch->architecture);
    return SLM_OK;
}

/* slm_classify_ids without the phase's wall time (the caller adds it). */
static slm_status classify_ids(slm_model *m, const int32_t *ids, const int *lengths, int batch,
                               float *logits, slm_profile *pf, slm_error *err)
{
    SLM_TRY(check_classifier(m, err));
    size_t total = 0;
    for (int b = 0; b < batch; b++) {
        if (lengths[b] < 1 || lengths[b] > m->cfg.max_positions)
            return slm_fail(err, SLM_ERR_RANGE, "sequence %d has %d tokens (1..%d allowed)", b,
                            lengths[b], m->cfg.max_positions);
        total += (size_t)lengths[b];
    }
    SLM_TRY(slm_model_check_ids(m, ids, total, err));
    return m->arch->classify(m, ids, lengths, batch, logits, pf, err);
}

static uint64_t total_tokens(const int *lengths, int batch)
{
    uint64_t n = 0;
    for (int b = 0; b < batch; b++)
        n += lengths[b] > 0 ? (uint64_t)lengths[b] : 0;
    return n;
}

slm_status slm_classify_ids_profiled(slm_model *m, const int32_t *ids, const int *lengths,
                                     int batch, float *logits, slm_profile *pf, slm_error *err)
{
    if (pf)
        slm_profile_set_phase(pf, SLM_PROFILE_CLASSIFY);
    uint64_t t0 = slm_prof_start(pf);
    slm_status st = classify_ids(m, ids, lengths, batch, logits, pf, err);
    if (pf)
        slm_profile_add_phase(pf, SLM_PROFILE_CLASSIFY, (slm_profile_clock_ns() - t0) * 1e-9,
                              total_tokens(lengths, batch));
    return st;
}

slm_status slm_classify_ids(slm_model *m, const int32_t *ids, const int *lengths, int batch,
                            float *logits, slm_error *err)
{
    return classify_ids(m, ids, lengths, batch, logits, NULL, err);
}

size_t slm_classify_max_tokens(const slm_model *m)
{
    size_t max = (size_t)m->cfg.max_positions;
    size_t tok_max = slm_tokenizer_model_max_length(m->tok);
    return tok_max > 0 && tok_max < max ? tok_max : max;
}

slm_status slm_classify(slm_model *m, const char *const *texts, size_t n, float *probs,
                        float *logits, size_t *n_truncated, slm_error *err)
{
    return slm_classify_profiled(m, texts, n, probs, logits, n_truncated, NULL, err);
}

slm_status slm_classify_profiled(slm_model *m, const char *const *texts, size_t n, float *probs,
                                 float *logits, size_t *n_truncated, slm_profile *pf,
                                 slm_error *err)
{
    SLM_TRY(check_classifier(m, err));
    if (pf)
        slm_profile_set_phase(pf, SLM_PROFILE_CLASSIFY);
    uint64_t t_call = slm_prof_start(pf);
    int L = m->cfg.n_labels;
    slm_tokens all = {0}, one = {0};
    int *lengths = calloc(n ? n : 1, sizeof *lengths);
    float *raw = malloc((n ? n : 1) * (size_t)L * sizeof *raw);
    size_t truncated = 0;
    slm_status s = lengths && raw ? SLM_OK : slm_fail_nomem(err, "classify batch");
    for (size_t i = 0; s == SLM_OK && i < n; i++) {
        bool cut = false;
        one.n = 0;
        uint64_t t = slm_prof_start(pf);
        s = slm_tokenize_truncated(m->tok, texts[i], strlen(texts[i]), true, slm_classify_max_tokens(m), &one,
                                   &cut, err);
        slm_prof_lap(pf, SLM_PROF_TOKENIZER, t);
        truncated += cut;
        for (size_t j = 0; s == SLM_OK && j < one.n; j++)
            s = slm_tokens_push(&all, one.ids[j]);
        lengths[i] = (int)one.n;
    }
    if (s == SLM_OK && n > 0)
        s = classify_ids(m, all.ids, lengths, (int)n, raw, pf, err);
    for (size_t i = 0; s == SLM_OK && i < n; i++) {
        if (logits)
            memcpy(logits + i * L, raw + i * L, (size_t)L * sizeof *raw);
        memcpy(probs + i * L, raw + i * L, (size_t)L * sizeof *raw);
        slm_softmax(probs + i * L, L);
    }
    if (n_truncated)
        *n_truncated = truncated;
    if (pf) /* the call's wall time: tokenization, encoder, head, softmax */
        slm_profile_add_phase(pf, SLM_PROFILE_CLASSIFY, (slm_profile_clock_ns() - t_call) * 1e-9,
                              all.n);
    slm_tokens_free(&all);
    slm_tokens_free(&one);
    free(lengths);
    free(raw);
    return s;
}
