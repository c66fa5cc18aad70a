/*
 * distilbert.c — DistilBertForSequenceClassification (e.g. SST-2 sentiment).
 *
 *   x = LayerNorm(word_emb[ids] + pos_emb[0..T))
 *   per layer (post-LN):  x = LN_sa(x + Wo·attn(Wq·x, Wk·x, Wv·x))
 *                         x = LN_out(x + W2·gelu(W1·x))
 *   logits = classifier(relu(pre_classifier(x[CLS])))
 * Every linear layer has a bias. Sequences of a batch are packed back to
 * back (no padding rows), so each attends exactly to its own tokens — the
 * same result as transformers' padded batch with an attention mask.
 * Fused passes: W1's bias and GELU run inside its product (per thread slice),
 * Wo's and W2's biases inside the residual LayerNorm; attention is two
 * sgemms per head and sequence (slm_attention_encoder).
 * Shapes: D dim, F hidden_dim, V vocab, P max positions, L labels.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"
#include "model.h"
#include "profile.h"

typedef struct {
    slm_weight w;     /* [rows, cols]; for LayerNorms only w_vec is used */
    const float *w_vec;
    const float *b;
} linear;

typedef struct {
    linear q, k, v, o;         /* [D, D] + [D] each */
    linear sa_norm;            /* [D] + [D] */
    linear ffn1;               /* [F, D] + [F] */
    linear ffn2;               /* [D, F] + [D] */
    linear out_norm;           /* [D] + [D] */
} bert_layer;

typedef struct {
    const float *word_emb;     /* [V, D] */
    const float *pos_emb;      /* [P, D] */
    linear emb_norm;           /* [D] + [D] */
    bert_layer *layers;
    linear pre_classifier;     /* [D, D] + [D] */
    linear classifier;         /* [L, D] + [L] */
} distilbert_weights;

/* ============================================================ loading */

/* Loads prefix.weight [rows, cols] (a matrix) or [rows] (cols 0: a LayerNorm
   scale) and prefix.bias [rows]. */
static slm_status load_linear(slm_model *m, const char *prefix, int64_t rows, int64_t cols,
                              linear *out, slm_error *err)
{
    char name[192];
    int64_t vec[1] = {rows};
    snprintf(name, sizeof name, "%s.weight", prefix);
    if (cols)
        SLM_TRY(slm_model_matrix(m, name, rows, cols, false, &out->w, err));
    else
        SLM_TRY(slm_model_weight_f32(m, name, vec, 1, &out->w_vec, err));
    snprintf(name, sizeof name, "%s.bias", prefix);
    return slm_model_weight_f32(m, name, vec, 1, &out->b, err);
}

static slm_status load_layer(slm_model *m, int l, bert_layer *L, slm_error *err)
{
    int64_t D = m->cfg.hidden_size, F = m->cfg.intermediate_size;
    struct {
        const char *suffix;
        linear *dst;
        int64_t rows, cols;
    } spec[] = {
        {"attention.q_lin", &L->q, D, D},       {"attention.k_lin", &L->k, D, D},
        {"attention.v_lin", &L->v, D, D},       {"attention.out_lin", &L->o, D, D},
        {"sa_layer_norm", &L->sa_norm, D, 0},   {"ffn.lin1", &L->ffn1, F, D},
        {"ffn.lin2", &L->ffn2, D, F},           {"output_layer_norm", &L->out_norm, D, 0},
    };
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "distilbert.transformer.layer.%d.%s", l, spec[i].suffix);
        SLM_TRY(load_linear(m, prefix, spec[i].rows, spec[i].cols, spec[i].dst, err));
    }
    return SLM_OK;
}

static slm_status check_config(const slm_model *m, slm_error *err)
{
    const slm_config *c = &m->cfg;
    if (strcmp(c->hidden_act, "gelu") != 0)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s/config.json: activation '%s' is not supported (gelu)", m->dir,
                        c->hidden_act);
    if (c->n_labels < 1)
        return slm_fail(err, SLM_ERR_FORMAT, "%s/config.json: a classifier needs id2label",
                        m->dir);
    return SLM_OK;
}

