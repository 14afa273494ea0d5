/* gemm_f16_avx2.c — AVX2/FMA/F16C kernels for the 16-bit float weight types, f16 and bf16:
 * gemm in the file layout and X8 (the template in gemm_float_impl.h) and vector conversions to / from f32. */
#include "kernels/kernels.h"
#include "kernels/simd_avx2.h"
#include "kernels/gemm_float_impl.h"
#include "kernels/convert_impl.h"

void sl_kernels_fill_gemm_f16_avx2(sl_kernel_table *t);

GW_DEFINE_GEMMS(gemm_f16_avx2, GW_F16)
GW_DEFINE_GEMMS(gemm_bf16_avx2, GW_BF16)

static void f16_to_f32_avx2(int64_t n, const void *src, float *dst) { convert_to_f32(GW_F16, n, src, dst); }
static void bf16_to_f32_avx2(int64_t n, const void *src, float *dst) { convert_to_f32(GW_BF16, n, src, dst); }
static void f16_from_f32_avx2(int64_t n, const float *src, void *dst) { convert_from_f32(GW_F16, n, src, dst); }
static void bf16_from_f32_avx2(int64_t n, const float *src, void *dst) { convert_from_f32(GW_BF16, n, src, dst); }

SL_KERNELS_FILLER void sl_kernels_fill_gemm_f16_avx2(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_F16] = gemm_f16_avx2;
    t->gemm[SL_DTYPE_BF16] = gemm_bf16_avx2;
    t->gemm_x8[SL_DTYPE_F16] = gemm_f16_avx2_x8;
    t->gemm_x8[SL_DTYPE_BF16] = gemm_bf16_avx2_x8;
    t->to_float[SL_DTYPE_F16] = f16_to_f32_avx2;
    t->to_float[SL_DTYPE_BF16] = bf16_to_f32_avx2;
    t->from_float[SL_DTYPE_F16] = f16_from_f32_avx2;
    t->from_float[SL_DTYPE_BF16] = bf16_from_f32_avx2;
}
