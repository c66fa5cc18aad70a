/*
 * kernels.h — the math of a transformer forward pass, and nothing else.
 *
 * Contract: kernels know shapes and numbers only (no models, files or CLI).
 * Matrices are row-major. A weight matrix W is [rows][cols] as PyTorch's
 * nn.Linear stores it, so a product computes y = x · Wᵀ.
 * Every kernel here has a plain scalar reference in kernels/ref/; faster
 * versions must agree with it within the bound stated in their tests.
 */
#ifndef SLM_KERNELS_H
#define SLM_KERNELS_H

#include <stddef.h>

#include "dtype.h"
#include "team.h"

/* ------------------------------------------------------------- products */

/* y[n][rows] = x[n][cols] · W[rows][cols]ᵀ, f32 throughout, on up to
 * n_threads threads of `team` (NULL: the caller alone; team.h).
 * n == 1 runs a threaded matrix-vector product; n > 1 the kernel table's
 * sgemm_nt (dispatch.h) or, where it has none, BLAS sgemm. Returns 0, or -1
 * when a product's scratch could not be allocated. */
int slm_matmul_f32(float *y, const float *x, const float *w, int n, int rows, int cols,
                   slm_team *team, int n_threads);

/* Element-wise work fused after a product. */
typedef enum { SLM_ACT_NONE, SLM_ACT_GELU } slm_act;

/* y = act(x · Wᵀ + bias) for the shapes of slm_matmul_f32 (bias[rows] may be
 * NULL); each thread applies bias and act to its own slice of y. */
int slm_matmul_f32_bias(float *y, const float *x, const float *w, const float *bias,
                        slm_act act, int n, int rows, int cols, slm_team *team, int n_threads);

/* Scalar reference of the above, single-threaded. */
void slm_matmul_f32_ref(float *y, const float *x, const float *w, int n, int rows, int cols);

/* ------------------------------------------------------- normalisation */

/* out = x / sqrt(mean(x²) + eps) * w  (Llama RMSNorm; out may alias x). */
void slm_rmsnorm(float *out, const float *x, const float *w, int n, float eps);

/* out = (x - mean) / sqrt(var + eps) * w + b  (LayerNorm; out may alias x). */
void slm_layernorm(float *out, const float *x, const float *w, const float *b, int n, float eps);

/* x = LayerNorm(x + y + bias) * w + b over one row of n (the post-LN
 * residual of an encoder layer, with the sublayer's bias folded in). */
void slm_add_layernorm(float *x, const float *y, const float *bias, const float *w,
                       const float *b, int n, float eps);

/* ------------------------------------------------------------- RoPE */

/* Fills cos/sin[half] for position `pos`: angle_i = pos * inv_freq[i], both
 * multiplied by `scale` (an attention factor; 1 for plain RoPE). */
void slm_rope_angles(float *cos_out, float *sin_out, const float *inv_freq, int half, int pos,
                     float scale);

/* Rotates the first rot_dim dimensions of each of n_heads vectors of head_dim
 * in place, Hugging Face "rotate_half" layout: pairs (i, i + rot_dim/2). */
void slm_rope_rotate_half(float *x, int n_heads, int head_dim, int rot_dim, const float *cos_t,
                          const float *sin_t);

/* ------------------------------------------------------ activations */

/* gate[i] = silu(gate[i]) * up[i]  (SwiGLU). */
void slm_silu_mul(float *gate, const float *up, int n);

/* x = 0.5 x (1 + erf(x / sqrt 2))  (exact GELU, as PyTorch's default), with
 * an inline erfc (kernels/vmath.h) that vectorises: within 1e-6·max(1, |x|)
 * of the exact value. */
void slm_gelu(float *x, size_t n);

/* Each of the n rows of x[n][cols]: x = gelu(x + bias), in one pass. */
void slm_bias_gelu(float *x, const float *bias, int n, int cols);

/* x = max(x, 0). */
void slm_relu(float *x, size_t n);

/* Adds bias[cols] to each of the n rows of x[n][cols]. */
void slm_add_bias(float *x, const float *bias, int n, int cols);

/* Σ x[i] and max x[i] of a row (n >= 1 for the max), vectorised (reduce_ref.c). */
float slm_row_sum(const float *x, int n);
float slm_row_max(const float *x, int n);

/* x[i] = e^(x[i] - shift), vectorised (slm_vexpf, vmath.h): softmax numerators. */
void slm_exp_shifted(float *x, int n, float shift);