static slm_status distilbert_load(slm_model *m, slm_error *err)
{
    SLM_TRY(check_config(m, err));
    const slm_config *c = &m->cfg;
    distilbert_weights *w = calloc(1, sizeof *w);
    if (!w || !(w->layers = calloc((size_t)c->n_layers, sizeof *w->layers))) {
        free(w);
        return slm_fail_nomem(err, "distilbert weights");
    }
    m->weights = w;
    int64_t D = c->hidden_size;
    int64_t wshape[2] = {c->vocab_size, D}, pshape[2] = {c->max_positions, D};
    /* embeddings are looked up row by row: keep them f32 whatever --weights says */
    SLM_TRY(slm_model_weight_f32(m, "distilbert.embeddings.word_embeddings.weight", wshape, 2,
                                 &w->word_emb, err));
    SLM_TRY(slm_model_weight_f32(m, "distilbert.embeddings.position_embeddings.weight", pshape, 2,
                                 &w->pos_emb, err));
    SLM_TRY(load_linear(m, "distilbert.embeddings.LayerNorm", D, 0, &w->emb_norm, err));
    for (int l = 0; l < c->n_layers; l++)
        SLM_TRY(load_layer(m, l, &w->layers[l], err));
    SLM_TRY(load_linear(m, "pre_classifier", D, D, &w->pre_classifier, err));
    return load_linear(m, "classifier", c->n_labels, D, &w->classifier, err);
}

static void distilbert_free(void *weights)
{
    distilbert_weights *w = weights;
    free(w->layers);
    free(w);
}

/* ============================================================ forward */

typedef struct {
    int n;          /* packed tokens */
    float *x, *xb, *q, *k, *v, *att, *h;
    slm_matmul_ctx mm;
    bool failed;    /* a product or the attention could not get scratch memory */
    slm_profile *pf; /* NULL: not profiled */
} scratch;

static void scratch_free(scratch *s)
{
    float *bufs[] = {s->x, s->xb, s->q, s->k, s->v, s->att, s->h};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    slm_matmul_ctx_free(&s->mm);
}

static slm_status scratch_alloc(scratch *s, int n, int D, int F, slm_error *err)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    float **bufs[] = {&s->x, &s->xb, &s->q, &s->k, &s->v, &s->att, &s->h};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        *bufs[i] = malloc((size_t)n * (i == 6 ? F : D) * sizeof(float));
        if (!*bufs[i]) {
            scratch_free(s);
            return slm_fail_nomem(err, "classifier scratch");
        }
    }
    return SLM_OK;
}

/* Rows [lo, hi) of y += bias, then act. */
typedef struct {
    float *y;
    const float *bias;
    slm_act act;
    int rows;
} bias_rows;

static void bias_range(void *ctx, int lo, int hi, int worker)
{
    (void)worker;
    const bias_rows *j = ctx;
    for (int t = lo; t < hi; t++) {
        if (j->act == SLM_ACT_GELU)
            slm_bias_gelu(j->y + (size_t)t * j->rows, j->bias, 1, j->rows);
        else
            slm_add_bias(j->y + (size_t)t * j->rows, j->bias, 1, j->rows);
    }
}

/* y = act(x · Wᵀ (+ bias)) for n rows (bias NULL: none, act then NONE). f32
   batches take the own sgemm with the bias and GELU fused into each
   thread's slice (faster than the table's batch-invariant tiles, which an
   encoder does not need); other weight types (and a single row) add them in
   one parallel pass afterwards. */
static void linear_product(scratch *s, float *y, const float *x, const slm_weight *w,
                           const float *bias, slm_act act, int n)
{
    if (w->type == SLM_WEIGHT_F32 && n > 1) {
        s->failed |= slm_matmul_f32_bias(y, x, w->data, bias, act, n, w->rows, w->cols,
                                         s->mm.team, s->mm.n_threads) != 0;
        return;
    }
    s->failed |= slm_matmul(y, x, w, n, &s->mm) != 0;
    if (!bias)
        return;
    bias_rows job = {y, bias, act, w->rows};
    slm_team_for(s->mm.team, n > 1 ? s->mm.n_threads : 1, n, 1, bias_range, &job);
}

