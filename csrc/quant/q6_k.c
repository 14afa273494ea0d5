/* q6_k.c — GGUF q6_K: 256-element super-blocks of 16 sub-blocks x 16 six-bit values with int8
 * scales under one f16 super-scale: x = d*sc*(q-32). Reference quantizer (ggml's algorithm, see
 * kquant.c), dequantizer, and the unpacking
 * used by the scalar q6_K x q8_K gemm. */
#include <math.h>

#include "kernels/fp16.h"
#include "quant/quant.h"

/* Six-bit value (0..63) of element e (0..255). */
static inline int q6_value(const sl_block_q6_k *x, int e)
{
    const int c = e / 128, k = (e % 128) / 32, l = e % 32;
    const int lo = (x->ql[64 * c + 32 * (k & 1) + l] >> (4 * (k >> 1))) & 0xF;
    const int hi = (x->qh[32 * c + l] >> (2 * k)) & 3;
    return lo | (hi << 4);
}

static void q6_pack(const int8_t L[SL_QK_K], sl_block_q6_k *y)
{
    for (int c = 0; c < 2; c++) {
        const int8_t *Lc = L + 128 * c;
        for (int l = 0; l < 32; l++) {
            y->ql[64 * c + l] = (uint8_t)((Lc[l] & 0xF) | ((Lc[l + 64] & 0xF) << 4));
            y->ql[64 * c + 32 + l] = (uint8_t)((Lc[l + 32] & 0xF) | ((Lc[l + 96] & 0xF) << 4));
            y->qh[32 * c + l] = (uint8_t)((Lc[l] >> 4) | ((Lc[l + 32] >> 4) << 2) |
                                          ((Lc[l + 64] >> 4) << 4) | ((Lc[l + 96] >> 4) << 6));
        }
    }
}

static void q6_quantize_block(const float *x, sl_block_q6_k *y)
{
    int8_t L[SL_QK_K];
    float scales[16], max_scale = 0.0f, max_abs = 0.0f;
    for (int j = 0; j < 16; j++) {
        scales[j] = sl_kq_fit_scale_sym(16, 32, x + 16 * j, L + 16 * j);
        if (fabsf(scales[j]) > max_abs) {
            max_abs = fabsf(scales[j]);
            max_scale = scales[j];
        }
    }
    if (max_abs < 1e-15f) {
        memset(y, 0, sizeof *y);
        return;
    }
    const float iscale = -128.0f / max_scale;
    y->d = sl_f32_to_f16(1.0f / iscale);
    for (int j = 0; j < 16; j++) {
        int l = sl_kq_nearest_int(iscale * scales[j]);
        y->scales[j] = (int8_t)(l < 127 ? l : 127);
    }
    const float fd = sl_f16_to_f32(y->d);
    for (int j = 0; j < 16; j++) {
        const float d = fd * (float)y->scales[j];
        if (d == 0.0f) continue;
        for (int i = 0; i < 16; i++) {
            int l = sl_kq_nearest_int(x[16 * j + i] / d);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            L[16 * j + i] = (int8_t)(l + 32);
        }
    }
    q6_pack(L, y);
}

void sl_quant_from_float_q6_k(int64_t n, const float *src, void *dst)
{
    sl_block_q6_k *y = dst;
    for (int64_t b = 0; b < n / SL_QK_K; b++) q6_quantize_block(src + b * SL_QK_K, &y[b]);
}

void sl_quant_to_float_q6_k(int64_t n, const void *src, float *dst)
{
    const sl_block_q6_k *x = src;
    for (int64_t b = 0; b < n / SL_QK_K; b++) {
        const float d = sl_f16_to_f32(x[b].d);
        for (int e = 0; e < SL_QK_K; e++)
            dst[b * SL_QK_K + e] = d * (float)x[b].scales[e / 16] * (float)(q6_value(&x[b], e) - 32);
    }
}

void sl_kq_unpack_q6_k(const void *block, sl_kq_unpacked *u)
{
    const sl_block_q6_k *x = block;
    u->d = sl_f16_to_f32(x->d);
    u->dmin = 0.0f;
    for (int g = 0; g < 16; g++) {
        u->sc[g] = x->scales[g];
        u->m[g] = 0;
    }
    for (int c = 0; c < 2; c++) {
        const uint8_t *ql = x->ql + 64 * c, *qh = x->qh + 32 * c;
        int8_t *q = u->q + 128 * c;
        for (int l = 0; l < 32; l++) {
            q[l] = (int8_t)(((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
            q[l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
            q[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            q[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
    }
}

void sl_quant_gemm_q6_k_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    sl_kq_gemm_ref(sl_kq_unpack_q6_k, sizeof(sl_block_q6_k), K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}
