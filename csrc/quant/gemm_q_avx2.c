/* gemm_q_avx2.c — AVX2 kernels for q8_0 / q4_0 (stub). */
#include "quant/quant.h"
void sl_quant_fill_avx2(sl_kernel_table *t) { (void)t; }
