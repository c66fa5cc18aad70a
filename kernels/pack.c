/*
 * pack.c — the x8 interleaved layout of Q8_0/Q4_0 matrices (weight.h), and
 * reading rows back out of it.
 *
 * Why: decode reads every weight once per token, so its speed is the memory
 * stream's; prefill reuses each weight block for several tokens, so its speed
 * is the integer units'. Row-major blocks serve neither well on AVX2: a
 * matvec that runs 8 rows at once reads 8 short streams, and each row's
 * block ends in a horizontal sum and a scale of its own. With 8 rows
 * interleaved, a group is read front to back as one stream, and one 32-byte
 * load holds 4 quants of each of the 8 rows, so the 8 int32 lanes of a dot
 * instruction accumulate 8 different rows: no horizontal sums, and one
 * convert and one FMA scale the blocks of all 8 rows.
 *
 * Layout. Group g holds rows 8g .. 8g+7 as nb = cols / 32 block groups, in
 * order; block group b is
 *     f16 d[8]                              the 8 rows' scales of block b
 *     for chunk c = 0 .. C-1:
 *         for row i = 0 .. 7: 4 bytes       chunk c of row i's quant bytes
 *   Q8_0: C = 8, chunk c = q[4c .. 4c+3]  (elements 4c .. 4c+3)
 *   Q4_0: C = 4, chunk c = p[4c .. 4c+3]  (low nibbles: elements 4c .. 4c+3,
 *                                          high nibbles: 16+4c .. 16+4c+3)
 * 16 + 8·32 = 272 = 8 x 34 bytes (Q8_0) and 16 + 4·32 = 144 = 8 x 18 (Q4_0):
 * a group takes exactly the bytes of its 8 rows, so a slice of whole groups
 * (slm_weight_rows) is still a contiguous range.
 *
 * The x16 layout of F32/F16/BF16 matrices: group g holds rows 16g .. 16g+15
 * as cols vectors of 16 elements, vector i = element i of each of the 16
 * rows (elements of the type's size, 16 x cols of them: the group's bytes).
 * Why: a product then keeps one accumulator lane per row and reads one
 * vector per element, so each output is one FMA chain in element order
 * with no horizontal sums, for one token (decode: a contiguous stream) as
 * for a batch (a register tile of rows x tokens, the weight vector reused
 * by every token of the tile, the token's element broadcast).
 */
#include <stdlib.h>
#include <string.h>

#include "weight.h"

#define X8 8
#define X16 16

static int quant_bytes(slm_weight_type t) /* quant bytes per block (no scale) */
{
    return t == SLM_WEIGHT_Q8_0 ? SLM_Q8_0_BYTES - 2 : SLM_Q4_0_BYTES - 2;
}

static int is_quant(slm_weight_type t) { return t == SLM_WEIGHT_Q8_0 || t == SLM_WEIGHT_Q4_0; }

static size_t elem_bytes(slm_weight_type t) { return t == SLM_WEIGHT_F32 ? 4 : 2; }

int slm_weight_pack_rows(slm_weight_type t) { return is_quant(t) ? X8 : X16; }

int slm_weight_packable(const slm_weight *w)
{
    if (w->packed || (unsigned)w->type >= SLM_WEIGHT_TYPE_COUNT || w->rows <= 0)
        return 0;
    if (is_quant(w->type))
        return w->rows % X8 == 0 && w->cols % SLM_QBLOCK == 0;
    return w->rows % X16 == 0 && w->cols > 0;
}

/* One x16 group: 16 row-major rows (src, rb bytes apart) into dst. */
static void pack_group16(const uint8_t *src, size_t rb, size_t es, uint8_t *dst, int cols)
{
    for (int i = 0; i < cols; i++)
        for (int j = 0; j < X16; j++, dst += es)
            memcpy(dst, src + j * rb + (size_t)i * es, es);
}

