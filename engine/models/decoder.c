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
#include "scratch.h"
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

/* One pass runs the tokens of every sequence of a step together: embedding,
 * norms, products and the MLP see one matrix of rows (all tokens); RoPE and
 * the cache writes use each token's own sequence and position; attention runs
 * per sequence over its own cache. Every row's result depends on that row
 * alone (the typed products are per-element batch-invariant, kernels/), so a
 * sequence's logits are the same whoever shares its pass. */

typedef struct {
    slm_scratch *sc;
    const slm_model *m;
    const slm_seq_step *seqs;
    int n_seqs;
    int n; /* tokens in all */
} pass;

/* y = x · Wᵀ over n rows with the thread count of the pass (one token or more).
   A scratch allocation failure is remembered and reported once per forward. */
static int matmul_multi(slm_scratch *sc, float *const *y, const float *x,
                        const slm_weight *const *w, int count, int n)
{
    sc->mm.n_threads = n > 1 ? sc->n_threads_batch : sc->n_threads;
    int rc = slm_matmul_multi(y, x, w, count, n, &sc->mm);
    sc->failed |= rc != 0;
    return rc;
}

static int matmul(slm_scratch *sc, float *y, const float *x, const slm_weight *w, int n)
{
    return matmul_multi(sc, &y, x, &w, 1, n);
}

/* ------------------------------------------------ row-wise steps on the team */

/* Element-wise work (floats) below which the caller does every row: ~50 us
   of one core, well above what sharing costs. Rows are split, never a
   row's elements: each row is computed by the same code wherever it runs,
   so the bits do not depend on the thread count. */
#define ROWS_MIN_ELEMS 65536

typedef struct {
    void (*fn)(const void *job, int row);
    const void *job;
} rows_job;

static void rows_range(void *ctx, int lo, int hi, int worker)
{
    (void)worker;
    const rows_job *j = ctx;
    for (int r = lo; r < hi; r++)
        j->fn(j->job, r);
}

static void for_rows(const pass *p, int n, int row_elems, void (*fn)(const void *, int),
                     const void *job)
{
    int nt = (double)n * row_elems >= ROWS_MIN_ELEMS ? p->sc->n_threads_batch : 1;
    rows_job j = {fn, job};
    slm_team_for(p->sc->mm.team, nt, n, 1, rows_range, &j);
}

typedef struct {
    float *out;
    const float *x, *w;
    int D;
    float eps;
} norm_job;

static void norm_row(const void *job, int t)
{
    const norm_job *j = job;
    slm_rmsnorm(j->out + (size_t)t * j->D, j->x + (size_t)t * j->D, j->w, j->D, j->eps);
}

static void rmsnorm_rows(const pass *p, float *out, const float *x, const float *w, int n, int D,
                         float eps)
{
    norm_job j = {out, x, w, D, eps};
    for_rows(p, n, D, norm_row, &j);
}

/* Two matrices of rows of D: x is written, y read. */
typedef struct {
    float *x;
    const float *y;
    int D;
} pair_rows;

static void add_row(const void *job, int t)
{
    const pair_rows *j = job;
    float *x = j->x + (size_t)t * j->D;
    const float *y = j->y + (size_t)t * j->D;
    for (int i = 0; i < j->D; i++)
        x[i] += y[i];
}

/* x += y over n rows of D */
static void add_rows(const pass *p, float *x, const float *y, int n, int D)
{
    pair_rows j = {x, y, D};
    for_rows(p, n, D, add_row, &j);
}

/* gate (x) = silu(gate) ⊙ up (y) */
static void silu_row(const void *job, int t)
{
    const pair_rows *j = job;
    slm_silu_mul(j->x + (size_t)t * j->D, j->y + (size_t)t * j->D, j->D);
}

/* ------------------------------------------------ the layers */

