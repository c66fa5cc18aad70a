/*
 * weight.h — weight matrices in the storage types slm computes with, and the
 * product y = x · Wᵀ over them.
 *
 * Storage types (row-major, rows of `cols` elements; quantized types need
 * cols % 32 == 0). The block layouts are slm's documented convention (the
 * same bytes as ggml's Q8_0/Q4_0, so a model quantized either way holds the
 * same numbers):
 *   F32   float
 *   F16   IEEE half (uint16)
 *   BF16  bfloat16 (uint16)
 *   Q8_0  per 32 weights, 34 bytes: f16 scale d, int8 q[32];   w[i] = d * q[i]
 *   Q4_0  per 32 weights, 18 bytes: f16 scale d, uint8 p[16];  w[i] = d * (nib[i] - 8)
 *         where nib[i] = p[i] & 15 for i < 16 and p[i-16] >> 4 for i >= 16.
 * Quantizing (round to nearest, d = max|w| / 127 for Q8_0; d = signed max / -8
 * for Q4_0 so the extreme maps to -8 exactly) is in quant.c. In memory, a
 * quantized matrix may also be `packed`: its rows interleaved 8 at a time
 * (pack.c), the layout the AVX2/AVX-512 products read fastest; a float
 * matrix (F32/F16/BF16) packed has its rows interleaved 16 at a time,
 * element by element (x16, pack.c), the layout the AVX-512 products read
 * fastest. Files always hold the row-major rows above.
 *
 * Products against quantized weights quantize the activations on the fly to
 * SLM_ACT_Q8 blocks (slm_act_q8 below: per 32 values, 40 bytes: float d,
 * int32 sum = Σq, int8 q[32]) and use integer dot products, like llama.cpp's
 * q8_0 x q8_0. The sum lets an unsigned-offset weight (Q4_0's nib = w + 8, or
 * Q8_0's w + 128 for VNNI's u8 x s8 product) be corrected once per block, and
 * it is an integer (not d·Σq) so that correction stays exact.
 * Activation rounding: d = amax / 127, q = round_half_away(x · (127 / amax)),
 * bit-identical in every ISA's quantize_act_q8 (see dispatch.h).
 */
#ifndef SLM_WEIGHT_H
#define SLM_WEIGHT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SLM_WEIGHT_F32,
    SLM_WEIGHT_F16,
    SLM_WEIGHT_BF16,
    SLM_WEIGHT_Q8_0,
    SLM_WEIGHT_Q4_0,
    SLM_WEIGHT_TYPE_COUNT
} slm_weight_type;

#define SLM_QBLOCK 32
#define SLM_Q8_0_BYTES 34
#define SLM_Q4_0_BYTES 18
#define SLM_ACT_Q8_BYTES 40

/* One block of quantized activations (4-byte aligned: it lives in scratch). */
typedef struct {
    float d;       /* x[i] ≈ d * q[i] */
    int32_t sum;   /* Σ q[i] */
    int8_t q[SLM_QBLOCK];
} slm_act_q8;

typedef struct {
    slm_weight_type type;
    const void *data; /* rows x slm_weight_row_bytes(type, cols) bytes */
    int rows;
    int cols;
    int packed; /* rows interleaved: Q8_0/Q4_0 in groups of 8 (x8), F32/F16/BF16
                   in groups of 16 (x16); see pack.c */
} slm_weight;

const char *slm_weight_type_name(slm_weight_type t); /* "f32", "f16", "bf16", "q8_0", "q4_0" */
int slm_weight_type_parse(const char *name, slm_weight_type *out); /* 0 ok, -1 unknown */
size_t slm_weight_row_bytes(slm_weight_type t, int cols);
/* Bits per weight, for bandwidth figures (8.5 for Q8_0, 4.5 for Q4_0). */
double slm_weight_bits(slm_weight_type t);

/* ------------------------------------------------------- quantization (quant.c) */

/* Writes a Q8_0 / Q4_0 block's f16 scale for max |x| = amax (sign bit set
 * when `negative`: Q4_0's largest element is > 0), as quant.c documents,
 * and returns it as a float; when it is 0 the block's quants (decoding to
 * 0) are written too and the block is done. Shared with the ISA quantizers
 * so they give the same bytes. */
float slm_quant_block_scale(uint8_t *blk, slm_weight_type t, float amax, int negative);
void slm_quantize_row_q8_0(const float *x, void *dst, int n);
void slm_quantize_row_q4_0(const float *x, void *dst, int n);
void slm_dequantize_row(slm_weight_type t, const void *src, float *dst, int n);
/* Converts/quantizes n values of f32 into a row of type t. */
void slm_encode_row(slm_weight_type t, const float *x, void *dst, int n);

