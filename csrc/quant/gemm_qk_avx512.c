/* gemm_qk_avx512.c — AVX-512 VNNI instantiation of the k-quant gemms (gemm_qk_impl.h: vpdpbusd in
 * the X8 kernels) and its table filler, called by sl_quant_fill_avx512. */
#define SL_QK_VNNI 1
#define SL_X8_W 512
#include "quant/gemm_qk_impl.h"

void sl_quant_fill_avx512_qk(sl_kernel_table *t);
void sl_gemm_q4_k_x8_avx2(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                          int64_t ldy, int64_t r0, int64_t r1);   /* gemm_qk_avx2.c */

/* Decode (one token) takes the AVX2 build of the same kernel: the same instructions and bits (one-token
 * tiles use maddubs here too), but that build runs 13% faster (14336x4096 gemv from huge pages, 1
 * thread, alternated 20 rounds: 24.0 vs 20.9 GB/s; q4_0 / q6_K / q8_0 show no such gap). */
static void gemm_q4_k_x8_avx512(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                                int64_t ldy, int64_t r0, int64_t r1)
{
    if (T == 1) sl_gemm_q4_k_x8_avx2(K, w, ws, x, xs, T, y, ldy, r0, r1);
    else gemm_q4_k_x8_impl(K, w, ws, x, xs, T, y, ldy, r0, r1);
}

SL_KERNELS_FILLER void sl_quant_fill_avx512_qk(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_Q4_K] = gemm_q4_k_impl;
    t->gemm[SL_DTYPE_Q5_K] = gemm_q5_k_impl;
    t->gemm[SL_DTYPE_Q6_K] = gemm_q6_k_impl;
    t->gemm_x8[SL_DTYPE_Q4_K] = gemm_q4_k_x8_avx512;
    t->gemm_x8[SL_DTYPE_Q6_K] = gemm_q6_k_x8_impl;
}
