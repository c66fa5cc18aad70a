/*
 * llama.c — LlamaForCausalLM (Llama 2/3 family, TinyLlama, SmolLM2).
 *
 * Per layer:  x += Wo · attn(rope(Wq·n1(x)), rope(Wk·n1(x)), Wv·n1(x))
 *             x += Wdown · (silu(Wgate·n2(x)) ⊙ Wup·n2(x))
 * with n1, n2 RMSNorms, grouped-query attention (n_kv_heads ≤ n_heads) and
 * RoPE in Hugging Face's rotate_half layout. Output: RMSNorm then lm_head
 * (or the embedding matrix when tie_word_embeddings).
 * Shapes below: D hidden, F intermediate, H heads, K kv heads, d head_dim, V vocab.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"
#include "session.h"

typedef struct {
    const float *attn_norm; /* [D] */
    const float *wq;        /* [H*d, D] */
    const float *wk;        /* [K*d, D] */
    const float *wv;        /* [K*d, D] */
    const float *wo;        /* [D, H*d] */
    const float *ffn_norm;  /* [D] */
    const float *w_gate;    /* [F, D] */
    const float *w_up;      /* [F, D] */
    const float *w_down;    /* [D, F] */
} llama_layer;

typedef struct {
    const float *embed;   /* [V, D] */
    const float *norm;    /* [D] */
    const float *lm_head; /* [V, D], = embed when tied */
    llama_layer *layers;
} llama_weights;

/* ============================================================ loading */

static slm_status check_config(const slm_model *m, slm_error *err)
{
    const slm_config *c = &m->cfg;
    if (strcmp(c->hidden_act, "silu") != 0)
        return slm_fail(err, SLM_ERR_UNSUPPORTED, "%s/config.json: hidden_act '%s' (llama: silu)",
                        m->dir, c->hidden_act);
    if (c->rope_scaling_type[0] && strcmp(c->rope_scaling_type, "default") != 0)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s/config.json: rope_scaling type '%s' is not supported", m->dir,
                        c->rope_scaling_type);
    return SLM_OK;
}

static slm_status load_layer(slm_model *m, int l, llama_layer *L, slm_error *err)
{
    const slm_config *c = &m->cfg;
    int64_t D = c->hidden_size, F = c->intermediate_size, d = c->head_dim;
    int64_t Hd = c->n_heads * d, Kd = c->n_kv_heads * d;
    struct {
        const char *suffix;
        const float **dst;
        int64_t rows, cols; /* cols 0: a vector */
    } spec[] = {
        {"input_layernorm.weight", &L->attn_norm, D, 0},
        {"self_attn.q_proj.weight", &L->wq, Hd, D},
        {"self_attn.k_proj.weight", &L->wk, Kd, D},
        {"self_attn.v_proj.weight", &L->wv, Kd, D},
        {"self_attn.o_proj.weight", &L->wo, D, Hd},
        {"post_attention_layernorm.weight", &L->ffn_norm, D, 0},
        {"mlp.gate_proj.weight", &L->w_gate, F, D},
        {"mlp.up_proj.weight", &L->w_up, F, D},
        {"mlp.down_proj.weight", &L->w_down, D, F},
    };
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        char name[160];
        snprintf(name, sizeof name, "model.layers.%d.%s", l, spec[i].suffix);
        int64_t shape[2] = {spec[i].rows, spec[i].cols};
        SLM_TRY(slm_model_weight_f32(m, name, shape, spec[i].cols ? 2 : 1, spec[i].dst, err));
    }
    return SLM_OK;
}

static slm_status llama_load(slm_model *m, slm_error *err)
{
    SLM_TRY(check_config(m, err));
    const slm_config *c = &m->cfg;
    llama_weights *w = calloc(1, sizeof *w);
    if (!w || !(w->layers = calloc((size_t)c->n_layers, sizeof *w->layers))) {
        free(w);
        return slm_fail_nomem(err, "llama weights");
    }
    m->weights = w;
    int64_t emb[2] = {c->vocab_size, c->hidden_size}, norm[1] = {c->hidden_size};
    SLM_TRY(slm_model_weight_f32(m, "model.embed_tokens.weight", emb, 2, &w->embed, err));
    SLM_TRY(slm_model_weight_f32(m, "model.norm.weight", norm, 1, &w->norm, err));
    SLM_TRY(slm_model_weight_f32_opt(m, "lm_head.weight", emb, 2, &w->lm_head, err));
    if (!w->lm_head) {
        if (!c->tie_word_embeddings)
            return slm_fail(err, SLM_ERR_FORMAT,
                            "%s: missing tensor 'lm_head.weight' (tie_word_embeddings is false)",
                            m->dir);
        w->lm_head = w->embed;
    }
    for (int l = 0; l < c->n_layers; l++)
        SLM_TRY(load_layer(m, l, &w->layers[l], err));
    return SLM_OK;
}

static void llama_free(void *weights)
{
    llama_weights *w = weights;
    free(w->layers);
    free(w);
}

/* ============================================================ forward */

/* RMSNorm of each of n rows of width D. */
static void rmsnorm_rows(float *out, const float *x, const float *w, int n, int D, float eps)
{
    for (int t = 0; t < n; t++)
        slm_rmsnorm(out + (size_t)t * D, x + (size_t)t * D, w, D, eps);
}

