/* matmul.h — Y(T, N) = X(T, K) @ W(N, K)^T for any weight dtype with a gemm kernel, threaded
 * over row blocks of W. Activations are converted once into the weight type's activation type. */
#ifndef SL_MATMUL_H
#define SL_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "solar.h"

/* Scratch bytes sl_matmul needs for T rows of K activations (0 for float weights). */
size_t sl_matmul_scratch_bytes(int w_dtype, int64_t K, int64_t T);
sl_status sl_matmul(int w_dtype, const void *w, size_t w_stride, int64_t N, int64_t K,
                    const float *x, int64_t T, float *y, int n_threads, void *scratch);

#endif /* SL_MATMUL_H */
