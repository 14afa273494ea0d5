/* pack_x8.c — the X8 weight layout (sl_layout in kernels/kernels.h): rows packed in groups of
 * 8 whose blocks are interleaved, so that one 32-byte load holds four quant bytes of each of 8
 * rows and a decode kernel finishes with lane i = row i, no horizontal sums and no scale gathers.
 *
 * Group g (rows 8g .. 8g+7) occupies the same bytes as those rows in the file's layout, starting
 * at 8 g row_bytes. Inside it, block b of the 8 rows is stored at 8 b block_bytes. A block's bytes
 * are cut into fields (the tables below); a field of `len` bytes at `src` in the GGUF block is cut
 * into w-byte chunks (w = 2 for f16 scales, 4 otherwise), and chunk c of row r lands at
 *     dst + stride c + w r
 * so chunk c of the 8 rows is one run of 8 w bytes, lane r = row r (stride 8 w: the field's chunks
 * back to back). Per 8-row block:
 *   q4_0 (18 B/row):  d[8] @0 | qs: 4 chunks @16
 *   q8_0 (34 B/row):  d[8] @0 | qs: 8 chunks @16
 *   q4_K (144 B/row): d[8] @0 | dmin[8] @16 | scales[12]: 3 chunks @32 | qs: 32 chunks @128
 *   q6_K (210 B/row): d[8] @0 | scales[16]: 4 chunks @16 | 16 steps of 96 bytes @144, in the order
 *                     the kernel reads them: step s = 8c + 2p + h (c < 2, p < 4, h < 2) holds ql
 *                     chunks 16c + 2p + h and 16c + 8 + 2p + h, then qh chunk s.
 *   f32 / f16 / bf16: blocks of SL_X8_FLOAT_BLOCK values, the 8 rows' blocks back to back (row r's
 *                     values k .. k+31 at 8 b block_bytes + r block_bytes): decode reads one stream.
 * Rows after the last full group keep the file's layout. Packing is a byte permutation: no value
 * changes, and the gemms on X8 give the bits of the ROWS gemms.
 *
 * Also here: the scalar reference gemms on X8 (oracle of the SIMD ones) and the generic filler. */
#include "quant/pack_x8.h"

#include <string.h>

#include "kernels/fp16.h"
#include "runtime/dtype.h"

typedef struct x8_field {
    uint16_t src, len;   /* bytes [src, src + len) of the GGUF block */
    uint16_t dst;        /* offset of chunk 0 of row 0 in the 8-row block */
    uint16_t w;          /* chunk bytes: 2 or 4 */
    uint16_t stride;     /* bytes from chunk c to chunk c + 1 of a row */
} x8_field;

typedef struct x8_map {
    size_t block_bytes;  /* of one row's block */
    int64_t elems;       /* values in one row's block */
    int n_fields;
    x8_field f[8];
} x8_map;

static const x8_map MAP_Q4_0 = {18, 32, 2, {{0, 2, 0, 2, 16}, {2, 16, 16, 4, 32}}};
static const x8_map MAP_Q8_0 = {34, 32, 2, {{0, 2, 0, 2, 16}, {2, 32, 16, 4, 32}}};
static const x8_map MAP_Q4_K = {144, 256, 3, {{0, 4, 0, 2, 16}, {4, 12, 32, 4, 32}, {16, 128, 128, 4, 32}}};
static const x8_map MAP_Q6_K = {210, 256, 7, {{208, 2, 0, 2, 16}, {192, 16, 16, 4, 32},      /* d, scales */
                                              {0, 32, 144, 4, 96}, {32, 32, 176, 4, 96},     /* ql, c = 0 */
                                              {64, 32, 912, 4, 96}, {96, 32, 944, 4, 96},    /* ql, c = 1 */
                                              {128, 64, 208, 4, 96}}};                        /* qh */
/* Float types: a block is SL_X8_FLOAT_BLOCK values, moved whole (the 8 rows' blocks back to back). */
static const x8_map MAP_F32 = {4 * SL_X8_FLOAT_BLOCK, SL_X8_FLOAT_BLOCK, 1,
                               {{0, 4 * SL_X8_FLOAT_BLOCK, 0, 4 * SL_X8_FLOAT_BLOCK, 32 * SL_X8_FLOAT_BLOCK}}};
static const x8_map MAP_F16 = {2 * SL_X8_FLOAT_BLOCK, SL_X8_FLOAT_BLOCK, 1,
                               {{0, 2 * SL_X8_FLOAT_BLOCK, 0, 2 * SL_X8_FLOAT_BLOCK, 16 * SL_X8_FLOAT_BLOCK}}};

_Static_assert(sizeof(sl_block_q6_k) <= SL_X8_MAX_BLOCK_BYTES && sizeof(sl_block_q4_k) <= SL_X8_MAX_BLOCK_BYTES &&
                   4 * SL_X8_FLOAT_BLOCK <= SL_X8_MAX_BLOCK_BYTES, "SL_X8_MAX_BLOCK_BYTES");

static const x8_map *map_of(int dtype)
{
    switch (dtype) {
    case SL_DTYPE_Q4_0: return &MAP_Q4_0;
    case SL_DTYPE_Q8_0: return &MAP_Q8_0;
    case SL_DTYPE_Q4_K: return &MAP_Q4_K;
    case SL_DTYPE_Q6_K: return &MAP_Q6_K;
    case SL_DTYPE_F32: return &MAP_F32;
    case SL_DTYPE_F16: case SL_DTYPE_BF16: return &MAP_F16;
    default: return NULL;
    }
}

