/* x8_vec.h — the vector type of the X8 kernels (gemm_x8_impl.h, gemm_qk_x8_impl.h), so that they
 * are written once for two widths:
 *   SL_X8_W 256 (AVX2 build): one vector = one group of 8 interleaved rows, lane i = row i;
 *   SL_X8_W 512 (AVX-512 build): one vector = two adjacent groups, lane i = row i of the first,
 *            lane 8 + i = row i of the second (16 consecutive output rows). On a CPU with full-width
 *            512-bit units (Zen 5) this doubles the vpdpbusd work per instruction: T=64 gemm,
 *            14336x4096, 1 thread, see gemm_q_avx512.c for the measurements.
 * Every lane computes what it computed before (same integers, same float chain), so both widths
 * give the same bits. A load takes 32 bytes from the first group at p and 32 from the second at
 * p + gs; gs = 0 repeats the first group (a lone last group, or a one-token tile: decode streams
 * faster from one group at a time), whose second half is then not stored.
 * Include only from files compiled with the matching target flags. */
#ifndef SL_QUANT_X8_VEC_H
#define SL_QUANT_X8_VEC_H

#include "quant/simd_x86.h"

#ifndef SL_X8_W
#error "define SL_X8_W (256 or 512) before including x8_vec.h"
#endif

#if SL_X8_W == 512
typedef __m512i xv_i;
typedef __m512 xv_f;
#define XV_GROUPS 2   /* 8-row groups per vector */

SL_INLINE xv_i xv_load(const uint8_t *p, size_t gs)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p)),
                              _mm256_loadu_si256((const __m256i *)(p + gs)), 1);
}
/* 8 f16 at p (first group) and 8 at p + gs, as f32. */
SL_INLINE xv_f xv_load_ph(const uint8_t *p, size_t gs)
{
    const __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p)),
                                              _mm_loadu_si128((const __m128i *)(p + gs)), 1);
    return _mm512_cvtph_ps(h);
}
SL_INLINE xv_i xv_set1_8(char v) { return _mm512_set1_epi8(v); }
SL_INLINE xv_i xv_set1_16(short v) { return _mm512_set1_epi16(v); }
SL_INLINE xv_i xv_set1_32(int32_t v) { return _mm512_set1_epi32(v); }
SL_INLINE xv_i xv_zero(void) { return _mm512_setzero_si512(); }
/* A pshufb mask (per 128-bit lane) from its 16-byte pattern. */
SL_INLINE xv_i xv_bcast128(__m128i m) { return _mm512_broadcast_i32x4(m); }
SL_INLINE xv_i xv_and(xv_i a, xv_i b) { return _mm512_and_si512(a, b); }
SL_INLINE xv_i xv_or(xv_i a, xv_i b) { return _mm512_or_si512(a, b); }
SL_INLINE xv_i xv_xor(xv_i a, xv_i b) { return _mm512_xor_si512(a, b); }
SL_INLINE xv_i xv_add16(xv_i a, xv_i b) { return _mm512_add_epi16(a, b); }
SL_INLINE xv_i xv_add32(xv_i a, xv_i b) { return _mm512_add_epi32(a, b); }
SL_INLINE xv_i xv_sub32(xv_i a, xv_i b) { return _mm512_sub_epi32(a, b); }
SL_INLINE xv_i xv_mullo32(xv_i a, xv_i b) { return _mm512_mullo_epi32(a, b); }
SL_INLINE xv_i xv_madd16(xv_i a, xv_i b) { return _mm512_madd_epi16(a, b); }
SL_INLINE xv_i xv_maddubs(xv_i u, xv_i s) { return _mm512_maddubs_epi16(u, s); }
SL_INLINE xv_i xv_dpbusd(xv_i acc, xv_i u, xv_i s) { return _mm512_dpbusd_epi32(acc, u, s); }
SL_INLINE xv_i xv_shuffle8(xv_i a, xv_i m) { return _mm512_shuffle_epi8(a, m); }
/* int16 lanes: even from a, odd from b. */
SL_INLINE xv_i xv_blend_odd16(xv_i a, xv_i b) { return _mm512_mask_blend_epi16(0xAAAAAAAAu, a, b); }
#define xv_slli16(a, n) _mm512_slli_epi16(a, n)
#define xv_srli16(a, n) _mm512_srli_epi16(a, n)
#define xv_srai16(a, n) _mm512_srai_epi16(a, n)
#define xv_slli32(a, n) _mm512_slli_epi32(a, n)
#define xv_srli32(a, n) _mm512_srli_epi32(a, n)
#define xv_srai32(a, n) _mm512_srai_epi32(a, n)
SL_INLINE xv_f xv_cvt_ps(xv_i a) { return _mm512_cvtepi32_ps(a); }
SL_INLINE xv_f xv_fzero(void) { return _mm512_setzero_ps(); }
SL_INLINE xv_f xv_bcast_ps(const float *p) { return _mm512_set1_ps(*p); }
SL_INLINE xv_f xv_mul_ps(xv_f a, xv_f b) { return _mm512_mul_ps(a, b); }
SL_INLINE xv_f xv_fmadd_ps(xv_f a, xv_f b, xv_f c) { return _mm512_fmadd_ps(a, b, c); }
SL_INLINE xv_f xv_fnmadd_ps(xv_f a, xv_f b, xv_f c) { return _mm512_fnmadd_ps(a, b, c); }
/* y[0..8) (and y[8..16) when both groups are real) = v, or += v. */
SL_INLINE void xv_store(xv_f v, float *y, int pair, int accumulate)
{
    const __mmask16 k = pair ? 0xFFFF : 0x00FF;
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, y));
    _mm512_mask_storeu_ps(y, k, v);
}

