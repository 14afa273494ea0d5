/* simd_avx2.h — the small vector vocabulary (`sv_*`) that the ISA-neutral kernel templates
 * (gemm_float_impl.h, ops_impl.h) are written in, for AVX2 + FMA + F16C: 8 float lanes.
 * simd_avx512.h defines the same names for 16 lanes, so both ISA levels run the same
 * (AVX2-tested) kernel code. Include only from files ending in _avx2.c. */
#ifndef SL_SIMD_AVX2_H
#define SL_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef __m256 sv_f32;
#define SV_LANES 8
#define SV_TILE_C 3     /* float gemm register tile: tokens (gemm_float_impl.h) */
#define SV_TILE_R 4     /* ... and rows */
#define SV_INLINE static inline __attribute__((always_inline))

SV_INLINE sv_f32 sv_zero(void) { return _mm256_setzero_ps(); }
SV_INLINE sv_f32 sv_set1(float a) { return _mm256_set1_ps(a); }
SV_INLINE sv_f32 sv_load(const float *p) { return _mm256_loadu_ps(p); }
/* v as it is, in a register: a value used several times is not re-read from memory per use
 * (GCC otherwise folds one load into each FMA, which makes a gemm tile load-bound). */
SV_INLINE sv_f32 sv_in_reg(sv_f32 v) { __asm__("" : "+x"(v)); return v; }
SV_INLINE void sv_store(float *p, sv_f32 v) { _mm256_storeu_ps(p, v); }
SV_INLINE sv_f32 sv_add(sv_f32 a, sv_f32 b) { return _mm256_add_ps(a, b); }
SV_INLINE sv_f32 sv_sub(sv_f32 a, sv_f32 b) { return _mm256_sub_ps(a, b); }
SV_INLINE sv_f32 sv_mul(sv_f32 a, sv_f32 b) { return _mm256_mul_ps(a, b); }
SV_INLINE sv_f32 sv_div(sv_f32 a, sv_f32 b) { return _mm256_div_ps(a, b); }
SV_INLINE sv_f32 sv_fma(sv_f32 a, sv_f32 b, sv_f32 c) { return _mm256_fmadd_ps(a, b, c); } /* a*b+c */
/* max/min return the second operand when either is NaN: put the data there to keep NaN. */
SV_INLINE sv_f32 sv_max(sv_f32 a, sv_f32 b) { return _mm256_max_ps(a, b); }
SV_INLINE sv_f32 sv_min(sv_f32 a, sv_f32 b) { return _mm256_min_ps(a, b); }

/* Lane mask with lanes [0, n) set, 0 <= n <= 8. */
SV_INLINE __m256i sv_mask_(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/* Load lanes [0, n) from p (no access beyond p[n-1]); other lanes are `fill`. */
SV_INLINE sv_f32 sv_load_part_fill(const float *p, int n, float fill)
{
    __m256i m = sv_mask_(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
SV_INLINE sv_f32 sv_load_part(const float *p, int n) { return _mm256_maskload_ps(p, sv_mask_(n)); }
SV_INLINE void sv_store_part(float *p, int n, sv_f32 v) { _mm256_maskstore_ps(p, sv_mask_(n), v); }

/* Horizontal sum in a fixed tree, the same for every output of every kernel:
 * ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)). */
SV_INLINE float sv_reduce(sv_f32 v)
{
    __m256 h = _mm256_hadd_ps(v, v);
    h = _mm256_hadd_ps(h, h);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    return _mm_cvtss_f32(s);
}
/* The four sums of a, b, c, d (same tree as sv_reduce), added to y[0..3] (or stored if first). */
SV_INLINE void sv_reduce4_into(sv_f32 a, sv_f32 b, sv_f32 c, sv_f32 d, float *y, int first)
{
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    _mm_storeu_ps(y, first ? s : _mm_add_ps(_mm_loadu_ps(y), s));
}

/* The eight sums of a[0..7] into y[0..7] (or stored if first). */
SV_INLINE void sv_reduce8_into(const sv_f32 a[8], float *y, int first)
{
    sv_reduce4_into(a[0], a[1], a[2], a[3], y, first);
    sv_reduce4_into(a[4], a[5], a[6], a[7], y + 4, first);
}

/* ---- 16-bit float weights -> float lanes ---- */
SV_INLINE sv_f32 sv_load_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
SV_INLINE sv_f32 sv_load_bf16(const uint16_t *p)
{
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}
SV_INLINE sv_f32 sv_load_f16_part(const uint16_t *p, int n)
{
    uint16_t b[SV_LANES] = {0};
    memcpy(b, p, (size_t)n * 2);
    return sv_load_f16(b);
}
SV_INLINE sv_f32 sv_load_bf16_part(const uint16_t *p, int n)
{
    uint16_t b[SV_LANES] = {0};
    memcpy(b, p, (size_t)n * 2);
    return sv_load_bf16(b);
}
/* float lanes -> f16 / bf16, round to nearest even (bf16 NaN stays a quiet NaN). */
SV_INLINE void sv_store_f16(uint16_t *p, sv_f32 v)
{
    _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
SV_INLINE void sv_store_bf16(uint16_t *p, sv_f32 v)
{
    __m256i x = _mm256_castps_si256(v);
    __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff))), 16);
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff)),
                                     _mm256_set1_epi32(0x7f800000));
    __m256i qn = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(64));
    r = _mm256_blendv_epi8(r, qn, nan);
    __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128((__m128i *)p, packed);
}

/* ---- exp ---- */
/* 2^n for integer-valued float lanes n in [-127, 128] as two normal factors (so the product
 * overflows to inf / underflows gradually exactly like the true value). */
SV_INLINE sv_f32 sv_scale_pow2_(sv_f32 p, sv_f32 n)
{
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
SV_INLINE sv_f32 sv_round_(sv_f32 x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

#include "kernels/simd_exp.h"

/* ---- double accumulators (for sums that the reference keeps in double) ---- */
typedef struct { __m256d lo, hi; } sv_f64x;
SV_INLINE sv_f64x sv_f64x_zero(void) { sv_f64x a = {_mm256_setzero_pd(), _mm256_setzero_pd()}; return a; }
SV_INLINE sv_f64x sv_f64x_add(sv_f64x a, sv_f32 v)
{
    a.lo = _mm256_add_pd(a.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a.hi = _mm256_add_pd(a.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    return a;
}
SV_INLINE sv_f64x sv_f64x_add_sq(sv_f64x a, sv_f32 v)
{
    __m256d l = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), h = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    a.lo = _mm256_fmadd_pd(l, l, a.lo);
    a.hi = _mm256_fmadd_pd(h, h, a.hi);
    return a;
}
SV_INLINE double sv_f64x_reduce(sv_f64x a)
{
    __m256d s = _mm256_add_pd(a.lo, a.hi);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

#endif /* SL_SIMD_AVX2_H */
