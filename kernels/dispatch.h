/*
 * dispatch.h — per-ISA kernel tables, chosen once at start-up.
 *
 * Every entry has a scalar version (kernels/ref/) and, where it pays, ISA
 * versions in their own files (kernels/x86/avx2_*.c, kernels/x86/avx512_*.c,
 * kernels/arm/neon_*.c), each compiled with only its ISA's flags so that the
 * binary runs anywhere and picks the best table the CPU supports.
 * SLM_ISA=scalar|avx2|avx512|neon (environment) forces one; an unsupported
 * request falls back to the best available (the returned table's `isa` then
 * differs from slm_isa_from_env's answer, which is how a caller reports it).
 *
 * What each table needs from the CPU (slm_isa_supported checks it, and the
 * OS's XSAVE support of the register state):
 *   avx2    AVX2 + FMA + F16C
 *   avx512  AVX-512 F/BW/VL + VNNI (+ the AVX2 set); BF16 is not used: bf16
 *           weights are widened to f32 with a shift so products stay exact
 *   neon    AdvSIMD (+ dotprod when the build enables __ARM_FEATURE_DOTPROD)
 *   amx     the avx512 set + AMX-TILE/AMX-INT8, the OS's XTILE state, and the
 *           process's permission to use it (asked for with
 *           arch_prctl(ARCH_REQ_XCOMP_PERM) when probed: Linux grants tile
 *           state only on request). The avx512 table with the integer part of
 *           its x8-packed Q8_0/Q4_0 batch products on tiles: the same bits
 *           (amx_gemm.c).
 * slm_isa_best's order is measured, not assumed (see dispatch.c).
 */
#ifndef SLM_DISPATCH_H
#define SLM_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SLM_ISA_SCALAR,
    SLM_ISA_AVX2,
    SLM_ISA_AVX512,
    SLM_ISA_NEON,
    SLM_ISA_AMX,
    SLM_ISA_COUNT
} slm_isa;

/* Tiled product, for one token (decode, nt == 1) or a batch: for r < nr and
 * t < nt
 *   y[t * ldy + r] = dot(row r of w, token t of x), k elements each.
 * Rows of w are w_stride bytes apart; tokens of x are x_stride bytes apart
 * and are f32 for f32/f16/bf16 weights, SLM_ACT_Q8 blocks for q8_0/q4_0 (k %
 * 32 == 0). Each weight block loaded is used for several tokens.
 *
 * Batch invariance (every table, every gemm entry): y[t * ldy + r] is a
 * function of row r and token t only, bit for bit: the same whatever nr, nt,
 * the place of r and t in a tile or on a ragged edge, and the same as the
 * table's dot entry of that row and token. Each table fixes one per-element
 * arithmetic per type (which lane accumulates which products, in which order,
 * the k tail, the final lane sum; described in its file) and every path of
 * the table (decode, full tiles, edges, dots) runs exactly that. */
typedef void (*slm_gemm_fn)(float *y, size_t ldy, const void *w, size_t w_stride,
                            const void *x, size_t x_stride, int nr, int nt, int k);