/* cos/sin of every new position; the table depends on the sequence (longrope). */
static void rope_tables(const pass *p)
{
    const slm_rope *r = &p->m->rope;
    int half = r->rot_dim / 2;
    for (int i = 0, row = 0; i < p->n_seqs; i++) {
        const slm_session *s = p->seqs[i].s;
        const float *inv = s->rope_long ? r->inv_freq_long : r->inv_freq;
        for (int t = 0; t < p->seqs[i].n; t++, row++)
            slm_rope_angles(p->sc->rope_cos + (size_t)row * half,
                            p->sc->rope_sin + (size_t)row * half, inv, half, s->n_past + t,
                            r->scale);
    }
}

/* Queries/keys/values of every token, RoPE applied, keys and values cached
   in each token's own session. */
static void attention_inputs(const pass *p, const slm_decoder_layer *L, int l)
{
    const slm_config *c = &p->m->cfg;
    slm_scratch *sc = p->sc;
    int d = c->head_dim, rot = p->m->rope.rot_dim, half = rot / 2;
    int Hd = c->n_heads * d, Kd = c->n_kv_heads * d;
    float *y[3] = {sc->q, sc->k, sc->v};
    const slm_weight *w[3] = {&L->wq, &L->wk, &L->wv};
    slm_profile *pf = sc->profile;
    uint64_t t0 = slm_prof_start(pf);
    matmul_multi(sc, y, sc->xb, w, 3, p->n); /* one team, x quantized once */
    t0 = slm_prof_product(pf, SLM_PROF_QKV, t0, w, 3, p->n);
    for (int row = 0; row < p->n; row++) {
        const float *cs = sc->rope_cos + (size_t)row * half;
        const float *sn = sc->rope_sin + (size_t)row * half;
        slm_rope_rotate_half(sc->q + (size_t)row * Hd, c->n_heads, d, rot, cs, sn);
        slm_rope_rotate_half(sc->k + (size_t)row * Kd, c->n_kv_heads, d, rot, cs, sn);
    }
    t0 = slm_prof_lap(pf, SLM_PROF_ROPE, t0);
    for (int i = 0, row = 0; i < p->n_seqs; i++) {
        slm_session *s = p->seqs[i].s;
        for (int t = 0; t < p->seqs[i].n; t++, row++)
            slm_kv_store(&s->kv, l, s->n_past + t, sc->k + (size_t)row * Kd,
                         sc->v + (size_t)row * Kd);
    }
    slm_prof_lap(pf, SLM_PROF_KV_STORE, t0);
}

/* Query tokens per prompt tile: about 64 query rows (tokens x the heads of a
   GQA group) per sgemm, so BLAS tiles are filled for any group size. */
static int prompt_tile_tokens(int group)
{
    return group >= 64 ? 1 : 64 / group;
}

typedef struct {
    const pass *p;
    const slm_session *s;
    int l, row, n, tile, tiles;
    float scale;
    float **scratch; /* per worker */
} prompt_job;

/* Task i: tile i % tiles of KV head i / tiles. */
static void prompt_tile_task(void *ctx, int i, int worker)
{
    const prompt_job *j = ctx;
    const slm_config *c = &j->p->m->cfg;
    int d = c->head_dim, Hd = c->n_heads * d, group = c->n_heads / c->n_kv_heads;
    int kvh = i / j->tiles, t0 = (i % j->tiles) * j->tile;
    int nt = j->n - t0 < j->tile ? j->n - t0 : j->tile;
    size_t at = (size_t)(j->row + t0) * Hd + (size_t)kvh * group * d;
    slm_kv_view k = slm_kv_keys(&j->s->kv, j->l, kvh, 0);
    slm_kv_view v = slm_kv_values(&j->s->kv, j->l, kvh, 0);
    slm_attention_causal(j->p->sc->mm.kernels, j->p->sc->att + at, j->p->sc->q + at, (size_t)Hd,
                         group, nt, j->s->n_past + t0, c->sliding_window, &k, &v, d, j->scale,
                         j->scratch[worker]);
}

