/* gemm_q_avx512.c — AVX-512 VNNI instantiation of the q4_0 / q8_0 gemm (gemm_q0_impl.h, with
 * vpdpbusd on 256-bit vectors) and the AVX-512 kernel-table filler of the quant module. The table
 * starts as a copy of the AVX2 one, so the k-quants keep their AVX2 kernels. */
#define SL_Q0_VNNI 1
#include "quant/gemm_q0_impl.h"

SL_KERNELS_FILLER void sl_quant_fill_avx512(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_Q4_0] = gemm_q4_0_impl;
    t->gemm[SL_DTYPE_Q8_0] = gemm_q8_0_impl;
}
