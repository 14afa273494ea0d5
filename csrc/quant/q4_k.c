/* q4_k.c — GGUF q4_K: 256-element super-blocks of 8 sub-blocks x 32 four-bit values, each
 * sub-block with a 6-bit scale and min under two f16 super-scales: x = d*sc*q - dmin*m.
 * Reference quantizer (ggml's algorithm, see kquant.c), dequantizer, and the unpacking used
 * by the scalar q4_K x q8_K gemm. */
#include "kernels/fp16.h"
#include "quant/quant.h"

void sl_quant_from_float_q4_k(int64_t n, const float *src, void *dst)
{
    sl_block_q4_k *y = dst;
    uint8_t L[SL_QK_K];
    for (int64_t b = 0; b < n / SL_QK_K; b++) {
        sl_half d, dmin;
        sl_kq_quantize_4_5(src + b * SL_QK_K, 15, -1.0f, 0.1f, 20, &d, &dmin, y[b].scales, L);
        y[b].d = d;
        y[b].dmin = dmin;
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[b].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

void sl_quant_to_float_q4_k(int64_t n, const void *src, float *dst)
{
    const sl_block_q4_k *x = src;
    for (int64_t b = 0; b < n / SL_QK_K; b++) {
        const float d = sl_f16_to_f32(x[b].d), dmin = sl_f16_to_f32(x[b].dmin);
        float *o = dst + b * SL_QK_K;
        for (int c = 0; c < 4; c++) {
            uint8_t s, m;
            sl_kq_scale_min(2 * c, x[b].scales, &s, &m);
            const float d1 = d * (float)s, m1 = dmin * (float)m;
            sl_kq_scale_min(2 * c + 1, x[b].scales, &s, &m);
            const float d2 = d * (float)s, m2 = dmin * (float)m;
            const uint8_t *q = x[b].qs + 32 * c;
            for (int l = 0; l < 32; l++) o[64 * c + l] = d1 * (float)(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) o[64 * c + 32 + l] = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

void sl_kq_unpack_q4_k(const void *block, sl_kq_unpacked *u)
{
    const sl_block_q4_k *x = block;
    u->d = sl_f16_to_f32(x->d);
    u->dmin = sl_f16_to_f32(x->dmin);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        sl_kq_scale_min(j, x->scales, &sc, &m);
        u->sc[2 * j] = u->sc[2 * j + 1] = sc;
        u->m[2 * j] = u->m[2 * j + 1] = m;
        const uint8_t *q = x->qs + 32 * (j / 2);
        for (int l = 0; l < 32; l++) u->q[32 * j + l] = (int8_t)((q[l] >> (4 * (j & 1))) & 0xF);
    }
}

void sl_quant_gemm_q4_k_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    sl_kq_gemm_ref(sl_kq_unpack_q4_k, sizeof(sl_block_q4_k), K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}
