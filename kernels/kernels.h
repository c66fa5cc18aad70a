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

/* ------------------------------------------------------------- products */

/* y[n][rows] = x[n][cols] · W[rows][cols]ᵀ, f32 throughout.
 * n == 1 runs a threaded matrix-vector product; n > 1 uses BLAS sgemm. */
void slm_matmul_f32(float *y, const float *x, const float *w, int n, int rows, int cols,
                    int n_threads);

/* Scalar reference of the above, single-threaded. */
void slm_matmul_f32_ref(float *y, const float *x, const float *w, int n, int rows, int cols);

/* ------------------------------------------------------- normalisation */

/* out = x / sqrt(mean(x²) + eps) * w  (Llama RMSNorm; out may alias x). */
void slm_rmsnorm(float *out, const float *x, const float *w, int n, float eps);

/* ------------------------------------------------------------- RoPE */

/* Fills cos/sin[head_dim/2] for position `pos`: angle_i = pos * inv_freq[i]. */
void slm_rope_angles(float *cos_out, float *sin_out, const float *inv_freq, int half, int pos);

/* Rotates each of n_heads vectors of head_dim in place, Hugging Face
 * "rotate_half" layout: pairs (i, i + head_dim/2). */
void slm_rope_rotate_half(float *x, int n_heads, int head_dim, const float *cos_t,
                          const float *sin_t);

/* ------------------------------------------------------ activations */

/* gate[i] = silu(gate[i]) * up[i]  (SwiGLU). */
void slm_silu_mul(float *gate, const float *up, int n);

/* In-place numerically stable softmax of x[n]. */
void slm_softmax(float *x, int n);

/* ------------------------------------------------------- attention */

/* One query head against n_pos cached keys/values, with an online softmax
 * (no n_pos-sized score buffer):
 *   out[d] = Σ_t softmax_t(scale · q·k_t) · v_t[d]
 * k_t = k + t*stride and v_t = v + t*stride. */
void slm_attention_head(float *out, const float *q, const float *k, const float *v, int n_pos,
                        int head_dim, size_t stride, float scale);

#endif
