/* simd_avx512.h — the `sv_*` vector vocabulary of simd_avx2.h for AVX-512 (F, BW, VL, DQ):
 * 16 float lanes. Same names and semantics, so the shared templates (gemm_float_impl.h,
 * ops_impl.h) compile unchanged. Horizontal sums fold the upper 8 lanes onto the lower 8
 * and then use the AVX2 tree. Include only from files ending in _avx512.c. */
#ifndef SL_SIMD_AVX512_H
#define SL_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef __m512 sv_f32;
#define SV_LANES 16
#define SV_TILE_C 3     /* float gemm register tile: tokens (gemm_float_impl.h) */
#define SV_TILE_R 8     /* ... and rows */
#define SV_INLINE static inline __attribute__((always_inline))

SV_INLINE sv_f32 sv_zero(void) { return _mm512_setzero_ps(); }
SV_INLINE sv_f32 sv_set1(float a) { return _mm512_set1_ps(a); }
SV_INLINE sv_f32 sv_load(const float *p) { return _mm512_loadu_ps(p); }
/* v as it is, in a register: a value used several times is not re-read from memory per use
 * (GCC otherwise folds one load into each FMA, which makes a gemm tile load-bound). */
SV_INLINE sv_f32 sv_in_reg(sv_f32 v) { __asm__("" : "+v"(v)); return v; }
SV_INLINE void sv_store(float *p, sv_f32 v) { _mm512_storeu_ps(p, v); }
SV_INLINE sv_f32 sv_add(sv_f32 a, sv_f32 b) { return _mm512_add_ps(a, b); }
SV_INLINE sv_f32 sv_sub(sv_f32 a, sv_f32 b) { return _mm512_sub_ps(a, b); }
SV_INLINE sv_f32 sv_mul(sv_f32 a, sv_f32 b) { return _mm512_mul_ps(a, b); }
SV_INLINE sv_f32 sv_div(sv_f32 a, sv_f32 b) { return _mm512_div_ps(a, b); }
SV_INLINE sv_f32 sv_fma(sv_f32 a, sv_f32 b, sv_f32 c) { return _mm512_fmadd_ps(a, b, c); }
/* Like AVX2: the second operand is returned when either is NaN. */
SV_INLINE sv_f32 sv_max(sv_f32 a, sv_f32 b) { return _mm512_max_ps(a, b); }
SV_INLINE sv_f32 sv_min(sv_f32 a, sv_f32 b) { return _mm512_min_ps(a, b); }

SV_INLINE __mmask16 sv_mask_(int n) { return (__mmask16)((1u << n) - 1u); }   /* 0 <= n <= 16 */
SV_INLINE sv_f32 sv_load_part_fill(const float *p, int n, float fill)
{
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), sv_mask_(n), p);
}
SV_INLINE sv_f32 sv_load_part(const float *p, int n) { return _mm512_maskz_loadu_ps(sv_mask_(n), p); }
SV_INLINE void sv_store_part(float *p, int n, sv_f32 v) { _mm512_mask_storeu_ps(p, sv_mask_(n), v); }

/* Lane i + lane i+8, then the AVX2 tree ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)). */
SV_INLINE __m256 sv_fold_(sv_f32 v)
{
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
}
SV_INLINE float sv_reduce(sv_f32 v)
{
    __m256 h = sv_fold_(v);
    h = _mm256_hadd_ps(h, h);
    h = _mm256_hadd_ps(h, h);
    return _mm_cvtss_f32(_mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}
SV_INLINE void sv_reduce4_into(sv_f32 a, sv_f32 b, sv_f32 c, sv_f32 d, float *y, int first)
{
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(sv_fold_(a), sv_fold_(b)), _mm256_hadd_ps(sv_fold_(c), sv_fold_(d)));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    _mm_storeu_ps(y, first ? s : _mm_add_ps(_mm_loadu_ps(y), s));
}

