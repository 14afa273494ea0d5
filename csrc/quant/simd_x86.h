/* simd_x86.h — small AVX2 helpers shared by the quant kernels in *_avx2.c / *_avx512.c files
 * (include only from files compiled with -mavx2 -mfma -mf16c). */
#ifndef SL_QUANT_SIMD_X86_H
#define SL_QUANT_SIMD_X86_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define SL_INLINE static inline __attribute__((always_inline))
/* Fully unroll the short loops over tile rows / tokens so their accumulators live in registers. */
#define SL_UNROLL _Pragma("GCC unroll 16")
/* Make the compiler keep v in a register as computed here: stops it from re-associating long
 * integer add chains into trees whose many live partial sums spill to the stack. */
#define SL_KEEP(v) __asm__("" : "+x"(v))

/* Runs CASE(n) with n = tt as a compile-time constant (1 <= tt <= max, max 4 or 8), so that each
 * tile width of a kernel is its own code with its accumulators in registers. */
#define SL_TT_DISPATCH(max, tt, CASE) SL_TT_DISPATCH_(max, tt, CASE)
#define SL_TT_DISPATCH_(max, tt, CASE) SL_TT_DISPATCH_##max(tt, CASE)
#define SL_TT_DISPATCH_4(tt, CASE)                                                                  \
    switch (tt) {                                                                                   \
    case 1: CASE(1); break; case 2: CASE(2); break; case 3: CASE(3); break; default: CASE(4); break; \
    }
#define SL_TT_DISPATCH_8(tt, CASE)                                                                  \
    switch (tt) {                                                                                   \
    case 1: CASE(1); break; case 2: CASE(2); break; case 3: CASE(3); break; case 4: CASE(4); break; \
    case 5: CASE(5); break; case 6: CASE(6); break; case 7: CASE(7); break; default: CASE(8); break; \
    }

/* Prefetch the n bytes at p into L1, one request per cache line (decode streams each weight byte
 * once; the hardware prefetcher alone leaves the stream short of the bandwidth, see the callers). */
SL_INLINE void sl_prefetch_bytes(const void *p, size_t n)
{
    for (size_t o = 0; o < n; o += 64) _mm_prefetch((const char *)p + o, _MM_HINT_T0);
}

/* Sum of the 8 lanes, in a fixed order (so every tile shape gives the same bits). */
SL_INLINE float sl_hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

SL_INLINE int32_t sl_hsum_i32x8(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

SL_INLINE float sl_half_to_f32(uint16_t h) { return _cvtsh_ss(h); }

/* 32 four-bit values of 16 bytes: low nibbles in bytes 0..15, high nibbles in bytes 16..31. */
SL_INLINE __m256i sl_unpack_nibbles(const uint8_t *qs)
{
    __m128i q = _mm_loadu_si128((const __m128i *)qs);
    __m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* Sum over pairs of int8 products a*b as 8 int32 lanes, for |a| <= 128 (a taken unsigned). */
SL_INLINE __m256i sl_dot_i8_pairs(__m256i abs_a, __m256i b_signed_by_a)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(abs_a, b_signed_by_a), _mm256_set1_epi16(1));
}

#endif /* SL_QUANT_SIMD_X86_H */
