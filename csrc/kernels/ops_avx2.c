/* ops_avx2.c — AVX2/FMA element-wise kernels (the templates in ops_impl.h) and the avx2 table
 * filler: overrides the entries of the generic table that this level speeds up. */
#include "kernels/kernels.h"
#include "kernels/simd_avx2.h"
#include "kernels/ops_impl.h"

void sl_kernels_fill_gemm_f32_avx2(sl_kernel_table *t);
void sl_kernels_fill_gemm_f16_avx2(sl_kernel_table *t);

static float dot_f32_avx2(int64_t n, const float *a, const float *b) { return ops_dot(n, a, b); }
static void axpy_f32_avx2(int64_t n, float a, const float *x, float *y) { ops_axpy(n, a, x, y); }
static void scale_f32_avx2(int64_t n, float a, float *y) { ops_scale(n, a, y); }
static void rmsnorm_f32_avx2(int64_t n, const float *x, const float *w, float eps, float *y)
{
    ops_rmsnorm(n, x, w, eps, y);
}
static void softmax_f32_avx2(int64_t n, float *x) { ops_softmax(n, x); }
static void silu_mul_f32_avx2(int64_t n, const float *g, const float *u, float *y) { ops_silu_mul(n, g, u, y); }

static void rope_f32_avx2(int64_t half, float *x, const float *cs, const float *sn)
{
    ops_rope(half, x, cs, sn);
}
static void attn_row_f32_avx2(int64_t Dh, int64_t L, const float *q, const float *k, int64_t k_stride,
                              const float *v, int64_t v_stride, float scale, float *scores, float *out)
{
    ops_attn_row_kv(Dh, L, q, k, k_stride, v, v_stride, scale, scores, out, 0);
}

static void attn_row_f16_avx2(int64_t Dh, int64_t L, const float *q, const uint16_t *k, int64_t k_stride,
                              const uint16_t *v, int64_t v_stride, float scale, float *scores, float *out)
{
    ops_attn_row_kv(Dh, L, q, k, k_stride, v, v_stride, scale, scores, out, 1);
}

SL_KERNELS_FILLER void sl_kernels_fill_avx2(sl_kernel_table *t)
{
    sl_kernels_fill_gemm_f32_avx2(t);
    sl_kernels_fill_gemm_f16_avx2(t);
    t->dot_f32 = dot_f32_avx2;
    t->axpy_f32 = axpy_f32_avx2;
    t->scale_f32 = scale_f32_avx2;
    t->rmsnorm_f32 = rmsnorm_f32_avx2;
    t->softmax_f32 = softmax_f32_avx2;
    t->silu_mul_f32 = silu_mul_f32_avx2;
    t->rope_f32 = rope_f32_avx2;
    t->attn_row_f32 = attn_row_f32_avx2;
    t->attn_row_f16 = attn_row_f16_avx2;
}