/* A sequence's n > 1 tokens (its rows from `row` on): one tile of tokens x
 * the heads of one KV head's group per task (kernels/attention_causal.c),
 * tiles spread over the team, each worker with its own score scratch. */
static void attention_prompt(const pass *p, const slm_session *s, int l, int row, int n)
{
    const slm_config *c = &p->m->cfg;
    slm_scratch *sc = p->sc;
    int d = c->head_dim, group = c->n_heads / c->n_kv_heads;
    int tile = prompt_tile_tokens(group), tiles = (n + tile - 1) / tile;
    size_t scratch_floats = slm_attention_causal_scratch(group, tile, d);
    /* a short prompt's attention is not worth sharing (the products'
       threshold, team.h): query x key x head_dim MACs */
    double work = (double)n * (s->n_past + n) * c->n_heads * d;
    int nt = work >= SLM_TEAM_MIN_WORK ? sc->n_threads_batch : 1;
    nt = nt > SLM_TEAM_MAX_THREADS ? SLM_TEAM_MAX_THREADS : nt;
    float *scratch[SLM_TEAM_MAX_THREADS] = {0};
    bool failed = false;
    for (int w = 0; w < nt; w++)
        failed |= !(scratch[w] = malloc(scratch_floats * sizeof(float)));
    prompt_job j = {p, s, l, row, n, tile, tiles, 1.0f / sqrtf((float)d), scratch};
    if (!failed)
        slm_team_run(sc->mm.team, nt, c->n_kv_heads * tiles, prompt_tile_task, &j);
    for (int w = 0; w < nt; w++)
        free(scratch[w]);
    sc->failed |= failed;
}

/* One head of a decoding sequence's token (at `row`) over its cache. With a
 * sliding window W, position p sees positions p-W+1 .. p (as transformers'
 * sliding-window mask: key > query - W). */
static void attention_head(const pass *p, const slm_session *s, int l, int row, int h)
{
    const slm_config *c = &p->m->cfg;
    int d = c->head_dim, Hd = c->n_heads * d, group = c->n_heads / c->n_kv_heads;
    int pos = s->n_past, kvh = h / group, window = c->sliding_window;
    int first = window > 0 && pos + 1 > window ? pos + 1 - window : 0;
    slm_kv_view k = slm_kv_keys(&s->kv, l, kvh, first);
    slm_kv_view v = slm_kv_values(&s->kv, l, kvh, first);
    size_t at = (size_t)row * Hd + (size_t)h * d;
    /* the products' table (set by the QKV products before): its ISA's kernel */
    slm_attention_head_kv_with(p->sc->mm.kernels, p->sc->att + at, p->sc->q + at, &k, &v,
                               pos + 1 - first, d, 1.0f / sqrtf((float)d));
}

typedef struct {
    const pass *p;
    const int *rows;
    int H, l, per, total; /* heads per task, of total = sequences x H */
} heads_job;

/* Task i: heads i·per .. i·per + per - 1 of the (sequence, head) pairs
   (pair k: head k % H of sequence k / H), those whose sequence decodes. */
static void head_task(void *ctx, int i, int worker)
{
    (void)worker;
    const heads_job *j = ctx;
    for (int k = i * j->per; k < (i + 1) * j->per && k < j->total; k++) {
        int q = k / j->H;
        if (j->p->seqs[q].n == 1)
            attention_head(j->p, j->p->seqs[q].s, j->l, j->rows[q], k % j->H);
    }
}

/* Causal attention of every sequence over its own cache: prompt chunks one
 * sequence at a time with the whole team, then the heads of all decoding
 * tokens (one token each) together. */
