/* gemm_f16_avx512.c — AVX-512 kernels for the 16-bit float weight types, f16 and bf16:
 * gemm (the template in gemm_float_impl.h) and vector conversions to / from f32. */
#include "kernels/kernels.h"
#include "kernels/simd_avx512.h"
#include "kernels/gemm_float_impl.h"
#include "kernels/convert_impl.h"

void sl_kernels_fill_gemm_f16_avx512(sl_kernel_table *t);

static void gemm_f16_avx512(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                          int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_float_run(GW_F16, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}

static void gemm_bf16_avx512(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                           int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_float_run(GW_BF16, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}

static void f16_to_f32_avx512(int64_t n, const void *src, float *dst) { convert_to_f32(GW_F16, n, src, dst); }
static void bf16_to_f32_avx512(int64_t n, const void *src, float *dst) { convert_to_f32(GW_BF16, n, src, dst); }
static void f16_from_f32_avx512(int64_t n, const float *src, void *dst) { convert_from_f32(GW_F16, n, src, dst); }
static void bf16_from_f32_avx512(int64_t n, const float *src, void *dst) { convert_from_f32(GW_BF16, n, src, dst); }

SL_KERNELS_FILLER void sl_kernels_fill_gemm_f16_avx512(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_F16] = gemm_f16_avx512;
    t->gemm[SL_DTYPE_BF16] = gemm_bf16_avx512;
    t->to_float[SL_DTYPE_F16] = f16_to_f32_avx512;
    t->to_float[SL_DTYPE_BF16] = bf16_to_f32_avx512;
    t->from_float[SL_DTYPE_F16] = f16_from_f32_avx512;
    t->from_float[SL_DTYPE_BF16] = bf16_from_f32_avx512;
}
