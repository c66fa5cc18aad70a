/*
 * matmul_typed.c — y = x · Wᵀ for every weight storage type (weight.h),
 * on the kernel table the context carries (dispatch.h).
 *
 * Decode (n == 1) is bound by reading W once: output rows are split into a
 * few contiguous ranges per thread (tasks of the team, team.h: each streams
 * its own part of W, and a thread that is descheduled leaves its unclaimed
 * ranges to the others) and go to the table's gemm entry with one token, which runs
 * several rows at once to share the activation-side work. Prefill (n > 1)
 * is compute bound: the same kind of ranges go to the same gemm entries,
 * whose tiles reuse each weight block for several tokens. Every weight type
 * takes this path, f32 included (slm_matmul_f32's sgemm is for the
 * encoder, which is not batched with other requests).
 *
 * Batch invariance: the table's gemm entries compute every output element
 * with one fixed arithmetic whatever the tile it lands in (dispatch.h), so
 * y[t][r] here depends on row r and token t only: not on n, on the thread
 * count or the ranges threads get, nor on the token chunks of batch_rows.
 * That is what lets a batched forward pass give each sequence the bits it
 * gets alone. Activations are quantized (q8_0/q4_0) once per call, for all
 * tokens, by the team before the products start (per token, so that is
 * invariant too). x8-packed quantized weights (pack.c) go to the table's x8
 * entries, split between threads in whole groups of 8 rows; x16-packed float
 * weights to its x16 entries, in whole groups of 16.
 * slm_matmul_multi runs several products of one x in one team.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "kernels.h"
#include "team.h"
#include "weight.h"

/* Tokens per gemm call: keeps one chunk of f32 activations (64 x cols x 4
   bytes) near L2; quantized ones are 4x smaller so the chunk is larger. */
#define TOKENS_F32 64
#define TOKENS_Q8 256

/* f32/f16/bf16 batches use the table's FMA tiles, not OpenBLAS: sgemm's
   blocking sums each element in an order that depends on the batch shape,
   which would break batch invariance. The tiles also measured as fast
   (bench_kernels times both: f16 -> f32 panels + sgemm, and sgemm on f32
   weights), with no W-sized scratch and one thread team instead of two
   (ours and OpenBLAS's) taking turns on the cores. */

void slm_matmul_ctx_free(slm_matmul_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->buf);
    ctx->buf = NULL;
    ctx->cap = 0;
    slm_team_free(ctx->own_team);
    ctx->own_team = NULL;
}

/* The team products run on: the borrowed one, or the context's own. */
static slm_team *team_of(slm_matmul_ctx *ctx, int nt)
{
    if (ctx->team || nt <= 1)
        return ctx->team;
    if (!ctx->own_team || slm_team_threads(ctx->own_team) < nt) {
        slm_team_free(ctx->own_team);
        ctx->own_team = slm_team_new(nt);
    }
    return ctx->own_team;
}

static int is_quantized(slm_weight_type t)
{
    return t == SLM_WEIGHT_Q8_0 || t == SLM_WEIGHT_Q4_0;
}

static int ensure_scratch(slm_matmul_ctx *ctx, size_t bytes)
{
    if (ctx->cap >= bytes)
        return 0;
    free(ctx->buf);
    /* 64-byte aligned so activation rows start on a cache line */
    size_t cap = (bytes + 63) / 64 * 64;
    ctx->buf = aligned_alloc(64, cap);
    ctx->cap = ctx->buf ? cap : 0;
    return ctx->buf ? 0 : -1;
}


static slm_gemm_fn packed_gemm_of(const slm_kernel_table *k, slm_weight_type t)
{
    switch (t) {
    case SLM_WEIGHT_F32:
        return k->gemm_f32x16;
    case SLM_WEIGHT_F16:
        return k->gemm_f16x16;
    case SLM_WEIGHT_BF16:
        return k->gemm_bf16x16;
    case SLM_WEIGHT_Q8_0:
        return k->gemm_q8_0x8;
    default:
        return k->gemm_q4_0x8;
    }
}

static slm_gemm_fn gemm_of(const slm_kernel_table *k, const slm_weight *w)
{
    if (w->packed)
        return packed_gemm_of(k, w->type);
    switch (w->type) {
    case SLM_WEIGHT_F32:
        return k->gemm_f32;
    case SLM_WEIGHT_F16:
        return k->gemm_f16;
    case SLM_WEIGHT_BF16:
        return k->gemm_bf16;
    case SLM_WEIGHT_Q8_0:
        return k->gemm_q8_0;
    case SLM_WEIGHT_Q4_0:
        return k->gemm_q4_0;
    default:
        return NULL;
    }
}

/* One token: y[r] = dot(row r, x) for r in [r0, r1), through the gemm entry
   with one token (the table runs several rows at once there, sharing the
   activation side; the result per row is its dot, see dispatch.h). */
