/* pack_x8.h — the X8 weight layout of q4_0 / q8_0 / q4_K / q6_K and f32 / f16 / bf16 matrices (see
 * pack_x8.c for the byte map). */
#ifndef SL_PACK_X8_H
#define SL_PACK_X8_H

#include <stdbool.h>

#include "quant/quant.h"

bool sl_pack_x8_supported(int dtype);                    /* q4_0, q8_0, q4_K, q6_K, f32, f16, bf16 */
int64_t sl_pack_x8_block_elems(int dtype);               /* K must be a multiple of this; 0: no X8 */
/* dst (N rows of K, row_bytes apart, X8) from src (N rows, src_stride apart, the file's layout). */
void sl_pack_x8(int dtype, const void *src, size_t src_stride, int64_t N, int64_t K, void *dst);
/* The inverse: dst rows dst_stride apart in the file's layout. */
void sl_unpack_x8(int dtype, const void *src, int64_t N, int64_t K, void *dst, size_t dst_stride);
/* Bytes of the largest block of one row of an X8 type (q6_K: 210, f32: 128). */
#define SL_X8_MAX_BLOCK_BYTES 256
/* Block b of row r of an X8 matrix (N rows, row_bytes apart) in the file's layout, into out. */
void sl_unpack_x8_block(int dtype, const void *w, size_t row_bytes, int64_t N, int64_t r, int64_t b, void *out);

void sl_quant_fill_generic_x8(sl_kernel_table *t);

#endif /* SL_PACK_X8_H */