static void attention(const pass *p, int l)
{
    const slm_config *c = &p->m->cfg;
    int H = c->n_heads, rows[p->n_seqs], n_dec = 0;
    double work = 0;
    for (int i = 0, row = 0; i < p->n_seqs; row += p->seqs[i].n, i++) {
        const slm_seq_step *q = &p->seqs[i];
        if (q->n > 1) {
            attention_prompt(p, q->s, l, row, q->n);
        } else {
            rows[i] = row;
            n_dec++;
            work += (double)H * (q->s->n_past + 1) * c->head_dim;
        }
    }
    if (n_dec == 0)
        return;
    /* On the team when it is worth it, and also whenever the output
       product that follows runs on the team: a worker left idle through
       the caller's attention goes to sleep (team.c SPIN_NS) and the o
       product then starts without it (TinyLlama q4_0 tg64, Xeon: o at 18
       GB/s against 25 with the worker kept busy; tg128 43.4-44.2 -> 46.1-
       47.3 tok/s alternated; with a 1-thread CPU hog, 2 threads still
       >= 1). A few tasks per thread, several heads each: one head per task
       measured slower. */
    double next = (double)H * c->head_dim * c->hidden_size * p->n; /* o's multiply-adds */
    int nt = n_dec > 1 ? p->sc->n_threads_batch : p->sc->n_threads;
    nt = work >= SLM_TEAM_MIN_WORK || next >= SLM_TEAM_MIN_WORK ? nt : 1;
    int total = p->n_seqs * H, per = total / (2 * nt) > 1 ? total / (2 * nt) : 1;
    heads_job j = {p, rows, H, l, per, total};
    slm_team_run(p->sc->mm.team, nt, (total + per - 1) / per, head_task, &j);
}

static void mlp(const pass *p, const slm_decoder_layer *L)
{
    slm_scratch *sc = p->sc;
    int F = p->m->cfg.intermediate_size;
    float *y[2] = {sc->hb, sc->hb2};
    const slm_weight *w[2] = {&L->w_gate, &L->w_up}, *down = &L->w_down;
    slm_profile *pf = sc->profile;
    uint64_t t0 = slm_prof_start(pf);
    matmul_multi(sc, y, sc->xb, w, 2, p->n);
    t0 = slm_prof_product(pf, SLM_PROF_GATE_UP, t0, w, 2, p->n);
    pair_rows act = {sc->hb, sc->hb2, F};
    for_rows(p, p->n, F, silu_row, &act);
    t0 = slm_prof_lap(pf, SLM_PROF_ACTIVATION, t0);
    matmul(sc, sc->xb, sc->hb, down, p->n);
    slm_prof_product(pf, SLM_PROF_DOWN, t0, &down, 1, p->n);
}

static void layer_forward(const pass *p, const slm_decoder_layer *L, int l)
{
    const slm_config *c = &p->m->cfg;
    slm_scratch *sc = p->sc;
    int D = c->hidden_size;
    slm_profile *pf = sc->profile; /* NULL: each lap below is one untaken branch */
    const slm_weight *wo = &L->wo;
    uint64_t t = slm_prof_start(pf);
    rmsnorm_rows(p, sc->xb, sc->x, L->attn_norm, p->n, D, c->norm_eps);
    t = slm_prof_lap(pf, SLM_PROF_NORM, t);
    attention_inputs(p, L, l); /* times its own parts */
    t = slm_prof_start(pf);
    attention(p, l);
    t = slm_prof_lap(pf, SLM_PROF_ATTENTION, t);
    matmul(sc, sc->xb, sc->att, wo, p->n);
    t = slm_prof_product(pf, SLM_PROF_O, t, &wo, 1, p->n);
    add_rows(p, sc->x, sc->xb, p->n, D);
    t = slm_prof_lap(pf, SLM_PROF_RESIDUAL, t);
    rmsnorm_rows(p, sc->xb, sc->x, L->ffn_norm, p->n, D, c->norm_eps);
    slm_prof_lap(pf, SLM_PROF_NORM, t);
    mlp(p, L); /* times its own parts */
    t = slm_prof_start(pf);
    add_rows(p, sc->x, sc->xb, p->n, D);
    slm_prof_lap(pf, SLM_PROF_RESIDUAL, t);
}

