/* quant.h — GGUF block-quantized types: the exact block layouts (q8_0, q4_0, q4_K, q5_K, q6_K
 * and the activation type q8_K), their scalar reference codecs and dot-product kernels, and the
 * fillers that put them into the kernel table.
 *
 * Layouts are byte-for-byte those of GGUF/ggml (little-endian, IEEE half scales), so tensors we
 * quantize can be written to GGUF unchanged and GGUF tensors can be used in place. The k-quant
 * quantizers reproduce ggml's reference algorithm (no importance matrix) operation for operation;
 * the build uses -std=c11, which keeps floating-point contraction off, so results are bit-exact.
 */
#ifndef SL_QUANT_H
#define SL_QUANT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"
#include "solar.h"

#define SL_QK 32      /* elements per q8_0 / q4_0 block */
#define SL_QK_K 256   /* elements per k-quant super-block */

typedef uint16_t sl_half;   /* IEEE binary16 bits */

#pragma pack(push, 1)
typedef struct sl_block_q8_0 {
    sl_half d;                 /* scale */
    int8_t qs[SL_QK];          /* x = d * q */
} sl_block_q8_0;

typedef struct sl_block_q4_0 {
    sl_half d;                 /* scale */
    uint8_t qs[SL_QK / 2];     /* element j in the low nibble of qs[j], j+16 in the high nibble; x = d*(q-8) */
} sl_block_q4_0;

typedef struct sl_block_q4_k {
    sl_half d;                 /* super-scale of the 8 sub-block scales */
    sl_half dmin;              /* super-scale of the 8 sub-block mins */
    uint8_t scales[12];        /* 8 scales + 8 mins, 6 bits each (see sl_kq_scale_min) */
    uint8_t qs[SL_QK_K / 2];   /* 4-bit quants: 64-element chunks, low nibbles first 32, high next 32 */
} sl_block_q4_k;

typedef struct sl_block_q5_k {
    sl_half d;
    sl_half dmin;
    uint8_t scales[12];        /* as q4_K */
    uint8_t qh[SL_QK_K / 8];   /* 5th bit: element 64c+j -> bit 2c of qh[j], 64c+32+j -> bit 2c+1 */
    uint8_t qs[SL_QK_K / 2];   /* low 4 bits as q4_K */
} sl_block_q5_k;

typedef struct sl_block_q6_k {
    uint8_t ql[SL_QK_K / 2];   /* low 4 bits */
    uint8_t qh[SL_QK_K / 4];   /* high 2 bits */
    int8_t scales[SL_QK_K / 16]; /* 16 sub-block scales */
    sl_half d;                 /* super-scale; x = d * scale * (q - 32) */
} sl_block_q6_k;

typedef struct sl_block_q8_k {
    float d;                   /* scale (f32, unlike the others) */
    int8_t qs[SL_QK_K];
    int16_t bsums[SL_QK_K / 16]; /* sums of qs over groups of 16 */
} sl_block_q8_k;
#pragma pack(pop)

static_assert(sizeof(sl_block_q8_0) == 34, "q8_0 block is 34 bytes in GGUF");
static_assert(sizeof(sl_block_q4_0) == 18, "q4_0 block is 18 bytes in GGUF");
static_assert(sizeof(sl_block_q4_k) == 144, "q4_K block is 144 bytes in GGUF");
static_assert(sizeof(sl_block_q5_k) == 176, "q5_K block is 176 bytes in GGUF");
static_assert(sizeof(sl_block_q6_k) == 210, "q6_K block is 210 bytes in GGUF");
static_assert(sizeof(sl_block_q8_k) == 292, "q8_K block is 292 bytes in ggml");

/* Round to nearest, ties to even, for |v| < 2^22 (ggml's k-quant rounding): adding 1.5*2^23 leaves
 * the integer in the low mantissa bits. Outside that range the result is what ggml computes too. */
