/* train_vec.h — the exp-heavy row kernels of training (softmax pieces, SwiGLU forward and
 * backward) as a small table: a scalar `_ref` twin (train_vec.c) and an AVX2/FMA version
 * (train_vec_avx2.c), picked per call from the installed ISA level. */
#ifndef SL_TRAIN_VEC_H
#define SL_TRAIN_VEC_H

#include <omp.h>
#include <stdint.h>

typedef struct sl_train_vec {
    float (*max)(int64_t n, const float *x);                 /* -inf for n == 0 */
    /* y[i] = exp(x[i] - sub) (y may alias x); returns the sum of the y[i] */
    float (*exp_sum)(int64_t n, const float *x, float sub, float *y);
    /* act = silu(g) * u */
    void (*swiglu_fwd)(int64_t n, const float *g, const float *u, float *act);
    /* dg = dact * u * silu'(g), du = dact * silu(g) */
    void (*swiglu_bwd)(int64_t n, const float *g, const float *u, const float *dact, float *dg, float *du);
} sl_train_vec;

extern const sl_train_vec sl_train_vec_ref;
#if SL_HAVE_X86 && defined(__x86_64__)
extern const sl_train_vec sl_train_vec_avx2;
#endif

/* The table for the installed ISA level. */
const sl_train_vec *sl_train_vec_table(void);

#endif /* SL_TRAIN_VEC_H */
