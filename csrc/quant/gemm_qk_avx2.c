/* gemm_qk_avx2.c — AVX2 instantiation of the k-quant gemms (gemm_qk_impl.h) and its table filler. */
#define SL_QK_VNNI 0
#define SL_X8_W 256
#include "quant/gemm_qk_impl.h"

void sl_quant_fill_avx2_qk(sl_kernel_table *t);
void sl_gemm_q4_k_x8_avx2(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                          int64_t ldy, int64_t r0, int64_t r1);

/* The AVX2 X8 q4_K gemm, for the AVX-512 table's one-token calls (gemm_qk_avx512.c). */
void sl_gemm_q4_k_x8_avx2(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                          int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_q4_k_x8_impl(K, w, ws, x, xs, T, y, ldy, r0, r1);
}

SL_KERNELS_FILLER void sl_quant_fill_avx2_qk(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_Q4_K] = gemm_q4_k_impl;
    t->gemm[SL_DTYPE_Q5_K] = gemm_q5_k_impl;
    t->gemm[SL_DTYPE_Q6_K] = gemm_q6_k_impl;
    t->gemm_x8[SL_DTYPE_Q4_K] = gemm_q4_k_x8_impl;
    t->gemm_x8[SL_DTYPE_Q6_K] = gemm_q6_k_x8_impl;
}
