/* gemm_qk_avx512.c — AVX-512 VNNI instantiation of the k-quant gemms (gemm_qk_impl.h: vpdpbusd in
 * the X8 kernels) and its table filler, called by sl_quant_fill_avx512. */
#define SL_QK_VNNI 1
#include "quant/gemm_qk_impl.h"

void sl_quant_fill_avx512_qk(sl_kernel_table *t);

SL_KERNELS_FILLER void sl_quant_fill_avx512_qk(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_Q4_K] = gemm_q4_k_impl;
    t->gemm[SL_DTYPE_Q5_K] = gemm_q5_k_impl;
    t->gemm[SL_DTYPE_Q6_K] = gemm_q6_k_impl;
    t->gemm_x8[SL_DTYPE_Q4_K] = gemm_q4_k_x8_impl;
    t->gemm_x8[SL_DTYPE_Q6_K] = gemm_q6_k_x8_impl;
}
