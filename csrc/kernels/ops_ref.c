/* ops_ref.c — scalar reference element-wise kernels (dot, axpy, RMSNorm, softmax, SiLU, RoPE,
 * one attention row),
 * and the generic table filler. */
#include <math.h>

#include "kernels/fp16.h"
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

static void rope_f32_ref(int64_t half, float *x, const float *cs, const float *sn)
{
    for (int64_t i = 0; i < half; i++) {
        float a = x[i], b = x[i + half];
        x[i] = a * cs[i] - b * sn[i];
        x[i + half] = b * cs[i] + a * sn[i];
    }
}

/* Element i of a K/V row stored as f32 (half = 0) or IEEE half (half = 1), as f32. */
static float kv_at(const void *row, int64_t i, int half)
{
    return half ? sl_f16_to_f32(((const uint16_t *)row)[i]) : ((const float *)row)[i];
}

/* The oracle of one attention row: dot products in double, softmax, then the weighted sum. */
static void attn_row_ref(int64_t Dh, int64_t L, const float *q, const void *k, int64_t k_stride, const void *v,
                         int64_t v_stride, float scale, float *scores, float *out, int half)
{
    size_t es = half ? 2 : 4;
    for (int64_t j = 0; j < L; j++) {
        const char *kj = (const char *)k + (size_t)(j * k_stride) * es;
        double acc = 0.0;
        for (int64_t d = 0; d < Dh; d++) acc += (double)q[d] * kv_at(kj, d, half);
        scores[j] = scale * (float)acc;
    }
    softmax_f32_ref(L, scores);
    for (int64_t d = 0; d < Dh; d++) out[d] = 0.0f;
    for (int64_t j = 0; j < L; j++) {
        const char *vj = (const char *)v + (size_t)(j * v_stride) * es;
        for (int64_t d = 0; d < Dh; d++) out[d] += scores[j] * kv_at(vj, d, half);
    }
}

static void attn_row_f32_ref(int64_t Dh, int64_t L, const float *q, const float *k, int64_t k_stride,
                             const float *v, int64_t v_stride, float scale, float *scores, float *out)
{
    attn_row_ref(Dh, L, q, k, k_stride, v, v_stride, scale, scores, out, 0);
}

static void attn_row_f16_ref(int64_t Dh, int64_t L, const float *q, const uint16_t *k, int64_t k_stride,
                             const uint16_t *v, int64_t v_stride, float scale, float *scores, float *out)
{
    attn_row_ref(Dh, L, q, k, k_stride, v, v_stride, scale, scores, out, 1);
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
    t->rope_f32 = rope_f32_ref;
    t->attn_row_f32 = attn_row_f32_ref;
    t->attn_row_f16 = attn_row_f16_ref;
}