/* One group: 8 row-major rows (src, rb bytes apart) into dst. */
static void pack_group(slm_weight_type t, const uint8_t *src, size_t rb, uint8_t *dst, int nb)
{
    int qb = quant_bytes(t), bb = qb + 2, chunks = qb / 4;
    for (int b = 0; b < nb; b++) {
        for (int i = 0; i < X8; i++)
            memcpy(dst + 2 * i, src + i * rb + (size_t)b * bb, 2);
        uint8_t *q = dst + 2 * X8;
        for (int c = 0; c < chunks; c++)
            for (int i = 0; i < X8; i++, q += 4)
                memcpy(q, src + i * rb + (size_t)b * bb + 2 + 4 * c, 4);
        dst += (size_t)X8 * bb;
    }
}

int slm_weight_pack(slm_weight *w, void *dst)
{
    if (!slm_weight_packable(w))
        return -1;
    int per = slm_weight_pack_rows(w->type);
    size_t rb = slm_weight_row_bytes(w->type, w->cols), gb = (size_t)per * rb;
    uint8_t *rows = malloc(gb);
    if (!rows)
        return -1;
    int nb = w->cols / SLM_QBLOCK;
    for (int g = 0; g < w->rows / per; g++) {
        /* through a copy: dst may be the source itself */
        memcpy(rows, (const uint8_t *)w->data + g * gb, gb);
        if (per == X8)
            pack_group(w->type, rows, rb, (uint8_t *)dst + g * gb, nb);
        else
            pack_group16(rows, rb, elem_bytes(w->type), (uint8_t *)dst + g * gb, w->cols);
    }
    free(rows);
    w->data = dst;
    w->packed = 1;
    return 0;
}

void slm_weight_block(const slm_weight *w, int r, int b, void *dst)
{
    int bb = quant_bytes(w->type) + 2, i = r % X8;
    size_t rb = slm_weight_row_bytes(w->type, w->cols);
    if (!w->packed) {
        memcpy(dst, (const uint8_t *)w->data + (size_t)r * rb + (size_t)b * bb, bb);
        return;
    }
    const uint8_t *g = (const uint8_t *)w->data + (size_t)(r - i) * rb + (size_t)b * X8 * bb;
    uint8_t *out = dst;
    memcpy(out, g + 2 * i, 2);
    for (int c = 0; c < (bb - 2) / 4; c++)
        memcpy(out + 2 + 4 * c, g + 2 * X8 + (size_t)(c * X8 + i) * 4, 4);
}

void slm_weight_row_blocks(const slm_weight *w, int r, void *dst)
{
    int bb = quant_bytes(w->type) + 2;
    for (int b = 0; b < w->cols / SLM_QBLOCK; b++)
        slm_weight_block(w, r, b, (uint8_t *)dst + (size_t)b * bb);
}

/* Row r of an x16-packed float matrix: every 16th element of its group. */
static void row_f32_x16(const slm_weight *w, int r, float *dst)
{
    size_t rb = slm_weight_row_bytes(w->type, w->cols), es = elem_bytes(w->type);
    const uint8_t *p = (const uint8_t *)w->data + (size_t)(r - r % X16) * rb + (r % X16) * es;
    for (int i = 0; i < w->cols; i++, p += X16 * es)
        slm_dequantize_row(w->type, p, dst + i, 1);
}

void slm_weight_row_f32(const slm_weight *w, int r, float *dst)
{
    if (!w->packed) {
        size_t rb = slm_weight_row_bytes(w->type, w->cols);
        slm_dequantize_row(w->type, (const uint8_t *)w->data + (size_t)r * rb, dst, w->cols);
        return;
    }
    if (!is_quant(w->type)) {
        row_f32_x16(w, r, dst);
        return;
    }
    for (int b = 0; b < w->cols / SLM_QBLOCK; b++) { /* no row-sized buffer needed */
        uint8_t blk[SLM_Q8_0_BYTES];
        slm_weight_block(w, r, b, blk);
        slm_dequantize_row(w->type, blk, dst + b * SLM_QBLOCK, SLM_QBLOCK);
    }
}
