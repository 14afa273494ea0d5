/* ops_avx512.c — AVX-512 kernels. Overrides entries of the AVX2 table. */
#include "kernels/kernels.h"

void sl_kernels_fill_avx512(sl_kernel_table *t) { (void)t; }