/* ------------------------------------------------- x8 interleaving (pack.c) */

/* The x8 layout (described in pack.c) stores each group of 8 rows of a
 * Q8_0/Q4_0 matrix block by block, the 8 rows' blocks interleaved, in the
 * same number of bytes; a product then reads the group front to back and one
 * SIMD lane per row. Only the in-memory layout changes: files keep rows. */

/* The x16 layout (pack.c) stores each group of 16 rows of a float matrix
 * element by element: element i of the 16 rows, then element i + 1, ...; a
 * product reads one vector of 16 rows per element. */

/* Rows per packed group: 8 for Q8_0/Q4_0, 16 for the float types. */
int slm_weight_pack_rows(slm_weight_type t);
/* 1 when w (unpacked) can be interleaved: rows % slm_weight_pack_rows == 0
 * (and, quantized, cols % 32 == 0). */
int slm_weight_packable(const slm_weight *w);
/* Interleaves w's rows into dst (w->rows x row bytes; may equal w->data: the
 * packing goes group by group through a group-sized buffer). On success
 * w->data = dst and w->packed = 1. Returns 0, or -1 if w is not packable or
 * the buffer could not be allocated. */
int slm_weight_pack(slm_weight *w, void *dst);
/* Quantized w, packed or not: block b of row r in the row-major block
 * layout (34 / 18 bytes at dst), and the whole row r (row bytes at dst). */
void slm_weight_block(const slm_weight *w, int r, int b, void *dst);
void slm_weight_row_blocks(const slm_weight *w, int r, void *dst);
/* Row r of w decoded to f32 (cols floats), packed or not. */
void slm_weight_row_f32(const slm_weight *w, int r, float *dst);
/* Rows [first, first + count) of w as a matrix of their own (first and count
 * multiples of slm_weight_pack_rows when w is packed). */
slm_weight slm_weight_rows(const slm_weight *w, int first, int count);

/* ------------------------------------------------------------- products */

struct slm_kernel_table; /* dispatch.h */

/* Scratch for one product call chain: converted/quantized activations.
 * Owned by the caller (a session); zero-initialise it. slm_matmul grows buf
 * as needed and, when `kernels` is NULL, stores slm_kernels_select()'s table
 * there on first use (so the CPU and SLM_ISA are probed once per context,
 * not per call; set it yourself to force a table, as the tests do).
 * Products run on up to n_threads threads of `team` (borrowed: a model's);
 * with team NULL and n_threads > 1 the context starts its own on first use
 * (`own_team`, stopped by slm_matmul_ctx_free). */
typedef struct {
    void *buf;
    size_t cap;
    int n_threads;
    const struct slm_kernel_table *kernels;
    struct slm_team *team;
    struct slm_team *own_team;
} slm_matmul_ctx;

void slm_matmul_ctx_free(slm_matmul_ctx *ctx);

/* y[n][w->rows] = x[n][w->cols] · Wᵀ for any weight type, threaded over
 * output rows (ctx->n_threads threads of ctx->team), on the context's kernel
 * table. Batch invariant: y[t][r] is a function of row r of W and token t of
 * x only, bit for bit (not of n, the thread count or the other tokens), for
 * every weight type and table (dispatch.h), so a token gives the same bits in
 * any batch and alone (n = 1).
 * Returns 0, or -1 if the scratch could not be allocated or the weight is
 * invalid (unknown type, negative sizes, quantized cols % 32 != 0, packed
 * with rows % 8 != 0 or a float type). */
int slm_matmul(float *y, const float *x, const slm_weight *w, int n, slm_matmul_ctx *ctx);

/* count products of the same x: y[i][n][w[i]->rows] = x · W[i]ᵀ. When all
 * W[i] share type and cols they run in one team, with x quantized once (how
 * q/k/v and gate/up go: one wake-up and one barrier instead of three);
 * otherwise one after the other. Returns as slm_matmul. */
int slm_matmul_multi(float *const *y, const float *x, const slm_weight *const *w, int count, int n,
                     slm_matmul_ctx *ctx);

/* Scalar reference of slm_matmul (single thread, same rounding of activations
 * for quantized types), for differential tests. */
void slm_matmul_ref(float *y, const float *x, const slm_weight *w, int n);

#endif
