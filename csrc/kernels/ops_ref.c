/* ops_ref.c — scalar reference element-wise kernels (dot, axpy, RMSNorm, softmax, SiLU),
 * and the generic table filler. */
#include <math.h>

#include "kernels/kernels.h"

void sl_kernels_fill_gemm_ref(sl_kernel_table *t);

static float dot_f32_ref(int64_t n, const float *a, const float *b)
{
    double acc = 0.0;  /* the oracle accumulates in double */
    for (int64_t i = 0; i < n; i++) acc += (double)a[i] * b[i];
    return (float)acc;
}

static void axpy_f32_ref(int64_t n, float a, const float *x, float *y)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void scale_f32_ref(int64_t n, float a, float *y)
{
    for (int64_t i = 0; i < n; i++) y[i] *= a;
}

static void rmsnorm_f32_ref(int64_t n, const float *x, const float *w, float eps, float *y)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float inv = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * inv * w[i];
}

static void softmax_f32_ref(int64_t n, float *x)
{
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    if (mx == -INFINITY) {          /* everything masked: define the result as zeros */
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

static void silu_mul_f32_ref(int64_t n, const float *g, const float *u, float *y)
{
    for (int64_t i = 0; i < n; i++) y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void sl_kernels_fill_generic(sl_kernel_table *t)
{
    sl_kernels_fill_gemm_ref(t);
    t->dot_f32 = dot_f32_ref;
    t->axpy_f32 = axpy_f32_ref;
    t->scale_f32 = scale_f32_ref;
    t->rmsnorm_f32 = rmsnorm_f32_ref;
    t->softmax_f32 = softmax_f32_ref;
    t->silu_mul_f32 = silu_mul_f32_ref;
}
