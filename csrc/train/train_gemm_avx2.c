/* train_gemm_avx2.c — the AVX2/FMA 6x16 micro-kernel of the training GEMM (twin of
 * sl_tgemm_kernel_ref in train_gemm.c): 12 ymm accumulators, two B loads and six A broadcasts
 * per step of k; and the packing of a transposed B panel by 8x8 transposes (twin of
 * sl_tgemm_pack_bt_ref). */
#include <immintrin.h>
#include <math.h>

#include "train/train_gemm.h"

#define ROW_FMA(i, ref)                                       \
    do {                                                      \
        const __m256 a_ = _mm256_broadcast_ss(&(ref));        \
        c##i##0 = _mm256_fmadd_ps(a_, b0, c##i##0);           \
        c##i##1 = _mm256_fmadd_ps(a_, b1, c##i##1);           \
    } while (0)

static inline void store_row(float *c, __m256 lo, __m256 hi, __m256 va, float beta)
{
    lo = _mm256_mul_ps(lo, va);
    hi = _mm256_mul_ps(hi, va);
    if (beta != 0.0f) {
        const __m256 vb = _mm256_set1_ps(beta);
        lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), lo);
        hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), hi);
    }
    _mm256_storeu_ps(c, lo);
    _mm256_storeu_ps(c + 8, hi);
}

/* The 6x16 product over kc steps; A(i, k) at a[i*rs + k*cs] (rows >= mr alias row mr-1). */
static inline __attribute__((always_inline)) void kernel_body(int64_t kc, const float *a, int64_t rs, int64_t cs,
                                                              const float *b, float *c, int64_t ldc, float alpha,
                                                              float beta, int64_t mr, int64_t nr)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a0 = a, *a1 = a + (mr > 1 ? rs : 0), *a2 = a + (mr > 2 ? 2 * rs : 0);
    const float *a3 = a + (mr > 3 ? 3 * rs : 0), *a4 = a + (mr > 4 ? 4 * rs : 0), *a5 = a + (mr > 5 ? 5 * rs : 0);
    for (int64_t i = 0; i < mr; i++) {       /* the C rows arrive while the products run */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
    for (int64_t k = 0; k < kc; k++, b += SL_TGEMM_NR) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        const int64_t o = k * cs;
        ROW_FMA(0, a0[o]);
        ROW_FMA(1, a1[o]);
        ROW_FMA(2, a2[o]);
        ROW_FMA(3, a3[o]);
        ROW_FMA(4, a4[o]);
        ROW_FMA(5, a5[o]);
    }
    const __m256 va = _mm256_set1_ps(alpha);
    if (mr == SL_TGEMM_MR && nr == SL_TGEMM_NR) {
        store_row(c, c00, c01, va, beta);
        store_row(c + ldc, c10, c11, va, beta);
        store_row(c + 2 * ldc, c20, c21, va, beta);
        store_row(c + 3 * ldc, c30, c31, va, beta);
        store_row(c + 4 * ldc, c40, c41, va, beta);
        store_row(c + 5 * ldc, c50, c51, va, beta);
        return;
    }
    /* Edge tile: spill, then write the valid part. */
    float t[SL_TGEMM_MR][SL_TGEMM_NR];
    const __m256 rows[SL_TGEMM_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int i = 0; i < SL_TGEMM_MR; i++) {
        _mm256_storeu_ps(t[i], _mm256_mul_ps(rows[i][0], va));
        _mm256_storeu_ps(t[i] + 8, _mm256_mul_ps(rows[i][1], va));
    }
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++)
            c[i * ldc + j] = beta == 0.0f ? t[i][j] : fmaf(beta, c[i * ldc + j], t[i][j]);
}

void sl_tgemm_kernel_avx2(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                          float alpha, float beta, int64_t mr, int64_t nr)
{
    if (lda) kernel_body(kc, a, lda, 1, b, c, ldc, alpha, beta, mr, nr);
    else kernel_body(kc, a, 1, SL_TGEMM_MR, b, c, ldc, alpha, beta, mr, nr);
}

/* Transpose the 8x8 block r[0..7] (rows) in registers. */
static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

void sl_tgemm_pack_bt_avx2(const float *x, int64_t ld, int64_t kc, int64_t nr, float *dst)
{
    if (nr < SL_TGEMM_NR || kc < 8) {
        sl_tgemm_pack_bt_ref(x, ld, kc, nr, dst);
        return;
    }
    const int64_t k8 = kc / 8 * 8;
    for (int64_t k = 0; k < k8; k += 8)
        for (int64_t j0 = 0; j0 < SL_TGEMM_NR; j0 += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(x + (j0 + i) * ld + k);
            transpose8(r);      /* r[q][i] = x[(j0 + i) * ld + k + q] */
            for (int q = 0; q < 8; q++) _mm256_storeu_ps(dst + (k + q) * SL_TGEMM_NR + j0, r[q]);
        }
    for (int64_t j = 0; j < SL_TGEMM_NR; j++)
        for (int64_t k = k8; k < kc; k++) dst[k * SL_TGEMM_NR + j] = x[j * ld + k];
}
