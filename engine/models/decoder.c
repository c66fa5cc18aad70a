/*
 * decoder.c — forward pass of the decoder-only transformer (see decoder.h).
 *
 * Per layer:  x += Wo · attn(rope(Wq·n1(x)), rope(Wk·n1(x)), Wv·n1(x))
 *             x += Wdown · (silu(Wgate·n2(x)) ⊙ Wup·n2(x))
 * n tokens go through together (prompt processing as matrix-matrix products);
 * each attends causally to everything cached before it.
 */
#include "decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"
#include "session.h"

/* ============================================================ weights */

slm_status slm_decoder_new(slm_model *m, slm_decoder_weights **out, slm_error *err)
{
    const slm_config *c = &m->cfg;
    if (strcmp(c->hidden_act, "silu") != 0)
        return slm_fail(err, SLM_ERR_UNSUPPORTED,
                        "%s/config.json: hidden_act '%s' is not supported (silu)", m->dir,
                        c->hidden_act);
    slm_decoder_weights *w = calloc(1, sizeof *w);
    if (!w || !(w->layers = calloc((size_t)c->n_layers, sizeof *w->layers))) {
        free(w);
        return slm_fail_nomem(err, "decoder weights");
    }
    m->weights = *out = w;
    return SLM_OK;
}

void slm_decoder_free(void *weights)
{
    slm_decoder_weights *w = weights;
    free(w->layers);
    free(w);
}

slm_status slm_decoder_load_ends(slm_model *m, slm_decoder_weights *w, const char *embed_name,
                                 const char *norm_name, slm_error *err)
{
    const slm_config *c = &m->cfg;
    int64_t V = c->vocab_size, D = c->hidden_size, norm[1] = {D};
    SLM_TRY(slm_model_matrix(m, embed_name, V, D, false, &w->embed, err));
    SLM_TRY(slm_model_weight_f32(m, norm_name, norm, 1, &w->norm, err));
    SLM_TRY(slm_model_matrix(m, "lm_head.weight", V, D, true, &w->lm_head, err));
    if (w->lm_head.data) {
        /* untied: decode reads one embedding row, not the table */
        m->weight_bytes -= slm_weight_row_bytes(w->embed.type, (int)D) * (size_t)(V - 1);
        return SLM_OK;
    }
    if (!c->tie_word_embeddings)
        return slm_fail(err, SLM_ERR_FORMAT,
                        "%s: missing tensor 'lm_head.weight' (tie_word_embeddings is false)",
                        m->dir);
    w->lm_head = w->embed;
    return SLM_OK;
}

/* ============================================================ forward */

/* y = x · Wᵀ with the thread count of the phase (decode or prompt batch).
   A scratch allocation failure is remembered and reported once per forward. */
static int matmul_multi(slm_session *s, float *const *y, const float *x,
                        const slm_weight *const *w, int count, int n)
{
    s->mm.n_threads = n > 1 ? s->n_threads_batch : s->n_threads;
    int rc = slm_matmul_multi(y, x, w, count, n, &s->mm);
    s->matmul_failed |= rc != 0;
    return rc;
}

static int matmul(slm_session *s, float *y, const float *x, const slm_weight *w, int n)
{
    return matmul_multi(s, &y, x, &w, 1, n);
}

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

/* cos/sin of every new position; the rope table depends on the sequence length. */
static void rope_tables(slm_session *s, int n)
{
    const slm_rope *r = &s->model->rope;
    int half = r->rot_dim / 2;
    const float *inv = s->rope_long ? r->inv_freq_long : r->inv_freq;
    for (int t = 0; t < n; t++)
        slm_rope_angles(s->rope_cos + (size_t)t * half, s->rope_sin + (size_t)t * half, inv, half,
                        s->n_past + t, r->scale);
}

/* Queries/keys/values for n tokens, RoPE applied, keys and values cached. */
static void attention_inputs(slm_session *s, const slm_decoder_layer *L, int l, int n)
{
    const slm_config *c = &s->model->cfg;
    int d = c->head_dim, rot = s->model->rope.rot_dim, half = rot / 2;
    int Hd = c->n_heads * d, Kd = c->n_kv_heads * d;
    float *y[3] = {s->q, s->k, s->v};
    const slm_weight *w[3] = {&L->wq, &L->wk, &L->wv};
    matmul_multi(s, y, s->xb, w, 3, n); /* one team, x quantized once */
    for (int t = 0; t < n; t++) {
        const float *cs = s->rope_cos + (size_t)t * half, *sn = s->rope_sin + (size_t)t * half;
        slm_rope_rotate_half(s->q + (size_t)t * Hd, c->n_heads, d, rot, cs, sn);
        slm_rope_rotate_half(s->k + (size_t)t * Kd, c->n_kv_heads, d, rot, cs, sn);
        slm_kv_store(&s->kv, l, s->n_past + t, s->k + (size_t)t * Kd, s->v + (size_t)t * Kd);
    }
}

/* Query tokens per prompt tile: about 64 query rows (tokens x the heads of a
   GQA group) per sgemm, so BLAS tiles are filled for any group size. */
static int prompt_tile_tokens(int group)
{
    return group >= 64 ? 1 : 64 / group;
}

/* Prompt tokens: one tile of tokens x the heads of one KV head's group per
 * call (kernels/attention_causal.c), tiles spread over the team. */
