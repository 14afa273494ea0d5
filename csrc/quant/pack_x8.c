/* pack_x8.c — the X8 weight layout (sl_layout in kernels/kernels.h): rows packed in groups of
 * 8 whose blocks are interleaved, so that one 32-byte load holds four quants of each of 8 rows
 * and a decode kernel finishes with lane i = row i, no horizontal sums and no scale gathers.
 *
 * Group g (rows 8g .. 8g+7) occupies the same bytes as those rows in the file's layout, starting
 * at 8 g row_bytes. Inside it, block b of the 8 rows is stored at 8 b block_bytes as
 *     d[8]                 the 8 rows' f16 scales
 *     qs chunks            chunk c (4 quant bytes) of row r at 16 + 32 c + 4 r
 * where a row's quant bytes are the GGUF block's (q4_0: 16 bytes of nibble pairs, q8_0: 32 bytes
 * of int8). Rows after the last full group keep the file's layout. Packing is a byte permutation:
 * no value changes, and the gemms on X8 give the bits of the ROWS gemms.
 *
 * Also here: the scalar reference gemms on X8 (oracle of the SIMD ones) and the generic filler. */
#include "quant/pack_x8.h"

#include <string.h>

#include "kernels/fp16.h"
#include "runtime/dtype.h"

/* Quant bytes per block (after the 2-byte scale) of a packable type; 0 when not packable. */
static size_t quant_bytes(int dtype)
{
    switch (dtype) {
    case SL_DTYPE_Q4_0: return SL_QK / 2;
    case SL_DTYPE_Q8_0: return SL_QK;
    default: return 0;
    }
}

bool sl_pack_x8_supported(int dtype) { return quant_bytes(dtype) != 0; }

/* Byte offset, inside a group's packed block, of quant byte j of row r. */
static size_t qs_offset(int r, size_t j) { return 16 + 32 * (j / 4) + 4 * (size_t)r + j % 4; }

static void pack_group(size_t qb, size_t bb, int64_t nb, const uint8_t *src, size_t src_stride, uint8_t *dst)
{
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *o = dst + (size_t)b * 8 * bb;
        for (int r = 0; r < 8; r++) {
            const uint8_t *blk = src + (size_t)r * src_stride + (size_t)b * bb;
            memcpy(o + 2 * r, blk, 2);
            for (size_t j = 0; j < qb; j++) o[qs_offset(r, j)] = blk[2 + j];
        }
    }
}

void sl_pack_x8(int dtype, const void *src, size_t src_stride, int64_t N, int64_t K, void *dst)
{
    const size_t qb = quant_bytes(dtype), bb = qb + 2, row = sl_dtype_row_bytes(dtype, K);
    const int64_t nb = K / SL_QK, groups = N / 8;
    const uint8_t *s = src;
    uint8_t *d = dst;
    for (int64_t g = 0; g < groups; g++)
        pack_group(qb, bb, nb, s + (size_t)g * 8 * src_stride, src_stride, d + (size_t)g * 8 * row);
    for (int64_t r = groups * 8; r < N; r++) memcpy(d + (size_t)r * row, s + (size_t)r * src_stride, row);
}

void sl_unpack_x8_block(int dtype, const void *w, size_t row_bytes, int64_t N, int64_t r, int64_t b, void *out)
{
    const size_t qb = quant_bytes(dtype), bb = qb + 2;
    const uint8_t *base = w;
    uint8_t *o = out;
    if (r >= N / 8 * 8) {                    /* tail rows keep the file's layout */
        memcpy(o, base + (size_t)r * row_bytes + (size_t)b * bb, bb);
        return;
    }
    const uint8_t *blk = base + (size_t)(r / 8) * 8 * row_bytes + (size_t)b * 8 * bb;
    memcpy(o, blk + 2 * (r % 8), 2);
    for (size_t j = 0; j < qb; j++) o[2 + j] = blk[qs_offset((int)(r % 8), j)];
}

void sl_unpack_x8(int dtype, const void *src, int64_t N, int64_t K, void *dst, size_t dst_stride)
{
    const size_t row = sl_dtype_row_bytes(dtype, K), bb = quant_bytes(dtype) + 2;
    for (int64_t r = 0; r < N; r++)
        for (int64_t b = 0; b < K / SL_QK; b++)
            sl_unpack_x8_block(dtype, src, row, N, r, b, (uint8_t *)dst + (size_t)r * dst_stride + (size_t)b * bb);
}

/* ---- scalar reference gemms on X8 weights ---- */

/* Integer dot of one weight block (GGUF bytes) with one q8_0 activation block. */
static int32_t block_isum(int dtype, const uint8_t *wb, const sl_block_q8_0 *xb)
{
    int32_t s = 0;
    if (dtype == SL_DTYPE_Q4_0) {
        for (int j = 0; j < SL_QK / 2; j++) {
            s += ((wb[2 + j] & 0x0F) - 8) * xb->qs[j];
            s += ((wb[2 + j] >> 4) - 8) * xb->qs[j + SL_QK / 2];
        }
    } else {
        for (int j = 0; j < SL_QK; j++) s += (int8_t)wb[2 + j] * xb->qs[j];
    }
    return s;
}

/* y[t][r] = sum over blocks b, in order, of isum * (dw * dx): the ROWS reference's arithmetic. */
static void gemm_x8_ref(int dtype, int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                        int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1, int64_t N)
{
    uint8_t blk[2 + SL_QK];
    for (int64_t r = r0; r < r1; r++) {
        for (int64_t t = 0; t < T; t++) y[t * ldy + r] = 0.0f;
        for (int64_t b = 0; b < K / SL_QK; b++) {
            sl_unpack_x8_block(dtype, w, w_stride, N, r, b, blk);
            uint16_t h;
            memcpy(&h, blk, 2);
            const float dw = sl_f16_to_f32(h);
            for (int64_t t = 0; t < T; t++) {
                const sl_block_q8_0 *xb = (const sl_block_q8_0 *)((const char *)x + (size_t)t * x_stride) + b;
                y[t * ldy + r] += (float)block_isum(dtype, blk, xb) * (dw * sl_f16_to_f32(xb->d));
            }
        }
    }
}

/* The gemm contract has no N; the rows after r1's last full group are tail rows exactly when r1
 * is not a multiple of 8 (the caller's row chunks are multiples of 16 except the last). */
static int64_t n_of(int64_t r1) { return r1 % 8 ? r1 : r1 + 8; }

static void gemm_q4_0_x8_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, int64_t T,
                             float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_x8_ref(SL_DTYPE_Q4_0, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1, n_of(r1));
}

static void gemm_q8_0_x8_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, int64_t T,
                             float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_x8_ref(SL_DTYPE_Q8_0, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1, n_of(r1));
}

void sl_quant_fill_generic_x8(sl_kernel_table *t)
{
    t->gemm_x8[SL_DTYPE_Q4_0] = gemm_q4_0_x8_ref;
    t->gemm_x8[SL_DTYPE_Q8_0] = gemm_q8_0_x8_ref;
}