bool sl_pack_x8_supported(int dtype) { return map_of(dtype) != NULL; }

int64_t sl_pack_x8_block_elems(int dtype) { return map_of(dtype) ? map_of(dtype)->elems : 0; }

/* Offset in an 8-row block of chunk c of row r of field f. */
static size_t chunk_at(const x8_field *f, int r, size_t c) { return f->dst + f->stride * c + (size_t)f->w * (size_t)r; }

/* Row r's GGUF block blk into its place in the 8-row block grp, and back. */
static void pack_row_block(const x8_map *m, int r, const uint8_t *blk, uint8_t *grp)
{
    for (const x8_field *f = m->f; f < m->f + m->n_fields; f++)
        for (size_t c = 0; c < (size_t)f->len / f->w; c++)
            memcpy(grp + chunk_at(f, r, c), blk + f->src + f->w * c, f->w);
}

static void unpack_row_block(const x8_map *m, int r, const uint8_t *grp, uint8_t *blk)
{
    for (const x8_field *f = m->f; f < m->f + m->n_fields; f++)
        for (size_t c = 0; c < (size_t)f->len / f->w; c++)
            memcpy(blk + f->src + f->w * c, grp + chunk_at(f, r, c), f->w);
}

void sl_pack_x8(int dtype, const void *src, size_t src_stride, int64_t N, int64_t K, void *dst)
{
    const x8_map *m = map_of(dtype);
    const size_t bb = m->block_bytes, row = sl_dtype_row_bytes(dtype, K);
    const int64_t nb = K / m->elems, groups = N / 8;
    const uint8_t *s = src;
    uint8_t *d = dst;
    for (int64_t g = 0; g < groups; g++)
        for (int64_t b = 0; b < nb; b++)
            for (int r = 0; r < 8; r++)
                pack_row_block(m, r, s + (size_t)(8 * g + r) * src_stride + (size_t)b * bb,
                               d + (size_t)g * 8 * row + (size_t)b * 8 * bb);
    for (int64_t r = groups * 8; r < N; r++) memcpy(d + (size_t)r * row, s + (size_t)r * src_stride, row);
}

void sl_unpack_x8_block(int dtype, const void *w, size_t row_bytes, int64_t N, int64_t r, int64_t b, void *out)
{
    const x8_map *m = map_of(dtype);
    const size_t bb = m->block_bytes;
    const uint8_t *base = w;
    if (r >= N / 8 * 8) {                    /* tail rows keep the file's layout */
        memcpy(out, base + (size_t)r * row_bytes + (size_t)b * bb, bb);
        return;
    }
    unpack_row_block(m, (int)(r % 8), base + (size_t)(r / 8) * 8 * row_bytes + (size_t)b * 8 * bb, out);
}

void sl_unpack_x8(int dtype, const void *src, int64_t N, int64_t K, void *dst, size_t dst_stride)
{
    const size_t row = sl_dtype_row_bytes(dtype, K), bb = map_of(dtype)->block_bytes;
    for (int64_t r = 0; r < N; r++)
        for (int64_t b = 0; b < K / map_of(dtype)->elems; b++)
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

/* The k-quants: y[t][r] = sum over super-blocks, in order, of sl_kq_superblock_dot (as
 * sl_kq_gemm_ref on the file's layout). */
static void gemm_kq_x8_ref(int dtype, sl_kq_unpack_fn unpack, int64_t K, const void *w, size_t w_stride,
                           const void *x, size_t x_stride, int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1,
                           int64_t N)
{
    uint8_t blk[sizeof(sl_block_q6_k)];
    sl_kq_unpacked u;
    for (int64_t r = r0; r < r1; r++) {
        for (int64_t t = 0; t < T; t++) y[t * ldy + r] = 0.0f;
        for (int64_t b = 0; b < K / SL_QK_K; b++) {
            sl_unpack_x8_block(dtype, w, w_stride, N, r, b, blk);
            unpack(blk, &u);
            for (int64_t t = 0; t < T; t++) {
                const sl_block_q8_k *xb = (const sl_block_q8_k *)((const char *)x + (size_t)t * x_stride) + b;
                y[t * ldy + r] += sl_kq_superblock_dot(&u, xb);
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

static void gemm_q4_k_x8_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, int64_t T,
                             float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_kq_x8_ref(SL_DTYPE_Q4_K, sl_kq_unpack_q4_k, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1, n_of(r1));
}

static void gemm_q6_k_x8_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, int64_t T,
                             float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_kq_x8_ref(SL_DTYPE_Q6_K, sl_kq_unpack_q6_k, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1, n_of(r1));
}

void sl_quant_fill_generic_x8(sl_kernel_table *t)
{
    t->gemm_x8[SL_DTYPE_Q4_0] = gemm_q4_0_x8_ref;
    t->gemm_x8[SL_DTYPE_Q8_0] = gemm_q8_0_x8_ref;
    t->gemm_x8[SL_DTYPE_Q4_K] = gemm_q4_k_x8_ref;
    t->gemm_x8[SL_DTYPE_Q6_K] = gemm_q6_k_x8_ref;
}
