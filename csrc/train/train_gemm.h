/* train_gemm.h — the f32 matrix products of training: a packed, cache-blocked GEMM with any
 * transposition of A and B, C = alpha * op(A) op(B) + beta * C, row-major with leading dims.
 *
 * The driver packs op(A) into MR-row micro-panels and op(B) into NR-column micro-panels and
 * calls a 6x16 micro-kernel: a scalar `_ref` one (oracle, fallback), the AVX2/FMA one
 * (train_gemm_avx2.c) or the AVX-512 one (train_gemm_avx512.c), chosen per call from the installed
 * ISA level. */
#ifndef SL_TRAIN_GEMM_H
#define SL_TRAIN_GEMM_H

#include <stdint.h>

#include "solar.h"

#define SL_TGEMM_MR 6
#define SL_TGEMM_NR 16
#define SL_TGEMM_MC 144     /* rows of op(A) per packed block (multiple of MR) */
#define SL_TGEMM_KC 384    /* depth per packed block */
#define SL_TGEMM_NC 3072   /* columns of op(B) per packed block (multiple of NR) */

/* Micro-kernel: c[i*ldc + j] = alpha * sum_k A(i, k) * b[k*NR + j] + beta * c[i*ldc + j]
 * for i < mr, j < nr (mr <= MR, nr <= NR); beta == 0 never reads c.
 * A(i, k) = a[k*MR + i] (a packed micro-panel) when lda == 0, else a[i*lda + k] (rows of A read
 * in place; rows i >= mr are never touched). */
typedef void (*sl_tgemm_kernel_fn)(int64_t kc, const float *a, int64_t lda, const float *b, float *c,
                                   int64_t ldc, float alpha, float beta, int64_t mr, int64_t nr);

void sl_tgemm_kernel_ref(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                         float alpha, float beta, int64_t mr, int64_t nr);
#if SL_HAVE_X86 && defined(__x86_64__)
void sl_tgemm_kernel_avx512(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                            float alpha, float beta, int64_t mr, int64_t nr);
void sl_tgemm_kernel_avx2(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                          float alpha, float beta, int64_t mr, int64_t nr);
#endif

/* Packing of one NR-column micro-panel of a transposed B (rows of the stored matrix become
 * columns of op(B)): dst[k*NR + j] = x[j*ld + k] for j < nr, k < kc; dst[k*NR + j] = 0 for
 * nr <= j < NR. The AVX2 twin transposes 8x8 blocks. */
typedef void (*sl_tgemm_pack_fn)(const float *x, int64_t ld, int64_t kc, int64_t nr, float *dst);

void sl_tgemm_pack_bt_ref(const float *x, int64_t ld, int64_t kc, int64_t nr, float *dst);
#if SL_HAVE_X86 && defined(__x86_64__)
void sl_tgemm_pack_bt_avx2(const float *x, int64_t ld, int64_t kc, int64_t nr, float *dst);
#endif

/* Per-thread packing buffers. */
typedef struct sl_tgemm_ws {
    int n_threads;
    float *pack_a;     /* owned (n_threads, MC*KC) */
    float *pack_b;     /* owned (n_threads, KC*NC) */
} sl_tgemm_ws;

sl_status sl_tgemm_ws_init(sl_tgemm_ws *ws, int n_threads);
void sl_tgemm_ws_free(sl_tgemm_ws *ws);   /* accepts a zeroed or freed ws */

/* One matrix operand: op(X) element (r, c) is x[r*ld + c], or x[c*ld + r] when trans. */
typedef struct sl_tgemm_mat {
    const float *x;
    int64_t ld;
    int trans;
} sl_tgemm_mat;

static inline sl_tgemm_mat sl_tgemm_n(const float *x, int64_t ld) { return (sl_tgemm_mat){x, ld, 0}; }
static inline sl_tgemm_mat sl_tgemm_t(const float *x, int64_t ld) { return (sl_tgemm_mat){x, ld, 1}; }

/* C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, using ws->n_threads OpenMP threads.
 * Must not be called from inside a parallel region. */
void sl_tgemm(const sl_tgemm_ws *ws, int64_t M, int64_t N, int64_t K, float alpha, sl_tgemm_mat A,
              sl_tgemm_mat B, float beta, float *C, int64_t ldc);
/* Same on the calling thread only, with the packing buffers of slot tid (for use inside a parallel
 * region, one slot per thread). */
void sl_tgemm_serial(const sl_tgemm_ws *ws, int tid, int64_t M, int64_t N, int64_t K, float alpha,
                     sl_tgemm_mat A, sl_tgemm_mat B, float beta, float *C, int64_t ldc);

/* The kernel and the packing of transposed B for the installed ISA level. */
sl_tgemm_kernel_fn sl_tgemm_kernel(void);
sl_tgemm_pack_fn sl_tgemm_pack_bt(void);

#endif /* SL_TRAIN_GEMM_H */