#else /* SL_X8_W == 256 */
typedef __m256i xv_i;
typedef __m256 xv_f;
#define XV_GROUPS 1

SL_INLINE xv_i xv_load(const uint8_t *p, size_t gs) { (void)gs; return _mm256_loadu_si256((const __m256i *)p); }
SL_INLINE xv_f xv_load_ph(const uint8_t *p, size_t gs)
{
    (void)gs;
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
SL_INLINE xv_i xv_set1_8(char v) { return _mm256_set1_epi8(v); }
SL_INLINE xv_i xv_set1_16(short v) { return _mm256_set1_epi16(v); }
SL_INLINE xv_i xv_set1_32(int32_t v) { return _mm256_set1_epi32(v); }
SL_INLINE xv_i xv_zero(void) { return _mm256_setzero_si256(); }
SL_INLINE xv_i xv_bcast128(__m128i m) { return _mm256_broadcastsi128_si256(m); }
SL_INLINE xv_i xv_and(xv_i a, xv_i b) { return _mm256_and_si256(a, b); }
SL_INLINE xv_i xv_or(xv_i a, xv_i b) { return _mm256_or_si256(a, b); }
SL_INLINE xv_i xv_xor(xv_i a, xv_i b) { return _mm256_xor_si256(a, b); }
SL_INLINE xv_i xv_add16(xv_i a, xv_i b) { return _mm256_add_epi16(a, b); }
SL_INLINE xv_i xv_add32(xv_i a, xv_i b) { return _mm256_add_epi32(a, b); }
SL_INLINE xv_i xv_sub32(xv_i a, xv_i b) { return _mm256_sub_epi32(a, b); }
SL_INLINE xv_i xv_mullo32(xv_i a, xv_i b) { return _mm256_mullo_epi32(a, b); }
SL_INLINE xv_i xv_madd16(xv_i a, xv_i b) { return _mm256_madd_epi16(a, b); }
SL_INLINE xv_i xv_maddubs(xv_i u, xv_i s) { return _mm256_maddubs_epi16(u, s); }
SL_INLINE xv_i xv_shuffle8(xv_i a, xv_i m) { return _mm256_shuffle_epi8(a, m); }
SL_INLINE xv_i xv_blend_odd16(xv_i a, xv_i b) { return _mm256_blend_epi16(a, b, 0xAA); }
#define xv_slli16(a, n) _mm256_slli_epi16(a, n)
#define xv_srli16(a, n) _mm256_srli_epi16(a, n)
#define xv_srai16(a, n) _mm256_srai_epi16(a, n)
#define xv_slli32(a, n) _mm256_slli_epi32(a, n)
#define xv_srli32(a, n) _mm256_srli_epi32(a, n)
#define xv_srai32(a, n) _mm256_srai_epi32(a, n)
SL_INLINE xv_f xv_cvt_ps(xv_i a) { return _mm256_cvtepi32_ps(a); }
SL_INLINE xv_f xv_fzero(void) { return _mm256_setzero_ps(); }
SL_INLINE xv_f xv_bcast_ps(const float *p) { return _mm256_broadcast_ss(p); }
SL_INLINE xv_f xv_mul_ps(xv_f a, xv_f b) { return _mm256_mul_ps(a, b); }
SL_INLINE xv_f xv_fmadd_ps(xv_f a, xv_f b, xv_f c) { return _mm256_fmadd_ps(a, b, c); }
SL_INLINE xv_f xv_fnmadd_ps(xv_f a, xv_f b, xv_f c) { return _mm256_fnmadd_ps(a, b, c); }
SL_INLINE void xv_store(xv_f v, float *y, int pair, int accumulate)
{
    (void)pair;
    if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(y));
    _mm256_storeu_ps(y, v);
}
#endif

/* The 4 bytes at p in every 32-bit lane. */
SL_INLINE xv_i xv_bcast4(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return xv_set1_32(v);
}

/* Prefetch one group's n bytes at p, and the second group's at p + gs. */
SL_INLINE void xv_prefetch(const uint8_t *p, size_t gs, size_t n)
{
    sl_prefetch_bytes(p, n);
    if (XV_GROUPS == 2 && gs) sl_prefetch_bytes(p + gs, n);
}

#endif /* SL_QUANT_X8_VEC_H */
