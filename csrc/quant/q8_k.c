/* q8_k.c — ggml's q8_K activation type: 256 int8 with an f32 scale and the sums of each group of
 * 16 (used by the k-quant dot products for the min / offset terms). Quantizer as ggml's
 * quantize_row_q8_K_ref (values in [-127, 127]), and dequantizer. */
#include <math.h>

#include "quant/quant.h"

void sl_quant_from_float_q8_k(int64_t n, const float *src, void *dst)
{
    sl_block_q8_k *y = dst;
    for (int64_t b = 0; b < n / SL_QK_K; b++) {
        const float *x = src + b * SL_QK_K;
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < SL_QK_K; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < SL_QK_K; j++) {
            int v = sl_kq_nearest_int(iscale * x[j]);
            y[b].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int g = 0; g < SL_QK_K / 16; g++) {
            int s = 0;
            for (int i = 0; i < 16; i++) s += y[b].qs[16 * g + i];
            y[b].bsums[g] = (int16_t)s;
        }
        y[b].d = 1.0f / iscale;
    }
}

void sl_quant_to_float_q8_k(int64_t n, const void *src, float *dst)
{
    const sl_block_q8_k *x = src;
    for (int64_t b = 0; b < n / SL_QK_K; b++)
        for (int j = 0; j < SL_QK_K; j++) dst[b * SL_QK_K + j] = x[b].d * (float)x[b].qs[j];
}