static void attention_prompt(slm_session *s, int l, int n)
{
    const slm_config *c = &s->model->cfg;
    int d = c->head_dim, Hd = c->n_heads * d, group = c->n_heads / c->n_kv_heads;
    int tile = prompt_tile_tokens(group), tiles = (n + tile - 1) / tile;
    float scale = 1.0f / sqrtf((float)d);
    size_t scratch_floats = slm_attention_causal_scratch(group, tile, d);
    bool failed = false;
#pragma omp parallel num_threads(s->n_threads_batch) reduction(|| : failed)
    {
        float *scratch = malloc(scratch_floats * sizeof(float));
        failed = scratch == NULL;
#pragma omp for collapse(2) schedule(dynamic)
        for (int kvh = 0; kvh < c->n_kv_heads; kvh++) {
            for (int i = 0; i < tiles; i++) {
                if (!scratch)
                    continue;
                int t0 = i * tile, nt = n - t0 < tile ? n - t0 : tile;
                size_t at = (size_t)t0 * Hd + (size_t)kvh * group * d;
                slm_kv_view k = slm_kv_keys(&s->kv, l, kvh, 0);
                slm_kv_view v = slm_kv_values(&s->kv, l, kvh, 0);
                slm_attention_causal(s->att + at, s->q + at, (size_t)Hd, group, nt, s->n_past + t0,
                                     c->sliding_window, &k, &v, d, scale, scratch);
            }
        }
        free(scratch);
    }
    s->matmul_failed |= failed;
}

/* Causal attention of n new tokens over the cache, heads in parallel. With a
 * sliding window W, position p sees positions p-W+1 .. p (as transformers'
 * sliding-window mask: key > query - W). */
static void attention(slm_session *s, int l, int n)
{
    const slm_config *c = &s->model->cfg;
    int d = c->head_dim, H = c->n_heads;
    int group = H / c->n_kv_heads, window = c->sliding_window;
    float scale = 1.0f / sqrtf((float)d);
    if (n > 1) {
        attention_prompt(s, l, n);
        return;
    }
    /* waking the team costs more than a short cache is worth */
    bool parallel = (double)H * (s->n_past + 1) * d > 65536.0;
#pragma omp parallel for num_threads(s->n_threads) schedule(dynamic) if (parallel)
    for (int h = 0; h < H; h++) {
        int pos = s->n_past, kvh = h / group;
        int first = window > 0 && pos + 1 > window ? pos + 1 - window : 0;
        slm_kv_view k = slm_kv_keys(&s->kv, l, kvh, first);
        slm_kv_view v = slm_kv_values(&s->kv, l, kvh, first);
        slm_attention_head_kv(s->att + (size_t)h * d, s->q + (size_t)h * d, &k, &v,
                              pos + 1 - first, d, scale);
    }
}

static void mlp(slm_session *s, const slm_decoder_layer *L, int n)
{
    int F = s->model->cfg.intermediate_size;
    float *y[2] = {s->hb, s->hb2};
    const slm_weight *w[2] = {&L->w_gate, &L->w_up};
    matmul_multi(s, y, s->xb, w, 2, n);
    slm_silu_mul(s->hb, s->hb2, n * F);
    matmul(s, s->xb, s->hb, &L->w_down, n);
}

static void layer_forward(slm_session *s, const slm_decoder_layer *L, int l, int n)
{
    const slm_config *c = &s->model->cfg;
    int D = c->hidden_size;
    rmsnorm_rows(s->xb, s->x, L->attn_norm, n, D, c->norm_eps);
    attention_inputs(s, L, l, n);
    attention(s, l, n);
    matmul(s, s->xb, s->att, &L->wo, n);
    add_rows(s->x, s->xb, (size_t)n * D);
    rmsnorm_rows(s->xb, s->x, L->ffn_norm, n, D, c->norm_eps);
    mlp(s, L, n);
    add_rows(s->x, s->xb, (size_t)n * D);
}

slm_status slm_decoder_forward(slm_session *s, const int32_t *ids, int n, int n_logits,
                               float *logits, slm_error *err)
{
    const slm_model *m = s->model;
    const slm_config *c = &m->cfg;
    const slm_decoder_weights *w = m->weights;
    int D = c->hidden_size;
    /* the session sized its scratch and checked the room (session.c) */
    SLM_ASSERT(n >= 1 && n <= SLM_MAX_BATCH && n_logits >= 1 && n_logits <= n);
    SLM_ASSERT(s->n_past + n <= s->n_ctx);
    s->matmul_failed = false;
    for (int t = 0; t < n; t++)
        slm_weight_row_f32(&w->embed, ids[t], s->x + (size_t)t * D);
    rope_tables(s, n);
    for (int l = 0; l < c->n_layers; l++)
        layer_forward(s, &w->layers[l], l, n);
    /* only the rows whose logits are wanted go through the output head */
    const float *rows = s->x + (size_t)(n - n_logits) * D;
    rmsnorm_rows(s->xb, rows, w->norm, n_logits, D, c->norm_eps);
    if (matmul(s, logits, s->xb, &w->lm_head, n_logits) != 0)
        return slm_fail_nomem(err, "activation scratch");
    return s->matmul_failed ? slm_fail_nomem(err, "activation scratch") : SLM_OK;
}
