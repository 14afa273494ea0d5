/* gemm_q_avx2.c — AVX2 instantiation of the q4_0 / q8_0 gemm (gemm_q0_impl.h) and the AVX2
 * kernel-table filler of the quant module (the k-quants are in gemm_qk_avx2.c). */
#define SL_Q0_VNNI 0
#include "quant/gemm_q0_impl.h"

void sl_quant_fill_avx2_qk(sl_kernel_table *t);   /* gemm_qk_avx2.c */

SL_KERNELS_FILLER void sl_quant_fill_avx2(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_Q4_0] = gemm_q4_0_impl;
    t->gemm[SL_DTYPE_Q8_0] = gemm_q8_0_impl;
    sl_quant_fill_avx2_qk(t);
}
