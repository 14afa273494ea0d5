/* q5_k.c — GGUF q5_K: as q4_K with a fifth bit per value in qh: x = d*sc*q - dmin*m, q in
 * [0, 31]. Reference quantizer (ggml's algorithm, see kquant.c), dequantizer, and the
 * unpacking used by the scalar q5_K x q8_K gemm. */
#include "kernels/fp16.h"
#include "quant/quant.h"

/* Value l (0..63) of 64-element chunk c. */
static inline int q5_value(const sl_block_q5_k *x, int c, int l)
{
    const int half = l >= 32, j = l & 31;
    const int lo = (x->qs[32 * c + j] >> (4 * half)) & 0xF;
    const int hi = (x->qh[j] >> (2 * c + half)) & 1;
    return lo | (hi << 4);
}

void sl_quant_from_float_q5_k(int64_t n, const float *src, void *dst)
{
    sl_block_q5_k *y = dst;
    uint8_t L[SL_QK_K];
    for (int64_t b = 0; b < n / SL_QK_K; b++) {
        sl_half d, dmin;
        sl_kq_quantize_4_5(src + b * SL_QK_K, 31, -0.5f, 0.1f, 15, &d, &dmin, y[b].scales, L);
        y[b].d = d;
        y[b].dmin = dmin;
        memset(y[b].qh, 0, sizeof y[b].qh);
        for (int c = 0; c < 4; c++) {
            for (int j = 0; j < 32; j++) {
                int l1 = L[64 * c + j], l2 = L[64 * c + 32 + j];
                y[b].qh[j] |= (uint8_t)(((l1 >> 4) << (2 * c)) | ((l2 >> 4) << (2 * c + 1)));
                y[b].qs[32 * c + j] = (uint8_t)((l1 & 0xF) | ((l2 & 0xF) << 4));
            }
        }
    }
}

void sl_quant_to_float_q5_k(int64_t n, const void *src, float *dst)
{
    const sl_block_q5_k *x = src;
    for (int64_t b = 0; b < n / SL_QK_K; b++) {
        const float d = sl_f16_to_f32(x[b].d), dmin = sl_f16_to_f32(x[b].dmin);
        float *o = dst + b * SL_QK_K;
        for (int c = 0; c < 4; c++) {
            uint8_t s, m;
            sl_kq_scale_min(2 * c, x[b].scales, &s, &m);
            const float d1 = d * (float)s, m1 = dmin * (float)m;
            sl_kq_scale_min(2 * c + 1, x[b].scales, &s, &m);
            const float d2 = d * (float)s, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++) o[64 * c + l] = d1 * (float)q5_value(&x[b], c, l) - m1;
            for (int l = 32; l < 64; l++) o[64 * c + l] = d2 * (float)q5_value(&x[b], c, l) - m2;
        }
    }
}

void sl_kq_unpack_q5_k(const void *block, sl_kq_unpacked *u)
{
    const sl_block_q5_k *x = block;
    u->d = sl_f16_to_f32(x->d);
    u->dmin = sl_f16_to_f32(x->dmin);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        sl_kq_scale_min(j, x->scales, &sc, &m);
        u->sc[2 * j] = u->sc[2 * j + 1] = sc;
        u->m[2 * j] = u->m[2 * j + 1] = m;
    }
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            u->q[64 * c + l] = (int8_t)((x->qs[32 * c + l] & 0xF) | (((x->qh[l] >> (2 * c)) & 1) << 4));
            u->q[64 * c + 32 + l] = (int8_t)((x->qs[32 * c + l] >> 4) | (((x->qh[l] >> (2 * c + 1)) & 1) << 4));
        }
}

void sl_quant_gemm_q5_k_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    sl_kq_gemm_ref(sl_kq_unpack_q5_k, sizeof(sl_block_q5_k), K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}