/* The output head over the rows whose logits are wanted (each sequence's
   last n_logits), normed into xb back to back; one sequence writes straight
   into its destination, several go through sc->logits. */
static slm_status output_head(const pass *p, const slm_decoder_weights *w, slm_error *err)
{
    const slm_config *c = &p->m->cfg;
    slm_scratch *sc = p->sc;
    int D = c->hidden_size, V = c->vocab_size, rows = 0;
    slm_profile *pf = sc->profile;
    const slm_weight *head = &w->lm_head;
    uint64_t t = slm_prof_start(pf);
    for (int i = 0, row = 0; i < p->n_seqs; row += p->seqs[i].n, i++) {
        const slm_seq_step *q = &p->seqs[i];
        rmsnorm_rows(p, sc->xb + (size_t)rows * D,
                     sc->x + (size_t)(row + q->n - q->n_logits) * D, w->norm, q->n_logits, D,
                     c->norm_eps);
        rows += q->n_logits;
    }
    t = slm_prof_lap(pf, SLM_PROF_NORM, t);
    if (p->n_seqs == 1) {
        matmul(sc, p->seqs[0].logits, sc->xb, head, rows);
        slm_prof_product(pf, SLM_PROF_LM_HEAD, t, &head, 1, rows);
        return SLM_OK;
    }
    SLM_TRY(slm_scratch_logits(sc, rows, V, err));
    matmul(sc, sc->logits, sc->xb, head, rows);
    slm_prof_product(pf, SLM_PROF_LM_HEAD, t, &head, 1, rows);
    for (int i = 0, at = 0; i < p->n_seqs; at += p->seqs[i].n_logits, i++)
        memcpy(p->seqs[i].logits, sc->logits + (size_t)at * V,
               (size_t)p->seqs[i].n_logits * V * sizeof(float));
    return SLM_OK;
}

slm_status slm_decoder_forward(slm_scratch *sc, const slm_seq_step *seqs, int n_seqs,
                               slm_error *err)
{
    SLM_ASSERT(n_seqs >= 1);
    const slm_model *m = seqs[0].s->model;
    const slm_config *c = &m->cfg;
    const slm_decoder_weights *w = m->weights;
    pass p = {.sc = sc, .m = m, .seqs = seqs, .n_seqs = n_seqs};
    /* the callers sized the scratch and checked the room (session.c, batch.c) */
    for (int i = 0; i < n_seqs; i++) {
        const slm_seq_step *q = &seqs[i];
        SLM_ASSERT(q->s->model == m && q->n >= 1 && q->n <= SLM_MAX_BATCH);
        SLM_ASSERT(q->n_logits >= 1 && q->n_logits <= q->n);
        SLM_ASSERT(q->s->n_past + q->n <= q->s->n_ctx);
        p.n += q->n;
    }
    SLM_ASSERT(p.n <= sc->cap);
    int D = c->hidden_size;
    sc->failed = false;
    slm_profile *pf = sc->profile;
    uint64_t t0 = slm_prof_start(pf);
    for (int i = 0, row = 0; i < n_seqs; i++)
        for (int t = 0; t < seqs[i].n; t++, row++)
            slm_weight_row_f32(&w->embed, seqs[i].ids[t], sc->x + (size_t)row * D);
    if (pf) /* the rows read, to compare with the products */
        t0 = slm_profile_lap(pf, SLM_PROF_EMBEDDING, t0,
                             (uint64_t)p.n * slm_weight_row_bytes(w->embed.type, D), 0);
    rope_tables(&p);
    slm_prof_lap(pf, SLM_PROF_ROPE, t0);
    for (int l = 0; l < c->n_layers; l++)
        layer_forward(&p, &w->layers[l], l);
    SLM_TRY(output_head(&p, w, err));
    return sc->failed ? slm_fail_nomem(err, "activation scratch") : SLM_OK;
}
