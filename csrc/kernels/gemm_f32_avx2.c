/* gemm_f32_avx2.c — AVX2/FMA gemm for f32 weights in the file layout and X8 (the template in gemm_float_impl.h). */
#include "kernels/kernels.h"
#include "kernels/simd_avx2.h"
#include "kernels/gemm_float_impl.h"

void sl_kernels_fill_gemm_f32_avx2(sl_kernel_table *t);

GW_DEFINE_GEMMS(gemm_f32_avx2, GW_F32)

SL_KERNELS_FILLER void sl_kernels_fill_gemm_f32_avx2(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_F32] = gemm_f32_avx2;
    t->gemm_x8[SL_DTYPE_F32] = gemm_f32_avx2_x8;
}
