/* gemm_qk_avx2.c — AVX2 gemm for the k-quants (stub). */
#include "quant/quant.h"
void sl_quant_fill_avx2_qk(sl_kernel_table *t) { (void)t; }