typedef struct slm_kernel_table {
    slm_isa isa;
    const char *name;
    /* dot products of one weight row with activations, n elements (a multiple
       of 32 for the quantized ones; xq is SLM_ACT_Q8 blocks). Rows may be
       unaligned (only the element size's alignment for f16/bf16/f32). */
    float (*dot_f32)(const float *w, const float *x, int n);
    float (*dot_f16)(const uint16_t *w, const float *x, int n);
    float (*dot_bf16)(const uint16_t *w, const float *x, int n);
    float (*dot_q8_0)(const void *w, const void *xq, int n);
    float (*dot_q4_0)(const void *w, const void *xq, int n);
    /* x[n] (n % 32 == 0) into SLM_ACT_Q8 blocks; bit-identical across ISAs */
    void (*quantize_act_q8)(const float *x, void *xq, int n);
    /* n halves to f32 (exact), for converting panels of W before sgemm */
    void (*f16_to_f32)(const uint16_t *src, float *dst, int n);
    void (*bf16_to_f32)(const uint16_t *src, float *dst, int n);
    /* tiled products, see slm_gemm_fn (decode and prompt batches) */
    slm_gemm_fn gemm_f32;
    slm_gemm_fn gemm_f16;
    slm_gemm_fn gemm_bf16;
    slm_gemm_fn gemm_q8_0;
    slm_gemm_fn gemm_q4_0;
    /* the same over x8-packed Q8_0/Q4_0 weights (pack.c): w points at a group
       of 8 rows, w_stride is the bytes of one group and nr % 8 == 0. With one
       token (nt == 1) this is the decode matvec. */
    slm_gemm_fn gemm_q8_0x8;
    slm_gemm_fn gemm_q4_0x8;
    /* the same over x16-packed F32/F16/BF16 weights (pack.c): w points at a
       group of 16 rows, w_stride is the bytes of one group, nr % 16 == 0;
       x is f32 tokens. Each output is one FMA chain over k in element order
       (no lane split), the same for every nt. */
    slm_gemm_fn gemm_f32x16;
    slm_gemm_fn gemm_f16x16;
    slm_gemm_fn gemm_bf16x16;
    /* 1 when the x8 products are the faster ones on this table: the loader
       then packs every packable quantized matrix (measured, bench_kernels) */
    int prefers_x8;
    /* 1 when the x16 float products are the faster ones: the loader then
       packs a decoder's float matrices (measured, bench_kernels) */
    int prefers_x16;
    /* y = x · wᵀ (+ bias) in f32, single-threaded: x is n x k (row stride
       ldx), w rows x k (ldw), y n x rows (ldy), bias NULL or rows floats
       (bias[r] added to column r, the sums starting from it). For the
       encoder's products (slm_matmul_f32_bias), which need no batch
       invariance; NULL where OpenBLAS's sgemm is the one used. Returns 0,
       or -1 when its scratch could not be allocated. */
    int (*sgemm_nt)(float *y, size_t ldy, const float *x, size_t ldx, const float *w,
                    size_t ldw, int n, int rows, int k, const float *bias);
    /* y (m x n, row stride ldy) = A · B, or y += A · B when accumulate, in
       f32, single-threaded: A[r][i] = a[r·a_rs + i·a_ks] (a_ks = 1: A
       row-major; a_rs = 1: A stored transposed), B k x n row-major (ldb).
       For attention's products with K and V as the cache holds them. No
       scratch, cannot fail; NULL where OpenBLAS's sgemm is the one used. */
    void (*sgemm_ab)(float *y, size_t ldy, const float *a, size_t a_rs, size_t a_ks,
                     const float *b, size_t ldb, int m, int n, int k, int accumulate);
    /* n f32 values (n % 32 == 0) into Q8_0 / Q4_0 blocks, byte for byte what
       slm_quantize_row_q8_0 / _q4_0 (quant.c) write; NULL: those are used
       (slm_encode_row_with). For weights converted at load time. */
    void (*quantize_row_q8_0)(const float *x, void *dst, int n);
    void (*quantize_row_q4_0)(const float *x, void *dst, int n);
} slm_kernel_table;

/* slm_encode_row (weight.h) through kt's quantizers where it has them. */
void slm_encode_row_with(const slm_kernel_table *kt, int type, const float *x, void *dst, int n);

/* True when the running CPU (and OS) supports the ISA. */
int slm_isa_supported(slm_isa isa);
/* True when this build holds the ISA's table (whatever the CPU). */
int slm_isa_compiled(slm_isa isa);
slm_isa slm_isa_best(void);
const char *slm_isa_name(slm_isa isa);
int slm_isa_parse(const char *name, slm_isa *out); /* 0 ok, -1 unknown */
/* SLM_ISA from the environment: 0 if unset or empty, 1 if set to a known
 * name (*out filled), -1 if set to an unknown one. */
int slm_isa_from_env(slm_isa *out);

/* The table for `isa` if supported, else the best supported one. */
const slm_kernel_table *slm_kernels_for(slm_isa isa);
/* The table the process uses: SLM_ISA from the environment, else the best.
 * Pure function of the CPU and environment (no cached mutable state): it runs
 * CPUID each call, so callers keep the pointer (slm_matmul_ctx does). */
const slm_kernel_table *slm_kernels_select(void);

/* The scalar x8 and x16 products (dot_ref.c), for tables without their own. */
void slm_gemm_f32x16_ref(float *y, size_t ldy, const void *w, size_t w_stride, const void *x,
                         size_t x_stride, int nr, int nt, int k);
void slm_gemm_f16x16_ref(float *y, size_t ldy, const void *w, size_t w_stride, const void *x,
                         size_t x_stride, int nr, int nt, int k);
void slm_gemm_bf16x16_ref(float *y, size_t ldy, const void *w, size_t w_stride, const void *x,
                          size_t x_stride, int nr, int nt, int k);
void slm_gemm_q8_0x8_ref(float *y, size_t ldy, const void *w, size_t w_stride, const void *x,
                         size_t x_stride, int nr, int nt, int k);
void slm_gemm_q4_0x8_ref(float *y, size_t ldy, const void *w, size_t w_stride, const void *x,
                         size_t x_stride, int nr, int nt, int k);

/* Per-ISA tables (defined in the ISA files; NULL where not compiled). They
 * return the table even when the CPU lacks the ISA: check slm_isa_supported
 * before calling through it. */
extern const slm_kernel_table slm_kernels_scalar;
const slm_kernel_table *slm_kernels_avx2(void);
const slm_kernel_table *slm_kernels_avx512(void);
const slm_kernel_table *slm_kernels_neon(void);
const slm_kernel_table *slm_kernels_amx(void);

#endif
