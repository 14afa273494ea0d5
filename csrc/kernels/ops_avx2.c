/* ops_avx2.c — AVX2/FMA/F16C kernels. Overrides entries of the generic table. */
#include "kernels/kernels.h"

void sl_kernels_fill_avx2(sl_kernel_table *t) { (void)t; }
