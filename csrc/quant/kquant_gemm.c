/* kquant_gemm.c — the scalar reference gemm shared by the k-quants: each weight super-block is
 * unpacked once (values, per-16 scales and mins) and then dotted with every token's q8_K block.
 * The oracle the SIMD kernels are tested against, and the fallback on CPUs without them. */
#include "quant/quant.h"

/* One unpacked super-block against one q8_K block: d*dx*isum - dmin*dx*msum (also the X8 oracle). */
float sl_kq_superblock_dot(const sl_kq_unpacked *u, const sl_block_q8_k *x)
{
    int32_t isum = 0, msum = 0;
    for (int g = 0; g < 16; g++) {
        int32_t s = 0;
        for (int i = 0; i < 16; i++) s += u->q[16 * g + i] * x->qs[16 * g + i];
        isum += u->sc[g] * s;
        msum += u->m[g] * x->bsums[g];
    }
    return u->d * x->d * (float)isum - u->dmin * x->d * (float)msum;
}

static void kq_gemm_tokens(sl_kq_unpack_fn unpack, size_t block_bytes, int64_t K, const void *w, size_t w_stride,
                           const void *x, size_t x_stride, int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    const int64_t nb = K / SL_QK_K;
    sl_kq_unpacked u;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *wr = (const uint8_t *)w + (size_t)r * w_stride;
        for (int64_t t = 0; t < T; t++) y[t * ldy + r] = 0.0f;
        for (int64_t b = 0; b < nb; b++) {
            unpack(wr + (size_t)b * block_bytes, &u);
            for (int64_t t = 0; t < T; t++) {
                const sl_block_q8_k *xb = (const sl_block_q8_k *)((const uint8_t *)x + (size_t)t * x_stride) + b;
                y[t * ldy + r] += sl_kq_superblock_dot(&u, xb);
            }
        }
    }
}

void sl_kq_gemm_ref(sl_kq_unpack_fn unpack, size_t block_bytes, int64_t K, const void *w, size_t w_stride,
                    const void *x, size_t x_stride, int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    for (int64_t t0 = 0; t0 < T; t0 += 16)   /* token chunks stay in cache while the rows pass */
        kq_gemm_tokens(unpack, block_bytes, K, w, w_stride, (const char *)x + (size_t)t0 * x_stride, x_stride,
                       T - t0 < 16 ? T - t0 : 16, y + t0 * ldy, ldy, r0, r1);
}
