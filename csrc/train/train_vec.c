/* train_vec.c — scalar reference row kernels (the oracle of train_vec_avx2.c) and the selector. */
#include <math.h>

#include "solar.h"
#include "train/train_vec.h"

static float max_ref(int64_t n, const float *x)
{
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static float exp_sum_ref(int64_t n, const float *x, float sub, float *y)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        y[i] = expf(x[i] - sub);
        s += y[i];
    }
    return (float)s;
}

static void swiglu_fwd_ref(int64_t n, const float *g, const float *u, float *act)
{
    for (int64_t i = 0; i < n; i++) act[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void swiglu_bwd_ref(int64_t n, const float *g, const float *u, const float *dact, float *dg, float *du)
{
    for (int64_t i = 0; i < n; i++) {
        const float s = 1.0f / (1.0f + expf(-g[i]));
        du[i] = dact[i] * g[i] * s;
        dg[i] = dact[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    }
}

static void adamw_ref(int64_t n, float *p, const float *g, float *m, float *v, const sl_adamw_coef *c)
{
    const float b1 = c->beta1, b2 = c->beta2, one_b1 = 1.0f - c->beta1, one_b2 = 1.0f - c->beta2;
    for (int64_t i = 0; i < n; i++) {
        const float gi = g[i] * c->grad_scale;
        const float mi = b1 * m[i] + one_b1 * gi;
        const float vi = b2 * v[i] + one_b2 * (gi * gi);
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * c->decay_factor - c->step_size * mi / (sqrtf(vi) * c->inv_sqrt_bc2 + c->eps);
    }
}

static double sumsq_ref(int64_t n, const float *x)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

const sl_train_vec sl_train_vec_ref = {
    .max = max_ref, .exp_sum = exp_sum_ref, .swiglu_fwd = swiglu_fwd_ref, .swiglu_bwd = swiglu_bwd_ref,
    .adamw = adamw_ref, .sumsq = sumsq_ref,
};

const sl_train_vec *sl_train_vec_table(void)
{
#if SL_HAVE_X86 && defined(__x86_64__)
    if (sl_runtime_isa() >= SL_ISA_AVX2) return &sl_train_vec_avx2;
#endif
    return &sl_train_vec_ref;
}