/* In-place numerically stable softmax of x[n]. */
void slm_softmax(float *x, int n);

/* ------------------------------------------------------- attention */

/* One query head against n_pos cached keys/values, with an online softmax
 * (no n_pos-sized score buffer):
 *   out[d] = Σ_t softmax_t(scale · q·k_t) · v_t[d]
 * k_t = k + t*stride and v_t = v + t*stride. */
void slm_attention_head(float *out, const float *q, const float *k, const float *v, int n_pos,
                        int head_dim, size_t stride, float scale);

/* Bidirectional attention of whole packed sequences (an encoder): sequence b
 * is rows offsets[b] .. offsets[b] + lengths[b] of q, k, v and out, each row
 * n_heads * head_dim floats with head h at column h * head_dim; every token
 * attends to all tokens of its sequence. Per head and sequence:
 * out = softmax(scale · Q·Kᵀ)·V as two sgemms, (sequence, head) pairs
 * spread over n_threads of team. Returns 0, or -1 if score scratch
 * (lengths² floats per thread) could not be allocated. */
int slm_attention_encoder(float *out, const float *q, const float *k, const float *v,
                          const int *offsets, const int *lengths, int batch, int n_heads,
                          int head_dim, float scale, slm_team *team, int n_threads);

/* Keys or values of one KV head over positions, in a cache element type:
 *   F32  float[head_dim] per position
 *   F16  IEEE half[head_dim] per position
 *   Q8   int8[head_dim] per position, times scale[pos * scale_stride]
 * Row t starts at data + t * stride bytes. */
typedef enum { SLM_KV_ELEM_F32, SLM_KV_ELEM_F16, SLM_KV_ELEM_Q8 } slm_kv_elem;

typedef struct {
    slm_kv_elem type;
    const void *data;
    size_t stride;       /* bytes between positions */
    const float *scale;  /* Q8 only */
    size_t scale_stride; /* floats between positions' scales */
} slm_kv_view;

/* Position t of a view decoded to d floats (attention_ref.c). */
void slm_kv_row_f32(const slm_kv_view *kv, int t, int d, float *out);

/* slm_attention_head over a KV cache of any element type (online softmax
 * over blocks of SLM_ATT_BLOCK keys; the scalar reference, attention_ref.c). */
#define SLM_ATT_BLOCK 16
void slm_attention_head_kv(float *out, const float *q, const slm_kv_view *k,
                           const slm_kv_view *v, int n_pos, int head_dim, float scale);

/* The same with a kernel table's ISA (dispatch.h; NULL: the scalar code),
 * bit-identical to slm_attention_head_kv (attention_head.c): on the AVX2 and
 * AVX-512 tables an f16 cache is read in place, its halves widened in
 * registers (F16C), instead of each row being decoded into a buffer. */
struct slm_kernel_table;
void slm_attention_head_kv_with(const struct slm_kernel_table *kt, float *out, const float *q,
                                const slm_kv_view *k, const slm_kv_view *v, int n_pos,
                                int head_dim, float scale);

/* Encodes one head's row of head_dim floats into the element type; for Q8
 * the scale (max|x| / 127) is written to *scale. */
void slm_kv_encode(slm_kv_elem type, const float *x, void *dst, float *scale, int head_dim);

/* Causal attention of nt consecutive prompt tokens (positions pos0 ..
 * pos0+nt-1) for the nh query heads that share one KV head, as sgemm tiles
 * (attention_causal.c). Query row (token t, head j) is q[t·q_stride + j·d],
 * its output out[t·q_stride + j·d]. The token at position p sees keys
 * max(0, p - window + 1) .. p of k and v (views starting at position 0;
 * window <= 0: no window), the same result as slm_attention_head_kv per row.
 * scratch: slm_attention_causal_scratch(nh, nt, d) floats, per caller. BLAS
 * runs in the calling thread (set OpenBLAS to 1 thread inside OpenMP). */
size_t slm_attention_causal_scratch(int nh, int nt, int d);
/* BLAS routines run in the calling thread (blas.c): call before a team's BLAS work. */
void slm_blas_single_threaded(void);
/* kt: the kernel table whose sgemm_ab does the products (NULL, or a table
 * without one: BLAS's sgemm). */
void slm_attention_causal(const struct slm_kernel_table *kt, float *out, const float *q,
                          size_t q_stride, int nh, int nt, int pos0, int window,
                          const slm_kv_view *k, const slm_kv_view *v, int d, float scale,
                          float *scratch);

#endif