/* Both record into the profile as `op` (bias and activation included). */
static void apply_linear(scratch *s, float *y, const float *x, const linear *l, slm_act act,
                         int n, slm_profile_op op)
{
    const slm_weight *w = &l->w;
    uint64_t t = slm_prof_start(s->pf);
    linear_product(s, y, x, w, l->b, act, n);
    slm_prof_product(s->pf, op, t, &w, 1, n);
}

typedef struct {
    float *x;
    const float *y, *bias;
    const linear *ln;
    int D;
    float eps;
} layernorm_rows;

static void layernorm_range(void *ctx, int lo, int hi, int worker)
{
    (void)worker;
    const layernorm_rows *j = ctx;
    for (int t = lo; t < hi; t++)
        slm_add_layernorm(j->x + (size_t)t * j->D, j->y + (size_t)t * j->D, j->bias, j->ln->w_vec,
                          j->ln->b, j->D, j->eps);
}

/* x = LN(x + y + bias) row by row: the post-LN residual, with the bias of
   the product that made y folded in (y was computed without it). */
static void add_layernorm_rows(scratch *s, const float *y, const float *bias, const linear *ln,
                               int D, float eps)
{
    layernorm_rows job = {s->x, y, bias, ln, D, eps};
    slm_team_for(s->mm.team, s->mm.n_threads, s->n, 1, layernorm_range, &job);
}

/* y = x · Wᵀ without the bias, for add_layernorm_rows to fold in. */
static void product(scratch *s, float *y, const float *x, const linear *l, int n,
                    slm_profile_op op)
{
    const slm_weight *w = &l->w;
    uint64_t t = slm_prof_start(s->pf);
    linear_product(s, y, x, w, NULL, SLM_ACT_NONE, n);
    slm_prof_product(s->pf, op, t, &w, 1, n);
}

static void layer_forward(const slm_config *c, const bert_layer *L, scratch *s,
                          const int *offsets, const int *lengths, int batch)
{
    int n = s->n, D = c->hidden_size;
    apply_linear(s, s->q, s->x, &L->q, SLM_ACT_NONE, n, SLM_PROF_Q);
    apply_linear(s, s->k, s->x, &L->k, SLM_ACT_NONE, n, SLM_PROF_K);
    apply_linear(s, s->v, s->x, &L->v, SLM_ACT_NONE, n, SLM_PROF_V);
    uint64_t t = slm_prof_start(s->pf);
    s->failed |= slm_attention_encoder(s->att, s->q, s->k, s->v, offsets, lengths, batch,
                                       c->n_heads, c->head_dim, 1.0f / sqrtf((float)c->head_dim),
                                       s->mm.team, s->mm.n_threads) != 0;
    slm_prof_lap(s->pf, SLM_PROF_ATTENTION, t);
    product(s, s->xb, s->att, &L->o, n, SLM_PROF_O);
    t = slm_prof_start(s->pf); /* the residual and o's bias are folded into the norm */
    add_layernorm_rows(s, s->xb, L->o.b, &L->sa_norm, D, c->norm_eps);
    slm_prof_lap(s->pf, SLM_PROF_NORM, t);
    apply_linear(s, s->h, s->x, &L->ffn1, SLM_ACT_GELU, n, SLM_PROF_UP);
    product(s, s->xb, s->h, &L->ffn2, n, SLM_PROF_DOWN);
    t = slm_prof_start(s->pf);
    add_layernorm_rows(s, s->xb, L->ffn2.b, &L->out_norm, D, c->norm_eps);
    slm_prof_lap(s->pf, SLM_PROF_NORM, t);
}

typedef struct {
    const slm_config *c;
    const distilbert_weights *w;
    float *x;
    const int32_t *ids;
    int offset;
} embed_rows;