static void decode_rows(float *y, const slm_weight *w, const void *x, int r0, int r1,
                        const slm_kernel_table *k)
{
    if (r0 >= r1)
        return;
    size_t rb = slm_weight_row_bytes(w->type, w->cols);
    const uint8_t *row = (const uint8_t *)w->data + (size_t)r0 * rb;
    /* a packed group of g rows takes g rows' bytes */
    size_t ws = w->packed ? (size_t)slm_weight_pack_rows(w->type) * rb : rb;
    gemm_of(k, w)(y + r0, 0, row, ws, x, 0, r1 - r0, 1, w->cols);
}

/* n tokens (activations x, xs bytes apart): rows [r0, r1) of y[n][rows]. */
static void batch_rows(float *y, const slm_weight *w, const void *x, size_t xs, int n, int r0,
                       int r1, const slm_kernel_table *k)
{
    if (r0 >= r1)
        return;
    size_t rb = slm_weight_row_bytes(w->type, w->cols);
    slm_gemm_fn gemm = gemm_of(k, w);
    int chunk = is_quantized(w->type) ? TOKENS_Q8 : TOKENS_F32;
    size_t ws = w->packed ? (size_t)slm_weight_pack_rows(w->type) * rb : rb;
    const uint8_t *wr = (const uint8_t *)w->data + (size_t)r0 * rb;
    for (int t0 = 0; t0 < n; t0 += chunk) {
        int nt = n - t0 < chunk ? n - t0 : chunk;
        gemm(y + (size_t)t0 * w->rows + r0, (size_t)w->rows, wr, ws,
             (const uint8_t *)x + (size_t)t0 * xs, xs, r1 - r0, nt, w->cols);
    }
}

/* Most products one call runs together (q/k/v: 3). */
#define MAX_MULTI 8

/* One team job: products of one x (all of the same type and cols), each
   split into tasks of whole row groups; `first[i]` is product i's first
   task. `xa` is what the dots read: x itself or the quantized scratch. */
typedef struct {
    float *const *y;
    const float *x;
    const slm_weight *const *w;
    int count, n, cols, tasks;
    int first[MAX_MULTI + 1], per[MAX_MULTI], group[MAX_MULTI];
    void *xq;
    const void *xa;
    size_t xs;
    const slm_kernel_table *k;
} product_job;

static void quantize_task(void *ctx, int i, int worker)
{
    (void)worker;
    const product_job *j = ctx;
    int t0, t1;
    slm_task_range(i, j->tasks, j->n, 1, &t0, &t1);
    for (int t = t0; t < t1; t++)
        j->k->quantize_act_q8(j->x + (size_t)t * j->cols, (uint8_t *)j->xq + (size_t)t * j->xs,
                              j->cols);
}

static void rows_task(void *ctx, int task, int worker)
{
    (void)worker;
    const product_job *j = ctx;
    int i = 0;
    while (task >= j->first[i + 1])
        i++;
    int r0, r1;
    slm_task_range(task - j->first[i], j->per[i], j->w[i]->rows, j->group[i], &r0, &r1);
    if (j->n == 1)
        decode_rows(j->y[i], j->w[i], j->xa, r0, r1, j->k);
    else
        batch_rows(j->y[i], j->w[i], j->xa, j->xs, j->n, r0, r1, j->k);
}

/* Splits each product into tasks of whole row groups: decode rows come in
   groups of 16 (a cache line of y, and a whole x8 or x16 group), batch rows
   in 12s (whole tiles of 3 or 4 rows), packed rows in whole groups (8 or
   16). Tasks are spread over the products by their share of the rows. */
static void plan_tasks(product_job *j, int nt)
{
    int rows = 0;
    for (int i = 0; i < j->count; i++)
        rows += j->w[i]->rows;
    int total = slm_task_count(rows, 16, nt);
    j->first[0] = 0;
    for (int i = 0; i < j->count; i++) {
        const slm_weight *w = j->w[i];
        j->group[i] = j->n == 1 ? 16 : w->packed ? slm_weight_pack_rows(w->type) : 12;
        int groups = (w->rows + j->group[i] - 1) / j->group[i];
        int want = (int)((long)total * w->rows / (rows ? rows : 1));
        j->per[i] = want < 1 ? 1 : want > groups ? (groups ? groups : 1) : want;
        j->first[i + 1] = j->first[i] + j->per[i];
    }
    j->tasks = j->first[j->count];
}

/* Quantize x (if needed; all tokens, before any product reads them), then
   every product's rows, on up to nt threads. */
static void run_team(product_job *j, slm_team *team, int nt)
{
    if (j->xq) {
        if (j->n == 1) { /* one token: not worth a team job */
            j->k->quantize_act_q8(j->x, j->xq, j->cols);
        } else {
            j->tasks = slm_task_count(j->n, 1, nt);
            slm_team_run(team, nt, j->tasks, quantize_task, j);
        }
    }
    plan_tasks(j, nt);
    slm_team_run(team, nt, j->tasks, rows_task, j);
}

static int valid(const slm_weight *w, int n)
{
    if ((unsigned)w->type >= SLM_WEIGHT_TYPE_COUNT || w->rows < 0 || w->cols < 0 || n < 0)
        return 0;
    if (is_quantized(w->type) && w->cols % SLM_QBLOCK != 0)
        return 0;
    return !w->packed || w->rows % slm_weight_pack_rows(w->type) == 0;
}