static void add_rows(float *x, const float *y, size_t count)
{
    for (size_t i = 0; i < count; i++)
        x[i] += y[i];
}

/* Queries/keys/values for n tokens, RoPE applied, keys and values cached. */
static void attention_inputs(slm_session *s, const llama_layer *L, int l, int n)
{
    const slm_config *c = &s->model->cfg;
    int D = c->hidden_size, d = c->head_dim, half = d / 2;
    int Hd = c->n_heads * d, Kd = c->n_kv_heads * d, nt = s->model->n_threads;
    slm_matmul_f32(s->q, s->xb, L->wq, n, Hd, D, nt);
    slm_matmul_f32(s->k, s->xb, L->wk, n, Kd, D, nt);
    slm_matmul_f32(s->v, s->xb, L->wv, n, Kd, D, nt);
    for (int t = 0; t < n; t++) {
        const float *cs = s->rope_cos + (size_t)t * half, *sn = s->rope_sin + (size_t)t * half;
        slm_rope_rotate_half(s->q + (size_t)t * Hd, c->n_heads, d, cs, sn);
        slm_rope_rotate_half(s->k + (size_t)t * Kd, c->n_kv_heads, d, cs, sn);
        memcpy(slm_kv_k(&s->kv, l, s->n_past + t), s->k + (size_t)t * Kd, Kd * sizeof(float));
        memcpy(slm_kv_v(&s->kv, l, s->n_past + t), s->v + (size_t)t * Kd, Kd * sizeof(float));
    }
}

/* Causal attention of n new tokens over everything cached, heads in parallel. */
static void attention(slm_session *s, int l, int n)
{
    const slm_config *c = &s->model->cfg;
    int d = c->head_dim, H = c->n_heads, Hd = H * d, Kd = c->n_kv_heads * d;
    int group = H / c->n_kv_heads;
    float scale = 1.0f / sqrtf((float)d);
#pragma omp parallel for collapse(2) num_threads(s->model->n_threads) schedule(dynamic)
    for (int t = 0; t < n; t++) {
        for (int h = 0; h < H; h++) {
            int kvh = h / group;
            slm_attention_head(s->att + (size_t)t * Hd + (size_t)h * d,
                               s->q + (size_t)t * Hd + (size_t)h * d,
                               slm_kv_k(&s->kv, l, 0) + (size_t)kvh * d,
                               slm_kv_v(&s->kv, l, 0) + (size_t)kvh * d, s->n_past + t + 1, d,
                               (size_t)Kd, scale);
        }
    }
}

static void mlp(slm_session *s, const llama_layer *L, int n)
{
    const slm_config *c = &s->model->cfg;
    int D = c->hidden_size, F = c->intermediate_size, nt = s->model->n_threads;
    slm_matmul_f32(s->hb, s->xb, L->w_gate, n, F, D, nt);
    slm_matmul_f32(s->hb2, s->xb, L->w_up, n, F, D, nt);
    slm_silu_mul(s->hb, s->hb2, n * F);
    slm_matmul_f32(s->xb, s->hb, L->w_down, n, D, F, nt);
}

static void layer_forward(slm_session *s, const llama_layer *L, int l, int n)
{
    const slm_config *c = &s->model->cfg;
    int D = c->hidden_size, Hd = c->n_heads * c->head_dim, nt = s->model->n_threads;
    rmsnorm_rows(s->xb, s->x, L->attn_norm, n, D, c->norm_eps);
    attention_inputs(s, L, l, n);
    attention(s, l, n);
    slm_matmul_f32(s->xb, s->att, L->wo, n, D, Hd, nt);
    add_rows(s->x, s->xb, (size_t)n * D);
    rmsnorm_rows(s->xb, s->x, L->ffn_norm, n, D, c->norm_eps);
    mlp(s, L, n);
    add_rows(s->x, s->xb, (size_t)n * D);
}

static slm_status llama_forward(slm_session *s, const int32_t *ids, int n, float *logits,
                                slm_error *err)
{
    const slm_model *m = s->model;
    const slm_config *c = &m->cfg;
    const llama_weights *w = m->weights;
    int D = c->hidden_size, half = c->head_dim / 2;
    for (int t = 0; t < n; t++) {
        memcpy(s->x + (size_t)t * D, w->embed + (size_t)ids[t] * D, D * sizeof(float));
        slm_rope_angles(s->rope_cos + (size_t)t * half, s->rope_sin + (size_t)t * half,
                        m->rope_inv_freq, half, s->n_past + t);
    }
    for (int l = 0; l < c->n_layers; l++)
        layer_forward(s, &w->layers[l], l, n);
    float *last = s->xb;
    slm_rmsnorm(last, s->x + (size_t)(n - 1) * D, w->norm, D, c->norm_eps);
    slm_matmul_f32(logits, last, w->lm_head, 1, c->vocab_size, D, m->n_threads);
    (void)err;
    return SLM_OK;
}

const slm_arch slm_arch_llama = {
    .architecture = "LlamaForCausalLM",
    .model_type = "llama",
    .load = llama_load,
    .free_weights = llama_free,
    .forward = llama_forward,
};
