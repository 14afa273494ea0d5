/* train_vec.h — the streaming row kernels of training (softmax pieces, SwiGLU forward and
 * backward, the AdamW update) as a small table: a scalar `_ref` twin (train_vec.c) and an AVX2/FMA version
 * (train_vec_avx2.c), picked per call from the installed ISA level. */
#ifndef SL_TRAIN_VEC_H
#define SL_TRAIN_VEC_H

#include <omp.h>
#include <stdint.h>

/* Per-tensor constants of one AdamW update (see adamw.c). */
typedef struct sl_adamw_coef {
    float grad_scale, decay_factor, beta1, beta2, step_size, inv_sqrt_bc2, eps;
} sl_adamw_coef;

typedef struct sl_train_vec {
    float (*max)(int64_t n, const float *x);                 /* -inf for n == 0 */
    /* y[i] = exp(x[i] - sub) (y may alias x); returns the sum of the y[i] */
    float (*exp_sum)(int64_t n, const float *x, float sub, float *y);
    /* act = silu(g) * u */
    void (*swiglu_fwd)(int64_t n, const float *g, const float *u, float *act);
    /* dg = dact * u * silu'(g), du = dact * silu(g) */
    void (*swiglu_bwd)(int64_t n, const float *g, const float *u, const float *dact, float *dg, float *du);
    /* g' = g*grad_scale; p *= decay_factor; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
     * p -= step_size * m / (sqrt(v) * inv_sqrt_bc2 + eps)   (same operation order in every twin) */
    void (*adamw)(int64_t n, float *p, const float *g, float *m, float *v, const sl_adamw_coef *c);
    /* sum of x[i]^2, accumulated in double */
    double (*sumsq)(int64_t n, const float *x);
} sl_train_vec;

extern const sl_train_vec sl_train_vec_ref;
#if SL_HAVE_X86 && defined(__x86_64__)
extern const sl_train_vec sl_train_vec_avx2;
#endif

/* The table for the installed ISA level. */
const sl_train_vec *sl_train_vec_table(void);

#endif /* SL_TRAIN_VEC_H */
