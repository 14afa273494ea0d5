/* q4_0.c — GGUF q4_0: blocks of 32 four-bit values with one f16 scale, x = d*(q-8). Reference
 * quantizer (bit-exact with ggml's quantize_row_q4_0_ref and gguf-py), dequantizer, and the
 * scalar q4_0 x q8_0 gemm. */
#include <math.h>

#include "kernels/fp16.h"
#include "quant/quant.h"
#include "quant/quant_util.h"

static uint8_t q4_0_level(float v)
{
    int8_t l = sl_q_f32_to_i8(v + 8.5f);
    return (uint8_t)(l > 15 ? 15 : l);
}

void sl_quant_from_float_q4_0(int64_t n, const float *src, void *dst)
{
    sl_block_q4_0 *y = dst;
    for (int64_t b = 0; b < n / SL_QK; b++) {
        const float *x = src + b * SL_QK;
        float amax = 0.0f, max = 0.0f;   /* the value of largest magnitude, sign kept */
        for (int j = 0; j < SL_QK; j++) {
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = sl_f32_to_f16(d);
        for (int j = 0; j < SL_QK / 2; j++) {
            uint8_t lo = q4_0_level(x[j] * id), hi = q4_0_level(x[j + SL_QK / 2] * id);
            y[b].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void sl_quant_to_float_q4_0(int64_t n, const void *src, float *dst)
{
    const sl_block_q4_0 *x = src;
    for (int64_t b = 0; b < n / SL_QK; b++) {
        const float d = sl_f16_to_f32(x[b].d);
        float *o = dst + b * SL_QK;
        for (int j = 0; j < SL_QK / 2; j++) {
            o[j] = (float)((x[b].qs[j] & 0x0F) - 8) * d;
            o[j + SL_QK / 2] = (float)((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}

/* Scalar reference: each weight block is unpacked once, then dotted with every token's block;
 * y[t][r] = sum over blocks of isum * (dw * dx), in block order. */
static void gemm_q4_0_tokens(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    const int64_t nb = K / SL_QK;
    int8_t v[SL_QK];
    for (int64_t r = r0; r < r1; r++) {
        const sl_block_q4_0 *wr = (const sl_block_q4_0 *)((const char *)w + (size_t)r * w_stride);
        for (int64_t t = 0; t < T; t++) y[t * ldy + r] = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            for (int j = 0; j < SL_QK / 2; j++) {
                v[j] = (int8_t)((wr[b].qs[j] & 0x0F) - 8);
                v[j + SL_QK / 2] = (int8_t)((wr[b].qs[j] >> 4) - 8);
            }
            const float dw = sl_f16_to_f32(wr[b].d);
            for (int64_t t = 0; t < T; t++) {
                const sl_block_q8_0 *xb = (const sl_block_q8_0 *)((const char *)x + (size_t)t * x_stride) + b;
                int32_t si = 0;
                for (int j = 0; j < SL_QK; j++) si += v[j] * xb->qs[j];
                y[t * ldy + r] += (float)si * (dw * sl_f16_to_f32(xb->d));
            }
        }
    }
}

void sl_quant_gemm_q4_0_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    sl_quant_gemm_token_chunks(gemm_q4_0_tokens, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}