int slm_matmul_multi(float *const *y, const float *x, const slm_weight *const *w, int count, int n,
                     slm_matmul_ctx *ctx)
{
    double work = 0;
    for (int i = 0; i < count; i++) {
        if (!valid(w[i], n))
            return -1;
        work += (double)w[i]->rows * w[i]->cols * n;
    }
    if (!ctx->kernels)
        ctx->kernels = slm_kernels_select();
    int nt = ctx->n_threads < 1 ? 1 : ctx->n_threads;
    if (work < SLM_TEAM_MIN_WORK) /* a small product is not worth sharing */
        nt = 1;
    int same = 1, rows = 0;
    for (int i = 0; i < count; i++) {
        same &= w[i]->type == w[0]->type && w[i]->cols == w[0]->cols;
        rows += w[i]->rows;
    }
    if (n == 0 || rows == 0)
        return 0;
    /* mixed products are not one team's: one after the other */
    if (!same) {
        for (int i = 0; i < count; i++)
            if (slm_matmul(y[i], x, w[i], n, ctx) != 0)
                return -1;
        return 0;
    }
    /* more products than one job plans for: in runs of MAX_MULTI */
    if (count > MAX_MULTI) {
        for (int i = 0; i < count; i += MAX_MULTI)
            if (slm_matmul_multi(y + i, x, w + i, count - i < MAX_MULTI ? count - i : MAX_MULTI, n,
                                 ctx) != 0)
                return -1;
        return 0;
    }
    int cols = w[0]->cols;
    product_job j = {.y = y, .x = x, .w = w, .count = count, .n = n, .cols = cols,
                     .k = ctx->kernels, .xa = x, .xs = (size_t)cols * sizeof(float)};
    if (is_quantized(w[0]->type)) {
        j.xs = (size_t)(cols / SLM_QBLOCK) * SLM_ACT_Q8_BYTES;
        size_t bytes = (size_t)n * j.xs;
        if (ensure_scratch(ctx, bytes ? bytes : 1) != 0)
            return -1;
        j.xq = ctx->buf;
        j.xa = j.xq;
    }
    run_team(&j, team_of(ctx, nt), nt);
    return 0;
}

int slm_matmul(float *y, const float *x, const slm_weight *w, int n, slm_matmul_ctx *ctx)
{
    return slm_matmul_multi(&y, x, &w, 1, n, ctx);
}

void slm_matmul_ref(float *y, const float *x, const slm_weight *w, int n)
{
    const slm_kernel_table *k = &slm_kernels_scalar;
    if (w->packed && !is_quantized(w->type)) {
        /* x16 floats: the reference over the same values as rows again (so
           it is bit for bit the row-major reference) */
        size_t rb = slm_weight_row_bytes(w->type, w->cols), es = w->type == SLM_WEIGHT_F32 ? 4 : 2;
        uint8_t *rows = malloc(rb * (size_t)w->rows + 1);
        if (!rows)
            return;
        for (int r = 0; r < w->rows; r++)
            for (int i = 0; i < w->cols; i++)
                memcpy(rows + (size_t)r * rb + (size_t)i * es,
                       (const uint8_t *)w->data + (size_t)(r - r % 16) * rb +
                           ((size_t)i * 16 + (size_t)(r % 16)) * es,
                       es);
        slm_weight u = {w->type, rows, w->rows, w->cols, 0};
        slm_matmul_ref(y, x, &u, n);
        free(rows);
        return;
    }
    if (w->type == SLM_WEIGHT_F32) {
        slm_matmul_f32_ref(y, x, w->data, n, w->rows, w->cols);
        return;
    }
    size_t rb = slm_weight_row_bytes(w->type, w->cols);
    int nb = w->cols / SLM_QBLOCK;
    for (int t = 0; t < n; t++) {
        const float *xt = x + (size_t)t * w->cols;
        for (int r = 0; r < w->rows; r++) {
            const uint8_t *row = (const uint8_t *)w->data + (size_t)r * rb;
            float *out = y + (size_t)t * w->rows + r;
            if (w->type == SLM_WEIGHT_F16) {
                *out = k->dot_f16((const uint16_t *)row, xt, w->cols);
            } else if (w->type == SLM_WEIGHT_BF16) {
                *out = k->dot_bf16((const uint16_t *)row, xt, w->cols);
            } else {
                /* one block of activations at a time (no scratch to
                   allocate): the same per-block terms, added in order */
                float acc = 0.0f;
                for (int b = 0; b < nb; b++) {
                    slm_act_q8 blk;
                    k->quantize_act_q8(xt + b * SLM_QBLOCK, &blk, SLM_QBLOCK);
                    uint8_t wb[SLM_Q8_0_BYTES]; /* row-major, also when w is packed */
                    slm_weight_block(w, r, b, wb);
                    acc += w->type == SLM_WEIGHT_Q8_0 ? k->dot_q8_0(wb, &blk, SLM_QBLOCK)
                                                      : k->dot_q4_0(wb, &blk, SLM_QBLOCK);
                }
                *out = acc;
            }
        }
    }
}
