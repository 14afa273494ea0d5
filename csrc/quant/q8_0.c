/* q8_0.c — GGUF q8_0: blocks of 32 int8 with one f16 scale. Reference quantizer (bit-exact with
 * ggml's quantize_row_q8_0_ref and gguf-py), dequantizer, and the scalar q8_0 x q8_0 gemm. The
 * same codec quantizes activations for the q8_0 and q4_0 gemm kernels. */
#include <math.h>

#include "kernels/fp16.h"
#include "quant/quant.h"
#include "quant/quant_util.h"

void sl_quant_from_float_q8_0(int64_t n, const float *src, void *dst)
{
    sl_block_q8_0 *y = dst;
    for (int64_t b = 0; b < n / SL_QK; b++) {
        const float *x = src + b * SL_QK;
        float amax = 0.0f;
        for (int j = 0; j < SL_QK; j++) {
            float a = fabsf(x[j]);
            amax = amax > a ? amax : a;
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = sl_f32_to_f16(d);
        for (int j = 0; j < SL_QK; j++) y[b].qs[j] = sl_q_round_i8(x[j] * id);
    }
}

void sl_quant_to_float_q8_0(int64_t n, const void *src, float *dst)
{
    const sl_block_q8_0 *x = src;
    for (int64_t b = 0; b < n / SL_QK; b++) {
        const float d = sl_f16_to_f32(x[b].d);
        for (int j = 0; j < SL_QK; j++) dst[b * SL_QK + j] = (float)x[b].qs[j] * d;
    }
}

/* Scalar reference: y[t][r] = sum over blocks of isum * (dw * dx), in block order. */
static void gemm_q8_0_tokens(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    const int64_t nb = K / SL_QK;
    for (int64_t r = r0; r < r1; r++) {
        const sl_block_q8_0 *wr = (const sl_block_q8_0 *)((const char *)w + (size_t)r * w_stride);
        for (int64_t t = 0; t < T; t++) y[t * ldy + r] = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            const float dw = sl_f16_to_f32(wr[b].d);
            for (int64_t t = 0; t < T; t++) {
                const sl_block_q8_0 *xb = (const sl_block_q8_0 *)((const char *)x + (size_t)t * x_stride) + b;
                int32_t si = 0;
                for (int j = 0; j < SL_QK; j++) si += wr[b].qs[j] * xb->qs[j];
                y[t * ldy + r] += (float)si * (dw * sl_f16_to_f32(xb->d));
            }
        }
    }
}

void sl_quant_gemm_q8_0_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    sl_quant_gemm_token_chunks(gemm_q8_0_tokens, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}
