/* gemm_q_avx512.c — AVX-512 VNNI instantiation of the q4_0 / q8_0 gemms (gemm_q0_impl.h: vpdpbusd
 * on 256-bit vectors; on X8 weights gemm_x8_impl.h on 512-bit vectors, two 8-row groups per tile),
 * and the AVX-512 kernel-table filler of the quant module. The table starts as a copy of the AVX2
 * one, so what is not set here keeps its AVX2 kernel.
 *
 * 512-bit X8 tiles, T=64 gemm 14336x4096, 1 thread, Zen 5 (full-width units), GFLOP/s 256 -> 512:
 * q4_0 326 -> 542, q8_0 314 -> 484, q4_K 316 -> 455, q6_K 236 -> 346; SOLAR-shaped 8-layer model,
 * pp512 at 2 threads: q4_0 175 -> 289 tok/s, q4_K 163 -> 240. One-token tiles read one group (two
 * streams at once slowed that model's decode from 43.7 to 37.7 tok/s). */
#define SL_Q0_VNNI 1
#define SL_X8_W 512
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
