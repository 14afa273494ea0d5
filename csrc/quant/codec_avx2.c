/* codec_avx2.c — AVX2 quantizers of the activation types, q8_0 and q8_K, bit-identical to the
 * scalar ones in q8_0.c / q8_k.c (every float operation is the same IEEE operation, rounding is
 * done exactly, and int8 stores keep the low byte as the scalar casts do). They run once per token
 * and matmul, so they matter most for decode of small matrices. */
#include <math.h>

#include "kernels/kernels.h"
#include "quant/quant.h"
#include "quant/simd_x86.h"

/* Low bytes of 4 x 8 int32 lanes, in order (the (int8_t) cast of each), as 32 bytes. */
SL_INLINE __m256i low_bytes_32(__m256i a, __m256i b, __m256i c, __m256i d)
{
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    /* each of a..d -> 4 bytes per 128-bit half; OR them into distinct dword slots */
    __m256i ab = _mm256_or_si256(_mm256_shuffle_epi8(a, pick), _mm256_slli_si256(_mm256_shuffle_epi8(b, pick), 4));
    __m256i cd = _mm256_or_si256(_mm256_shuffle_epi8(c, pick), _mm256_slli_si256(_mm256_shuffle_epi8(d, pick), 4));
    __m256i v = _mm256_unpacklo_epi64(ab, cd);   /* half h: a[h], b[h], c[h], d[h] (4 bytes each) */
    /* dwords now: [a0 b0 c0 d0 | a1 b1 c1 d1]; want a0 a1 b0 b1 c0 c1 d0 d1 */
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* roundf (halves away from zero) of 8 floats as int32; NaN / out of range give INT32_MIN. */
SL_INLINE __m256i round_away(__m256 v)
{
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 f = _mm256_sub_ps(v, t);   /* exact */
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 r = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(f, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one));
    r = _mm256_sub_ps(r, _mm256_and_ps(_mm256_cmp_ps(f, _mm256_set1_ps(-0.5f), _CMP_LE_OQ), one));
    return _mm256_cvttps_epi32(r);
}

SL_INLINE __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

SL_INLINE float hmax8(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static void from_float_q8_0_avx2(int64_t n, const float *src, void *dst)
{
    sl_block_q8_0 *y = dst;
    for (int64_t b = 0; b < n / SL_QK; b++) {
        const float *x = src + b * SL_QK;
        __m256 v[4];
        for (int i = 0; i < 4; i++) v[i] = _mm256_loadu_ps(x + 8 * i);
        const float amax = hmax8(_mm256_max_ps(_mm256_max_ps(abs_ps(v[0]), abs_ps(v[1])),
                                               _mm256_max_ps(abs_ps(v[2]), abs_ps(v[3]))));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = _cvtss_sh(d, 0);
        const __m256 idv = _mm256_set1_ps(id);
        __m256i q = low_bytes_32(round_away(_mm256_mul_ps(v[0], idv)), round_away(_mm256_mul_ps(v[1], idv)),
                                 round_away(_mm256_mul_ps(v[2], idv)), round_away(_mm256_mul_ps(v[3], idv)));
        _mm256_storeu_si256((__m256i *)y[b].qs, q);
    }
}

/* Index of the first element of x[0..255] whose magnitude is amax. */
static int first_abs_equal(const float *x, float amax)
{
    const __m256 a = _mm256_set1_ps(amax);
    for (int j = 0; j < SL_QK_K; j += 8) {
        int m = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + j)), a, _CMP_EQ_OQ));
        if (m) return j + __builtin_ctz((unsigned)m);
    }
    return 0;
}

static void from_float_q8_k_avx2(int64_t n, const float *src, void *dst)
{
    sl_block_q8_k *y = dst;
    for (int64_t b = 0; b < n / SL_QK_K; b++) {
        const float *x = src + b * SL_QK_K;
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < SL_QK_K; j += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + j)));
        const float amax = hmax8(m);
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const float iscale = -127.0f / x[first_abs_equal(x, amax)];
        const __m256 is = _mm256_set1_ps(iscale), magic = _mm256_set1_ps(12582912.0f);
        const __m256i lowbits = _mm256_set1_epi32(0x007fffff), bias = _mm256_set1_epi32(0x00400000);
        for (int j = 0; j < SL_QK_K; j += 32) {
            __m256i q[4];
            for (int i = 0; i < 4; i++) {   /* sl_kq_nearest_int, then MIN(127, .) */
                __m256 t = _mm256_add_ps(_mm256_mul_ps(is, _mm256_loadu_ps(x + j + 8 * i)), magic);
                __m256i l = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(t), lowbits), bias);
                q[i] = _mm256_min_epi32(l, _mm256_set1_epi32(127));
            }
            _mm256_storeu_si256((__m256i *)(y[b].qs + j), low_bytes_32(q[0], q[1], q[2], q[3]));
        }
        for (int g = 0; g < SL_QK_K / 16; g++) {
            int s = 0;
            for (int i = 0; i < 16; i++) s += y[b].qs[16 * g + i];
            y[b].bsums[g] = (int16_t)s;
        }
        y[b].d = 1.0f / iscale;
    }
}

void sl_quant_fill_avx2_codecs(sl_kernel_table *t);

SL_KERNELS_FILLER void sl_quant_fill_avx2_codecs(sl_kernel_table *t)
{
    t->from_float[SL_DTYPE_Q8_0] = from_float_q8_0_avx2;
    t->from_float[SL_DTYPE_Q8_K] = from_float_q8_k_avx2;
}
