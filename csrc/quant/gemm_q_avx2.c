/* gemm_q_avx2.c — AVX2 instantiation of the q4_0 / q8_0 gemms (gemm_q0_impl.h; on X8 weights
 * gemm_x8_impl.h) and the AVX2 kernel-table filler of the quant module (the k-quants are in
 * gemm_qk_avx2.c, the activation quantizers in codec_avx2.c). */
#define SL_Q0_VNNI 0
#define SL_X8_W 256
#include "quant/gemm_q0_impl.h"
#include "quant/gemm_x8_impl.h"

void sl_quant_fill_avx2_qk(sl_kernel_table *t);       /* gemm_qk_avx2.c */
void sl_quant_fill_avx2_codecs(sl_kernel_table *t);   /* codec_avx2.c */

SL_KERNELS_FILLER void sl_quant_fill_avx2(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_Q4_0] = gemm_q4_0_impl;
    t->gemm[SL_DTYPE_Q8_0] = gemm_q8_0_impl;
    t->gemm_x8[SL_DTYPE_Q4_0] = gemm_q4_0_x8_impl;
    t->gemm_x8[SL_DTYPE_Q8_0] = gemm_q8_0_x8_impl;
    sl_quant_fill_avx2_qk(t);
    sl_quant_fill_avx2_codecs(t);
}
