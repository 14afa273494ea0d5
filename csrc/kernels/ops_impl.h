/* ops_impl.h — element-wise kernels (dot, axpy, scale, RMSNorm, softmax, SiLU*mul) written
 * once over the sv_* vocabulary, plus RoPE and one attention row; ops_avx2.c / ops_avx512.c instantiate them. Each matches its
 * scalar twin in ops_ref.c: sums the reference keeps in double are kept in double here too,
 * and exp is sv_exp (<= ~2 ulp). Tails use masked loads/stores, never reading past n. */
#ifndef SL_OPS_IMPL_H
#define SL_OPS_IMPL_H

#include <math.h>
#include <stdint.h>

/* Vector i.. (or its first m elements) of a row stored as f32 (half = 0) or IEEE half (half = 1):
 * the f16 KV cache goes through the same kernels as f32, widened exactly on load. */
SV_INLINE sv_f32 ops_load_row(const void *p, int64_t i, int half)
{
    return half ? sv_load_f16((const uint16_t *)p + i) : sv_load((const float *)p + i);
}

SV_INLINE sv_f32 ops_load_row_part(const void *p, int64_t i, int m, int half)
{
    return half ? sv_load_f16_part((const uint16_t *)p + i, m) : sv_load_part((const float *)p + i, m);
}

SV_INLINE float ops_dot_row(int64_t n, const float *a, const void *b, int half)
{
    sv_f32 s0 = sv_zero(), s1 = sv_zero(), s2 = sv_zero(), s3 = sv_zero();
    int64_t i = 0;
    for (; i + 4 * SV_LANES <= n; i += 4 * SV_LANES) {
        s0 = sv_fma(sv_load(a + i), ops_load_row(b, i, half), s0);
        s1 = sv_fma(sv_load(a + i + SV_LANES), ops_load_row(b, i + SV_LANES, half), s1);
        s2 = sv_fma(sv_load(a + i + 2 * SV_LANES), ops_load_row(b, i + 2 * SV_LANES, half), s2);
        s3 = sv_fma(sv_load(a + i + 3 * SV_LANES), ops_load_row(b, i + 3 * SV_LANES, half), s3);
    }
    for (; i + SV_LANES <= n; i += SV_LANES) s0 = sv_fma(sv_load(a + i), ops_load_row(b, i, half), s0);
    if (i < n) {
        int m = (int)(n - i);
        s1 = sv_fma(sv_load_part(a + i, m), ops_load_row_part(b, i, m, half), s1);
    }
    return sv_reduce(sv_add(sv_add(s0, s1), sv_add(s2, s3)));
}

SV_INLINE float ops_dot(int64_t n, const float *a, const float *b) { return ops_dot_row(n, a, b, 0); }

/* y += a * x, x an f32 or half row. */
SV_INLINE void ops_axpy_row(int64_t n, float a, const void *x, float *y, int half)
{
    sv_f32 va = sv_set1(a);
    int64_t i = 0;
    for (; i + SV_LANES <= n; i += SV_LANES) sv_store(y + i, sv_fma(va, ops_load_row(x, i, half), sv_load(y + i)));
    if (i < n) {
        int m = (int)(n - i);
        sv_store_part(y + i, m, sv_fma(va, ops_load_row_part(x, i, m, half), sv_load_part(y + i, m)));
    }
}

SV_INLINE void ops_axpy(int64_t n, float a, const float *x, float *y) { ops_axpy_row(n, a, x, y, 0); }

SV_INLINE void ops_scale(int64_t n, float a, float *y)
{
    sv_f32 va = sv_set1(a);
    int64_t i = 0;
    for (; i + SV_LANES <= n; i += SV_LANES) sv_store(y + i, sv_mul(sv_load(y + i), va));
    if (i < n) {
        int m = (int)(n - i);
        sv_store_part(y + i, m, sv_mul(sv_load_part(y + i, m), va));
    }
}

SV_INLINE void ops_rmsnorm(int64_t n, const float *x, const float *w, float eps, float *y)
{
    sv_f64x ss = sv_f64x_zero();
    int64_t i = 0;
    for (; i + SV_LANES <= n; i += SV_LANES) ss = sv_f64x_add_sq(ss, sv_load(x + i));
    if (i < n) ss = sv_f64x_add_sq(ss, sv_load_part(x + i, (int)(n - i)));
    float inv = n > 0 ? (float)(1.0 / sqrt(sv_f64x_reduce(ss) / (double)n + (double)eps)) : 0.0f;
    sv_f32 vi = sv_set1(inv);
    for (i = 0; i + SV_LANES <= n; i += SV_LANES)
        sv_store(y + i, sv_mul(sv_mul(sv_load(x + i), vi), sv_load(w + i)));
    if (i < n) {
        int m = (int)(n - i);
        sv_store_part(y + i, m, sv_mul(sv_mul(sv_load_part(x + i, m), vi), sv_load_part(w + i, m)));
    }
}

