/* gemm_q_avx512.c — AVX-512 kernels (stub). */
#include "quant/quant.h"
void sl_quant_fill_avx512(sl_kernel_table *t) { (void)t; }
