/* gemm_ref.c — scalar reference gemms for the float weight types (f32, f16, bf16) against f32
 * activations, in the file's layout and in X8. The oracle for the SIMD versions; also the fallback
 * on other CPUs. */
#include "kernels/fp16.h"
#include "kernels/kernels.h"

/* NAME (the file's layout) and NAME##_x8 (X8, kernels.h: the rows of full groups read through
 * sl_x8_float_at, the tail rows past r1 / 8 * 8 when r1 % 8 != 0 in the file's layout): the same
 * sums in the same order. */
#define DEFINE_GEMM_REF(NAME, WTYPE, LOAD)                                                       \
    static void NAME##_run(int x8, int64_t K, const void *w, size_t w_stride, const void *x,     \
                           size_t x_stride, int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1) \
    {                                                                                            \
        const int64_t full = !x8 ? r0 : r1 % 8 ? r1 / 8 * 8 : r1;                                \
        for (int64_t r = r0; r < r1; r++) {                                                      \
            const WTYPE *wr = (const WTYPE *)((const char *)w + (size_t)r * w_stride);          \
            for (int64_t t = 0; t < T; t++) {                                                    \
                const float *xt = (const float *)((const char *)x + (size_t)t * x_stride);      \
                float acc = 0.0f;                                                                \
                for (int64_t k = 0; k < K; k++) {                                                \
                    const WTYPE *p = r < full ? (const WTYPE *)sl_x8_float_at(w, w_stride, sizeof(WTYPE), r, k) \
                                              : wr + k;                                          \
                    acc += LOAD(*p) * xt[k];                                                     \
                }                                                                                \
                y[t * ldy + r] = acc;                                                            \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
    static void NAME(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,  \
                     int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)                   \
    {                                                                                            \
        NAME##_run(0, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);                           \
    }                                                                                            \
    static void NAME##_x8(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, \
                          int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)              \
    {                                                                                            \
        NAME##_run(1, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);                           \
    }

#define LOAD_F32(v) (v)
DEFINE_GEMM_REF(gemm_f32_ref, float, LOAD_F32)
DEFINE_GEMM_REF(gemm_f16_ref, uint16_t, sl_f16_to_f32)
DEFINE_GEMM_REF(gemm_bf16_ref, uint16_t, sl_bf16_to_f32)

static void f32_to_f32(int64_t n, const void *src, float *dst) { memcpy(dst, src, (size_t)n * 4); }
static void f32_from_f32(int64_t n, const float *src, void *dst) { memcpy(dst, src, (size_t)n * 4); }

static void f16_to_f32(int64_t n, const void *src, float *dst)
{
    const uint16_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = sl_f16_to_f32(s[i]);
}

static void f16_from_f32(int64_t n, const float *src, void *dst)
{
    uint16_t *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = sl_f32_to_f16(src[i]);
}

static void bf16_to_f32(int64_t n, const void *src, float *dst)
{
    const uint16_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = sl_bf16_to_f32(s[i]);
}

static void bf16_from_f32(int64_t n, const float *src, void *dst)
{
    uint16_t *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = sl_f32_to_bf16(src[i]);
}

void sl_kernels_fill_gemm_ref(sl_kernel_table *t)
{
    t->gemm[SL_DTYPE_F32] = gemm_f32_ref;
    t->gemm[SL_DTYPE_F16] = gemm_f16_ref;
    t->gemm[SL_DTYPE_BF16] = gemm_bf16_ref;
    t->gemm_x8[SL_DTYPE_F32] = gemm_f32_ref_x8;
    t->gemm_x8[SL_DTYPE_F16] = gemm_f16_ref_x8;
    t->gemm_x8[SL_DTYPE_BF16] = gemm_bf16_ref_x8;
    t->to_float[SL_DTYPE_F32] = f32_to_f32;
    t->to_float[SL_DTYPE_F16] = f16_to_f32;
    t->to_float[SL_DTYPE_BF16] = bf16_to_f32;
    t->from_float[SL_DTYPE_F32] = f32_from_f32;
    t->from_float[SL_DTYPE_F16] = f16_from_f32;
    t->from_float[SL_DTYPE_BF16] = bf16_from_f32;
}
