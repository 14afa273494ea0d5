/* train_vec_avx2.c — AVX2/FMA twins of the row kernels in train_vec.c. exp(x) is evaluated as
 * 2^n * e^r with n = round(x / ln 2), |r| <= ln2 / 2, and e^r by its degree-7 Taylor polynomial
 * (truncation error < 1e-8 relative); inputs below -87.3 (including -inf) give exactly 0. */
#include <immintrin.h>
#include <math.h>

#include "train/train_vec.h"

static inline __m256 exp_avx2(__m256 x)
{
    const __m256 lo = _mm256_set1_ps(-87.3f), hi = _mm256_set1_ps(88.3f);
    const __m256 zero_mask = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* r = x - n ln2, with ln2 split in a short high part (exact n*hi) and a correction */
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.4286068202862268e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(zero_mask, y);
}

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float max_avx2(int64_t n, const float *x)
{
    __m256 m = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float r = _mm_cvtss_f32(h);
    for (; i < n; i++) r = x[i] > r ? x[i] : r;
    return r;
}

static float exp_sum_avx2(int64_t n, const float *x, float sub, float *y)
{
    const __m256 vs = _mm256_set1_ps(sub);
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
        _mm256_storeu_ps(y + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    float s = hsum(acc);
    for (; i < n; i++) {
        y[i] = expf(x[i] - sub);
        s += y[i];
    }
    return s;
}

static inline __m256 sigmoid_avx2(__m256 g)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
    return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

static void swiglu_fwd_avx2(int64_t n, const float *g, const float *u, float *act)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 vg = _mm256_loadu_ps(g + i);
        const __m256 s = sigmoid_avx2(vg);
        _mm256_storeu_ps(act + i, _mm256_mul_ps(_mm256_mul_ps(vg, s), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) act[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void swiglu_bwd_avx2(int64_t n, const float *g, const float *u, const float *dact, float *dg, float *du)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 vg = _mm256_loadu_ps(g + i), vd = _mm256_loadu_ps(dact + i);
        const __m256 s = sigmoid_avx2(vg);
        _mm256_storeu_ps(du + i, _mm256_mul_ps(vd, _mm256_mul_ps(vg, s)));
        /* silu'(g) = s * (1 + g * (1 - s)) */
        const __m256 ds = _mm256_mul_ps(s, _mm256_fmadd_ps(vg, _mm256_sub_ps(one, s), one));
        _mm256_storeu_ps(dg + i, _mm256_mul_ps(_mm256_mul_ps(vd, _mm256_loadu_ps(u + i)), ds));
    }
    for (; i < n; i++) {
        const float s = 1.0f / (1.0f + expf(-g[i]));
        du[i] = dact[i] * g[i] * s;
        dg[i] = dact[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    }
}

/* Plain multiplies and adds (no FMA), in the order of adamw_ref, so both give the same bits. */
static void adamw_avx2(int64_t n, float *p, const float *g, float *m, float *v, const sl_adamw_coef *c)
{
    const __m256 gs = _mm256_set1_ps(c->grad_scale), df = _mm256_set1_ps(c->decay_factor);
    const __m256 b1 = _mm256_set1_ps(c->beta1), b2 = _mm256_set1_ps(c->beta2);
    const __m256 ob1 = _mm256_set1_ps(1.0f - c->beta1), ob2 = _mm256_set1_ps(1.0f - c->beta2);
    const __m256 ss = _mm256_set1_ps(c->step_size), ib = _mm256_set1_ps(c->inv_sqrt_bc2);
    const __m256 eps = _mm256_set1_ps(c->eps);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 gi = _mm256_mul_ps(_mm256_loadu_ps(g + i), gs);
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(ob1, gi));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
                                        _mm256_mul_ps(ob2, _mm256_mul_ps(gi, gi)));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 den = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), ib), eps);
        const __m256 pi = _mm256_mul_ps(_mm256_loadu_ps(p + i), df);
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, _mm256_div_ps(_mm256_mul_ps(ss, mi), den)));
    }
    sl_train_vec_ref.adamw(n - i, p + i, g + i, m + i, v + i, c);
}

/* Squares widened to double, four lanes at a time, two accumulators. */
static double sumsq_avx2(int64_t n, const float *x)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        a0 = _mm256_fmadd_pd(lo, lo, a0);
        a1 = _mm256_fmadd_pd(hi, hi, a1);
    }
    double t[4];
    _mm256_storeu_pd(t, _mm256_add_pd(a0, a1));
    return t[0] + t[1] + t[2] + t[3] + sl_train_vec_ref.sumsq(n - i, x + i);
}

const sl_train_vec sl_train_vec_avx2 = {
    .max = max_avx2, .exp_sum = exp_sum_avx2, .swiglu_fwd = swiglu_fwd_avx2, .swiglu_bwd = swiglu_bwd_avx2,
    .adamw = adamw_avx2, .sumsq = sumsq_avx2,
};