/* Tokens [lo, hi) of one sequence: word + position embedding, LayerNorm. */
static void embed_range(void *ctx, int lo, int hi, int worker)
{
    (void)worker;
    const embed_rows *j = ctx;
    int D = j->c->hidden_size;
    for (int t = lo; t < hi; t++) {
        float *row = j->x + (size_t)(j->offset + t) * D;
        const float *we = j->w->word_emb + (size_t)j->ids[j->offset + t] * D;
        const float *pe = j->w->pos_emb + (size_t)t * D;
        for (int i = 0; i < D; i++)
            row[i] = we[i] + pe[i];
        slm_layernorm(row, row, j->w->emb_norm.w_vec, j->w->emb_norm.b, D, j->c->norm_eps);
    }
}

static void embed(const slm_config *c, const distilbert_weights *w, scratch *s,
                  const int32_t *ids, const int *offsets, const int *lengths, int batch)
{
    for (int b = 0; b < batch; b++) {
        embed_rows job = {c, w, s->x, ids, offsets[b]};
        slm_team_for(s->mm.team, s->mm.n_threads, lengths[b], 1, embed_range, &job);
    }
}

/* Classifier head on each sequence's first ([CLS]) token. */
static void head(const slm_config *c, const distilbert_weights *w, scratch *s, const int *offsets,
                 int batch, float *logits)
{
    int D = c->hidden_size;
    for (int b = 0; b < batch; b++)
        memcpy(s->xb + (size_t)b * D, s->x + (size_t)offsets[b] * D, D * sizeof(float));
    apply_linear(s, s->q, s->xb, &w->pre_classifier, SLM_ACT_NONE, batch, SLM_PROF_CLASSIFIER);
    uint64_t t = slm_prof_start(s->pf);
    slm_relu(s->q, (size_t)batch * D);
    slm_prof_lap(s->pf, SLM_PROF_ACTIVATION, t);
    apply_linear(s, logits, s->q, &w->classifier, SLM_ACT_NONE, batch, SLM_PROF_CLASSIFIER);
}

static slm_status distilbert_classify(const slm_model *m, const int32_t *ids, const int *lengths,
                                      int batch, float *logits, slm_profile *pf, slm_error *err)
{
    const slm_config *c = &m->cfg;
    const distilbert_weights *w = m->weights;
    int *offsets = malloc((size_t)batch * sizeof *offsets);
    if (!offsets)
        return slm_fail_nomem(err, "offsets");
    int total = 0;
    for (int b = 0; b < batch; b++) {
        offsets[b] = total;
        total += lengths[b];
    }
    scratch s;
    /* the buffers are made per call: their allocation (and freeing, below)
       is the profile's scratch row, a fixed cost that is most of a short
       batch's time outside the rows */
    uint64_t t_alloc = slm_prof_start(pf);
    slm_status st = scratch_alloc(&s, total > batch ? total : batch, c->hidden_size,
                                  c->intermediate_size, err);
    slm_prof_lap(pf, SLM_PROF_SCRATCH, t_alloc);
    if (st == SLM_OK) {
        s.n = total;
        s.mm.n_threads = m->n_threads_batch;
        s.mm.team = m->team;
        s.pf = pf;
        uint64_t t = slm_prof_start(pf);
        embed(c, w, &s, ids, offsets, lengths, batch); /* the sum and its LayerNorm */
        slm_prof_lap(pf, SLM_PROF_EMBEDDING, t);
        for (int l = 0; l < c->n_layers; l++)
            layer_forward(c, &w->layers[l], &s, offsets, lengths, batch);
        head(c, w, &s, offsets, batch, logits);
        if (s.failed)
            st = slm_fail_nomem(err, "activation scratch");
        t_alloc = slm_prof_start(pf);
        scratch_free(&s);
        slm_prof_lap(pf, SLM_PROF_SCRATCH, t_alloc);
    }
    free(offsets);
    return st;
}

const slm_arch slm_arch_distilbert = {
    .architecture = "DistilBertForSequenceClassification",
    .model_type = "distilbert",
    .load = distilbert_load,
    .free_weights = distilbert_free,
    .classify = distilbert_classify,
};
