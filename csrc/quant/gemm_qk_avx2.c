/* gemm_qk_avx2.c — AVX2 instantiation of the k-quant gemms (gemm_qk_impl.h) and its table filler. */
#define SL_QK_VNNI 0
#include "quant/gemm_qk_impl.h"

void sl_quant_fill_avx2_qk(sl_kernel_table *t);

SL_KERNELS_FILLER void sl_quant_fill_avx2_qk(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_Q4_K] = gemm_q4_k_impl;
    t->gemm[SL_DTYPE_Q5_K] = gemm_q5_k_impl;
    t->gemm[SL_DTYPE_Q6_K] = gemm_q6_k_impl;
    t->gemm_x8[SL_DTYPE_Q4_K] = gemm_q4_k_x8_impl;
    t->gemm_x8[SL_DTYPE_Q6_K] = gemm_q6_k_x8_impl;
}
