/* matmul.h — Y = X @ W^T for any weight type with a gemm in the kernel table, threaded with
 * OpenMP over blocks of weight rows. The entry point the forward pass uses for every linear
 * layer. */
#ifndef SL_MATMUL_H
#define SL_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* Scratch bytes sl_matmul wants for T activation rows of K: activations converted to the
 * weight type's activation type, or (f32 activations, T >= 4) copied with a padded row
 * stride; 0 when nothing is needed or the shape cannot be multiplied (sl_matmul then reports
 * why). Float weights also run with scratch NULL (activations used in place). */
size_t sl_matmul_scratch_bytes(int w_dtype, int64_t K, int64_t T);

/* y (T, N) = x (T, K) @ w (N, K)^T.
 *   w: N rows of dtype w_dtype, w_stride bytes apart (>= the row's bytes), borrowed
 *   x: (T, K) f32, contiguous;  y: (T, N) f32, contiguous, must not overlap x or w
 *   n_threads <= 0: physical cores;  scratch: sl_matmul_scratch_bytes() bytes, 64-aligned
 *   (may be NULL when that is 0).
 * Every output is computed by one thread with the same operations whatever n_threads, so
 * results with 1 thread equal results with N threads bit for bit. */
sl_status sl_matmul(int w_dtype, const void *w, size_t w_stride, int64_t N, int64_t K,
                    const float *x, int64_t T, float *y, int n_threads, void *scratch);

/* Same with an explicit kernel table (tests and benchmarks compare ISA levels with it) and
 * weight layout (sl_layout; SL_LAYOUT_X8 needs k->gemm_x8[w_dtype]). */
sl_status sl_matmul_with(const sl_kernel_table *k, int w_dtype, int layout, const void *w, size_t w_stride,
                         int64_t N, int64_t K, const float *x, int64_t T, float *y, int n_threads,
                         void *scratch);

/* The same matmul as work items for threads that share steps (runtime/steps.h): first
 * n_quant = (quant ? T : 0) activation rows to convert (each item one row), then n_chunks
 * independent blocks of weight rows. Items of one kind may run in any order on any thread;
 * the gemm items read what every quant item wrote. */
typedef struct sl_matmul_job {
    sl_gemm_fn gemm;
    sl_from_float_fn quant;    /* NULL: the gemm reads x in place */
    const void *w;             /* borrowed */
    size_t ws;
    int64_t N, K, T;
    const float *x;            /* borrowed (T, K) */
    const void *xa;            /* borrowed: x, or scratch holding the converted rows */
    size_t xs;                 /* bytes between rows of xa */
    float *y;                  /* borrowed (T, N) */
    int64_t rc, n_chunks;      /* weight rows per gemm item, items */
} sl_matmul_job;

sl_status sl_matmul_job_init(sl_matmul_job *j, const sl_kernel_table *k, int w_dtype, int layout, const void *w,
                             size_t w_stride, int64_t N, int64_t K, const float *x, int64_t T, float *y, void *scratch);
void sl_matmul_job_quant(const sl_matmul_job *j, int64_t t);    /* activation row t */
void sl_matmul_job_gemm(const sl_matmul_job *j, int64_t c);     /* weight-row block c */

#endif /* SL_MATMUL_H */