/* Even and odd lanes of (a, b): lanes 0-7 from a, 8-15 from b. */
SV_INLINE sv_f32 sv_evens_(sv_f32 a, sv_f32 b)
{
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
}
SV_INLINE sv_f32 sv_odds_(sv_f32 a, sv_f32 b)
{
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
}
/* The eight sums of a[0..7] into y[0..7] (or stored if first): sv_reduce's tree, the same additions
 * of the same operands, done for 8 vectors at once — fold two per add, then even + odd lanes three
 * times — instead of per vector through 256-bit hadds (16 shuffles for 8 sums instead of 22). */
SV_INLINE void sv_reduce8_into(const sv_f32 a[8], float *y, int first)
{
    sv_f32 f[4];
    for (int i = 0; i < 4; i++)   /* lanes 0-7: a[2i] folded, 8-15: a[2i+1] folded */
        f[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    const sv_f32 g0 = _mm512_add_ps(sv_evens_(f[0], f[1]), sv_odds_(f[0], f[1]));   /* 4 lanes per sum */
    const sv_f32 g1 = _mm512_add_ps(sv_evens_(f[2], f[3]), sv_odds_(f[2], f[3]));
    const sv_f32 h = _mm512_add_ps(sv_evens_(g0, g1), sv_odds_(g0, g1));            /* 2 lanes per sum */
    const __m256 s = _mm512_castps512_ps256(_mm512_add_ps(sv_evens_(h, h), sv_odds_(h, h)));
    _mm256_storeu_ps(y, first ? s : _mm256_add_ps(_mm256_loadu_ps(y), s));
}

/* ---- 16-bit float weights -> float lanes ---- */
SV_INLINE sv_f32 sv_load_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
SV_INLINE sv_f32 sv_load_bf16(const uint16_t *p)
{
    __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}
SV_INLINE sv_f32 sv_load_f16_part(const uint16_t *p, int n)
{
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(sv_mask_(n), p));
}
SV_INLINE sv_f32 sv_load_bf16_part(const uint16_t *p, int n)
{
    __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(sv_mask_(n), p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}
SV_INLINE void sv_store_f16(uint16_t *p, sv_f32 v)
{
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
SV_INLINE void sv_store_bf16(uint16_t *p, sv_f32 v)
{
    __m512i x = _mm512_castps_si512(v);
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff)),
                                            _mm512_set1_epi32(0x7f800000));
    r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(x, 16), _mm512_set1_epi32(64));
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(r));
}

/* ---- exp (see simd_exp.h) ---- */
SV_INLINE sv_f32 sv_scale_pow2_(sv_f32 p, sv_f32 n)
{
    __m512i ni = _mm512_cvtps_epi32(n);
    __m512i n1 = _mm512_srai_epi32(ni, 1);
    __m512i n2 = _mm512_sub_epi32(ni, n1);
    __m512i bias = _mm512_set1_epi32(127);
    __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, bias), 23));
    __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, bias), 23));
    return _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
}
SV_INLINE sv_f32 sv_round_(sv_f32 x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

#include "kernels/simd_exp.h"

/* ---- double accumulators ---- */
typedef struct { __m512d lo, hi; } sv_f64x;
SV_INLINE sv_f64x sv_f64x_zero(void) { sv_f64x a = {_mm512_setzero_pd(), _mm512_setzero_pd()}; return a; }
SV_INLINE sv_f64x sv_f64x_add(sv_f64x a, sv_f32 v)
{
    a.lo = _mm512_add_pd(a.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    a.hi = _mm512_add_pd(a.hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
    return a;
}
SV_INLINE sv_f64x sv_f64x_add_sq(sv_f64x a, sv_f32 v)
{
    __m512d l = _mm512_cvtps_pd(_mm512_castps512_ps256(v)), h = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
    a.lo = _mm512_fmadd_pd(l, l, a.lo);
    a.hi = _mm512_fmadd_pd(h, h, a.hi);
    return a;
}
SV_INLINE double sv_f64x_reduce(sv_f64x a) { return _mm512_reduce_add_pd(_mm512_add_pd(a.lo, a.hi)); }

#endif /* SL_SIMD_AVX512_H */
