/* gemm_q_avx512.c — AVX-512 VNNI instantiation of the q4_0 / q8_0 gemms (gemm_q0_impl.h; on X8
 * weights gemm_x8_impl.h), with vpdpbusd on 256-bit vectors (on Zen 4 a 512-bit op is two 256-bit
 * halves anyway, and the X8 layout gives 8 rows per 32 bytes), and the AVX-512 kernel-table filler
 * of the quant module. The table starts as a copy of the AVX2 one, so what is not set here keeps
 * its AVX2 kernel. */
#define SL_Q0_VNNI 1
#include "quant/gemm_q0_impl.h"
#include "quant/gemm_x8_impl.h"

void sl_quant_fill_avx512_qk(sl_kernel_table *t);   /* gemm_qk_avx512.c */

SL_KERNELS_FILLER void sl_quant_fill_avx512(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_Q4_0] = gemm_q4_0_impl;
    t->gemm[SL_DTYPE_Q8_0] = gemm_q8_0_impl;
    t->gemm_x8[SL_DTYPE_Q4_0] = gemm_q4_0_x8_impl;
    t->gemm_x8[SL_DTYPE_Q8_0] = gemm_q8_0_x8_impl;
    sl_quant_fill_avx512_qk(t);
}