static inline int sl_kq_nearest_int(float v)
{
    float t = v + 12582912.0f;
    int32_t i;
    memcpy(&i, &t, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* Sub-block j (0..7) scale and min of a q4_K / q5_K scales[12] array. */
static inline void sl_kq_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* ---- codecs (n elements, a multiple of the type's block size) ---- */
void sl_quant_from_float_q8_0(int64_t n, const float *src, void *dst);
void sl_quant_to_float_q8_0(int64_t n, const void *src, float *dst);
void sl_quant_from_float_q4_0(int64_t n, const float *src, void *dst);
void sl_quant_to_float_q4_0(int64_t n, const void *src, float *dst);
void sl_quant_from_float_q4_k(int64_t n, const float *src, void *dst);
void sl_quant_to_float_q4_k(int64_t n, const void *src, float *dst);
void sl_quant_from_float_q5_k(int64_t n, const float *src, void *dst);
void sl_quant_to_float_q5_k(int64_t n, const void *src, float *dst);
void sl_quant_from_float_q6_k(int64_t n, const float *src, void *dst);
void sl_quant_to_float_q6_k(int64_t n, const void *src, float *dst);
void sl_quant_from_float_q8_k(int64_t n, const float *src, void *dst);
void sl_quant_to_float_q8_k(int64_t n, const void *src, float *dst);

/* Shared k-quant search (kquant.c): fit x ~ scale*L - min over n elements, L in [0, nmax]. */
float sl_kq_fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min,
                          uint8_t *Laux, float rmin, float rdelta, int nstep);
/* Fit x ~ scale*(L - nmax) with weights x^2 (ggml's rmse_type 1); L in [0, 2*nmax). */
float sl_kq_fit_scale_sym(int n, int nmax, const float *x, int8_t *L);
/* Pack 8 six-bit scales and mins into a q4_K / q5_K scales[12] array. */
void sl_kq_pack_scale_min(const uint8_t ls[8], const uint8_t lm[8], uint8_t out[12]);
/* ggml's q4_K / q5_K reference quantizer, up to (and excluding) the bit packing of L. */
void sl_kq_quantize_4_5(const float *x, int nmax, float rmin, float rdelta, int nstep, sl_half *d,
                        sl_half *dmin, uint8_t scales[12], uint8_t L[SL_QK_K]);

/* A k-quant super-block unpacked for the scalar reference dot product. */
typedef struct sl_kq_unpacked {
    int8_t q[SL_QK_K];         /* values (q6_K: minus 32) */
    int16_t sc[16], m[16];     /* scale and min of each group of 16 values (q6_K: no mins) */
    float d, dmin;
} sl_kq_unpacked;
typedef void (*sl_kq_unpack_fn)(const void *block, sl_kq_unpacked *u);
void sl_kq_unpack_q4_k(const void *block, sl_kq_unpacked *u);
void sl_kq_unpack_q5_k(const void *block, sl_kq_unpacked *u);
void sl_kq_unpack_q6_k(const void *block, sl_kq_unpacked *u);
/* One unpacked super-block against one q8_K block: d*dx*isum - dmin*dx*msum (kquant_gemm.c). */
float sl_kq_superblock_dot(const sl_kq_unpacked *u, const sl_block_q8_k *x);
/* The k-quant reference gemm (kquant_gemm.c): y = sum over super-blocks of
 * d*dx*sum_g(sc_g * q.x) - dmin*dx*sum_g(m_g * bsum_g). */
void sl_kq_gemm_ref(sl_kq_unpack_fn unpack, size_t block_bytes, int64_t K, const void *w, size_t w_stride,
                    const void *x, size_t x_stride, int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1);

/* ---- scalar reference gemm kernels (the contract of sl_gemm_fn in kernels.h) ---- */
void sl_quant_gemm_q8_0_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1);
void sl_quant_gemm_q4_0_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1);
void sl_quant_gemm_q4_k_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1);
void sl_quant_gemm_q5_k_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1);
void sl_quant_gemm_q6_k_ref(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride,
                            int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1);

/* Run a reference gemm over chunks of 16 tokens, so each chunk's activations stay in cache while
 * the rows pass over them (per-(row, token) arithmetic unchanged). */
static inline void sl_quant_gemm_token_chunks(sl_gemm_fn fn, int64_t K, const void *w, size_t w_stride,
                                              const void *x, size_t x_stride, int64_t T, float *y, int64_t ldy,
                                              int64_t r0, int64_t r1)
{
    for (int64_t t0 = 0; t0 < T; t0 += 16)
        fn(K, w, w_stride, (const char *)x + (size_t)t0 * x_stride, x_stride, T - t0 < 16 ? T - t0 : 16,
           y + t0 * ldy, ldy, r0, r1);
}

/* ---- kernel-table fillers (called from kernels/dispatch.c) ---- */
void sl_quant_fill_generic(sl_kernel_table *t);
void sl_quant_fill_avx2(sl_kernel_table *t);     /* gemm_q_avx2.c, gemm_qk_avx2.c */
void sl_quant_fill_avx512(sl_kernel_table *t);   /* gemm_q_avx512.c */

/* ---- checked whole-tensor entry points (quant_api.c) ---- */

/* True for the types this module quantizes / dequantizes. */
int sl_quant_is_supported(int dtype);
/* Quantize rows x cols floats (rows src_stride bytes apart) into rows of dtype blocks, dst_stride
 * bytes apart, with the given table's from_float, rows split over n_threads (<= 0: physical cores;
 * the bytes do not depend on it). Rejects NaN / Inf (naming row and column), cols not a multiple
 * of the block size, and unsupported types. */
sl_status sl_quant_quantize_rows(const sl_kernel_table *kt, int dtype, int64_t rows, int64_t cols,
                                 const float *src, size_t src_stride, void *dst, size_t dst_stride, int n_threads);
/* Inverse: rows of blocks -> floats. */
sl_status sl_quant_dequantize_rows(const sl_kernel_table *kt, int dtype, int64_t rows, int64_t cols,
                                   const void *src, size_t src_stride, float *dst, size_t dst_stride,
                                   int n_threads);

#endif /* SL_QUANT_H */
