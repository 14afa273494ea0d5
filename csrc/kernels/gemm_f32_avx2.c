/* gemm_f32_avx2.c — AVX2/FMA gemm for f32 weights (the template in gemm_float_impl.h). */
#include "kernels/kernels.h"
#include "kernels/simd_avx2.h"
#include "kernels/gemm_float_impl.h"

void sl_kernels_fill_gemm_f32_avx2(sl_kernel_table *t);

static void gemm_f32_avx2(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                          int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_float_run(GW_F32, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}

SL_KERNELS_FILLER void sl_kernels_fill_gemm_f32_avx2(sl_kernel_table *t) { t->gemm[SL_DTYPE_F32] = gemm_f32_avx2; }
