/* kernels.h — the kernel table: one set of function pointers per ISA level, chosen once at
 * import (sl_kernels_install) and read-only afterwards. Every entry of the generic table is a
 * scalar `_ref` kernel, the oracle the AVX2 / AVX-512 tables are tested against; an ISA table
 * only overrides the entries it speeds up. */
#ifndef SL_KERNELS_H
#define SL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "solar.h"

/* Y[t*ldy + r] = sum_k W[r, k] * X[t, k]   for r in [r0, r1), t in [0, T).
 *   w: weight rows of dtype d, w_stride bytes apart       (N, K)
 *   x: T activation rows in d's activation type (sl_dtype_act_type), x_stride bytes apart (T, K)
 * No threading inside: callers split [r0, r1) across threads. */
typedef void (*sl_gemm_fn)(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                           int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1);
/* Weight matrix layouts. ROWS: the file's, row r at w + r * w_stride. X8: rows in groups of 8
 * whose blocks are interleaved so one SIMD load feeds 8 rows (csrc/quant/pack_x8.c defines it);
 * the rows after the last full group stay in ROWS order. Both hold the same bytes in the same
 * space, so w_stride (the bytes of one row) and the address of group g (w + 8 g w_stride) agree.
 * A gemm on X8 weights is called with r0 a multiple of 8 and r1 a multiple of 8 or N (so the
 * rows of a partial last group, the tail, are exactly those past r1 / 8 * 8 when r1 % 8 != 0). */
typedef enum sl_layout { SL_LAYOUT_ROWS = 0, SL_LAYOUT_X8 = 1 } sl_layout;
/* The float types' X8 block: value k of row r (in a full group) at
 *     w + (r / 8) 8 w_stride + (k / B) 8 B e + (r % 8) B e + (k % B) e     (B = 32, e = element bytes)
 * so a decode tile of 8 rows reads one stream; every SIMD step (8 to 32 values) stays in a block. */
#define SL_X8_FLOAT_BLOCK 32

/* Where row r's value 0 is, and how far value k lies from it (the two terms of the formula). */
static inline const char *sl_x8_float_row(const void *w, size_t w_stride, size_t e, int64_t r)
{
    return (const char *)w + (size_t)(r / 8) * 8 * w_stride + (size_t)(r % 8) * SL_X8_FLOAT_BLOCK * e;
}

static inline size_t sl_x8_float_koff(size_t e, int64_t k)
{
    const size_t B = SL_X8_FLOAT_BLOCK;
    return ((size_t)k / B * 8 * B + (size_t)k % B) * e;
}

static inline const char *sl_x8_float_at(const void *w, size_t w_stride, size_t e, int64_t r, int64_t k)
{
    return sl_x8_float_row(w, w_stride, e, r) + sl_x8_float_koff(e, k);
}

/* Convert n floats to n elements of a dtype (quantize) / back (dequantize). */
typedef void (*sl_from_float_fn)(int64_t n, const float *src, void *dst);
typedef void (*sl_to_float_fn)(int64_t n, const void *src, float *dst);

typedef struct sl_kernel_table {
    sl_gemm_fn gemm[SL_DTYPE_COUNT];             /* by weight dtype; NULL: unsupported */
    sl_gemm_fn gemm_x8[SL_DTYPE_COUNT];          /* the same on SL_LAYOUT_X8 weights; NULL: not packed */
    sl_from_float_fn from_float[SL_DTYPE_COUNT]; /* f32 -> dtype (activations and quantize) */
    sl_to_float_fn to_float[SL_DTYPE_COUNT];     /* dtype -> f32 */

    float (*dot_f32)(int64_t n, const float *a, const float *b);
    void (*axpy_f32)(int64_t n, float a, const float *x, float *y);              /* y += a*x */
    void (*scale_f32)(int64_t n, float a, float *y);                             /* y *= a */
    /* y = x / rms(x) * w  (y may alias x) */
    void (*rmsnorm_f32)(int64_t n, const float *x, const float *w, float eps, float *y);
    /* x = softmax(x) in place; returns nothing, handles -inf entries */
    void (*softmax_f32)(int64_t n, float *x);
    /* y = silu(g) * u (y may alias g) */
    void (*silu_mul_f32)(int64_t n, const float *g, const float *u, float *y);

    /* Rotary embedding of one head vector x (2*half), "rotate half" (HF / NeoX) pairing:
     *   x[i], x[i+half] <- x[i]*cos[i] - x[i+half]*sin[i], x[i+half]*cos[i] + x[i]*sin[i]
     * cos, sin: (half) for this position. */
    void (*rope_f32)(int64_t half, float *x, const float *cos, const float *sin);
    /* Attention of one query row over L key/value rows (the caller picks L for causal masking
     * and offsets k / v for a sliding window):
     *   s[j] = scale * q . K[j];  p = softmax(s);  out = sum_j p[j] * V[j]
     *   q (Dh); k, v: L rows of Dh floats, k_stride / v_stride floats apart;
     *   scores: (L) scratch, holds p on return; out (Dh), must not alias q, k, v. */
    void (*attn_row_f32)(int64_t Dh, int64_t L, const float *q, const float *k, int64_t k_stride,
                         const float *v, int64_t v_stride, float scale, float *scores, float *out);
    /* The same over an f16 KV cache (IEEE half keys and values, converted on load). */
    void (*attn_row_f16)(int64_t Dh, int64_t L, const float *q, const uint16_t *k, int64_t k_stride,
                         const uint16_t *v, int64_t v_stride, float scale, float *scores, float *out);
} sl_kernel_table;

/* The installed table (never NULL after sl_runtime_init). */
extern const sl_kernel_table *sl_k;

void sl_kernels_install(sl_isa isa);
/* Tables per level; ISA tables are filled from the generic one then overridden. */
const sl_kernel_table *sl_kernels_for(sl_isa isa);

/* Per-ISA fillers (the kernels/ files ending in _avx2.c / _avx512.c) override what they speed up.
 * dispatch.c runs every filler on every x86-64 CPU, so each filler definition must be marked
 * SL_KERNELS_FILLER: compiled for the baseline ISA, whatever flags its file gets (otherwise
 * the compiler may store the pointers with AVX-512 instructions and the import dies with
 * SIGILL on a CPU without them). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define SL_KERNELS_FILLER __attribute__((target("no-sse3")))   /* off with everything above SSE2 */
#else
#define SL_KERNELS_FILLER
#endif
void sl_kernels_fill_generic(sl_kernel_table *t);
void sl_kernels_fill_avx2(sl_kernel_table *t);
void sl_kernels_fill_avx512(sl_kernel_table *t);

#endif /* SL_KERNELS_H */
