/* train_gemm_avx512.c — the AVX-512 6x16 micro-kernel of the training GEMM (twin of
 * sl_tgemm_kernel_ref in train_gemm.c and of the AVX2 kernel): a row of the tile is one zmm, so
 * six chains of FMAs would wait on their latency; k is taken in pairs with two sets of six
 * accumulators (even and odd k), added at the end. Same packing as the AVX2 kernel.
 * bench_train.py, 2 threads, Zen 5, tokens/s vs PyTorch, AVX2 -> AVX-512 kernel: 1.4M params 2.04x -> 2.77x,
 * 7M 1.45x -> 2.04x, 56M 1.69x -> 2.17x. */
#include <immintrin.h>
#include <math.h>

#include "train/train_gemm.h"


void sl_tgemm_kernel_avx512(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                            float alpha, float beta, int64_t mr, int64_t nr);

/* The 6x16 product over kc steps; A(i, k) at a[i*rs + k*cs] (rows >= mr alias row mr-1). */
static inline __attribute__((always_inline)) void kernel_body(int64_t kc, const float *a, int64_t rs, int64_t cs,
                                                              const float *b, float *c, int64_t ldc, float alpha,
                                                              float beta, int64_t mr, int64_t nr)
{
    __m512 e[SL_TGEMM_MR], o[SL_TGEMM_MR];   /* even / odd k */
    const float *ar[SL_TGEMM_MR];
    for (int i = 0; i < SL_TGEMM_MR; i++) {
        e[i] = o[i] = _mm512_setzero_ps();
        ar[i] = a + (i < mr ? i : mr - 1) * rs;
    }
    for (int64_t i = 0; i < mr; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    int64_t k = 0;
    for (; k + 2 <= kc; k += 2, b += 2 * SL_TGEMM_NR) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + SL_TGEMM_NR);
        const int64_t o0 = k * cs, o1 = o0 + cs;
        for (int i = 0; i < SL_TGEMM_MR; i++) {
            e[i] = _mm512_fmadd_ps(_mm512_set1_ps(ar[i][o0]), b0, e[i]);
            o[i] = _mm512_fmadd_ps(_mm512_set1_ps(ar[i][o1]), b1, o[i]);
        }
    }
    if (k < kc) {
        const __m512 b0 = _mm512_load_ps(b);
        for (int i = 0; i < SL_TGEMM_MR; i++) e[i] = _mm512_fmadd_ps(_mm512_set1_ps(ar[i][k * cs]), b0, e[i]);
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const __mmask16 mask = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    for (int64_t i = 0; i < mr; i++) {
        __m512 v = _mm512_mul_ps(_mm512_add_ps(e[i], o[i]), va);
        if (beta != 0.0f) v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask, c + i * ldc), v);
        _mm512_mask_storeu_ps(c + i * ldc, mask, v);
    }
}

void sl_tgemm_kernel_avx512(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                            float alpha, float beta, int64_t mr, int64_t nr)
{
    if (lda) kernel_body(kc, a, lda, 1, b, c, ldc, alpha, beta, mr, nr);
    else kernel_body(kc, a, 1, SL_TGEMM_MR, b, c, ldc, alpha, beta, mr, nr);
}