SV_INLINE float ops_max(int64_t n, const float *x)
{
    sv_f32 m0 = sv_set1(-INFINITY), m1 = m0;
    int64_t i = 0;
    for (; i + 2 * SV_LANES <= n; i += 2 * SV_LANES) {
        m0 = sv_max(m0, sv_load(x + i));
        m1 = sv_max(m1, sv_load(x + i + SV_LANES));
    }
    for (; i + SV_LANES <= n; i += SV_LANES) m0 = sv_max(m0, sv_load(x + i));
    if (i < n) m1 = sv_max(m1, sv_load_part_fill(x + i, (int)(n - i), -INFINITY));
    float lanes[SV_LANES], mx = -INFINITY;
    sv_store(lanes, sv_max(m0, m1));
    for (int j = 0; j < SV_LANES; j++) mx = lanes[j] > mx ? lanes[j] : mx;
    return mx;
}

/* In place; -inf entries get 0; a row that is all -inf becomes all zeros (like the reference). */
SV_INLINE void ops_softmax(int64_t n, float *x)
{
    float mx = ops_max(n, x);
    if (mx == -INFINITY) {
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    sv_f32 vm = sv_set1(mx);
    sv_f64x sum = sv_f64x_zero();
    int64_t i = 0;
    for (; i + SV_LANES <= n; i += SV_LANES) {
        sv_f32 e = sv_exp(sv_sub(sv_load(x + i), vm));
        sv_store(x + i, e);
        sum = sv_f64x_add(sum, e);
    }
    if (i < n) {
        int m = (int)(n - i);
        sv_f32 e = sv_exp(sv_sub(sv_load_part_fill(x + i, m, -INFINITY), vm));
        sv_store_part(x + i, m, e);
        sum = sv_f64x_add(sum, e);
    }
    ops_scale(n, (float)(1.0 / sv_f64x_reduce(sum)), x);
}

SV_INLINE void ops_silu_mul(int64_t n, const float *g, const float *u, float *y)
{
    sv_f32 one = sv_set1(1.0f), zero = sv_zero();
    int64_t i = 0;
    for (; i + SV_LANES <= n; i += SV_LANES) {
        sv_f32 vg = sv_load(g + i);
        sv_f32 s = sv_div(vg, sv_add(one, sv_exp(sv_sub(zero, vg))));
        sv_store(y + i, sv_mul(s, sv_load(u + i)));
    }
    if (i < n) {
        int m = (int)(n - i);
        sv_f32 vg = sv_load_part(g + i, m);
        sv_f32 s = sv_div(vg, sv_add(one, sv_exp(sv_sub(zero, vg))));
        sv_store_part(y + i, m, sv_mul(s, sv_load_part(u + i, m)));
    }
}

SV_INLINE void ops_rope(int64_t half, float *x, const float *cs, const float *sn)
{
    float *xb = x + half;
    int64_t i = 0;
    for (; i + SV_LANES <= half; i += SV_LANES) {
        sv_f32 a = sv_load(x + i), b = sv_load(xb + i), c = sv_load(cs + i), s = sv_load(sn + i);
        sv_store(x + i, sv_sub(sv_mul(a, c), sv_mul(b, s)));
        sv_store(xb + i, sv_add(sv_mul(b, c), sv_mul(a, s)));
    }
    if (i < half) {
        int m = (int)(half - i);
        sv_f32 a = sv_load_part(x + i, m), b = sv_load_part(xb + i, m);
        sv_f32 c = sv_load_part(cs + i, m), s = sv_load_part(sn + i, m);
        sv_store_part(x + i, m, sv_sub(sv_mul(a, c), sv_mul(b, s)));
        sv_store_part(xb + i, m, sv_add(sv_mul(b, c), sv_mul(a, s)));
    }
}

/* One attention row over K/V rows stored as f32 (half = 0) or IEEE half (half = 1). */
SV_INLINE void ops_attn_row_kv(int64_t Dh, int64_t L, const float *q, const void *k, int64_t k_stride,
                               const void *v, int64_t v_stride, float scale, float *scores, float *out, int half)
{
    size_t es = half ? 2 : 4;
    for (int64_t j = 0; j < L; j++)
        scores[j] = scale * ops_dot_row(Dh, q, (const char *)k + (size_t)(j * k_stride) * es, half);
    ops_softmax(L, scores);
    for (int64_t d = 0; d < Dh; d++) out[d] = 0.0f;
    for (int64_t j = 0; j < L; j++) ops_axpy_row(Dh, scores[j], (const char *)v + (size_t)(j * v_stride) * es, out, half);
}

#endif /* SL_OPS_IMPL_H */
